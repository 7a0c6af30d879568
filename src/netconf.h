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

#include "config.h"

/* Runs each hook through /bin/sh; stops at the first failure when strict. */
bool netconf_run_hooks(const struct strv *hooks, const char *ifname, bool strict, char *err,
		       size_t err_len);
/* Addresses, MTU, link up, routes. */
bool netconf_up(const char *ifname, unsigned ifindex, const struct config *config, unsigned mtu,
		char *err, size_t err_len);
/* The routing table the config asks for: 0 main, -1 none (Table = off). */
long netconf_table(const struct config *config, char *err, size_t err_len);
bool netconf_dns_set(const char *ifname, const struct config *config, char *err, size_t err_len);
void netconf_dns_unset(const char *ifname);

#endif
