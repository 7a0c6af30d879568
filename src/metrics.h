/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics: the text format rendered from a device's counters, and
 * a small HTTP endpoint in the daemon's event loop that serves it. The
 * wireguard_* series are those of prometheus_wireguard_exporter, so existing
 * dashboards work unchanged; wgate_* series show what no exporter can see.
 * Rendering reads counters the data path keeps anyway: a scrape adds no work
 * to the packet path and never blocks it.
 */
#ifndef WGATE_METRICS_H
#define WGATE_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "conn.h"
#include "datapath.h"
#include "device.h"

/* dp may be NULL (no data path: no offload series). */
void metrics_render(const struct device *dev, const struct datapath *dp, const char *ifname,
		    FILE *out, uint64_t now);

struct metrics_server {
	struct conn_set conns; /* conns.listen_fd is -1 when metrics are off */
	const struct datapath *datapath;
};

/* Listens on address ("127.0.0.1:9586", "[::1]:9586"); 0 or a negative errno. */
int metrics_listen(struct metrics_server *server, const char *address, char *err, size_t err_len);
void metrics_close(struct metrics_server *server);
/* Answers GET /metrics; false when the connection is done (closed and removed). */
bool metrics_serve(struct metrics_server *server, struct conn *c, const struct device *dev,
		   const char *ifname, uint64_t now);

#endif
