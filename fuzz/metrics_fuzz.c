// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the metrics endpoint, starting where its bytes enter:
 * a connection handed to the HTTP server (libmicrohttpd, as the daemon runs
 * it) that writes the input and closes its side; the server runs until it
 * closes the connection. Request lines, headers, methods and bodies of any
 * shape reach the request handler and the streamed rendering.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_device.h"
#include "control/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fake_clock(void)
{
	static uint64_t t = 1000000000;

	return t += 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct device dev;
	static struct metrics_server server;
	char err[256], buf[65536];
	int pair[2];
	size_t off = 0;

	if (!ready) {
		uint8_t key[32], peer[32];
		struct peer *p;

		fuzz_start();
		memset(key, 1, sizeof(key));
		memset(peer, 2, sizeof(peer));
		if (!device_init(&dev, &fuzz_io) || !device_set_private_key(&dev, key) ||
		    !(p = device_add_peer(&dev, peer)) ||
		    !(p->friendly_name = strdup("fuzz \"peer\"\n")) ||
		    metrics_listen(&server, "127.0.0.1:0", &dev, NULL, "wgfuzz", fake_clock, err,
				   sizeof(err)))
			abort();
		ready = true;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair))
		return 0;
	if (!metrics_add_connection(&server, pair[0])) {
		close(pair[0]);
		close(pair[1]);
		return 0;
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
		metrics_run(&server, fake_clock());
		if (poll(&pfd, 1, 0) == 1) {
			n = recv(pair[1], buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				break; /* the server closed the connection */
		}
	}
	close(pair[1]);
	metrics_run(&server, fake_clock()); /* lets the server see the close */
	return 0;
}
