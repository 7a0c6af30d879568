/* SPDX-License-Identifier: MIT */
/*
 * The receive counter's anti-replay window (RFC 6479 style): a ring of 8192
 * bits of which 8128 are the window; counters are checked only after the
 * packet has authenticated.
 */
#ifndef WGATE_REPLAY_H
#define WGATE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	REPLAY_BITS_TOTAL = 8192,
	REPLAY_WORD_BITS = 64,
	REPLAY_WINDOW_SIZE = REPLAY_BITS_TOTAL - REPLAY_WORD_BITS, /* 8128 */
};

struct replay_counter {
	uint64_t greatest; /* one more than the greatest counter accepted; 0 before any */
	uint64_t bitmap[REPLAY_BITS_TOTAL / REPLAY_WORD_BITS];
};

void replay_init(struct replay_counter *r);
/* Accepts and records counter, or refuses a replay, a counter behind the window, or a counter past
 * the limit. */
bool replay_check(struct replay_counter *r, uint64_t counter) __attribute__((warn_unused_result));

#endif
