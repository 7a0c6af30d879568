// SPDX-License-Identifier: MIT
/* Token buckets per source, in a chained hash table with a secret seed. */
#include "core/ratelimiter.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/messages.h"

enum {
	PACKET_COST = NSEC_PER_SEC / RATELIMIT_PACKETS_PER_SECOND,
	TOKEN_MAX = PACKET_COST * RATELIMIT_PACKETS_BURSTABLE,
};

struct ratelimiter_entry {
	struct ratelimiter_entry *next;
	uint64_t key; /* the IPv4 address, or the IPv6 /64 */
	int family;
	uint64_t last_time, tokens;
};

bool ratelimiter_init(struct ratelimiter *rl, size_t max_entries)
{
	memset(rl, 0, sizeof(*rl));
	rl->bucket_count = 1;
	while (rl->bucket_count < max_entries / 4 + 1)
		rl->bucket_count *= 2;
	rl->buckets = calloc(rl->bucket_count, sizeof(*rl->buckets));
	rl->max = max_entries;
	return rl->buckets && crypto_random(&rl->seed, sizeof(rl->seed)) &&
	       crypto_random(&rl->victim_seed, sizeof(rl->victim_seed));
}

void ratelimiter_free(struct ratelimiter *rl)
{
	ratelimiter_gc(rl, UINT64_MAX);
	free(rl->buckets);
	memset(rl, 0, sizeof(*rl));
}

/* splitmix64 of the seeded key: enough to keep an attacker from aiming at one chain. */
static size_t bucket_of(const struct ratelimiter *rl, uint64_t key, int family)
{
	uint64_t z = key ^ rl->seed ^ (uint64_t)family;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(z ^ (z >> 31)) & (rl->bucket_count - 1);
}

/* Unlinks and returns an entry from a random non-empty bucket (the table is not empty). */
static struct ratelimiter_entry *evict_random(struct ratelimiter *rl)
{
	size_t i = rl->victim_seed++ * 0x9e3779b97f4a7c15ull & (rl->bucket_count - 1);
	struct ratelimiter_entry *e;

	if (rl->victim_seed % 4096 == 0 &&
	    !crypto_random(&rl->victim_seed, sizeof(rl->victim_seed)))
		++rl->victim_seed; /* a fresh secret now and then, so no victim can be aimed at */
	while (!rl->buckets[i])
		i = (i + 1) & (rl->bucket_count - 1);
	e = rl->buckets[i];
	rl->buckets[i] = e->next;
	return e;
}

bool ratelimiter_allow(struct ratelimiter *rl, int family, const void *addr, uint64_t now)
{
	uint64_t key = 0;
	struct ratelimiter_entry **head, *e;

	memcpy(&key, addr, family == AF_INET ? 4 : 8);
	head = &rl->buckets[bucket_of(rl, key, family)];
	for (e = *head; e; e = e->next) {
		if (e->key == key && e->family == family) {
			uint64_t tokens = e->tokens + (now - e->last_time);
			bool allowed;

			if (now < e->last_time || tokens > TOKEN_MAX)
				tokens = TOKEN_MAX;
			e->last_time = now;
			allowed = tokens >= PACKET_COST;
			e->tokens = allowed ? tokens - PACKET_COST : tokens;
			return allowed;
		}
	}
	if (rl->count >= rl->max) {
		/*
		 * A full table must not lock new sources out (a flood from many
		 * addresses would keep a real peer from ever handshaking): a random
		 * entry makes room, and the newcomer gets this one message, no burst.
		 */
		e = evict_random(rl);
		e->tokens = 0;
	} else {
		e = malloc(sizeof(*e));
		if (!e)
			return false;
		++rl->count;
		e->tokens = TOKEN_MAX - PACKET_COST;
	}
	e->key = key;
	e->family = family;
	e->last_time = now;
	e->next = *head;
	*head = e;
	return true;
}

void ratelimiter_gc(struct ratelimiter *rl, uint64_t now)
{
	for (size_t i = 0; i < rl->bucket_count; ++i) {
		for (struct ratelimiter_entry **p = &rl->buckets[i], *e; (e = *p);) {
			if (now > e->last_time + NSEC_PER_SEC) {
				*p = e->next;
				free(e);
				--rl->count;
			} else {
				p = &e->next;
			}
		}
	}
}
