// SPDX-License-Identifier: MIT
/* Open addressing with linear probing; the table doubles at half full. */
#include "core/hashindex.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

/*
 * The key's 32-bit hash, from a secret seed: eight bytes at a time, each
 * multiplied in and folded, then a splitmix64 finish. Its low bits place a
 * key and the slot keeps all 32, so a probe compares keys only when they
 * match and growing never reads a key again.
 */
static uint32_t hash_of(const struct hash_index *h, const void *key)
{
	const uint8_t *p = key;
	uint64_t z = h->seed ^ h->key_len, w;
	size_t i = 0;

	for (; i + 8 <= h->key_len; i += 8) {
		memcpy(&w, p + i, 8);
		z = (z ^ w) * 0x9e3779b97f4a7c15ull;
		z ^= z >> 32;
	}
	if (i < h->key_len) {
		w = 0;
		memcpy(&w, p + i, h->key_len - i);
		z = (z ^ w) * 0x9e3779b97f4a7c15ull;
		z ^= z >> 32;
	}
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)(z ^ (z >> 32));
}

static bool alloc_slots(struct hash_index *h, size_t slots)
{
	h->slots = calloc(slots, sizeof(*h->slots));
	h->mask = slots - 1;
	return h->slots != NULL;
}

bool hash_index_init(struct hash_index *h, size_t expected, size_t key_len,
		     hash_index_key_fn *key_of, const void *items)
{
	size_t slots = 16;

	memset(h, 0, sizeof(*h));
	while (slots < expected * 2)
		slots *= 2;
	h->key_len = key_len;
	h->key_of = key_of;
	h->items = items;
	return crypto_random(&h->seed, sizeof(h->seed)) && alloc_slots(h, slots);
}

void hash_index_free(struct hash_index *h)
{
	free(h->slots);
	h->slots = NULL;
	h->count = 0;
}

void hash_index_rebase(struct hash_index *h, const void *items)
{
	h->items = items;
}

/* The slot that holds key (whose hash is hash), or the empty slot where it would go. */
static size_t probe(const struct hash_index *h, const void *key, uint32_t hash)
{
	size_t i = hash & h->mask;

	while (h->slots[i].pos &&
	       (h->slots[i].hash != hash ||
		memcmp(h->key_of(h->items, h->slots[i].pos - 1), key, h->key_len)))
		i = (i + 1) & h->mask;
	return i;
}

size_t hash_index_find(const struct hash_index *h, const void *key)
{
	size_t i;

	if (!h->slots)
		return HASH_INDEX_NONE;
	i = probe(h, key, hash_of(h, key));
	return h->slots[i].pos ? h->slots[i].pos - 1 : HASH_INDEX_NONE;
}

size_t hash_index_find_near(const struct hash_index *h, const void *key, size_t near)
{
	if (h->count && !memcmp(h->key_of(h->items, near), key, h->key_len))
		return near;
	return hash_index_find(h, key);
}

static bool grow(struct hash_index *h)
{
	struct hash_slot *old = h->slots;
	size_t old_slots = h->mask + 1;

	if (old_slots > UINT32_MAX / 2 || !alloc_slots(h, old_slots * 2)) { /* hashes place 2^32 */
		h->slots = old;
		h->mask = old_slots - 1;
		return false;
	}
	/* the keys are distinct: each goes to the first free slot from its place */
	for (size_t i = 0; i < old_slots; ++i) {
		size_t j;

		if (!old[i].pos)
			continue;
		for (j = old[i].hash & h->mask; h->slots[j].pos; j = (j + 1) & h->mask)
			;
		h->slots[j] = old[i];
	}
	free(old);
	return true;
}

bool hash_index_add(struct hash_index *h, size_t pos, size_t *found)
{
	const void *key;
	uint32_t hash;
	size_t i;

	if (pos >= UINT32_MAX || ((h->count + 1) * 2 > h->mask + 1 && !grow(h)))
		return false;
	key = h->key_of(h->items, pos);
	hash = hash_of(h, key);
	i = probe(h, key, hash);
	if (h->slots[i].pos) {
		*found = h->slots[i].pos - 1;
		return true;
	}
	h->slots[i] = (struct hash_slot){.pos = (uint32_t)pos + 1, .hash = hash};
	++h->count;
	*found = HASH_INDEX_NONE;
	return true;
}
