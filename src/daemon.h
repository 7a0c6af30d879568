/* SPDX-License-Identifier: MIT */
/*
 * The event loop that joins a device to the world: its TUN, its UDP sockets,
 * signals and the device's timers, in one thread with epoll.
 */
#ifndef WGATE_DAEMON_H
#define WGATE_DAEMON_H

#include <net/if.h>
#include <stdbool.h>

#include "device.h"
#include "uapi.h"
#include "udp.h"

struct daemon {
	char ifname[IFNAMSIZ];
	unsigned ifindex;
	int tun_fd, epoll_fd, signal_fd;
	struct udp udp;
	struct device dev;
	struct uapi_server uapi;
	bool exit_without_socket; /* stop when the control socket file disappears */
	uint64_t next_maintenance;
	bool stop;
	int exit_status;
	struct packet *tun_packet; /* the buffer the next TUN read goes into */
};

uint64_t monotonic_ns(void);
/* Sets up the device (io callbacks) with everything closed; then open the TUN and UDP. */
bool daemon_init(struct daemon *d, const char *ifname) __attribute__((warn_unused_result));
/* Binds the UDP sockets anew (port 0: random); 0 or a negative errno, nothing changed on error. */
int daemon_rebind(void *ctx, uint16_t port, uint32_t fwmark);
/* Registers the fds with epoll and blocks SIGINT/SIGTERM/SIGHUP into a signalfd. */
bool daemon_prepare(struct daemon *d, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* Runs until a signal or a fatal error; returns the exit status. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
