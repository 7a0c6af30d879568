/* SPDX-License-Identifier: MIT */
/*
 * An index from byte keys to the positions of items in an array the caller
 * owns (peers by public key, prefixes by address): open addressing over
 * 32-bit positions, a hash seeded at random, so configs with 100k peers are
 * checked and diffed in linear time. The caller says where an item's key
 * lies (key_of), so the index stores positions only. No I/O.
 */
#ifndef WGATE_HASHINDEX_H
#define WGATE_HASHINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_INDEX_NONE SIZE_MAX

/* The key of the item at position pos, key_len bytes. */
typedef const void *hash_index_key_fn(const void *items, size_t pos);

struct hash_slot {
	uint32_t pos;  /* the item's position + 1; 0: empty */
	uint32_t hash; /* its key's */
};

struct hash_index {
	struct hash_slot *slots;
	size_t mask, count;
	size_t key_len;
	uint64_t seed;
	hash_index_key_fn *key_of;
	const void *items;
};

/* An index for up to expected items (it grows past that) of key_len-byte keys. */
bool hash_index_init(struct hash_index *h, size_t expected, size_t key_len,
		     hash_index_key_fn *key_of, const void *items)
    __attribute__((warn_unused_result));
void hash_index_free(struct hash_index *h);
/* The array moved (realloc): key_of reads from items from now on. */
void hash_index_rebase(struct hash_index *h, const void *items);
/* The position of an item with this key, or HASH_INDEX_NONE. */
size_t hash_index_find(const struct hash_index *h, const void *key);
/*
 * The same, trying the item at position near first: a caller walking two
 * lists in much the same order finds most keys without a probe. For an
 * index of distinct keys; near must be a position of the items.
 */
size_t hash_index_find_near(const struct hash_index *h, const void *key, size_t near);
/*
 * Adds the item at pos. If one with an equal key is there already, returns
 * its position and adds nothing; HASH_INDEX_NONE when added. False (with
 * *found untouched) only when out of memory.
 */
bool hash_index_add(struct hash_index *h, size_t pos, size_t *found)
    __attribute__((warn_unused_result));

#endif
