// SPDX-License-Identifier: MIT
/* The fork-join pool: every item once, slices in thread order, many runs. */
#include "testutil.h"

#include <string.h>
#include <unistd.h>

#include "host/workers.h"

enum { MAX_ITEMS = 300 };

struct record {
	unsigned thread[MAX_ITEMS];
	unsigned times[MAX_ITEMS];
	size_t first[WORKERS_MAX], count[WORKERS_MAX];
};

static void note(void *arg, unsigned thread, size_t begin, size_t end)
{
	struct record *r = arg;

	r->first[thread] = begin;
	r->count[thread] = end - begin;
	for (size_t i = begin; i < end; ++i) {
		r->thread[i] = thread;
		++r->times[i];
	}
}

static void check_run(struct workers *w, size_t items, size_t min_items)
{
	static struct record r;
	unsigned used = 0;

	memset(&r, 0, sizeof(r));
	workers_run(w, note, &r, items, min_items);
	for (size_t i = 0; i < items; ++i) {
		assert_int_equal(r.times[i], 1);
		assert_true(r.thread[i] < w->threads);
		if (i)
			assert_true(r.thread[i] >= r.thread[i - 1]); /* contiguous, in order */
	}
	for (unsigned t = 0; t < w->threads; ++t)
		used += r.count[t] > 0;
	if (used > 1)
		for (unsigned t = 0; t < used; ++t)
			assert_true(r.count[t] >= min_items);
	if (items && min_items && items / min_items >= w->threads)
		assert_int_equal(used, w->threads); /* enough work: everyone helps */
	if (items < 2 * min_items)
		assert_true(used <= 1); /* too little: nobody is woken */
}

static void every_item_once(void **state)
{
	(void)state;
	for (unsigned threads = 1; threads <= 4; ++threads) {
		struct workers w;

		assert_true(workers_init(&w, threads));
		assert_int_equal(w.threads, threads);
		for (size_t items = 0; items <= MAX_ITEMS; items += 7)
			for (size_t min_items = 0; min_items <= 16; min_items += 4)
				check_run(&w, items, min_items);
		/* back-to-back runs: no helper may miss one or run one twice */
		for (int i = 0; i < 2000; ++i)
			check_run(&w, 64 + (size_t)i % 50, 8);
		if (threads > 1)
			assert_true(w.shared_runs > 0);
		workers_free(&w);
	}
}

static void bad_counts(void **state)
{
	struct workers w;
	unsigned n;

	(void)state;
	assert_false(workers_init(&w, 0));
	assert_false(workers_init(&w, WORKERS_MAX + 1));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = cpus <= 2 ? 1 : cpus - 1 > WORKERS_MAX ? WORKERS_MAX : (unsigned)(cpus - 1);

	assert_true(workers_count_parse(NULL, &n));
	assert_int_equal(n, want);
	assert_true(workers_count_parse("auto", &n));
	assert_int_equal(n, want);
	assert_true(workers_count_parse("1", &n));
	assert_int_equal(n, 1);
	assert_true(workers_count_parse("16", &n));
	assert_int_equal(n, 16);
	static const char *const bad[] = {"0", "17", "-1", " 2", "2 ", "x", "", "0x2", "1.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
		assert_false(workers_count_parse(bad[i], &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_item_once),
	    cmocka_unit_test(bad_counts),
	};
	return cmocka_run_group_tests_name("workers", tests, NULL, NULL);
}
