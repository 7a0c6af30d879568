// SPDX-License-Identifier: MIT
/*
 * wgate gateway: print the API gateway's side of a config, the peers' names
 * and groups by tunnel address, as NGINX, HAProxy, Envoy or Kong read them
 * (wgate(8), GATEWAY KEYS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "ops/gateway.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: wgate gateway <nginx | haproxy | envoy | kong> <CONFIG_FILE | INTERFACE>\n\n"
	    "Prints what an API gateway needs to know of the peers, derived from the\n"
	    "config: each peer's tunnel addresses with its Name and Groups.\n"
	    "  nginx    geo blocks for the http block: $wgate_peer, $wgate_peer_groups and\n"
	    "           $wgate_group_NAME (1 or 0) for each [Group]\n"
	    "  haproxy  a map file for map_ip: PREFIX NAME;,GROUP,...,\n"
	    "  envoy    an envoy.filters.http.rbac filter: a policy per group and per peer\n"
	    "  kong     a declarative config: a consumer per peer, and an ip-restriction\n"
	    "           that lets only the peers and the ManagementSources call\n"
	    "GatewayConfig = FORMAT PATH in the config writes the same at every up and\n"
	    "reload, and GatewayReload = COMMAND runs when it changed. An INTERFACE name\n"
	    "stands for the config it was brought up from, else\n"
	    "/etc/wireguard/INTERFACE.conf. No root is needed. See wgate(8), GATEWAY KEYS.\n");
}

int cmd_gateway(int argc, char **argv)
{
	char path[4096], ifname[IFNAMSIZ] = "", err[512], *text;
	enum gateway_format format;
	struct config config;
	bool running;

	if (wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 1;
	}
	if (!gateway_format_parse(argv[1], &format)) {
		cli_error("wgate gateway: `%s' is not nginx, haproxy, envoy or kong\n", argv[1]);
		return 1;
	}
	if (!config_for_reading(argv[2], path, ifname, &running)) {
		cli_error(
		    "wgate gateway: `%s' does not name an interface: name the file NAME.conf\n",
		    path);
		return 1;
	}
	if (!config_load(&config, path, err, sizeof(err))) {
		cli_error("wgate gateway: %s\n", err);
		return 1;
	}
	text = gateway_render(&config, ifname, path, format);
	config_free(&config);
	if (!text) {
		cli_error("wgate gateway: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout)) {
		perror("wgate gateway: cannot write");
		return 1;
	}
	return 0;
}
