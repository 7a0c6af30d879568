/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and cookie replies (the WireGuard paper, section 5.4.4 and 5.4.7).
 * The checker is ours (one per device): it verifies macs on what we receive
 * and makes cookie replies under load. A maker is per peer: it adds macs to
 * what we send and keeps the cookie the peer gave us. No I/O; times are
 * monotonic nanoseconds passed in.
 */
#ifndef WGATE_COOKIE_H
#define WGATE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/messages.h"

struct cookie_checker {
	uint8_t mac1_key[CRYPTO_HASH_LEN];   /* HASH(LABEL_MAC1 || our public key) */
	uint8_t cookie_key[CRYPTO_HASH_LEN]; /* HASH(LABEL_COOKIE || our public key) */
	uint8_t secret[CRYPTO_HASH_LEN];
	uint64_t secret_birth; /* 0: no secret yet */
};

struct cookie_maker {
	uint8_t mac1_key[CRYPTO_HASH_LEN];   /* HASH(LABEL_MAC1 || their public key) */
	uint8_t cookie_key[CRYPTO_HASH_LEN]; /* HASH(LABEL_COOKIE || their public key) */
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth;
	bool cookie_valid;
	uint8_t last_mac1_sent[CRYPTO_MAC_LEN];
	bool have_sent_mac1;
};

enum cookie_mac_state {
	COOKIE_INVALID_MAC,	/* mac1 wrong: drop silently */
	COOKIE_VALID_MAC1,	/* mac1 right, mac2 absent or wrong */
	COOKIE_VALID_MAC1_MAC2, /* both right: the sender proved its address */
};

/* The source of a packet as the cookie binds it: the IP address, then the port in network order. */
struct cookie_source {
	uint8_t bytes[16 + 2];
	size_t len;
};

bool cookie_checker_init(struct cookie_checker *checker, const uint8_t our_public[CRYPTO_KEY_LEN])
    __attribute__((warn_unused_result));
bool cookie_maker_init(struct cookie_maker *maker, const uint8_t their_public[CRYPTO_KEY_LEN])
    __attribute__((warn_unused_result));

/* msg is a whole handshake message of len bytes, ending in struct message_macs. */
enum cookie_mac_state cookie_validate(struct cookie_checker *checker, const void *msg, size_t len,
				      const struct cookie_source *src, uint64_t now);
/* Fills mac1, and mac2 when a fresh cookie is held (zeros otherwise). */
bool cookie_add_macs(struct cookie_maker *maker, void *msg, size_t len, uint64_t now)
    __attribute__((warn_unused_result));
/* A reply to msg (whose sender index is receiver_index) carrying src's cookie. */
bool cookie_create_reply(struct cookie_checker *checker, struct message_handshake_cookie *reply,
			 const void *msg, size_t len, uint32_t receiver_index,
			 const struct cookie_source *src, uint64_t now)
    __attribute__((warn_unused_result));
/* Takes the cookie from a reply to the last message we sent; false if it does not open. */
bool cookie_consume_reply(struct cookie_maker *maker, const struct message_handshake_cookie *reply,
			  uint64_t now) __attribute__((warn_unused_result));

#endif
