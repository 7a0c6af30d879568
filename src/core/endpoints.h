/* SPDX-License-Identifier: MIT */
/*
 * A peer's endpoints in order of preference, and failing over between them.
 *
 * WireGuard knows one endpoint per peer and notices a dead one only after
 * 15 s of unanswered traffic and 5 s more of unanswered handshake. A peer
 * given several endpoints (a pool of gateway nodes sharing one key) moves
 * faster: traffic with no authenticated answer for half the failover time
 * starts a handshake, and a handshake unanswered for the other half moves to
 * the next endpoint and starts one there. Once away from the preferred
 * endpoint, a handshake to it is tried (without moving the traffic) after the
 * failback time; when it answers, the traffic moves back; when it does not,
 * the wait doubles (up to FAILBACK_BACKOFF_MAX times), and it doubles too when
 * the preferred endpoint fails again soon after a return: no flapping.
 */
#ifndef WGATE_ENDPOINTS_H
#define WGATE_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/timer_queue.h"

struct peer;

enum {
	PEER_ENDPOINTS_MAX = 8,
	FAILOVER_DEFAULT_MS = 3000,
	FAILOVER_MIN_MS = 200,
	FAILBACK_DEFAULT_MS = 30000,
	FAILBACK_BACKOFF_MAX = 16
};

struct peer_endpoints {
	struct peer *peer;
	struct wire_addr addr[PEER_ENDPOINTS_MAX];
	uint8_t count;
	uint8_t active;		/* the one in use; count when the peer uses another address */
	bool probing_preferred; /* the handshake in flight is a failback attempt */
	uint64_t failover_ns, failback_ns;
	uint64_t failback_wait;	 /* the failback time with its backoff */
	uint64_t left_preferred; /* monotonic ns of the latest move away from the preferred */
	uint64_t returned_at;	 /* and of the latest return to it; 0 never */
	struct timer timer_failback;
	uint64_t failovers, failbacks;
};

/*
 * Gives a peer its endpoints (count 0 removes them; the first becomes the
 * peer's endpoint when it has none or had one of the old list); times in ms
 * (0: the default). False when out of memory, the peer unchanged.
 */
bool peer_set_endpoints(struct peer *peer, const union sockaddr_any *addrs, size_t count,
			uint32_t failover_ms, uint32_t failback_ms, uint64_t now);
void peer_endpoints_free(struct peer *peer);
/*
 * Sets the peer's endpoint (as the control socket's endpoint= does); when it
 * moves a peer with a session, a handshake with the new address starts at
 * once, for the session was with whoever answered at the old one.
 */
void peer_move_endpoint(struct peer *peer, const union sockaddr_any *to, uint64_t now);

/* How long an initiation waits for its answer before the next one. */
uint64_t peer_handshake_retry_ns(const struct peer *peer);
/* Whether a handshake in flight is left to its retries (which fail over) rather than restarted. */
bool endpoints_retries_own(const struct peer *peer);
/* How long sent data waits for an authenticated answer before a new handshake. */
uint64_t peer_answer_wait_ns(const struct peer *peer);
/*
 * A handshake retry is due (the attempt already counted): maybe on the next
 * endpoint. False when there is nothing to retry (an attempt to return that
 * was not answered: the traffic stays where it is).
 */
bool endpoints_retrying(struct peer *peer, uint64_t now);
/* Where an initiation goes: the preferred endpoint when trying to return, else the peer's. */
const struct wire_addr *endpoints_initiation_target(const struct peer *peer);
/* The peer's endpoint changed (an authenticated datagram from elsewhere). */
void endpoints_moved(struct peer *peer, uint64_t now);
/* A handshake completed: a failback attempt answered by another endpoint ends. */
void endpoints_handshake_complete(struct peer *peer, uint64_t now);

#endif
