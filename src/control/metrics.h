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

#include "host/datapath.h"
#include "core/device.h"

struct metrics_snapshot;
struct MHD_Daemon;
struct MHD_Connection;

enum {
	METRICS_CONNECTIONS = 64,
	METRICS_CONNECTIONS_PER_ADDRESS = 16,
	METRICS_IDLE_SECONDS = 10,
	METRICS_LIFETIME_SECONDS = 30,
	METRICS_CHUNK = 32768,
};

/* Takes a copy of what a scrape shows; NULL when out of memory. */
struct metrics_snapshot *metrics_snapshot_take(const struct device *dev, const struct datapath *dp,
					       const char *ifname, uint64_t now);
void metrics_snapshot_put(struct metrics_snapshot *s);
/* Renders a whole snapshot (for tests and tools); the server streams the same text. */
void metrics_snapshot_render(const struct metrics_snapshot *s, FILE *out);
/* dp may be NULL (no data path: no offload series). */
void metrics_render(const struct device *dev, const struct datapath *dp, const char *ifname,
		    FILE *out, uint64_t now);

struct metrics_connection {
	struct MHD_Connection *connection;
	uint64_t opened;
};

struct metrics_server {
	struct MHD_Daemon *httpd; /* NULL when metrics are off */
	const struct device *device;
	const struct datapath *datapath;
	const char *ifname;
	struct metrics_snapshot *newest;
	unsigned snapshots; /* alive, the newest included */
	uint64_t (*clock)(void);
	/* The access policy's drop counters as text (ops/policy_counters.h), or NULL for none. */
	char *(*policy_counters)(void *ctx, size_t *len);
	void *policy_ctx;
	struct metrics_connection conns[METRICS_CONNECTIONS];
	unsigned conn_count;
	uint64_t scrapes, expired;
};

/*
 * Listens on address ("127.0.0.1:9586", "[::1]:9586") for dev's metrics;
 * 0 or a negative errno with a sentence in err. clock gives monotonic ns.
 */
int metrics_listen(struct metrics_server *server, const char *address, const struct device *dev,
		   const struct datapath *dp, const char *ifname, uint64_t (*clock)(void),
		   char *err, size_t err_len);
/* The fd to watch for input (-1 when off); call metrics_run() when it is ready. */
int metrics_fd(const struct metrics_server *server);
/* Serves what is ready and closes connections past their lifetime. */
void metrics_run(struct metrics_server *server, uint64_t now);
/* Milliseconds until metrics_run() is due without input, or -1 for none. */
long metrics_timeout_ms(const struct metrics_server *server);
/* Serves one connection already accepted (fuzzing, tests): the server takes fd. */
bool metrics_add_connection(struct metrics_server *server, int fd);
void metrics_close(struct metrics_server *server);

#endif
