/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: what bringing an interface up needs. Each call
 * returns 0 or a negative errno.
 */
#ifndef WGATE_NETLINK_H
#define WGATE_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

int netlink_link_set(unsigned ifindex, bool up, unsigned mtu);
int netlink_address_add(unsigned ifindex, const struct ip_prefix *address);
int netlink_address_del(unsigned ifindex, const struct ip_prefix *address);
/* A route for prefix through the interface, in table (0 for main); EEXIST is success. */
int netlink_route_add(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table);
int netlink_route_del(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table);
int netlink_link_delete(unsigned ifindex);
/*
 * A policy rule: lookup in table, for packets (not) carrying fwmark (0: any),
 * suppressing routes with prefix length <= suppress_prefixlen (-1: none).
 */
int netlink_rule(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
		 int suppress_prefixlen);

#endif
