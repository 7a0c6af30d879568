// SPDX-License-Identifier: MIT
/* A binary min-heap of timers, each timer knowing its own slot. */
#include "core/timer_queue.h"

#include <stdlib.h>

void timer_init(struct timer *timer, void (*fn)(struct timer *, uint64_t))
{
	timer->expires = 0;
	timer->heap_index = TIMER_IDLE;
	timer->fn = fn;
}

bool timer_queue_reserve(struct timer_queue *q, size_t n)
{
	size_t want = q->len + n, cap = q->cap ? q->cap : 64;
	struct timer **bigger;

	if (want <= q->cap)
		return true;
	while (cap < want)
		cap *= 2;
	bigger = realloc(q->heap, cap * sizeof(*bigger));
	if (!bigger)
		return false;
	q->heap = bigger;
	q->cap = cap;
	return true;
}

void timer_queue_free(struct timer_queue *q)
{
	for (size_t i = 0; i < q->len; ++i)
		q->heap[i]->heap_index = TIMER_IDLE;
	free(q->heap);
	q->heap = NULL;
	q->len = q->cap = 0;
}

static void place(struct timer_queue *q, size_t i, struct timer *t)
{
	q->heap[i] = t;
	t->heap_index = i;
}

static void sift_up(struct timer_queue *q, size_t i)
{
	struct timer *t = q->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (q->heap[parent]->expires <= t->expires)
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, t);
}

static void sift_down(struct timer_queue *q, size_t i)
{
	struct timer *t = q->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= q->len)
			break;
		if (child + 1 < q->len && q->heap[child + 1]->expires < q->heap[child]->expires)
			++child;
		if (t->expires <= q->heap[child]->expires)
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, t);
}

void timer_mod(struct timer_queue *q, struct timer *timer, uint64_t expires)
{
	timer->expires = expires;
	if (!timer_pending(timer)) {
		if (q->len == q->cap && !timer_queue_reserve(q, 1))
			abort(); /* callers reserve room when they create timers */
		place(q, q->len++, timer);
		sift_up(q, timer->heap_index);
		return;
	}
	sift_up(q, timer->heap_index);
	sift_down(q, timer->heap_index);
}

void timer_del(struct timer_queue *q, struct timer *timer)
{
	size_t i = timer->heap_index;

	if (i == TIMER_IDLE)
		return;
	timer->heap_index = TIMER_IDLE;
	if (i == --q->len)
		return;
	struct timer *moved = q->heap[q->len];

	place(q, i, moved);
	sift_up(q, i);
	sift_down(q, moved->heap_index);
}

void timer_queue_run(struct timer_queue *q, uint64_t now)
{
	while (q->len && q->heap[0]->expires <= now) {
		struct timer *t = q->heap[0];

		timer_del(q, t);
		t->fn(t, now);
	}
}

uint64_t timer_queue_next(const struct timer_queue *q)
{
	return q->len ? q->heap[0]->expires : UINT64_MAX;
}
