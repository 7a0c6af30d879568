// SPDX-License-Identifier: MIT
/*
 * One thread, one epoll set. Each wake-up drains a bounded batch from each
 * ready fd so that neither direction starves the other, then runs the timers
 * that are due and sleeps until the next deadline.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum { BATCH = 64 };

static uint8_t udp_buffer[65536] __attribute__((aligned(16)));

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	/* Boot time keeps counting through suspend, as the protocol's timers must. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void io_send_udp(void *ctx, const union sockaddr_any *to, const void *buf, size_t len)
{
	struct daemon *d = ctx;
	long ret = udp_send(&d->udp, to, buf, len);

	if (ret < 0)
		log_debug("event=send_failed error=\"%s\"", strerror((int)-ret));
}

static void io_write_tun(void *ctx, const void *buf, size_t len)
{
	struct daemon *d = ctx;

	if (write(d->tun_fd, buf, len) < 0 && errno != EAGAIN)
		log_debug("event=tun_write_failed error=\"%s\"", strerror(errno));
}

static void io_wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, ts);
}

bool daemon_init(struct daemon *d, const char *ifname)
{
	struct device_io io = {.ctx = d,
			       .send_udp = io_send_udp,
			       .write_tun = io_write_tun,
			       .wall_time = io_wall_time};

	memset(d, 0, sizeof(*d));
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	d->tun_fd = d->epoll_fd = d->signal_fd = -1;
	d->udp.fd4 = d->udp.fd6 = -1;
	return device_init(&d->dev, &io);
}

static bool watch(struct daemon *d, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return fd < 0 || epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool daemon_prepare(struct daemon *d, char *err, size_t err_len)
{
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
	    !watch(d, d->signal_fd)) {
		snprintf(err, err_len, "cannot set up the event loop: %s", strerror(errno));
		return false;
	}
	return true;
}

static void read_tun(struct daemon *d)
{
	for (int i = 0; i < BATCH; ++i) {
		struct packet *p = d->tun_packet;
		ssize_t n;

		if (!p) {
			p = d->tun_packet = packet_get(&d->dev.pool, d->dev.mtu);
			if (!p)
				return;
		}
		n = read(d->tun_fd, packet_payload(p), p->cap);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_error("event=tun_gone error=\"%s\" msg=\"the TUN device went away; "
				  "stopping\"",
				  strerror(errno));
			d->stop = true;
			d->exit_status = 1;
			return;
		}
		p->len = (size_t)n;
		d->tun_packet = NULL;
		device_send(&d->dev, p, monotonic_ns());
	}
}

static void read_udp(struct daemon *d, int fd)
{
	for (int i = 0; i < BATCH; ++i) {
		union sockaddr_any src;
		socklen_t alen = sizeof(src);
		ssize_t n = recvfrom(fd, udp_buffer, sizeof(udp_buffer), 0, &src.sa, &alen);

		if (n < 0)
			return;
		device_receive(&d->dev, udp_buffer, (size_t)n, &src, monotonic_ns());
	}
}

static void read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info(
			    "event=sighup msg=\"reload is done with `wgate reload'; ignoring\"");
			continue;
		}
		log_info("event=stopping signal=%s", strsignal((int)si.ssi_signo));
		d->stop = true;
	}
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[8];

	while (!d->stop) {
		uint64_t now = monotonic_ns(), next;
		int timeout = -1, n;

		device_run_timers(&d->dev, now);
		next = device_next_timer(&d->dev);
		if (next != UINT64_MAX)
			timeout = next <= now
				      ? 0
				      : (int)((next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		n = epoll_wait(d->epoll_fd, events, 8, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("event=epoll_failed error=\"%s\"", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; ++i) {
			int fd = events[i].data.fd;

			if (fd == d->tun_fd)
				read_tun(d);
			else if (fd == d->signal_fd)
				read_signals(d);
			else
				read_udp(d, fd);
		}
	}
	return d->exit_status;
}

void daemon_free(struct daemon *d)
{
	packet_put(&d->dev.pool, d->tun_packet);
	d->tun_packet = NULL;
	device_free(&d->dev);
	udp_close(&d->udp);
	if (d->tun_fd >= 0)
		close(d->tun_fd);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	d->tun_fd = d->epoll_fd = d->signal_fd = -1;
}
