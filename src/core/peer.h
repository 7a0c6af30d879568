/* SPDX-License-Identifier: MIT */
/*
 * A peer: its handshake, its keypairs, its timers, its staged packets and its
 * counters. Owned by its device; created and destroyed only through
 * device_add_peer() and device_remove_peer(). Single-threaded: the device's
 * event loop is the only caller.
 */
#ifndef WGATE_PEER_H
#define WGATE_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/allowedips.h"
#include "core/addr.h"
#include "core/cookie.h"
#include "core/endpoints.h"
#include "core/index.h"
#include "core/noise.h"
#include "core/packet.h"
#include "core/replay.h"
#include "core/timer_queue.h"

struct device;

struct keypair {
	struct index_entry entry; /* our index for this session */
	struct aead_key send, receive;
	uint64_t send_counter;
	struct replay_counter replay;
	uint64_t birth; /* monotonic ns */
	uint32_t remote_index;
	bool initiator;
	struct peer *peer;
};

struct peer_stats {
	uint64_t rx_bytes, tx_bytes;	 /* as wg(8) counts them: whole UDP payloads */
	uint64_t rx_packets, tx_packets; /* data packets, keepalives included */
	uint64_t handshakes_initiated, handshakes_completed, handshakes_failed;
	uint64_t endpoint_changes;
	uint64_t resolve_failures; /* of its endpoints' names (counted by the monitor) */
	uint64_t dropped_allowedips, dropped_replay;
	/* why handshakes do not complete (wgate check explains them) */
	uint64_t initiations_unanswered; /* sent since the latest completed handshake */
	int64_t unanswered_since;	 /* UNIX seconds of the first of those; 0 none */
	uint64_t cookie_replies;	 /* received: the other side is under load */
	uint64_t timestamps_refused;	 /* initiations replayed, or from a clock gone back */
	uint8_t allowedips_drop_family;	 /* the inner source of the latest AllowedIPs drop */
	uint8_t allowedips_drop_source[16];
};

/* A public key under which the device finds its peer (device.c's buckets). */
struct peer_key_link {
	struct peer_key_link *next;
	struct peer *peer;
	const uint8_t *public_key;
};

/*
 * A key rotation in progress: the key the peer moves to, accepted besides its
 * current one until the first handshake completed with it (or the deadline)
 * makes it the only one; it has its own handshake and cookie state.
 */
struct peer_rotation {
	uint8_t public_key[CRYPTO_KEY_LEN];
	struct noise_handshake handshake;
	struct cookie_maker cookie_maker;
	struct peer_key_link link;
	int64_t deadline; /* UNIX seconds (wall clock) when it is forced; 0 never */
};

/*
 * The data path's fields come first and the cold ones (lookups by key,
 * rotations) last, so that adding the latter does not move the former: the
 * per-packet counters at the start of stats share a cache line as before.
 */
struct peer {
	struct device *device;
	struct peer *prev, *next; /* the device's list, in the order peers were added */

	uint8_t public_key[CRYPTO_KEY_LEN];
	bool has_preshared_key;
	struct noise_handshake handshake;
	struct index_entry handshake_entry;
	struct cookie_maker cookie_maker;
	struct keypair *previous, *current, *next_keypair;

	struct wire_addr endpoint;     /* remote.sa.sa_family AF_UNSPEC when unknown */
	uint16_t persistent_keepalive; /* seconds; 0 off */
	struct allowedips_owner allowedips;
	struct packet_queue staged;

	struct timer timer_retransmit_handshake, timer_send_keepalive, timer_new_handshake,
	    timer_zero_key_material, timer_persistent_keepalive;
	unsigned handshake_attempts;
	bool need_another_keepalive, sent_lastminute_handshake;
	uint64_t last_sent_handshake;	/* monotonic ns; 0 never */
	struct timespec last_handshake; /* wall clock; zero never */

	struct peer_stats stats;
	/* who it is: the config's Name and Groups ("a,b"), for metrics and the gateway; or NULL */
	char *name, *groups;
	int64_t expires; /* UNIX seconds (wall clock) after which it is refused; 0 never */
	bool expired;	 /* its expiry came: keys cleared, handshakes refused */

	/* cold: lookups by key only, and rotations (kept after the data path's fields) */
	struct peer_key_link link;
	struct peer_rotation *rotation; /* NULL when none */
	bool initiating_next;		/* handshake_entry names rotation->handshake */
	bool sent_with_next;		/* the last handshake message sent used the next key */
	struct peer_endpoints *endpoints; /* several to fail over between (endpoints.h); or NULL */
};

/* Called by the device. */
bool peer_init(struct peer *peer, struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN]);
void peer_destroy(struct peer *peer);

void peer_set_preshared_key(struct peer *peer, const uint8_t *psk);
/* A configured endpoint: the local address is left to the routing table. */
void peer_set_endpoint(struct peer *peer, const union sockaddr_any *endpoint);
void peer_set_persistent_keepalive(struct peer *peer, uint16_t seconds, uint64_t now);
/* Who it is (either may be NULL or ""); false when out of memory, leaving it as it was. */
bool peer_set_identity(struct peer *peer, const char *name, const char *groups);
/* Sets (0: clears) the expiry; a peer given a later one than the passed one is back. */
void peer_set_expiry(struct peer *peer, int64_t expires);
/* Whether its expiry has come, by the device's wall clock. */
bool peer_is_expired(const struct peer *peer);
/* The handshake state of the key a message is for (the rotation's when next). */
struct noise_handshake *peer_handshake(struct peer *peer, bool next);
struct cookie_maker *peer_cookie_maker(struct peer *peer, bool next);
/* Forgets every keypair and any handshake in progress. */
void peer_clear_keys(struct peer *peer);

/* Keypair rotation (the kernel driver's rules); see keypair.c. */
void keypair_add(struct peer *peer, struct keypair *keypair);
/* A data packet arrived on kp; true when that confirmed a pending next keypair. */
bool keypair_received_with(struct peer *peer, struct keypair *kp);
void keypair_free(struct device *dev, struct keypair *kp);

/* send.c */
void peer_send_packet(struct peer *peer, struct packet *packet, uint64_t now);
void peer_send_staged(struct peer *peer, uint64_t now);
void peer_send_keepalive(struct peer *peer, uint64_t now);
void peer_send_handshake_initiation(struct peer *peer, bool is_retry, uint64_t now);

/* timers.c: the protocol's timer events, named for what happened. */
void timers_init(struct peer *peer);
void timers_stop(struct peer *peer);
void timers_data_sent(struct peer *peer, uint64_t now);
void timers_data_received(struct peer *peer, uint64_t now);
void timers_any_authenticated_packet_sent(struct peer *peer);
void timers_any_authenticated_packet_received(struct peer *peer);
void timers_any_authenticated_packet_traversal(struct peer *peer, uint64_t now);
void timers_handshake_initiated(struct peer *peer, uint64_t now);
void timers_handshake_complete(struct peer *peer, uint64_t now);
void timers_session_derived(struct peer *peer, uint64_t now);

#endif
