/* SPDX-License-Identifier: MIT */
/*
 * A FILE that writes into memory, like open_memstream(3), but wipes every
 * buffer it outgrows before freeing it: for text that carries keys (control
 * protocol requests and answers), which open_memstream would leave behind in
 * freed memory each time it grows.
 */
#ifndef WGATE_SECRET_STREAM_H
#define WGATE_SECRET_STREAM_H

#include <stddef.h>
#include <stdio.h>

struct secret_stream {
	char *data; /* NUL-terminated */
	size_t len, cap;
	FILE *file;
	int failed; /* out of memory: the text is incomplete */
};

/* Opens s->file; NULL when out of memory. */
FILE *secret_stream_open(struct secret_stream *s);
/*
 * Closes the FILE and hands over the text (malloc'ed, NUL-terminated, to be
 * wiped and freed by the taker), or NULL when writing failed (then nothing
 * is left behind).
 */
char *secret_stream_close(struct secret_stream *s, size_t *len);

#endif
