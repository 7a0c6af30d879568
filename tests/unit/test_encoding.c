// SPDX-License-Identifier: MIT
/* Key encodings: against a naive table-driven reference, and strictness. */
#include "testutil.h"

#include <openssl/evp.h>
#include <stdio.h>

#include "core/crypto.h"
#include "core/encoding.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void naive_base64(char out[45], const uint8_t key[32])
{
	uint8_t padded[33] = {0};
	int o = 0;

	memcpy(padded, key, 32);
	for (int i = 0; i < 33; i += 3) {
		uint32_t v =
		    (uint32_t)padded[i] << 16 | (uint32_t)padded[i + 1] << 8 | padded[i + 2];

		for (int j = 0; j < 4; ++j)
			out[o++] = alphabet[(v >> (18 - 6 * j)) & 63];
	}
	out[43] = '=';
	out[44] = 0;
}

static void random_keys_match_reference(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int n = 0; n < 20000; ++n) {
		uint8_t key[32], back[32];
		char got[45], want[45], hex[65], want_hex[65];

		for (int i = 0; i < 32; ++i)
			key[i] = (uint8_t)test_rand(&seed);
		key_to_base64(got, key);
		naive_base64(want, key);
		assert_string_equal(got, want);
		assert_true(key_from_base64(back, got));
		assert_memory_equal(back, key, 32);

		key_to_hex(hex, key);
		for (int i = 0; i < 32; ++i)
			snprintf(want_hex + 2 * i, 3, "%02x", key[i]);
		assert_string_equal(hex, want_hex);
		assert_true(key_from_hex(back, hex));
		assert_memory_equal(back, key, 32);
	}
}

static void every_character_value(void **state)
{
	/* Each alphabet character in each position decodes to its index. */
	(void)state;
	for (int c = 0; c < 64; ++c) {
		char text[45];
		uint8_t key[32];
		char again[45];

		memset(text, 'A', 44);
		text[44] = 0;
		text[43] = '=';
		text[c % 40] = alphabet[c];
		assert_true(key_from_base64(key, text));
		key_to_base64(again, key);
		assert_string_equal(again, text);
	}
}

static void base64_edges(void **state)
{
	uint8_t key[32];
	char text[45];

	(void)state;
	memset(key, 0, 32);
	key_to_base64(text, key);
	assert_string_equal(text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	memset(key, 0xff, 32);
	key_to_base64(text, key);
	assert_string_equal(text, "//////////////////////////////////////////8=");
}

static void base64_rejects(void **state)
{
	static const char *bad[] = {
	    "",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 43: no padding */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 45 */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* 44 without '=' */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",  /* non-canonical: spare bits set */
	    "//////////////////////////////////////////9=",  /* non-canonical */
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",  /* '=' too early */
	    "AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA=",  /* space */
	    "AAAAAAAAAAAAAAAAAAAA-AAAAAAAAAAAAAAAAAAAAAA=",  /* url-safe alphabet */
	    "AAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAA=",
	};
	uint8_t key[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
		assert_false(key_from_base64(key, bad[i]));
	/* every byte value that is not in the alphabet, at every position */
	for (int c = 1; c < 256; ++c) {
		if (strchr(alphabet, c))
			continue;
		for (int pos = 0; pos < 43; ++pos) {
			char text[45] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

			text[pos] = (char)c;
			assert_false(key_from_base64(key, text));
		}
	}
}

/* Any length against OpenSSL's encoder, and back; padding and alphabet enforced. */
static void any_length_base64(void **state)
{
	uint8_t in[100], back[100];
	char text[140], want[140];
	size_t len;

	(void)state;
	for (size_t n = 0; n <= sizeof(in); ++n) {
		assert_true(crypto_random(in, n ? n : 1));
		base64_encode(text, in, n);
		EVP_EncodeBlock((unsigned char *)want, in, (int)n);
		assert_string_equal(text, want);
		assert_true(base64_decode(back, &len, text, strlen(text)));
		assert_int_equal(len, n);
		assert_memory_equal(back, in, n);
	}
	assert_false(base64_decode(back, &len, "abc", 3));  /* not a multiple of 4 */
	assert_false(base64_decode(back, &len, "ab=c", 4)); /* padding inside */
	assert_false(base64_decode(back, &len, "ab*c", 4)); /* outside the alphabet */
	assert_true(base64_decode(back, &len, "", 0));
	assert_int_equal(len, 0);
}

static void hex_rules(void **state)
{
	uint8_t key[32];
	char upper[65];

	(void)state;
	memset(upper, 'F', 64);
	upper[64] = 0;
	assert_true(key_from_hex(key, upper));
	for (int i = 0; i < 32; ++i)
		assert_int_equal(key[i], 0xff);
	assert_false(key_from_hex(key, "00"));
	for (int c = 1; c < 256; ++c) {
		char text[65];

		if (strchr("0123456789abcdefABCDEF", c))
			continue;
		memset(text, '0', 64);
		text[64] = 0;
		text[c % 64] = (char)c;
		assert_false(key_from_hex(key, text));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_keys_match_reference),
	    cmocka_unit_test(every_character_value),
	    cmocka_unit_test(base64_edges),
	    cmocka_unit_test(base64_rejects),
	    cmocka_unit_test(hex_rules),
	    cmocka_unit_test(any_length_base64),
	};
	return cmocka_run_group_tests_name("encoding", tests, NULL, NULL);
}
