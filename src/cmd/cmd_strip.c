// SPDX-License-Identifier: MIT
/* wgate strip: validate a config, then print what wg(8) understands of it. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "core/crypto.h"

int cmd_strip(int argc, char **argv)
{
	char pathbuf[64], err[512];
	const char *path;
	struct config config;
	size_t len;
	char *text;
	bool ok;

	if (argc != 2 || wants_help(argc, argv)) {
		bool help = wants_help(argc, argv);

		fprintf(
		    help ? stdout : stderr,
		    "Usage: wgate strip <CONFIG_FILE | INTERFACE>\n\n"
		    "Checks the whole config, then prints it without the wg-quick(8) and wgate\n"
		    "keys (Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown,\n"
		    "SaveConfig), as `wg-quick strip' does, for `wg setconf' or `wg syncconf'.\n"
		    "An INTERFACE name stands for /etc/wireguard/INTERFACE.conf.\n");
		return !help;
	}
	path = config_path_for(argv[1], pathbuf, sizeof(pathbuf));
	text = read_file(path, 64u << 20, &len, err, sizeof(err));
	if (!text) {
		cli_error("wgate strip: %s\n", err);
		return 1;
	}
	warn_if_world_accessible(path);
	ok = config_parse(&config, text, len, path, err, sizeof(err));
	if (ok) {
		config_strip(text, len, stdout);
		config_free(&config);
	} else {
		cli_error("wgate strip: %s\n", err);
	}
	crypto_wipe(text, len);
	free(text);
	if (ok && fflush(stdout)) {
		perror("wgate strip: cannot write");
		return 1;
	}
	return !ok;
}
