// SPDX-License-Identifier: MIT
/* The handshake in memory, both roles; tampering; replays; cookies; rate limits. */
#include "testutil.h"

#include <netinet/in.h>

#include "core/cookie.h"
#include "core/noise.h"
#include "core/ratelimiter.h"

struct side {
	struct noise_identity id;
	struct noise_handshake hs; /* this side's state for the other side */
	struct cookie_checker checker;
	struct cookie_maker maker;
	uint8_t private_key[32];
};

static struct side alice, bob;
static const uint64_t t0 = 1000 * NSEC_PER_SEC;

static struct noise_handshake *lookup(void *ctx, const uint8_t remote_static[32])
{
	struct side *self = ctx;

	return crypto_equal(self->hs.remote_static, remote_static, 32) ? &self->hs : NULL;
}

static void make_pair(const uint8_t *psk_a, const uint8_t *psk_b)
{
	struct side *sides[] = {&alice, &bob};

	for (int i = 0; i < 2; ++i) {
		assert_true(noise_identity_set(&sides[i]->id, NULL));
		assert_true(x25519_generate(sides[i]->private_key));
		assert_true(noise_identity_set(&sides[i]->id, sides[i]->private_key));
		assert_true(cookie_checker_init(&sides[i]->checker, sides[i]->id.static_public));
	}
	noise_handshake_init(&alice.hs, bob.id.static_public, psk_a);
	noise_handshake_init(&bob.hs, alice.id.static_public, psk_b);
	assert_true(cookie_maker_init(&alice.maker, bob.id.static_public));
	assert_true(cookie_maker_init(&bob.maker, alice.id.static_public));
}

static void timestamp(uint8_t ts[12], int64_t seconds)
{
	noise_tai64n(ts, seconds, 0);
}

/* A full exchange; returns the keys each side derived. */
static void handshake(struct noise_keys *ka, struct noise_keys *kb, int64_t when)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_handshake *found;
	uint8_t ts[12];

	timestamp(ts, when);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 0x11111111, ts));
	assert_int_equal(noise_consume_initiation(&bob.id, &init, lookup, &bob,
						  t0 + (uint64_t)when * NSEC_PER_SEC, &found),
			 NOISE_OK);
	assert_ptr_equal(found, &bob.hs);
	assert_true(noise_create_response(&bob.hs, &bob.id, &resp, 0x22222222));
	assert_int_equal(noise_consume_response(&alice.hs, &alice.id, &resp), NOISE_OK);
	assert_true(noise_derive_keys(&alice.hs, ka));
	assert_true(noise_derive_keys(&bob.hs, kb));
}

static void check_keys(const struct noise_keys *ka, const struct noise_keys *kb)
{
	uint8_t msg[32] = "data through the new session", sealed[48], out[32];

	assert_memory_equal(ka->send, kb->receive, 32);
	assert_memory_equal(ka->receive, kb->send, 32);
	assert_memory_not_equal(ka->send, ka->receive, 32);
	assert_true(ka->initiator);
	assert_false(kb->initiator);
	assert_int_equal(ka->local_index, kb->remote_index);
	assert_int_equal(ka->remote_index, kb->local_index);
	assert_true(aead_seal_once(ka->send, 0, sealed, msg, 32, NULL, 0));
	assert_true(aead_open_once(kb->receive, 0, out, sealed, 32, NULL, 0));
	assert_memory_equal(out, msg, 32);
}

static void handshake_without_psk(void **state)
{
	struct noise_keys ka, kb;

	(void)state;
	make_pair(NULL, NULL);
	handshake(&ka, &kb, 1);
	check_keys(&ka, &kb);
	assert_int_equal(alice.hs.state, NOISE_ZEROED);
	assert_true(crypto_is_zero(alice.hs.chaining_key, 32));
	assert_true(crypto_is_zero(bob.hs.ephemeral_private, 32));
	/* and again, the other way round: roles swap cleanly */
	struct side tmp = alice;
	alice = bob;
	bob = tmp;
	handshake(&ka, &kb, 2);
	check_keys(&ka, &kb);
}

static void handshake_with_psk(void **state)
{
	uint8_t psk[32], other[32];
	struct noise_keys ka, kb;
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_handshake *found;
	uint8_t ts[12];

	(void)state;
	assert_true(crypto_random(psk, 32));
	make_pair(psk, psk);
	handshake(&ka, &kb, 1);
	check_keys(&ka, &kb);

	/* mismatched preshared keys: the response does not open */
	memcpy(other, psk, 32);
	other[0] ^= 1;
	make_pair(psk, other);
	timestamp(ts, 1);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 1, ts));
	assert_int_equal(noise_consume_initiation(&bob.id, &init, lookup, &bob, t0, &found),
			 NOISE_OK);
	assert_true(noise_create_response(&bob.hs, &bob.id, &resp, 2));
	assert_int_equal(noise_consume_response(&alice.hs, &alice.id, &resp), NOISE_DECRYPT_FAILED);
	assert_int_equal(alice.hs.state, NOISE_CREATED_INITIATION); /* unchanged */
}

/* Every byte of the initiation before the macs, and of the response, is authenticated. */
static void every_byte_flipped(void **state)
{
	struct message_handshake_initiation init, bad_init;
	struct message_handshake_response resp, bad_resp;
	struct noise_handshake *found;
	uint8_t ts[12];

	(void)state;
	make_pair(NULL, NULL);
	timestamp(ts, 5);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 7, ts));
	for (size_t i = offsetof(struct message_handshake_initiation, unencrypted_ephemeral);
	     i < offsetof(struct message_handshake_initiation, macs); ++i) {
		bad_init = init;
		((uint8_t *)&bad_init)[i] ^= 0x01;
		assert_int_not_equal(
		    noise_consume_initiation(&bob.id, &bad_init, lookup, &bob, t0, &found),
		    NOISE_OK);
	}
	assert_int_equal(bob.hs.state, NOISE_ZEROED);
	assert_int_equal(noise_consume_initiation(&bob.id, &init, lookup, &bob, t0, &found),
			 NOISE_OK);
	assert_true(noise_create_response(&bob.hs, &bob.id, &resp, 9));
	/* (type and sender index are covered by mac1 alone, checked below) */
	for (size_t i = offsetof(struct message_handshake_response, receiver_index);
	     i < offsetof(struct message_handshake_response, macs); ++i) {
		bad_resp = resp;
		((uint8_t *)&bad_resp)[i] ^= 0x80;
		assert_int_not_equal(noise_consume_response(&alice.hs, &alice.id, &bad_resp),
				     NOISE_OK);
		assert_int_equal(alice.hs.state, NOISE_CREATED_INITIATION);
	}
	assert_int_equal(noise_consume_response(&alice.hs, &alice.id, &resp), NOISE_OK);

	/* and the macs: every byte of every message is covered by mac1 */
	assert_true(cookie_add_macs(&alice.maker, &init, sizeof(init), t0));
	struct cookie_source src = {.bytes = {10, 0, 0, 1, 0xca, 0x6c}, .len = 6};
	assert_int_equal(cookie_validate(&bob.checker, &init, sizeof(init), &src, t0),
			 COOKIE_VALID_MAC1);
	for (size_t i = 0; i < offsetof(struct message_handshake_initiation, macs.mac2); ++i) {
		bad_init = init;
		((uint8_t *)&bad_init)[i] ^= 0x04;
		assert_int_equal(cookie_validate(&bob.checker, &bad_init, sizeof(init), &src, t0),
				 COOKIE_INVALID_MAC);
	}
	assert_true(cookie_add_macs(&bob.maker, &resp, sizeof(resp), t0));
	assert_int_equal(cookie_validate(&alice.checker, &resp, sizeof(resp), &src, t0),
			 COOKIE_VALID_MAC1);
	for (size_t i = 0; i < offsetof(struct message_handshake_response, macs.mac2); ++i) {
		bad_resp = resp;
		((uint8_t *)&bad_resp)[i] ^= 0x04;
		assert_int_equal(cookie_validate(&alice.checker, &bad_resp, sizeof(resp), &src, t0),
				 COOKIE_INVALID_MAC);
	}
}

static void replay_flood_and_strangers(void **state)
{
	struct message_handshake_initiation init, old;
	struct noise_handshake *found;
	struct noise_identity stranger = {0};
	uint8_t ts[12], key[32];

	(void)state;
	make_pair(NULL, NULL);
	timestamp(ts, 10);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 1, ts));
	old = init;
	assert_int_equal(noise_consume_initiation(&bob.id, &init, lookup, &bob, t0, &found),
			 NOISE_OK);
	/* the same message again, even much later */
	assert_int_equal(
	    noise_consume_initiation(&bob.id, &old, lookup, &bob, t0 + 60 * NSEC_PER_SEC, &found),
	    NOISE_REPLAYED_TIMESTAMP);
	assert_ptr_equal(found, &bob.hs); /* it names the peer, for its counters */
	/* a newer timestamp, but within 20 ms of the last accepted */
	timestamp(ts, 11);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 2, ts));
	assert_int_equal(
	    noise_consume_initiation(&bob.id, &init, lookup, &bob, t0 + 19 * NSEC_PER_MSEC, &found),
	    NOISE_FLOOD);
	assert_int_equal(
	    noise_consume_initiation(&bob.id, &init, lookup, &bob, t0 + 20 * NSEC_PER_MSEC, &found),
	    NOISE_OK);

	/* an identity the responder does not know */
	assert_true(x25519_generate(key));
	assert_true(noise_identity_set(&stranger, key));
	struct noise_handshake stranger_hs = {0};
	noise_handshake_init(&stranger_hs, bob.id.static_public, NULL);
	timestamp(ts, 12);
	assert_true(noise_create_initiation(&stranger_hs, &stranger, &init, 3, ts));
	assert_int_equal(
	    noise_consume_initiation(&bob.id, &init, lookup, &bob, t0 + NSEC_PER_SEC, &found),
	    NOISE_UNKNOWN_PEER);
	assert_null(found);
	/* sent to the wrong responder: the static key does not open */
	assert_int_equal(
	    noise_consume_initiation(&alice.id, &init, lookup, &alice, t0 + NSEC_PER_SEC, &found),
	    NOISE_DECRYPT_FAILED);
	assert_true(noise_identity_set(&stranger, NULL));

	/* a peer whose key gives an all-zero DH can never handshake */
	uint8_t zero[32] = {0};
	noise_handshake_init(&stranger_hs, zero, NULL);
	assert_false(noise_create_initiation(&stranger_hs, &alice.id, &init, 4, ts));
}

static void tai64n_order(void **state)
{
	uint8_t a[12], b[12], c[12];

	(void)state;
	noise_tai64n(a, 1700000000, 999999999);
	noise_tai64n(b, 1700000001, 0);
	noise_tai64n(c, 1700000001, 16777215); /* rounded down to 0: not newer than b */
	assert_true(memcmp(a, b, 12) < 0);
	assert_memory_equal(b, c, 12);
	assert_hex_equal(b, "400000006553f10b00000000");
}

/* Under load: a cookie reply, then mac2 proves the source address. */
static void cookie_round_trip(void **state)
{
	struct message_handshake_initiation init;
	struct message_handshake_cookie reply, bad;
	struct cookie_source src = {.bytes = {192, 0, 2, 7, 0x13, 0x88}, .len = 6};
	struct cookie_source other = {.bytes = {192, 0, 2, 8, 0x13, 0x88}, .len = 6};
	uint8_t ts[12];

	(void)state;
	make_pair(NULL, NULL);
	timestamp(ts, 1);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 42, ts));
	assert_true(cookie_add_macs(&alice.maker, &init, sizeof(init), t0));
	assert_true(crypto_is_zero(init.macs.mac2, 16)); /* no cookie yet */
	assert_int_equal(cookie_validate(&bob.checker, &init, sizeof(init), &src, t0),
			 COOKIE_VALID_MAC1);
	assert_true(cookie_create_reply(&bob.checker, &reply, &init, sizeof(init),
					init.sender_index, &src, t0));
	assert_int_equal(reply.receiver_index, 42);
	for (size_t i = offsetof(struct message_handshake_cookie, nonce); i < sizeof(reply); ++i) {
		bad = reply;
		((uint8_t *)&bad)[i] ^= 1;
		assert_false(cookie_consume_reply(&alice.maker, &bad, t0));
	}
	assert_true(cookie_consume_reply(&alice.maker, &reply, t0));
	assert_false(cookie_consume_reply(&alice.maker, &reply, t0)); /* answers one message only */

	/* the retry carries mac2 */
	timestamp(ts, 2);
	assert_true(noise_create_initiation(&alice.hs, &alice.id, &init, 43, ts));
	assert_true(cookie_add_macs(&alice.maker, &init, sizeof(init), t0 + NSEC_PER_SEC));
	assert_int_equal(
	    cookie_validate(&bob.checker, &init, sizeof(init), &src, t0 + NSEC_PER_SEC),
	    COOKIE_VALID_MAC1_MAC2);
	/* from another address, the cookie is worthless */
	assert_int_equal(
	    cookie_validate(&bob.checker, &init, sizeof(init), &other, t0 + NSEC_PER_SEC),
	    COOKIE_VALID_MAC1);
	/* the responder's secret rotates after 120 s: old cookies stop working */
	assert_int_equal(
	    cookie_validate(&bob.checker, &init, sizeof(init), &src, t0 + 121 * NSEC_PER_SEC),
	    COOKIE_VALID_MAC1);
	/* the initiator stops using a cookie after 115 s */
	assert_true(cookie_add_macs(&alice.maker, &init, sizeof(init), t0 + 116 * NSEC_PER_SEC));
	assert_true(crypto_is_zero(init.macs.mac2, 16));
}

static void rate_limits(void **state)
{
	struct ratelimiter rl;
	uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
	uint8_t v6a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 1, 1}, v6b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 1, 2};
	uint8_t v6c[16] = {0xfd, 0, 0, 0, 0, 0, 0, 2, 1};
	uint64_t now = t0;

	(void)state;
	assert_true(ratelimiter_init(&rl, 100));
	for (int i = 0; i < RATELIMIT_PACKETS_BURSTABLE; ++i)
		assert_true(ratelimiter_allow(&rl, AF_INET, a, now));
	assert_false(ratelimiter_allow(&rl, AF_INET, a, now));
	assert_true(ratelimiter_allow(&rl, AF_INET, b, now)); /* another source */
	now += NSEC_PER_SEC / RATELIMIT_PACKETS_PER_SECOND;
	assert_true(ratelimiter_allow(&rl, AF_INET, a, now)); /* one token refilled */
	assert_false(ratelimiter_allow(&rl, AF_INET, a, now));
	/* 20 a second sustained */
	int allowed = 0;
	for (int i = 0; i < 1000; ++i)
		allowed +=
		    ratelimiter_allow(&rl, AF_INET, a, now + (uint64_t)i * NSEC_PER_SEC / 100);
	assert_in_range(allowed, 195, 205);
	/* IPv6 sources share a bucket per /64 */
	for (int i = 0; i < RATELIMIT_PACKETS_BURSTABLE; ++i)
		assert_true(ratelimiter_allow(&rl, AF_INET6, v6a, now));
	assert_false(ratelimiter_allow(&rl, AF_INET6, v6b, now));
	assert_true(ratelimiter_allow(&rl, AF_INET6, v6c, now));
	/* idle entries are collected */
	ratelimiter_gc(&rl, now + 20 * NSEC_PER_SEC);
	assert_int_equal(rl.count, 0);
	/*
	 * A flood from ten times as many sources as the table holds, each
	 * sending 5 a round: a new source still gets through at once, the
	 * table stays at its size, and sources evicted and back get one
	 * message each time, not a burst.
	 */
	int flood_allowed = 0, legit_allowed = 0;
	for (int round = 0; round < 20; ++round) {
		uint64_t t = now + (uint64_t)round * NSEC_PER_SEC / 10;
		uint8_t legit[4] = {192, 0, 2, (uint8_t)round};

		for (uint32_t i = 0; i < 1000; ++i) {
			uint32_t src = 0x0a000000u + i;

			for (int k = 0; k < 5; ++k)
				flood_allowed += ratelimiter_allow(&rl, AF_INET, &src, t);
		}
		legit_allowed += ratelimiter_allow(&rl, AF_INET, legit, t);
		assert_true(rl.count <= 100);
	}
	/* about one per source and round, of the 5 each sent (100000 in all) */
	assert_in_range(flood_allowed, 20 * 900, 20 * 1100);
	assert_int_equal(legit_allowed, 20);
	/* a source already in the table keeps its rate */
	uint8_t steady[4] = {192, 0, 2, 200};
	int steady_allowed = 0;
	for (int i = 0; i < 50; ++i)
		steady_allowed += ratelimiter_allow(&rl, AF_INET, steady, now + 3 * NSEC_PER_SEC);
	assert_int_equal(steady_allowed, 1); /* let in while full: no burst */
	ratelimiter_free(&rl);
}

static int setup(void **state)
{
	(void)state;
	return noise_init() ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	assert_true(noise_identity_set(&alice.id, NULL));
	assert_true(noise_identity_set(&bob.id, NULL));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(handshake_without_psk), cmocka_unit_test(handshake_with_psk),
	    cmocka_unit_test(every_byte_flipped),    cmocka_unit_test(replay_flood_and_strangers),
	    cmocka_unit_test(tai64n_order),	     cmocka_unit_test(cookie_round_trip),
	    cmocka_unit_test(rate_limits),
	};
	return cmocka_run_group_tests_name("noise", tests, setup, teardown);
}
