// SPDX-License-Identifier: MIT
#include "host/clock.h"

#include <stdio.h>
#include <time.h>

#include "core/messages.h"

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void run_file_path(char *out, size_t len, const char *ifname, const char *suffix)
{
	snprintf(out, len, WGATE_RUN_DIR "/%s.%s", ifname, suffix);
}
