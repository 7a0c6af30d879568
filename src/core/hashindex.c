// SPDX-License-Identifier: MIT
/* Open addressing with linear probing; the table doubles at half full. */
#include "core/hashindex.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

/* FNV-1a over the key from a secret offset, then a splitmix64 finish. */
static uint64_t hash_of(const struct hash_index *h, const void *key)
{
	const uint8_t *p = key;
	uint64_t z = h->seed ^ 0xcbf29ce484222325ull;

	for (size_t i = 0; i < h->key_len; ++i)
		z = (z ^ p[i]) * 0x100000001b3ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
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

/* The slot that holds key, or the empty slot where it would go. */
static size_t probe(const struct hash_index *h, const void *key)
{
	size_t i = (size_t)hash_of(h, key) & h->mask;

	while (h->slots[i] && memcmp(h->key_of(h->items, h->slots[i] - 1), key, h->key_len))
		i = (i + 1) & h->mask;
	return i;
}

size_t hash_index_find(const struct hash_index *h, const void *key)
{
	size_t i;

	if (!h->slots)
		return HASH_INDEX_NONE;
	i = probe(h, key);
	return h->slots[i] ? h->slots[i] - 1 : HASH_INDEX_NONE;
}

static bool grow(struct hash_index *h)
{
	uint32_t *old = h->slots;
	size_t old_slots = h->mask + 1;

	if (!alloc_slots(h, old_slots * 2)) {
		h->slots = old;
		h->mask = old_slots - 1;
		return false;
	}
	for (size_t i = 0; i < old_slots; ++i)
		if (old[i])
			h->slots[probe(h, h->key_of(h->items, old[i] - 1))] = old[i];
	free(old);
	return true;
}

bool hash_index_add(struct hash_index *h, size_t pos, size_t *found)
{
	size_t i;

	if (pos >= UINT32_MAX || ((h->count + 1) * 2 > h->mask + 1 && !grow(h)))
		return false;
	i = probe(h, h->key_of(h->items, pos));
	if (h->slots[i]) {
		*found = h->slots[i] - 1;
		return true;
	}
	h->slots[i] = (uint32_t)pos + 1;
	++h->count;
	*found = HASH_INDEX_NONE;
	return true;
}
