// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the control socket, starting where its bytes enter:
 * a connected stream the daemon serves (uapi_serve), fed the input in pieces
 * of fuzzer-chosen sizes, then closed by the client; every answer is read.
 * Requests of any shape, pipelined, cut anywhere, reach the parser through
 * the same buffering the daemon uses.
 *   byte 0: the piece size (1 to 256)
 *   the rest: what the client writes
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_device.h"
#include "control/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(int fd)
{
	char buf[65536];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct device dev;
	/* a set of more than two peers is carried out in slices, as a large one is */
	struct uapi_server server = {.conns.listen_fd = -1, .slice_peers = 2};
	struct conn *c;
	size_t piece;
	int pair[2];

	if (!ready) {
		fuzz_start();
		if (!device_init(&dev, &fuzz_io))
			abort();
		ready = true;
	}
	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair))
		return 0;
	piece = (size_t)data[0] + 1;
	++data, --size;
	c = &server.conns.conns[server.conns.len++];
	memset(c, 0, sizeof(*c));
	c->fd = pair[0];
	for (size_t off = 0; off <= size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		if (off == size) /* the client has said everything */
			shutdown(pair[1], SHUT_WR);
		else if (send(pair[1], data + off, n, MSG_NOSIGNAL) < 0)
			break;
		if (!uapi_serve(&server, c, &dev, NULL, EPOLLIN | EPOLLOUT, 1000000000))
			break; /* closed and removed */
		while (uapi_busy(&server)) {
			struct conn *done = uapi_continue(&server, &dev, 1000000000);

			drain(pair[1]);
			if (done && !uapi_serve(&server, done, &dev, NULL, EPOLLOUT, 1000000000))
				break;
		}
		if (!server.conns.len)
			break;
		drain(pair[1]);
		while (server.conns.len && conn_pending(c)) {
			drain(pair[1]);
			if (!uapi_serve(&server, c, &dev, NULL, EPOLLOUT, 1000000000))
				break;
		}
		if (!server.conns.len)
			break;
	}
	uapi_close(&server); /* closes the connection, frees a set left part done */
	close(pair[1]);
	device_remove_all_peers(&dev);
	return 0;
}
