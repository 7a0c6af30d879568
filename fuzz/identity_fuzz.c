// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the identity endpoint, starting where its bytes
 * enter: a connection handed to the HTTP server as the daemon runs it.
 * Request lines, paths (/group/NAME), X-Forwarded-For values of any shape
 * and bodies reach the lookup; two peers answer: one with a live session,
 * named and in groups, one without.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_device.h"
#include "fuzz_http.h"
#include "control/identity.h"
#include "core/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool add_peer(struct device *dev, uint8_t fill, const char *prefix, const char *name,
		     const char *groups, struct peer **out)
{
	uint8_t key[32];
	struct ip_prefix ip;
	struct peer *p;

	memset(key, fill, sizeof(key));
	p = device_add_peer(dev, key);
	if (!p || !ip_prefix_parse(&ip, prefix, true) ||
	    !allowedips_insert(&dev->allowedips, ip.family, &ip.addr, ip.cidr, &p->allowedips) ||
	    !peer_set_identity(p, name, groups))
		return false;
	*out = p;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct device dev;
	static struct identity_server server;
	static struct keypair live; /* never freed: the device lives as long as the process */
	char err[256];

	if (!ready) {
		uint8_t key[32];
		struct peer *a, *b;

		fuzz_start();
		memset(key, 1, sizeof(key));
		if (!device_init(&dev, &fuzz_io) || !device_set_private_key(&dev, key) ||
		    !add_peer(&dev, 2, "10.0.0.2/32", "partner-a", "orders,partners", &a) ||
		    !add_peer(&dev, 3, "fd00::/64", NULL, NULL, &b) ||
		    identity_listen(&server, "127.0.0.1:0", &dev, fake_clock, err, sizeof(err)))
			abort();
		live.birth = fake_clock();
		a->current = &live; /* a session that stays live: the clock moves 1 ms a call */
		ready = true;
	}
	fuzz_http_connection(&server.http, data, size);
	return 0;
}
