// SPDX-License-Identifier: MIT
/*
 * The one file that talks to OpenSSL (libcrypto 3).
 *
 * Algorithms are fetched once by crypto_init(); MAC contexts are duplicated
 * from preconfigured templates so that no call looks an algorithm up by name.
 * AEAD contexts are made once per key (struct aead) and only their nonce is
 * reset per message.
 */
#include "core/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static struct {
	EVP_MD *blake2s;
	EVP_CIPHER *chacha20_poly1305;
	EVP_MAC_CTX *hmac_blake2s;   /* template: digest set, no key */
	EVP_MAC_CTX *blake2s_mac128; /* template: size 16, no key */
	EVP_MAC_CTX *blake2s_mac256; /* template: size 32, no key */
} algs;

static EVP_MAC_CTX *mac_template(const char *name, const OSSL_PARAM *params)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, name, NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;

	EVP_MAC_free(mac); /* the context holds its own reference */
	if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

bool crypto_init(void)
{
	size_t size16 = CRYPTO_MAC_LEN, size32 = CRYPTO_HASH_LEN;
	char digest[] = "BLAKE2S-256";
	OSSL_PARAM hmac_params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	OSSL_PARAM mac128_params[] = {
	    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size16),
	    OSSL_PARAM_construct_end(),
	};
	OSSL_PARAM mac256_params[] = {
	    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size32),
	    OSSL_PARAM_construct_end(),
	};

	if (algs.blake2s)
		return true;
	algs.blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	algs.chacha20_poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	algs.hmac_blake2s = mac_template("HMAC", hmac_params);
	algs.blake2s_mac128 = mac_template("BLAKE2SMAC", mac128_params);
	algs.blake2s_mac256 = mac_template("BLAKE2SMAC", mac256_params);
	if (algs.blake2s && algs.chacha20_poly1305 && algs.hmac_blake2s && algs.blake2s_mac128 &&
	    algs.blake2s_mac256)
		return true;
	ERR_clear_error();
	return false;
}

bool crypto_random(void *buf, size_t len)
{
	return len <= INT_MAX && RAND_priv_bytes(buf, (int)len) == 1;
}

void crypto_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool crypto_is_zero(const void *buf, size_t len)
{
	const volatile uint8_t *p = buf;
	uint8_t acc = 0;

	for (size_t i = 0; i < len; ++i)
		acc |= p[i];
	return acc == 0;
}

/* ---- X25519 ---- */

void x25519_clamp(uint8_t key[CRYPTO_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

bool x25519_generate(uint8_t private_key[CRYPTO_KEY_LEN])
{
	if (!crypto_random(private_key, CRYPTO_KEY_LEN))
		return false;
	x25519_clamp(private_key);
	return true;
}

struct x25519_key *x25519_key_new(const uint8_t private_key[CRYPTO_KEY_LEN])
{
	EVP_PKEY *pkey =
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, private_key, CRYPTO_KEY_LEN);

	if (!pkey)
		ERR_clear_error();
	return (struct x25519_key *)pkey;
}

void x25519_key_free(struct x25519_key *key)
{
	EVP_PKEY_free((EVP_PKEY *)key); /* clears the private half */
}

bool x25519_key_public(const struct x25519_key *key, uint8_t public_key[CRYPTO_KEY_LEN])
{
	size_t len = CRYPTO_KEY_LEN;

	if (EVP_PKEY_get_raw_public_key((const EVP_PKEY *)key, public_key, &len) != 1 ||
	    len != CRYPTO_KEY_LEN) {
		ERR_clear_error();
		return false;
	}
	return true;
}

bool x25519_key_shared(const struct x25519_key *key, uint8_t out[CRYPTO_KEY_LEN],
		       const uint8_t point[CRYPTO_KEY_LEN])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, CRYPTO_KEY_LEN);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)key, NULL);
	size_t len = CRYPTO_KEY_LEN;
	bool ok = peer && ctx && EVP_PKEY_derive_init(ctx) == 1 &&
		  EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
		  EVP_PKEY_derive(ctx, out, &len) == 1 && len == CRYPTO_KEY_LEN;

	/*
	 * OpenSSL already refuses an all-zero result (a low-order point);
	 * WireGuard requires that refusal, so it is checked here too.
	 */
	if (ok && crypto_is_zero(out, CRYPTO_KEY_LEN))
		ok = false;
	if (!ok) {
		crypto_wipe(out, CRYPTO_KEY_LEN);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return ok;
}

bool x25519_public(uint8_t public_key[CRYPTO_KEY_LEN], const uint8_t private_key[CRYPTO_KEY_LEN])
{
	struct x25519_key *key = x25519_key_new(private_key);
	bool ok = key && x25519_key_public(key, public_key);

	x25519_key_free(key);
	return ok;
}

bool x25519(uint8_t out[CRYPTO_KEY_LEN], const uint8_t scalar[CRYPTO_KEY_LEN],
	    const uint8_t point[CRYPTO_KEY_LEN])
{
	struct x25519_key *key = x25519_key_new(scalar);
	bool ok = key && x25519_key_shared(key, out, point);

	x25519_key_free(key);
	return ok;
}

/* ---- BLAKE2s ---- */

bool blake2s256(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t a_len, const void *b,
		size_t b_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex2(ctx, algs.blake2s, NULL) == 1 &&
		  EVP_DigestUpdate(ctx, a, a_len) == 1 &&
		  (!b_len || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
		  EVP_DigestFinal_ex(ctx, out, NULL) == 1;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok;
}

static bool mac_with(EVP_MAC_CTX *template, uint8_t *out, size_t out_len, const uint8_t *key,
		     size_t key_len, const void *in, size_t in_len)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(template);
	size_t len = 0;
	bool ok = ctx && EVP_MAC_init(ctx, key, key_len, NULL) == 1 &&
		  EVP_MAC_update(ctx, in, in_len) == 1 &&
		  EVP_MAC_final(ctx, out, &len, out_len) == 1 && len == out_len;

	EVP_MAC_CTX_free(ctx); /* frees and clears the keyed state */
	if (!ok)
		ERR_clear_error();
	return ok;
}

bool blake2s128_keyed(uint8_t out[CRYPTO_MAC_LEN], const uint8_t *key, size_t key_len,
		      const void *in, size_t in_len)
{
	return mac_with(algs.blake2s_mac128, out, CRYPTO_MAC_LEN, key, key_len, in, in_len);
}

bool blake2s256_keyed(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t key_len,
		      const void *in, size_t in_len)
{
	return mac_with(algs.blake2s_mac256, out, CRYPTO_HASH_LEN, key, key_len, in, in_len);
}

bool hmac_blake2s(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t key_len, const void *in,
		  size_t in_len)
{
	return mac_with(algs.hmac_blake2s, out, CRYPTO_HASH_LEN, key, key_len, in, in_len);
}

bool wg_kdf(uint8_t t1[CRYPTO_HASH_LEN], uint8_t *t2, uint8_t *t3,
	    const uint8_t key[CRYPTO_HASH_LEN], const void *in, size_t in_len)
{
	uint8_t t0[CRYPTO_HASH_LEN], buf[CRYPTO_HASH_LEN + 1];
	bool ok = false;

	if (!hmac_blake2s(t0, key, CRYPTO_HASH_LEN, in, in_len))
		goto out;
	buf[0] = 1;
	if (!hmac_blake2s(buf, t0, sizeof(t0), buf, 1))
		goto out;
	memcpy(t1, buf, CRYPTO_HASH_LEN);
	if (t2) {
		buf[CRYPTO_HASH_LEN] = 2;
		if (!hmac_blake2s(buf, t0, sizeof(t0), buf, sizeof(buf)))
			goto out;
		memcpy(t2, buf, CRYPTO_HASH_LEN);
	}
	if (t2 && t3) {
		buf[CRYPTO_HASH_LEN] = 3;
		if (!hmac_blake2s(buf, t0, sizeof(t0), buf, sizeof(buf)))
			goto out;
		memcpy(t3, buf, CRYPTO_HASH_LEN);
	}
	ok = true;
out:
	crypto_wipe(t0, sizeof(t0));
	crypto_wipe(buf, sizeof(buf));
	return ok;
}

/* ---- ChaCha20-Poly1305 ---- */

static _Atomic uint64_t last_key_id;
/* What a context holds when it holds no key. */
static const uint8_t no_key[CRYPTO_KEY_LEN];

void aead_key_set(struct aead_key *key, const uint8_t bytes[CRYPTO_KEY_LEN])
{
	memcpy(key->bytes, bytes, CRYPTO_KEY_LEN);
	key->id = atomic_fetch_add_explicit(&last_key_id, 1, memory_order_relaxed) + 1;
}

bool aead_ctx_init(struct aead_ctx *ctx)
{
	ctx->seal = EVP_CIPHER_CTX_new();
	ctx->open = EVP_CIPHER_CTX_new();
	ctx->seal_key = ctx->open_key = 0;
	if (ctx->seal && ctx->open &&
	    EVP_EncryptInit_ex2(ctx->seal, algs.chacha20_poly1305, no_key, NULL, NULL) == 1 &&
	    EVP_DecryptInit_ex2(ctx->open, algs.chacha20_poly1305, no_key, NULL, NULL) == 1)
		return true;
	ERR_clear_error();
	aead_ctx_free(ctx);
	return false;
}

void aead_ctx_free(struct aead_ctx *ctx)
{
	EVP_CIPHER_CTX_free(ctx->seal); /* clears the key schedule */
	EVP_CIPHER_CTX_free(ctx->open);
	ctx->seal = ctx->open = NULL;
	ctx->seal_key = ctx->open_key = 0;
}

void aead_ctx_forget(struct aead_ctx *ctx)
{
	if (ctx->seal_key && EVP_EncryptInit_ex2(ctx->seal, NULL, no_key, NULL, NULL) == 1)
		ctx->seal_key = 0;
	if (ctx->open_key && EVP_DecryptInit_ex2(ctx->open, NULL, no_key, NULL, NULL) == 1)
		ctx->open_key = 0;
	ERR_clear_error();
}

void aead_ctx_release(struct aead_ctx *ctx, const struct aead_key *key)
{
	if (key->id && (ctx->seal_key == key->id || ctx->open_key == key->id))
		aead_ctx_forget(ctx);
}

void aead_counter_nonce(uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; ++i)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

bool aead_seal(struct aead_ctx *actx, const struct aead_key *key,
	       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t *dst, const uint8_t *src,
	       size_t len, const uint8_t *ad, size_t ad_len)
{
	EVP_CIPHER_CTX *ctx = actx->seal;
	bool load = actx->seal_key != key->id;
	int out_len;

	if (len > INT_MAX - CRYPTO_AEAD_TAG_LEN || ad_len > INT_MAX || !key->id)
		return false;
	actx->seal_key = key->id;
	if (EVP_EncryptInit_ex2(ctx, NULL, load ? key->bytes : NULL, nonce, NULL) == 1 &&
	    (!ad_len || EVP_EncryptUpdate(ctx, NULL, &out_len, ad, (int)ad_len) == 1) &&
	    (!len || EVP_EncryptUpdate(ctx, dst, &out_len, src, (int)len) == 1) &&
	    EVP_EncryptFinal_ex(ctx, dst + len, &out_len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG_LEN, dst + len) == 1)
		return true;
	actx->seal_key = 0; /* the key may not have loaded */
	ERR_clear_error();
	return false;
}

bool aead_open(struct aead_ctx *actx, const struct aead_key *key,
	       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t *dst, const uint8_t *src,
	       size_t len, const uint8_t *ad, size_t ad_len)
{
	EVP_CIPHER_CTX *ctx = actx->open;
	bool load = actx->open_key != key->id;
	uint8_t tag[CRYPTO_AEAD_TAG_LEN], tail[CRYPTO_AEAD_TAG_LEN];
	int out_len;

	if (len > INT_MAX || ad_len > INT_MAX || !key->id)
		return false;
	memcpy(tag, src + len, sizeof(tag)); /* dst may overlap src */
	actx->open_key = key->id;
	if (EVP_DecryptInit_ex2(ctx, NULL, load ? key->bytes : NULL, nonce, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) == 1 &&
	    (!ad_len || EVP_DecryptUpdate(ctx, NULL, &out_len, ad, (int)ad_len) == 1) &&
	    (!len || EVP_DecryptUpdate(ctx, dst, &out_len, src, (int)len) == 1) &&
	    /* a stream cipher's final step writes nothing; dst is NULL when len is 0 */
	    EVP_DecryptFinal_ex(ctx, tail, &out_len) == 1)
		return true;
	/* Never hand out plaintext that failed authentication. */
	if (len)
		crypto_wipe(dst, len);
	if (load)
		actx->open_key = 0; /* the key may not have loaded */
	ERR_clear_error();
	return false;
}

static bool aead_once(bool seal, const uint8_t key[CRYPTO_KEY_LEN],
		      const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t *dst, const uint8_t *src,
		      size_t len, const uint8_t *ad, size_t ad_len)
{
	struct aead_ctx ctx;
	struct aead_key k;
	bool ok;

	if (!aead_ctx_init(&ctx))
		return false;
	aead_key_set(&k, key);
	ok = seal ? aead_seal(&ctx, &k, nonce, dst, src, len, ad, ad_len)
		  : aead_open(&ctx, &k, nonce, dst, src, len, ad, ad_len);
	aead_ctx_free(&ctx);
	crypto_wipe(&k, sizeof(k));
	return ok;
}

bool aead_seal_once(const uint8_t key[CRYPTO_KEY_LEN], uint64_t counter, uint8_t *dst,
		    const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	aead_counter_nonce(nonce, counter);
	return aead_once(true, key, nonce, dst, src, len, ad, ad_len);
}

bool aead_open_once(const uint8_t key[CRYPTO_KEY_LEN], uint64_t counter, uint8_t *dst,
		    const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	aead_counter_nonce(nonce, counter);
	return aead_once(false, key, nonce, dst, src, len, ad, ad_len);
}

/* ---- HChaCha20 and XChaCha20-Poly1305 ---- */

static uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t rotl32(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

/* RFC 8439 section 2.1. */
static void quarter_round(uint32_t *x, int a, int b, int c, int d)
{
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 7);
}

void hchacha20(uint8_t out[CRYPTO_KEY_LEN], const uint8_t key[CRYPTO_KEY_LEN],
	       const uint8_t nonce[16])
{
	/* "expand 32-byte k", then the key, then the 128-bit nonce. */
	uint32_t x[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

	for (int i = 0; i < 8; ++i)
		x[4 + i] = load32_le(key + 4 * i);
	for (int i = 0; i < 4; ++i)
		x[12 + i] = load32_le(nonce + 4 * i);
	for (int round = 0; round < 10; ++round) {
		quarter_round(x, 0, 4, 8, 12);
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15);
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	/* Unlike the block function, no feed-forward: words 0-3 and 12-15. */
	for (int i = 0; i < 4; ++i) {
		store32_le(out + 4 * i, x[i]);
		store32_le(out + 16 + 4 * i, x[12 + i]);
	}
	crypto_wipe(x, sizeof(x));
}

static bool xaead(bool seal, const uint8_t key[CRYPTO_KEY_LEN],
		  const uint8_t nonce[CRYPTO_XAEAD_NONCE_LEN], uint8_t *dst, const uint8_t *src,
		  size_t len, const uint8_t *ad, size_t ad_len)
{
	uint8_t subkey[CRYPTO_KEY_LEN], short_nonce[CRYPTO_AEAD_NONCE_LEN] = {0};
	bool ok;

	hchacha20(subkey, key, nonce);
	memcpy(short_nonce + 4, nonce + 16, 8);
	ok = aead_once(seal, subkey, short_nonce, dst, src, len, ad, ad_len);
	crypto_wipe(subkey, sizeof(subkey));
	return ok;
}

bool xaead_seal(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_XAEAD_NONCE_LEN],
		uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len)
{
	return xaead(true, key, nonce, dst, src, len, ad, ad_len);
}

bool xaead_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_XAEAD_NONCE_LEN],
		uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len)
{
	return xaead(false, key, nonce, dst, src, len, ad, ad_len);
}

bool crypto_reserve_wiped(void **array, size_t *cap, size_t want, size_t size)
{
	void *fresh;

	if (want <= *cap)
		return true;
	fresh = calloc(want, size);
	if (!fresh)
		return false;
	if (*array) {
		memcpy(fresh, *array, *cap * size);
		crypto_wipe(*array, *cap * size);
		free(*array);
	}
	*array = fresh;
	*cap = want;
	return true;
}

bool crypto_grow_wiped(void **array, size_t *cap, size_t len, size_t size)
{
	return len < *cap || crypto_reserve_wiped(array, cap, *cap ? *cap * 2 : 4, size);
}
