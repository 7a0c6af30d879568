/* SPDX-License-Identifier: MIT */
/*
 * A WireGuard interface's protocol state: identity, peers, cryptokey routing,
 * indices, timers. It does no I/O itself: packets come in through
 * device_receive() and device_send(), go out through the callbacks in
 * struct device_io, and time is passed in as monotonic nanoseconds. So the
 * whole protocol runs in unit tests on a fake network and a fake clock.
 */
#ifndef WGATE_DEVICE_H
#define WGATE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/allowedips.h"
#include "core/addr.h"
#include "core/cookie.h"
#include "core/index.h"
#include "core/noise.h"
#include "core/packet.h"
#include "core/peer.h"
#include "core/ratelimiter.h"
#include "core/timer_queue.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define SECONDS(s)			((uint64_t)(s)*NSEC_PER_SEC)

/* What the protocol reports as it happens, for the log (never with key material). */
enum device_event {
	EVENT_HANDSHAKE_COMPLETED,
	EVENT_HANDSHAKE_FAILED, /* no answer for REKEY_ATTEMPT_TIME */
	EVENT_ENDPOINT_CHANGED, /* roaming */
	EVENT_KEYPAIR_ROTATED,	/* a new session replaced an older one */
	EVENT_UNDER_LOAD_ENTERED,
	EVENT_UNDER_LOAD_LEFT,
	EVENT_PEER_EXPIRED,		 /* its Expires passed: its sessions ended */
	EVENT_HANDSHAKE_REFUSED_EXPIRED, /* an initiation from an expired peer */
	/* Sent before the change: peer->public_key is the old key, peer->rotation's the new. */
	EVENT_KEY_ROTATED,	   /* the first handshake with the next key made it the only one */
	EVENT_KEY_ROTATION_FORCED, /* its deadline came: the next key is the only one */
	/* A handshake that does not complete: said on the 3rd, then every 12th occurrence. */
	EVENT_HANDSHAKE_UNANSWERED, /* initiations sent, no response (stats say since when) */
	EVENT_COOKIE_RECEIVED,	    /* the peer answered with a cookie: it is under load */
	EVENT_TIMESTAMP_REFUSED,    /* an initiation with an old timestamp: replayed, or clock */
	/* A peer with several endpoints (endpoints.h). */
	EVENT_ENDPOINT_FAILOVER, /* unanswered: the next endpoint is tried */
	EVENT_ENDPOINT_FAILBACK, /* the preferred endpoint answered again: the traffic is back */
	EVENT_COUNT
};

struct device_io {
	void *ctx;
	/* True when the datagram was handed to the network. */
	bool (*send_udp)(void *ctx, const struct wire_addr *to, const void *buf, size_t len);
	void (*write_tun)(void *ctx, const void *buf, size_t len);
	/*
	 * Optional: takes a data message (len bytes: header, then the padded
	 * payload, still plaintext) to be sealed in place, the tag after it,
	 * under key with counter's nonce before it leaves; key is valid only
	 * during the call. Lets the caller seal a batch at once, on several
	 * threads. Without it the device seals and calls send_udp.
	 */
	bool (*send_data)(void *ctx, const struct wire_addr *to, void *msg, size_t len,
			  const struct aead_key *key, uint64_t counter);
	void (*wall_time)(void *ctx, struct timespec *ts);
	/* Optional; peer is NULL for device-wide events. */
	void (*event)(void *ctx, enum device_event event, const struct peer *peer);
};

/* Why packets were dropped: for counters and metrics. */
enum drop_reason {
	DROP_MALFORMED,
	DROP_BAD_MAC,
	DROP_BAD_HANDSHAKE,
	DROP_REPLAY,
	DROP_NO_SESSION,
	DROP_ALLOWEDIPS,
	DROP_NO_PEER,
	DROP_NO_ENDPOINT, /* the destination's peer has no endpoint yet */
	DROP_RATELIMIT,
	DROP_STAGED_OVERFLOW,
	DROP_PEER_EXPIRED, /* a handshake from a peer past its expiry */
	DROP_REASON_COUNT
};

/* A source whose handshake messages fail mac1: it has a wrong public key for us. */
struct bad_mac_source {
	union sockaddr_any from; /* AF_UNSPEC: a free slot */
	uint64_t count;
	int64_t first, last; /* UNIX seconds */
};
enum { BAD_MAC_SOURCES = 8 };

struct device_stats {
	uint64_t dropped[DROP_REASON_COUNT];
	uint64_t cookie_replies_sent;
	uint64_t icmp_unreachable_sent; /* for packets no peer could take */
	uint64_t handshake_initiations_received;
	/* the latest sources of messages that failed mac1, most frequent kept */
	struct bad_mac_source bad_mac[BAD_MAC_SOURCES];
};

/* Events counted in a one-second window. */
struct second_count {
	uint64_t start; /* monotonic ns */
	unsigned count;
};

struct device {
	struct noise_identity identity;
	struct cookie_checker cookie_checker;
	struct ratelimiter ratelimiter;
	struct allowedips allowedips;
	struct index_table indices;
	struct timer_queue timers;
	struct packet_pool pool;
	struct device_io io;
	struct aead_ctx aead; /* seals and opens data for every keypair */

	struct peer_key_link **peer_buckets; /* by current key, and by next key in a rotation */
	size_t peer_bucket_count, peer_count;
	struct peer *first_peer, *last_peer;

	uint16_t listen_port;
	uint32_t fwmark;
	unsigned mtu;

	/* Under load (many handshake messages), handshakes need a cookie. */
	struct second_count load_window;
	uint64_t under_load_until;
	bool under_load_reported;
	bool force_under_load; /* for tests */
	/* ICMP errors for undeliverable packets, at most ICMP_ERRORS_PER_SECOND. */
	struct second_count icmp_window;
	struct timer timer_gc;

	/* Random words for timer jitter, drawn 16 at a time: one DRBG call costs more than a
	 * packet. */
	uint32_t jitter_pool[16];
	unsigned jitter_left;

	struct device_stats stats;
	uint8_t scratch[sizeof(struct message_handshake_initiation)];
	int64_t next_deadline; /* the earliest expiry or rotation deadline still to come; 0 none */
};

enum {
	DEFAULT_MTU = 1420,
	/* More handshake messages than this within one second put the device under load. */
	UNDER_LOAD_HANDSHAKES_PER_SECOND = 1024,
	ICMP_ERRORS_PER_SECOND = 100,
};

bool device_init(struct device *dev, const struct device_io *io)
    __attribute__((warn_unused_result));
void device_free(struct device *dev);

/* NULL clears the identity. A peer with the device's own public key is removed. */
bool device_set_private_key(struct device *dev, const uint8_t *private_key)
    __attribute__((warn_unused_result));
/* The peer with this key, current or next (in a rotation); NULL if none. */
struct peer *device_find_peer(const struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN]);
/* The same, as the link naming which of its keys it is. */
struct peer_key_link *device_find_key(const struct device *dev,
				      const uint8_t public_key[CRYPTO_KEY_LEN]);
/* The peer whose AllowedIPs hold a tunnel address (the longest prefix), or NULL. */
struct peer *device_peer_for_address(const struct device *dev, int family, const void *addr);
/* Adds a peer, or returns the one that already has this key; NULL for our own key. */
struct peer *device_add_peer(struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN]);
/* The same for a key device_find_peer has just not found (a large set looks each up once). */
struct peer *device_add_new_peer(struct device *dev, const uint8_t public_key[CRYPTO_KEY_LEN]);
void device_remove_peer(struct device *dev, struct peer *peer);
/*
 * Starts rotating a peer to next_key: handshakes with either key are accepted;
 * the first completed with next_key makes it the peer's only key (sessions
 * under the old one end, everything else carries over); at deadline (UNIX
 * seconds, 0 none) device_check_deadlines forces the change. Given the
 * rotation's key again, only the deadline changes. False, changing nothing,
 * for the peer's own key, a key another peer holds (current or next), ours,
 * or out of memory.
 */
bool device_rotate_peer(struct device *dev, struct peer *peer,
			const uint8_t next_key[CRYPTO_KEY_LEN], int64_t deadline)
    __attribute__((warn_unused_result));
/* Abandons a rotation: the current key stays the only one. */
void device_cancel_rotation(struct device *dev, struct peer *peer);
void device_remove_all_peers(struct device *dev);
/* A packet from the TUN; the device takes ownership of it. */
void device_send(struct device *dev, struct packet *packet, uint64_t now);
/* A UDP payload from src (and to its local address); buf is decrypted in place. */
void device_receive(struct device *dev, uint8_t *buf, size_t len, const struct wire_addr *src,
		    uint64_t now);
/*
 * Receiving a batch, its decryption spread over threads: device_open_prepare()
 * notes what to open for a data message on a live session (nothing for
 * anything else); device_open_run() opens it in place, on any thread with its
 * own context, while nothing else touches the device; device_receive_opened()
 * then does the rest, in arrival order, first checking that the session is
 * still the one opened with.
 */
struct device_open {
	const struct keypair *keypair; /* NULL: nothing opened ahead */
	const struct aead_key *key;
	uint64_t key_id, counter;
	uint8_t *data;
	size_t len;
	bool ok;
};
void device_open_prepare(struct device *dev, uint8_t *buf, size_t len, uint64_t now,
			 struct device_open *op);
void device_open_run(struct aead_ctx *ctx, struct device_open *op);
void device_receive_opened(struct device *dev, uint8_t *buf, size_t len,
			   const struct wire_addr *src, uint64_t now, const struct device_open *op);
void device_run_timers(struct device *dev, uint64_t now);
/*
 * Ends the sessions of the peers whose expiry (wall clock, UNIX seconds) has
 * come, from then on refusing their handshakes, and forces the rotations whose
 * deadline has. Cheap when none is due.
 */
void device_check_deadlines(struct device *dev, int64_t wall_now);
uint64_t device_next_timer(const struct device *dev);

/* Internal to the protocol files. */
bool device_under_load(struct device *dev, uint64_t now);
void device_drop(struct device *dev, enum drop_reason reason);
void device_event(struct device *dev, enum device_event event, const struct peer *peer);
uint64_t jitter_ns(struct device *dev);
void device_note_deadline(struct device *dev, int64_t when);
/* Counts a handshake problem of peer's, reporting event the 1st, 3rd and each 12th time after. */
void peer_problem(struct peer *peer, uint64_t *counter, enum device_event event);
/* The rotation's key becomes the peer's only one (forced: all sessions end). */
void device_finish_rotation(struct device *dev, struct peer *peer, bool forced);

#endif
