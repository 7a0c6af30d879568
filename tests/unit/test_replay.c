// SPDX-License-Identifier: MIT
/* The replay window: the kernel self-test's sequence, and a naive model. */
#include "testutil.h"

#include "core/messages.h"
#include "core/replay.h"

/* A hand-worked sequence: in order, behind, replayed, and sliding the window. */
static void sequence(void **state)
{
	struct replay_counter r;
	const uint64_t W = REPLAY_WINDOW_SIZE;
	static struct {
		uint64_t counter;
		bool ok;
	} steps[] = {
	    {0, true},	       {1, true},     {1, false},     {9, true},     {8, true},
	    {7, true},	       {7, false},    {W, true},      {W + 1, true}, {W, false},
	    {W + 1, false},    {1, false},    {2, true}, /* still inside the window */
	    {2 * W, true},				 /* slides the window */
	    {W + 1, false}, /* now 2W - (W+1) = W-1 behind, but already seen */
	    {W + 2, true},  /* W-2 behind, never seen */
	    {W - 1, false}, /* behind the window */
	    {2 * W + 1, true}, {W + 3, true}, {W + 2, false},
	};
	(void)state;
	replay_init(&r);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); ++i) {
		if (replay_check(&r, steps[i].counter) != steps[i].ok) {
			print_error("step %zu: counter %llu\n", i,
				    (unsigned long long)steps[i].counter);
			fail();
		}
	}
}

static void limits(void **state)
{
	struct replay_counter r;

	(void)state;
	replay_init(&r);
	assert_false(replay_check(&r, REJECT_AFTER_MESSAGES));
	assert_false(replay_check(&r, UINT64_MAX));
	assert_true(replay_check(&r, REJECT_AFTER_MESSAGES - 1));
	assert_false(replay_check(&r, REJECT_AFTER_MESSAGES - 1));
	assert_true(replay_check(&r, REJECT_AFTER_MESSAGES - 2));
	assert_false(replay_check(&r, 0));
	/* a huge jump clears the whole ring */
	replay_init(&r);
	for (uint64_t c = 0; c < 10000; ++c)
		assert_true(replay_check(&r, c));
	assert_true(replay_check(&r, 1000000));
	assert_true(replay_check(&r, 1000000 - REPLAY_WINDOW_SIZE + 1));
	assert_false(replay_check(&r, 1000000 - REPLAY_WINDOW_SIZE - 1));
}

/* Against a model that remembers every counter: accept iff unseen and within the window. */
static void random_against_model(void **state)
{
	uint64_t seed = 12345;
	static uint8_t seen[1 << 20];
	(void)state;

	for (int round = 0; round < 20; ++round) {
		struct replay_counter r;
		uint64_t greatest = 0; /* model: greatest accepted + 1 */

		replay_init(&r);
		memset(seen, 0, sizeof(seen));
		for (int i = 0; i < 50000; ++i) {
			uint64_t base = greatest, c;
			uint64_t roll = test_rand(&seed) % 100;

			if (roll < 60) /* near the front */
				c = base + test_rand(&seed) % 64;
			else if (roll < 90) /* somewhere around the window's edge */
				c = base > 9000 ? base - 9000 + test_rand(&seed) % 9100
						: test_rand(&seed) % 9100;
			else /* a jump ahead */
				c = base + test_rand(&seed) % 20000;
			if (c >= sizeof(seen))
				c %= sizeof(seen);
			bool want = !seen[c] && c + 1 + REPLAY_WINDOW_SIZE >= greatest;
			bool got = replay_check(&r, c);

			if (got != want) {
				print_error("round %d step %d counter %llu greatest %llu: got %d\n",
					    round, i, (unsigned long long)c,
					    (unsigned long long)greatest, got);
				fail();
			}
			if (got) {
				seen[c] = 1;
				if (c + 1 > greatest)
					greatest = c + 1;
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sequence),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(random_against_model),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
