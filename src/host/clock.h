/* SPDX-License-Identifier: MIT */
/* The daemon's clock and the files it keeps under /run/wgate. */
#ifndef WGATE_CLOCK_H
#define WGATE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds of CLOCK_BOOTTIME: it keeps counting through suspend, as the protocol's timers must.
 */
uint64_t monotonic_ns(void);

/*
 * WGATE_RUN_DIR/IFNAME.SUFFIX: the pid file of `wgate up' ("pid": the pid,
 * then the config's path) and the last reload's report ("reload").
 */
#define WGATE_RUN_DIR "/run/wgate"
void run_file_path(char *out, size_t len, const char *ifname, const char *suffix);

#endif
