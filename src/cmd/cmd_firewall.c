// SPDX-License-Identifier: MIT
/*
 * wgate firewall: print the nftables table a config's access policy makes
 * (wgate(8), GATEWAY KEYS), and with --check have the kernel validate it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "control/uapi.h"
#include "core/crypto.h"
#include "host/clock.h"
#include "host/netconf.h"
#include "host/nft.h"
#include "ops/firewall.h"

/* The port a running interface listens on: the config may leave it to chance. */
static uint16_t running_port(const char *ifname)
{
	char *answer = uapi_request(ifname, "get=1\n\n");
	struct uapi_state state;
	uint16_t port = 0;

	if (!answer)
		return 0;
	if (uapi_state_parse(&state, answer)) {
		port = state.listen_port;
		uapi_state_free(&state);
	}
	crypto_wipe(answer, strlen(answer));
	free(answer);
	return port;
}

int cmd_firewall(int argc, char **argv)
{
	bool check = argc == 3 && !strcmp(argv[2], "--check"), running, ok;
	char path[4096], ifname[IFNAMSIZ] = "", err[512], *script = NULL;
	struct firewall_params fp = {0};
	struct config config;

	if ((argc != 2 && !check) || wants_help(argc, argv)) {
		bool help = wants_help(argc, argv);

		fprintf(
		    help ? stdout : stderr,
		    "Usage: wgate firewall <CONFIG_FILE | INTERFACE> [--check]\n\n"
		    "Prints the nftables table (inet wgate-NAME) that the config's access policy\n"
		    "makes: ApiPorts, ManagementSources, ListenSources, Egress, [Group]s, each\n"
		    "peer's Allow and Groups, MssClamp, Masquerade, and a full tunnel's rules.\n"
		    "It is what `wgate up' and `wgate reload' apply, in one transaction. No root\n"
		    "is needed to print it. --check has the kernel validate it as well (root),\n"
		    "changing nothing. An INTERFACE name stands for the config it was brought up\n"
		    "from, else /etc/wireguard/INTERFACE.conf. See wgate(8), GATEWAY KEYS.\n");
		return !help;
	}
	ok = config_for_reading(argv[1], path, ifname, &running);
	if (!config_load(&config, path, err, sizeof(err))) {
		cli_error("wgate firewall: %s\n", err);
		return 1;
	}
	fp.ifname = ifname;
	fp.listen_port = config.listen_port;
	if (running && !fp.listen_port)
		fp.listen_port = running_port(argv[1]);
	fp.mtu = config.has_mtu ? config.mtu : DEFAULT_MTU;
	netconf_full_tunnel(&config, &fp.full_tunnel_mark, &fp.full_tunnel_v4, &fp.full_tunnel_v6);
	if (!ok)
		cli_error(
		    "wgate firewall: `%s' does not name an interface: name the file NAME.conf\n",
		    path);
	if (ok && !firewall_needed(&config, &fp)) {
		printf("# %s: no access policy and no full tunnel: wgate keeps no table\n", path);
	} else if (ok) {
		script = firewall_script(&config, &fp, err, sizeof(err));
		if (!script)
			cli_error("wgate firewall: %s: %s\n", path, err);
		ok = script != NULL;
		if (ok)
			fputs(script, stdout);
		if (ok && check && !nft_run(script, true, err, sizeof(err))) {
			cli_error("wgate firewall: the kernel refuses it: %s\n", err);
			ok = false;
		}
	}
	free(script);
	config_free(&config);
	if (fflush(stdout)) {
		perror("wgate firewall: cannot write");
		return 1;
	}
	return !ok;
}
