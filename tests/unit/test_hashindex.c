// SPDX-License-Identifier: MIT
/* The hash index against a naive model: a linear search of the same items. */
#include "testutil.h"

#include "core/hashindex.h"

enum { MAX_ITEMS = 6000, MAX_KEY = 40 };

static uint8_t keys[MAX_ITEMS][MAX_KEY];

static const void *key_at(const void *items, size_t pos)
{
	return (const uint8_t(*)[MAX_KEY])items + pos;
}

/* The first position before `upto' whose key equals key, or HASH_INDEX_NONE. */
static size_t model_find(size_t upto, const uint8_t *key, size_t key_len)
{
	for (size_t i = 0; i < upto; ++i)
		if (!memcmp(keys[i], key, key_len))
			return i;
	return HASH_INDEX_NONE;
}

/*
 * Keys of several lengths (under a word, whole words, a word and a bit),
 * drawn from a small alphabet so that repeats are common, added to an index
 * sized far too small (it grows many times): every add and every find,
 * present or absent, answers as the model does.
 */
static void random_against_model(void **state)
{
	static const size_t lengths[] = {1, 4, 8, 24, 32, 33, 40};
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); ++l) {
		size_t key_len = lengths[l], n = 0;
		struct hash_index h;

		assert_true(hash_index_init(&h, 1, key_len, key_at, keys));
		for (size_t step = 0; step < MAX_ITEMS; ++step) {
			uint8_t probe[MAX_KEY];
			size_t found, want;

			for (size_t i = 0; i < key_len; ++i) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				/* one byte in four varies: short keys repeat, long ones rarely */
				keys[n][i] = (uint8_t)((i % 4 == 0) ? rng % 11 : 7);
				probe[i] = (uint8_t)((i % 4 == 0) ? (rng >> 8) % 13 : 7);
			}
			want = model_find(n, keys[n], key_len);
			assert_true(hash_index_add(&h, n, &found));
			assert_int_equal(found, want);
			if (want == HASH_INDEX_NONE)
				++n; /* kept: the next key goes after it */
			assert_int_equal(hash_index_find(&h, probe), model_find(n, probe, key_len));
			assert_int_equal(h.count, n);
		}
		for (size_t i = 0; i < n; ++i)
			assert_int_equal(hash_index_find(&h, keys[i]), i);
		/* near anywhere (the key's own place, next to it, far): the same answers */
		for (size_t i = 0; i < n; ++i) {
			size_t near = (i * 7919 + (i % 3 ? 0 : 1)) % n;
			uint8_t other[MAX_KEY];

			memcpy(other, keys[i], key_len);
			other[key_len - 1] ^= 0x5a; /* mostly absent */
			assert_int_equal(hash_index_find_near(&h, keys[i], i), i);
			assert_int_equal(hash_index_find_near(&h, keys[i], near), i);
			assert_int_equal(hash_index_find_near(&h, other, near),
					 model_find(n, other, key_len));
		}
		hash_index_free(&h);
	}
}

/* An empty or freed index finds nothing. */
static void empty(void **state)
{
	struct hash_index h;
	uint8_t key[32] = {0};

	(void)state;
	assert_true(hash_index_init(&h, 0, sizeof(key), key_at, keys));
	assert_int_equal(hash_index_find(&h, key), HASH_INDEX_NONE);
	assert_int_equal(hash_index_find_near(&h, key, 0), HASH_INDEX_NONE);
	hash_index_free(&h);
	assert_int_equal(hash_index_find(&h, key), HASH_INDEX_NONE);
	assert_int_equal(hash_index_find_near(&h, key, 0), HASH_INDEX_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_against_model),
	    cmocka_unit_test(empty),
	};
	return cmocka_run_group_tests_name("hashindex", tests, NULL, NULL);
}
