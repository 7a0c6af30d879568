/* SPDX-License-Identifier: MIT */
/*
 * Static peer identity: the API gateway's side of the config, derived from the
 * peers (who holds which tunnel address, with which name and groups), in the
 * gateway's own format (wgate(8), GATEWAY KEYS):
 *
 *   nginx    geo blocks: $wgate_peer, $wgate_peer_groups and one
 *            $wgate_group_NAME (1 or 0) per [Group], for the http block
 *   haproxy  a map file for map_ip: "PREFIX NAME;,GROUP,GROUP,"
 *   envoy    the envoy.filters.http.rbac filter: a policy per group and per peer
 *   kong     a declarative config: a consumer per peer, tagged with its groups,
 *            and an ip-restriction plugin per group
 *
 * Text only, from the config alone; gateway_sync writes the files of the
 * config's GatewayConfig lines and runs its GatewayReload commands.
 */
#ifndef WGATE_GATEWAY_H
#define WGATE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* The text for one format; NULL when out of memory. source names the config in a comment. */
char *gateway_render(const struct config *config, const char *ifname, const char *source,
		     enum gateway_format format);

/*
 * Writes each GatewayConfig file whose content differs (atomically, mode
 * 0644), then, if any changed, runs the GatewayReload commands (a failing one
 * is logged: the gateway may not run yet). False with a sentence in err when
 * a file could not be written; the other files are written all the same.
 */
bool gateway_sync(const struct config *config, const char *ifname, const char *source, char *err,
		  size_t err_len);

#endif
