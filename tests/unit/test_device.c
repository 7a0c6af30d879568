// SPDX-License-Identifier: MIT
/*
 * The whole protocol on a fake network with a fake clock:
 *
 *     node A (192.0.2.1:1000)  <--- datagram queue --->  node B (192.0.2.2:2000)
 *     tunnel 10.0.0.1                                     tunnel 10.0.0.2
 *
 * Handshakes, key confirmation, data both ways, AllowedIPs on receive,
 * replay, roaming, rekeying, keepalives, retries, key expiry and cookies.
 *
 * Every test runs twice: once with the device sealing and opening as it goes,
 * and once batched as the daemon's data path does it: data messages handed
 * over as plaintext and sealed after the device call returns, received
 * datagrams opened all at once, with another context, before the device sees
 * them in order.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include "core/device.h"

#define SEC NSEC_PER_SEC

struct node {
	struct device dev;
	union sockaddr_any addr, alias; /* alias: a second address, on the same port, if set */
	unsigned stale_sources;		/* sends from an address that is not the node's */
	uint8_t private_key[32], public_key[32];
	uint8_t tun[64][2048];
	size_t tun_len[64], tun_count;
	unsigned sent_types[5];
	unsigned events[EVENT_COUNT];
	bool offline; /* drops whatever is sent to it */
};

struct datagram {
	struct wire_addr from; /* local: the address the sender chose to send from */
	union sockaddr_any to;
	uint8_t data[2048];
	size_t len;
	bool to_seal; /* batched: a data message still in plaintext */
	struct aead_key key;
	uint64_t counter;
};

static bool batched;
static struct aead_ctx batch_ctx; /* in effect another thread's */

static struct node *nodes[64];
static size_t node_count;
static struct datagram queue[4096];
static size_t queue_len;
static uint64_t now;

/* As a local_addr: the address of sa. */
static struct local_addr local_of(const union sockaddr_any *sa)
{
	struct local_addr l = {.family = sa->sa.sa_family};

	if (l.family == AF_INET)
		l.v4 = sa->v4.sin_addr;
	else if (l.family == AF_INET6)
		l.v6 = sa->v6.sin6_addr;
	return l;
}

static bool same_local(const struct local_addr *l, const union sockaddr_any *sa)
{
	struct wire_addr a = {.local = *l}, b = {.local = local_of(sa)};

	return wire_addr_equal(&a, &b);
}

static bool send_udp(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	struct node *n = ctx;
	struct datagram *d = &queue[queue_len++];

	assert_true(queue_len < 4096);
	assert_true(len <= sizeof(d->data));
	/* from the local address asked for; one that is not the node's falls back, as
	 * the data path does when the kernel refuses it */
	d->from.remote = n->addr;
	if (to->local.family != AF_UNSPEC && same_local(&to->local, &n->alias))
		d->from.remote = n->alias;
	else if (to->local.family != AF_UNSPEC && !same_local(&to->local, &n->addr))
		++n->stale_sources;
	d->to = to->remote;
	memcpy(d->data, buf, len);
	d->len = len;
	n->sent_types[((const uint8_t *)buf)[0] & 3 ? ((const uint8_t *)buf)[0] : 4]++;
	return true;
}

static bool send_data(void *ctx, const struct wire_addr *to, void *msg, size_t len,
		      const struct aead_key *key, uint64_t counter)
{
	struct datagram *d = &queue[queue_len];

	assert_true(send_udp(ctx, to, msg, len));
	d->len = len + CRYPTO_AEAD_TAG_LEN;
	d->key = *key; /* the keypair may be gone by the time it is sealed */
	d->counter = counter;
	d->to_seal = true;
	return true;
}

/* What the data path's flush does after each event: seal what was handed over. */
static void seal_pending(void)
{
	for (size_t i = 0; i < queue_len; ++i) {
		struct datagram *d = &queue[i];
		uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
		const size_t header = sizeof(struct message_data);

		if (!d->to_seal)
			continue;
		aead_counter_nonce(nonce, d->counter);
		assert_true(aead_seal(&batch_ctx, &d->key, nonce, d->data + header,
				      d->data + header, d->len - header - CRYPTO_AEAD_TAG_LEN, NULL,
				      0));
		d->to_seal = false;
		crypto_wipe(&d->key, sizeof(d->key));
	}
}

static void write_tun(void *ctx, const void *buf, size_t len)
{
	struct node *n = ctx;

	if (n->tun_count < 64) { /* the first 64 are kept; all are counted */
		memcpy(n->tun[n->tun_count], buf, len);
		n->tun_len[n->tun_count] = len;
	}
	++n->tun_count;
}

static void on_event(void *ctx, enum device_event event, const struct peer *peer)
{
	struct node *n = ctx;

	(void)peer;
	++n->events[event];
}

static void wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	ts->tv_sec = 1700000000 + (time_t)(now / SEC);
	ts->tv_nsec = (long)(now % SEC);
}

/* Delivers the datagrams queued so far (one hop); what they cause stays queued. */
static size_t deliver(void)
{
	static struct datagram batch[4096];
	size_t n = queue_len, delivered = 0;

	static struct node *to[4096];
	static struct device_open opens[4096];

	seal_pending();
	memcpy(batch, queue, n * sizeof(*batch));
	queue_len = 0;
	for (size_t i = 0; i < n; ++i) {
		to[i] = NULL;
		for (size_t j = 0; j < node_count; ++j)
			if (!nodes[j]->offline && (sockaddr_equal(&nodes[j]->addr, &batch[i].to) ||
						   sockaddr_equal(&nodes[j]->alias, &batch[i].to)))
				to[i] = nodes[j];
		/* what a receive's IP_PKTINFO tells: the address it arrived at */
		batch[i].from.local = local_of(&batch[i].to);
		opens[i] = (struct device_open){0};
		if (batched && to[i])
			device_open_prepare(&to[i]->dev, batch[i].data, batch[i].len, now,
					    &opens[i]);
	}
	for (size_t i = 0; batched && i < n; ++i)
		device_open_run(&batch_ctx, &opens[i]);
	for (size_t i = 0; i < n; ++i) {
		if (!to[i])
			continue;
		if (batched)
			device_receive_opened(&to[i]->dev, batch[i].data, batch[i].len,
					      &batch[i].from, now, &opens[i]);
		else
			device_receive(&to[i]->dev, batch[i].data, batch[i].len, &batch[i].from,
				       now);
		++delivered;
	}
	seal_pending();
	return delivered;
}

/* Advances the clock in small steps, running timers and delivering as it goes. */
static void advance(uint64_t ns)
{
	uint64_t end = now + ns;

	while (now < end) {
		uint64_t step = 10 * NSEC_PER_MSEC;

		now = now + step > end ? end : now + step;
		for (size_t j = 0; j < node_count; ++j)
			device_run_timers(&nodes[j]->dev, now);
		seal_pending();
		while (deliver())
			;
	}
}

static void set_addr(union sockaddr_any *addr, const char *ip, uint16_t port)
{
	memset(addr, 0, sizeof(*addr));
	if (strchr(ip, ':')) {
		addr->v6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &addr->v6.sin6_addr);
		addr->v6.sin6_port = htons(port);
	} else {
		addr->v4.sin_family = AF_INET;
		inet_pton(AF_INET, ip, &addr->v4.sin_addr);
		addr->v4.sin_port = htons(port);
	}
}

static struct node *new_node(const char *ip, uint16_t port)
{
	struct node *n = calloc(1, sizeof(*n));
	struct device_io io = {.ctx = n,
			       .send_udp = send_udp,
			       .write_tun = write_tun,
			       .send_data = batched ? send_data : NULL,
			       .wall_time = wall_time,
			       .event = on_event};

	assert_true(device_init(&n->dev, &io));
	assert_true(x25519_generate(n->private_key));
	assert_true(x25519_public(n->public_key, n->private_key));
	assert_true(device_set_private_key(&n->dev, n->private_key));
	set_addr(&n->addr, ip, port);
	nodes[node_count++] = n;
	return n;
}

static struct peer *connect_to(struct node *self, struct node *other, const char *allowed,
			       uint8_t cidr, bool endpoint)
{
	struct peer *p = device_add_peer(&self->dev, other->public_key);
	uint8_t a[16];
	int family = strchr(allowed, ':') ? AF_INET6 : AF_INET;

	assert_non_null(p);
	inet_pton(family, allowed, a);
	assert_true(allowedips_insert(&self->dev.allowedips, family, a, cidr, &p->allowedips));
	if (endpoint)
		peer_set_endpoint(p, &other->addr);
	return p;
}

/* An IPv4 packet of total length len (>= 28) from src to dst. */
static void send_ip(struct node *n, const char *src, const char *dst, size_t len, uint8_t fill)
{
	struct packet *p = packet_get(&n->dev.pool, len);
	uint8_t *ip = packet_payload(p);

	memset(ip, fill, len);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	p->len = len;
	device_send(&n->dev, p, now);
	seal_pending();
}

static void send_ip6(struct node *n, const char *src, const char *dst, size_t len)
{
	struct packet *p = packet_get(&n->dev.pool, len);
	uint8_t *ip = packet_payload(p);

	memset(ip, 0x66, len);
	ip[0] = 0x60;
	ip[4] = (uint8_t)((len - 40) >> 8);
	ip[5] = (uint8_t)(len - 40);
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	p->len = len;
	device_send(&n->dev, p, now);
	seal_pending();
}

static void reset_world(void)
{
	for (size_t i = 0; i < node_count; ++i) {
		device_free(&nodes[i]->dev);
		free(nodes[i]);
	}
	node_count = queue_len = 0;
	now = 1000 * SEC;
}

static struct node *a, *b;
static struct peer *a_to_b, *b_to_a;

static void pair(void)
{
	reset_world();
	a = new_node("192.0.2.1", 1000);
	b = new_node("192.0.2.2", 2000);
	a_to_b = connect_to(a, b, "10.0.0.2", 32, true);
	b_to_a = connect_to(b, a, "10.0.0.1", 32, false);
}

static void first_packet_brings_up_the_session(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 100, 0xab);
	assert_int_equal(a->sent_types[MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(a_to_b->staged.len, 1);
	deliver(); /* initiation -> B; response -> queue */
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_null(b_to_a->current); /* not confirmed yet */
	assert_non_null(b_to_a->next_keypair);
	deliver(); /* response -> A, which sends the staged packet */
	assert_int_equal(a->sent_types[4], 1);
	deliver();
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->tun_len[0], 100);
	assert_int_equal(b->tun[0][50], 0xab);
	assert_non_null(b_to_a->current);
	/* B learned A's endpoint from the handshake, and can answer */
	send_ip(b, "10.0.0.2", "10.0.0.1", 60, 0xcd);
	deliver();
	assert_int_equal(a->tun_count, 1);
	assert_int_equal(a->tun_len[0], 60);
	assert_int_equal(a_to_b->stats.handshakes_completed, 1);
	assert_int_equal(b_to_a->stats.rx_packets, 1);
}

/* The responder must not send on a keypair before the initiator has used it. */
static void responder_waits_for_confirmation(void **state)
{
	(void)state;
	pair();
	peer_send_handshake_initiation(a_to_b, false, now);
	deliver(); /* B answers; B now holds an unconfirmed next keypair */
	send_ip(b, "10.0.0.2", "10.0.0.1", 80, 1);
	assert_int_equal(b->sent_types[4], 0);
	assert_int_equal(b_to_a->staged.len, 1);
	deliver(); /* A takes the response and, having nothing staged, sends a keepalive */
	assert_int_equal(a->sent_types[4], 1);
	deliver(); /* B: confirmed, so it sends what it held */
	assert_int_equal(b->sent_types[4], 1);
	deliver();
	assert_int_equal(a->tun_count, 1);
}

static void padding_and_sizes(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 33, 0);
	deliver();
	deliver();
	assert_int_equal(queue_len, 1);
	assert_int_equal(queue[0].len, 16 + 48 + 16); /* 33 padded to 48 */
	deliver();
	assert_int_equal(b->tun_len[0], 33); /* padding removed */
	/* near the MTU, padding stops at the MTU */
	send_ip(a, "10.0.0.1", "10.0.0.2", DEFAULT_MTU - 2, 0);
	assert_int_equal(queue[0].len, 16 + DEFAULT_MTU + 16);
	deliver();
	assert_int_equal(b->tun_len[1], DEFAULT_MTU - 2);
}

static void spoofed_inner_source_dropped(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 1);
	send_ip(a, "10.0.0.99", "10.0.0.2", 40, 0); /* not in B's AllowedIPs for A */
	deliver();
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->dev.stats.dropped[DROP_ALLOWEDIPS], 1);
	/* a destination no peer covers is dropped at the sender */
	send_ip(a, "10.0.0.1", "10.9.9.9", 40, 0);
	assert_int_equal(queue_len, 0);
	assert_int_equal(a->dev.stats.dropped[DROP_NO_PEER], 1);
}

/*
 * A packet no peer can take is answered at once with ICMP destination
 * unreachable on the sender's own TUN (as the kernel driver does): for a
 * destination no AllowedIPs hold, and for a peer with no endpoint yet. A
 * bounded number each second.
 */
static void undeliverable_packets_answered_unreachable(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.9.9.9", 40, 0);
	assert_int_equal(queue_len, 0);
	assert_int_equal(a->tun_count, 1);
	assert_int_equal(a->tun_len[0], 28 + 40);
	assert_int_equal(a->tun[0][20], 3);  /* destination unreachable */
	assert_int_equal(a->tun[0][21], 1);  /* host */
	assert_int_equal(a->tun[0][16], 10); /* to the sender, 10.0.0.1 */
	assert_int_equal(a->tun[0][19], 1);
	assert_int_equal(a->dev.stats.icmp_unreachable_sent, 1);

	/* B has not heard from A: no endpoint, so nothing is staged and B learns so at once */
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	assert_int_equal(queue_len, 0);
	assert_int_equal(b_to_a->staged.len, 0);
	assert_int_equal(b->dev.stats.dropped[DROP_NO_ENDPOINT], 1);
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->tun[0][20], 3);
	/* once A has been heard from, the same packet goes through */
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver();
	assert_int_equal(a->tun_count, 2);

	/* a flood gets ICMP_ERRORS_PER_SECOND answers a second, the next second more */
	for (int i = 0; i < 3 * ICMP_ERRORS_PER_SECOND; ++i)
		send_ip(a, "10.0.0.1", "10.9.9.9", 40, 0);
	assert_int_equal(a->dev.stats.icmp_unreachable_sent, ICMP_ERRORS_PER_SECOND);
	assert_int_equal(a->dev.stats.dropped[DROP_NO_PEER], 1 + 3 * ICMP_ERRORS_PER_SECOND);
	now += SEC;
	send_ip(a, "10.0.0.1", "10.9.9.9", 40, 0);
	assert_int_equal(a->dev.stats.icmp_unreachable_sent, ICMP_ERRORS_PER_SECOND + 1);
}

static void replays_dropped(void **state)
{
	struct datagram copy;

	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver();
	copy = queue[0];
	deliver();
	queue[queue_len++] = copy;
	deliver();
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->dev.stats.dropped[DROP_REPLAY], 1);
	/* tampered data: dropped as a bad MAC, the session unharmed */
	copy.data[40] ^= 1;
	queue[queue_len++] = copy;
	deliver();
	assert_int_equal(b->dev.stats.dropped[DROP_BAD_MAC], 1);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 2);
}

static void roaming_follows_the_sender(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	set_addr(&a->addr, "198.51.100.7", 3000); /* A moves */
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 2);
	assert_true(sockaddr_equal(&b_to_a->endpoint.remote, &a->addr));
	assert_int_equal(b_to_a->stats.endpoint_changes, 1);
	assert_int_equal(b->events[EVENT_ENDPOINT_CHANGED], 1);
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver();
	assert_int_equal(a->tun_count, 1);
}

/*
 * B has two addresses and A was given the second: B answers from it (as
 * IP_PKTINFO lets the daemon), so A's endpoint stays where A sent; without
 * that, A would see B "roam" to its first address, which a NAT or firewall
 * on the way would not let through.
 */
static void answers_leave_from_the_address_reached(void **state)
{
	(void)state;
	pair();
	set_addr(&b->alias, "192.0.2.99", 2000);
	peer_set_endpoint(a_to_b, &b->alias);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 1);
	assert_true(same_local(&b_to_a->endpoint.local, &b->alias));
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver();
	assert_int_equal(a->tun_count, 1);
	assert_true(sockaddr_equal(&a_to_b->endpoint.remote, &b->alias));
	assert_int_equal(a_to_b->stats.endpoint_changes, 0);
	assert_int_equal(b->stale_sources, 0);

	/* A now reaches B's first address: B follows, and that is no roaming of A */
	peer_set_endpoint(a_to_b, &b->addr);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 2);
	assert_true(same_local(&b_to_a->endpoint.local, &b->addr));
	assert_int_equal(b_to_a->stats.endpoint_changes, 0);
	assert_int_equal(b->events[EVENT_ENDPOINT_CHANGED], 0);

	/* a configured endpoint leaves the source to the routing table */
	peer_set_endpoint(b_to_a, &a->addr);
	assert_int_equal(b_to_a->endpoint.local.family, AF_UNSPEC);
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver();
	assert_int_equal(a->tun_count, 2);
}

/* Rekey after REKEY_AFTER_TIME with traffic flowing: no packet lost. */
static void rekey_without_loss(void **state)
{
	(void)state;
	pair();
	for (int i = 0; i < 300; ++i) {
		send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
		advance(SEC / 2);
	}
	advance(SEC);
	/* 150 s of traffic: at least one rekey, and every data packet arrived */
	assert_int_equal(b->tun_count, 300);
	assert_true(a_to_b->stats.handshakes_completed >= 2);
	assert_true(a->events[EVENT_KEYPAIR_ROTATED] >= 1);
	assert_int_equal(a->events[EVENT_HANDSHAKE_COMPLETED], a_to_b->stats.handshakes_completed);
	assert_int_equal(b->dev.stats.dropped[DROP_NO_SESSION], 0);
	assert_int_equal(a_to_b->staged.len, 0);
	/* the keypair A sends on is younger than REKEY_AFTER_TIME + a handshake */
	assert_true(now - a_to_b->current->birth < 125 * SEC);
}

static void keepalive_after_receiving(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	unsigned before = b->sent_types[4];
	advance(9 * SEC);
	assert_int_equal(b->sent_types[4], before);
	advance(2 * SEC); /* KEEPALIVE_TIMEOUT after the data B received */
	assert_int_equal(b->sent_types[4], before + 1);
	assert_int_equal(b_to_a->stats.tx_packets, 1);
}

static void persistent_keepalive(void **state)
{
	(void)state;
	pair();
	peer_set_persistent_keepalive(a_to_b, 25, now); /* starts a handshake at once */
	advance(SEC);
	assert_int_equal(a_to_b->stats.handshakes_completed, 1);
	unsigned before = a->sent_types[4];
	advance(26 * SEC);
	assert_true(a->sent_types[4] >= before + 1);
	advance(50 * SEC);
	assert_true(a->sent_types[4] >= before + 3);
}

static void retries_then_gives_up(void **state)
{
	(void)state;
	pair();
	b->offline = true;
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	advance(200 * SEC);
	/* an initiation every REKEY_TIMEOUT (+ jitter) for REKEY_ATTEMPT_TIME, then silence */
	assert_in_range(a->sent_types[MESSAGE_HANDSHAKE_INITIATION], 18, 21);
	assert_int_equal(a_to_b->staged.len, 0);
	assert_int_equal(a_to_b->stats.handshakes_failed, 1);
	assert_int_equal(a->events[EVENT_HANDSHAKE_FAILED], 1);
	unsigned sent = a->sent_types[MESSAGE_HANDSHAKE_INITIATION];
	advance(100 * SEC);
	assert_int_equal(a->sent_types[MESSAGE_HANDSHAKE_INITIATION], sent);
	/* the peer comes back and a new packet brings the session up */
	b->offline = false;
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	advance(SEC);
	assert_int_equal(b->tun_count, 1);
}

/* Jitter comes from a pool of random words: in range, whole milliseconds, and varied. */
static void jitter_from_the_pool(void **state)
{
	static struct device dev;
	bool seen[REKEY_TIMEOUT_JITTER_MAX_MS] = {0};
	unsigned distinct = 0;

	(void)state;
	for (int i = 0; i < 1000; ++i) {
		uint64_t j = jitter_ns(&dev);

		assert_true(j < (uint64_t)REKEY_TIMEOUT_JITTER_MAX_MS * NSEC_PER_MSEC);
		assert_int_equal(j % NSEC_PER_MSEC, 0);
		distinct += !seen[j / NSEC_PER_MSEC];
		seen[j / NSEC_PER_MSEC] = true;
	}
	/* 1000 draws from 333 values leave about 316 distinct; a stuck pool leaves a few. */
	assert_true(distinct > 250);
}

static void keys_expire(void **state)
{
	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	b->offline = true;
	/* after REJECT_AFTER_TIME the old keypair is not used: the packet waits for a handshake */
	advance(181 * SEC);
	unsigned data_before = a->sent_types[4];
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	assert_int_equal(a->sent_types[4], data_before);
	assert_int_equal(a_to_b->staged.len, 1);
	/* and 540 s after the handshake, all key material is gone */
	advance(400 * SEC);
	assert_null(a_to_b->current);
	assert_null(a_to_b->previous);
	assert_null(b_to_a->current);
	assert_int_equal(a_to_b->handshake.state, NOISE_ZEROED);
}

/* Past its expiry a peer's sessions end and its handshakes are refused; a later expiry lets it
 * back. */
static void expiry_ends_sessions_and_refuses_handshakes(void **state)
{
	int64_t wall;

	(void)state;
	pair();
	wall = 1700000000 + (int64_t)(now / SEC); /* what wall_time() says now */
	peer_set_expiry(b_to_a, wall + 60);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 1);
	device_check_deadlines(&b->dev, wall + 59);
	assert_non_null(b_to_a->current);
	assert_int_equal(b->events[EVENT_PEER_EXPIRED], 0);
	/* the moment comes: B drops A's keys at once, and says so once */
	advance(60 * SEC);
	device_check_deadlines(&b->dev, 1700000000 + (int64_t)(now / SEC));
	device_check_deadlines(&b->dev, 1700000000 + (int64_t)(now / SEC));
	assert_int_equal(b->events[EVENT_PEER_EXPIRED], 1);
	assert_null(b_to_a->current);
	assert_null(b_to_a->next_keypair);
	assert_null(b_to_a->previous);
	/* A's data on the old session finds nothing; A's new initiation is refused, unanswered */
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 1);
	advance(6 * SEC); /* REKEY_TIMEOUT: A retries */
	deliver();
	unsigned responses = b->sent_types[MESSAGE_HANDSHAKE_RESPONSE];
	a_to_b->last_sent_handshake = 0;
	peer_send_handshake_initiation(a_to_b, false, now);
	deliver();
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], responses);
	assert_true(b->dev.stats.dropped[DROP_PEER_EXPIRED] >= 1);
	assert_true(b->events[EVENT_HANDSHAKE_REFUSED_EXPIRED] >= 1);
	/* nor does B initiate toward it */
	unsigned initiations = b->sent_types[MESSAGE_HANDSHAKE_INITIATION];
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_INITIATION], initiations);
	/* renewed: the next handshake is answered and data flows */
	peer_set_expiry(b_to_a, 1700000000 + (int64_t)(now / SEC) + 3600);
	advance(SEC); /* a later timestamp than the refused initiation's */
	a_to_b->last_sent_handshake = 0;
	peer_send_handshake_initiation(a_to_b, false, now);
	deliver(), deliver(), deliver();
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], responses + 1);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 2);
}

/* A fresh key pair for a node: what a client does when it switches to its new key. */
static void new_key_pair(uint8_t private_key[32], uint8_t public_key[32])
{
	assert_true(x25519_generate(private_key));
	assert_true(x25519_public(public_key, private_key));
}

/* An initiation from a (to b) now, whatever the rate limit says. */
static void initiate_now(struct peer *p)
{
	p->last_sent_handshake = 0;
	peer_send_handshake_initiation(p, false, now);
}

/*
 * B rotates its peer A to a new key: A's old key keeps working until A
 * switches; A's first handshake with the new key makes it the only one, the
 * same peer (addresses, counters) carrying on; the old key is refused after.
 */
static void rotation_follows_the_client(void **state)
{
	uint8_t old_private[32], new_private[32], new_public[32];

	(void)state;
	pair();
	memcpy(old_private, a->private_key, 32);
	new_key_pair(new_private, new_public);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 1);
	assert_true(device_rotate_peer(&b->dev, b_to_a, new_public, 0));
	assert_ptr_equal(device_find_peer(&b->dev, new_public), b_to_a);
	assert_ptr_equal(device_find_peer(&b->dev, a->public_key), b_to_a);
	/* the old key still handshakes and carries data; the rotation waits */
	advance(SEC);
	initiate_now(a_to_b);
	deliver(), deliver(), deliver();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 2);
	assert_non_null(b_to_a->rotation);
	assert_int_equal(b->events[EVENT_KEY_ROTATED], 0);
	uint64_t rx = b_to_a->stats.rx_bytes;
	/* A switches: its first handshake with the new key ends the rotation */
	assert_true(device_set_private_key(&a->dev, new_private));
	advance(SEC);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->events[EVENT_KEY_ROTATED], 1);
	assert_null(b_to_a->rotation);
	assert_memory_equal(b_to_a->public_key, new_public, 32);
	assert_ptr_equal(device_find_peer(&b->dev, new_public), b_to_a);
	assert_int_equal(b->tun_count, 3);
	assert_true(b_to_a->stats.rx_bytes > rx); /* the same counters, carried on */
	uint8_t dst[4] = {10, 0, 0, 1};
	assert_ptr_equal(device_peer_for_address(&b->dev, AF_INET, dst), b_to_a);
	/* B answers on the new session */
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver();
	assert_int_equal(a->tun_count, 1);
	/* the old key can no longer complete a handshake */
	unsigned responses = b->sent_types[MESSAGE_HANDSHAKE_RESPONSE];
	uint64_t refused = b->dev.stats.dropped[DROP_BAD_HANDSHAKE];
	assert_true(device_set_private_key(&a->dev, old_private));
	advance(SEC);
	initiate_now(a_to_b);
	deliver();
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], responses);
	assert_int_equal(b->dev.stats.dropped[DROP_BAD_HANDSHAKE], refused + 1);
}

/* When B initiates during a rotation it tries the current key, then the next, in turn. */
static void rotation_initiator_tries_both_keys(void **state)
{
	uint8_t new_private[32], new_public[32];

	(void)state;
	pair();
	peer_set_endpoint(b_to_a, &a->addr);
	new_key_pair(new_private, new_public);
	assert_true(device_rotate_peer(&b->dev, b_to_a, new_public, 0));
	assert_true(device_set_private_key(&a->dev, new_private)); /* A switched first */
	send_ip(b, "10.0.0.2", "10.0.0.1", 40, 0);
	deliver(); /* to the old key: A cannot even check its mac1 */
	assert_int_equal(a->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 0);
	assert_int_equal(a->dev.stats.dropped[DROP_BAD_MAC], 1);
	advance(6 * SEC); /* the retry goes to the next key, and completes */
	assert_int_equal(a->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(b->events[EVENT_KEY_ROTATED], 1);
	assert_null(b_to_a->rotation);
	assert_memory_equal(b_to_a->public_key, new_public, 32);
	assert_int_equal(a->tun_count, 1); /* the staged packet went on the new session */
}

/* At its deadline a rotation is forced: the old key's sessions end, only the next key is left. */
static void rotation_forced_at_deadline(void **state)
{
	uint8_t new_private[32], new_public[32], old_public[32];
	int64_t wall;

	(void)state;
	pair();
	memcpy(old_public, a->public_key, 32);
	new_key_pair(new_private, new_public);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	wall = 1700000000 + (int64_t)(now / SEC);
	assert_true(device_rotate_peer(&b->dev, b_to_a, new_public, wall + 30));
	device_check_deadlines(&b->dev, wall + 29);
	assert_non_null(b_to_a->rotation);
	assert_non_null(b_to_a->current);
	device_check_deadlines(&b->dev, wall + 30);
	assert_int_equal(b->events[EVENT_KEY_ROTATION_FORCED], 1);
	assert_int_equal(b->events[EVENT_KEY_ROTATED], 0);
	assert_null(b_to_a->rotation);
	assert_null(b_to_a->current);
	assert_memory_equal(b_to_a->public_key, new_public, 32);
	assert_null(device_find_peer(&b->dev, old_public));
	/* the client that never switched gets nothing more through */
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver();
	assert_int_equal(b->tun_count, 1);
	advance(SEC);
	initiate_now(a_to_b);
	deliver();
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 1); /* the first one only */
	/* once it switches, it is back */
	assert_true(device_set_private_key(&a->dev, new_private));
	advance(SEC);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 2);
}

/* Keys a rotation may not take; a second call changes the deadline only; cancel and remove. */
static void rotation_keys_checked(void **state)
{
	uint8_t k1[32], k2[32], priv[32];
	struct node *c;
	struct peer *b_to_c;

	(void)state;
	pair();
	c = new_node("192.0.2.3", 3000);
	b_to_c = connect_to(b, c, "10.0.0.3", 32, false);
	new_key_pair(priv, k1);
	new_key_pair(priv, k2);
	assert_false(device_rotate_peer(&b->dev, b_to_a, a->public_key, 0)); /* its own */
	assert_false(device_rotate_peer(&b->dev, b_to_a, c->public_key, 0)); /* another's */
	assert_false(device_rotate_peer(&b->dev, b_to_a, b->public_key, 0)); /* ours */
	assert_null(b_to_a->rotation);
	assert_true(device_rotate_peer(&b->dev, b_to_a, k1, 0));
	assert_false(device_rotate_peer(&b->dev, b_to_c, k1, 0)); /* pending for A */
	assert_true(device_rotate_peer(&b->dev, b_to_a, k1, 1800000000));
	assert_int_equal(b_to_a->rotation->deadline, 1800000000);
	assert_int_equal(b->dev.next_deadline, 1800000000);
	/* the next key names the peer: adding it finds the rotating peer */
	assert_ptr_equal(device_add_peer(&b->dev, k1), b_to_a);
	assert_int_equal(b->dev.peer_count, 2);
	/* another next key replaces the first */
	assert_true(device_rotate_peer(&b->dev, b_to_a, k2, 0));
	assert_null(device_find_peer(&b->dev, k1));
	assert_ptr_equal(device_find_peer(&b->dev, k2), b_to_a);
	device_cancel_rotation(&b->dev, b_to_a);
	assert_null(b_to_a->rotation);
	assert_null(device_find_peer(&b->dev, k2));
	assert_ptr_equal(device_find_peer(&b->dev, a->public_key), b_to_a);
	/* a peer removed mid-rotation takes both keys with it */
	assert_true(device_rotate_peer(&b->dev, b_to_c, k1, 0));
	device_remove_peer(&b->dev, b_to_c);
	assert_null(device_find_peer(&b->dev, k1));
	assert_null(device_find_peer(&b->dev, c->public_key));
	/* many rotating peers survive the buckets growing */
	for (int i = 0; i < 600; ++i) {
		uint8_t pk[32], nk[32];
		struct peer *p;

		new_key_pair(priv, pk);
		new_key_pair(priv, nk);
		p = device_add_peer(&b->dev, pk);
		assert_non_null(p);
		assert_true(device_rotate_peer(&b->dev, p, nk, 0));
		assert_ptr_equal(device_find_peer(&b->dev, nk), p);
	}
	assert_ptr_equal(device_find_peer(&b->dev, a->public_key), b_to_a);
}

static void cookies_under_load(void **state)
{
	(void)state;
	pair();
	b->dev.force_under_load = true;
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(); /* B answers with a cookie, not a response */
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_COOKIE], 1);
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 0);
	deliver();
	assert_true(a_to_b->cookie_maker.cookie_valid);
	advance(6 * SEC); /* the retry carries mac2 and goes through */
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(b->tun_count, 1);
}

/*
 * The load that switches cookies on is counted in handshake messages that
 * pass mac1: 5000 initiation-shaped datagrams of junk within a second leave
 * the device out of cookie mode; as many copies of a real initiation (valid
 * mac1, then refused as replays) put it in.
 */
static void only_mac1_valid_messages_make_load(void **state)
{
	struct wire_addr from = {0};
	uint8_t junk[sizeof(struct message_handshake_initiation)], init[sizeof(junk)];
	size_t init_len;

	(void)state;
	pair();
	from.remote = a->addr;
	for (int i = 0; i < 5000; ++i) {
		assert_true(crypto_random(junk, sizeof(junk)));
		junk[0] = MESSAGE_HANDSHAKE_INITIATION;
		junk[1] = junk[2] = junk[3] = 0;
		device_receive(&b->dev, junk, sizeof(junk), &from, now + (uint64_t)i * 100000);
	}
	assert_int_equal(b->events[EVENT_UNDER_LOAD_ENTERED], 0);
	assert_true(b->dev.stats.dropped[DROP_BAD_MAC] >= 5000);
	assert_false(now + SEC / 2 < b->dev.under_load_until);

	/* A's real initiation, caught on the way */
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	assert_int_equal(queue_len, 1);
	init_len = queue[0].len;
	memcpy(init, queue[0].data, init_len);
	queue_len = 0;
	for (int i = 0; i < UNDER_LOAD_HANDSHAKES_PER_SECOND + 10; ++i) {
		memcpy(junk, init, init_len);
		device_receive(&b->dev, junk, init_len, &from, now + SEC / 2);
	}
	assert_true(now + SEC / 2 < b->dev.under_load_until);
}

static void wrong_key_never_handshakes(void **state)
{
	uint8_t wrong[32];

	(void)state;
	pair();
	device_remove_peer(&a->dev, a_to_b);
	assert_true(x25519_generate(wrong));
	assert_true(x25519_public(wrong, wrong));
	a_to_b = device_add_peer(&a->dev, wrong);
	uint8_t ip[4] = {10, 0, 0, 2};
	assert_true(allowedips_insert(&a->dev.allowedips, AF_INET, ip, 32, &a_to_b->allowedips));
	peer_set_endpoint(a_to_b, &b->addr);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	advance(30 * SEC);
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 0);
	assert_true(b->dev.stats.dropped[DROP_BAD_MAC] >= 1);
	assert_int_equal(b->tun_count, 0);
}

static void ipv6_inside_and_outside(void **state)
{
	(void)state;
	reset_world();
	a = new_node("2001:db8::1", 1000);
	b = new_node("2001:db8::2", 2000);
	a_to_b = connect_to(a, b, "fd00::2", 128, true);
	b_to_a = connect_to(b, a, "fd00::1", 128, false);
	send_ip6(a, "fd00::1", "fd00::2", 100);
	advance(SEC);
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->tun_len[0], 100);
	send_ip6(b, "fd00::2", "fd00::1", 60);
	advance(SEC);
	assert_int_equal(a->tun_count, 1);
}

/* A hub with many peers, each bringing up its own session. */
static void many_peers(void **state)
{
	struct node *hub, *spokes[40];
	char ip[32];

	(void)state;
	reset_world();
	hub = new_node("192.0.2.100", 51820);
	for (int i = 0; i < 40; ++i) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i + 1);
		spokes[i] = new_node(ip, (uint16_t)(1000 + i));
		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		connect_to(hub, spokes[i], ip, 32, false);
		connect_to(spokes[i], hub, "10.0.0.0", 16, true);
	}
	for (int i = 0; i < 40; ++i) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		send_ip(spokes[i], ip, "10.0.0.100", 40, (uint8_t)i);
	}
	advance(SEC);
	assert_int_equal(hub->tun_count, 40);
	for (int i = 0; i < 40; ++i) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		send_ip(hub, "10.0.0.100", ip, 40, 0);
	}
	advance(SEC);
	for (int i = 0; i < 40; ++i)
		assert_int_equal(spokes[i]->tun_count, 1);
}

/* Garbage of every size and type byte: dropped and counted, never a crash. */
static void garbage_is_dropped(void **state)
{
	uint8_t buf[256];
	uint64_t seed = 7;

	(void)state;
	pair();
	for (int i = 0; i < 20000; ++i) {
		size_t len = test_rand(&seed) % sizeof(buf);

		for (size_t j = 0; j < len; ++j)
			buf[j] = (uint8_t)test_rand(&seed);
		if (len >= 4) {
			buf[0] = (uint8_t)(test_rand(&seed) % 6);
			buf[1] = buf[2] = buf[3] = 0;
		}
		if (i % 3 == 0 && len >= 148)
			len = 148;
		device_receive(&b->dev, buf, len, &(struct wire_addr){.remote = a->addr}, now);
	}
	assert_int_equal(b->tun_count, 0);
	assert_int_equal(b->sent_types[MESSAGE_HANDSHAKE_RESPONSE], 0);
}

/*
 * A message opened ahead whose session changed before the device saw it (the
 * keypair replaced, so another key id) is dropped, never passed on.
 */
static void opened_ahead_for_a_replaced_session(void **state)
{
	struct device_open op;
	struct datagram copy;

	(void)state;
	pair();
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	deliver(), deliver(), deliver();
	assert_int_equal(b->tun_count, 1);
	send_ip(a, "10.0.0.1", "10.0.0.2", 40, 0);
	assert_int_equal(queue_len, 1);
	copy = queue[0];
	queue_len = 0;
	device_open_prepare(&b->dev, copy.data, copy.len, now, &op);
	assert_non_null(op.keypair);
	device_open_run(&batch_ctx, &op);
	assert_true(op.ok);
	++op.key_id;
	device_receive_opened(&b->dev, copy.data, copy.len, &copy.from, now, &op);
	assert_int_equal(b->tun_count, 1);
	assert_int_equal(b->dev.stats.dropped[DROP_NO_SESSION], 1);
	/* a message that is no data message is left to the device */
	device_open_prepare(&b->dev, copy.data, 20, now, &op);
	assert_null(op.keypair);
}

/*
 * Two gateway nodes sharing one key (g1 preferred, g2) and a client given
 * both as endpoints; the client's session starts with g1.
 */
static struct node *g1, *g2, *client;
static struct peer *to_gateway;

static void gateway_pool(size_t endpoints, uint32_t failover_ms, uint32_t failback_ms)
{
	union sockaddr_any addrs[2];

	reset_world();
	g1 = new_node("192.0.2.10", 51820);
	g2 = new_node("192.0.2.11", 51820);
	memcpy(g2->private_key, g1->private_key, 32);
	memcpy(g2->public_key, g1->public_key, 32);
	assert_true(device_set_private_key(&g2->dev, g2->private_key));
	client = new_node("198.51.100.5", 40000);
	connect_to(g1, client, "10.0.0.5", 32, false);
	connect_to(g2, client, "10.0.0.5", 32, false);
	to_gateway = connect_to(client, g1, "10.0.0.0", 24, true);
	addrs[0] = g1->addr, addrs[1] = g2->addr;
	assert_true(
	    peer_set_endpoints(to_gateway, addrs, endpoints, failover_ms, failback_ms, now));
	send_ip(client, "10.0.0.5", "10.0.0.1", 60, 0);
	advance(SEC / 10);
	assert_int_equal(g1->tun_count, 1);
}

/* A request every 100 ms for span; returns how many were sent. */
static unsigned requests(uint64_t span)
{
	unsigned sent = 0;

	for (uint64_t t = 0; t < span; t += SEC / 10, ++sent) {
		send_ip(client, "10.0.0.5", "10.0.0.1", 60, 0);
		advance(SEC / 10);
	}
	return sent;
}

/* The preferred gateway dies: the next is used within the failover time, and stays. */
static void failover_to_the_next_endpoint(void **state)
{
	uint64_t died;
	unsigned before, sent;

	(void)state;
	gateway_pool(2, 3000, 10000);
	g1->offline = true;
	died = now;
	while (!g2->tun_count && now < died + 30 * SEC)
		requests(SEC / 10);
	/* half the failover time unanswered, half for the handshake, and the jitter */
	assert_true(now - died <= 3 * (uint64_t)SEC +
				      2 * (uint64_t)REKEY_TIMEOUT_JITTER_MAX_MS * NSEC_PER_MSEC +
				      SEC / 5);
	assert_int_equal(to_gateway->endpoints->active, 1);
	assert_true(sockaddr_equal(&to_gateway->endpoint.remote, &g2->addr));
	assert_int_equal(to_gateway->endpoints->failovers, 1);
	assert_int_equal(client->events[EVENT_ENDPOINT_FAILOVER], 1);
	/* a minute more with g1 still down: tries to return cost nothing, nothing flaps */
	before = (unsigned)g2->tun_count;
	sent = requests(60 * SEC);
	assert_int_equal(g2->tun_count - before, sent);
	assert_int_equal(to_gateway->endpoints->failovers, 1);
	assert_int_equal(to_gateway->endpoints->active, 1);
	assert_true(client->sent_types[MESSAGE_HANDSHAKE_INITIATION] >= 4); /* the tries */
	/* tried after 10 s, then 20 s more, each unanswered: the next waits 40 s */
	assert_int_equal(to_gateway->endpoints->failback_wait, 40 * SEC);
}

/* Control: with one endpoint the client keeps knocking at the dead gateway. */
static void one_endpoint_stays(void **state)
{
	(void)state;
	gateway_pool(1, 3000, 10000);
	g1->offline = true;
	requests(30 * SEC);
	assert_int_equal(g2->tun_count, 0);
	assert_int_equal(client->events[EVENT_ENDPOINT_FAILOVER], 0);
}

/* The preferred gateway returns: the client moves back once, losing nothing. */
static void failback_when_the_preferred_answers(void **state)
{
	unsigned sent;

	(void)state;
	gateway_pool(2, 2000, 5000);
	g1->offline = true;
	requests(5 * SEC);
	assert_int_equal(to_gateway->endpoints->active, 1);
	g1->offline = false;
	g1->tun_count = g2->tun_count = 0;
	sent = 0;
	while (to_gateway->endpoints->active != 0 && sent < 300)
		sent += requests(SEC / 10);
	sent += requests(3 * SEC);
	assert_int_equal(g1->tun_count + g2->tun_count, sent); /* not one lost in the move */
	assert_true(g1->tun_count > 0);
	assert_int_equal(to_gateway->endpoints->active, 0);
	assert_int_equal(to_gateway->endpoints->failbacks, 1);
	assert_int_equal(client->events[EVENT_ENDPOINT_FAILBACK], 1);
	assert_int_equal(to_gateway->endpoints->failovers, 1);
	assert_true(sockaddr_equal(&to_gateway->endpoint.remote, &g1->addr));
	/* g1 fails again soon after: over to g2, and the next return waits twice as long */
	g1->offline = true;
	requests(5 * SEC);
	assert_int_equal(to_gateway->endpoints->active, 1);
	assert_int_equal(to_gateway->endpoints->failback_wait, 10 * SEC);
}

/* A new list (a name resolved anew) moves the peer off an endpoint no longer listed. */
static void new_list_moves_off_a_gone_endpoint(void **state)
{
	union sockaddr_any only_g2[1];

	(void)state;
	gateway_pool(2, 3000, 10000);
	only_g2[0] = g2->addr;
	assert_true(peer_set_endpoints(to_gateway, only_g2, 1, 0, 0, now));
	assert_true(sockaddr_equal(&to_gateway->endpoint.remote, &g2->addr));
	advance(SEC / 10); /* a handshake with it started at once */
	send_ip(client, "10.0.0.5", "10.0.0.1", 60, 0);
	advance(SEC / 10);
	assert_int_equal(g2->tun_count, 1);
	/* a list that still holds the one in use leaves it there */
	assert_true(peer_set_endpoints(to_gateway, (union sockaddr_any[]){g1->addr, g2->addr}, 2, 0,
				       0, now));
	assert_true(sockaddr_equal(&to_gateway->endpoint.remote, &g2->addr));
	assert_int_equal(to_gateway->endpoints->active, 1);
	assert_int_equal(to_gateway->endpoints->failover_ns, 3 * SEC);
	assert_false(peer_set_endpoints(to_gateway, only_g2, PEER_ENDPOINTS_MAX + 1, 0, 0, now));
	assert_true(peer_set_endpoints(to_gateway, NULL, 0, 0, 0, now));
	assert_null(to_gateway->endpoints);
}

static int setup(void **state)
{
	(void)state;
	return noise_init() && aead_ctx_init(&batch_ctx) ? 0 : -1;
}

static int setup_batched(void **state)
{
	batched = true;
	return setup(state);
}

static int teardown(void **state)
{
	(void)state;
	reset_world();
	aead_ctx_free(&batch_ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(first_packet_brings_up_the_session),
	    cmocka_unit_test(responder_waits_for_confirmation),
	    cmocka_unit_test(padding_and_sizes),
	    cmocka_unit_test(spoofed_inner_source_dropped),
	    cmocka_unit_test(replays_dropped),
	    cmocka_unit_test(roaming_follows_the_sender),
	    cmocka_unit_test(undeliverable_packets_answered_unreachable),
	    cmocka_unit_test(answers_leave_from_the_address_reached),
	    cmocka_unit_test(rekey_without_loss),
	    cmocka_unit_test(keepalive_after_receiving),
	    cmocka_unit_test(persistent_keepalive),
	    cmocka_unit_test(retries_then_gives_up),
	    cmocka_unit_test(jitter_from_the_pool),
	    cmocka_unit_test(keys_expire),
	    cmocka_unit_test(expiry_ends_sessions_and_refuses_handshakes),
	    cmocka_unit_test(rotation_follows_the_client),
	    cmocka_unit_test(rotation_initiator_tries_both_keys),
	    cmocka_unit_test(rotation_forced_at_deadline),
	    cmocka_unit_test(rotation_keys_checked),
	    cmocka_unit_test(cookies_under_load),
	    cmocka_unit_test(only_mac1_valid_messages_make_load),
	    cmocka_unit_test(wrong_key_never_handshakes),
	    cmocka_unit_test(ipv6_inside_and_outside),
	    cmocka_unit_test(many_peers),
	    cmocka_unit_test(garbage_is_dropped),
	    cmocka_unit_test(opened_ahead_for_a_replaced_session),
	    cmocka_unit_test(failover_to_the_next_endpoint),
	    cmocka_unit_test(one_endpoint_stays),
	    cmocka_unit_test(failback_when_the_preferred_answers),
	    cmocka_unit_test(new_list_moves_off_a_gone_endpoint),
	};
	int failed = cmocka_run_group_tests_name("device", tests, setup, teardown);

	return failed +
	       cmocka_run_group_tests_name("device, batched", tests, setup_batched, teardown);
}
