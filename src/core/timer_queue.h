/* SPDX-License-Identifier: MIT */
/*
 * Timers in a binary min-heap: adding, moving and cancelling a timer cost
 * O(log n), and the next deadline is known without scanning, so an idle
 * daemon sleeps until exactly when it has something to do. Single-threaded.
 */
#ifndef WGATE_TIMER_QUEUE_H
#define WGATE_TIMER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer {
	uint64_t expires;  /* monotonic ns */
	size_t heap_index; /* TIMER_IDLE when not pending */
	void (*fn)(struct timer *timer, uint64_t now);
};
#define TIMER_IDLE SIZE_MAX

struct timer_queue {
	struct timer **heap;
	size_t len, cap;
};

void timer_init(struct timer *timer, void (*fn)(struct timer *, uint64_t));
static inline bool timer_pending(const struct timer *timer)
{
	return timer->heap_index != TIMER_IDLE;
}
/* Reserves room for n more timers, so that arming them cannot fail later. */
bool timer_queue_reserve(struct timer_queue *q, size_t n) __attribute__((warn_unused_result));
void timer_queue_free(struct timer_queue *q);
/* Arms or re-arms; room must have been reserved. */
void timer_mod(struct timer_queue *q, struct timer *timer, uint64_t expires);
void timer_del(struct timer_queue *q, struct timer *timer);
/* Runs every timer due by now, in deadline order; callbacks may re-arm timers. */
void timer_queue_run(struct timer_queue *q, uint64_t now);
/* The earliest deadline, or UINT64_MAX when nothing is pending. */
uint64_t timer_queue_next(const struct timer_queue *q);

#endif
