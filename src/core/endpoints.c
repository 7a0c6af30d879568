// SPDX-License-Identifier: MIT
/* A peer's endpoints and failing over between them: see endpoints.h. */
#include "core/endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/device.h"

static bool several(const struct peer *peer)
{
	return peer->endpoints && peer->endpoints->count > 1;
}

uint64_t peer_handshake_retry_ns(const struct peer *peer)
{
	return several(peer) ? peer->endpoints->failover_ns / 2 : SECONDS(REKEY_TIMEOUT);
}

bool endpoints_retries_own(const struct peer *peer)
{
	return several(peer) && timer_pending(&peer->timer_retransmit_handshake);
}

uint64_t peer_answer_wait_ns(const struct peer *peer)
{
	return several(peer) ? peer->endpoints->failover_ns / 2
			     : SECONDS(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
}

static void to_wire(struct wire_addr *out, const union sockaddr_any *addr)
{
	memset(out, 0, sizeof(*out));
	if (addr->sa.sa_family == AF_INET)
		out->remote.v4 = addr->v4;
	else if (addr->sa.sa_family == AF_INET6)
		out->remote.v6 = addr->v6;
}

static unsigned index_of(const struct peer_endpoints *eps, const union sockaddr_any *addr)
{
	unsigned i = 0;

	while (i < eps->count && !sockaddr_equal(&eps->addr[i].remote, addr))
		++i;
	return i;
}

static void failback_after(struct peer_endpoints *eps, uint64_t wait, uint64_t now)
{
	timer_mod(&eps->peer->device->timers, &eps->timer_failback, now + wait);
}

/* The wait doubles, up to its bound. */
static void back_off(struct peer_endpoints *eps)
{
	if (eps->failback_wait < eps->failback_ns * FAILBACK_BACKOFF_MAX)
		eps->failback_wait *= 2;
}

/* Time to try the preferred endpoint again, without moving the traffic. */
static void expired_failback(struct timer *t, uint64_t now)
{
	struct peer_endpoints *eps = container_of(t, struct peer_endpoints, timer_failback);
	struct peer *peer = eps->peer;
	uint64_t retry = peer_handshake_retry_ns(peer);

	if (eps->active == 0 || eps->count < 2)
		return;
	/* a handshake of its own in flight, or one just sent: after it */
	if (!peer->current || timer_pending(&peer->timer_retransmit_handshake) ||
	    (peer->last_sent_handshake && now < peer->last_sent_handshake + retry)) {
		failback_after(eps, retry, now);
		return;
	}
	eps->probing_preferred = true;
	peer_send_handshake_initiation(peer, false, now);
	if (peer->last_sent_handshake != now) { /* not sent (expired peer, no memory) */
		eps->probing_preferred = false;
		failback_after(eps, eps->failback_wait, now);
	}
}

bool peer_set_endpoints(struct peer *peer, const union sockaddr_any *addrs, size_t count,
			uint32_t failover_ms, uint32_t failback_ms, uint64_t now)
{
	struct peer_endpoints *eps = peer->endpoints;
	bool had_one_of_old, unset = peer->endpoint.remote.sa.sa_family == AF_UNSPEC;
	unsigned at;

	if (count > PEER_ENDPOINTS_MAX)
		return false;
	had_one_of_old = eps && index_of(eps, &peer->endpoint.remote) < eps->count;
	if (count == 0) {
		peer_endpoints_free(peer);
		return true;
	}
	if (!eps) {
		eps = calloc(1, sizeof(*eps));
		if (!eps)
			return false;
		eps->peer = peer;
		timer_init(&eps->timer_failback, expired_failback);
		peer->endpoints = eps;
	}
	for (size_t i = 0; i < count; ++i)
		to_wire(&eps->addr[i], &addrs[i]);
	eps->count = (uint8_t)count;
	eps->failover_ns =
	    (uint64_t)(failover_ms ? failover_ms : FAILOVER_DEFAULT_MS) * NSEC_PER_MSEC;
	if (eps->failover_ns < (uint64_t)FAILOVER_MIN_MS * NSEC_PER_MSEC)
		eps->failover_ns = (uint64_t)FAILOVER_MIN_MS * NSEC_PER_MSEC;
	eps->failback_ns =
	    (uint64_t)(failback_ms ? failback_ms : FAILBACK_DEFAULT_MS) * NSEC_PER_MSEC;
	if (eps->failback_wait < eps->failback_ns ||
	    eps->failback_wait > eps->failback_ns * FAILBACK_BACKOFF_MAX)
		eps->failback_wait = eps->failback_ns;
	at = index_of(eps, &peer->endpoint.remote);
	if (at == eps->count && (unset || had_one_of_old)) {
		/* its endpoint is no longer listed (a name resolved anew): the first is */
		at = 0;
		peer_move_endpoint(peer, &eps->addr[0].remote, now);
	}
	eps->active = (uint8_t)at;
	if (at == 0 || count < 2) {
		eps->probing_preferred = false;
		timer_del(&peer->device->timers, &eps->timer_failback);
	} else if (!timer_pending(&eps->timer_failback)) {
		failback_after(eps, eps->failback_wait, now);
	}
	return true;
}

void peer_move_endpoint(struct peer *peer, const union sockaddr_any *to, uint64_t now)
{
	bool moved = peer->endpoint.remote.sa.sa_family != AF_UNSPEC &&
		     !sockaddr_equal(&peer->endpoint.remote, to);

	peer_set_endpoint(peer, to);
	if (moved && peer->current) {
		/* the session is with whoever was there: a new one at once, rate limit or not */
		peer->last_sent_handshake = 0;
		peer_send_handshake_initiation(peer, false, now);
	}
}

void peer_endpoints_free(struct peer *peer)
{
	if (!peer->endpoints)
		return;
	timer_del(&peer->device->timers, &peer->endpoints->timer_failback);
	free(peer->endpoints);
	peer->endpoints = NULL;
}

const struct wire_addr *endpoints_initiation_target(const struct peer *peer)
{
	return peer->endpoints && peer->endpoints->probing_preferred ? &peer->endpoints->addr[0]
								     : &peer->endpoint;
}

bool endpoints_retrying(struct peer *peer, uint64_t now)
{
	struct peer_endpoints *eps = peer->endpoints;
	unsigned from;

	if (!several(peer))
		return true;
	if (eps->probing_preferred) {
		/* the preferred did not answer: the traffic stays, the next try waits longer */
		eps->probing_preferred = false;
		peer->handshake_attempts = 0;
		back_off(eps);
		failback_after(eps, eps->failback_wait, now);
		return false;
	}
	/* in a key rotation each endpoint is tried with both keys */
	if (peer->rotation && (peer->handshake_attempts & 1))
		return true;
	from = eps->active;
	eps->active = (uint8_t)(from >= eps->count ? 0 : (from + 1) % eps->count);
	peer->endpoint = eps->addr[eps->active];
	++eps->failovers;
	++peer->stats.endpoint_changes;
	if (from == 0) {
		/* failing again soon after a return: the next return waits longer */
		if (eps->returned_at && now - eps->returned_at < eps->failback_wait * 2)
			back_off(eps);
		else
			eps->failback_wait = eps->failback_ns;
		eps->left_preferred = now;
	}
	if (eps->active == 0)
		timer_del(&peer->device->timers, &eps->timer_failback);
	else if (!timer_pending(&eps->timer_failback))
		failback_after(eps, eps->failback_wait, now);
	/* said once per round through the list, not at every retry */
	if (peer->handshake_attempts <= (unsigned)eps->count * (peer->rotation ? 2 : 1))
		device_event(peer->device, EVENT_ENDPOINT_FAILOVER, peer);
	return true;
}

void endpoints_moved(struct peer *peer, uint64_t now)
{
	struct peer_endpoints *eps = peer->endpoints;
	unsigned at, from;

	if (!eps)
		return;
	at = index_of(eps, &peer->endpoint.remote);
	from = eps->active;
	if (at == from)
		return;
	eps->active = (uint8_t)at;
	if (at == 0) {
		eps->probing_preferred = false;
		eps->returned_at = now;
		++eps->failbacks;
		timer_del(&peer->device->timers, &eps->timer_failback);
		device_event(peer->device, EVENT_ENDPOINT_FAILBACK, peer);
	} else if (eps->count > 1 && !timer_pending(&eps->timer_failback)) {
		if (from == 0)
			eps->left_preferred = now;
		failback_after(eps, eps->failback_wait, now);
	}
}

void endpoints_handshake_complete(struct peer *peer, uint64_t now)
{
	struct peer_endpoints *eps = peer->endpoints;

	/* completed elsewhere (the other side initiated): the attempt to return is over */
	if (eps && eps->probing_preferred && eps->active != 0) {
		eps->probing_preferred = false;
		failback_after(eps, eps->failback_wait, now);
	}
}
