/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: what bringing an interface up needs. Each call
 * returns 0 or a negative errno.
 */
#ifndef WGATE_NETLINK_H
#define WGATE_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

int netlink_link_set(unsigned ifindex, bool up, unsigned mtu);
int netlink_address_add(unsigned ifindex, const struct ip_prefix *address);
int netlink_address_del(unsigned ifindex, const struct ip_prefix *address);
/* A route for prefix through the interface, in table (0 for main); EEXIST is success. */
/* A route through a gateway on ifindex (the default route of a policy table: prefix /0). */
int netlink_route_via(bool add, unsigned ifindex, const struct ip_prefix *prefix,
		      const void *gateway, uint32_t table);
int netlink_route_add(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table);
int netlink_route_del(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table);
/*
 * The same for many prefixes at once: requests go out in batches, each
 * acknowledged as a whole, so 100k routes take a few hundred system calls.
 * failed (may be NULL) hears of each prefix refused (EEXIST on add is no
 * refusal). Returns n.
 */
typedef void netlink_route_failed(void *ctx, const struct ip_prefix *prefix, int err);
size_t netlink_routes(bool add, unsigned ifindex, const struct ip_prefix *const *prefixes, size_t n,
		      uint32_t table, netlink_route_failed *failed, void *ctx);
int netlink_link_delete(unsigned ifindex);
/*
 * A policy rule: lookup in table, for packets (not) carrying fwmark (0: any),
 * suppressing routes with prefix length <= suppress_prefixlen (-1: none).
 */
int netlink_rule(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
		 int suppress_prefixlen);

#endif
