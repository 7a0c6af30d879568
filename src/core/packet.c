// SPDX-License-Identifier: MIT
/* The packet pool and queues. */
#include "core/packet.h"

#include <stdlib.h>

struct packet *packet_get(struct packet_pool *pool, size_t payload_len)
{
	struct packet *p;
	size_t cap = payload_len <= PACKET_POOL_PAYLOAD ? PACKET_POOL_PAYLOAD : payload_len;

	if (cap == PACKET_POOL_PAYLOAD && pool->free) {
		p = pool->free;
		pool->free = p->next;
		--pool->free_count;
	} else {
		p = malloc(sizeof(*p) + PACKET_HEADROOM + cap + PACKET_TAILROOM);
		if (!p)
			return NULL;
		p->cap = cap;
	}
	p->next = NULL;
	p->len = 0;
	return p;
}

void packet_put(struct packet_pool *pool, struct packet *p)
{
	if (!p)
		return;
	if (p->cap != PACKET_POOL_PAYLOAD || pool->free_count >= pool->max_free) {
		free(p);
		return;
	}
	p->next = pool->free;
	pool->free = p;
	++pool->free_count;
}

void packet_pool_free(struct packet_pool *pool)
{
	while (pool->free) {
		struct packet *p = pool->free;

		pool->free = p->next;
		free(p);
	}
	pool->free_count = 0;
}

void packet_queue_push(struct packet_queue *q, struct packet *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	++q->len;
}

struct packet *packet_queue_pop(struct packet_queue *q)
{
	struct packet *p = q->head;

	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	--q->len;
	p->next = NULL;
	return p;
}

void packet_queue_purge(struct packet_queue *q, struct packet_pool *pool)
{
	struct packet *p;

	while ((p = packet_queue_pop(q)))
		packet_put(pool, p);
}
