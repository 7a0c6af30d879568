// SPDX-License-Identifier: MIT
/* Anti-replay: RFC 6479's sliding bitmap, with whole words cleared as it slides. */
#include "core/replay.h"

#include <string.h>

#include "core/messages.h"

enum { WORDS = REPLAY_BITS_TOTAL / REPLAY_WORD_BITS };

void replay_init(struct replay_counter *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_check(struct replay_counter *r, uint64_t counter)
{
	uint64_t n, word, bit;

	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	n = counter + 1; /* so that counter 0 is distinct from "nothing yet" */
	if (n + REPLAY_WINDOW_SIZE < r->greatest)
		return false; /* behind the window */
	word = n / REPLAY_WORD_BITS;
	if (n > r->greatest) {
		uint64_t current = r->greatest / REPLAY_WORD_BITS, steps = word - current;

		if (steps > WORDS)
			steps = WORDS;
		for (uint64_t i = 1; i <= steps; ++i)
			r->bitmap[(current + i) % WORDS] = 0;
		r->greatest = n;
	}
	bit = 1ull << (n % REPLAY_WORD_BITS);
	word %= WORDS;
	if (r->bitmap[word] & bit)
		return false;
	r->bitmap[word] |= bit;
	return true;
}
