// SPDX-License-Identifier: MIT
/* The Internet checksum (RFC 1071) and the pseudo-headers it covers (see checksum.h). */
#include "core/checksum.h"

#include <string.h>
#include <sys/socket.h>

#include "core/bytes.h"

/*
 * RFC 1071: the sum is independent of byte order as long as words are loaded
 * and the result stored in the same (native) order; carries collect in the
 * upper half of the 64-bit accumulator. Every buffer but the last must have
 * an even length.
 */
uint64_t checksum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t word;
	uint16_t half = 0;

	uint64_t a = 0, b = 0, c = 0, d = 0;

	/* Four independent sums: the additions overlap instead of queueing. */
	for (; len >= 16; len -= 16, p += 16) {
		memcpy(&word, p, 4);
		a += word;
		memcpy(&word, p + 4, 4);
		b += word;
		memcpy(&word, p + 8, 4);
		c += word;
		memcpy(&word, p + 12, 4);
		d += word;
	}
	sum += a + b + c + d;
	for (; len >= 4; len -= 4, p += 4) {
		memcpy(&word, p, 4);
		sum += word;
	}
	if (len >= 2) {
		memcpy(&half, p, 2);
		sum += half;
		p += 2;
		len -= 2;
	}
	if (len) {
		half = 0;
		memcpy(&half, p, 1);
		sum += half;
	}
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t checksum_finish(uint64_t sum)
{
	return (uint16_t)~fold(sum);
}

uint64_t checksum_pseudo_header(const uint8_t *ip, int family, uint8_t protocol, size_t l4_len)
{
	uint8_t tail[8] = {0};

	if (family == AF_INET) {
		tail[1] = protocol;
		put_be16(tail + 2, (uint16_t)l4_len);
		return checksum_add(checksum_add(0, ip + 12, 8), tail, 4);
	}
	put_be32(tail, (uint32_t)l4_len);
	tail[7] = protocol;
	return checksum_add(checksum_add(0, ip + 8, 32), tail, 8);
}
