// SPDX-License-Identifier: MIT
/*
 * A fork-join pool. A run is announced by bumping the generation; helpers
 * that finished a run recently are still watching it (a wake-up through the
 * scheduler costs more than a batch's share of the work on a busy machine),
 * the others sleep on a condition and are woken. The caller spins for the
 * helpers' slices to finish: they started when it did and are as long as its.
 */
#include "host/workers.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"

/* How long a helper keeps watching for the next run before it sleeps. */
enum { WATCH_NS = 100 * 1000 };

struct helper_start {
	struct workers *w;
	unsigned index;
};

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void slice(size_t items, unsigned active, unsigned index, size_t *begin, size_t *end)
{
	*begin = items * index / active;
	*end = items * (index + 1) / active;
}

/* Waits for a generation other than seen: watching for a while, then asleep. */
static uint64_t next_run(struct workers *w, uint64_t seen)
{
	uint64_t until = clock_ns() + WATCH_NS, g;
	unsigned spins = 0;

	while ((g = atomic_load(&w->generation)) == seen && !atomic_load(&w->stopping)) {
		if (++spins % 64 == 0 && clock_ns() >= until) {
			pthread_mutex_lock(&w->lock);
			atomic_fetch_add(&w->sleepers, 1);
			while (atomic_load(&w->generation) == seen && !atomic_load(&w->stopping))
				pthread_cond_wait(&w->start, &w->lock);
			atomic_fetch_sub(&w->sleepers, 1);
			pthread_mutex_unlock(&w->lock);
			until = clock_ns() + WATCH_NS;
		}
	}
	return g;
}

static void *helper_main(void *p)
{
	struct helper_start start = *(struct helper_start *)p;
	struct workers *w = start.w;
	uint64_t seen = 0;

	free(p);
	for (;;) {
		size_t begin, end;
		unsigned active;

		seen = next_run(w, seen);
		if (atomic_load(&w->stopping))
			break;
		/*
		 * Only a helper taking part may read the run's fields (written before
		 * the generation was bumped, and left alone until it is done); the
		 * others learn they are out from the generation itself.
		 */
		active = (unsigned)(seen & 0xff);
		if (start.index >= active)
			continue;
		slice(w->items, active, start.index, &begin, &end);
		w->fn(w->arg, start.index, begin, end);
		atomic_fetch_sub(&w->pending, 1);
	}
	return NULL;
}

bool workers_init(struct workers *w, unsigned threads)
{
	sigset_t all, old;
	bool ok = true;

	memset(w, 0, sizeof(*w));
	if (threads < 1 || threads > WORKERS_MAX)
		return false;
	if (pthread_mutex_init(&w->lock, NULL))
		return false;
	if (pthread_cond_init(&w->start, NULL)) {
		pthread_mutex_destroy(&w->lock);
		return false;
	}
	w->threads = 1;
	/* Helpers take no signals: the event loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 1; i < threads && ok; ++i) {
		struct helper_start *start = malloc(sizeof(*start));

		ok = start != NULL;
		if (ok) {
			*start = (struct helper_start){w, i};
			ok = pthread_create(&w->helpers[i], NULL, helper_main, start) == 0;
			if (!ok)
				free(start);
		}
		if (ok)
			w->threads = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok)
		workers_free(w);
	return ok;
}

/* Wakes every helper asleep in next_run(), which then sees the new generation or stop. */
static void wake_all(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->start);
	pthread_mutex_unlock(&w->lock);
}

void workers_free(struct workers *w)
{
	if (!w->threads)
		return;
	atomic_store(&w->stopping, true);
	wake_all(w);
	for (unsigned i = 1; i < w->threads; ++i)
		pthread_join(w->helpers[i], NULL);
	pthread_cond_destroy(&w->start);
	pthread_mutex_destroy(&w->lock);
	w->threads = 0;
}

void workers_run(struct workers *w, workers_fn *fn, void *arg, size_t items, size_t min_items)
{
	size_t fit = min_items ? items / min_items : items;
	unsigned active = fit < w->threads ? (unsigned)(fit ? fit : 1) : w->threads;
	size_t begin, end;
	unsigned spins = 0;

	++w->runs;
	if (active == 1) {
		if (items)
			fn(arg, 0, 0, items);
		return;
	}
	++w->shared_runs;
	w->fn = fn;
	w->arg = arg;
	w->items = items;
	atomic_store(&w->pending, active - 1);
	/* publishes the fields above */
	atomic_store(&w->generation, ((atomic_load(&w->generation) >> 8) + 1) << 8 | active);
	if (atomic_load(&w->sleepers))
		wake_all(w);
	slice(items, active, 0, &begin, &end);
	fn(arg, 0, begin, end);
	while (atomic_load(&w->pending))
		if (++spins % 256 == 0)
			sched_yield(); /* a helper may be waiting for this CPU */
}

bool workers_count_parse(const char *value, unsigned *threads)
{
	uint64_t n;

	if (!value || !strcmp(value, "auto")) {
		/* one CPU is left to the kernel's network stack and the services behind */
		long spare = sysconf(_SC_NPROCESSORS_ONLN) - 1;

		*threads = spare < 1 ? 1 : spare > WORKERS_MAX ? WORKERS_MAX : (unsigned)spare;
		return true;
	}
	if (!parse_uint(value, WORKERS_MAX, false, &n) || n < 1)
		return false;
	*threads = (unsigned)n;
	return true;
}
