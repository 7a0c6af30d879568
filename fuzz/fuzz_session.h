/* SPDX-License-Identifier: MIT */
/*
 * What the harnesses that feed a data path share: a device A behind a data
 * path (no sockets, a TUN that is /dev/null with virtio-net headers), and a
 * device B that completed a real handshake with it, so that a harness can
 * seal bytes as B's next data message (seal_from_b) and reach what follows
 * decryption, or have A send on a live session.
 */
#ifndef WGATE_FUZZ_SESSION_H
#define WGATE_FUZZ_SESSION_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/datapath.h"
#include "fuzz_device.h"

static struct device a, b;
static struct datapath dp;
static struct udp no_sockets = {.fd4 = -1, .fd6 = -1};
static const uint64_t now = 1000000000;

/* What B sends, kept for A: handshake messages, and the key of its session. */
static uint8_t b_out[4096];
static size_t b_out_len;
static struct aead_key b_key;
static uint32_t b_receiver;
static uint64_t b_counter;
static bool b_have_key;

static bool b_send(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	(void)ctx, (void)to;
	if (len > sizeof(b_out))
		abort();
	memcpy(b_out, buf, len);
	b_out_len = len;
	return true;
}

static bool b_send_data(void *ctx, const struct wire_addr *to, void *msg, size_t len,
			const struct aead_key *key, uint64_t counter)
{
	const struct message_data *m = msg;

	(void)ctx, (void)to;
	b_key = *key;
	b_receiver = m->receiver_index;
	b_counter = counter + 1;
	b_have_key = true;
	return true;
}

static uint8_t a_out[4096];
static size_t a_out_len;

static bool a_send(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	(void)ctx, (void)to;
	if (len <= sizeof(a_out)) {
		memcpy(a_out, buf, len);
		a_out_len = len;
	}
	return true;
}

static void a_write_tun(void *ctx, const void *buf, size_t len)
{
	datapath_write_tun(ctx, buf, len);
}

static struct peer *pair(struct device *self, const uint8_t *other_public, const char *addr4)
{
	struct peer *p = device_add_peer(self, other_public);
	union sockaddr_any ep = {0};
	uint8_t any[16] = {0};

	if (!p || !allowedips_insert(&self->allowedips, AF_INET, any, 0, &p->allowedips) ||
	    !allowedips_insert(&self->allowedips, AF_INET6, any, 0, &p->allowedips))
		abort();
	ep.v4.sin_family = AF_INET;
	ep.v4.sin_port = htons(51820);
	ep.v4.sin_addr.s_addr = inet_addr(addr4);
	peer_set_endpoint(p, &ep);
	return p;
}

/* A and B, each with the other as its peer for every address, after one handshake. */
static void session_start(void)
{
	struct device_io a_io = {
	    .ctx = &dp, .send_udp = a_send, .write_tun = a_write_tun, .wall_time = fixed_wall_time};
	struct device_io b_io = {.send_udp = b_send,
				 .send_data = b_send_data,
				 .write_tun = write_nothing,
				 .wall_time = fixed_wall_time};
	uint8_t a_private[32], b_private[32], a_public[32], b_public[32];
	struct wire_addr from_b = {0}, from_a = {0};
	static const uint8_t ping[28] = {0x45, 0, 0, 28, 0,  0, 0, 0, 64, 1, 0,	   0,
					 10,   0, 0, 2,	 10, 0, 0, 1, 8,  0, 0xf7, 0xff};
	struct packet *p;

	fuzz_start();
	memset(a_private, 0x41, sizeof(a_private));
	memset(b_private, 0x42, sizeof(b_private));
	if (!datapath_init(&dp, DATAPATH_ALL, 1) || !device_init(&a, &a_io) ||
	    !device_init(&b, &b_io) || !device_set_private_key(&a, a_private) ||
	    !device_set_private_key(&b, b_private) || !x25519_public(a_public, a_private) ||
	    !x25519_public(b_public, b_private))
		abort();
	dp.udp = &no_sockets;
	dp.tun_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dp.tun_vnet_hdr = true; /* as a TUN with offloads: decrypted packets coalesce */
	dp.coalescer.udp = true;
	pair(&a, b_public, "192.0.2.2");
	pair(&b, a_public, "192.0.2.1");
	from_b.remote.v4.sin_family = AF_INET;
	from_b.remote.v4.sin_port = htons(51820);
	from_b.remote.v4.sin_addr.s_addr = inet_addr("192.0.2.2");
	from_a = from_b;
	from_a.remote.v4.sin_addr.s_addr = inet_addr("192.0.2.1");

	/* B's first packet starts the handshake; A answers; B confirms with the staged packet. */
	p = packet_get(&b.pool, sizeof(ping));
	memcpy(packet_payload(p), ping, sizeof(ping));
	p->len = sizeof(ping);
	device_send(&b, p, now);
	if (!b_out_len)
		abort();
	device_receive(&a, b_out, b_out_len, &from_b, now);
	if (!a_out_len)
		abort();
	device_receive(&b, a_out, a_out_len, &from_a, now);
	if (!b_have_key)
		abort();
}

/* A data message from B carrying payload, sealed under B's session, at out. */
static size_t seal_from_b(uint8_t *out, size_t cap, const uint8_t *payload, size_t len)
{
	struct message_data *m = (struct message_data *)out;
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
	size_t total = sizeof(*m) + len + CRYPTO_AEAD_TAG_LEN;

	if (total > cap)
		return 0;
	m->header = (struct message_header){.type = MESSAGE_DATA};
	m->receiver_index = b_receiver;
	m->counter = b_counter; /* little-endian host (messages.h) */
	memcpy(out + sizeof(*m), payload, len);
	aead_counter_nonce(nonce, b_counter++);
	if (!aead_seal(&a.aead, &b_key, nonce, out + sizeof(*m), out + sizeof(*m), len, NULL, 0))
		abort();
	return total;
}

#endif
