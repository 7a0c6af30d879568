/* SPDX-License-Identifier: MIT */
/* The Internet checksum of RFC 1071, for IP, TCP, UDP and ICMP headers. */
#ifndef WGATE_CHECKSUM_H
#define WGATE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The one's-complement sum of RFC 1071, unfolded: add buffers, then fold. */
uint64_t checksum_add(uint64_t sum, const void *buf, size_t len);
/* Folds to 16 bits and complements: the value stored in a header. */
uint16_t checksum_finish(uint64_t sum);
/*
 * The pseudo-header (RFC 793; RFC 8200 section 8.1) of the IP packet ip of
 * family AF_INET or AF_INET6 for an upper-layer part of l4_len bytes, summed.
 */
uint64_t checksum_pseudo_header(const uint8_t *ip, int family, uint8_t protocol, size_t l4_len);
/* Stores a checksum into a header: in native order, as the words were summed. */
static inline void checksum_store(uint8_t *at, uint16_t value)
{
	memcpy(at, &value, sizeof(value));
}

#endif
