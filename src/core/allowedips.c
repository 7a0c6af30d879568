// SPDX-License-Identifier: MIT
/*
 * A path-compressed binary trie (one per family). Every node holds a prefix
 * (key masked to cidr bits); a node without an owner exists only to join two
 * subtrees, and is removed as soon as it joins fewer.
 */
#include "core/allowedips.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct allowedips_node {
	struct allowedips_node *child[2];
	struct allowedips_owner *owner;
	struct allowedips_node *owner_next, *owner_prev; /* the owner's list, in insertion order */
	uint8_t key[16];
	uint8_t cidr;
	uint8_t bits; /* 32 or 128: the family */
};

enum { MAX_DEPTH = 129 };

static unsigned bit_at(const uint8_t *key, unsigned i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1;
}

static void mask(uint8_t *out, const uint8_t *in, unsigned cidr, unsigned bytes)
{
	memcpy(out, in, bytes);
	for (unsigned i = 0; i < bytes; ++i) {
		if (cidr >= 8 * (i + 1))
			continue;
		out[i] &= cidr > 8 * i ? (uint8_t)(0xff << (8 - (cidr - 8 * i))) : 0;
	}
}

/* The number of leading bits a and b share, at most limit. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned limit)
{
	unsigned n = 0;

	while (n + 8 <= limit && a[n / 8] == b[n / 8])
		n += 8;
	while (n < limit && bit_at(a, n) == bit_at(b, n))
		++n;
	return n;
}

static bool prefix_matches(const struct allowedips_node *node, const uint8_t *addr)
{
	unsigned whole = node->cidr / 8, rest = node->cidr % 8;

	if (memcmp(node->key, addr, whole))
		return false;
	return !rest || !((node->key[whole] ^ addr[whole]) & (uint8_t)(0xff << (8 - rest)));
}

static void set_owner(struct allowedips_node *node, struct allowedips_owner *owner)
{
	struct allowedips_owner *old = node->owner;

	if (old == owner)
		return;
	if (old) {
		*(node->owner_prev ? &node->owner_prev->owner_next : &old->head) = node->owner_next;
		*(node->owner_next ? &node->owner_next->owner_prev : &old->tail) = node->owner_prev;
		--old->count;
	}
	node->owner = owner;
	node->owner_next = NULL;
	node->owner_prev = NULL;
	if (owner) {
		node->owner_prev = owner->tail;
		*(owner->tail ? &owner->tail->owner_next : &owner->head) = node;
		owner->tail = node;
		++owner->count;
	}
}

static struct allowedips_node **root_for(struct allowedips *table, int family, unsigned *bits)
{
	if (family == AF_INET) {
		*bits = 32;
		return &table->root4;
	}
	if (family == AF_INET6) {
		*bits = 128;
		return &table->root6;
	}
	return NULL;
}

void allowedips_init(struct allowedips *table)
{
	memset(table, 0, sizeof(*table));
}

static void free_tree(struct allowedips_node *node)
{
	/* Iterative, so a deep trie cannot exhaust the stack. */
	struct allowedips_node *stack[MAX_DEPTH * 2];
	size_t top = 0;

	if (node)
		stack[top++] = node;
	while (top) {
		node = stack[--top];
		for (int i = 0; i < 2; ++i)
			if (node->child[i])
				stack[top++] = node->child[i];
		set_owner(node, NULL);
		free(node);
	}
}

void allowedips_free(struct allowedips *table)
{
	free_tree(table->root4);
	free_tree(table->root6);
	allowedips_init(table);
}

static struct allowedips_node *new_node(struct allowedips *table, const uint8_t *key, unsigned cidr,
					unsigned bits)
{
	struct allowedips_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	mask(node->key, key, cidr, bits / 8);
	node->cidr = (uint8_t)cidr;
	node->bits = (uint8_t)bits;
	++table->nodes;
	return node;
}

struct allowedips_owner *allowedips_owner_of(const struct allowedips *table, int family,
					     const void *addr, uint8_t cidr)
{
	unsigned bits;
	struct allowedips_node **slot = root_for((struct allowedips *)table, family, &bits), *node;
	uint8_t key[16] = {0};

	if (!slot || cidr > bits)
		return NULL;
	mask(key, addr, cidr, bits / 8);
	while ((node = *slot)) {
		unsigned common =
		    common_bits(node->key, key, node->cidr < cidr ? node->cidr : cidr);

		if (common != node->cidr || node->cidr > cidr)
			return NULL;
		if (node->cidr == cidr)
			return node->owner;
		slot = &node->child[bit_at(key, node->cidr)];
	}
	return NULL;
}

bool allowedips_insert(struct allowedips *table, int family, const void *addr, uint8_t cidr,
		       struct allowedips_owner *owner)
{
	unsigned bits;
	struct allowedips_node **slot = root_for(table, family, &bits), *node, *leaf, *join;
	uint8_t key[16] = {0};

	if (!slot || cidr > bits)
		return false;
	mask(key, addr, cidr, bits / 8);
	while ((node = *slot)) {
		unsigned common =
		    common_bits(node->key, key, node->cidr < cidr ? node->cidr : cidr);

		if (common == node->cidr && node->cidr <= cidr) {
			if (node->cidr == cidr) {
				set_owner(node, owner);
				return true;
			}
			slot = &node->child[bit_at(key, node->cidr)];
			continue;
		}
		leaf = new_node(table, key, cidr, bits);
		if (!leaf)
			return false;
		set_owner(leaf, owner);
		if (common == cidr) { /* the new prefix contains node's */
			leaf->child[bit_at(node->key, cidr)] = node;
			*slot = leaf;
			return true;
		}
		join = new_node(table, key, common, bits); /* they part at bit `common' */
		if (!join) {
			set_owner(leaf, NULL);
			free(leaf);
			--table->nodes;
			return false;
		}
		join->child[bit_at(node->key, common)] = node;
		join->child[bit_at(key, common)] = leaf;
		*slot = join;
		return true;
	}
	leaf = new_node(table, key, cidr, bits);
	if (!leaf)
		return false;
	set_owner(leaf, owner);
	*slot = leaf;
	return true;
}

/*
 * Finds the node of exactly this prefix, recording the slots on the way so
 * that ownerless nodes can be folded away bottom-up afterwards.
 */
static struct allowedips_node *find_exact(struct allowedips_node **slot, const uint8_t *key,
					  unsigned cidr, struct allowedips_node ***path,
					  size_t *depth)
{
	struct allowedips_node *node;

	*depth = 0;
	while ((node = *slot)) {
		path[(*depth)++] = slot;
		if (node->cidr > cidr || !prefix_matches(node, key))
			return NULL;
		if (node->cidr == cidr)
			return node;
		slot = &node->child[bit_at(key, node->cidr)];
	}
	return NULL;
}

static void fold(struct allowedips *table, struct allowedips_node ***path, size_t depth)
{
	while (depth--) {
		struct allowedips_node **slot = path[depth], *node = *slot;

		if (node->owner || (node->child[0] && node->child[1]))
			return;
		*slot = node->child[0] ? node->child[0] : node->child[1];
		free(node);
		--table->nodes;
	}
}

bool allowedips_remove(struct allowedips *table, int family, const void *addr, uint8_t cidr,
		       struct allowedips_owner *owner)
{
	unsigned bits;
	struct allowedips_node **root = root_for(table, family, &bits), *node;
	struct allowedips_node **path[MAX_DEPTH];
	uint8_t key[16] = {0};
	size_t depth;

	if (!root || cidr > bits)
		return false;
	mask(key, addr, cidr, bits / 8);
	node = find_exact(root, key, cidr, path, &depth);
	if (!node || node->owner != owner)
		return false;
	set_owner(node, NULL);
	fold(table, path, depth);
	return true;
}

void allowedips_remove_owner(struct allowedips *table, struct allowedips_owner *owner)
{
	while (owner->head) {
		struct allowedips_node *node = owner->head;
		int family = node->bits == 32 ? AF_INET : AF_INET6;
		uint8_t key[16];

		memcpy(key, node->key, sizeof(key));
		allowedips_remove(table, family, key, node->cidr, owner);
	}
}

struct allowedips_owner *allowedips_lookup(const struct allowedips *table, int family,
					   const void *addr)
{
	const struct allowedips_node *node = family == AF_INET	  ? table->root4
					     : family == AF_INET6 ? table->root6
								  : NULL;
	struct allowedips_owner *best = NULL;

	while (node && prefix_matches(node, addr)) {
		if (node->owner)
			best = node->owner;
		if (node->cidr == node->bits)
			break;
		node = node->child[bit_at(addr, node->cidr)];
	}
	return best;
}

struct allowedips_node *allowedips_next(const struct allowedips_owner *owner,
					struct allowedips_node *it, int *family, uint8_t addr[16],
					uint8_t *cidr)
{
	it = it ? it->owner_next : owner->head;
	if (it) {
		*family = it->bits == 32 ? AF_INET : AF_INET6;
		memcpy(addr, it->key, it->bits / 8);
		*cidr = it->cidr;
	}
	return it;
}
