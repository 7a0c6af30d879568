/* SPDX-License-Identifier: MIT */
/*
 * The monitor (see privsep.h): forks the sandboxed child that runs the event
 * loop, then stays root, answering the child's requests and running reloads
 * on SIGHUP, until SIGTERM/SIGINT or the child's end.
 */
#ifndef WGATE_MONITOR_H
#define WGATE_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/daemon.h"
#include "ops/peer_store.h"

struct monitor {
	pid_t child;	 /* 0 once it is gone */
	int exit_status; /* the child's, once gone */
	/* following the endpoints' names (ops/endpoint_names.h) */
	struct resolver resolver;
	uint64_t next_resolve, resolve_started; /* monotonic ns; next 0: none due */
	unsigned resolve_generation;		/* the reload the round's config came from */
	/* the PeerDirectory watched (host/dirwatch.h): a change is a reload, soon */
	int watch_fd;
	char *watched;
	uint64_t reload_due;	  /* monotonic ns; 0 none */
	struct peer_store *store; /* the peer set in etcd; NULL when none */
};

/*
 * Blocks the signals the monitor answers (SIGINT, SIGTERM, SIGHUP, SIGCHLD)
 * from the start of set-up, so that one arriving before the monitor runs is
 * handled by it, not by the default action halfway through.
 */
void monitor_hold_signals(void);

/*
 * Starts the child on d (set up: TUN, sockets, device configured) and serves
 * it. Returns when the interface should go down: 0 on SIGTERM/SIGINT (the
 * child still runs: stop it with monitor_stop after the down hooks), or 1
 * when the child ended by itself. WGATE_SANDBOX=off leaves the child root and
 * unconfined (for debugging only).
 */
int monitor_run(struct monitor *m, struct daemon *d);
/* Stops the child (SIGTERM, then SIGKILL after 10 s) and waits for it. */
void monitor_stop(struct monitor *m);

#endif
