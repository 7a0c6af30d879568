/* SPDX-License-Identifier: MIT */
/*
 * The cryptographic primitives WireGuard uses, behind one small interface.
 * crypto.c is the only file in wgate that includes OpenSSL.
 *
 * Every function returns false on failure (a library error or, for X25519,
 * an all-zero shared secret) and leaves its outputs unspecified; callers
 * must not use them then.
 */
#ifndef WGATE_CRYPTO_H
#define WGATE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define must_check __attribute__((warn_unused_result))

enum {
	CRYPTO_KEY_LEN = 32,	  /* X25519 keys, symmetric keys, chaining keys */
	CRYPTO_HASH_LEN = 32,	  /* BLAKE2s-256 */
	CRYPTO_MAC_LEN = 16,	  /* keyed BLAKE2s-128 */
	CRYPTO_AEAD_TAG_LEN = 16, /* Poly1305 */
	CRYPTO_AEAD_NONCE_LEN = 12,
	CRYPTO_XAEAD_NONCE_LEN = 24,
};

/* Fetches the algorithms once; call before anything else. Thread-safe after. */
must_check bool crypto_init(void);

must_check bool crypto_random(void *buf, size_t len);
void crypto_wipe(void *buf, size_t len);
/*
 * Makes room for one more element in a growing array (doubling from 4), the
 * old array wiped before it is freed, as realloc would not: for arrays that
 * hold keys. False when out of memory (the array is untouched).
 */
bool crypto_grow_wiped(void **array, size_t *cap, size_t len, size_t size)
    __attribute__((warn_unused_result));
/* The same, room for at least want elements at once (a count known beforehand). */
bool crypto_reserve_wiped(void **array, size_t *cap, size_t want, size_t size)
    __attribute__((warn_unused_result));
/* Constant time in len; true when equal. */
bool crypto_equal(const void *a, const void *b, size_t len);
bool crypto_is_zero(const void *buf, size_t len);

/* RFC 7748 section 5: clear bits 0-2 and 255, set bit 254. */
void x25519_clamp(uint8_t key[CRYPTO_KEY_LEN]);
must_check bool x25519_generate(uint8_t private_key[CRYPTO_KEY_LEN]);
must_check bool x25519_public(uint8_t public_key[CRYPTO_KEY_LEN],
			      const uint8_t private_key[CRYPTO_KEY_LEN]);
/* out = X25519(scalar, point); fails when the result is all zero. */
must_check bool x25519(uint8_t out[CRYPTO_KEY_LEN], const uint8_t scalar[CRYPTO_KEY_LEN],
		       const uint8_t point[CRYPTO_KEY_LEN]);

/*
 * A private key loaded once and used for many exchanges: loading costs a
 * scalar multiplication (the library derives the public half), so long-lived
 * and ephemeral keys that take part in more than one DH are loaded once.
 */
struct x25519_key;
must_check struct x25519_key *x25519_key_new(const uint8_t private_key[CRYPTO_KEY_LEN]);
must_check bool x25519_key_public(const struct x25519_key *key, uint8_t public_key[CRYPTO_KEY_LEN]);
must_check bool x25519_key_shared(const struct x25519_key *key, uint8_t out[CRYPTO_KEY_LEN],
				  const uint8_t point[CRYPTO_KEY_LEN]);
void x25519_key_free(struct x25519_key *key);

/* BLAKE2s-256 of the concatenation a || b (b may be NULL with b_len 0). */
must_check bool blake2s256(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t a_len, const void *b,
			   size_t b_len);
/* Keyed BLAKE2s with a 128-bit output (RFC 7693 parameter block, outlen 16). */
must_check bool blake2s128_keyed(uint8_t out[CRYPTO_MAC_LEN], const uint8_t *key, size_t key_len,
				 const void *in, size_t in_len);
/* Keyed BLAKE2s with a 256-bit output; used by the tests' published vectors. */
must_check bool blake2s256_keyed(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t key_len,
				 const void *in, size_t in_len);
/* HMAC (RFC 2104) over BLAKE2s-256. */
must_check bool hmac_blake2s(uint8_t out[CRYPTO_HASH_LEN], const uint8_t *key, size_t key_len,
			     const void *in, size_t in_len);
/*
 * WireGuard's HKDF (the paper, section 5.4): t0 = HMAC(key, input),
 * t1 = HMAC(t0, 0x1), t2 = HMAC(t0, t1 || 0x2), t3 = HMAC(t0, t2 || 0x3).
 * Pass NULL for t2 and t3 to get KDF1, NULL for t3 to get KDF2.
 */
must_check bool wg_kdf(uint8_t t1[CRYPTO_HASH_LEN], uint8_t *t2, uint8_t *t3,
		       const uint8_t key[CRYPTO_HASH_LEN], const void *in, size_t in_len);

/*
 * RFC 8439 ChaCha20-Poly1305. Keys and contexts are kept apart: a context (one
 * per thread) loads a key only when it is not the one it used last, which
 * costs less than sealing a small packet, so one context serves every keypair
 * and a keypair can be served by any thread.
 */
struct aead_key {
	uint8_t bytes[CRYPTO_KEY_LEN];
	uint64_t id; /* unique in the process; 0 for no key */
};
struct aead_ctx {
	void *seal, *open;	     /* EVP_CIPHER_CTX */
	uint64_t seal_key, open_key; /* ids of the keys loaded */
};
/* Copies the key and gives it a new id. */
void aead_key_set(struct aead_key *key, const uint8_t bytes[CRYPTO_KEY_LEN]);
must_check bool aead_ctx_init(struct aead_ctx *ctx);
void aead_ctx_free(struct aead_ctx *ctx);
/* Overwrites the context's copy of key, if it holds one: call before wiping the key. */
void aead_ctx_release(struct aead_ctx *ctx, const struct aead_key *key);
/* Overwrites whatever keys the context holds. */
void aead_ctx_forget(struct aead_ctx *ctx);
/* dst receives len bytes of ciphertext then the tag; dst may equal src. */
must_check bool aead_seal(struct aead_ctx *ctx, const struct aead_key *key,
			  const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t *dst,
			  const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);
/* src holds len bytes of ciphertext and the tag after them; dst may equal src. */
must_check bool aead_open(struct aead_ctx *ctx, const struct aead_key *key,
			  const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t *dst,
			  const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);
/* WireGuard's nonce: 32 zero bits then the 64-bit counter, little-endian. */
void aead_counter_nonce(uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint64_t counter);
/* One-shot forms, for handshakes. */
must_check bool aead_seal_once(const uint8_t key[CRYPTO_KEY_LEN], uint64_t counter, uint8_t *dst,
			       const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);
must_check bool aead_open_once(const uint8_t key[CRYPTO_KEY_LEN], uint64_t counter, uint8_t *dst,
			       const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);

/* HChaCha20 (draft-irtf-cfrg-xchacha section 2.2); OpenSSL does not offer it. */
void hchacha20(uint8_t out[CRYPTO_KEY_LEN], const uint8_t key[CRYPTO_KEY_LEN],
	       const uint8_t nonce[16]);
/* AEAD_XChaCha20_Poly1305 (draft-irtf-cfrg-xchacha section 2.3). */
must_check bool xaead_seal(const uint8_t key[CRYPTO_KEY_LEN],
			   const uint8_t nonce[CRYPTO_XAEAD_NONCE_LEN], uint8_t *dst,
			   const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);
must_check bool xaead_open(const uint8_t key[CRYPTO_KEY_LEN],
			   const uint8_t nonce[CRYPTO_XAEAD_NONCE_LEN], uint8_t *dst,
			   const uint8_t *src, size_t len, const uint8_t *ad, size_t ad_len);

#endif
