// SPDX-License-Identifier: MIT
/*
 * wgate reload: have the interface's daemon check its config file and apply
 * every difference (SIGHUP), then say how that went. The daemon parses the
 * file itself and refuses a broken one whole; checking it here as well would
 * only parse a large file twice.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "control/uapi.h"
#include "daemon/daemon.h"

/* The generation and text of the daemon's last reload report. */
static unsigned read_report(const char *ifname, char *text, size_t len)
{
	char path[64];
	unsigned generation = 0;
	FILE *f;

	run_file_path(path, sizeof(path), ifname, "reload");
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(text, (int)len, f) || sscanf(text, "generation=%u", &generation) != 1)
		generation = 0;
	fclose(f);
	return generation;
}

int cmd_reload(int argc, char **argv)
{
	char pidpath[64], config_path[4096] = "", report[1024] = "";
	unsigned before;
	int pid = 0;

	if (argc != 2 || wants_help(argc, argv) || !uapi_name_valid(argv[1])) {
		bool help = wants_help(argc, argv);

		fprintf(help ? stdout : stderr,
			"Usage: wgate reload INTERFACE\n\n"
			"Checks the config file the interface was brought up from, then applies\n"
			"every difference to the running interface: private key, port, peers\n"
			"(sessions of unchanged peers are kept), AllowedIPs, Address, MTU, routes\n"
			"and DNS. A config with an error changes nothing. SIGHUP does the same.\n");
		return !help;
	}
	pid = running_interface(argv[1], config_path);
	if (!pid) {
		run_file_path(pidpath, sizeof(pidpath), argv[1], "pid");
		cli_error("wgate reload: `%s' is not run by `wgate up' (no %s)\n", argv[1],
			  pidpath);
		return 1;
	}
	before = read_report(argv[1], report, sizeof(report));
	if (kill(pid, SIGHUP) < 0) {
		cli_error("wgate reload: cannot signal pid %d: %s\n", pid, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 2000; ++i) {
		struct timespec tick = {0, 5 * 1000000L};

		if (read_report(argv[1], report, sizeof(report)) != before) {
			report[strcspn(report, "\n")] = '\0';
			if (strstr(report, "status=ok")) {
				printf("wgate reload: %s: applied %s\n", argv[1], config_path);
				return 0;
			}
			if (strstr(report, "status=partial") && strstr(report, "message=")) {
				cli_error("wgate reload: %s: applied %s except: %s\n", argv[1],
					  config_path, strstr(report, "message=") + 8);
				return 1;
			}
			if (strstr(report, "message="))
				cli_error(
				    "wgate reload: %s: %s\nwgate reload: nothing was changed\n",
				    argv[1], strstr(report, "message=") + 8);
			else
				cli_error("wgate reload: %s\n", report);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	cli_error("wgate reload: the daemon (pid %d) did not answer within 10 s\n", pid);
	return 1;
}
