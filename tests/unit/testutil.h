/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests (cmocka). */
#ifndef WGATE_TESTUTIL_H
#define WGATE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* RFC 1071 computed the obvious way, as a reference. */
static inline uint16_t naive_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Whether the L4 checksum of an IP packet verifies (naively). */
static inline bool l4_checksum_ok(const uint8_t *pkt, size_t len)
{
	uint8_t buf[70000];
	size_t l4 = pkt[0] >> 4 == 4 ? (size_t)(pkt[0] & 15) * 4 : 40, n = 0;
	uint8_t protocol = pkt[0] >> 4 == 4 ? pkt[9] : pkt[6];

	if (pkt[0] >> 4 == 4) {
		memcpy(buf, pkt + 12, 8);
		n = 8;
		buf[n++] = 0;
		buf[n++] = protocol;
		buf[n++] = (uint8_t)((len - l4) >> 8);
		buf[n++] = (uint8_t)(len - l4);
	} else {
		memcpy(buf, pkt + 8, 32);
		n = 32;
		buf[n++] = (uint8_t)((len - l4) >> 24);
		buf[n++] = (uint8_t)((len - l4) >> 16);
		buf[n++] = (uint8_t)((len - l4) >> 8);
		buf[n++] = (uint8_t)(len - l4);
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = protocol;
	}
	memcpy(buf + n, pkt + l4, len - l4);
	return naive_checksum(buf, n + len - l4) == 0;
}

#endif
