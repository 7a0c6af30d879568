/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's cross-platform userspace control protocol, as the stock wg(8)
 * speaks it to /var/run/wireguard/NAME.sock: "get=1" and "set=1" requests of
 * key=value lines ending in an empty line, answered with "errno=N".
 *
 * uapi_get() and uapi_set() are the protocol over a device, with no I/O; the
 * server part (socket, clients) is driven by the daemon's event loop.
 */
#ifndef WGATE_UAPI_H
#define WGATE_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "control/conn.h"
#include "config/config.h"
#include "core/device.h"
#include "core/encoding.h"
#include "core/secret_stream.h"

/* Where the control sockets live, as NAME.sock: shared by every implementation. */
#define UAPI_SOCKET_DIR "/var/run/wireguard"

/*
 * Whether name can be an interface's: 1 to 15 of wg-quick's characters
 * (letters, digits, _=+.-), not "." or "..". Every path built from a name
 * (its socket, pid file, reload report) is built only from one that is.
 */
bool uapi_name_valid(const char *name);

/* What a set may ask of the daemon beyond the device itself. */
struct uapi_ops {
	void *ctx;
	/* For the audit trail: who asked (via=, and the client's uid and pid; -1 unknown). */
	const char *via;
	long uid, pid;
	/* Rebind to port (0: random) with fwmark; 0 or a negative errno, nothing changed on error.
	 */
	int (*rebind)(void *ctx, uint16_t port, uint32_t fwmark);
};

/* A get answer, parsed: what a client (the monitor's reload) compares a config with. */
struct uapi_peer_state {
	uint8_t public_key[KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[KEY_LEN];
	uint16_t persistent_keepalive;
	union sockaddr_any endpoint; /* AF_UNSPEC when none */
	char *name, *groups;	     /* from a "get=wgate" answer; NULL when none */
	long long last_handshake;    /* UNIX seconds; 0 never */
	int64_t expires;	     /* from "get=wgate": UNIX seconds; 0 never */
	bool has_next_key;	     /* from "get=wgate": a key rotation in progress */
	uint8_t next_public_key[KEY_LEN];
	int64_t rotation_deadline; /* UNIX seconds; 0 none */
	/* from "get=wgate": why handshakes may not complete (struct peer_stats) */
	unsigned long long unanswered, cookie_replies, timestamps_refused, allowedips_dropped;
	long long unanswered_since;
	char allowedips_drop_source[48]; /* "" none */
	unsigned long long rx_bytes, tx_bytes;
	/* from "get=wgate": endpoints to fail over between ("a,b"; NULL none), and how it goes */
	char *endpoints;
	unsigned failover_ms, failback_ms, endpoint_index;
	unsigned long long failovers, failbacks, resolve_failures;
	struct ip_prefix *allowed_ips;
	size_t allowed_ips_len, allowed_ips_cap;
};

/* A source whose handshake messages failed mac1 (struct bad_mac_source), as text. */
struct uapi_bad_mac {
	char from[64];
	unsigned long long count;
	long long first, last;
};
enum { UAPI_BAD_MAC_SOURCES = 8 };

struct uapi_state {
	struct uapi_bad_mac bad_mac[UAPI_BAD_MAC_SOURCES];
	size_t bad_mac_len;
	bool has_private_key;
	uint8_t private_key[KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_peer_state *peers;
	size_t peers_len, peers_cap;
};

/*
 * A config peer's endpoints as a set request gives them: endpoint=, or with
 * more than one, wgate_endpoints= with the failover times (which leaves the
 * one in use alone when it is still listed). Only resolved ones; nothing
 * when none is.
 */
void uapi_put_endpoints(FILE *f, const struct peer_config *pc);
/* Its resolved endpoints as wgate_endpoints= lists them ("a,b"); false when they do not fit. */
bool uapi_endpoints_text(const struct peer_config *pc, char *out, size_t len);

/* Parses a get answer (through its errno line); false for errno != 0 or out of memory. */
bool uapi_state_parse(struct uapi_state *state, const char *answer)
    __attribute__((warn_unused_result));
/* Wipes the keys and frees everything. */
void uapi_state_free(struct uapi_state *state);

/* What a get shows. */
enum uapi_view {
	UAPI_VIEW_WG,	 /* "get=1": what wg(8) knows */
	UAPI_VIEW_WGATE, /* "get=wgate": wgate's keys and per-peer diagnostics too */
	/*
	 * "get=wgate_config": what a config sets, wgate's keys included, and no
	 * counters or times: what a reload compares with its file, half the size
	 */
	UAPI_VIEW_CONFIG,
};

/* Writes the device's state as a get response (without the errno line). */
void uapi_get(const struct device *dev, FILE *out, enum uapi_view view);
/*
 * Applies a set request's lines (after "set=1", up to the empty line). The
 * whole request is parsed and checked first, so a malformed one changes
 * nothing. Returns 0 or a negative errno.
 */
int uapi_set(struct device *dev, const char *request, size_t len, const struct uapi_ops *ops,
	     uint64_t now);

struct uapi_job;

/*
 * A set of more than slice_peers peers (a reload of a large config) is
 * carried out a slice at a time: uapi_serve makes its interface-wide changes
 * and uapi_continue the peers' changes, slice_peers a call, so the data path
 * runs between slices. Its client is answered when the last slice is done;
 * other clients are served between slices and see the set part done.
 */
enum { UAPI_SLICE_PEERS = 1024 };

struct uapi_server {
	struct conn_set conns; /* conns.listen_fd is the listening socket */
	char path[108];
	ino_t inode;
	struct uapi_job *job; /* the set being carried out; NULL when none */
	size_t slice_peers;   /* 0: UAPI_SLICE_PEERS */
};

/* Listens on /var/run/wireguard/ifname.sock (or adopts fd when >= 0). 0 or a negative errno. */
int uapi_listen(struct uapi_server *server, const char *ifname, int fd, char *err, size_t err_len);
void uapi_close(struct uapi_server *server);
/* True while our socket file is still the one in the directory. */
bool uapi_socket_present(const struct uapi_server *server);
/*
 * Serves a client after epoll reported events for it: sends what is pending,
 * reads what it sent, and answers its complete requests one at a time (the
 * next is read only once the answer before it has left). Returns false when
 * the client is gone (it is then closed and removed); otherwise wait for
 * conn_events(client).
 */
bool uapi_serve(struct uapi_server *server, struct conn *client, struct device *dev,
		const struct uapi_ops *ops, uint32_t events, uint64_t now);
/* Whether a set is part done: the caller's loop should come back at once. */
bool uapi_busy(const struct uapi_server *server);
/*
 * Carries the set on by a slice. When that was its last, answers its client
 * and returns that connection (NULL when it is gone), for the caller to
 * serve it again (its answer to send, requests it sent meanwhile); else NULL.
 */
struct conn *uapi_continue(struct uapi_server *server, struct device *dev, uint64_t now);

/*
 * The client side: sends one request to ifname's socket and returns the
 * whole response (through the errno line), or NULL with errno set.
 */
char *uapi_request(const char *ifname, const char *request);
/* A get with the peers' names and groups ("get=wgate"); a plain get from another implementation. */
char *uapi_request_identity(const char *ifname);
/*
 * The same, calling serve(side) whenever side is readable while it waits
 * (the monitor answers its child's requests meanwhile), giving up after
 * timeout_ms of silence (-1: never). A false from serve ends the wait.
 */
char *uapi_request_serving(const char *ifname, const char *request, int side,
			   bool (*serve)(int side), int timeout_ms);

/*
 * The same in two steps, for work done while the daemon answers: start
 * connects and sends the whole request (serving side as above), 0 or an
 * errno; finish waits for the answer and returns it as uapi_request_serving
 * does (NULL with errno set); end lets go of a call not finished (the
 * daemon still carries out a request it has whole).
 */
struct uapi_call {
	int fd, side, timeout_ms;
	bool (*serve)(int side);
	const char *request;
	size_t len, done;
	bool complete;
	struct secret_stream answer;
};
int uapi_call_start(struct uapi_call *call, const char *ifname, const char *request, int side,
		    bool (*serve)(int side), int timeout_ms) __attribute__((warn_unused_result));
char *uapi_call_finish(struct uapi_call *call);
void uapi_call_end(struct uapi_call *call);

#endif
