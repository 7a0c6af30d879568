// SPDX-License-Identifier: MIT
/* The requests between the sandboxed child and its monitor, and the monitor's answers. */
#include "host/privsep.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/log.h"

union fd_control {
	char buf[CMSG_SPACE(2 * sizeof(int))];
	struct cmsghdr align;
};

/* Sends len bytes of msg with up to two descriptors (-1: none). */
static int send_with_fds(int channel, const void *msg, size_t len, int fd_a, int fd_b)
{
	struct iovec iov = {(void *)msg, len};
	union fd_control control;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[2], n = 0;

	if (fd_a >= 0)
		fds[n++] = fd_a;
	if (fd_b >= 0)
		fds[n++] = fd_b;
	if (n) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return sendmsg(channel, &m, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EPIPE;
}

/* Receives exactly len bytes into msg and the descriptors sent along (up to 2, -1 if fewer). */
static int receive_with_fds(int channel, void *msg, size_t len, int fds[2])
{
	struct iovec iov = {msg, len};
	union fd_control control;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = control.buf,
			   .msg_controllen = sizeof(control.buf)};
	ssize_t n;

	fds[0] = fds[1] = -1;
	do
		n = recvmsg(channel, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			memcpy(fds, CMSG_DATA(c), (count > 2 ? 2 : count) * sizeof(int));
			for (size_t i = 2; i < count; ++i) { /* more than asked for: closed */
				int extra;

				memcpy(&extra, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(extra);
			}
		}
	}
	if (n != (ssize_t)len || m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (int i = 0; i < 2; ++i)
			if (fds[i] >= 0)
				close(fds[i]);
		fds[0] = fds[1] = -1;
		return n == 0 ? -EPIPE : -EPROTO;
	}
	return 0;
}

/* The child's side of one request: send, then wait for the answer and its descriptors. */
static int ask(int channel, const struct privsep_request *rq, int fd_a, int fd_b,
	       struct privsep_reply *reply, int fds[2])
{
	int ret = send_with_fds(channel, rq, sizeof(*rq), fd_a, fd_b);

	if (!ret)
		ret = receive_with_fds(channel, reply, sizeof(*reply), fds);
	return ret ? ret : reply->error;
}

int privsep_bind(int channel, struct udp *udp, uint16_t port, uint32_t fwmark, bool gro)
{
	struct privsep_request rq = {
	    .type = PRIVSEP_BIND, .fwmark = fwmark, .port = port, .gro = gro};
	struct privsep_reply reply = {0};
	int fds[2], ret = ask(channel, &rq, -1, -1, &reply, fds);

	if (ret) {
		for (int i = 0; i < 2; ++i)
			if (fds[i] >= 0)
				close(fds[i]);
		return ret;
	}
	*udp = (struct udp){.fd4 = -1, .fd6 = -1, .port = reply.port};
	/* the monitor sends IPv4's first; each family may be missing */
	for (int i = 0; i < 2 && fds[i] >= 0; ++i) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len) == 0 &&
		    ss.ss_family == AF_INET6)
			udp->fd6 = fds[i];
		else
			udp->fd4 = fds[i];
	}
	return udp->fd4 >= 0 || udp->fd6 >= 0 ? 0 : -EPROTO;
}

int privsep_mark(int channel, struct udp *udp, uint32_t fwmark)
{
	struct privsep_request rq = {.type = PRIVSEP_MARK, .fwmark = fwmark, .port = udp->port};
	struct privsep_reply reply = {0};
	int fds[2], ret = ask(channel, &rq, udp->fd4, udp->fd6, &reply, fds);

	for (int i = 0; i < 2; ++i)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

/* Whether fd is a UDP socket: the only kind a mark is set on for the child. */
static bool is_udp(int fd)
{
	int protocol = 0;
	socklen_t len = sizeof(protocol);

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 &&
	       protocol == IPPROTO_UDP;
}

bool privsep_serve(int channel)
{
	struct privsep_request rq;
	struct privsep_reply reply = {0};
	int fds[2], ret = receive_with_fds(channel, &rq, sizeof(rq), fds);
	struct udp fresh = {.fd4 = -1, .fd6 = -1};

	if (ret == -EPIPE)
		return false; /* the child is gone */
	if (ret) {
		reply.error = ret;
	} else if (rq.type == PRIVSEP_BIND && fds[0] < 0) {
		reply.error = udp_open(&fresh, rq.port, rq.fwmark, rq.gro);
		reply.port = fresh.port;
		log_info("event=privsep request=bind port=%u fwmark=%u result=%d", rq.port,
			 rq.fwmark, reply.error);
	} else if (rq.type == PRIVSEP_MARK && fds[0] >= 0 && is_udp(fds[0]) &&
		   (fds[1] < 0 || is_udp(fds[1]))) {
		/* the child's own sockets, no others: a mark is all that changes */
		struct udp theirs = {.fd4 = fds[0], .fd6 = fds[1], .port = rq.port};

		reply.error = udp_set_fwmark(&theirs, rq.fwmark);
		reply.port = rq.port;
		log_info("event=privsep request=mark fwmark=%u result=%d", rq.fwmark, reply.error);
	} else {
		reply.error = -EPROTO;
		log_error(
		    "event=privsep_refused type=%u msg=\"a malformed request from the data path\"",
		    rq.type);
	}
	for (int i = 0; i < 2; ++i)
		if (fds[i] >= 0)
			close(fds[i]);
	ret = send_with_fds(channel, &reply, sizeof(reply), reply.error ? -1 : fresh.fd4,
			    reply.error ? -1 : fresh.fd6);
	udp_close(&fresh); /* the child has its own copies now */
	return ret == 0;
}
