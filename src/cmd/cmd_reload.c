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

/* The generation and text of the daemon's last reload report; 0 when there is none. */
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

/* The warnings of the report (lines after the first), on standard error. */
static void say_warnings(const char *who, const char *ifname)
{
	char path[64], line[1024];
	FILE *f;

	run_file_path(path, sizeof(path), ifname, "reload");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f))
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "warning=", 8))
				fprintf(stderr, "%s: %s: warning: %s", who, ifname, line + 8);
	fclose(f);
}

int reload_interface(const char *who, const char *ifname, FILE *say)
{
	char pidpath[64], config_path[4096] = "", report[1024] = "";
	unsigned before;
	int pid = running_interface(ifname, config_path);

	if (!pid) {
		run_file_path(pidpath, sizeof(pidpath), ifname, "pid");
		cli_error("%s: `%s' is not run by `wgate up' (no %s)\n", who, ifname, pidpath);
		return 1;
	}
	before = read_report(ifname, report, sizeof(report));
	if (kill(pid, SIGHUP) < 0) {
		cli_error("%s: cannot signal pid %d: %s\n", who, pid, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 2000; ++i) {
		struct timespec tick = {0, 5 * 1000000L};

		unsigned now = read_report(ifname, report, sizeof(report));

		if (now && now != before) {
			report[strcspn(report, "\n")] = '\0';
			if (strstr(report, "status=ok")) {
				say_warnings(who, ifname);
				fprintf(say, "%s: %s: applied %s\n", who, ifname, config_path);
				return 0;
			}
			if (strstr(report, "status=partial") && strstr(report, "message=")) {
				cli_error("%s: %s: applied %s except: %s\n", who, ifname,
					  config_path, strstr(report, "message=") + 8);
				return 1;
			}
			if (strstr(report, "message="))
				cli_error("%s: %s: %s\n%s: nothing was changed\n", who, ifname,
					  strstr(report, "message=") + 8, who);
			else
				cli_error("%s: %s\n", who, report);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	cli_error("%s: the daemon (pid %d) did not answer within 10 s\n", who, pid);
	return 1;
}

int cmd_reload(int argc, char **argv)
{
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
	return reload_interface("wgate reload", argv[1], stdout);
}
