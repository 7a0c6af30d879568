// SPDX-License-Identifier: MIT
/*
 * Constant-time key encodings. Characters are mapped with arithmetic on
 * masks instead of tables or branches; range_mask() relies on an arithmetic
 * right shift of negative ints, which gcc and clang guarantee.
 */
#include "core/encoding.h"

#include <string.h>

/* -1 (all bits set) when lo <= c <= hi, else 0. */
static int range_mask(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - (hi + 1))) >> 8;
}

static char base64_char(int v)
{
	/* Start from 'A' + v and shift at each range boundary. */
	int c = 'A' + v;

	c += range_mask(v, 26, 63) & (('a' - 26) - 'A');
	c -= range_mask(v, 52, 63) & (('a' - 26) - ('0' - 52));
	c -= range_mask(v, 62, 63) & (('0' - 52) - ('+' - 62));
	c += range_mask(v, 63, 63) & (('/' - 63) - ('+' - 62));
	return (char)c;
}

/* The 6-bit value of a base64 character, or -1. */
static int base64_value(int c)
{
	return -1 + (range_mask(c, 'A', 'Z') & (c - 'A' + 1)) +
	       (range_mask(c, 'a', 'z') & (c - 'a' + 26 + 1)) +
	       (range_mask(c, '0', '9') & (c - '0' + 52 + 1)) + (range_mask(c, '+', '+') & 63) +
	       (range_mask(c, '/', '/') & 64);
}

void key_to_base64(char out[KEY_BASE64_LEN + 1], const uint8_t key[KEY_LEN])
{
	/* 10 groups of 3 bytes, then 2 bytes padded with '='. */
	for (int i = 0; i < 11; ++i) {
		uint32_t group = (uint32_t)key[3 * i] << 16 | (uint32_t)key[3 * i + 1] << 8 |
				 (i < 10 ? key[3 * i + 2] : 0);

		for (int j = 0; j < 4; ++j)
			out[4 * i + j] = base64_char((int)(group >> (18 - 6 * j)) & 63);
	}
	out[KEY_BASE64_LEN - 1] = '=';
	out[KEY_BASE64_LEN] = '\0';
}

bool key_from_base64(uint8_t key[KEY_LEN], const char *base64)
{
	int bad = 0;

	if (strlen(base64) != KEY_BASE64_LEN || base64[KEY_BASE64_LEN - 1] != '=')
		return false;
	for (int i = 0; i < 11; ++i) {
		uint32_t group = 0;

		for (int j = 0; j < 4; ++j) {
			int v = (i == 10 && j == 3)
				    ? 0
				    : base64_value((unsigned char)base64[4 * i + j]);

			bad |= v;
			group = group << 6 | ((uint32_t)v & 63);
		}
		key[3 * i] = (uint8_t)(group >> 16);
		key[3 * i + 1] = (uint8_t)(group >> 8);
		if (i < 10)
			key[3 * i + 2] = (uint8_t)group;
		else
			bad |= -(int)(group & 0xff); /* canonical: unused bits are zero */
	}
	return bad >= 0;
}

void base64_encode(char *out, const uint8_t *in, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t group = (uint32_t)in[i] << 16 |
				 (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
				 (i + 2 < len ? in[i + 2] : 0);

		for (size_t j = 0; j < 4; ++j)
			out[o + j] =
			    j <= len - i ? base64_char((int)(group >> (18 - 6 * j)) & 63) : '=';
		o += 4;
	}
	out[o] = '\0';
}

bool base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t len)
{
	size_t o = 0, pad = 0;
	int bad = 0;

	if (len % 4)
		return false;
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		++pad;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t group = 0;

		for (size_t j = 0; j < 4; ++j) {
			int v = i + j >= len - pad ? 0 : base64_value((unsigned char)in[i + j]);

			bad |= v;
			group = group << 6 | ((uint32_t)v & 63);
		}
		for (size_t j = 0; j < 3 && o < len / 4 * 3 - pad; ++j)
			out[o++] = (uint8_t)(group >> (16 - 8 * j));
	}
	*out_len = o;
	return bad >= 0;
}

void key_to_hex(char out[KEY_HEX_LEN + 1], const uint8_t key[KEY_LEN])
{
	for (int i = 0; i < KEY_LEN; ++i) {
		for (int j = 0; j < 2; ++j) {
			int n = (key[i] >> (4 - 4 * j)) & 15;

			out[2 * i + j] =
			    (char)('0' + n + (range_mask(n, 10, 15) & ('a' - '0' - 10)));
		}
	}
	out[KEY_HEX_LEN] = '\0';
}

/* The value of a hex digit, or -1. */
static int hex_value(int c)
{
	return -1 + (range_mask(c, '0', '9') & (c - '0' + 1)) +
	       (range_mask(c, 'a', 'f') & (c - 'a' + 10 + 1)) +
	       (range_mask(c, 'A', 'F') & (c - 'A' + 10 + 1));
}

bool key_from_hex(uint8_t key[KEY_LEN], const char *hex)
{
	int bad = 0;

	if (strlen(hex) != KEY_HEX_LEN)
		return false;
	for (int i = 0; i < KEY_LEN; ++i) {
		int hi = hex_value((unsigned char)hex[2 * i]),
		    lo = hex_value((unsigned char)hex[2 * i + 1]);

		bad |= hi | lo;
		key[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
	}
	return bad >= 0;
}

static bool key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

enum { SECRET_RUN = 20, SECRET_SPREAD = 32, SECRET_PIECE = 6 };

struct char_tally {
	size_t len, upper, lower, digits;
};

static struct char_tally tally_chars(const char *text, size_t len)
{
	struct char_tally t = {.len = len};

	for (size_t i = 0; i < len; ++i) {
		char c = text[i];

		t.upper += c >= 'A' && c <= 'Z';
		t.lower += c >= 'a' && c <= 'z';
		t.digits += c >= '0' && c <= '9';
	}
	return t;
}

/* Whether at least two of the classes (capitals, small letters, digits) have n or more. */
static bool mixes(const struct char_tally *t, size_t n)
{
	return (t->upper >= n) + (t->lower >= n) + (t->digits >= n) >= 2;
}

/*
 * Whether one run of base64 characters looks like (part of) a key: random
 * base64 and hex mix capitals, small letters and digits; words, paths and host
 * names rarely do. A 30-character piece of a random key escapes this about
 * once in 100,000 (both of two classes under 3).
 */
static bool run_secret(const char *run, size_t len)
{
	struct char_tally t = tally_chars(run, len);

	return len >= SECRET_RUN && mixes(&t, 3);
}

/* The same for quoted text, where a key may be split by stray characters. */
static bool looks_secret(const char *text, size_t len)
{
	struct char_tally all = {0};
	size_t run = 0;

	for (size_t i = 0; i <= len; ++i) {
		if (i < len && key_char(text[i])) {
			++run;
			continue;
		}
		if (run_secret(text + i - run, run))
			return true;
		if (run >= SECRET_PIECE) {
			struct char_tally t = tally_chars(text + i - run, run);

			all.len += t.len, all.upper += t.upper, all.lower += t.lower;
			all.digits += t.digits;
		}
		run = 0;
	}
	return all.len >= SECRET_SPREAD && mixes(&all, 5);
}

/* Replaces msg[at, at + len) by with, within cap bytes (msg stays NUL-terminated). */
static size_t splice(char *msg, size_t cap, size_t at, size_t len, const char *with)
{
	size_t total = strlen(msg), wlen = strlen(with);

	if (total - len + wlen + 1 > cap) /* cannot happen for the replacements below */
		wlen = len < wlen ? len : wlen;
	memmove(msg + at + wlen, msg + at + len, total - at - len + 1);
	memcpy(msg + at, with, wlen);
	return wlen;
}

bool redact_keys(char *msg, size_t cap)
{
	bool hidden = false;
	size_t i = 0;

	if (!cap)
		return false;
	msg[cap - 1] = '\0';
	while (msg[i]) {
		if (msg[i] == '`') {
			char *close = strchr(msg + i + 1, '\'');
			size_t len = close ? (size_t)(close - (msg + i)) + 1 : strlen(msg + i);

			if (looks_secret(msg + i + 1, len - 1)) {
				i += splice(msg, cap, i, len, "(hidden)");
				hidden = true;
			} else {
				i += len;
			}
			continue;
		}
		if (key_char(msg[i])) {
			size_t len = 0;

			while (key_char(msg[i + len]) || (len && msg[i + len] == '='))
				++len;
			if (run_secret(msg + i, len)) {
				i += splice(msg, cap, i, len, "(hidden)");
				hidden = true;
			} else {
				i += len;
			}
			continue;
		}
		++i;
	}
	return hidden;
}
