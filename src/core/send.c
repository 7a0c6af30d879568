// SPDX-License-Identifier: MIT
/* Everything a peer sends: handshake initiations, staged data, keepalives. */
#include <string.h>

#include "core/device.h"

/*
 * Sends len bytes; with a key, a data message whose payload (before the tag's
 * room) is still to be sealed, handed over through send_data.
 */
static void send_to_peer(struct peer *peer, void *buf, size_t len, const struct aead_key *key,
			 uint64_t counter)
{
	struct device *dev = peer->device;
	bool sent;

	if (peer->endpoint.remote.sa.sa_family == AF_UNSPEC)
		return; /* nowhere to send yet; timers retry */
	sent = key ? dev->io.send_data(dev->io.ctx, &peer->endpoint, buf, len - CRYPTO_AEAD_TAG_LEN,
				       key, counter)
		   : dev->io.send_udp(dev->io.ctx, &peer->endpoint, buf, len);
	if (sent)
		peer->stats.tx_bytes += len;
}

/* A handshake message to an address other than the peer's endpoint. */
static void send_raw_to(struct peer *peer, const struct wire_addr *to, const void *buf, size_t len)
{
	struct device *dev = peer->device;

	if (to->remote.sa.sa_family != AF_UNSPEC && dev->io.send_udp(dev->io.ctx, to, buf, len))
		peer->stats.tx_bytes += len;
}

void peer_send_handshake_initiation(struct peer *peer, bool is_retry, uint64_t now)
{
	struct device *dev = peer->device;
	struct message_handshake_initiation msg;
	struct timespec wall;
	uint8_t timestamp[TAI64N_LEN];
	bool next;

	/* failing over, a handshake in flight is its retries': they move between endpoints */
	if (!is_retry && endpoints_retries_own(peer))
		return;
	if (!is_retry)
		peer->handshake_attempts = 0;
	/*
	 * In a rotation, the current key first (any answer from the next one ends
	 * the rotation, so the current one is the last that answered), then each
	 * in turn, a retry apart.
	 */
	next = peer->rotation && (peer->handshake_attempts & 1);
	if (peer_is_expired(peer))
		return;
	/* At most one initiation per REKEY_TIMEOUT (per retry when failing over). */
	if (peer->last_sent_handshake &&
	    now < peer->last_sent_handshake + peer_handshake_retry_ns(peer))
		return;
	peer->last_sent_handshake = now;
	if (!index_insert(&dev->indices, &peer->handshake_entry))
		return;
	dev->io.wall_time(dev->io.ctx, &wall);
	noise_tai64n(timestamp, wall.tv_sec, wall.tv_nsec);
	if (!noise_create_initiation(peer_handshake(peer, next), &dev->identity, &msg,
				     peer->handshake_entry.index, timestamp) ||
	    !cookie_add_macs(peer_cookie_maker(peer, next), &msg, sizeof(msg), now)) {
		index_remove(&dev->indices, &peer->handshake_entry);
		return;
	}
	peer->initiating_next = peer->sent_with_next = next;
	timers_any_authenticated_packet_traversal(peer, now);
	timers_any_authenticated_packet_sent(peer);
	++peer->stats.handshakes_initiated;
	if (peer->endpoints && peer->endpoints->probing_preferred) {
		/* an attempt to return: the endpoint in use is not the one asked */
		send_raw_to(peer, endpoints_initiation_target(peer), &msg, sizeof(msg));
	} else {
		send_to_peer(peer, &msg, sizeof(msg), NULL, 0);
		if (!peer->stats.initiations_unanswered)
			peer->stats.unanswered_since = wall.tv_sec;
		peer_problem(peer, &peer->stats.initiations_unanswered, EVENT_HANDSHAKE_UNANSWERED);
	}
	timers_handshake_initiated(peer, now);
}

static bool keypair_can_send(const struct keypair *kp, uint64_t now)
{
	return kp && kp->send_counter < REJECT_AFTER_MESSAGES &&
	       now < kp->birth + SECONDS(REJECT_AFTER_TIME);
}

/* Pads to a multiple of 16 without passing the MTU (the paper, section 5.4.6). */
static size_t padded_length(size_t len, unsigned mtu)
{
	size_t last_unit = len, padded;

	if (mtu && last_unit > mtu)
		last_unit %= mtu;
	padded =
	    (last_unit + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (mtu && padded > mtu)
		padded = mtu;
	return len + (padded > last_unit ? padded - last_unit : 0);
}

/* Encrypts in place behind the data header and sends, or hands it over to be sealed. */
static bool encrypt_and_send(struct peer *peer, struct keypair *kp, struct packet *p)
{
	struct device *dev = peer->device;
	struct message_data *msg = (struct message_data *)p->data;
	size_t len = padded_length(p->len, dev->mtu);
	uint64_t counter = kp->send_counter++;
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
	uint8_t *payload = packet_payload(p);

	memset(payload + p->len, 0, len - p->len);
	memset(&msg->header, 0, sizeof(msg->header));
	msg->header.type = MESSAGE_DATA;
	msg->receiver_index = kp->remote_index;
	msg->counter = counter;
	if (!dev->io.send_data) {
		aead_counter_nonce(nonce, counter);
		if (!aead_seal(&dev->aead, &kp->send, nonce, payload, payload, len, NULL, 0))
			return false;
	}
	send_to_peer(peer, p->data, sizeof(*msg) + len + CRYPTO_AEAD_TAG_LEN,
		     dev->io.send_data ? &kp->send : NULL, counter);
	++peer->stats.tx_packets;
	return true;
}

/* Rekey when the keypair is old or worn (sending side). */
static void keep_key_fresh(struct peer *peer, const struct keypair *kp, uint64_t now)
{
	if (kp && (kp->send_counter > REKEY_AFTER_MESSAGES ||
		   (kp->initiator && now >= kp->birth + SECONDS(REKEY_AFTER_TIME))))
		peer_send_handshake_initiation(peer, false, now);
}

void peer_send_staged(struct peer *peer, uint64_t now)
{
	struct device *dev = peer->device;
	struct keypair *kp = peer->current;
	struct packet *p;

	if (!peer->staged.len)
		return;
	if (!keypair_can_send(kp, now)) {
		peer_send_handshake_initiation(peer, false, now);
		return;
	}
	while ((p = packet_queue_pop(&peer->staged))) {
		bool data = p->len > 0;

		if (!encrypt_and_send(peer, kp, p)) {
			packet_put(&dev->pool, p);
			continue;
		}
		packet_put(&dev->pool, p);
		timers_any_authenticated_packet_traversal(peer, now);
		timers_any_authenticated_packet_sent(peer);
		if (data)
			timers_data_sent(peer, now);
		if (!keypair_can_send(kp, now))
			break;
	}
	keep_key_fresh(peer, kp, now);
	if (peer->staged.len) /* the keypair wore out mid-way */
		peer_send_handshake_initiation(peer, false, now);
}

void peer_send_packet(struct peer *peer, struct packet *packet, uint64_t now)
{
	struct device *dev = peer->device;

	if (peer->staged.len >= MAX_STAGED_PACKETS) {
		packet_put(&dev->pool, packet_queue_pop(&peer->staged)); /* drop the oldest */
		device_drop(dev, DROP_STAGED_OVERFLOW);
	}
	packet_queue_push(&peer->staged, packet);
	peer_send_staged(peer, now);
}

void peer_send_keepalive(struct peer *peer, uint64_t now)
{
	struct device *dev = peer->device;

	if (!peer->staged.len) {
		struct packet *p = packet_get(&dev->pool, 0);

		if (!p)
			return;
		packet_queue_push(&peer->staged, p);
	}
	peer_send_staged(peer, now);
}
