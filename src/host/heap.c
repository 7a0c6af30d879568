// SPDX-License-Identifier: MIT
/* Huge pages for the daemon's heap: see heap.h. */
#include "host/heap.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define TUNABLE "glibc.malloc.hugetlb"
/* Set across the re-exec: what GLIBC_TUNABLES was, for hooks to inherit. */
#define WAS "WGATE_GLIBC_TUNABLES_WAS"

static void restore(const char *was)
{
	if (was && *was)
		setenv("GLIBC_TUNABLES", was, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}

void heap_prefer_huge_pages(char **argv)
{
	const char *now = getenv("GLIBC_TUNABLES"), *off = getenv("WGATE_HUGEPAGES");
	const char *was = getenv(WAS);
	char value[1024];
	int n;

	if (was) { /* re-executed: glibc has read it; hooks get the operator's own */
		const char *name = strrchr(argv[0], '/');

		/* the process keeps the name it was started with, not "exe" */
		prctl(PR_SET_NAME, name ? name + 1 : argv[0], 0, 0, 0);
		restore(was);
		unsetenv(WAS);
		return;
	}
	if ((off && !strcmp(off, "off")) || (now && strstr(now, TUNABLE)))
		return;
	n = snprintf(value, sizeof(value), "%s%s" TUNABLE "=1", now ? now : "",
		     now && *now ? ":" : "");
	if (n < 0 || (size_t)n >= sizeof(value) || setenv(WAS, now ? now : "", 1))
		return;
	if (!setenv("GLIBC_TUNABLES", value, 1))
		execv("/proc/self/exe", argv);
	/* not re-executed: carry on as started */
	restore(now);
	unsetenv(WAS);
}

void heap_keep_freed(void)
{
	mallopt(M_TRIM_THRESHOLD, -1); /* the heap is never trimmed */
}

void heap_keep_large_blocks(void)
{
	/* no block is mapped apart (a thread's arena that cannot give one retries the main one) */
	mallopt(M_MMAP_MAX, 0);
}
