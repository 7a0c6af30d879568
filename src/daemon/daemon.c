// SPDX-License-Identifier: MIT
/*
 * One thread, one epoll set. Each wake-up drains a bounded batch from each
 * ready fd so that neither direction starves the other, then runs the timers
 * that are due and sleeps until the next deadline.
 */
#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/log.h"
#include "host/privsep.h"
#include "host/sandbox.h"
#include "host/tun.h"
#include "ops/endpoint_names.h"
#include "ops/reload.h"

static bool io_send_udp(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	struct daemon *d = ctx;

	return datapath_queue_udp(&d->dp, to, buf, len);
}

static bool io_send_data(void *ctx, const struct wire_addr *to, void *msg, size_t len,
			 const struct aead_key *key, uint64_t counter)
{
	struct daemon *d = ctx;

	return datapath_queue_data(&d->dp, to, msg, len, key, counter);
}

static void io_write_tun(void *ctx, const void *buf, size_t len)
{
	struct daemon *d = ctx;

	datapath_write_tun(&d->dp, buf, len);
}

static void io_event(void *ctx, enum device_event event, const struct peer *peer)
{
	static const char *const names[] = {
	    [EVENT_HANDSHAKE_COMPLETED] = "handshake_completed",
	    [EVENT_HANDSHAKE_FAILED] = "handshake_failed",
	    [EVENT_ENDPOINT_CHANGED] = "endpoint_changed",
	    [EVENT_KEYPAIR_ROTATED] = "keypair_rotated",
	    [EVENT_UNDER_LOAD_ENTERED] = "under_load_entered",
	    [EVENT_UNDER_LOAD_LEFT] = "under_load_left",
	    [EVENT_PEER_EXPIRED] = "peer_expired",
	    [EVENT_HANDSHAKE_REFUSED_EXPIRED] = "handshake_refused",
	    [EVENT_KEY_ROTATED] = "key_rotated",
	    [EVENT_KEY_ROTATION_FORCED] = "key_rotation_forced",
	    [EVENT_HANDSHAKE_UNANSWERED] = "handshake_unanswered",
	    [EVENT_COOKIE_RECEIVED] = "cookie_received",
	    [EVENT_TIMESTAMP_REFUSED] = "timestamp_refused",
	    [EVENT_ENDPOINT_FAILOVER] = "endpoint_failover",
	    [EVENT_ENDPOINT_FAILBACK] = "endpoint_failback",
	};
	char key[KEY_BASE64_LEN + 1], endpoint[INET6_ADDRSTRLEN + 16];
	struct daemon *d = ctx;

	if (!peer) {
		log_info("event=%s", names[event]);
		return;
	}
	key_to_base64(key, peer->public_key);
	sockaddr_format(&peer->endpoint.remote, endpoint, sizeof(endpoint));
	if (event == EVENT_HANDSHAKE_UNANSWERED) {
		char since[32];
		time_t t = (time_t)peer->stats.unanswered_since;

		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		log_info(
		    "event=%s peer=%s name=%s endpoint=%s initiations=%llu since=%s "
		    "msg=\"no response: the endpoint is wrong, its UDP port is filtered, or it "
		    "knows this interface by another public key\"",
		    names[event], key, peer->name ? peer->name : "-", endpoint,
		    (unsigned long long)peer->stats.initiations_unanswered, since);
		d->resolve_wanted = true; /* stale: its name may point elsewhere now */
	} else if (event == EVENT_COOKIE_RECEIVED || event == EVENT_TIMESTAMP_REFUSED) {
		log_info("event=%s peer=%s name=%s endpoint=%s count=%llu msg=\"%s\"", names[event],
			 key, peer->name ? peer->name : "-", endpoint,
			 (unsigned long long)(event == EVENT_COOKIE_RECEIVED
						  ? peer->stats.cookie_replies
						  : peer->stats.timestamps_refused),
			 event == EVENT_COOKIE_RECEIVED
			     ? "the peer is under load: its handshakes need a cookie first"
			     : "an initiation with an old timestamp: replayed, or the peer's clock "
			       "went back");
	} else if ((event == EVENT_KEY_ROTATED || event == EVENT_KEY_ROTATION_FORCED) &&
		   peer->rotation) {
		char next[KEY_BASE64_LEN + 1];

		key_to_base64(next, peer->rotation->public_key);
		log_info("event=%s peer=%s next_key=%s name=%s endpoint=%s", names[event], key,
			 next, peer->name ? peer->name : "-", endpoint);
		log_info("event=audit via=%s action=%s peer=%s next_key=%s name=%s",
			 event == EVENT_KEY_ROTATED ? "handshake" : "deadline", names[event], key,
			 next, peer->name ? peer->name : "-");
		d->rotation_ended = true; /* the maintenance tick has the config record it */
	} else if (event == EVENT_HANDSHAKE_REFUSED_EXPIRED || event == EVENT_PEER_EXPIRED)
		log_info("event=%s peer=%s name=%s endpoint=%s expires=%lld%s", names[event], key,
			 peer->name ? peer->name : "-", endpoint, (long long)peer->expires,
			 event == EVENT_PEER_EXPIRED ? "" : " reason=expired");
	else if ((event == EVENT_ENDPOINT_FAILOVER || event == EVENT_ENDPOINT_FAILBACK) &&
		 peer->endpoints) {
		log_info("event=%s peer=%s name=%s endpoint=%s index=%u of=%u failovers=%llu",
			 names[event], key, peer->name ? peer->name : "-", endpoint,
			 peer->endpoints->active, peer->endpoints->count,
			 (unsigned long long)peer->endpoints->failovers);
		log_info("event=audit via=%s action=%s peer=%s name=%s endpoint=%s",
			 event == EVENT_ENDPOINT_FAILOVER ? "failover" : "failback", names[event],
			 key, peer->name ? peer->name : "-", endpoint);
		/* a name may have moved: the monitor resolves them again */
		d->resolve_wanted |= event == EVENT_ENDPOINT_FAILOVER;
	} else if (event == EVENT_HANDSHAKE_FAILED)
		log_info("event=%s peer=%s endpoint=%s attempts=%u", names[event], key, endpoint,
			 peer->handshake_attempts);
	else
		log_info("event=%s peer=%s endpoint=%s", names[event], key, endpoint);
}

static void io_wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, ts);
}

bool daemon_init(struct daemon *d, const char *ifname, char *err, size_t err_len)
{
	struct device_io io = {.ctx = d,
			       .send_udp = io_send_udp,
			       .write_tun = io_write_tun,
			       .send_data = io_send_data,
			       .wall_time = io_wall_time,
			       .event = io_event};
	const char *threads_wanted = getenv("WGATE_THREADS");
	unsigned features, threads;

	memset(d, 0, sizeof(*d));
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	d->tun_fd = d->epoll_fd = d->signal_fd = d->privsep_channel = d->ioctl_fd = -1;
	d->udp.fd4 = d->udp.fd6 = -1;
	d->uapi.conns.listen_fd = -1;
	if (!datapath_features_parse(getenv("WGATE_NO_OFFLOAD"), &features, err, err_len))
		return false;
	if (!workers_count_parse(threads_wanted, &threads)) {
		snprintf(err, err_len,
			 "WGATE_THREADS: '%s' is not a thread count (expected auto, or 1 to %d)",
			 threads_wanted, WORKERS_MAX);
		return false;
	}
	if (!datapath_init(&d->dp, features, threads) || !device_init(&d->dev, &io)) {
		snprintf(err, err_len, "out of memory");
		return false;
	}
	d->dp.udp = &d->udp;
	return true;
}

int daemon_open_udp(struct daemon *d, uint16_t port, uint32_t fwmark)
{
	return udp_open(&d->udp, port, fwmark, d->dp.features & DATAPATH_UDP_GRO);
}

void daemon_attach_tun(struct daemon *d, int tun_fd)
{
	d->tun_fd = tun_fd;
	datapath_attach_tun(&d->dp, tun_fd);
}

static bool watch(struct daemon *d, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return fd < 0 || epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

static void unwatch(struct daemon *d, int fd)
{
	if (fd >= 0 && d->epoll_fd >= 0)
		epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

int daemon_rebind(void *ctx, uint16_t port, uint32_t fwmark)
{
	struct daemon *d = ctx;
	struct udp fresh;
	int ret;

	if (port && port == d->udp.port) {
		/* sandboxed, the monitor sets marks: they need CAP_NET_ADMIN */
		ret = d->privsep_channel >= 0 ? privsep_mark(d->privsep_channel, &d->udp, fwmark)
					      : udp_set_fwmark(&d->udp, fwmark);
		if (!ret)
			d->dev.fwmark = fwmark;
		return ret;
	}
	ret = d->privsep_channel >= 0
		  ? privsep_bind(d->privsep_channel, &fresh, port, fwmark,
				 d->dp.features & DATAPATH_UDP_GRO)
		  : udp_open(&fresh, port, fwmark, d->dp.features & DATAPATH_UDP_GRO);
	if (ret)
		return ret;
	unwatch(d, d->udp.fd4);
	unwatch(d, d->udp.fd6);
	udp_close(&d->udp);
	d->udp = fresh;
	if (!watch(d, d->udp.fd4) || !watch(d, d->udp.fd6))
		log_error("event=rebind_failed error=\"%s\"", strerror(errno));
	d->dev.listen_port = d->udp.port;
	d->dev.fwmark = fwmark;
	log_info("event=listen port=%u fwmark=%u", d->udp.port, fwmark);
	return 0;
}

/* What a reload or a settle works on: the monitor's view of the interface. */
static struct reload_target target_of(struct daemon *d)
{
	return (struct reload_target){
	    .ifname = d->ifname,
	    .ifindex = d->ifindex,
	    .privsep_channel = d->privsep_channel,
	    .config_path = d->config_path,
	    .config = d->config,
	    .netconf = d->netconf,
	    .mtu = &d->mtu,
	    .generation = &d->reload_generation,
	};
}

bool daemon_reload(struct daemon *d)
{
	struct reload_target t = target_of(d);

	return reload_apply(&t);
}

void daemon_resolved(struct daemon *d, const struct resolve_item *items, size_t len)
{
	struct reload_target t = target_of(d);

	endpoint_names_apply(&t, items, len);
}

void daemon_settle(struct daemon *d)
{
	struct reload_target t = target_of(d);

	reload_settle(&t);
}

bool daemon_prepare(struct daemon *d, char *err, size_t err_len)
{
	char offloads[64];
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0 || sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    !watch(d, d->tun_fd) || !watch(d, d->udp.fd4) || !watch(d, d->udp.fd6) ||
	    !watch(d, d->signal_fd) || !watch(d, d->uapi.conns.listen_fd) ||
	    !watch(d, http_fd(&d->metrics.http)) || !watch(d, http_fd(&d->identity.http))) {
		snprintf(err, err_len, "cannot set up the event loop: %s", strerror(errno));
		return false;
	}
	d->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* the MTU, each second */
	if (!datapath_start_threads(&d->dp)) {
		snprintf(err, err_len, "cannot start %u data path threads", d->dp.threads);
		return false;
	}
	datapath_describe(&d->dp, offloads, sizeof(offloads));
	log_info("event=datapath offloads=%s threads=%u", offloads, d->dp.threads);
	return true;
}

static void read_tun(struct daemon *d)
{
	if (datapath_read_tun(&d->dp, &d->dev))
		return;
	log_error("event=tun_gone error=\"%s\" msg=\"the TUN device went away; stopping\"",
		  strerror(errno));
	d->stop = true;
	d->exit_status = 1;
}

static void read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (d->config)
				daemon_reload(d);
			else
				log_info("event=sighup msg=\"no config file to reload; ignoring\"");
			continue;
		}
		log_info("event=stopping signal=%s", strsignal((int)si.ssi_signo));
		d->stop = true;
	}
}

/* Re-arms a control connection's events (conn_events). */
static void rearm(struct daemon *d, const struct conn *c)
{
	struct epoll_event ev = {.events = conn_events(c), .data.fd = c->fd};

	epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void serve_control(struct daemon *d, int fd, uint32_t events)
{
	struct uapi_ops ops = {.ctx = d, .rebind = daemon_rebind};
	uint64_t now = monotonic_ns();
	struct conn *c;

	if (fd == d->uapi.conns.listen_fd) {
		while ((c = conn_accept(&d->uapi.conns, now)))
			if (!watch(d, c->fd))
				conn_close(&d->uapi.conns, c);
		return;
	}
	c = conn_find(&d->uapi.conns, fd);
	if (!c)
		return;
	/* the monitor's requests are its reloads */
	ops.via =
	    d->privsep_channel >= 0 && c->pid == (long)getppid() ? "reload" : "control_socket";
	ops.uid = c->uid;
	ops.pid = c->pid;
	if (uapi_serve(&d->uapi, c, &d->dev, &ops, events, now))
		rearm(d, c);
}

/*
 * Once a second: follow the interface's MTU, notice a removed control socket,
 * end the sessions of peers whose expiry came.
 */
/*
 * The sources whose handshake messages fail mac1, each said once a minute at
 * most while it goes on: they have a wrong public key for this interface.
 */
static void log_bad_macs(struct daemon *d)
{
	char ours[KEY_BASE64_LEN + 1] = "-", from[INET6_ADDRSTRLEN + 16];

	if (d->dev.identity.has_identity)
		key_to_base64(ours, d->dev.identity.static_public);
	for (int i = 0; i < BAD_MAC_SOURCES; ++i) {
		const struct bad_mac_source *b = &d->dev.stats.bad_mac[i];
		struct bad_mac_source *said = &d->bad_mac_logged[i];
		bool same =
		    said->from.sa.sa_family != AF_UNSPEC && sockaddr_equal(&said->from, &b->from);

		if (b->from.sa.sa_family == AF_UNSPEC || (same && said->count == b->count) ||
		    (same && b->last - said->last < 60))
			continue;
		sockaddr_format(&b->from, from, sizeof(from));
		log_info(
		    "event=bad_mac1 source=%s count=%llu msg=\"handshake messages from %s fail "
		    "mac1: the public key configured there for this interface is not %s\"",
		    from, (unsigned long long)b->count, from, ours);
		*said = *b;
	}
}

static void maintenance(struct daemon *d, uint64_t now)
{
	struct ifreq ifr = {0};
	int fd;

	if (now < d->next_maintenance)
		return;
	d->next_maintenance = now + NSEC_PER_SEC;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->ifname);
	/* a socket kept for the question, opened before any sandbox forbids new ones */
	fd = d->ioctl_fd;
	if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		d->dev.mtu = (unsigned)ifr.ifr_mtu;
	conn_expire(&d->uapi.conns, now);
	{
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		device_check_deadlines(&d->dev, wall.tv_sec);
	}
	log_bad_macs(d);
	if (d->rotation_ended && d->privsep_channel >= 0) {
		int ret = privsep_nudge(d->privsep_channel, PRIVSEP_SETTLE);

		if (ret)
			log_error("event=settle_failed error=\"%s\"", strerror(-ret));
	}
	d->rotation_ended = false;
	if (d->resolve_wanted && d->privsep_channel >= 0)
		privsep_nudge(d->privsep_channel, PRIVSEP_RESOLVE); /* best effort */
	d->resolve_wanted = false;
	{
		int last;
		uint64_t denied = sandbox_denied(&last);

		if (denied != d->sandbox_denied_logged) {
			log_error(
			    "event=sandbox_denied count=%llu last_syscall=%d msg=\"a system call "
			    "outside the sandbox's allow-list failed with EPERM\"",
			    (unsigned long long)denied, last);
			d->sandbox_denied_logged = denied;
		}
	}
	if (d->exit_without_socket && d->uapi.conns.listen_fd >= 0 &&
	    !uapi_socket_present(&d->uapi)) {
		log_info("event=stopping reason=\"control socket removed\"");
		d->stop = true;
	}
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[16];
	struct http_server *const servers[] = {&d->metrics.http, &d->identity.http};
	enum { SERVERS = sizeof(servers) / sizeof(servers[0]) };
	uint64_t http_due[SERVERS] = {0}; /* when a server wants to run without input */

	while (!d->stop) {
		uint64_t now = monotonic_ns(), next;
		int timeout, n;

		device_run_timers(&d->dev, now);
		maintenance(d, now);
		for (int s = 0; s < SERVERS; ++s) {
			if (http_due[s] && now >= http_due[s]) { /* idle timeouts, lifetimes */
				http_due[s] = 0;
				http_run(servers[s], now);
			}
		}
		datapath_flush(&d->dp);
		next = device_next_timer(&d->dev);
		if (next > d->next_maintenance)
			next = d->next_maintenance;
		log_flush();
		timeout = next <= now ? 0 : (int)((next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		for (int s = 0; s < SERVERS; ++s) {
			long http_ms = http_timeout_ms(servers[s]);

			if (http_ms >= 0) {
				http_due[s] = now + (uint64_t)http_ms * NSEC_PER_MSEC;
				if (http_ms < timeout)
					timeout = (int)http_ms;
			}
		}
		if (uapi_busy(&d->uapi))
			timeout = 0; /* a large set goes on between the packets */
		n = epoll_wait(d->epoll_fd, events, 16, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("event=epoll_failed error=\"%s\"", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n && !d->stop; ++i) {
			int fd = events[i].data.fd;

			if (fd == d->tun_fd)
				read_tun(d);
			else if (fd == d->signal_fd)
				read_signals(d);
			else if (fd == d->udp.fd4 || fd == d->udp.fd6)
				datapath_read_udp(&d->dp, &d->dev, fd);
			else if (fd == http_fd(&d->metrics.http))
				http_run(&d->metrics.http, monotonic_ns());
			else if (fd == http_fd(&d->identity.http))
				http_run(&d->identity.http, monotonic_ns());
			else
				serve_control(d, fd, events[i].events);
			datapath_flush(&d->dp);
		}
		if (uapi_busy(&d->uapi) && !d->stop) {
			struct conn *done = uapi_continue(&d->uapi, &d->dev, monotonic_ns());

			if (done) /* answered: sent, and what it asked meanwhile served */
				serve_control(d, done->fd, EPOLLOUT);
		}
	}
	return d->exit_status;
}

void daemon_free(struct daemon *d)
{
	uapi_close(&d->uapi);
	metrics_close(&d->metrics);
	identity_close(&d->identity);
	http_unlink(&d->metrics.http);
	http_unlink(&d->identity.http);
	if (!d->handed_over) { /* a monitor freed them when the child took over */
		device_free(&d->dev);
		datapath_free(&d->dp);
	}
	udp_close(&d->udp);
	if (d->tun_fd >= 0)
		close(d->tun_fd);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->ioctl_fd >= 0)
		close(d->ioctl_fd);
	d->tun_fd = d->epoll_fd = d->signal_fd = d->privsep_channel = d->ioctl_fd = -1;
}
