/* SPDX-License-Identifier: MIT */
/*
 * The event loop that joins a device to the world: its TUN, its UDP sockets,
 * signals and the device's timers, in one thread with epoll.
 */
#ifndef WGATE_DAEMON_H
#define WGATE_DAEMON_H

#include <net/if.h>
#include <stdbool.h>

#include "host/datapath.h"
#include "core/device.h"
#include "control/identity.h"
#include "control/metrics.h"
#include "host/clock.h"
#include "host/netconf.h"
#include "host/resolver.h"
#include "control/uapi.h"
#include "host/udp.h"

struct daemon {
	char ifname[IFNAMSIZ];
	unsigned ifindex;
	int tun_fd, epoll_fd, signal_fd;
	int ioctl_fd; /* a datagram socket for interface ioctls (the MTU) */
	struct udp udp;
	struct datapath dp;
	struct device dev;
	struct uapi_server uapi;
	struct metrics_server metrics;
	struct identity_server identity;
	bool exit_without_socket; /* stop when the control socket file disappears */
	int privsep_channel;	  /* to the monitor when sandboxed (privsep.h), else -1 */
	bool handed_over;	  /* in the monitor: the device and data path are the child's */
	bool rotation_ended;	  /* a key rotation ended: the config should record it */
	bool resolve_wanted;	  /* handshakes unanswered: endpoints' names may have moved */
	unsigned mtu;		  /* in the monitor: the MTU it set */
	uint64_t sandbox_denied_logged;
	/* the bad-mac1 sources as last logged (count, when), so each is said once a minute */
	struct bad_mac_source bad_mac_logged[BAD_MAC_SOURCES];
	/* Set by wgate up, for reloads (SIGHUP); wgated has none. */
	char config_path[4096];
	struct config *config;
	struct netconf_state *netconf;
	unsigned reload_generation;
	uint64_t next_maintenance;
	bool stop;
	int exit_status;
};

/*
 * Sets up the device (io callbacks) and the data path, with the offloads
 * WGATE_NO_OFFLOAD leaves on, everything closed; then attach the TUN and
 * open the UDP sockets. False with a sentence in err.
 */
bool daemon_init(struct daemon *d, const char *ifname, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* Binds the UDP sockets (port 0: random); 0 or a negative errno. */
int daemon_open_udp(struct daemon *d, uint16_t port, uint32_t fwmark);
/* Hands the TUN fd to the data path, which turns on the offloads it supports. */
void daemon_attach_tun(struct daemon *d, int tun_fd);
/* Binds the UDP sockets anew (port 0: random); 0 or a negative errno, nothing changed on error. */
int daemon_rebind(void *ctx, uint16_t port, uint32_t fwmark);
/* Registers the fds with epoll and blocks SIGINT/SIGTERM/SIGHUP into a signalfd. */
bool daemon_prepare(struct daemon *d, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* A reload of the config (ops/reload.h) in the monitor. */
/* In the monitor: has the config record the key rotations that ended (reload_settle). */
void daemon_settle(struct daemon *d);
bool daemon_reload(struct daemon *d);
/* In the monitor: hands what the endpoints' names resolved to to the interface. */
void daemon_resolved(struct daemon *d, const struct resolve_item *items, size_t len);
/* Runs until a signal or a fatal error; returns the exit status. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
