// SPDX-License-Identifier: MIT
/* The device: peers by public key, identity, configuration, and the TUN side. */
#include "core/device.h"

#include <stdlib.h>
#include <string.h>

#include "core/icmp.h"

/* Reports entering and leaving the under-load state once each. */
static void note_load(struct device *dev, uint64_t now)
{
	bool loaded = now < dev->under_load_until;

	if (loaded != dev->under_load_reported) {
		dev->under_load_reported = loaded;
		device_event(dev, loaded ? EVENT_UNDER_LOAD_ENTERED : EVENT_UNDER_LOAD_LEFT, NULL);
	}
}

static void expired_gc(struct timer *t, uint64_t now)
{
	struct device *dev = container_of(t, struct device, timer_gc);

	ratelimiter_gc(&dev->ratelimiter, now);
	note_load(dev, now);
	timer_mod(&dev->timers, &dev->timer_gc, now + NSEC_PER_SEC);
}

bool device_init(struct device *dev, const struct device_io *io)
{
	memset(dev, 0, sizeof(*dev));
	dev->io = *io;
	dev->mtu = DEFAULT_MTU;
	dev->pool.max_free = 4096;
	dev->peer_bucket_count = 256;
	dev->peer_buckets = calloc(dev->peer_bucket_count, sizeof(*dev->peer_buckets));
	allowedips_init(&dev->allowedips);
	timer_init(&dev->timer_gc, expired_gc);
	if (!dev->peer_buckets || !aead_ctx_init(&dev->aead) || !index_table_init(&dev->indices) ||
	    !ratelimiter_init(&dev->ratelimiter, 8192) || !timer_queue_reserve(&dev->timers, 64)) {
		device_free(dev);
		return false;
	}
	timer_mod(&dev->timers, &dev->timer_gc, NSEC_PER_SEC);
	return true;
}

void device_free(struct device *dev)
{
	device_remove_all_peers(dev);
	timer_del(&dev->timers, &dev->timer_gc);
	free(dev->peer_buckets);
	index_table_free(&dev->indices);
	ratelimiter_free(&dev->ratelimiter);
	allowedips_free(&dev->allowedips);
	timer_queue_free(&dev->timers);
	packet_pool_free(&dev->pool);
	aead_ctx_free(&dev->aead);
	if (!noise_identity_set(&dev->identity, NULL))
		abort(); /* clearing cannot fail */
	crypto_wipe(dev, sizeof(*dev));
}

static struct peer_key_link **bucket(const struct device *dev, const uint8_t key[CRYPTO_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* public keys are uniformly distributed */
	return &dev->peer_buckets[h & (dev->peer_bucket_count - 1)];
}

struct peer_key_link *device_find_key(const struct device *dev,
				      const uint8_t public_key[CRYPTO_KEY_LEN])
{
	for (struct peer_key_link *l = *bucket(dev, public_key); l; l = l->next)
		if (crypto_equal(l->public_key, public_key, CRYPTO_KEY_LEN))
			return l;
	return NULL;
}

struct peer *device_find_peer(const struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN])
{
	struct peer_key_link *l = device_find_key(dev, public_key);

	return l ? l->peer : NULL;
}

static void link_add(struct device *dev, struct peer_key_link *link)
{
	struct peer_key_link **b = bucket(dev, link->public_key);

	link->next = *b;
	*b = link;
}

static void link_remove(struct device *dev, struct peer_key_link *link)
{
	struct peer_key_link **p;

	for (p = bucket(dev, link->public_key); *p && *p != link; p = &(*p)->next)
		;
	if (*p)
		*p = link->next;
	link->next = NULL;
}

static void grow_buckets(struct device *dev)
{
	size_t old_count = dev->peer_bucket_count;
	struct peer_key_link **old = dev->peer_buckets,
			     **fresh = calloc(old_count * 2, sizeof(*fresh));

	if (!fresh)
		return; /* longer chains, still correct */
	dev->peer_buckets = fresh;
	dev->peer_bucket_count = old_count * 2;
	for (size_t i = 0; i < old_count; ++i) {
		for (struct peer_key_link *l = old[i], *next; l; l = next) {
			next = l->next;
			link_add(dev, l);
		}
	}
	free(old);
}

struct peer *device_add_peer(struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN])
{
	struct peer *peer = device_find_peer(dev, public_key);

	return peer ? peer : device_add_new_peer(dev, public_key);
}

struct peer *device_add_new_peer(struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN])
{
	struct peer *peer;

	if (dev->peer_count >= MAX_PEERS ||
	    (dev->identity.has_identity &&
	     crypto_equal(public_key, dev->identity.static_public, CRYPTO_KEY_LEN)))
		return NULL;
	peer = malloc(sizeof(*peer));
	if (!peer || !peer_init(peer, dev, public_key)) {
		free(peer);
		return NULL;
	}
	if (dev->peer_count >= dev->peer_bucket_count)
		grow_buckets(dev);
	link_add(dev, &peer->link);
	peer->prev = dev->last_peer;
	*(dev->last_peer ? &dev->last_peer->next : &dev->first_peer) = peer;
	dev->last_peer = peer;
	++dev->peer_count;
	return peer;
}

void device_remove_peer(struct device *dev, struct peer *peer)
{
	device_cancel_rotation(dev, peer);
	link_remove(dev, &peer->link);
	*(peer->prev ? &peer->prev->next : &dev->first_peer) = peer->next;
	*(peer->next ? &peer->next->prev : &dev->last_peer) = peer->prev;
	--dev->peer_count;
	peer_destroy(peer);
	free(peer);
}

static void note_deadline(struct device *dev, int64_t when)
{
	if (when && (!dev->next_deadline || when < dev->next_deadline))
		dev->next_deadline = when;
}

void device_note_deadline(struct device *dev, int64_t when)
{
	note_deadline(dev, when);
}

bool device_rotate_peer(struct device *dev, struct peer *peer,
			const uint8_t next_key[CRYPTO_KEY_LEN], int64_t deadline)
{
	struct peer_key_link *owner = device_find_key(dev, next_key);
	struct peer_rotation *r;

	if (owner && owner == (peer->rotation ? &peer->rotation->link : NULL)) {
		peer->rotation->deadline = deadline; /* the same rotation: a new deadline only */
		note_deadline(dev, deadline);
		return true;
	}
	if (owner || crypto_is_zero(next_key, CRYPTO_KEY_LEN) ||
	    (dev->identity.has_identity &&
	     crypto_equal(next_key, dev->identity.static_public, CRYPTO_KEY_LEN)))
		return false; /* its own key, another peer's, or ours */
	r = calloc(1, sizeof(*r));
	if (!r || !cookie_maker_init(&r->cookie_maker, next_key)) {
		free(r);
		return false;
	}
	device_cancel_rotation(dev, peer);
	memcpy(r->public_key, next_key, CRYPTO_KEY_LEN);
	noise_handshake_init(&r->handshake, next_key,
			     peer->has_preshared_key ? peer->handshake.preshared_key : NULL);
	r->link.peer = peer;
	r->link.public_key = r->public_key;
	r->deadline = deadline;
	link_add(dev, &r->link);
	peer->rotation = r;
	note_deadline(dev, deadline);
	return true;
}

/* Forgets the rotation's key, and its handshake if one of ours was in flight. */
static void drop_rotation(struct device *dev, struct peer *peer)
{
	if (peer->initiating_next)
		index_remove(&dev->indices, &peer->handshake_entry);
	link_remove(dev, &peer->rotation->link);
	crypto_wipe(peer->rotation, sizeof(*peer->rotation));
	free(peer->rotation);
	peer->rotation = NULL;
	peer->initiating_next = peer->sent_with_next = false;
}

void device_cancel_rotation(struct device *dev, struct peer *peer)
{
	if (peer->rotation)
		drop_rotation(dev, peer);
}

void device_finish_rotation(struct device *dev, struct peer *peer, bool forced)
{
	struct peer_rotation *r = peer->rotation;

	/* said first, while the event can still see both keys */
	device_event(dev, forced ? EVENT_KEY_ROTATION_FORCED : EVENT_KEY_ROTATED, peer);
	if (forced) {
		peer_clear_keys(peer);
		peer->last_sent_handshake = 0;
	} else {
		/* the sessions of the old key end; the handshake being completed goes on */
		keypair_free(dev, peer->previous);
		keypair_free(dev, peer->current);
		keypair_free(dev, peer->next_keypair);
		peer->previous = peer->current = peer->next_keypair = NULL;
	}
	link_remove(dev, &peer->link);
	link_remove(dev, &r->link);
	memcpy(peer->public_key, r->public_key, CRYPTO_KEY_LEN);
	crypto_wipe(&peer->handshake, sizeof(peer->handshake));
	peer->handshake = r->handshake;
	peer->cookie_maker = r->cookie_maker;
	crypto_wipe(r, sizeof(*r));
	free(r);
	peer->rotation = NULL;
	peer->initiating_next = peer->sent_with_next = false;
	link_add(dev, &peer->link);
}

void device_remove_all_peers(struct device *dev)
{
	while (dev->first_peer)
		device_remove_peer(dev, dev->first_peer);
}

bool device_set_private_key(struct device *dev, const uint8_t *private_key)
{
	uint8_t public_key[CRYPTO_KEY_LEN];
	struct peer *self;

	if (private_key && dev->identity.has_identity &&
	    crypto_equal(private_key, dev->identity.static_private, CRYPTO_KEY_LEN))
		return true;
	if (private_key) {
		if (!x25519_public(public_key, private_key))
			return false;
		/* A peer with our own key can never handshake; as the kernel does, drop it. */
		for (struct peer *p = dev->first_peer; p; p = p->next)
			if (p->rotation &&
			    crypto_equal(p->rotation->public_key, public_key, CRYPTO_KEY_LEN))
				device_cancel_rotation(dev, p);
		self = device_find_peer(dev, public_key);
		if (self)
			device_remove_peer(dev, self);
	}
	if (!noise_identity_set(&dev->identity, private_key))
		return false;
	if (private_key && !cookie_checker_init(&dev->cookie_checker, public_key))
		return false;
	if (!private_key)
		crypto_wipe(&dev->cookie_checker, sizeof(dev->cookie_checker));
	for (struct peer *p = dev->first_peer; p; p = p->next) {
		uint8_t psk[CRYPTO_KEY_LEN];

		memcpy(psk, p->handshake.preshared_key, sizeof(psk));
		peer_clear_keys(p);
		peer_set_preshared_key(p, p->has_preshared_key ? psk : NULL);
		p->last_sent_handshake = 0;
		crypto_wipe(psk, sizeof(psk));
	}
	return true;
}

void device_drop(struct device *dev, enum drop_reason reason)
{
	++dev->stats.dropped[reason];
}

void device_event(struct device *dev, enum device_event event, const struct peer *peer)
{
	if (dev->io.event)
		dev->io.event(dev->io.ctx, event, peer);
}

/* The count of the second now falls in: started afresh when the last one is over. */
static unsigned *this_second(struct second_count *w, uint64_t now)
{
	if (now >= w->start + NSEC_PER_SEC) {
		w->start = now;
		w->count = 0;
	}
	return &w->count;
}

bool device_under_load(struct device *dev, uint64_t now)
{
	if (dev->force_under_load)
		return true;
	if (++*this_second(&dev->load_window, now) > UNDER_LOAD_HANDSHAKES_PER_SECOND)
		dev->under_load_until = now + NSEC_PER_SEC;
	note_load(dev, now);
	return now < dev->under_load_until;
}

/* Tells the sender of an undeliverable packet at once (icmp.h), a bounded number of times a second.
 */
static void send_unreachable(struct device *dev, const uint8_t *ip, size_t len, uint64_t now)
{
	unsigned *sent = this_second(&dev->icmp_window, now);
	uint8_t error[ICMP_UNREACHABLE_MAX];
	size_t error_len;

	if (*sent >= ICMP_ERRORS_PER_SECOND)
		return;
	error_len = icmp_unreachable(error, ip, len);
	if (!error_len)
		return;
	++*sent;
	++dev->stats.icmp_unreachable_sent;
	dev->io.write_tun(dev->io.ctx, error, error_len);
}

void device_check_deadlines(struct device *dev, int64_t wall_now)
{
	int64_t next = 0;

	if (!dev->next_deadline || wall_now < dev->next_deadline)
		return;
	for (struct peer *p = dev->first_peer; p; p = p->next) {
		if (p->expires && !p->expired) {
			if (wall_now >= p->expires) {
				p->expired = true;
				peer_clear_keys(p);
				device_event(dev, EVENT_PEER_EXPIRED, p);
			} else if (!next || p->expires < next) {
				next = p->expires;
			}
		}
		if (p->rotation && p->rotation->deadline) {
			if (wall_now >= p->rotation->deadline)
				device_finish_rotation(dev, p, true);
			else if (!next || p->rotation->deadline < next)
				next = p->rotation->deadline;
		}
	}
	dev->next_deadline = next;
}

struct peer *device_peer_for_address(const struct device *dev, int family, const void *addr)
{
	struct allowedips_owner *owner = allowedips_lookup(&dev->allowedips, family, addr);

	return owner ? container_of(owner, struct peer, allowedips) : NULL;
}

void device_send(struct device *dev, struct packet *packet, uint64_t now)
{
	const uint8_t *ip = packet_payload(packet);
	struct peer *peer = NULL;

	if (packet->len >= 20 && ip[0] >> 4 == 4)
		peer = device_peer_for_address(dev, AF_INET, ip + 16);
	else if (packet->len >= 40 && ip[0] >> 4 == 6)
		peer = device_peer_for_address(dev, AF_INET6, ip + 24);
	/* Like the kernel driver: no peer, or a peer nobody can reach yet, is unreachable. */
	if (!peer || peer->endpoint.remote.sa.sa_family == AF_UNSPEC) {
		device_drop(dev, peer ? DROP_NO_ENDPOINT : DROP_NO_PEER);
		send_unreachable(dev, ip, packet->len, now);
		packet_put(&dev->pool, packet);
		return;
	}
	peer_send_packet(peer, packet, now);
}

void device_run_timers(struct device *dev, uint64_t now)
{
	timer_queue_run(&dev->timers, now);
}

uint64_t device_next_timer(const struct device *dev)
{
	return timer_queue_next(&dev->timers);
}
