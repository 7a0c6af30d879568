// SPDX-License-Identifier: MIT
/* The primitives against their published vectors, and tamper tests. */
#include "testutil.h"

#include "core/crypto.h"

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				"only one tip for the future, sunscreen would be it.";

/* RFC 7748 section 5.2: two single multiplications. */
static void x25519_rfc7748_5_2(void **state)
{
	static const struct {
		const char *scalar, *point, *out;
	} vectors[] = {
	    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
	    /* the point has its top bit set, which X25519 must ignore */
	    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
		uint8_t k[32], u[32], out[32];

		unhex(k, vectors[i].scalar);
		unhex(u, vectors[i].point);
		assert_true(x25519(out, k, u));
		assert_hex_equal(out, vectors[i].out);
	}
}

/* RFC 7748 section 5.2: k = u = 9, then k, u = X25519(k, u), k; after 1 and 1000 rounds. */
static void x25519_rfc7748_iterated(void **state)
{
	uint8_t k[32] = {9}, u[32] = {9}, out[32];

	(void)state;
	for (int i = 1; i <= 1000; ++i) {
		assert_true(x25519(out, k, u));
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			assert_hex_equal(
			    k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	}
	assert_hex_equal(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

/* RFC 7748 section 6.1: Alice and Bob. */
static void x25519_rfc7748_6_1(void **state)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], s1[32], s2[32];

	(void)state;
	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_true(x25519_public(a_pub, a));
	assert_true(x25519_public(b_pub, b));
	assert_hex_equal(a_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_hex_equal(b_pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_true(x25519(s1, a, b_pub));
	assert_true(x25519(s2, b, a_pub));
	assert_hex_equal(s1, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(s1, s2, 32);
}

/* Low-order points give an all-zero secret, which WireGuard must refuse. */
static void x25519_rejects_zero_result(void **state)
{
	static const char *low_order[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t k[32], u[32], out[32];

	(void)state;
	assert_true(x25519_generate(k));
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); ++i) {
		unhex(u, low_order[i]);
		memset(out, 0xaa, sizeof(out));
		assert_false(x25519(out, k, u));
	}
}

static void x25519_generate_clamps(void **state)
{
	(void)state;
	for (int i = 0; i < 64; ++i) {
		uint8_t k[32];

		assert_true(x25519_generate(k));
		assert_int_equal(k[0] & 7, 0);
		assert_int_equal(k[31] & 0xc0, 0x40);
	}
}

/* A loaded key gives the same results as the one-shot forms. */
static void x25519_key_matches_one_shot(void **state)
{
	uint8_t priv[32], peer[32], peer_pub[32], pub1[32], pub2[32], s1[32], s2[32];
	struct x25519_key *key;

	(void)state;
	assert_true(x25519_generate(priv));
	assert_true(x25519_generate(peer));
	assert_true(x25519_public(peer_pub, peer));
	key = x25519_key_new(priv);
	assert_non_null(key);
	assert_true(x25519_key_public(key, pub1));
	assert_true(x25519_public(pub2, priv));
	assert_memory_equal(pub1, pub2, 32);
	assert_true(x25519_key_shared(key, s1, peer_pub));
	assert_true(x25519_key_shared(key, s2, peer_pub));
	assert_memory_equal(s1, s2, 32);
	assert_true(x25519(s2, priv, peer_pub));
	assert_memory_equal(s1, s2, 32);
	x25519_key_free(key);
}

/* RFC 7693 appendix B: BLAKE2s-256("abc"); and the hash of a split input. */
static void blake2s_rfc7693(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_true(blake2s256(out, "abc", 3, NULL, 0));
	assert_hex_equal(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	assert_true(blake2s256(out, "a", 1, "bc", 2));
	assert_hex_equal(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

/* The BLAKE2 reference KAT (blake2s-kat.txt): key 00..1f, inputs "" and 00, 256-bit output. */
static void blake2s_keyed_kat(void **state)
{
	uint8_t key[32], in[64], out[32];

	(void)state;
	for (int i = 0; i < 64; ++i)
		in[i] = (uint8_t)i;
	for (int i = 0; i < 32; ++i)
		key[i] = (uint8_t)i;
	assert_true(blake2s256_keyed(out, key, 32, in, 0));
	assert_hex_equal(out, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
	assert_true(blake2s256_keyed(out, key, 32, in, 1));
	assert_hex_equal(out, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1");
	assert_true(blake2s256_keyed(out, key, 32, in, 64));
	assert_hex_equal(out, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4");
}

/*
 * The 128-bit keyed form (WireGuard's MAC) is a different parameter block,
 * not a truncation; expected values from the BLAKE2 reference code as
 * shipped in CPython's hashlib (blake2s(digest_size=16, key=...)).
 */
static void blake2s_keyed_128(void **state)
{
	uint8_t key[32], in[100], out[16], full[32];

	(void)state;
	for (int i = 0; i < 100; ++i)
		in[i] = (uint8_t)i;
	for (int i = 0; i < 32; ++i)
		key[i] = (uint8_t)i;
	assert_true(blake2s128_keyed(out, key, 32, "abc", 3));
	assert_hex_equal(out, "61ba5f165c194692e09d12520cc4c74a");
	assert_true(blake2s256_keyed(full, key, 32, "abc", 3));
	assert_memory_not_equal(out, full, 16);
	assert_true(blake2s128_keyed(out, key, 16, in, 100));
	assert_hex_equal(out, "56301549e674c3b72a0e1dafb7a2c620");
}

/* HMAC-BLAKE2s and the KDF chain, against CPython's hmac over hashlib.blake2s. */
static void hmac_and_kdf(void **state)
{
	uint8_t key[100], out[32], t1[32], t2[32], t3[32], again[32];

	(void)state;
	for (int i = 0; i < 100; ++i)
		key[i] = (uint8_t)i;
	assert_true(hmac_blake2s(out, key, 32, "WireGuard", 9));
	assert_hex_equal(out, "5415924543576b3f5ee867c94e1aab70586d33b32fae3fccd2c635b3e1d7198d");
	/* a key longer than the 64-byte block is hashed first */
	assert_true(hmac_blake2s(out, key, 100, "x", 1));
	assert_hex_equal(out, "7c5a4a1c1150b1eadcba56974986fd860c4aca9cd69fa0c65c9f67dadad9883a");

	assert_true(wg_kdf(t1, t2, t3, key, "input", 5));
	assert_hex_equal(t1, "87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040");
	assert_hex_equal(t2, "538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824");
	assert_hex_equal(t3, "9ad858025593be88de0f9442a589cfe84a88dc19e4753d93684d1c5efc4837f9");
	/* KDF1 and KDF2 are prefixes of KDF3 */
	assert_true(wg_kdf(again, NULL, NULL, key, "input", 5));
	assert_memory_equal(again, t1, 32);
	assert_true(wg_kdf(again, t3, NULL, key, "input", 5));
	assert_memory_equal(t3, t2, 32);
}

/* RFC 8439 section 2.8.2. */
static void aead_rfc8439(void **state)
{
	uint8_t key[32], nonce[12], ad[12], ct[sizeof(sunscreen) + 16], pt[sizeof(sunscreen) + 16];
	const size_t len = sizeof(sunscreen) - 1;
	struct aead_ctx aead;
	struct aead_key k;

	(void)state;
	unhex(key, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	unhex(nonce, "070000004041424344454647");
	unhex(ad, "50515253c0c1c2c3c4c5c6c7");
	aead_key_set(&k, key);
	assert_true(aead_ctx_init(&aead));
	assert_true(
	    aead_seal(&aead, &k, nonce, ct, (const uint8_t *)sunscreen, len, ad, sizeof(ad)));
	assert_hex_equal(ct, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			     "3ff4def08e4b7a9de576d26586cec64b6116");
	assert_hex_equal(ct + len, "1ae10b594f09e26a7e902ecbd0600691");
	assert_true(aead_open(&aead, &k, nonce, pt, ct, len, ad, sizeof(ad)));
	assert_memory_equal(pt, sunscreen, len);
	/* the same context again, after other use, gives the same answer */
	assert_true(aead_seal(&aead, &k, nonce, pt, pt, len, NULL, 0));
	assert_true(
	    aead_seal(&aead, &k, nonce, ct, (const uint8_t *)sunscreen, len, ad, sizeof(ad)));
	assert_hex_equal(ct + len, "1ae10b594f09e26a7e902ecbd0600691");
	/* a released key is loaded again when next used */
	aead_ctx_release(&aead, &k);
	assert_true(
	    aead_seal(&aead, &k, nonce, ct, (const uint8_t *)sunscreen, len, ad, sizeof(ad)));
	assert_hex_equal(ct + len, "1ae10b594f09e26a7e902ecbd0600691");
	aead_ctx_free(&aead);
}

/* Flipping any bit of ciphertext, tag or associated data must make open fail. */
static void aead_tamper(void **state)
{
	uint8_t key[32], msg[64], sealed[64 + 16], out[64], ad[8] = "header!";

	(void)state;
	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(msg, sizeof(msg)));
	assert_true(aead_seal_once(key, 7, sealed, msg, sizeof(msg), ad, sizeof(ad)));
	assert_true(aead_open_once(key, 7, out, sealed, sizeof(msg), ad, sizeof(ad)));
	assert_memory_equal(out, msg, sizeof(msg));
	for (size_t i = 0; i < sizeof(sealed); ++i) {
		for (int bit = 0; bit < 8; ++bit) {
			sealed[i] ^= (uint8_t)(1 << bit);
			assert_false(
			    aead_open_once(key, 7, out, sealed, sizeof(msg), ad, sizeof(ad)));
			sealed[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (size_t i = 0; i < sizeof(ad); ++i) {
		ad[i] ^= 1;
		assert_false(aead_open_once(key, 7, out, sealed, sizeof(msg), ad, sizeof(ad)));
		ad[i] ^= 1;
	}
	assert_false(aead_open_once(key, 8, out, sealed, sizeof(msg), ad, sizeof(ad)));
	key[0] ^= 1;
	assert_false(aead_open_once(key, 7, out, sealed, sizeof(msg), ad, sizeof(ad)));
}

/* Sealing in place, as the data path does, and empty plaintexts (keepalives). */
static void aead_in_place_and_empty(void **state)
{
	uint8_t key[32], buf[32 + 16], copy[32], tag_only[16];
	struct aead_ctx aead;
	struct aead_key k;
	uint8_t nonce[12];

	(void)state;
	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(buf, 32));
	memcpy(copy, buf, 32);
	aead_key_set(&k, key);
	assert_true(aead_ctx_init(&aead));
	aead_counter_nonce(nonce, 0x0102030405060708ull);
	assert_hex_equal(nonce, "000000000807060504030201");
	assert_true(aead_seal(&aead, &k, nonce, buf, buf, 32, NULL, 0));
	assert_memory_not_equal(buf, copy, 32);
	assert_true(aead_open(&aead, &k, nonce, buf, buf, 32, NULL, 0));
	assert_memory_equal(buf, copy, 32);
	assert_true(aead_seal(&aead, &k, nonce, tag_only, NULL, 0, NULL, 0));
	assert_true(aead_open(&aead, &k, nonce, NULL, tag_only, 0, NULL, 0));
	tag_only[3] ^= 0x10;
	assert_false(aead_open(&aead, &k, nonce, NULL, tag_only, 0, NULL, 0));
	aead_ctx_free(&aead);
}

/*
 * One context serving many keys, in a random order, as a data path thread
 * does: every seal and open must match a context made for that key alone
 * (aead_seal_once), and a tag made under one key must not open under another.
 */
static void aead_context_switches_keys(void **state)
{
	enum { KEYS = 5, ROUNDS = 400 };
	uint8_t raw[KEYS][32], msg[300], sealed[300 + 16], want[300 + 16], out[300];
	struct aead_key keys[KEYS];
	struct aead_ctx ctx;
	uint8_t nonce[12];
	uint32_t pick;

	(void)state;
	assert_true(aead_ctx_init(&ctx));
	for (int i = 0; i < KEYS; ++i) {
		assert_true(crypto_random(raw[i], 32));
		aead_key_set(&keys[i], raw[i]);
		assert_int_not_equal(keys[i].id, 0);
		if (i)
			assert_int_not_equal(keys[i].id, keys[i - 1].id);
	}
	for (int round = 0; round < ROUNDS; ++round) {
		size_t len;
		int k, other;

		assert_true(crypto_random(&pick, sizeof(pick)));
		k = (int)(pick % KEYS);
		other = (k + 1 + (int)(pick >> 8) % (KEYS - 1)) % KEYS;
		len = (pick >> 16) % sizeof(msg);
		assert_true(crypto_random(msg, len));
		aead_counter_nonce(nonce, (uint64_t)round);
		assert_true(aead_seal(&ctx, &keys[k], nonce, sealed, msg, len, NULL, 0));
		assert_true(aead_seal_once(raw[k], (uint64_t)round, want, msg, len, NULL, 0));
		assert_memory_equal(sealed, want, len + 16);
		assert_false(aead_open(&ctx, &keys[other], nonce, out, sealed, len, NULL, 0));
		assert_true(aead_open(&ctx, &keys[k], nonce, out, sealed, len, NULL, 0));
		assert_memory_equal(out, msg, len);
		if (pick & 1u << 31)
			aead_ctx_forget(&ctx);
	}
	aead_ctx_free(&ctx);
}

/* draft-irtf-cfrg-xchacha section 2.2.1. */
static void hchacha20_vector(void **state)
{
	uint8_t key[32], nonce[16], out[32];

	(void)state;
	unhex(key, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	unhex(nonce, "000000090000004a0000000031415927");
	hchacha20(out, key, nonce);
	assert_hex_equal(out, "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
}

/* draft-irtf-cfrg-xchacha appendix A.3.1, and its tamper test. */
static void xaead_vector_and_tamper(void **state)
{
	uint8_t key[32], nonce[24], ad[12], ct[sizeof(sunscreen) + 16], pt[sizeof(sunscreen)];
	const size_t len = sizeof(sunscreen) - 1;

	(void)state;
	unhex(key, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	unhex(nonce, "404142434445464748494a4b4c4d4e4f5051525354555657");
	unhex(ad, "50515253c0c1c2c3c4c5c6c7");
	assert_true(xaead_seal(key, nonce, ct, (const uint8_t *)sunscreen, len, ad, sizeof(ad)));
	assert_hex_equal(ct, "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
			     "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
			     "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
			     "21f9664c97637da9768812f615c68b13b52e");
	assert_hex_equal(ct + len, "c0875924c1c7987947deafd8780acf49");
	assert_true(xaead_open(key, nonce, pt, ct, len, ad, sizeof(ad)));
	assert_memory_equal(pt, sunscreen, len);
	for (size_t i = 0; i < len + 16; ++i) {
		ct[i] ^= 0x80;
		assert_false(xaead_open(key, nonce, pt, ct, len, ad, sizeof(ad)));
		ct[i] ^= 0x80;
	}
	for (size_t i = 0; i < sizeof(nonce); ++i) {
		nonce[i] ^= 1;
		assert_false(xaead_open(key, nonce, pt, ct, len, ad, sizeof(ad)));
		nonce[i] ^= 1;
	}
}

static void constant_time_helpers(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	(void)state;
	assert_true(crypto_is_zero(a, sizeof(a)));
	assert_true(crypto_equal(a, b, sizeof(a)));
	b[31] = 1;
	assert_false(crypto_is_zero(b, sizeof(b)));
	assert_false(crypto_equal(a, b, sizeof(a)));
	crypto_wipe(b, sizeof(b));
	assert_true(crypto_is_zero(b, sizeof(b)));
}

/*
 * Arrays that hold keys grow without realloc: one element at a time (doubling
 * from 4) or to a count at once; what was there is kept, the rest is zero, a
 * smaller count changes nothing. Against a plain array as the model.
 */
static void arrays_grow_wiped(void **state)
{
	uint32_t *v = NULL, model[300];
	size_t cap = 0, len = 0;

	(void)state;
	for (; len < 100; ++len) {
		assert_true(crypto_grow_wiped((void **)&v, &cap, len, sizeof(*v)));
		assert_true(cap > len && (cap == 4 || cap % 4 == 0));
		v[len] = model[len] = (uint32_t)(len * 2654435761u);
	}
	assert_int_equal(cap, 128);
	assert_true(crypto_reserve_wiped((void **)&v, &cap, 50, sizeof(*v)));
	assert_int_equal(cap, 128); /* already room */
	assert_true(crypto_reserve_wiped((void **)&v, &cap, 300, sizeof(*v)));
	assert_int_equal(cap, 300);
	assert_memory_equal(v, model, len * sizeof(*v));
	for (size_t i = len; i < cap; ++i)
		assert_int_equal(v[i], 0);
	free(v);
	v = NULL, cap = 0;
	assert_true(crypto_reserve_wiped((void **)&v, &cap, 0, sizeof(*v)));
	assert_null(v); /* nothing asked, nothing allocated */
	assert_true(crypto_reserve_wiped((void **)&v, &cap, 7, sizeof(*v)));
	assert_int_equal(cap, 7);
	free(v);
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(x25519_rfc7748_5_2),
	    cmocka_unit_test(x25519_rfc7748_iterated),
	    cmocka_unit_test(x25519_rfc7748_6_1),
	    cmocka_unit_test(x25519_rejects_zero_result),
	    cmocka_unit_test(x25519_generate_clamps),
	    cmocka_unit_test(x25519_key_matches_one_shot),
	    cmocka_unit_test(blake2s_rfc7693),
	    cmocka_unit_test(blake2s_keyed_kat),
	    cmocka_unit_test(blake2s_keyed_128),
	    cmocka_unit_test(hmac_and_kdf),
	    cmocka_unit_test(aead_rfc8439),
	    cmocka_unit_test(aead_tamper),
	    cmocka_unit_test(aead_in_place_and_empty),
	    cmocka_unit_test(aead_context_switches_keys),
	    cmocka_unit_test(hchacha20_vector),
	    cmocka_unit_test(xaead_vector_and_tamper),
	    cmocka_unit_test(constant_time_helpers),
	    cmocka_unit_test(arrays_grow_wiped),
	};
	return cmocka_run_group_tests_name("crypto", tests, setup, NULL);
}
