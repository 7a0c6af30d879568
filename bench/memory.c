// SPDX-License-Identifier: MIT
/*
 * What fresh memory costs on this machine, for bench/reload's first add
 * (which grows both daemons by ~250 MB): MIB MiB faulted in (2 MiB pages
 * where the kernel allows, as the daemon's heap), unmapped, and faulted in
 * again, which the kernel serves from the pages just freed. In a virtual
 * machine the first can be many times the second: a page the guest never
 * used is faulted in by the host as well.
 *
 *   bench-memory [MIB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, size = mib << 20;
	static const char *const what[] = {"fresh", "again"};

	if (!mib || mib > 65536) {
		fprintf(stderr, "usage: bench-memory [MIB: 1 to 65536]\n");
		return 2;
	}
	printf("memory: %zu MiB faulted in:", mib);
	for (int round = 0; round < 2; ++round) {
		volatile char *p =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t;

		if (p == MAP_FAILED) {
			perror("bench-memory: mmap");
			return 1;
		}
		madvise((void *)p, size, MADV_HUGEPAGE);
		t = ms_now();
		for (size_t at = 0; at < size; at += 4096)
			p[at] = 1;
		printf(" %s %.0f ms%s", what[round], ms_now() - t, round ? "\n" : ",");
		munmap((void *)p, size);
	}
	return 0;
}
