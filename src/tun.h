/* SPDX-License-Identifier: MIT */
/* The Linux TUN device: layer-3 packets, no packet-info header. */
#ifndef WGATE_TUN_H
#define WGATE_TUN_H

#include <net/if.h>
#include <stddef.h>

/* Creates (or attaches to) the TUN named name; returns a non-blocking fd, or -1 with errno. */
int tun_open(const char *name);

#endif
