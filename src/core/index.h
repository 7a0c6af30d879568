/* SPDX-License-Identifier: MIT */
/*
 * The receiver-index table: the 32-bit indices we hand to peers map back to
 * a handshake in progress or a live keypair. Entries are embedded in their
 * owners, so adding one never allocates; the bucket array grows with use.
 */
#ifndef WGATE_INDEX_H
#define WGATE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer;
struct keypair;

enum index_type { INDEX_HANDSHAKE, INDEX_KEYPAIR };

struct index_entry {
	struct index_entry *next;
	uint32_t index;
	bool live;
	enum index_type type;
	struct peer *peer;
	struct keypair *keypair; /* for INDEX_KEYPAIR */
};

struct index_table {
	struct index_entry **buckets;
	size_t bucket_count, count;
};

bool index_table_init(struct index_table *t) __attribute__((warn_unused_result));
void index_table_free(struct index_table *t);
/* Gives entry a fresh random index not in use; false only when out of memory. */
bool index_insert(struct index_table *t, struct index_entry *entry)
    __attribute__((warn_unused_result));
/* Puts new in old's place under old's index (a handshake becoming a keypair). */
void index_replace(struct index_table *t, struct index_entry *old, struct index_entry *new);
void index_remove(struct index_table *t, struct index_entry *entry);
struct index_entry *index_lookup(const struct index_table *t, uint32_t index);

#endif
