// SPDX-License-Identifier: MIT
/* Text edits of a config, and a new peer's address: see edit.h. */
#include "config/edit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/encoding.h"

char *config_text_append(const char *text, size_t len, const char *section, size_t *out_len)
{
	size_t add = strlen(section);
	bool newline = len && text[len - 1] != '\n';
	char *out = malloc(len + add + 3);
	size_t n = 0;

	if (!out)
		return NULL;
	memcpy(out, text, len);
	n = len;
	if (newline)
		out[n++] = '\n';
	if (n) /* a blank line between the last section and the new one */
		out[n++] = '\n';
	memcpy(out + n, section, add);
	n += add;
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* Whether the line starting at p (up to end) is a section header: "[" after blanks. */
static bool header_line(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		++p;
	return p < end && *p == '[';
}

/* Where the comment lines right above the line at `at' begin (at itself when none). */
static const char *comments_above(const char *text, const char *at)
{
	while (at > text) {
		const char *prev = at - 1, *q;

		while (prev > text && prev[-1] != '\n')
			--prev;
		for (q = prev; q < at && (*q == ' ' || *q == '\t'); ++q)
			;
		if (q == at || *q != '#')
			break;
		at = prev;
	}
	return at;
}

char *config_text_remove_section(const char *text, size_t len, unsigned line, size_t *out_len)
{
	const char *end = text + len, *p = text, *from = NULL, *to = end;
	unsigned at = 1;
	char *out;

	for (; p < end; ++at) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (at == line)
			from = p;
		else if (from && header_line(p, next)) {
			to = p;
			break;
		}
		p = next;
	}
	if (!from)
		from = to = end;
	/* comment lines right above a header are its section's own ("# partner A") */
	from = comments_above(text, from);
	if (to != end)
		to = comments_above(text, to);
	/* the last section: the blank line that set it apart goes with it (config_text_append) */
	if (to == end && from > text + 1 && from[-1] == '\n' && from[-2] == '\n')
		--from;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	memcpy(out, text, (size_t)(from - text));
	memcpy(out + (from - text), to, (size_t)(end - to));
	*out_len = (size_t)(from - text) + (size_t)(end - to);
	out[*out_len] = '\0';
	return out;
}

__extension__ typedef unsigned __int128 u128;

static u128 to_number(const struct ip_prefix *p)
{
	const uint8_t *b = (const uint8_t *)&p->addr;
	unsigned bytes = p->family == AF_INET ? 4 : 16;
	u128 n = 0;

	for (unsigned i = 0; i < bytes; ++i)
		n = n << 8 | b[i];
	return n;
}

static void from_number(u128 n, int family, struct ip_prefix *out)
{
	uint8_t *b = (uint8_t *)&out->addr;
	unsigned bytes = family == AF_INET ? 4 : 16;

	memset(out, 0, sizeof(*out));
	out->family = family;
	out->cidr = (uint8_t)(bytes * 8);
	for (unsigned i = bytes; i-- > 0; n >>= 8)
		b[i] = (uint8_t)n;
}

/* The first and last addresses of a prefix, as numbers. */
static void span(const struct ip_prefix *p, u128 *first, u128 *last)
{
	unsigned bits = p->family == AF_INET ? 32 : 128;
	u128 host = p->cidr >= bits ? 0 : (((u128)1 << (bits - p->cidr)) - 1);

	if (bits - p->cidr == 128)
		host = ~(u128)0;
	*first = to_number(p) & ~host;
	*last = *first | host;
}

struct interval {
	u128 first, last;
};

static int by_first(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

static bool free_in(const struct config *c, const struct ip_prefix *subnet, struct ip_prefix *out)
{
	struct interval *used;
	size_t n = 0, cap = c->addresses_len + 1;
	u128 first, last, candidate;
	bool found = false;

	for (size_t i = 0; i < c->peers_len; ++i)
		cap += c->peers[i].allowed_ips_len;
	used = malloc(cap * sizeof(*used));
	if (!used)
		return false;
	span(subnet, &first, &last);
	for (size_t i = 0; i < c->addresses_len; ++i)
		if (c->addresses[i].family == subnet->family) {
			u128 a = to_number(&c->addresses[i]);

			used[n++] = (struct interval){a, a};
		}
	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j) {
			const struct ip_prefix *p = &c->peers[i].allowed_ips[j];

			if (p->family == subnet->family) {
				span(p, &used[n].first, &used[n].last);
				++n;
			}
		}
	qsort(used, n, sizeof(*used), by_first);
	candidate = first + 1; /* never the network address */
	for (size_t i = 0; i < n && !(candidate < used[i].first); ++i)
		if (used[i].last >= candidate)
			candidate = used[i].last + 1;
	/* not past the subnet, and not IPv4's broadcast address (nor wrapped around) */
	found = candidate > first && candidate <= last &&
		(subnet->family != AF_INET || candidate < last || subnet->cidr >= 31);
	if (found)
		from_number(candidate, subnet->family, out);
	free(used);
	return found;
}

bool config_free_address(const struct config *config, int family, struct ip_prefix *out)
{
	for (size_t i = 0; i < config->addresses_len; ++i) {
		const struct ip_prefix *subnet = &config->addresses[i];

		if (subnet->family == family && free_in(config, subnet, out))
			return true;
	}
	return false;
}

const struct peer_config *config_find_peer(const struct config *config, const char *name)
{
	uint8_t key[KEY_LEN];
	bool is_key = key_from_base64(key, name);

	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *p = &config->peers[i];

		if ((p->name && !strcmp(p->name, name)) ||
		    (is_key && crypto_equal(p->public_key, key, KEY_LEN)))
			return p;
	}
	return NULL;
}

/* Whether the line [p, end) sets key: blanks, the key (any case), blanks, `='. */
static bool sets_key(const char *p, const char *end, const char *key)
{
	size_t klen = strlen(key);

	while (p < end && (*p == ' ' || *p == '\t'))
		++p;
	if ((size_t)(end - p) < klen || strncasecmp(p, key, klen))
		return false;
	for (p += klen; p < end && (*p == ' ' || *p == '\t');)
		++p;
	return p < end && *p == '=';
}

char *config_text_set_key(const char *text, size_t len, unsigned line, const char *key,
			  const char *value, const char *after, size_t *out_len)
{
	const char *end = text + len, *p = text, *at = NULL, *at_end = NULL, *insert = NULL;
	const char *section_end = end;
	size_t add = value ? strlen(key) + strlen(value) + 4 : 0, n;
	bool in = false;
	unsigned no = 1;
	char *out;

	for (; p < end; ++no) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (no == line) {
			if (!header_line(p, next))
				return NULL;
			in = true;
		} else if (in && header_line(p, next)) {
			section_end = p;
			break;
		} else if (in && !at && sets_key(p, eol ? eol : end, key)) {
			at = p, at_end = next;
		} else if (in && after && !insert && sets_key(p, eol ? eol : end, after)) {
			insert = next;
		}
		p = next;
	}
	if (!in)
		return NULL;
	if (!at && !value) { /* nothing to remove */
		at = at_end = end;
	} else if (!at) {
		if (!insert) { /* at the section's end: before the next one's comments, blanks */
			insert = section_end == end ? end : comments_above(text, section_end);
			while (insert - text >= 2 && insert[-1] == '\n' && insert[-2] == '\n')
				--insert;
		}
		at = at_end = insert;
	}
	out = malloc(len + add + 2);
	if (!out)
		return NULL;
	n = (size_t)(at - text);
	memcpy(out, text, n);
	if (value) {
		if (n && out[n - 1] != '\n')
			out[n++] = '\n';
		n += (size_t)sprintf(out + n, "%s = %s\n", key, value);
	}
	memcpy(out + n, at_end, (size_t)(end - at_end));
	n += (size_t)(end - at_end);
	out[n] = '\0';
	*out_len = n;
	return out;
}
