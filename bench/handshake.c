// SPDX-License-Identifier: MIT
/*
 * Handshakes per second on one core: one responder device consumes a stream
 * of valid initiations from many peers and answers each, against the limit
 * X25519 alone sets. A responder does four scalar multiplications per
 * handshake (DH(s, e_i); the ephemeral's public half; DH(e, e_i); DH(e, s_i)),
 * so the limit is the rate of X25519 key agreements divided by four. The
 * initiations are made beforehand, so only the responder is timed.
 *
 *   bench-handshake [PEERS] [ROUNDS]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cookie.h"
#include "core/crypto.h"
#include "core/device.h"
#include "core/noise.h"

struct initiator {
	struct noise_identity id;
	struct noise_handshake hs;
	struct cookie_maker cookie;
};

static unsigned long responses;

static bool count_response(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	if (len == sizeof(struct message_handshake_response))
		++responses;
	return true;
}

static void write_tun(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
}

static void wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, ts);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-handshake: %s failed\n", what);
	exit(1);
}

/* X25519 key agreements per second with a loaded key, as the responder's static key is. */
static double x25519_rate(void)
{
	uint8_t priv[CRYPTO_KEY_LEN], point[CRYPTO_KEY_LEN], out[CRYPTO_KEY_LEN];
	struct x25519_key *key;
	unsigned n = 0;
	double start;

	if (!x25519_generate(priv) || !(key = x25519_key_new(priv)))
		die("x25519 key");
	if (!x25519_generate(point) || !x25519_public(point, point))
		die("x25519 point");
	start = seconds_now();
	do {
		for (int i = 0; i < 500; ++i, ++n) {
			if (!x25519_key_shared(key, out, point))
				die("x25519");
			point[0] ^= out[0] & 1; /* keep the compiler honest */
		}
	} while (seconds_now() - start < 1.0);
	x25519_key_free(key);
	return n / (seconds_now() - start);
}

int main(int argc, char **argv)
{
	unsigned peers = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
	struct device_io io = {
	    .send_udp = count_response, .write_tun = write_tun, .wall_time = wall_time};
	struct device *dev = calloc(1, sizeof(*dev));
	struct initiator *in = calloc(peers, sizeof(*in));
	struct message_handshake_initiation *msgs = calloc((size_t)peers * rounds, sizeof(*msgs));
	uint8_t priv[CRYPTO_KEY_LEN], responder_public[CRYPTO_KEY_LEN];
	struct wire_addr src = {0};
	double limit, start, elapsed, rate;
	uint64_t now = 1000000000;

	if (!dev || !in || !msgs || peers < 1 || rounds < 1)
		die("setup");
	if (!noise_init())
		die("noise_init");
	if (!device_init(dev, &io) || !x25519_generate(priv) ||
	    !device_set_private_key(dev, priv) || !x25519_public(responder_public, priv))
		die("responder");
	for (unsigned p = 0; p < peers; ++p) {
		if (!x25519_generate(priv) || !noise_identity_set(&in[p].id, priv) ||
		    !device_add_peer(dev, in[p].id.static_public) ||
		    !cookie_maker_init(&in[p].cookie, responder_public))
			die("peer");
		noise_handshake_init(&in[p].hs, responder_public, NULL);
	}
	/* One initiation per peer per round, each with a later timestamp. */
	for (unsigned r = 0; r < rounds; ++r) {
		for (unsigned p = 0; p < peers; ++p) {
			struct message_handshake_initiation *m = &msgs[(size_t)r * peers + p];
			uint8_t ts[TAI64N_LEN];

			noise_tai64n(ts, 1700000000 + r, 0);
			if (!noise_create_initiation(&in[p].hs, &in[p].id, m, p + 1, ts) ||
			    !cookie_add_macs(&in[p].cookie, m, sizeof(*m), now))
				die("initiation");
		}
	}
	limit = x25519_rate() / 4;
	src.remote.v4.sin_family = AF_INET;
	src.remote.v4.sin_port = htons(51820);
	/*
	 * The device's clock is ours: a millisecond per message keeps each peer
	 * far from the 20 ms flood limit and the device below its under-load
	 * threshold, so every initiation is handled in full.
	 */
	start = seconds_now();
	for (size_t i = 0; i < (size_t)peers * rounds; ++i) {
		src.remote.v4.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(i % peers));
		now += 1000000;
		device_receive(dev, (uint8_t *)&msgs[i], sizeof(msgs[i]), &src, now);
	}
	elapsed = seconds_now() - start;
	rate = responses / elapsed;
	printf(
	    "x25519_per_second %.0f\nhandshake_limit %.0f\nhandshakes %lu\nhandshakes_per_second "
	    "%.0f\nshare_of_limit %.2f\n",
	    limit * 4, limit, responses, rate, rate / limit);
	device_free(dev);
	free(dev);
	free(in);
	free(msgs);
	return responses == (unsigned long)peers * rounds ? 0 : 1;
}
