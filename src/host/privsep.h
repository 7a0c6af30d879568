/* SPDX-License-Identifier: MIT */
/*
 * Privilege separation, after OpenBSD's daemons and OpenSSH's monitor: once an
 * interface is set up, the process that parses packets, control requests and
 * HTTP (the event loop, the data path, the servers) runs as a sandboxed child
 * (sandbox.h); the process that set it up stays root as its monitor, small
 * and without any network input of its own. The monitor answers the child's
 * few requests on a socket pair, runs reloads (it reads the config, changes
 * addresses, routes, MTU and DNS, and hands the device's part to the child
 * over the control socket as any client would), and at the end runs the down
 * hooks and removes what it set up.
 *
 * The child may ask for exactly five things, each a fixed-size message:
 *   PRIVSEP_BIND: UDP sockets on a port with a mark (ports below 1024 and
 *                 marks need root); answered with the sockets' descriptors;
 *   PRIVSEP_MARK: a new mark on the sockets it sends along (same port);
 *   PRIVSEP_COUNTERS: the access policy's drop counters as the monitor last
 *                 read them (reading nftables needs root); answered with a
 *                 sealed memory file of text;
 *   PRIVSEP_SETTLE: a peer's key rotation ended, so the config file should
 *                 say so (the monitor runs a reload, which records it); not
 *                 answered, and carrying nothing the monitor acts on;
 *   PRIVSEP_RESOLVE: a peer's handshakes go unanswered, so the names of the
 *                 endpoints may point elsewhere now: the monitor resolves
 *                 them again (at most every few seconds, whatever the child
 *                 asks); not answered either.
 */
#ifndef WGATE_PRIVSEP_H
#define WGATE_PRIVSEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/udp.h"

enum privsep_request_type {
	PRIVSEP_BIND = 1,
	PRIVSEP_MARK = 2,
	PRIVSEP_COUNTERS = 3,
	PRIVSEP_SETTLE = 4,
	PRIVSEP_RESOLVE = 5
};

struct privsep_request {
	uint32_t type;
	uint32_t fwmark;
	uint16_t port;
	uint8_t gro; /* UDP_GRO on the new sockets */
};

struct privsep_reply {
	int32_t error; /* 0 or a negative errno */
	uint16_t port; /* the port bound */
};

/* In the child: asks the monitor on channel; 0 or a negative errno; *udp replaced on success. */
int privsep_bind(int channel, struct udp *udp, uint16_t port, uint32_t fwmark, bool gro);
int privsep_mark(int channel, struct udp *udp, uint32_t fwmark);

/* In the child: the counters' text (the caller frees it), or NULL when there is none. */
char *privsep_counters(int channel, size_t *len);

/*
 * In the child: asks for what needs no answer, PRIVSEP_SETTLE (a reload that
 * records finished key rotations) or PRIVSEP_RESOLVE; 0 or a negative errno.
 */
int privsep_nudge(int channel, enum privsep_request_type type);

/* In the monitor: whether that request (SETTLE or RESOLVE) came since the last call. */
bool privsep_wanted(enum privsep_request_type type);

/* In the monitor: where PRIVSEP_COUNTERS answers come from (a copy the caller frees, or NULL). */
void privsep_set_counters(char *(*provider)(void *ctx, size_t *len), void *ctx);

/* In the monitor: answers one request waiting on channel; false when the child is gone. */
bool privsep_serve(int channel);

#endif
