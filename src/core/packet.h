/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers with room for the data message header in front and the
 * padding and tag behind, so that a packet read from the TUN is encrypted in
 * place. A pool recycles them: after warm-up the data path does not allocate.
 */
#ifndef WGATE_PACKET_H
#define WGATE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "core/messages.h"

enum {
	PACKET_HEADROOM = sizeof(struct message_data),
	PACKET_TAILROOM = MESSAGE_PADDING_MULTIPLE + CRYPTO_AEAD_TAG_LEN,
	PACKET_POOL_PAYLOAD = 2048 - 64, /* pooled buffers; larger packets get their own */
	PACKET_MAX_PAYLOAD = 65535,
};

struct packet {
	struct packet *next;
	size_t len;	/* bytes of payload */
	size_t cap;	/* payload capacity */
	uint8_t data[]; /* PACKET_HEADROOM + cap + PACKET_TAILROOM */
};

static inline uint8_t *packet_payload(struct packet *p)
{
	return p->data + PACKET_HEADROOM;
}

struct packet_pool {
	struct packet *free;
	size_t free_count, max_free;
};

/* A buffer with room for payload_len bytes, or NULL when out of memory. */
struct packet *packet_get(struct packet_pool *pool, size_t payload_len);
void packet_put(struct packet_pool *pool, struct packet *p);
void packet_pool_free(struct packet_pool *pool);

/* A FIFO of packets. */
struct packet_queue {
	struct packet *head, *tail;
	size_t len;
};

void packet_queue_push(struct packet_queue *q, struct packet *p);
struct packet *packet_queue_pop(struct packet_queue *q);
void packet_queue_purge(struct packet_queue *q, struct packet_pool *pool);

#endif
