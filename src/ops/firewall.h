/* SPDX-License-Identifier: MIT */
/*
 * The access policy as nftables rules: one table, inet wgate-IFNAME, that
 * the config alone determines (wgate(8), GATEWAY KEYS). Text only; host/nft.c
 * hands it to the kernel in one transaction.
 */
#ifndef WGATE_FIREWALL_H
#define WGATE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* What the running interface adds to the config. */
struct firewall_params {
	const char *ifname;
	uint16_t listen_port; /* the port bound (the config's may be unset) */
	unsigned mtu;
	/* A full tunnel (an AllowedIPs of /0 routed in its own table): its mark, and families. */
	uint32_t full_tunnel_mark;
	bool full_tunnel_v4, full_tunnel_v6;
};

/* Whether the interface needs a table at all. */
bool firewall_needed(const struct config *config, const struct firewall_params *fp);

/*
 * The nftables script that replaces table inet wgate-IFNAME with what the
 * config says (a table left by a daemon that died is replaced, not added
 * to). NULL with *err set when the policy cannot be expressed (the text
 * names the peers or prefixes) or memory ran out. The caller frees it.
 */
char *firewall_script(const struct config *config, const struct firewall_params *fp, char *err,
		      size_t err_len);

/* The script that removes the table. */
void firewall_delete_script(const char *ifname, char *out, size_t len);

/*
 * Makes the kernel's table what the config says, in one transaction; with
 * check_only the kernel validates it and nothing changes. A config that
 * needs no table removes one that is there. Without nftables (WGATE_NFT=off
 * or no kernel support) a config with a policy fails, and a full tunnel's
 * rules are skipped with event=firewall_skipped in the log.
 */
bool firewall_apply(const struct config *config, const struct firewall_params *fp, bool check_only,
		    char *err, size_t err_len);
/* Removes the table, if there is one. */
void firewall_remove(const char *ifname);

#endif
