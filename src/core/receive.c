// SPDX-License-Identifier: MIT
/* Everything the device receives over UDP: handshakes, cookie replies, data. */
#include <stdlib.h>
#include <string.h>

#include "core/device.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void cookie_source_of(struct cookie_source *cs, const union sockaddr_any *src)
{
	if (src->sa.sa_family == AF_INET) {
		memcpy(cs->bytes, &src->v4.sin_addr, 4);
		memcpy(cs->bytes + 4, &src->v4.sin_port, 2);
		cs->len = 6;
	} else {
		memcpy(cs->bytes, &src->v6.sin6_addr, 16);
		memcpy(cs->bytes + 16, &src->v6.sin6_port, 2);
		cs->len = 18;
	}
}

/*
 * Counts one of a peer's handshake problems, and reports it the first time,
 * the third, and every twelfth after (a minute of retries): enough for the
 * log to say why, never a flood.
 */
void peer_problem(struct peer *peer, uint64_t *counter, enum device_event event)
{
	uint64_t n = ++*counter;

	if (n == 1 || n == 3 || (n > 3 && (n - 3) % 12 == 0))
		device_event(peer->device, event, peer);
}

/* Keeps the source of a message that failed mac1: the most frequent few, newest on ties. */
static void note_bad_mac(struct device *dev, const union sockaddr_any *from)
{
	struct bad_mac_source *slot = NULL, *all = dev->stats.bad_mac;
	struct timespec wall;

	for (int i = 0; i < BAD_MAC_SOURCES && !slot; ++i)
		if (all[i].from.sa.sa_family != AF_UNSPEC && sockaddr_equal(&all[i].from, from))
			slot = &all[i];
	dev->io.wall_time(dev->io.ctx, &wall);
	if (!slot) {
		slot = &all[0];
		for (int i = 1; i < BAD_MAC_SOURCES; ++i)
			if (all[i].count < slot->count ||
			    (all[i].count == slot->count && all[i].last < slot->last))
				slot = &all[i];
		slot->from = *from;
		slot->count = 0;
		slot->first = wall.tv_sec;
	}
	++slot->count;
	slot->last = wall.tv_sec;
}

/* The handshake of the key: a peer's current one, or the one it rotates to. */
static struct noise_handshake *lookup_handshake(void *ctx, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct peer_key_link *link = device_find_key(ctx, key);

	return link ? peer_handshake(link->peer, link != &link->peer->link) : NULL;
}

static bool send_raw(struct device *dev, const struct wire_addr *to, const void *buf, size_t len)
{
	return dev->io.send_udp(dev->io.ctx, to, buf, len);
}

/*
 * Turns a finished handshake (hs, of the next key in a rotation when next)
 * into a keypair that takes over its index. The first with the next key ends
 * the rotation.
 */
static struct keypair *begin_session(struct peer *peer, struct noise_handshake *hs, bool next,
				     uint64_t now)
{
	struct device *dev = peer->device;
	struct noise_keys keys;
	struct keypair *kp = calloc(1, sizeof(*kp));
	bool ok = kp && noise_derive_keys(hs, &keys);

	if (ok) {
		aead_key_set(&kp->send, keys.send);
		aead_key_set(&kp->receive, keys.receive);
		kp->initiator = keys.initiator;
		kp->remote_index = keys.remote_index;
	}
	crypto_wipe(&keys, sizeof(keys));
	if (!ok) {
		free(kp);
		index_remove(&dev->indices, &peer->handshake_entry);
		return NULL;
	}
	kp->peer = peer;
	kp->birth = now;
	kp->entry.type = INDEX_KEYPAIR;
	kp->entry.peer = peer;
	kp->entry.keypair = kp;
	replay_init(&kp->replay);
	peer->stats.initiations_unanswered = 0;
	peer->stats.unanswered_since = 0;
	if (next && peer->rotation)
		device_finish_rotation(dev, peer, false);
	index_replace(&dev->indices, &peer->handshake_entry, &kp->entry);
	keypair_add(peer, kp);
	timers_session_derived(peer, now);
	return kp;
}

/* Answers go where the peer's latest authenticated datagram came from, from where it arrived. */
static void update_endpoint(struct peer *peer, const struct wire_addr *src, uint64_t now)
{
	bool roamed;

	if (wire_addr_equal(&peer->endpoint, src))
		return;
	roamed = peer->endpoint.remote.sa.sa_family != AF_UNSPEC &&
		 !sockaddr_equal(&peer->endpoint.remote, &src->remote);
	peer->endpoint = *src;
	if (roamed) {
		++peer->stats.endpoint_changes;
		device_event(peer->device, EVENT_ENDPOINT_CHANGED, peer);
	}
	endpoints_moved(peer, now);
}

static void consume_initiation(struct device *dev, const struct message_handshake_initiation *msg,
			       const struct wire_addr *src, uint64_t now)
{
	struct message_handshake_response resp;
	struct noise_handshake *hs;
	struct peer_key_link *link;
	enum noise_result result;
	struct peer *peer;
	bool next;

	++dev->stats.handshake_initiations_received;
	result = noise_consume_initiation(&dev->identity, msg, lookup_handshake, dev, now, &hs);
	if (result != NOISE_OK) {
		if (result == NOISE_REPLAYED_TIMESTAMP && hs &&
		    (link = device_find_key(dev, hs->remote_static)))
			peer_problem(link->peer, &link->peer->stats.timestamps_refused,
				     EVENT_TIMESTAMP_REFUSED);
		device_drop(dev, DROP_BAD_HANDSHAKE);
		return;
	}
	link = device_find_key(dev, hs->remote_static);
	peer = link->peer;
	next = link != &peer->link;
	if (peer_is_expired(peer)) { /* authenticated, and refused: no session, no answer */
		noise_handshake_clear(hs);
		device_drop(dev, DROP_PEER_EXPIRED);
		device_event(dev, EVENT_HANDSHAKE_REFUSED_EXPIRED, peer);
		return;
	}
	update_endpoint(peer, src, now);
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer, now);

	if (!index_insert(&dev->indices, &peer->handshake_entry))
		return;
	peer->initiating_next = false; /* an initiation of ours in flight is forgotten */
	if (!noise_create_response(hs, &dev->identity, &resp, peer->handshake_entry.index) ||
	    !cookie_add_macs(peer_cookie_maker(peer, next), &resp, sizeof(resp), now)) {
		index_remove(&dev->indices, &peer->handshake_entry);
		return;
	}
	peer->sent_with_next = next;
	if (!begin_session(peer, hs, next, now))
		return;
	peer->last_sent_handshake = now;
	timers_any_authenticated_packet_traversal(peer, now);
	timers_any_authenticated_packet_sent(peer);
	if (send_raw(dev, &peer->endpoint, &resp, sizeof(resp)))
		peer->stats.tx_bytes += sizeof(resp);
}

static void consume_response(struct device *dev, const struct message_handshake_response *msg,
			     const struct wire_addr *src, uint64_t now)
{
	struct index_entry *entry = index_lookup(&dev->indices, msg->receiver_index);
	struct noise_handshake *hs;
	struct peer *peer;
	bool next;

	if (!entry || entry->type != INDEX_HANDSHAKE) {
		device_drop(dev, DROP_BAD_HANDSHAKE);
		return;
	}
	peer = entry->peer;
	next = peer->initiating_next;
	hs = peer_handshake(peer, next);
	if (noise_consume_response(hs, &dev->identity, msg) != NOISE_OK) {
		device_drop(dev, DROP_BAD_HANDSHAKE);
		return;
	}
	update_endpoint(peer, src, now);
	if (!begin_session(peer, hs, next, now))
		return;
	timers_handshake_complete(peer, now);
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer, now);
	/* Confirm the session at once: staged data, or else a keepalive. */
	peer_send_keepalive(peer, now);
}

static void handle_handshake(struct device *dev, uint8_t *buf, size_t len,
			     const struct wire_addr *src, uint64_t now)
{
	struct cookie_source cs;
	enum cookie_mac_state mac;

	cookie_source_of(&cs, &src->remote);
	mac = cookie_validate(&dev->cookie_checker, buf, len, &cs, now);
	if (mac == COOKIE_INVALID_MAC) {
		device_drop(dev, DROP_BAD_MAC);
		note_bad_mac(dev, &src->remote);
		return;
	}
	/*
	 * Only messages that pass mac1 (made by someone who knows our public
	 * key) count toward the load: junk shaped like handshakes costs one
	 * BLAKE2s and must not keep the device in cookie mode.
	 */
	if (device_under_load(dev, now)) {
		if (mac != COOKIE_VALID_MAC1_MAC2) {
			struct message_handshake_cookie reply;
			uint32_t sender = le32(buf + 4);

			if (cookie_create_reply(&dev->cookie_checker, &reply, buf, len, sender, &cs,
						now)) {
				send_raw(dev, src, &reply, sizeof(reply));
				++dev->stats.cookie_replies_sent;
			}
			return;
		}
		if (!ratelimiter_allow(&dev->ratelimiter, src->remote.sa.sa_family,
				       src->remote.sa.sa_family == AF_INET
					   ? (const void *)&src->remote.v4.sin_addr
					   : (const void *)&src->remote.v6.sin6_addr,
				       now)) {
			device_drop(dev, DROP_RATELIMIT);
			return;
		}
	}
	if (buf[0] == MESSAGE_HANDSHAKE_INITIATION)
		consume_initiation(dev, (const void *)buf, src, now);
	else
		consume_response(dev, (const void *)buf, src, now);
}

static void consume_cookie(struct device *dev, const struct message_handshake_cookie *msg,
			   uint64_t now)
{
	struct index_entry *entry = index_lookup(&dev->indices, msg->receiver_index);

	if (!entry || !cookie_consume_reply(
			  peer_cookie_maker(entry->peer, entry->peer->sent_with_next), msg, now))
		device_drop(dev, DROP_BAD_MAC);
	else
		peer_problem(entry->peer, &entry->peer->stats.cookie_replies,
			     EVENT_COOKIE_RECEIVED);
}

/* The inner packet's source and true length; false if it is no IP packet. */
static bool inner_source(const uint8_t *p, size_t len, int *family, const uint8_t **addr,
			 size_t *ip_len)
{
	if (len >= 20 && p[0] >> 4 == 4) {
		*ip_len = (size_t)p[2] << 8 | p[3];
		*family = AF_INET;
		*addr = p + 12;
		return *ip_len >= 20 && *ip_len <= len;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		*ip_len = 40 + ((size_t)p[4] << 8 | p[5]);
		*family = AF_INET6;
		*addr = p + 8;
		return *ip_len <= len;
	}
	return false;
}

/* The session a data message is for, if it is still live. */
static struct keypair *data_keypair(struct device *dev, const struct message_data *msg,
				    uint64_t now)
{
	struct index_entry *entry = index_lookup(&dev->indices, msg->receiver_index);

	if (!entry || entry->type != INDEX_KEYPAIR ||
	    now >= entry->keypair->birth + SECONDS(REJECT_AFTER_TIME))
		return NULL;
	return entry->keypair;
}

static bool is_data(const uint8_t *buf, size_t len)
{
	return len >= MESSAGE_DATA_MIN_LEN && le32(buf) == MESSAGE_DATA;
}

/* What opening a data message of len bytes on kp (NULL: nothing) takes. */
static void open_on(struct device_open *op, struct keypair *kp, struct message_data *msg,
		    size_t len)
{
	*op = (struct device_open){.keypair = kp};
	if (!kp)
		return;
	op->key = &kp->receive;
	op->key_id = kp->receive.id;
	op->counter = msg->counter;
	op->data = msg->encrypted_data;
	op->len = len - sizeof(*msg) - CRYPTO_AEAD_TAG_LEN;
}

void device_open_prepare(struct device *dev, uint8_t *buf, size_t len, uint64_t now,
			 struct device_open *op)
{
	struct message_data *msg = (struct message_data *)buf;

	open_on(op, is_data(buf, len) ? data_keypair(dev, msg, now) : NULL, msg, len);
}

void device_open_run(struct aead_ctx *ctx, struct device_open *op)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (!op->keypair)
		return;
	aead_counter_nonce(nonce, op->counter);
	op->ok = aead_open(ctx, op->key, nonce, op->data, op->data, op->len, NULL, 0);
}

static void consume_data(struct device *dev, uint8_t *buf, size_t len, const struct wire_addr *src,
			 uint64_t now, const struct device_open *op)
{
	struct message_data *msg = (struct message_data *)buf;
	struct keypair *kp = data_keypair(dev, msg, now);
	size_t payload_len = len - sizeof(*msg) - CRYPTO_AEAD_TAG_LEN, ip_len;
	struct device_open here;
	struct peer *peer;
	const uint8_t *inner_addr;
	int family;

	if (!kp || (op && op->keypair && (op->keypair != kp || op->key_id != kp->receive.id))) {
		/* gone, or replaced since it was opened ahead */
		device_drop(dev, DROP_NO_SESSION);
		return;
	}
	if (!op || !op->keypair) {
		open_on(&here, kp, msg, len);
		device_open_run(&dev->aead, &here);
		op = &here;
	}
	if (!op->ok) {
		device_drop(dev, DROP_BAD_MAC);
		return;
	}
	peer = kp->peer;
	/* The counter is trusted only now that the packet has authenticated. */
	if (!replay_check(&kp->replay, msg->counter)) {
		++peer->stats.dropped_replay;
		device_drop(dev, DROP_REPLAY);
		return;
	}
	update_endpoint(peer, src, now);
	peer->stats.rx_bytes += len;
	++peer->stats.rx_packets;
	if (keypair_received_with(peer, kp)) {
		timers_handshake_complete(peer, now);
		peer_send_staged(peer, now);
	}
	/* The initiator rekeys before the keypair expires, even if only receiving. */
	if (kp->initiator && !peer->sent_lastminute_handshake &&
	    now >= kp->birth + SECONDS(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT)) {
		peer->sent_lastminute_handshake = true;
		peer_send_handshake_initiation(peer, false, now);
	}
	timers_any_authenticated_packet_received(peer);
	timers_any_authenticated_packet_traversal(peer, now);
	if (!payload_len)
		return; /* a keepalive */
	if (!inner_source(msg->encrypted_data, payload_len, &family, &inner_addr, &ip_len)) {
		device_drop(dev, DROP_MALFORMED);
		return;
	}
	if (allowedips_lookup(&dev->allowedips, family, inner_addr) != &peer->allowedips) {
		++peer->stats.dropped_allowedips;
		peer->stats.allowedips_drop_family = (uint8_t)family;
		memcpy(peer->stats.allowedips_drop_source, inner_addr, family == AF_INET ? 4 : 16);
		device_drop(dev, DROP_ALLOWEDIPS);
		return;
	}
	dev->io.write_tun(dev->io.ctx, msg->encrypted_data, ip_len);
	timers_data_received(peer, now);
}

void device_receive(struct device *dev, uint8_t *buf, size_t len, const struct wire_addr *src,
		    uint64_t now)
{
	device_receive_opened(dev, buf, len, src, now, NULL);
}

void device_receive_opened(struct device *dev, uint8_t *buf, size_t len,
			   const struct wire_addr *src, uint64_t now, const struct device_open *op)
{
	/* The type is a little-endian u32 whose top three bytes must be zero. */
	uint32_t type = len >= 4 ? le32(buf) : 0;

	if (src->remote.sa.sa_family != AF_INET && src->remote.sa.sa_family != AF_INET6)
		type = 0;
	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
		if (len != sizeof(struct message_handshake_initiation))
			break;
		handle_handshake(dev, buf, len, src, now);
		return;
	case MESSAGE_HANDSHAKE_RESPONSE:
		if (len != sizeof(struct message_handshake_response))
			break;
		handle_handshake(dev, buf, len, src, now);
		return;
	case MESSAGE_HANDSHAKE_COOKIE:
		if (len != sizeof(struct message_handshake_cookie))
			break;
		consume_cookie(dev, (const void *)buf, now);
		return;
	case MESSAGE_DATA:
		if (len < MESSAGE_DATA_MIN_LEN)
			break;
		consume_data(dev, buf, len, src, now, op);
		return;
	}
	device_drop(dev, DROP_MALFORMED);
}
