// SPDX-License-Identifier: MIT
/* When each key came into use: see key_ledger.h. */
#include "ops/key_ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/encoding.h"
#include "core/hashindex.h"
#include "ops/config_file.h"

/* A ledger larger than this (100k peers take 5 MB) is not read. */
#define LEDGER_MAX (256u << 20)

void key_ledger_path(char *out, size_t len, const char *ifname)
{
	config_state_path(out, len, ifname, ".keys");
}

/* A ledger line: "KEY SINCE" or "KEY SINCE self". */
struct ledger_line {
	const char *key; /* KEY_BASE64_LEN characters of the text */
	int64_t since;
	bool self;
};

/* The ledger's lines from its text (NUL-terminated), not those that are not one; *n of them. */
static struct ledger_line *ledger_parse(const char *text, size_t *n)
{
	struct ledger_line *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (const char *line = text, *end; *line; line = *end ? end + 1 : end) {
		struct ledger_line l = {.key = line};
		char *stop;

		end = strchrnul(line, '\n');
		if (end - line < KEY_BASE64_LEN + 2 || line[KEY_BASE64_LEN] != ' ' ||
		    !(line[KEY_BASE64_LEN + 1] >= '0' && line[KEY_BASE64_LEN + 1] <= '9'))
			continue;
		errno = 0;
		l.since = strtoll(line + KEY_BASE64_LEN + 1, &stop, 10);
		if (errno || stop > end)
			continue;
		l.self = (size_t)(end - stop) == 5 && !memcmp(stop, " self", 5);
		if (*n == cap) {
			struct ledger_line *more =
			    realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!more)
				break;
			v = more;
		}
		v[(*n)++] = l;
	}
	return v;
}

/* The ledger's text, NUL-terminated; "" when there is none, NULL when it cannot be read. */
static char *ledger_read(const char *ifname, size_t *len)
{
	char path[4096], err[512];
	char *text;

	key_ledger_path(path, sizeof(path), ifname);
	text = read_file(path, LEDGER_MAX, len, err, sizeof(err));
	if (!text && access(path, F_OK) < 0 && errno == ENOENT) {
		*len = 0;
		text = calloc(1, 1);
	}
	return text;
}

size_t key_ledger_load(const char *ifname, struct key_since **out)
{
	size_t len, n = 0, kept = 0;
	char *text = ledger_read(ifname, &len);
	struct ledger_line *lines = text ? ledger_parse(text, &n) : NULL;

	*out = n ? calloc(n, sizeof(**out)) : NULL;
	for (size_t i = 0; *out && i < n; ++i) {
		char key[KEY_BASE64_LEN + 1];
		struct key_since *k = &(*out)[kept];

		memcpy(key, lines[i].key, KEY_BASE64_LEN);
		key[KEY_BASE64_LEN] = '\0';
		if (!key_from_base64(k->public_key, key))
			continue;
		k->since = lines[i].since;
		k->self = lines[i].self;
		++kept;
	}
	free(lines);
	free(text);
	if (!kept) {
		free(*out);
		*out = NULL;
	}
	return kept;
}

static const void *line_key_of(const void *items, size_t pos)
{
	return ((const struct ledger_line *)items)[pos].key;
}

/* Appends "KEY SINCE[ self]\n" for key at out (which has room for a line). */
static size_t put_line(char *out, const char key[KEY_BASE64_LEN], int64_t since, bool self)
{
	int n =
	    snprintf(out + KEY_BASE64_LEN, 32, " %lld%s\n", (long long)since, self ? " self" : "");

	memcpy(out, key, KEY_BASE64_LEN);
	return KEY_BASE64_LEN + (size_t)n;
}

enum { LINE_MAX_LEN = KEY_BASE64_LEN + 32 };

/* The interface's own public key, from the private key or (wiped) as kept; false: none. */
static bool own_key(const struct config *c, uint8_t own[KEY_LEN])
{
	if (c->has_private_key && !crypto_is_zero(c->private_key, KEY_LEN))
		return x25519_public(own, c->private_key);
	memcpy(own, c->public_key, KEY_LEN);
	return c->has_public_key;
}

bool key_ledger_same(const struct config *recorded, const struct config *next)
{
	uint8_t a[KEY_LEN], b[KEY_LEN];
	bool has_a = own_key(recorded, a), has_b = own_key(next, b);

	if (has_a != has_b || (has_a && memcmp(a, b, KEY_LEN)) ||
	    recorded->peers_len != next->peers_len)
		return false;
	for (size_t i = 0; i < next->peers_len; ++i)
		if (memcmp(recorded->peers[i].public_key, next->peers[i].public_key, KEY_LEN))
			return false;
	return true;
}

/*
 * The ledger for config: a line for its own key and each peer's, with the
 * time from the old ledger's line for that key (indexed by its text: 100k
 * peers in linear time, in order without a probe), now when it is new.
 */
static char *ledger_render(const struct config *config, const struct ledger_line *known,
			   const struct hash_index *index, int64_t now, size_t *len)
{
	char *text = malloc((config->peers_len + 1) * LINE_MAX_LEN + 1), key[KEY_BASE64_LEN + 1];
	uint8_t own[KEY_LEN];
	size_t at = 0, near = 0, found;

	if (!text)
		return NULL;
	if (own_key(config, own)) {
		key_to_base64(key, own);
		found = hash_index_find(index, key);
		at += put_line(text + at, key, found == HASH_INDEX_NONE ? now : known[found].since,
			       true);
	} else if (config->has_private_key) { /* wiped: the one recorded stays */
		for (size_t i = 0; i < index->count; ++i)
			if (known[i].self) {
				at += put_line(text + at, known[i].key, known[i].since, true);
				break;
			}
	}
	for (size_t i = 0; i < config->peers_len; ++i) {
		key_to_base64(key, config->peers[i].public_key);
		found = hash_index_find_near(index, key, near < index->count ? near : 0);
		if (found != HASH_INDEX_NONE)
			near = found + 1;
		at += put_line(text + at, key, found == HASH_INDEX_NONE ? now : known[found].since,
			       false);
	}
	text[at] = '\0';
	*len = at;
	return text;
}

bool key_ledger_update(const char *ifname, const struct config *config, int64_t now, char *err,
		       size_t err_len)
{
	size_t old_len = 0, n = 0, len = 0, found;
	char *old = ledger_read(ifname, &old_len), *text = NULL;
	struct ledger_line *known = old ? ledger_parse(old, &n) : NULL;
	struct hash_index index = {0};
	char path[4096], dir[4096], *slash;
	bool ok = false;

	/* keys repeated (by hand) count once: the first line's */
	if (hash_index_init(&index, n, KEY_BASE64_LEN, line_key_of, known)) {
		size_t kept = 0;

		for (size_t i = 0; i < n; ++i) {
			known[kept] = known[i];
			if (hash_index_add(&index, kept, &found) && found == HASH_INDEX_NONE)
				++kept;
		}
		text = ledger_render(config, known, &index, now, &len);
	}
	if (!text) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	if (old && old_len == len && !memcmp(old, text, len)) { /* nothing changed */
		ok = true;
		goto out;
	}
	key_ledger_path(path, sizeof(path), ifname);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
	else
		ok = config_file_replace(path, text, len, err, err_len);
out:
	hash_index_free(&index);
	free(known);
	free(old);
	free(text);
	return ok;
}
