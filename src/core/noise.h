/* SPDX-License-Identifier: MIT */
/*
 * The Noise_IKpsk2 handshake as WireGuard uses it (the paper, section 5.4).
 * No I/O and no clocks: messages come in as structs, times as arguments, and
 * peers are found through a lookup callback. Every function that fails
 * leaves the handshake as it was.
 */
#ifndef WGATE_NOISE_H
#define WGATE_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/messages.h"

struct noise_identity {
	bool has_identity;
	uint8_t static_private[CRYPTO_KEY_LEN];
	uint8_t static_public[CRYPTO_KEY_LEN];
	struct x25519_key *static_key;
	uint8_t responder_hash[CRYPTO_HASH_LEN]; /* H after mixing our static key */
};

enum noise_state {
	NOISE_ZEROED,
	NOISE_CREATED_INITIATION,
	NOISE_CONSUMED_INITIATION,
	NOISE_CREATED_RESPONSE,
	NOISE_CONSUMED_RESPONSE,
};

/* One per peer: the handshake in progress and what it needs of the peer. */
struct noise_handshake {
	enum noise_state state;
	uint8_t remote_static[CRYPTO_KEY_LEN];
	uint8_t static_static[CRYPTO_KEY_LEN];	 /* DH(our static, their static); zero if none */
	bool static_static_ready;		 /* computed (at the first handshake) */
	uint8_t preshared_key[CRYPTO_KEY_LEN];	 /* zero when unused */
	uint8_t initiator_hash[CRYPTO_HASH_LEN]; /* H after mixing their static key */
	uint8_t hash[CRYPTO_HASH_LEN];
	uint8_t chaining_key[CRYPTO_HASH_LEN];
	uint8_t ephemeral_private[CRYPTO_KEY_LEN];
	uint8_t remote_ephemeral[CRYPTO_KEY_LEN];
	uint8_t latest_timestamp[TAI64N_LEN];
	uint64_t last_initiation_consumption; /* monotonic ns; 0 for never */
	uint32_t local_index, remote_index;
};

/* What a consumed message was, when it was not accepted. */
enum noise_result {
	NOISE_OK,
	NOISE_DECRYPT_FAILED, /* not for us, or tampered with */
	NOISE_UNKNOWN_PEER,
	NOISE_REPLAYED_TIMESTAMP,
	NOISE_FLOOD, /* a second initiation within 20 ms */
	NOISE_WRONG_STATE,
	NOISE_NO_IDENTITY,
};

/* The session keys a completed handshake yields. */
struct noise_keys {
	uint8_t send[CRYPTO_KEY_LEN];
	uint8_t receive[CRYPTO_KEY_LEN];
	uint32_t local_index, remote_index;
	bool initiator;
};

typedef struct noise_handshake *(*noise_lookup_fn)(void *ctx,
						   const uint8_t remote_static[CRYPTO_KEY_LEN]);

/*
 * Fetches the algorithms (crypto_init) and derives the protocol's constants;
 * false when OpenSSL lacks one. Call once before any handshake.
 */
bool noise_init(void) __attribute__((warn_unused_result));
/* Sets (private_key non-NULL) or clears the local identity. */
bool noise_identity_set(struct noise_identity *id, const uint8_t *private_key)
    __attribute__((warn_unused_result));
/*
 * Prepares a peer's handshake (DH(static, static) follows at the first use). Call again
 * when the identity or the preshared key (NULL for none) changes.
 */
void noise_handshake_init(struct noise_handshake *hs, const uint8_t remote_static[CRYPTO_KEY_LEN],
			  const uint8_t *preshared_key);
void noise_handshake_clear(struct noise_handshake *hs);

/* Fills everything but the macs. */
bool noise_create_initiation(struct noise_handshake *hs, const struct noise_identity *id,
			     struct message_handshake_initiation *msg, uint32_t local_index,
			     const uint8_t timestamp[TAI64N_LEN])
    __attribute__((warn_unused_result));
/*
 * On NOISE_OK, *out is the peer's handshake, now in NOISE_CONSUMED_INITIATION;
 * on NOISE_REPLAYED_TIMESTAMP and NOISE_FLOOD, the (unchanged) handshake of
 * the peer it came from; NULL otherwise.
 */
enum noise_result noise_consume_initiation(const struct noise_identity *id,
					   const struct message_handshake_initiation *msg,
					   noise_lookup_fn lookup, void *ctx, uint64_t now,
					   struct noise_handshake **out);
bool noise_create_response(struct noise_handshake *hs, const struct noise_identity *id,
			   struct message_handshake_response *msg, uint32_t local_index)
    __attribute__((warn_unused_result));
/* hs is the handshake that msg->receiver_index names. */
enum noise_result noise_consume_response(struct noise_handshake *hs,
					 const struct noise_identity *id,
					 const struct message_handshake_response *msg);
/* After NOISE_CREATED_RESPONSE or NOISE_CONSUMED_RESPONSE; clears the handshake. */
bool noise_derive_keys(struct noise_handshake *hs, struct noise_keys *keys)
    __attribute__((warn_unused_result));

/*
 * TAI64N of a wall-clock time, with the nanoseconds rounded down to a power
 * of two below 1/INITIATIONS_PER_SECOND, so that the timestamp does not leak
 * fine timing.
 */
void noise_tai64n(uint8_t out[TAI64N_LEN], int64_t unix_seconds, long nanoseconds);

#endif
