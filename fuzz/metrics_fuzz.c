// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the metrics endpoint, starting where its bytes enter:
 * a connection handed to the HTTP server (libmicrohttpd, as the daemon runs
 * it) that writes the input and closes its side; the server runs until it
 * closes the connection. Request lines, headers, methods and bodies of any
 * shape reach the request handler and the streamed rendering.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_device.h"
#include "fuzz_http.h"
#include "control/metrics.h"
#include "core/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct device dev;
	static struct metrics_server server;
	char err[256];

	if (!ready) {
		uint8_t key[32], peer[32];
		struct peer *p;

		fuzz_start();
		memset(key, 1, sizeof(key));
		memset(peer, 2, sizeof(peer));
		if (!device_init(&dev, &fuzz_io) || !device_set_private_key(&dev, key) ||
		    !(p = device_add_peer(&dev, peer)) ||
		    !peer_set_identity(p, "fuzz \"peer\"", "a,b") ||
		    metrics_listen(&server, "127.0.0.1:0", &dev, NULL, "wgfuzz", fake_clock, err,
				   sizeof(err)))
			abort();
		ready = true;
	}
	fuzz_http_connection(&server.http, data, size);
	return 0;
}
