// SPDX-License-Identifier: MIT
/* When each key came into use: see key_ledger.h. */
#include "ops/key_ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/crypto.h"
#include "core/encoding.h"
#include "core/hashindex.h"
#include "ops/config_file.h"

void key_ledger_path(char *out, size_t len, const char *ifname)
{
	config_state_path(out, len, ifname, ".keys");
}

size_t key_ledger_load(const char *ifname, struct key_since **out)
{
	char path[4096], line[128];
	size_t n = 0, cap = 0;
	FILE *f;

	*out = NULL;
	key_ledger_path(path, sizeof(path), ifname);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char key[KEY_BASE64_LEN + 1], mark[8] = "";
		long long since;
		struct key_since k;

		if (sscanf(line, "%44s %lld %7s", key, &since, mark) < 2 ||
		    !key_from_base64(k.public_key, key))
			continue;
		k.since = since;
		k.self = !strcmp(mark, "self");
		if (n == cap) {
			struct key_since *more =
			    realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(*more));

			if (!more)
				break;
			*out = more;
		}
		(*out)[n++] = k;
	}
	fclose(f);
	return n;
}

static const void *key_of(const void *items, size_t pos)
{
	return ((const struct key_since *)items)[pos].public_key;
}

/* When key came into use, by the ledger (indexed: 100k peers in linear time); now if new. */
static int64_t known_since(const struct hash_index *index, const struct key_since *known,
			   const uint8_t *key, int64_t now)
{
	size_t at = index->slots ? hash_index_find(index, key) : HASH_INDEX_NONE;

	return at == HASH_INDEX_NONE ? now : known[at].since;
}

/* Whether the file at path holds exactly text (a reload that changed no key rewrites nothing). */
static bool file_holds(const char *path, const char *text, size_t len)
{
	struct stat st;
	char buf[65536];
	size_t at = 0, n;
	bool same;
	FILE *f;

	if (stat(path, &st) < 0 || (size_t)st.st_size != len || !(f = fopen(path, "re")))
		return false;
	while (at < len && (n = fread(buf, 1, sizeof(buf), f)) > 0 && at + n <= len &&
	       !memcmp(buf, text + at, n))
		at += n;
	same = at == len && fgetc(f) == EOF;
	fclose(f);
	return same;
}

bool key_ledger_update(const char *ifname, const struct config *config, int64_t now, char *err,
		       size_t err_len)
{
	struct key_since *known = NULL;
	size_t n = key_ledger_load(ifname, &known), found;
	struct hash_index index = {0};
	char path[4096], dir[4096], key[KEY_BASE64_LEN + 1], *text = NULL, *slash;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint8_t own[KEY_LEN];
	bool ok;

	if (!f || !hash_index_init(&index, n, KEY_LEN, key_of, known)) {
		if (f)
			fclose(f);
		free(text);
		free(known);
		snprintf(err, err_len, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; ++i)
		if (!hash_index_add(&index, i, &found))
			break; /* out of memory: those left out count as new */
	if (config->has_private_key && !crypto_is_zero(config->private_key, KEY_LEN) &&
	    x25519_public(own, config->private_key)) {
		key_to_base64(key, own);
		fprintf(f, "%s %lld self\n", key, (long long)known_since(&index, known, own, now));
	} else if (config->has_private_key) { /* wiped: the one recorded stays */
		for (size_t i = 0; i < n; ++i)
			if (known[i].self) {
				key_to_base64(key, known[i].public_key);
				fprintf(f, "%s %lld self\n", key, (long long)known[i].since);
			}
	}
	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *p = &config->peers[i];

		key_to_base64(key, p->public_key);
		fprintf(f, "%s %lld\n", key,
			(long long)known_since(&index, known, p->public_key, now));
	}
	hash_index_free(&index);
	free(known);
	if (fclose(f)) {
		free(text);
		snprintf(err, err_len, "out of memory");
		return false;
	}
	key_ledger_path(path, sizeof(path), ifname);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
		free(text);
		return false;
	}
	ok = file_holds(path, text, len) || config_file_replace(path, text, len, err, err_len);
	free(text);
	return ok;
}
