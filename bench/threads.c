// SPDX-License-Identifier: MIT
/*
 * Sealing with the data path's threads, in-process: batches of 64 packets of
 * 1424 bytes (what one TUN read of 64 KiB turns into) split over 1 to N
 * threads, each with its own cipher context, as datapath.c splits a flush.
 * Shows how the crypto scales where CPUs are free, apart from the network.
 *
 *   bench-threads [SECONDS] [MAX_THREADS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "host/datapath.h"
#include "host/workers.h"

enum { BATCH = 64, PAYLOAD = 1424 };

struct run {
	struct aead_ctx ctx[WORKERS_MAX];
	struct aead_key key;
	uint8_t buf[BATCH][PAYLOAD + CRYPTO_AEAD_TAG_LEN];
	uint64_t counter;
	bool failed;
};

static void seal_slice(void *arg, unsigned thread, size_t begin, size_t end)
{
	struct run *r = arg;

	for (size_t i = begin; i < end; ++i) {
		uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

		aead_counter_nonce(nonce, r->counter + i);
		if (!aead_seal(&r->ctx[thread], &r->key, nonce, r->buf[i], r->buf[i], PAYLOAD, NULL,
			       0))
			r->failed = true;
	}
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned max = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)(cpus < 1 ? 1 : cpus);
	static struct run r;
	uint8_t raw[CRYPTO_KEY_LEN];

	if (max < 1 || max > WORKERS_MAX || !crypto_init() || !crypto_random(raw, sizeof(raw))) {
		fprintf(stderr, "bench-threads: setup failed\n");
		return 1;
	}
	aead_key_set(&r.key, raw);
	for (unsigned i = 0; i < max; ++i)
		if (!aead_ctx_init(&r.ctx[i]))
			return 1;
	for (unsigned threads = 1; threads <= max; ++threads) {
		struct workers w;
		unsigned long batches = 0;
		double start, elapsed;

		if (!workers_init(&w, threads))
			return 1;
		start = seconds_now();
		do {
			workers_run(&w, seal_slice, &r, BATCH, DATAPATH_MIN_PER_THREAD);
			r.counter += BATCH;
			++batches;
		} while ((elapsed = seconds_now() - start) < seconds);
		workers_free(&w);
		if (r.failed)
			return 1;
		printf("threads %u packets_per_second %.0f gbit_per_second %.2f\n", threads,
		       batches * BATCH / elapsed, batches * BATCH * PAYLOAD * 8 / elapsed / 1e9);
	}
	return 0;
}
