/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing: a path-compressed binary trie per address family, mapping
 * prefixes to their owner (a peer). Longest-prefix match on send; on receive
 * the inner source must map back to the peer it came from.
 *
 * Each owner keeps the list of its nodes, so listing or removing a peer's
 * prefixes does not walk the whole trie. Not thread-safe: the caller
 * serialises changes and lookups.
 */
#ifndef WGATE_ALLOWEDIPS_H
#define WGATE_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct allowedips_node;

/* Embedded in whatever owns prefixes (a peer); find it again with container_of. */
struct allowedips_owner {
	struct allowedips_node *head, *tail;
	size_t count;
};

struct allowedips {
	struct allowedips_node *root4, *root6;
	size_t nodes;
};

void allowedips_init(struct allowedips *table);
void allowedips_free(struct allowedips *table);
/*
 * Points a prefix at an owner, moving it from any previous owner. Host bits
 * beyond cidr are ignored. Fails only when out of memory.
 */
bool allowedips_insert(struct allowedips *table, int family, const void *addr, uint8_t cidr,
		       struct allowedips_owner *owner) __attribute__((warn_unused_result));
/* The owner of exactly this prefix (host bits ignored), or NULL. */
struct allowedips_owner *allowedips_owner_of(const struct allowedips *table, int family,
					     const void *addr, uint8_t cidr);
/* Removes the prefix if owner holds it; true if it did. */
bool allowedips_remove(struct allowedips *table, int family, const void *addr, uint8_t cidr,
		       struct allowedips_owner *owner);
void allowedips_remove_owner(struct allowedips *table, struct allowedips_owner *owner);
/* The owner of the longest prefix holding addr, or NULL. */
struct allowedips_owner *allowedips_lookup(const struct allowedips *table, int family,
					   const void *addr);

/* Iterates an owner's prefixes: it = NULL to start; returns NULL at the end. */
struct allowedips_node *allowedips_next(const struct allowedips_owner *owner,
					struct allowedips_node *it, int *family, uint8_t addr[16],
					uint8_t *cidr);

#endif
