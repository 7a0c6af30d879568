// SPDX-License-Identifier: MIT
/*
 * wgate up: bring an interface up from a wg-quick(8) config and run it.
 * Everything that can fail is checked before the TUN exists where possible;
 * after that, any failure undoes what was done, so nothing is left half set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "config/apply.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "host/log.h"
#include "daemon/monitor.h"
#include "host/netconf.h"
#include "ops/key_ledger.h"
#include "ops/peer_store.h"
#include "ops/firewall.h"
#include "ops/gateway.h"
#include "host/notify.h"
#include "host/tun.h"

static struct daemon daemon_state;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: wgate up [-f | --foreground] [--metrics ADDR:PORT] <CONFIG_FILE | "
		"INTERFACE>\n\n"
		"Creates the interface named after the config file (wg0 for wg0.conf, or\n"
		"/etc/wireguard/INTERFACE.conf for a bare name), applies the config as\n"
		"wg-quick(8) does (PreUp, addresses, MTU, routes for AllowedIPs, DNS, PostUp)\n"
		"and runs the tunnel in the background, or in the foreground with -f.\n"
		"`wgate down INTERFACE' stops it, running PreDown and PostDown.\n"
		"--metrics serves Prometheus metrics at http://ADDR:PORT/metrics (also the\n"
		"config's MetricsAddress, or WGATE_METRICS).\n"
		"Environment: LOG_LEVEL=silent|error|info|verbose, WGATE_METRICS.\n");
}

/* Finds the config file and the interface name it implies, as wg-quick does. */
bool interface_from_arg(const char *arg, char *path, size_t path_len, char ifname[IFNAMSIZ],
			char *err, size_t err_len)
{
	const char *base, *dot;
	size_t len;

	if (config_path_for(arg, path, path_len) == path) {
		snprintf(ifname, IFNAMSIZ, "%s", arg);
		return true;
	}
	snprintf(path, path_len, "%s", arg);
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	dot = strrchr(base, '.');
	len = dot ? (size_t)(dot - base) : 0;
	if (!dot || strcmp(dot, ".conf") || !interface_name_ok(base, len)) {
		snprintf(err, err_len,
			 "`%s': the config file must be named after the interface, as in wg0.conf "
			 "(at most 15 of the characters a-z A-Z 0-9 _ = + . -)",
			 arg);
		return false;
	}
	snprintf(ifname, IFNAMSIZ, "%.*s", (int)len, base);
	return true;
}

/* The pid, then the config file's path (for wgate reload). */
static void write_pid_file(const char *ifname, pid_t pid, const char *config_path)
{
	char path[64];
	FILE *f;

	mkdir(WGATE_RUN_DIR, 0755);
	run_file_path(path, sizeof(path), ifname, "pid");
	f = fopen(path, "we");
	if (!f || fprintf(f, "%d\n%s\n", (int)pid, config_path) < 0 || fclose(f))
		log_error("event=error msg=\"cannot write %s: %s\"", path, strerror(errno));
}

static const char *tun_error_hint(int error)
{
	switch (error) {
	case EPERM:
	case EACCES:
		return ": run as root or with CAP_NET_ADMIN";
	case ENOENT:
	case ENODEV:
		return ": /dev/net/tun is missing; load the tun module (modprobe tun)";
	case EBUSY:
		return ": another process holds it";
	default:
		return "";
	}
}

/*
 * The peer set in etcd: read whole before the interface comes up, then the
 * config again with it. Unreachable, the last known copy serves.
 */
static bool sync_peer_store(struct config *config, const char *path, const char *ifname)
{
	struct peer_store store;
	char err[512];
	bool ok = peer_store_init(&store, config, ifname, err, sizeof(err));

	if (!ok) {
		cli_error("wgate up: %s\n", err);
		peer_store_free(&store);
		return false;
	}
	if (peer_store_sync(&store, err, sizeof(err)))
		cli_error(
		    "wgate up: warning: etcd is unreachable (%s): the peer set last read from it "
		    "(revision %lld) serves until it answers\n",
		    err, (long long)store.revision);
	peer_store_free(&store);
	config_free(config);
	if (!config_load(config, path, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		return false;
	}
	return true;
}

int cmd_up(int argc, char **argv)
{
	struct daemon *d = &daemon_state;
	struct config config;
	char path[4096], ifname[IFNAMSIZ], err[512], pidpath[64];
	bool foreground = false, tun_up = false, dns_set = false, config_loaded = false;
	bool routes_set = false;
	struct netconf_state netconf = {0};
	struct monitor monitor = {0};
	uint32_t fwmark;
	const char *arg = NULL, *metrics = getenv("WGATE_METRICS");
	unsigned mtu;
	int status = 1;

	status = parse_run_options("wgate up", argc, argv, usage, &foreground, &metrics, &arg);
	if (status >= 0)
		return status;
	status = 1;
	if (!interface_from_arg(arg, path, sizeof(path), ifname, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		return 1;
	}
	if (!config_load(&config, path, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		return 1;
	}
	if (config.etcd.endpoints.len && !sync_peer_store(&config, path, ifname)) {
		config_free(&config);
		return 1;
	}
	/* Reloads read the file again, from whatever directory `wgate reload' runs in. */
	char *absolute = realpath(path, NULL);
	if (absolute) {
		snprintf(path, sizeof(path), "%s", absolute);
		free(absolute);
	}
	config_loaded = true;
	warn_if_world_accessible(path);
	log_init(ifname, false);
	if (!d->dev.peer_buckets && !daemon_init(d, ifname, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	if (if_nametoindex(ifname)) {
		cli_error("wgate up: interface `%s' already exists\n", ifname);
		goto out;
	}
	if (!config_resolve_endpoints(&config, NULL, NULL, err, sizeof(err))) {
		cli_error("wgate up: %s: %s\n", path, err);
		goto out;
	}
	if (!metrics || !*metrics)
		metrics = config.metrics_address;
	mkdir(WGATE_RUN_DIR, 0755); /* where the endpoints' sockets usually go */
	if (metrics && metrics_listen(&d->metrics, metrics, &d->dev, &d->dp, d->ifname,
				      monotonic_ns, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	if (config.identity_address && identity_listen(&d->identity, config.identity_address,
						       &d->dev, monotonic_ns, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	d->metrics.identity = &d->identity;
	if (netconf_table(&config, err, sizeof(err)) < -1) {
		cli_error("wgate up: %s: %s\n", path, err);
		goto out;
	}
	int ret = daemon_open_udp(d, config.listen_port, config.fwmark);
	if (ret) {
		cli_error("wgate up: cannot listen on UDP port %u: %s%s\n", config.listen_port,
			  strerror(-ret),
			  ret == -EADDRINUSE ? " (is another tunnel using it?)" : "");
		goto out;
	}
	if (!netconf_run_hooks(&config.pre_up, ifname, true, err, sizeof(err))) {
		cli_error("wgate up: PreUp: %s\n", err);
		goto out;
	}
	/* from the interface on, a stop waits for the monitor, which then goes down cleanly */
	monitor_hold_signals();
	int tun_fd = tun_open(ifname, d->dp.features & DATAPATH_TUN_OFFLOAD);
	if (tun_fd < 0) {
		cli_error("wgate up: cannot create TUN interface `%s': %s%s\n", ifname,
			  strerror(errno), tun_error_hint(errno));
		goto out;
	}
	daemon_attach_tun(d, tun_fd);
	tun_up = true;
	ret = uapi_listen(&d->uapi, ifname, -1, err, sizeof(err));
	if (ret) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	d->ifindex = if_nametoindex(ifname);
	mtu = config.has_mtu ? config.mtu : DEFAULT_MTU;
	d->dev.mtu = mtu;
	d->dev.listen_port = d->udp.port;
	fwmark = config.fwmark;
	routes_set = true;
	if (!netconf_up(ifname, d->ifindex, &config, mtu, &netconf, &fwmark, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	if (fwmark != config.fwmark) {
		/* a default route: the tunnel's own packets carry the table's mark */
		config.fwmark = fwmark;
		config.has_fwmark = true;
		ret = udp_set_fwmark(&d->udp, fwmark);
		if (ret) {
			cli_error("wgate up: cannot set fwmark %u: %s\n", fwmark, strerror(-ret));
			goto out;
		}
	}
	/* the policy is in place before any peer can send */
	struct firewall_params fp = {.ifname = ifname,
				     .listen_port = d->udp.port,
				     .mtu = mtu,
				     .full_tunnel_mark = netconf.default_table,
				     .full_tunnel_v4 = netconf.default_v4,
				     .full_tunnel_v6 = netconf.default_v6};
	netconf.firewall = firewall_needed(&config, &fp);
	if (!firewall_apply(&config, &fp, false, err, sizeof(err))) {
		cli_error("wgate up: %s: %s\n", path, err);
		goto out;
	}
	if (!config_apply(&d->dev, &config, monotonic_ns())) {
		cli_error("wgate up: cannot apply the config: out of memory\n");
		goto out;
	}
	d->dev.listen_port = d->udp.port;
	if (!gateway_sync(&config, ifname, path, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	if (!netconf_dns_set(ifname, &config, err, sizeof(err))) {
		cli_error("wgate up: %s\n", err);
		goto out;
	}
	dns_set = config.dns.len || config.dns_search.len;
	if (!netconf_run_hooks(&config.post_up, ifname, true, err, sizeof(err))) {
		cli_error("wgate up: PostUp: %s\n", err);
		goto out;
	}
	cli_error("[#] wgate: %s is up: UDP port %u, MTU %u, %zu peer%s\n", ifname, d->udp.port,
		  mtu, d->dev.peer_count, d->dev.peer_count == 1 ? "" : "s");
	/* systemd's Type=notify: the interface, its addresses, routes and policy are in place */
	if (foreground && !service_notify("READY=1\nSTATUS=up"))
		log_error("event=notify_failed");
	if (!foreground) {
		pid_t pid = fork();

		if (pid < 0) {
			cli_error("wgate up: cannot fork: %s\n", strerror(errno));
			goto out;
		}
		if (pid > 0) {
			write_pid_file(ifname, pid, path);
			_exit(0); /* the child owns the interface now */
		}
		setsid();
		stdio_to_dev_null();
		log_init(ifname, true);
	} else {
		write_pid_file(ifname, getpid(), path);
	}
	snprintf(d->config_path, sizeof(d->config_path), "%s", path);
	if (!key_ledger_update(ifname, &config, (int64_t)time(NULL), err, sizeof(err)))
		log_error("event=key_ledger_failed error=\"%s\"", err);
	config_wipe_secrets(&config); /* the device holds the keys; reloads compare with it */
	d->config = &config;
	d->netconf = &netconf;
	log_info("event=up port=%u peers=%zu", d->udp.port, d->dev.peer_count);
	/* After the fork: the event loop goes to a sandboxed child, this process monitors. */
	status = monitor_run(&monitor, d);
	if (!netconf_run_hooks(&config.pre_down, ifname, false, err, sizeof(err)))
		log_error("event=hook_failed msg=\"%s\"", err);
	monitor_stop(&monitor);
	run_file_path(pidpath, sizeof(pidpath), ifname, "pid");
	unlink(pidpath);
	run_file_path(pidpath, sizeof(pidpath), ifname, "reload");
	unlink(pidpath);
out:
	if (dns_set)
		netconf_dns_unset(ifname);
	if (routes_set)
		netconf_down(&netconf);
	if (netconf.firewall)
		firewall_remove(ifname);
	daemon_free(d); /* closing the TUN removes the interface, its addresses and routes */
	if (tun_up && status == 0 &&
	    !netconf_run_hooks(&config.post_down, ifname, false, err, sizeof(err)))
		log_error("event=hook_failed msg=\"%s\"", err);
	if (tun_up && status == 0)
		log_info("event=down");
	if (config_loaded)
		config_free(&config);
	return status;
}
