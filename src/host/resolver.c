// SPDX-License-Identifier: MIT
/* Names resolved on a thread of their own: see resolver.h. */
#include "host/resolver.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config/config.h"

bool resolver_init(struct resolver *r)
{
	*r = (struct resolver){.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
	return r->done_fd >= 0;
}

static void *resolve_batch(void *arg)
{
	struct resolver *r = arg;
	uint64_t one = 1;

	for (size_t i = 0; i < r->len; ++i)
		r->items[i].error =
		    endpoint_lookup(r->items[i].host, r->items[i].port, &r->items[i].addr);
	if (write(r->done_fd, &one, sizeof(one)) != sizeof(one))
		return NULL; /* cannot happen: the counter is far from full */
	return NULL;
}

bool resolver_start(struct resolver *r, struct resolve_item *items, size_t len)
{
	if (r->busy || r->done_fd < 0) {
		resolve_items_free(items, len);
		return false;
	}
	r->items = items;
	r->len = len;
	if (pthread_create(&r->thread, NULL, resolve_batch, r)) {
		resolve_items_free(items, len);
		r->items = NULL;
		return false;
	}
	r->busy = true;
	return true;
}

struct resolve_item *resolver_finish(struct resolver *r, size_t *len)
{
	struct resolve_item *items = r->items;
	uint64_t count;

	if (!r->busy || read(r->done_fd, &count, sizeof(count)) != sizeof(count))
		return NULL;
	pthread_join(r->thread, NULL);
	r->busy = false;
	r->items = NULL;
	*len = r->len;
	return items;
}

void resolve_items_free(struct resolve_item *items, size_t len)
{
	for (size_t i = 0; items && i < len; ++i)
		free(items[i].host);
	free(items);
}

void resolver_free(struct resolver *r)
{
	if (r->busy) {
		/* a lookup may take seconds: the thread is left to end with the process */
		pthread_detach(r->thread);
		r->busy = false;
		return;
	}
	if (r->done_fd >= 0)
		close(r->done_fd);
	r->done_fd = -1;
}
