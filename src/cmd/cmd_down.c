// SPDX-License-Identifier: MIT
/* wgate down: stop the daemon that runs an interface; it undoes its own set-up. */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "daemon/daemon.h"

/* Exited, or a zombie that a non-reaping init leaves behind. */
static bool process_running(int pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state && state != 'Z';
}

int cmd_down(int argc, char **argv)
{
	char path[4096], ifname[IFNAMSIZ], err[512], pidpath[64], comm_path[64], comm[32] = "";
	FILE *f;
	int pid = 0;

	if (argc != 2 || wants_help(argc, argv)) {
		bool help = wants_help(argc, argv);

		fprintf(help ? stdout : stderr,
			"Usage: wgate down <INTERFACE | CONFIG_FILE>\n\n"
			"Stops the wgate daemon running the interface; it runs PreDown, removes\n"
			"the interface with its addresses and routes, then runs PostDown.\n");
		return !help;
	}
	if (!interface_from_arg(argv[1], path, sizeof(path), ifname, err, sizeof(err))) {
		cli_error("wgate down: %s\n", err);
		return 1;
	}
	run_file_path(pidpath, sizeof(pidpath), ifname, "pid");
	f = fopen(pidpath, "re");
	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1) {
		if (f)
			fclose(f);
		cli_error("wgate down: `%s' is not run by wgate (no %s)\n", ifname, pidpath);
		return 1;
	}
	fclose(f);
	/* Only signal a process that is really wgate: the pid may have been reused. */
	snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", pid);
	f = fopen(comm_path, "re");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	if (strncmp(comm, "wgate", 5)) {
		cli_error("wgate down: the daemon of `%s' (pid %d) is not running; removing %s\n",
			  ifname, pid, pidpath);
		unlink(pidpath);
		return 1;
	}
	if (kill(pid, SIGTERM) < 0) {
		cli_error("wgate down: cannot signal pid %d: %s\n", pid, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 300; ++i) {
		struct timespec tick = {0, 50 * 1000000L};

		if (!process_running(pid))
			return 0;
		nanosleep(&tick, NULL);
	}
	cli_error("wgate down: pid %d did not stop within 15 s\n", pid);
	return 1;
}
