// SPDX-License-Identifier: MIT
/* mac1/mac2 and the cookie reply: section 5.4.4 and 5.4.7 of the WireGuard paper. */
#include "core/cookie.h"

#include <string.h>

/* A cookie is used for mac2 only while younger than this, leaving room for latency. */
enum { COOKIE_SECRET_LATENCY = 5 };

static bool label_key(uint8_t out[CRYPTO_HASH_LEN], const char *label,
		      const uint8_t public_key[CRYPTO_KEY_LEN])
{
	return blake2s256(out, label, 8, public_key, CRYPTO_KEY_LEN);
}

bool cookie_checker_init(struct cookie_checker *checker, const uint8_t our_public[CRYPTO_KEY_LEN])
{
	crypto_wipe(checker, sizeof(*checker));
	return label_key(checker->mac1_key, LABEL_MAC1, our_public) &&
	       label_key(checker->cookie_key, LABEL_COOKIE, our_public);
}

bool cookie_maker_init(struct cookie_maker *maker, const uint8_t their_public[CRYPTO_KEY_LEN])
{
	crypto_wipe(maker, sizeof(*maker));
	return label_key(maker->mac1_key, LABEL_MAC1, their_public) &&
	       label_key(maker->cookie_key, LABEL_COOKIE, their_public);
}

static bool expired(uint64_t birth, uint64_t seconds, uint64_t now)
{
	return now >= birth + seconds * NSEC_PER_SEC;
}

/* tau = MAC(R_m, source), with R_m renewed every two minutes. */
static bool make_cookie(struct cookie_checker *checker, uint8_t cookie[COOKIE_LEN],
			const struct cookie_source *src, uint64_t now)
{
	if (!checker->secret_birth || expired(checker->secret_birth, COOKIE_SECRET_MAX_AGE, now)) {
		if (!crypto_random(checker->secret, sizeof(checker->secret)))
			return false;
		checker->secret_birth = now ? now : 1;
	}
	return blake2s128_keyed(cookie, checker->secret, sizeof(checker->secret), src->bytes,
				src->len);
}

enum cookie_mac_state cookie_validate(struct cookie_checker *checker, const void *msg, size_t len,
				      const struct cookie_source *src, uint64_t now)
{
	const struct message_macs *macs =
	    (const struct message_macs *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t computed[CRYPTO_MAC_LEN], cookie[COOKIE_LEN];
	enum cookie_mac_state state = COOKIE_INVALID_MAC;

	if (len < sizeof(*macs))
		return COOKIE_INVALID_MAC;
	/* mac1 = MAC(HASH(LABEL_MAC1 || S_pub), msg up to mac1) */
	if (!blake2s128_keyed(computed, checker->mac1_key, sizeof(checker->mac1_key), msg,
			      len - sizeof(*macs)) ||
	    !crypto_equal(computed, macs->mac1, CRYPTO_MAC_LEN))
		goto out;
	state = COOKIE_VALID_MAC1;
	/* mac2 = MAC(cookie, msg up to mac2) */
	if (!make_cookie(checker, cookie, src, now) ||
	    !blake2s128_keyed(computed, cookie, sizeof(cookie), msg, len - CRYPTO_MAC_LEN))
		goto out;
	if (crypto_equal(computed, macs->mac2, CRYPTO_MAC_LEN))
		state = COOKIE_VALID_MAC1_MAC2;
out:
	crypto_wipe(cookie, sizeof(cookie));
	return state;
}

bool cookie_add_macs(struct cookie_maker *maker, void *msg, size_t len, uint64_t now)
{
	struct message_macs *macs = (struct message_macs *)((uint8_t *)msg + len - sizeof(*macs));

	if (!blake2s128_keyed(macs->mac1, maker->mac1_key, sizeof(maker->mac1_key), msg,
			      len - sizeof(*macs)))
		return false;
	memcpy(maker->last_mac1_sent, macs->mac1, CRYPTO_MAC_LEN);
	maker->have_sent_mac1 = true;
	if (!maker->cookie_valid ||
	    expired(maker->cookie_birth, COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY, now)) {
		memset(macs->mac2, 0, CRYPTO_MAC_LEN);
		return true;
	}
	return blake2s128_keyed(macs->mac2, maker->cookie, sizeof(maker->cookie), msg,
				len - CRYPTO_MAC_LEN);
}

bool cookie_create_reply(struct cookie_checker *checker, struct message_handshake_cookie *reply,
			 const void *msg, size_t len, uint32_t receiver_index,
			 const struct cookie_source *src, uint64_t now)
{
	const struct message_macs *macs =
	    (const struct message_macs *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t cookie[COOKIE_LEN];
	bool ok;

	memset(reply, 0, sizeof(*reply));
	reply->header.type = MESSAGE_HANDSHAKE_COOKIE;
	reply->receiver_index = receiver_index;
	/* msg.cookie = XAEAD(HASH(LABEL_COOKIE || S_pub), nonce, tau, mac1 of msg) */
	ok = crypto_random(reply->nonce, sizeof(reply->nonce)) &&
	     make_cookie(checker, cookie, src, now) &&
	     xaead_seal(checker->cookie_key, reply->nonce, reply->encrypted_cookie, cookie,
			sizeof(cookie), macs->mac1, CRYPTO_MAC_LEN);
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}

bool cookie_consume_reply(struct cookie_maker *maker, const struct message_handshake_cookie *reply,
			  uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];

	if (!maker->have_sent_mac1 ||
	    !xaead_open(maker->cookie_key, reply->nonce, cookie, reply->encrypted_cookie,
			sizeof(cookie), maker->last_mac1_sent, CRYPTO_MAC_LEN))
		return false;
	memcpy(maker->cookie, cookie, sizeof(cookie));
	maker->cookie_birth = now ? now : 1;
	maker->cookie_valid = true;
	/* A reply answers one message only. */
	maker->have_sent_mac1 = false;
	crypto_wipe(cookie, sizeof(cookie));
	return true;
}
