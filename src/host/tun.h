/* SPDX-License-Identifier: MIT */
/* The Linux TUN device: layer-3 packets, no packet-info header. */
#ifndef WGATE_TUN_H
#define WGATE_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Creates (or attaches to) the TUN named name; returns a non-blocking fd, or
 * -1 with errno. With vnet_hdr, each read and write carries a virtio-net
 * header (for offloads, see datapath.c).
 */
int tun_open(const char *name, bool vnet_hdr);

#endif
