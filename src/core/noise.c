// SPDX-License-Identifier: MIT
/*
 * Noise_IKpsk2 (the WireGuard paper, section 5.4.2 to 5.4.4). Each message
 * step works on copies of the chaining key and hash and commits them to the
 * handshake only when the whole message has been processed; every exit path
 * goes through one label that wipes the temporaries.
 */
#include "core/noise.h"

#include <string.h>

static uint8_t initial_chaining_key[CRYPTO_HASH_LEN];
static uint8_t initial_hash[CRYPTO_HASH_LEN];

bool noise_init(void)
{
	if (!crypto_init())
		return false;
	/* C = HASH(CONSTRUCTION), H = HASH(C || IDENTIFIER) */
	return blake2s256(initial_chaining_key, NOISE_CONSTRUCTION, strlen(NOISE_CONSTRUCTION),
			  NULL, 0) &&
	       blake2s256(initial_hash, initial_chaining_key, sizeof(initial_chaining_key),
			  NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER));
}

static bool mix_hash(uint8_t hash[CRYPTO_HASH_LEN], const void *data, size_t len)
{
	return blake2s256(hash, hash, CRYPTO_HASH_LEN, data, len);
}

/* C = KDF1(C, data) */
static bool mix_key(uint8_t chaining_key[CRYPTO_HASH_LEN], const void *data, size_t len)
{
	return wg_kdf(chaining_key, NULL, NULL, chaining_key, data, len);
}

/* (C, k) = KDF2(C, DH(private, public)) */
static bool mix_dh(uint8_t chaining_key[CRYPTO_HASH_LEN], uint8_t key[CRYPTO_KEY_LEN],
		   const struct x25519_key *private_key, const uint8_t public_key[CRYPTO_KEY_LEN])
{
	uint8_t shared[CRYPTO_KEY_LEN];
	bool ok = x25519_key_shared(private_key, shared, public_key) &&
		  wg_kdf(chaining_key, key, NULL, chaining_key, shared, sizeof(shared));

	crypto_wipe(shared, sizeof(shared));
	return ok;
}

/* (C, k) = KDF2(C, dh) for a DH result computed earlier; refuses an all-zero one. */
static bool mix_precomputed(uint8_t chaining_key[CRYPTO_HASH_LEN], uint8_t key[CRYPTO_KEY_LEN],
			    const uint8_t dh[CRYPTO_KEY_LEN])
{
	return !crypto_is_zero(dh, CRYPTO_KEY_LEN) &&
	       wg_kdf(chaining_key, key, NULL, chaining_key, dh, CRYPTO_KEY_LEN);
}

/* (C, tau, k) = KDF3(C, psk); H = HASH(H || tau) */
static bool mix_psk(uint8_t chaining_key[CRYPTO_HASH_LEN], uint8_t hash[CRYPTO_HASH_LEN],
		    uint8_t key[CRYPTO_KEY_LEN], const uint8_t psk[CRYPTO_KEY_LEN])
{
	uint8_t tau[CRYPTO_HASH_LEN];
	bool ok = wg_kdf(chaining_key, tau, key, chaining_key, psk, CRYPTO_KEY_LEN) &&
		  mix_hash(hash, tau, sizeof(tau));

	crypto_wipe(tau, sizeof(tau));
	return ok;
}

/* dst = AEAD(k, 0, src, H); H = HASH(H || dst) */
static bool seal_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[CRYPTO_KEY_LEN], uint8_t hash[CRYPTO_HASH_LEN])
{
	return aead_seal_once(key, 0, dst, src, len, hash, CRYPTO_HASH_LEN) &&
	       mix_hash(hash, dst, len + CRYPTO_AEAD_TAG_LEN);
}

static bool open_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[CRYPTO_KEY_LEN], uint8_t hash[CRYPTO_HASH_LEN])
{
	return aead_open_once(key, 0, dst, src, len, hash, CRYPTO_HASH_LEN) &&
	       mix_hash(hash, src, len + CRYPTO_AEAD_TAG_LEN);
}

/* e: a fresh ephemeral key pair, its public half mixed into C and H. */
static bool make_ephemeral(uint8_t private_key[CRYPTO_KEY_LEN], struct x25519_key **key,
			   uint8_t public_key[CRYPTO_KEY_LEN],
			   uint8_t chaining_key[CRYPTO_HASH_LEN], uint8_t hash[CRYPTO_HASH_LEN])
{
	return x25519_generate(private_key) && (*key = x25519_key_new(private_key)) &&
	       x25519_key_public(*key, public_key) &&
	       mix_key(chaining_key, public_key, CRYPTO_KEY_LEN) &&
	       mix_hash(hash, public_key, CRYPTO_KEY_LEN);
}

/* e, as received: the peer's ephemeral public key mixed into C and H. */
static bool mix_ephemeral(uint8_t chaining_key[CRYPTO_HASH_LEN], uint8_t hash[CRYPTO_HASH_LEN],
			  const uint8_t public_key[CRYPTO_KEY_LEN])
{
	return mix_key(chaining_key, public_key, CRYPTO_KEY_LEN) &&
	       mix_hash(hash, public_key, CRYPTO_KEY_LEN);
}

bool noise_identity_set(struct noise_identity *id, const uint8_t *private_key)
{
	x25519_key_free(id->static_key);
	crypto_wipe(id, sizeof(*id));
	if (!private_key)
		return true;
	id->static_key = x25519_key_new(private_key);
	if (!id->static_key || !x25519_key_public(id->static_key, id->static_public) ||
	    !blake2s256(id->responder_hash, initial_hash, sizeof(initial_hash), id->static_public,
			CRYPTO_KEY_LEN)) {
		x25519_key_free(id->static_key);
		crypto_wipe(id, sizeof(*id));
		return false;
	}
	memcpy(id->static_private, private_key, CRYPTO_KEY_LEN);
	id->has_identity = true;
	return true;
}

void noise_handshake_init(struct noise_handshake *hs, const uint8_t remote_static[CRYPTO_KEY_LEN],
			  const uint8_t *preshared_key)
{
	noise_handshake_clear(hs);
	/* Replay protection survives a change of identity or preshared key, not of peer. */
	if (!crypto_equal(hs->remote_static, remote_static, CRYPTO_KEY_LEN)) {
		memset(hs->latest_timestamp, 0, sizeof(hs->latest_timestamp));
		hs->last_initiation_consumption = 0;
	}
	memcpy(hs->remote_static, remote_static, CRYPTO_KEY_LEN);
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, CRYPTO_KEY_LEN);
	else
		memset(hs->preshared_key, 0, CRYPTO_KEY_LEN);
	memset(hs->static_static, 0, CRYPTO_KEY_LEN);
	hs->static_static_ready = false;
	if (!blake2s256(hs->initiator_hash, initial_hash, sizeof(initial_hash), remote_static,
			CRYPTO_KEY_LEN))
		hs->static_static_ready = true; /* and zero: this peer cannot handshake */
}

/*
 * DH(our static, their static), computed at the first handshake and kept, so
 * that loading many peers costs no scalar multiplications. False (and zero)
 * without an identity or for a low-order peer key: no handshake.
 */
static bool static_static(struct noise_handshake *hs, const struct noise_identity *id)
{
	if (!hs->static_static_ready) {
		if (!id->has_identity ||
		    !x25519_key_shared(id->static_key, hs->static_static, hs->remote_static))
			memset(hs->static_static, 0, CRYPTO_KEY_LEN);
		hs->static_static_ready = true;
	}
	return !crypto_is_zero(hs->static_static, CRYPTO_KEY_LEN);
}

/* Forgets the handshake in progress, keeping the peer's keys and replay state. */
void noise_handshake_clear(struct noise_handshake *hs)
{
	hs->state = NOISE_ZEROED;
	crypto_wipe(hs->hash, sizeof(hs->hash));
	crypto_wipe(hs->chaining_key, sizeof(hs->chaining_key));
	crypto_wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	crypto_wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = hs->remote_index = 0;
}

void noise_tai64n(uint8_t out[TAI64N_LEN], int64_t unix_seconds, long nanoseconds)
{
	/* The TAI64 label 2^62 + 10 + seconds (libtai), then nanoseconds; big-endian. */
	uint64_t seconds = 0x400000000000000aull + (uint64_t)unix_seconds;
	uint32_t ns = (uint32_t)nanoseconds;
	uint32_t granularity = 1;

	while (granularity * 2 <= NSEC_PER_SEC / INITIATIONS_PER_SECOND)
		granularity *= 2;
	ns -= ns % granularity;
	for (int i = 0; i < 8; ++i)
		out[i] = (uint8_t)(seconds >> (56 - 8 * i));
	for (int i = 0; i < 4; ++i)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

bool noise_create_initiation(struct noise_handshake *hs, const struct noise_identity *id,
			     struct message_handshake_initiation *msg, uint32_t local_index,
			     const uint8_t timestamp[TAI64N_LEN])
{
	uint8_t ck[CRYPTO_HASH_LEN], h[CRYPTO_HASH_LEN], key[CRYPTO_KEY_LEN];
	uint8_t ephemeral[CRYPTO_KEY_LEN];
	struct x25519_key *e = NULL;
	bool ok = false;

	if (!id->has_identity || !static_static(hs, id))
		goto out;
	memcpy(ck, initial_chaining_key, sizeof(ck));
	memcpy(h, hs->initiator_hash, sizeof(h));
	memset(msg, 0, sizeof(*msg));
	msg->header.type = MESSAGE_HANDSHAKE_INITIATION;
	msg->sender_index = local_index;

	/* e */
	if (!make_ephemeral(ephemeral, &e, msg->unencrypted_ephemeral, ck, h))
		goto out;
	/* es */
	if (!mix_dh(ck, key, e, hs->remote_static))
		goto out;
	/* s */
	if (!seal_and_hash(msg->encrypted_static, id->static_public, CRYPTO_KEY_LEN, key, h))
		goto out;
	/* ss */
	if (!mix_precomputed(ck, key, hs->static_static))
		goto out;
	/* {t} */
	if (!seal_and_hash(msg->encrypted_timestamp, timestamp, TAI64N_LEN, key, h))
		goto out;

	memcpy(hs->ephemeral_private, ephemeral, sizeof(ephemeral));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = NOISE_CREATED_INITIATION;
	ok = true;
out:
	x25519_key_free(e);
	crypto_wipe(ephemeral, sizeof(ephemeral));
	crypto_wipe(key, sizeof(key));
	crypto_wipe(ck, sizeof(ck));
	crypto_wipe(h, sizeof(h));
	return ok;
}

enum noise_result noise_consume_initiation(const struct noise_identity *id,
					   const struct message_handshake_initiation *msg,
					   noise_lookup_fn lookup, void *ctx, uint64_t now,
					   struct noise_handshake **out)
{
	uint8_t ck[CRYPTO_HASH_LEN], h[CRYPTO_HASH_LEN], key[CRYPTO_KEY_LEN];
	uint8_t remote_static[CRYPTO_KEY_LEN], timestamp[TAI64N_LEN];
	struct noise_handshake *hs = NULL;
	enum noise_result result = NOISE_DECRYPT_FAILED;

	*out = NULL;
	if (!id->has_identity) {
		result = NOISE_NO_IDENTITY;
		goto out;
	}
	memcpy(ck, initial_chaining_key, sizeof(ck));
	memcpy(h, id->responder_hash, sizeof(h));
	/* e */
	if (!mix_ephemeral(ck, h, msg->unencrypted_ephemeral))
		goto out;
	/* es */
	if (!mix_dh(ck, key, id->static_key, msg->unencrypted_ephemeral))
		goto out;
	/* s */
	if (!open_and_hash(remote_static, msg->encrypted_static, CRYPTO_KEY_LEN, key, h))
		goto out;
	hs = lookup(ctx, remote_static);
	if (!hs || !crypto_equal(hs->remote_static, remote_static, CRYPTO_KEY_LEN)) {
		result = NOISE_UNKNOWN_PEER;
		goto out;
	}
	/* ss */
	if (!static_static(hs, id) || !mix_precomputed(ck, key, hs->static_static))
		goto out;
	/* {t} */
	if (!open_and_hash(timestamp, msg->encrypted_timestamp, TAI64N_LEN, key, h))
		goto out;
	/* Timestamps are big-endian, so byte order is time order. */
	if (memcmp(timestamp, hs->latest_timestamp, TAI64N_LEN) <= 0) {
		result = NOISE_REPLAYED_TIMESTAMP;
		*out = hs;
		goto out;
	}
	if (hs->last_initiation_consumption &&
	    now < hs->last_initiation_consumption + NSEC_PER_SEC / INITIATIONS_PER_SECOND) {
		result = NOISE_FLOOD;
		*out = hs;
		goto out;
	}

	memcpy(hs->remote_ephemeral, msg->unencrypted_ephemeral, CRYPTO_KEY_LEN);
	memcpy(hs->latest_timestamp, timestamp, TAI64N_LEN);
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	crypto_wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	hs->remote_index = msg->sender_index;
	hs->last_initiation_consumption = now;
	hs->state = NOISE_CONSUMED_INITIATION;
	*out = hs;
	result = NOISE_OK;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(ck, sizeof(ck));
	crypto_wipe(h, sizeof(h));
	crypto_wipe(remote_static, sizeof(remote_static));
	crypto_wipe(timestamp, sizeof(timestamp));
	return result;
}

bool noise_create_response(struct noise_handshake *hs, const struct noise_identity *id,
			   struct message_handshake_response *msg, uint32_t local_index)
{
	uint8_t ck[CRYPTO_HASH_LEN], h[CRYPTO_HASH_LEN], key[CRYPTO_KEY_LEN];
	uint8_t ephemeral[CRYPTO_KEY_LEN];
	struct x25519_key *e = NULL;
	bool ok = false;

	if (hs->state != NOISE_CONSUMED_INITIATION || !id->has_identity)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	memset(msg, 0, sizeof(*msg));
	msg->header.type = MESSAGE_HANDSHAKE_RESPONSE;
	msg->sender_index = local_index;
	msg->receiver_index = hs->remote_index;

	/* e */
	if (!make_ephemeral(ephemeral, &e, msg->unencrypted_ephemeral, ck, h))
		goto out;
	/* ee, se: each C = KDF1(C, DH(...)) */
	if (!mix_dh(ck, key, e, hs->remote_ephemeral) || !mix_dh(ck, key, e, hs->remote_static))
		goto out;
	/* psk */
	if (!mix_psk(ck, h, key, hs->preshared_key))
		goto out;
	/* {} */
	if (!seal_and_hash(msg->encrypted_nothing, NULL, 0, key, h))
		goto out;

	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = NOISE_CREATED_RESPONSE;
	ok = true;
out:
	x25519_key_free(e);
	crypto_wipe(ephemeral, sizeof(ephemeral));
	crypto_wipe(key, sizeof(key));
	crypto_wipe(ck, sizeof(ck));
	crypto_wipe(h, sizeof(h));
	return ok;
}

enum noise_result noise_consume_response(struct noise_handshake *hs,
					 const struct noise_identity *id,
					 const struct message_handshake_response *msg)
{
	uint8_t ck[CRYPTO_HASH_LEN], h[CRYPTO_HASH_LEN], key[CRYPTO_KEY_LEN];
	struct x25519_key *e = NULL;
	enum noise_result result = NOISE_DECRYPT_FAILED;

	if (!id->has_identity)
		return NOISE_NO_IDENTITY;
	if (hs->state != NOISE_CREATED_INITIATION || msg->receiver_index != hs->local_index)
		return NOISE_WRONG_STATE;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	/* e */
	if (!mix_ephemeral(ck, h, msg->unencrypted_ephemeral))
		goto out;
	/* ee, se */
	if (!(e = x25519_key_new(hs->ephemeral_private)) ||
	    !mix_dh(ck, key, e, msg->unencrypted_ephemeral) ||
	    !mix_dh(ck, key, id->static_key, msg->unencrypted_ephemeral))
		goto out;
	/* psk */
	if (!mix_psk(ck, h, key, hs->preshared_key))
		goto out;
	/* {} */
	if (!open_and_hash(NULL, msg->encrypted_nothing, 0, key, h))
		goto out;

	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->remote_index = msg->sender_index;
	hs->state = NOISE_CONSUMED_RESPONSE;
	result = NOISE_OK;
out:
	x25519_key_free(e);
	crypto_wipe(key, sizeof(key));
	crypto_wipe(ck, sizeof(ck));
	crypto_wipe(h, sizeof(h));
	return result;
}

bool noise_derive_keys(struct noise_handshake *hs, struct noise_keys *keys)
{
	uint8_t first[CRYPTO_KEY_LEN], second[CRYPTO_KEY_LEN];
	bool initiator = hs->state == NOISE_CONSUMED_RESPONSE;

	if (hs->state != NOISE_CONSUMED_RESPONSE && hs->state != NOISE_CREATED_RESPONSE)
		return false;
	/* (T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, empty) */
	if (!wg_kdf(first, second, NULL, hs->chaining_key, NULL, 0)) {
		noise_handshake_clear(hs);
		return false;
	}
	memcpy(keys->send, initiator ? first : second, CRYPTO_KEY_LEN);
	memcpy(keys->receive, initiator ? second : first, CRYPTO_KEY_LEN);
	keys->local_index = hs->local_index;
	keys->remote_index = hs->remote_index;
	keys->initiator = initiator;
	crypto_wipe(first, sizeof(first));
	crypto_wipe(second, sizeof(second));
	noise_handshake_clear(hs);
	return true;
}
