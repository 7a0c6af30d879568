/* SPDX-License-Identifier: MIT */
/*
 * Per-source token buckets for handshakes under load: 20 a second with a
 * burst of 5, IPv4 by address and IPv6 by /64. Entries idle for a second are
 * collected by ratelimiter_gc(). No clocks: now is monotonic nanoseconds.
 */
#ifndef WGATE_RATELIMITER_H
#define WGATE_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimiter_entry;

struct ratelimiter {
	struct ratelimiter_entry **buckets;
	size_t bucket_count; /* a power of two */
	size_t count, max;
	uint64_t seed;
	uint64_t victim_seed; /* picks the entry a full table gives up */
};

bool ratelimiter_init(struct ratelimiter *rl, size_t max_entries)
    __attribute__((warn_unused_result));
void ratelimiter_free(struct ratelimiter *rl);
/*
 * addr is 4 or 16 bytes as family says. False: over the rate (or out of
 * memory). A full table gives up a random entry for a new source, which then
 * gets one message and no burst: a flood from many addresses cannot lock a
 * new source out.
 */
bool ratelimiter_allow(struct ratelimiter *rl, int family, const void *addr, uint64_t now);
void ratelimiter_gc(struct ratelimiter *rl, uint64_t now);

#endif
