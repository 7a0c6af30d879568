// SPDX-License-Identifier: MIT
/*
 * The monitor's side of privilege separation against a child that lies:
 * each request the monitor accepts does exactly what it says, and anything
 * else (garbage, a wrong size, a mark for a socket that is not UDP, a bind
 * with descriptors attached) is refused without effect.
 */
#include "testutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/privsep.h"

static int pair[2];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int teardown(void **state)
{
	(void)state;
	close(pair[0]);
	close(pair[1]);
	return 0;
}

/* What the monitor answered to raw bytes from the child (error, and descriptors). */
static struct privsep_reply answer_to(const void *msg, size_t len, int fd, int *fds_received)
{
	struct privsep_reply reply = {0};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {(void *)msg, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	assert_true(sendmsg(pair[1], &m, 0) == (ssize_t)len);
	assert_true(privsep_serve(pair[0]));
	iov = (struct iovec){&reply, sizeof(reply)};
	m = (struct msghdr){.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	assert_int_equal(recvmsg(pair[1], &m, 0), sizeof(reply));
	*fds_received = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int got[2];
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		memcpy(got, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; ++i)
			close(got[i]);
		*fds_received += (int)n;
	}
	return reply;
}

static void malformed_requests_are_refused(void **state)
{
	uint8_t garbage[64];
	struct privsep_request rq = {.type = 99};
	int fds;
	struct privsep_reply r;

	(void)state;
	memset(garbage, 0xa5, sizeof(garbage));
	r = answer_to(garbage, sizeof(garbage), -1, &fds);
	assert_int_equal(r.error, -EPROTO);
	assert_int_equal(fds, 0);
	r = answer_to(garbage, 3, -1, &fds);
	assert_int_equal(r.error, -EPROTO);
	r = answer_to(&rq, sizeof(rq), -1, &fds);
	assert_int_equal(r.error, -EPROTO);
	/* a mark for something that is not a UDP socket: the channel itself */
	rq = (struct privsep_request){.type = PRIVSEP_MARK, .fwmark = 7};
	r = answer_to(&rq, sizeof(rq), pair[1], &fds);
	assert_int_equal(r.error, -EPROTO);
	/* a bind that brings descriptors along */
	rq = (struct privsep_request){.type = PRIVSEP_BIND, .port = 0};
	r = answer_to(&rq, sizeof(rq), pair[1], &fds);
	assert_int_equal(r.error, -EPROTO);
	assert_int_equal(fds, 0);
}

static void a_bind_brings_sockets_on_the_port(void **state)
{
	struct privsep_request rq = {.type = PRIVSEP_BIND, .port = 0};
	int fds;
	struct privsep_reply r;

	(void)state;
	r = answer_to(&rq, sizeof(rq), -1, &fds);
	assert_int_equal(r.error, 0);
	assert_true(r.port > 0);
	assert_true(fds >= 1 && fds <= 2);
}

static void a_mark_on_a_udp_socket(void **state)
{
	struct privsep_request rq = {.type = PRIVSEP_MARK, .fwmark = 0x55};
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), fds;
	uint32_t mark = 0;
	socklen_t len = sizeof(mark);
	struct privsep_reply r;

	(void)state;
	assert_true(udp >= 0);
	r = answer_to(&rq, sizeof(rq), udp, &fds);
	if (r.error == -EPERM) { /* not root: nothing to check */
		close(udp);
		skip();
	}
	assert_int_equal(r.error, 0);
	assert_int_equal(getsockopt(udp, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 0x55);
	close(udp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(malformed_requests_are_refused),
	    cmocka_unit_test(a_bind_brings_sockets_on_the_port),
	    cmocka_unit_test(a_mark_on_a_udp_socket),
	};
	return cmocka_run_group_tests_name("privsep", tests, setup, teardown);
}
