// SPDX-License-Identifier: MIT
/* An in-memory FILE (fopencookie) whose growth wipes what it leaves. */
#include "core/secret_stream.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/crypto.h"

static ssize_t write_secret(void *cookie, const char *buf, size_t size)
{
	struct secret_stream *s = cookie;

	if (s->failed)
		return -1;
	if (s->len + size + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *bigger;

		while (cap < s->len + size + 1)
			cap *= 2;
		bigger = malloc(cap);
		if (!bigger) {
			s->failed = 1;
			return -1;
		}
		if (s->data) {
			memcpy(bigger, s->data, s->len);
			crypto_wipe(s->data, s->cap);
			free(s->data);
		}
		s->data = bigger;
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, size);
	s->len += size;
	s->data[s->len] = '\0';
	return (ssize_t)size;
}

FILE *secret_stream_open(struct secret_stream *s)
{
	cookie_io_functions_t io = {.write = write_secret};

	memset(s, 0, sizeof(*s));
	s->file = fopencookie(s, "w", io);
	if (s->file)
		setvbuf(s->file, NULL, _IONBF, 0); /* no stdio buffer to leave a copy in */
	return s->file;
}

char *secret_stream_close(struct secret_stream *s, size_t *len)
{
	char *text;

	if (s->file && fclose(s->file))
		s->failed = 1;
	s->file = NULL;
	if (s->failed || !s->data) {
		if (s->data)
			crypto_wipe(s->data, s->cap);
		free(s->data);
		s->data = NULL;
		if (!s->failed && len) { /* nothing written: an empty text */
			text = calloc(1, 1);
			*len = 0;
			return text;
		}
		return NULL;
	}
	text = s->data;
	if (len)
		*len = s->len;
	s->data = NULL;
	return text;
}
