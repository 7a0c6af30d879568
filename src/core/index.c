// SPDX-License-Identifier: MIT
/* Chained hash table of receiver indices; indices are random, so they hash themselves. */
#include "core/index.h"

#include <stdlib.h>

#include "core/crypto.h"

bool index_table_init(struct index_table *t)
{
	t->bucket_count = 1024;
	t->count = 0;
	t->buckets = calloc(t->bucket_count, sizeof(*t->buckets));
	return t->buckets != NULL;
}

void index_table_free(struct index_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->bucket_count = t->count = 0;
}

static struct index_entry **bucket(const struct index_table *t, uint32_t index)
{
	return &t->buckets[index & (t->bucket_count - 1)];
}

static void grow(struct index_table *t)
{
	size_t count = t->bucket_count * 2;
	struct index_entry **buckets = calloc(count, sizeof(*buckets));

	if (!buckets)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->bucket_count; ++i) {
		for (struct index_entry *e = t->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = buckets[e->index & (count - 1)];
			buckets[e->index & (count - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->bucket_count = count;
}

struct index_entry *index_lookup(const struct index_table *t, uint32_t index)
{
	for (struct index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

bool index_insert(struct index_table *t, struct index_entry *entry)
{
	uint32_t index;

	if (entry->live)
		index_remove(t, entry);
	if (t->count >= t->bucket_count)
		grow(t);
	do {
		if (!crypto_random(&index, sizeof(index)))
			return false;
	} while (index_lookup(t, index));
	entry->index = index;
	entry->next = *bucket(t, index);
	*bucket(t, index) = entry;
	entry->live = true;
	++t->count;
	return true;
}

void index_replace(struct index_table *t, struct index_entry *old, struct index_entry *new)
{
	struct index_entry **p;

	if (!old->live)
		return;
	for (p = bucket(t, old->index); *p != old; p = &(*p)->next)
		;
	new->index = old->index;
	new->next = old->next;
	new->live = true;
	*p = new;
	old->live = false;
	old->next = NULL;
}

void index_remove(struct index_table *t, struct index_entry *entry)
{
	struct index_entry **p;

	if (!entry->live)
		return;
	for (p = bucket(t, entry->index); *p != entry; p = &(*p)->next)
		;
	*p = entry->next;
	entry->next = NULL;
	entry->live = false;
	--t->count;
}
