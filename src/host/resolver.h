/* SPDX-License-Identifier: MIT */
/*
 * Resolving names off the caller's thread: a batch of host names is resolved
 * (getaddrinfo, which may block for seconds) on a thread of its own, and the
 * caller learns it is done when resolver_fd() turns readable. One batch at a
 * time; the caller's loop never waits for the network.
 */
#ifndef WGATE_RESOLVER_H
#define WGATE_RESOLVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct resolve_item {
	char *host; /* owned by the batch */
	uint16_t port;
	size_t peer, endpoint;	 /* which one it is, for the caller */
	union sockaddr_any addr; /* the first address; AF_UNSPEC on error */
	int error;		 /* 0 or an EAI_ code */
};

struct resolver {
	pthread_t thread;
	int done_fd; /* an eventfd, readable when a batch is done; -1 when closed */
	bool busy;
	struct resolve_item *items;
	size_t len;
};

/* False with errno set. */
bool resolver_init(struct resolver *r);
/* Starts resolving items (taken over, hosts too); false (items freed) when it cannot. */
bool resolver_start(struct resolver *r, struct resolve_item *items, size_t len);
/* After done_fd turned readable: the batch, now the caller's (resolve_items_free). */
struct resolve_item *resolver_finish(struct resolver *r, size_t *len);
void resolve_items_free(struct resolve_item *items, size_t len);
/* Closes; a batch in flight is left to its thread, for a process about to end. */
void resolver_free(struct resolver *r);

#endif
