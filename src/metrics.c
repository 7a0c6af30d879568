// SPDX-License-Identifier: MIT
/* The Prometheus text exposition format (version 0.0.4) over a minimal HTTP/1.1. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"

static const char *const drop_names[DROP_REASON_COUNT] = {
    [DROP_MALFORMED] = "malformed",
    [DROP_BAD_MAC] = "bad_mac",
    [DROP_BAD_HANDSHAKE] = "bad_handshake",
    [DROP_REPLAY] = "replay",
    [DROP_NO_SESSION] = "no_session",
    [DROP_ALLOWEDIPS] = "allowedips_mismatch",
    [DROP_NO_PEER] = "no_peer_for_destination",
    [DROP_NO_ENDPOINT] = "no_endpoint",
    [DROP_RATELIMIT] = "ratelimit",
    [DROP_STAGED_OVERFLOW] = "staged_overflow",
};

/* A label value with \, " and newline escaped, as the format requires. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; ++s) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out), fputc(*s, out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void peer_labels(FILE *out, const char *ifname, const struct peer *p, bool full)
{
	char b64[KEY_BASE64_LEN + 1], ip[INET6_ADDRSTRLEN];
	struct allowedips_node *it = NULL;
	int family;
	uint8_t addr[16], cidr;
	bool first = true;

	key_to_base64(b64, p->public_key);
	fprintf(out, "{interface=\"");
	put_escaped(out, ifname);
	fprintf(out, "\",public_key=\"%s\"", b64);
	if (full) {
		fprintf(out, ",allowed_ips=\"");
		while ((it = allowedips_next(&p->allowedips, it, &family, addr, &cidr))) {
			inet_ntop(family, addr, ip, sizeof(ip));
			fprintf(out, "%s%s/%u", first ? "" : ",", ip, cidr);
			first = false;
		}
		fputc('"', out);
		if (p->friendly_name) {
			fprintf(out, ",friendly_name=\"");
			put_escaped(out, p->friendly_name);
			fputc('"', out);
		}
	}
	fputc('}', out);
}

static void family_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family with one series for the whole interface. */
static void interface_series(FILE *out, const char *ifname, const char *name, const char *type,
			     const char *help, unsigned long long value)
{
	family_header(out, name, type, help);
	fprintf(out, "%s{interface=\"", name);
	put_escaped(out, ifname);
	fprintf(out, "\"} %llu\n", value);
}

/* One series per peer of a per-peer value. */
#define PER_PEER(name, type, help, full, fmt, expr)                                                \
	do {                                                                                       \
		family_header(out, name, type, help);                                              \
		for (const struct peer *p = dev->first_peer; p; p = p->next) {                     \
			fputs(name, out);                                                          \
			peer_labels(out, ifname, p, full);                                         \
			fprintf(out, " " fmt "\n", expr);                                          \
		}                                                                                  \
	} while (0)

/* One series per label value: name{interface="...",label="value"} */
static void labelled_series(FILE *out, const char *ifname, const char *name, const char *label,
			    const char *value, unsigned long long n)
{
	fprintf(out, "%s{interface=\"", name);
	put_escaped(out, ifname);
	fprintf(out, "\",%s=\"%s\"} %llu\n", label, value, n);
}

/* A counter family with one series per data path place. */
static void per_path(FILE *out, const char *ifname, const char *name, const char *help,
		     const uint64_t counts[PATH_COUNT])
{
	family_header(out, name, "counter", help);
	for (int p = 0; p < PATH_COUNT; ++p)
		labelled_series(out, ifname, name, "path", datapath_path_name(p), counts[p]);
}

static void datapath_series(FILE *out, const struct datapath *dp, const char *ifname)
{
	family_header(out, "wgate_offload_enabled", "gauge",
		      "1 when a data path feature is in use: tun (TSO and coalescing), udp-gso, "
		      "udp-gro, mmsg, tun-uso (UDP segmentation offload on the TUN).");
	for (unsigned f = 1; f < DATAPATH_ALL; f <<= 1)
		labelled_series(out, ifname, "wgate_offload_enabled", "offload",
				datapath_feature_name(f), !!(dp->features & f));
	per_path(out, ifname, "wgate_datapath_batches_total",
		 "System-call units on the data path: TUN reads and writes, UDP messages.",
		 dp->stats.batches);
	per_path(out, ifname, "wgate_datapath_packets_total",
		 "IP packets and datagrams carried in those batches.", dp->stats.packets);
	interface_series(out, ifname, "wgate_datapath_threads", "gauge",
			 "Threads that seal and open data packets (WGATE_THREADS).",
			 dp->workers.threads ? dp->workers.threads : dp->threads);
	interface_series(out, ifname, "wgate_datapath_shared_batches_total", "counter",
			 "Batches whose sealing or opening was spread over more than one thread.",
			 dp->workers.shared_runs);
	interface_series(out, ifname, "wgate_datapath_sources_gone_total", "counter",
			 "Sends refused from the local address a peer had reached, no longer this "
			 "host's; sent again from the address the routing table picks.",
			 dp->stats.sources_gone);
}

void metrics_render(const struct device *dev, const struct datapath *dp, const char *ifname,
		    FILE *out, uint64_t now)
{
	PER_PEER("wireguard_sent_bytes_total", "counter", "Bytes sent to the peer.", true, "%llu",
		 (unsigned long long)p->stats.tx_bytes);
	PER_PEER("wireguard_received_bytes_total", "counter", "Bytes received from the peer.", true,
		 "%llu", (unsigned long long)p->stats.rx_bytes);
	PER_PEER("wireguard_latest_handshake_seconds", "gauge",
		 "UNIX time of the latest handshake with the peer, 0 for never.", true, "%lld",
		 (long long)p->last_handshake.tv_sec);
	PER_PEER("wgate_latest_handshake_timestamp_seconds", "gauge",
		 "UNIX time of the latest handshake, as Prometheus names timestamps; 0 for never.",
		 false, "%lld", (long long)p->last_handshake.tv_sec);
	PER_PEER("wgate_peer_sent_packets_total", "counter",
		 "Data packets sent to the peer, keepalives included.", false, "%llu",
		 (unsigned long long)p->stats.tx_packets);
	PER_PEER("wgate_peer_received_packets_total", "counter",
		 "Data packets received from the peer, keepalives included.", false, "%llu",
		 (unsigned long long)p->stats.rx_packets);
	PER_PEER("wgate_handshakes_initiated_total", "counter",
		 "Handshake initiations sent to the peer.", false, "%llu",
		 (unsigned long long)p->stats.handshakes_initiated);
	PER_PEER("wgate_handshakes_completed_total", "counter",
		 "Handshakes completed with the peer, either side initiating.", false, "%llu",
		 (unsigned long long)p->stats.handshakes_completed);
	PER_PEER("wgate_handshakes_failed_total", "counter",
		 "Times the peer gave no answer for REKEY_ATTEMPT_TIME (90 s).", false, "%llu",
		 (unsigned long long)p->stats.handshakes_failed);
	PER_PEER("wgate_endpoint_changes_total", "counter",
		 "Times the peer's endpoint moved to a new source address (roaming).", false,
		 "%llu", (unsigned long long)p->stats.endpoint_changes);
	PER_PEER("wgate_keypair_age_seconds", "gauge",
		 "Age of the keypair in use with the peer, -1 when there is none.", false, "%.3f",
		 p->current ? (double)(now - p->current->birth) / NSEC_PER_SEC : -1.0);

	family_header(out, "wgate_packets_dropped_total", "counter", "Packets dropped, by reason.");
	for (int r = 0; r < DROP_REASON_COUNT; ++r)
		labelled_series(out, ifname, "wgate_packets_dropped_total", "reason", drop_names[r],
				dev->stats.dropped[r]);
	interface_series(out, ifname, "wgate_cookie_replies_sent_total", "counter",
			 "Cookie replies sent while under load.", dev->stats.cookie_replies_sent);
	interface_series(out, ifname, "wgate_icmp_unreachable_sent_total", "counter",
			 "ICMP destination-unreachable errors written back for packets no peer "
			 "could take (no peer for the destination, or no endpoint yet).",
			 dev->stats.icmp_unreachable_sent);
	interface_series(out, ifname, "wgate_under_load", "gauge",
			 "1 while handshakes must carry a cookie (many handshake messages).",
			 dev->force_under_load || now < dev->under_load_until);
	interface_series(out, ifname, "wgate_peers", "gauge", "Configured peers.", dev->peer_count);
	if (dp)
		datapath_series(out, dp, ifname);
	family_header(out, "wgate_build_info", "gauge", "wgate's version; always 1.");
	fprintf(out, "wgate_build_info{version=\"%s\"} 1\n", WGATE_VERSION);
}

int metrics_listen(struct metrics_server *server, const char *address, char *err, size_t err_len)
{
	union sockaddr_any addr;
	int fd, one = 1;

	memset(server, 0, sizeof(*server));
	server->conns.listen_fd = -1;
	if (!metrics_address_parse(address, &addr)) {
		snprintf(err, err_len, "metrics address `%s' is not IP:port", address);
		return -EINVAL;
	}
	fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &addr.sa, sockaddr_len(&addr)) < 0 || listen(fd, 16) < 0) {
		int saved = errno;

		snprintf(err, err_len, "cannot serve metrics on %s: %s", address, strerror(saved));
		if (fd >= 0)
			close(fd);
		return -saved;
	}
	server->conns.listen_fd = fd;
	return 0;
}

void metrics_close(struct metrics_server *server)
{
	conn_close_all(&server->conns);
	if (server->conns.listen_fd >= 0)
		close(server->conns.listen_fd);
	server->conns.listen_fd = -1;
}

static void reply(struct conn *c, const char *status, const char *type, const char *body,
		  size_t body_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	fprintf(
	    f,
	    "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    status, type, body_len);
	fwrite(body, 1, body_len, f);
	fclose(f);
	conn_queue(c, text, len);
}

bool metrics_serve(struct metrics_server *server, struct conn *c, const struct device *dev,
		   const char *ifname, uint64_t now)
{
	enum conn_read_result r = conn_read(c, 16384);
	char *end;

	if (r == CONN_ERROR) {
		conn_close(&server->conns, c);
		return false;
	}
	end = c->in_len ? strstr(c->in, "\r\n\r\n") : NULL;
	if (!end)
		end = c->in_len ? strstr(c->in, "\n\n") : NULL;
	if (end && c->out_len == 0) {
		if (!strncmp(c->in, "GET /metrics ", 13) || !strncmp(c->in, "GET /metrics?", 13)) {
			char *body = NULL;
			size_t body_len = 0;
			FILE *f = open_memstream(&body, &body_len);

			if (f) {
				metrics_render(dev, server->datapath, ifname, f, now);
				fclose(f);
				reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body,
				      body_len);
				free(body);
			}
		} else {
			static const char msg[] = "wgate serves /metrics only\n";

			reply(c, "404 Not Found", "text/plain", msg, sizeof(msg) - 1);
		}
	}
	/* One request per connection: done once the answer is out. */
	if (conn_flush(c) || (!c->out_len && r == CONN_OPEN))
		return true;
	conn_close(&server->conns, c);
	return false;
}
