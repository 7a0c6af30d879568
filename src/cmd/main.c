// SPDX-License-Identifier: MIT
/* wgate's entry point: a dispatch table and nothing else. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "host/heap.h"
#include "core/noise.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"genkey", cmd_genkey, "Generate a new private key and write it to stdout"},
    {"genpsk", cmd_genpsk, "Generate a new preshared key and write it to stdout"},
    {"pubkey", cmd_pubkey, "Read a private key from stdin and write its public key to stdout"},
    {"strip", cmd_strip, "Check a config and print the part wg(8) understands"},
    {"up", cmd_up, "Bring an interface up from a config and run it"},
    {"down", cmd_down, "Stop an interface that wgate runs"},
    {"show", cmd_show, "Show interfaces as wg show does, or as JSON (--json)"},
    {"showconf", cmd_showconf, "Print an interface's running configuration"},
    {"reload", cmd_reload, "Apply a changed config to a running interface, sessions kept"},
    {"set", cmd_set, "Change a running interface, as wg set does"},
    {"firewall", cmd_firewall, "Print the nftables rules a config's access policy makes"},
    {"peer", cmd_peer, "Add, list and remove peers in a config, the running interface following"},
    {"check", cmd_check, "Walk the guide's checklists over a config and its running interface"},
    {"gateway", cmd_gateway, "Print an API gateway's config of the peers' names and groups"},
    {"syncconf", cmd_syncconf, "Make a running interface's peers match a config file"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: wgate <command> [<args>]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`wgate <command> --help' describes each one; see also wgate(8).\n");
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');

	self = self ? self + 1 : argv[0];
	if (!strcmp(self, "wgated")) {
		heap_prefer_huge_pages(argv);
		heap_keep_freed();
		if (!noise_init()) {
			cli_error("wgated: OpenSSL lacks an algorithm wgate needs\n");
			return 1;
		}
		return wgated_main(argc, argv);
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("wgate %s\n", WGATE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (commands[i].run == cmd_up) {
			heap_prefer_huge_pages(argv);
			heap_keep_freed();
		}
		if (!noise_init()) {
			cli_error("wgate: OpenSSL lacks an algorithm wgate needs "
				  "(BLAKE2s, ChaCha20-Poly1305 or X25519); install libcrypto 3\n");
			return 1;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	cli_error("wgate: unknown command `%s'\n\n", argv[1]);
	usage(stderr);
	return 1;
}
