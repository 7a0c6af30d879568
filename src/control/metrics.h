/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics: the text format rendered from a device's counters,
 * served over HTTP by libmicrohttpd inside the daemon's event loop (its epoll
 * fd joins the loop's; no thread). The wireguard_* series are those of
 * prometheus_wireguard_exporter, so existing dashboards work unchanged;
 * wgate_* series show what no exporter can see.
 *
 * A scrape copies the counters once (a snapshot: keys, counters, AllowedIPs,
 * names; about 30 ms for 100k peers) and streams the text from that copy a
 * chunk at a time as the client reads, so the data path waits for no more than
 * a chunk's rendering and memory stays bounded: at most two snapshots live,
 * shared by concurrent scrapes. Connections have an idle timeout, a lifetime,
 * and per-address and total limits, so hostile clients cannot lock scrapes out.
 */
#ifndef WGATE_METRICS_H
#define WGATE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "control/http.h"
#include "control/identity.h"
#include "host/datapath.h"
#include "core/device.h"

struct metrics_snapshot;

enum { METRICS_CHUNK = 32768 };

/* Takes a copy of what a scrape shows; NULL when out of memory. */
struct metrics_snapshot *metrics_snapshot_take(const struct device *dev, const struct datapath *dp,
					       const char *ifname, uint64_t now);
void metrics_snapshot_put(struct metrics_snapshot *s);
/* Renders a whole snapshot (for tests and tools); the server streams the same text. */
void metrics_snapshot_render(const struct metrics_snapshot *s, FILE *out);
/* dp may be NULL (no data path: no offload series). */
void metrics_render(const struct device *dev, const struct datapath *dp, const char *ifname,
		    FILE *out, uint64_t now);

struct metrics_server {
	struct http_server http; /* http.httpd NULL when metrics are off */
	const struct device *device;
	const struct datapath *datapath;
	const char *ifname;
	struct metrics_snapshot *newest;
	unsigned snapshots; /* alive, the newest included */
	/* The access policy's drop counters as text (ops/policy_counters.h), or NULL for none. */
	char *(*policy_counters)(void *ctx, size_t *len);
	void *policy_ctx;
	const struct identity_server *identity; /* its answers counted, when it serves; or NULL */
	uint64_t scrapes;
};

/*
 * Listens on address (http.h: "127.0.0.1:9586", "[::1]:9586", "unix:/PATH")
 * for dev's metrics; 0 or a negative errno with a sentence in err. clock gives
 * monotonic ns. The server is run through its http member (http.h).
 */
int metrics_listen(struct metrics_server *server, const char *address, const struct device *dev,
		   const struct datapath *dp, const char *ifname, uint64_t (*clock)(void),
		   char *err, size_t err_len);
void metrics_close(struct metrics_server *server);

#endif
