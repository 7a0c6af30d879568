/* SPDX-License-Identifier: MIT */
/*
 * What the HTTP endpoints' harnesses share: the input written to a connection
 * handed to the server (libmicrohttpd, as the daemon runs it), its side then
 * closed; the server runs until it closes the connection.
 */
#ifndef WGATE_FUZZ_HTTP_H
#define WGATE_FUZZ_HTTP_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/http.h"

static uint64_t fake_clock(void)
{
	static uint64_t t = 1000000000;

	return t += 1000000;
}

static void fuzz_http_connection(struct http_server *server, const uint8_t *data, size_t size)
{
	static char buf[65536];
	size_t off = 0;
	int pair[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair))
		return;
	if (!http_add_connection(server, pair[0])) {
		close(pair[0]);
		close(pair[1]);
		return;
	}
	for (int rounds = 0; rounds < 200; ++rounds) {
		struct pollfd pfd = {.fd = pair[1], .events = POLLIN};
		ssize_t n;

		if (off < size) {
			n = send(pair[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(pair[1], SHUT_WR);
		} else if (!size) {
			shutdown(pair[1], SHUT_WR);
		}
		http_run(server, fake_clock());
		if (poll(&pfd, 1, 0) == 1) {
			n = recv(pair[1], buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break; /* the server closed the connection */
		}
	}
	close(pair[1]);
	http_run(server, fake_clock()); /* lets the server see the close */
}

#endif
