/* SPDX-License-Identifier: MIT */
#ifndef WGATE_RELOAD_H
#define WGATE_RELOAD_H

#include <stdbool.h>

#include "config/config.h"
#include "host/netconf.h"

/* The running interface as the monitor knows it: what a reload changes. */
struct reload_target {
	const char *ifname;
	unsigned ifindex;
	int privsep_channel; /* the child's requests are served while it is asked */
	const char *config_path;
	struct config *config; /* replaced by the new one on success */
	struct netconf_state *netconf;
	unsigned *mtu;
	unsigned *generation; /* of the report in /run/wgate/NAME.reload */
};

/*
 * Re-reads the config and applies every difference to the running interface:
 * identity, port, peers (keeping the sessions of those that did not change),
 * AllowedIPs, addresses, MTU, routes, DNS. On error nothing of the new config
 * is applied. The outcome goes to the log and to /run/wgate/NAME.reload.
 */
bool reload_apply(struct reload_target *t);
/*
 * Records in the config file (and the monitor's copy) the key rotations that
 * ended in the running interface, changing nothing else: what the data path
 * asks for (PRIVSEP_SETTLE) when one ends.
 */
void reload_settle(struct reload_target *t);
/* Sends a set request to the running interface; 0 or a negative errno. */
int reload_ask(struct reload_target *t, const char *request);

#endif
