// SPDX-License-Identifier: MIT
/*
 * Constant-time key encodings. Characters are mapped with arithmetic on
 * masks instead of tables or branches; range_mask() relies on an arithmetic
 * right shift of negative ints, which gcc and clang guarantee.
 */
#include "encoding.h"

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
