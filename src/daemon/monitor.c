// SPDX-License-Identifier: MIT
/* The monitor's life: fork the sandboxed child, serve it, reload, stop it. */
#include "daemon/monitor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/dirwatch.h"
#include "host/heap.h"
#include "host/log.h"
#include "host/privsep.h"
#include "host/sandbox.h"
#include "ops/endpoint_names.h"
#include "ops/peer_store.h"
#include "ops/policy_counters.h"

/* The access policy's counters as last read, for the child's scrapes (privsep.h). */
static struct {
	char *text;
	size_t len;
	uint64_t read_at;
} counters;

enum { COUNTERS_MAX_AGE_SECONDS = 5 };

/* Read again when older than a few seconds: a scrape costs one listing at most that often. */
static char *provide_counters(void *ctx, size_t *len)
{
	struct daemon *d = ctx;
	uint64_t now = monotonic_ns();
	char err[256], *copy;

	if (!d->config || !d->netconf || !d->netconf->firewall)
		return NULL;
	if (!counters.text || now - counters.read_at >= COUNTERS_MAX_AGE_SECONDS * NSEC_PER_SEC) {
		char *fresh = policy_counters_read(d->ifname, d->config, err, sizeof(err));

		if (fresh) {
			free(counters.text);
			counters.text = fresh;
			counters.len = strlen(fresh);
			counters.read_at = now;
		} else {
			log_error(
			    "event=error msg=\"cannot read the access policy's counters: %s\"",
			    err);
		}
	}
	if (!counters.text || !(copy = malloc(counters.len + 1)))
		return NULL;
	memcpy(copy, counters.text, counters.len + 1);
	*len = counters.len;
	return copy;
}

/* In the child: the policy's counters come from the monitor, which may read nftables. */
static char *child_policy_counters(void *ctx, size_t *len)
{
	struct daemon *d = ctx;

	return d->privsep_channel >= 0 ? privsep_counters(d->privsep_channel, len) : NULL;
}

/* In the child: the event loop, sandboxed, to the end. */
static __attribute__((noreturn)) void run_child(struct daemon *d, int channel, bool sandboxed)
{
	const char *user = getenv("WGATE_USER");
	char err[512];
	int status;

	d->privsep_channel = channel;
	d->config = NULL; /* reloads are the monitor's */
	d->metrics.policy_counters = child_policy_counters;
	d->metrics.policy_ctx = d;
	if (!daemon_prepare(d, err, sizeof(err)) ||
	    (sandboxed &&
	     !sandbox_enter(user && *user ? user : SANDBOX_DEFAULT_USER, err, sizeof(err)))) {
		log_error("event=start_failed msg=\"%s\"", err);
		log_flush();
		_exit(1);
	}
	/* set after the change of user, which clears it: no orphan serving a tunnel */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1); /* the monitor is already gone */
	log_info("event=sandboxed uid=%u", (unsigned)getuid());
	heap_keep_large_blocks(); /* for reloads: the data path's buffers are in place by now */
	status = daemon_run(d);
	daemon_free(d);
	log_flush();
	_exit(status);
}

/* In the monitor: what the child holds is the child's; keys go, names stay. */
static void let_go(struct daemon *d)
{
	if (d->tun_fd >= 0)
		close(d->tun_fd);
	d->tun_fd = -1;
	udp_close(&d->udp);
	if (d->uapi.conns.listen_fd >= 0)
		close(d->uapi.conns.listen_fd); /* the socket file stays: the child serves it */
	d->uapi.conns.listen_fd = -1;
	metrics_close(&d->metrics);
	identity_close(&d->identity);
	d->mtu = d->dev.mtu;
	device_free(&d->dev); /* wipes the keys this process no longer needs */
	datapath_free(&d->dp);
	d->handed_over = true;
	sandbox_no_dumps();
}

static void reap(struct monitor *m, bool wait)
{
	int status;
	pid_t pid;

	if (!m->child)
		return;
	pid = waitpid(m->child, &status, wait ? 0 : WNOHANG);
	if (pid != m->child)
		return;
	m->child = 0;
	if (WIFSIGNALED(status)) {
		log_error("event=datapath_died signal=%s", strsignal(WTERMSIG(status)));
		m->exit_status = 1;
	} else {
		m->exit_status = WEXITSTATUS(status);
	}
}

static void monitor_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
}

void monitor_hold_signals(void)
{
	sigset_t mask;

	monitor_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

enum { RESOLVE_MIN_GAP_SECONDS = 5 }; /* between rounds the data path asks for */

/* The next round of resolutions, an interval from now (none when it is off). */
static uint64_t interval_from(const struct daemon *d, uint64_t now)
{
	uint32_t seconds = d->config ? config_resolve_interval(d->config) : 0;

	return seconds ? now + seconds * NSEC_PER_SEC : 0;
}

/* The endpoints' names: a round when one is due, unless one is in flight. */
static void resolve_maybe(struct monitor *m, struct daemon *d, uint64_t now)
{
	struct resolve_item *items;
	size_t len;

	if (m->resolver.busy || !m->next_resolve || now < m->next_resolve || !d->config)
		return;
	m->next_resolve = interval_from(d, now);
	items = endpoint_names(d->config, &len);
	if (!items)
		return;
	m->resolve_generation = d->reload_generation;
	m->resolve_started = now;
	if (!resolver_start(&m->resolver, items, len))
		log_error("event=resolve_failed msg=\"cannot start the resolver thread\"");
}

/* The data path saw unanswered handshakes: a round soon (at most one per few seconds). */
static void resolve_soon(struct monitor *m, uint64_t now)
{
	uint64_t at = m->resolve_started + RESOLVE_MIN_GAP_SECONDS * NSEC_PER_SEC;

	if (at < now)
		at = now;
	if (!m->next_resolve || at < m->next_resolve)
		m->next_resolve = at;
}

static void resolve_done(struct monitor *m, struct daemon *d)
{
	size_t len = 0;
	struct resolve_item *items = resolver_finish(&m->resolver, &len);

	/* a reload in between has its own addresses: this round's are for the old file */
	if (items && m->resolve_generation == d->reload_generation)
		daemon_resolved(d, items, len);
	resolve_items_free(items, len);
}

/* Milliseconds until the first of what is due (a resolution, a reload); -1 none. */
static int poll_timeout(const struct monitor *m, uint64_t now)
{
	uint64_t due = 0;

	if (m->next_resolve && !m->resolver.busy)
		due = m->next_resolve;
	if (m->reload_due && (!due || m->reload_due < due))
		due = m->reload_due;
	if (!due)
		return -1;
	return due <= now ? 0 : (int)((due - now) / 1000000 + 1);
}

enum { DIRECTORY_SETTLE_MS = 300 }; /* a burst of changes (a volume's update) is one reload */
enum { ETCD_SETTLE_MS = 50 };	    /* a watch delivers a transaction's changes together */

/* Watches the config's PeerDirectory (again, after a reload that may have changed it). */
static void watch_peer_directory(struct monitor *m, const struct daemon *d)
{
	const char *dir = d->config ? d->config->peer_directory : NULL;

	if (m->watched && dir && !strcmp(m->watched, dir) && m->watch_fd >= 0)
		return;
	if (m->watch_fd >= 0)
		close(m->watch_fd);
	free(m->watched);
	m->watched = NULL;
	m->watch_fd = -1;
	if (!dir)
		return;
	m->watch_fd = dirwatch_open(dir);
	if (m->watch_fd < 0) {
		log_error("event=watch_failed path=%s error=\"%s\" msg=\"changes to the peer files "
			  "apply at the next reload\"",
			  dir, strerror(errno));
		return;
	}
	m->watched = strdup(dir);
}

/* The peer set in etcd: a thread keeps the local copy in step (ops/peer_store.h). */
static void start_peer_store(struct monitor *m, const struct daemon *d)
{
	char err[512];

	if (!d->config || !d->config->etcd.endpoints.len)
		return;
	m->store = calloc(1, sizeof(*m->store));
	if (!m->store || !peer_store_init(m->store, d->config, d->ifname, err, sizeof(err)) ||
	    !peer_store_start(m->store)) {
		log_error("event=etcd_failed error=\"%s\" msg=\"the peer set in etcd is not "
			  "followed\"",
			  m->store ? err : "out of memory");
		if (m->store)
			peer_store_free(m->store);
		free(m->store);
		m->store = NULL;
	}
}

static void reload_now(struct monitor *m, struct daemon *d)
{
	m->reload_due = 0;
	daemon_reload(d);
	watch_peer_directory(m, d);
	/* the reload resolved the names: the interval starts again */
	m->next_resolve = interval_from(d, monotonic_ns());
}

int monitor_run(struct monitor *m, struct daemon *d)
{
	const char *sandbox = getenv("WGATE_SANDBOX");
	int channel[2], signal_fd;
	sigset_t mask;

	memset(m, 0, sizeof(*m));
	if (sandbox && !strcmp(sandbox, "off"))
		log_info("event=sandbox_off msg=\"WGATE_SANDBOX=off: the data path runs as root\"");
	monitor_signals(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) < 0) {
		log_error("event=start_failed msg=\"cannot set up the monitor: %s\"",
			  strerror(errno));
		return 1;
	}
	log_flush(); /* or the child would write the monitor's buffered lines again */
	m->child = fork();
	if (m->child < 0) {
		log_error("event=start_failed msg=\"cannot fork: %s\"", strerror(errno));
		return 1;
	}
	if (m->child == 0) {
		close(channel[0]);
		run_child(d, channel[1], !(sandbox && !strcmp(sandbox, "off")));
	}
	close(channel[1]);
	heap_keep_large_blocks(); /* the monitor's own: see heap.h */
	d->privsep_channel = channel[0];
	privsep_set_counters(provide_counters, d);
	let_go(d);
	signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (signal_fd < 0 || !resolver_init(&m->resolver)) {
		log_error("event=monitor_failed error=\"%s\"", strerror(errno));
		return 1;
	}
	m->watch_fd = -1;
	watch_peer_directory(m, d);
	start_peer_store(m, d);
	/* up resolved the names just now; the next round comes after the interval */
	m->next_resolve = interval_from(d, monotonic_ns());
	for (;;) {
		struct pollfd fds[5] = {
		    {.fd = signal_fd, .events = POLLIN},
		    {.fd = d->privsep_channel, .events = POLLIN},
		    {.fd = m->resolver.done_fd, .events = POLLIN},
		    {.fd = m->watch_fd, .events = POLLIN},
		    {.fd = m->store ? m->store->notify_fd : -1, .events = POLLIN}};
		struct signalfd_siginfo si;
		uint64_t now = monotonic_ns();

		resolve_maybe(m, d, now);
		log_flush();
		if (poll(fds, 5, poll_timeout(m, now)) < 0 && errno != EINTR)
			break;
		if (fds[2].revents & POLLIN)
			resolve_done(m, d);
		if (fds[3].revents & POLLIN && dirwatch_changed(m->watch_fd) && !m->reload_due) {
			log_info("event=peer_directory_changed path=%s", m->watched);
			m->reload_due = monotonic_ns() + DIRECTORY_SETTLE_MS * 1000000ull;
		}
		if (fds[3].revents & (POLLERR | POLLHUP))
			watch_peer_directory(m, d);
		if (fds[4].revents & POLLIN && peer_store_collect(m->store) && !m->reload_due) {
			log_info("event=etcd_changed prefix=%s revision=%lld", m->store->prefix,
				 (long long)m->store->shown_revision);
			m->reload_due = monotonic_ns() + ETCD_SETTLE_MS * 1000000ull;
		}
		if (m->reload_due && monotonic_ns() >= m->reload_due)
			reload_now(m, d);
		if (privsep_wanted(PRIVSEP_RESOLVE) && d->config)
			resolve_soon(m, monotonic_ns());
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !privsep_serve(d->privsep_channel)) {
			reap(m, true); /* the child closed its end: it is ending */
			break;
		}
		if (privsep_wanted(PRIVSEP_SETTLE)) /* a rotation ended: the config records it */
			daemon_settle(d);
		if (!(fds[0].revents & POLLIN) || read(signal_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload_now(m, d);
		} else if (si.ssi_signo == SIGCHLD) {
			reap(m, false);
			if (!m->child)
				break;
		} else {
			log_info("event=stopping signal=%s", strsignal((int)si.ssi_signo));
			close(signal_fd);
			resolver_free(&m->resolver);
			return 0;
		}
	}
	close(signal_fd);
	resolver_free(&m->resolver);
	log_flush();
	return m->exit_status ? m->exit_status : 1;
}

void monitor_stop(struct monitor *m)
{
	if (!m->child)
		return;
	kill(m->child, SIGTERM);
	for (int i = 0; i < 100 && m->child; ++i) {
		struct timespec tick = {0, 100 * 1000000L};

		reap(m, false);
		if (m->child)
			nanosleep(&tick, NULL);
	}
	if (m->child) {
		kill(m->child, SIGKILL);
		reap(m, true);
	}
}
