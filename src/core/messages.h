/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's wire formats and every protocol constant, in one place.
 * Sources: the WireGuard paper (sections 5 and 6) and the Noise spec.
 * All multi-byte integers on the wire are little-endian.
 */
#ifndef WGATE_MESSAGES_H
#define WGATE_MESSAGES_H

#include <stdint.h>

#include "core/crypto.h"

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define LABEL_MAC1	   "mac1----"
#define LABEL_COOKIE	   "cookie--"

#define NSEC_PER_SEC  1000000000ull
#define NSEC_PER_MSEC 1000000ull

/* Section 6.1 of the paper. */
enum {
	REKEY_AFTER_TIME = 120,		   /* seconds */
	REJECT_AFTER_TIME = 180,	   /* seconds */
	REKEY_ATTEMPT_TIME = 90,	   /* seconds */
	REKEY_TIMEOUT = 5,		   /* seconds */
	KEEPALIVE_TIMEOUT = 10,		   /* seconds */
	COOKIE_SECRET_MAX_AGE = 120,	   /* seconds */
	REKEY_TIMEOUT_JITTER_MAX_MS = 334, /* jitter is 0..333 ms */
	MAX_TIMER_HANDSHAKES = REKEY_ATTEMPT_TIME / REKEY_TIMEOUT,
	MAX_STAGED_PACKETS = 128,
	MAX_PEERS = 1 << 20,
	INITIATIONS_PER_SECOND = 50, /* at most one every 20 ms per peer */
	RATELIMIT_PACKETS_PER_SECOND = 20,
	RATELIMIT_PACKETS_BURSTABLE = 5,
};
#define REKEY_AFTER_MESSAGES  (1ull << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13)) /* 2^64 - 2^13 - 1 */

enum message_type {
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

enum {
	TAI64N_LEN = 12,
	COOKIE_LEN = 16,
	COOKIE_NONCE_LEN = 24,
	MESSAGE_PADDING_MULTIPLE = 16,
};

/* Both macs end every handshake message. */
/*
 * Wire formats are read where the datagram lies: GRO joins datagrams of any
 * size, so a message may start at any offset; packed structs make every
 * field access safe at any alignment.
 */
#define WIRE_FORMAT __attribute__((packed))

struct message_macs {
	uint8_t mac1[CRYPTO_MAC_LEN];
	uint8_t mac2[CRYPTO_MAC_LEN];
} WIRE_FORMAT;

struct message_header {
	uint8_t type;
	uint8_t reserved[3]; /* zero */
} WIRE_FORMAT;

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[CRYPTO_KEY_LEN];
	uint8_t encrypted_static[CRYPTO_KEY_LEN + CRYPTO_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[TAI64N_LEN + CRYPTO_AEAD_TAG_LEN];
	struct message_macs macs;
} WIRE_FORMAT;

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[CRYPTO_KEY_LEN];
	uint8_t encrypted_nothing[CRYPTO_AEAD_TAG_LEN];
	struct message_macs macs;
} WIRE_FORMAT;

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[COOKIE_LEN + CRYPTO_AEAD_TAG_LEN];
} WIRE_FORMAT;

struct message_data {
	struct message_header header;
	uint32_t receiver_index;
	uint64_t counter;
	uint8_t encrypted_data[];
} WIRE_FORMAT;

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation is 148 bytes");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response is 92 bytes");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie reply is 64 bytes");
_Static_assert(sizeof(struct message_data) == 16, "data header is 16 bytes");
#define MESSAGE_DATA_MIN_LEN (sizeof(struct message_data) + CRYPTO_AEAD_TAG_LEN)

/* The fields are little-endian on the wire; wgate runs on little-endian hosts. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host required");

#endif
