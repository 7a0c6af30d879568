// SPDX-License-Identifier: MIT
/* The requests between the sandboxed child and its monitor, and the monitor's answers. */
#include "host/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

	fds[0] = fds[1] = -1; /* also when the request could not be sent */
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

int privsep_nudge(int channel, enum privsep_request_type type)
{
	struct privsep_request rq = {.type = type};

	return send_with_fds(channel, &rq, sizeof(rq), -1, -1);
}

static bool settle_wanted, resolve_wanted;

bool privsep_wanted(enum privsep_request_type type)
{
	bool *flag = type == PRIVSEP_SETTLE ? &settle_wanted : &resolve_wanted, wanted = *flag;

	*flag = false;
	return wanted;
}

char *privsep_counters(int channel, size_t *len)
{
	struct privsep_request rq = {.type = PRIVSEP_COUNTERS};
	struct privsep_reply reply = {0};
	int fds[2], ret = ask(channel, &rq, -1, -1, &reply, fds);
	char *text = NULL;
	struct stat st;

	if (fds[1] >= 0)
		close(fds[1]);
	if (ret || fds[0] < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		return NULL;
	}
	if (fstat(fds[0], &st) == 0 && st.st_size >= 0 && st.st_size < (64 << 20) &&
	    (text = malloc((size_t)st.st_size + 1))) {
		ssize_t got = pread(fds[0], text, (size_t)st.st_size, 0);

		if (got != st.st_size) {
			free(text);
			text = NULL;
		} else {
			text[got] = '\0';
			*len = (size_t)got;
		}
	}
	close(fds[0]);
	return text;
}

static char *(*counters_provider)(void *ctx, size_t *len);
static void *counters_ctx;

void privsep_set_counters(char *(*provider)(void *ctx, size_t *len), void *ctx)
{
	counters_provider = provider;
	counters_ctx = ctx;
}

/* A sealed memory file holding text, for the child to read: -1 when it cannot be made. */
static int memory_file(const char *text, size_t len)
{
	int fd = memfd_create("wgate-counters", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
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
	int counters_fd = -1;

	if (ret == -EPIPE)
		return false; /* the child is gone */
	if (ret) {
		reply.error = ret;
	} else if ((rq.type == PRIVSEP_SETTLE || rq.type == PRIVSEP_RESOLVE) && fds[0] < 0) {
		/* no answer: the child does not wait */
		*(rq.type == PRIVSEP_SETTLE ? &settle_wanted : &resolve_wanted) = true;
		return true;
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
	} else if (rq.type == PRIVSEP_COUNTERS && fds[0] < 0) {
		size_t len = 0;
		char *text = counters_provider ? counters_provider(counters_ctx, &len) : NULL;

		counters_fd = text ? memory_file(text, len) : -1;
		reply.error = counters_fd >= 0 ? 0 : -ENOENT;
		free(text);
	} else {
		reply.error = -EPROTO;
		log_error(
		    "event=privsep_refused type=%u msg=\"a malformed request from the data path\"",
		    rq.type);
	}
	for (int i = 0; i < 2; ++i)
		if (fds[i] >= 0)
			close(fds[i]);
	if (counters_fd >= 0) {
		ret = send_with_fds(channel, &reply, sizeof(reply), counters_fd, -1);
		close(counters_fd);
		return ret == 0;
	}
	ret = send_with_fds(channel, &reply, sizeof(reply), reply.error ? -1 : fresh.fd4,
			    reply.error ? -1 : fresh.fd6);
	udp_close(&fresh); /* the child has its own copies now */
	return ret == 0;
}
