/* SPDX-License-Identifier: MIT */
#ifndef WGATE_HEAP_H
#define WGATE_HEAP_H

/*
 * Has the daemon's heap backed by transparent huge pages where the kernel
 * allows it (madvise mode): a peer set of 100k peers is ~100 MiB touched once,
 * and 2 MiB pages make that first touch several times cheaper. glibc reads the
 * choice only at start, so this re-executes the program once with
 * glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES; an operator's own setting of
 * that tunable is kept, and WGATE_HUGEPAGES=off skips it. Returns only when
 * nothing was done (or the re-exec failed, which changes nothing).
 */
void heap_prefer_huge_pages(char **argv);
/*
 * Has freed memory stay in the heap instead of going back to the kernel: a
 * reload of 100k peers allocates again what the last one freed, and memory
 * returned would come back as fresh pages the kernel zeroes first (a third of
 * such a reload). The daemon stays at its peak size.
 */
void heap_keep_freed(void);
/*
 * Has large blocks (over 128 KiB) come from the heap too, so they are kept
 * as well: a reload's arrays of tens of MB. Only once the data path's
 * buffers are allocated: in the heap, among everything else, they cost it
 * throughput (measured: 7% of a TCP stream).
 */
void heap_keep_large_blocks(void);

#endif
