/* SPDX-License-Identifier: MIT */
/*
 * A fork-join pool for the data path's crypto. The calling thread and up to
 * WORKERS_MAX - 1 helper threads split a range of independent items, and
 * workers_run() returns once every item is done. Between runs the helpers
 * only wait (watching for the next run for 100 us, then asleep), so everything
 * outside a run stays single-threaded; during a run each
 * thread touches only its slice of the items and its own state (its index
 * says which), while the caller's data structures stand still.
 */
#ifndef WGATE_WORKERS_H
#define WGATE_WORKERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WORKERS_MAX = 16 };

/* Handles items [begin, end) on thread `thread' (0 is the caller). */
typedef void workers_fn(void *arg, unsigned thread, size_t begin, size_t end);

struct workers {
	unsigned threads; /* the caller included */
	pthread_t helpers[WORKERS_MAX];
	pthread_mutex_t lock; /* for sleeping helpers */
	pthread_cond_t start;
	_Atomic uint64_t generation; /* one per run, times 256, plus its active threads */
	_Atomic unsigned pending;    /* helpers still working on it */
	_Atomic unsigned sleepers;   /* helpers waiting on start */
	_Atomic bool stopping;
	workers_fn *fn;
	void *arg;
	size_t items;
	uint64_t runs, shared_runs; /* all runs; runs split over more than one thread */
};

/* Starts threads - 1 helpers (threads from 1 to WORKERS_MAX). */
bool workers_init(struct workers *w, unsigned threads) __attribute__((warn_unused_result));
void workers_free(struct workers *w);
/*
 * Runs fn over [0, items), in contiguous slices in thread order, giving each
 * thread at least min_items (fewer threads take part when items are few; one
 * means no helper is woken).
 */
void workers_run(struct workers *w, workers_fn *fn, void *arg, size_t items, size_t min_items);
/*
 * The thread count for WGATE_THREADS's value: "auto" (or NULL) is one less than
 * the online CPUs, from 1 to WORKERS_MAX; else a number from 1 to WORKERS_MAX.
 * False for anything else.
 */
bool workers_count_parse(const char *value, unsigned *threads) __attribute__((warn_unused_result));

#endif
