/* SPDX-License-Identifier: MIT */
/* The UDP underlay: an IPv4 and an IPv6 socket on one port. */
#ifndef WGATE_UDP_H
#define WGATE_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

struct udp {
	int fd4, fd6; /* -1 when that family is unavailable */
	uint16_t port;
};

/*
 * Binds both families to port (0: a random free port for both). Returns 0 or
 * a negative errno; fails only if neither family can be bound. With gro,
 * the kernel may deliver runs of datagrams joined (UDP_GRO).
 */
int udp_open(struct udp *udp, uint16_t port, uint32_t fwmark, bool gro);
int udp_set_fwmark(struct udp *udp, uint32_t fwmark);
void udp_close(struct udp *udp);

#endif
