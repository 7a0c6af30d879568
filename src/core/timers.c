// SPDX-License-Identifier: MIT
/*
 * The protocol's timers (the WireGuard paper, section 6), as events named for
 * what happened. Each peer has five; they live in the device's timer queue.
 */
#include <stddef.h>

#include "core/device.h"

uint64_t jitter_ns(struct device *dev)
{
	uint32_t r;

	if (!dev->jitter_left) {
		if (!crypto_random(dev->jitter_pool, sizeof(dev->jitter_pool)))
			return 0;
		dev->jitter_left = sizeof(dev->jitter_pool) / sizeof(dev->jitter_pool[0]);
	}
	r = dev->jitter_pool[--dev->jitter_left];
	return (uint64_t)(r % REKEY_TIMEOUT_JITTER_MAX_MS) * NSEC_PER_MSEC;
}

static void expired_retransmit_handshake(struct timer *t, uint64_t now)
{
	struct peer *peer = container_of(t, struct peer, timer_retransmit_handshake);
	struct device *dev = peer->device;

	/* REKEY_ATTEMPT_TIME of retries (more of them when failing over) */
	if (peer->handshake_attempts >
	    SECONDS(REKEY_ATTEMPT_TIME) / peer_handshake_retry_ns(peer)) {
		/* Gave up after REKEY_ATTEMPT_TIME: drop what waited, and forget keys later. */
		++peer->stats.handshakes_failed;
		device_event(dev, EVENT_HANDSHAKE_FAILED, peer);
		timer_del(&dev->timers, &peer->timer_send_keepalive);
		packet_queue_purge(&peer->staged, &dev->pool);
		if (!timer_pending(&peer->timer_zero_key_material))
			timer_mod(&dev->timers, &peer->timer_zero_key_material,
				  now + SECONDS(REJECT_AFTER_TIME * 3));
		return;
	}
	++peer->handshake_attempts;
	if (endpoints_retrying(peer, now))
		peer_send_handshake_initiation(peer, true, now);
}

static void expired_send_keepalive(struct timer *t, uint64_t now)
{
	struct peer *peer = container_of(t, struct peer, timer_send_keepalive);

	peer_send_keepalive(peer, now);
	if (peer->need_another_keepalive) {
		peer->need_another_keepalive = false;
		timer_mod(&peer->device->timers, &peer->timer_send_keepalive,
			  now + SECONDS(KEEPALIVE_TIMEOUT));
	}
}

static void expired_new_handshake(struct timer *t, uint64_t now)
{
	/* We sent data and heard nothing back for KEEPALIVE + REKEY_TIMEOUT. */
	struct peer *peer = container_of(t, struct peer, timer_new_handshake);

	peer_send_handshake_initiation(peer, false, now);
}

static void expired_zero_key_material(struct timer *t, uint64_t now)
{
	struct peer *peer = container_of(t, struct peer, timer_zero_key_material);

	(void)now;
	peer_clear_keys(peer);
}

static void expired_persistent_keepalive(struct timer *t, uint64_t now)
{
	struct peer *peer = container_of(t, struct peer, timer_persistent_keepalive);

	if (peer->persistent_keepalive)
		peer_send_keepalive(peer, now);
}

void timers_init(struct peer *peer)
{
	timer_init(&peer->timer_retransmit_handshake, expired_retransmit_handshake);
	timer_init(&peer->timer_send_keepalive, expired_send_keepalive);
	timer_init(&peer->timer_new_handshake, expired_new_handshake);
	timer_init(&peer->timer_zero_key_material, expired_zero_key_material);
	timer_init(&peer->timer_persistent_keepalive, expired_persistent_keepalive);
}

void timers_stop(struct peer *peer)
{
	struct timer_queue *q = &peer->device->timers;

	timer_del(q, &peer->timer_retransmit_handshake);
	timer_del(q, &peer->timer_send_keepalive);
	timer_del(q, &peer->timer_new_handshake);
	timer_del(q, &peer->timer_zero_key_material);
	timer_del(q, &peer->timer_persistent_keepalive);
	if (peer->endpoints)
		timer_del(q, &peer->endpoints->timer_failback);
}

void timers_data_sent(struct peer *peer, uint64_t now)
{
	if (!timer_pending(&peer->timer_new_handshake))
		timer_mod(&peer->device->timers, &peer->timer_new_handshake,
			  now + peer_answer_wait_ns(peer) + jitter_ns(peer->device));
}

void timers_data_received(struct peer *peer, uint64_t now)
{
	if (!timer_pending(&peer->timer_send_keepalive))
		timer_mod(&peer->device->timers, &peer->timer_send_keepalive,
			  now + SECONDS(KEEPALIVE_TIMEOUT));
	else
		peer->need_another_keepalive = true;
}

void timers_any_authenticated_packet_sent(struct peer *peer)
{
	timer_del(&peer->device->timers, &peer->timer_send_keepalive);
}

void timers_any_authenticated_packet_received(struct peer *peer)
{
	timer_del(&peer->device->timers, &peer->timer_new_handshake);
}

void timers_any_authenticated_packet_traversal(struct peer *peer, uint64_t now)
{
	if (peer->persistent_keepalive)
		timer_mod(&peer->device->timers, &peer->timer_persistent_keepalive,
			  now + SECONDS(peer->persistent_keepalive));
}

void timers_handshake_initiated(struct peer *peer, uint64_t now)
{
	timer_mod(&peer->device->timers, &peer->timer_retransmit_handshake,
		  now + peer_handshake_retry_ns(peer) + jitter_ns(peer->device));
}

void timers_handshake_complete(struct peer *peer, uint64_t now)
{
	struct device *dev = peer->device;

	endpoints_handshake_complete(peer, now);
	timer_del(&dev->timers, &peer->timer_retransmit_handshake);
	peer->handshake_attempts = 0;
	peer->sent_lastminute_handshake = false;
	dev->io.wall_time(dev->io.ctx, &peer->last_handshake);
	++peer->stats.handshakes_completed;
	device_event(dev, EVENT_HANDSHAKE_COMPLETED, peer);
}

void timers_session_derived(struct peer *peer, uint64_t now)
{
	timer_mod(&peer->device->timers, &peer->timer_zero_key_material,
		  now + SECONDS(REJECT_AFTER_TIME * 3));
}
