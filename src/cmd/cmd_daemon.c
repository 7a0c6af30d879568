// SPDX-License-Identifier: MIT
/*
 * wgated: the daemon alone, with wireguard-go's process contract, so that
 *     WG_QUICK_USERSPACE_IMPLEMENTATION=wgated wg-quick up wg0
 * works as it does with wireguard-go: given an interface name it creates the
 * TUN and the control socket, returns once both exist, and runs in the
 * background until SIGINT/SIGTERM, until its TUN is deleted or until its
 * socket file is removed. Configuration arrives over the socket (wg setconf).
 * It is wgate under another name, so it cannot collide with a subcommand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "daemon/daemon.h"
#include "host/log.h"
#include "daemon/monitor.h"
#include "host/tun.h"

static struct daemon daemon_state;

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long fd;

	if (!v || !*v)
		return -1;
	fd = strtol(v, &end, 10);
	return *end || fd < 0 || fd > 65535 ? -2 : (int)fd;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: wgated [-f | --foreground] [--metrics ADDR:PORT] INTERFACE\n\n"
		     "Creates the TUN interface and its control socket\n"
		     "/var/run/wireguard/INTERFACE.sock, then serves the tunnel in the background\n"
		     "(or the foreground with -f or WG_PROCESS_FOREGROUND=1). Configure it with\n"
		     "wg(8), or let wg-quick(8) do so: WG_QUICK_USERSPACE_IMPLEMENTATION=wgated.\n"
		     "Environment: WG_TUN_FD, WG_UAPI_FD (inherited descriptors to use),\n"
		     "LOG_LEVEL=silent|error|info|verbose, WGATE_METRICS=ADDR:PORT (Prometheus\n"
		     "metrics at /metrics).\n");
}

int wgated_main(int argc, char **argv)
{
	struct daemon *d = &daemon_state;
	struct monitor monitor;
	const char *ifname = NULL, *fg = getenv("WG_PROCESS_FOREGROUND");
	const char *metrics = getenv("WGATE_METRICS");
	bool foreground = fg && !strcmp(fg, "1");
	int tun_fd = env_fd("WG_TUN_FD"), uapi_fd = env_fd("WG_UAPI_FD"), ret, status = 1;
	int ready[2] = {-1, -1};
	char err[512];

	ret = parse_run_options("wgated", argc, argv, usage, &foreground, &metrics, &ifname);
	if (ret >= 0)
		return ret;
	monitor_hold_signals();
	if (!ifname || tun_fd == -2 || uapi_fd == -2) {
		usage(stderr);
		return 1;
	}
	if (!uapi_name_valid(ifname)) {
		cli_error("wgated: `%s' is not an interface name: 1 to 15 letters, digits or _=+.- "
			  "(not . or ..)\n",
			  ifname);
		return 1;
	}
	log_init(ifname, false);
	if (!daemon_init(d, ifname, err, sizeof(err))) {
		cli_error("wgated: %s\n", err);
		return 1;
	}
	d->exit_without_socket = true;
	if (tun_fd < 0)
		tun_fd = tun_open(ifname, d->dp.features & DATAPATH_TUN_OFFLOAD);
	if (tun_fd < 0) {
		cli_error("wgated: cannot create TUN interface `%s': %s\n", ifname,
			  strerror(errno));
		goto out;
	}
	fcntl(tun_fd, F_SETFL, fcntl(tun_fd, F_GETFL) | O_NONBLOCK);
	daemon_attach_tun(d, tun_fd);
	if (uapi_listen(&d->uapi, ifname, uapi_fd, err, sizeof(err))) {
		cli_error("wgated: %s\n", err);
		goto out;
	}
	if (metrics && *metrics &&
	    metrics_listen(&d->metrics, metrics, &d->dev, &d->dp, d->ifname, monotonic_ns, err,
			   sizeof(err))) {
		cli_error("wgated: %s\n", err);
		goto out;
	}
	ret = daemon_open_udp(d, 0, 0);
	if (ret) {
		cli_error("wgated: cannot open a UDP socket: %s\n", strerror(-ret));
		goto out;
	}
	d->dev.listen_port = d->udp.port;
	if (!foreground) {
		pid_t pid;

		if (pipe2(ready, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
			cli_error("wgated: cannot fork: %s\n", strerror(errno));
			goto out;
		}
		if (pid > 0) {
			char byte;

			/* Return only once the child has everything running. */
			close(ready[1]);
			_exit(read(ready[0], &byte, 1) == 1 ? 0 : 1);
		}
		close(ready[0]);
		setsid();
		log_init(ifname, true);
	}
	if (!foreground) {
		/* the socket listens already: clients wait in its backlog until the child serves */
		if (write(ready[1], "1", 1) != 1)
			log_error("event=error msg=\"cannot signal readiness\"");
		close(ready[1]);
		stdio_to_dev_null();
	}
	log_info("event=up port=%u", d->udp.port);
	/* the event loop goes to a sandboxed child; this process monitors it */
	status = monitor_run(&monitor, d);
	monitor_stop(&monitor);
	log_info("event=down");
out:
	daemon_free(d);
	return status;
}
