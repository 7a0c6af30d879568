/* SPDX-License-Identifier: MIT */
/*
 * What wg-quick(8) does around an interface, done by wgate itself: the hooks
 * (with %i), addresses, MTU, a route per AllowedIPs prefix, and DNS through
 * resolvconf(8).
 */
#ifndef WGATE_NETCONF_H
#define WGATE_NETCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Runs each hook through /bin/sh; stops at the first failure when strict. */
bool netconf_run_hooks(const struct strv *hooks, const char *ifname, bool strict, char *err,
		       size_t err_len);
/*
 * What netconf_up() set that outlives the interface: the policy rules that a
 * default route (an AllowedIPs of /0 with Table = auto) needs.
 */
struct netconf_state {
	uint32_t default_table; /* also the fwmark of the tunnel's own packets; 0 if none */
	bool default_v4, default_v6;
	bool firewall; /* the access policy's table inet wgate-IFNAME may be installed */
	char ifname[16];
	/* Uplink: its table's default route and rules, per family (index 0 IPv4, 1 IPv6) */
	struct uplink_config uplinks[2];
	unsigned uplink_ifindex[2];
	bool uplink_set[2];
};

/*
 * Addresses, MTU, link up, routes. A /0 prefix is routed as wg-quick does:
 * in its own table, used by every packet not marked with that table's number,
 * which becomes the fwmark of the tunnel's own sockets (*fwmark, in and out).
 * The nftables rules wg-quick adds for a full tunnel are the access policy's
 * (ops/firewall.h), applied by the caller with state->default_v4/v6 known.
 */
bool netconf_up(const char *ifname, unsigned ifindex, const struct config *config, unsigned mtu,
		struct netconf_state *state, uint32_t *fwmark, char *err, size_t err_len);
void netconf_down(const struct netconf_state *state);
/*
 * Whether netconf_up() routes a /0 in its own table (an AllowedIPs of /0 with
 * Table auto or main), per family, and that table's number, which is also
 * the tunnel's fwmark. False when the Table value is bad.
 */
bool netconf_full_tunnel(const struct config *config, uint32_t *mark, bool *v4, bool *v6);
/* The routing table the config asks for: 0 main, -1 none (Table = off). */
long netconf_table(const struct config *config, char *err, size_t err_len);
bool netconf_dns_set(const char *ifname, const struct config *config, char *err, size_t err_len);
void netconf_dns_unset(const char *ifname);

#endif
