// SPDX-License-Identifier: MIT
/* A peer's lifetime and settings. The device owns every peer (device.c). */
#include <stdlib.h>
#include <string.h>

#include "core/device.h"

bool peer_init(struct peer *peer, struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN])
{
	memset(peer, 0, sizeof(*peer));
	peer->device = dev;
	memcpy(peer->public_key, public_key, CRYPTO_KEY_LEN);
	peer->link.peer = peer;
	peer->link.public_key = peer->public_key;
	noise_handshake_init(&peer->handshake, public_key, NULL);
	peer->handshake_entry.type = INDEX_HANDSHAKE;
	peer->handshake_entry.peer = peer;
	timers_init(peer);
	/* Room for all five timers, so arming them never fails. */
	return cookie_maker_init(&peer->cookie_maker, public_key) &&
	       timer_queue_reserve(&dev->timers, 5);
}

void peer_clear_keys(struct peer *peer)
{
	struct device *dev = peer->device;

	keypair_free(dev, peer->previous);
	keypair_free(dev, peer->current);
	keypair_free(dev, peer->next_keypair);
	peer->previous = peer->current = peer->next_keypair = NULL;
	noise_handshake_clear(&peer->handshake);
	if (peer->rotation)
		noise_handshake_clear(&peer->rotation->handshake);
	index_remove(&dev->indices, &peer->handshake_entry);
}

struct noise_handshake *peer_handshake(struct peer *peer, bool next)
{
	return next && peer->rotation ? &peer->rotation->handshake : &peer->handshake;
}

struct cookie_maker *peer_cookie_maker(struct peer *peer, bool next)
{
	return next && peer->rotation ? &peer->rotation->cookie_maker : &peer->cookie_maker;
}

void peer_destroy(struct peer *peer)
{
	struct device *dev = peer->device;

	timers_stop(peer);
	peer_clear_keys(peer);
	allowedips_remove_owner(&dev->allowedips, &peer->allowedips);
	packet_queue_purge(&peer->staged, &dev->pool);
	peer_endpoints_free(peer);
	if (peer->rotation) {
		crypto_wipe(peer->rotation, sizeof(*peer->rotation));
		free(peer->rotation);
	}
	free(peer->name);
	free(peer->groups);
	crypto_wipe(peer, sizeof(*peer));
}

static bool copy_label(char **out, const char *text)
{
	*out = NULL;
	return !text || !*text || (*out = strdup(text));
}

bool peer_set_identity(struct peer *peer, const char *name, const char *groups)
{
	char *n, *g;

	if (!copy_label(&n, name))
		return false;
	if (!copy_label(&g, groups)) {
		free(n);
		return false;
	}
	free(peer->name);
	free(peer->groups);
	peer->name = n;
	peer->groups = g;
	return true;
}

void peer_set_expiry(struct peer *peer, int64_t expires)
{
	struct device *dev = peer->device;

	peer->expires = expires;
	peer->expired = false; /* device_check_deadlines says so again if it still has */
	device_note_deadline(dev, expires);
}

bool peer_is_expired(const struct peer *peer)
{
	struct timespec now;

	if (!peer->expires)
		return false;
	if (peer->expired)
		return true;
	peer->device->io.wall_time(peer->device->io.ctx, &now);
	return now.tv_sec >= peer->expires;
}

void peer_set_preshared_key(struct peer *peer, const uint8_t *psk)
{
	uint8_t copy[CRYPTO_KEY_LEN];

	peer->has_preshared_key = psk && !crypto_is_zero(psk, CRYPTO_KEY_LEN);
	if (peer->has_preshared_key)
		memcpy(copy, psk, sizeof(copy));
	noise_handshake_init(&peer->handshake, peer->public_key,
			     peer->has_preshared_key ? copy : NULL);
	if (peer->rotation)
		noise_handshake_init(&peer->rotation->handshake, peer->rotation->public_key,
				     peer->has_preshared_key ? copy : NULL);
	index_remove(&peer->device->indices, &peer->handshake_entry);
	crypto_wipe(copy, sizeof(copy));
}

void peer_set_endpoint(struct peer *peer, const union sockaddr_any *endpoint)
{
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	if (endpoint->sa.sa_family == AF_INET)
		peer->endpoint.remote.v4 = endpoint->v4;
	else if (endpoint->sa.sa_family == AF_INET6)
		peer->endpoint.remote.v6 = endpoint->v6;
}

void peer_set_persistent_keepalive(struct peer *peer, uint16_t seconds, uint64_t now)
{
	bool changed = seconds != peer->persistent_keepalive;

	peer->persistent_keepalive = seconds;
	if (!seconds)
		timer_del(&peer->device->timers, &peer->timer_persistent_keepalive);
	else if (changed)
		peer_send_keepalive(peer, now); /* start at once, as the kernel does */
}
