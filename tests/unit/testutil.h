/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests (cmocka). */
#ifndef WGATE_TESTUTIL_H
#define WGATE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Decodes hex into out (which must hold strlen(hex)/2 bytes); returns the length. */
static inline size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; ++i) {
		char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};

		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return n;
}

static inline void assert_hex_equal(const uint8_t *got, const char *want_hex)
{
	uint8_t want[512];
	size_t n = unhex(want, want_hex);

	assert_memory_equal(got, want, n);
}

/* A fixed-seed generator, so a failing randomized test can be replayed. */
static inline uint64_t test_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
