// SPDX-License-Identifier: MIT
/* The Prometheus text exposition format (version 0.0.4), snapshots of it, and its HTTP server. */
#include "control/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/encoding.h"
#include "core/version.h"

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
    [DROP_PEER_EXPIRED] = "peer_expired",
};

/* What a scrape shows of one peer, copied from the device. */
struct snapshot_peer {
	uint8_t public_key[KEY_LEN];
	struct peer_stats stats;
	long long latest_handshake; /* UNIX seconds, 0 for never */
	double keypair_age;	    /* seconds, -1 for none */
	char *name, *groups;	    /* or NULL */
	int64_t expires;	    /* UNIX seconds; 0 never */
	int endpoints;		    /* how many to fail over between; 0 none */
	unsigned endpoint_index;    /* the one in use (endpoints when another address) */
	uint64_t failovers, failbacks;
	size_t first_prefix, prefix_count;
};

struct snapshot_prefix {
	int family;
	uint8_t addr[16], cidr;
};

struct metrics_snapshot {
	unsigned refs;
	uint64_t taken;
	char ifname[IFNAMSIZ];
	struct snapshot_peer *peers;
	size_t peer_count;
	struct snapshot_prefix *prefixes;
	size_t prefix_count;
	struct device_stats stats;
	bool under_load;
	bool has_datapath;
	unsigned features, threads;
	struct datapath_stats datapath;
	uint64_t shared_runs;
	char *policy; /* the access policy's counters, as lines of text; or NULL */
	bool has_identity;
	uint64_t identity_answers[IDENTITY_RESULTS];
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

/* Which labels a family's series carry besides interface and public_key. */
enum labels {
	LABELS_KEY,
	LABELS_EXPORTER, /* allowed_ips and friendly_name, as the exporter has them */
	LABELS_IDENTITY, /* name and groups, as the config gives them */
};

static void put_label(FILE *out, const char *label, const char *value)
{
	fprintf(out, ",%s=\"", label);
	put_escaped(out, value ? value : "");
	fputc('"', out);
}

static void peer_labels(FILE *out, const struct metrics_snapshot *s, const struct snapshot_peer *p,
			enum labels labels)
{
	char b64[KEY_BASE64_LEN + 1], ip[INET6_ADDRSTRLEN];

	key_to_base64(b64, p->public_key);
	fprintf(out, "{interface=\"");
	put_escaped(out, s->ifname);
	fprintf(out, "\",public_key=\"%s\"", b64);
	if (labels == LABELS_IDENTITY) {
		put_label(out, "name", p->name);
		put_label(out, "groups", p->groups);
	}
	if (labels == LABELS_EXPORTER) {
		fprintf(out, ",allowed_ips=\"");
		for (size_t i = 0; i < p->prefix_count; ++i) {
			const struct snapshot_prefix *a = &s->prefixes[p->first_prefix + i];

			inet_ntop(a->family, a->addr, ip, sizeof(ip));
			fprintf(out, "%s%s/%u", i ? "," : "", ip, a->cidr);
		}
		fputc('"', out);
		if (p->name)
			put_label(out, "friendly_name", p->name);
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

/* The families with one series per peer, in the order they are rendered. */
static const struct peer_family {
	const char *name, *type, *help;
	enum labels labels;
	void (*value)(FILE *out, const struct snapshot_peer *p);
	bool (*present)(const struct snapshot_peer *p); /* NULL: every peer has the series */
} peer_families[];

#define COUNTER_VALUE(fn, field)                                                                   \
	static void fn(FILE *out, const struct snapshot_peer *p)                                   \
	{                                                                                          \
		fprintf(out, "%llu", (unsigned long long)p->stats.field);                          \
	}
COUNTER_VALUE(tx_bytes, tx_bytes)
COUNTER_VALUE(unanswered, initiations_unanswered)
COUNTER_VALUE(cookie_replies, cookie_replies)
COUNTER_VALUE(timestamps_refused, timestamps_refused)
COUNTER_VALUE(allowedips_dropped, dropped_allowedips)
COUNTER_VALUE(rx_bytes, rx_bytes)
COUNTER_VALUE(tx_packets, tx_packets)
COUNTER_VALUE(rx_packets, rx_packets)
COUNTER_VALUE(initiated, handshakes_initiated)
COUNTER_VALUE(completed, handshakes_completed)
COUNTER_VALUE(failed, handshakes_failed)
COUNTER_VALUE(endpoint_changes, endpoint_changes)

static void handshake_time(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%lld", p->latest_handshake);
}

static void one(FILE *out, const struct snapshot_peer *p)
{
	(void)p;
	fputc('1', out);
}

static void expiry(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%lld", (long long)p->expires);
}

static void keypair_age(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%.3f", p->keypair_age);
}

static bool fails_over(const struct snapshot_peer *p)
{
	return p->endpoints > 0;
}

static bool resolves(const struct snapshot_peer *p)
{
	return p->endpoints > 0 || p->stats.resolve_failures;
}

static void endpoint_index(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%u", p->endpoint_index);
}

static void failovers(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%llu", (unsigned long long)p->failovers);
}

static void failbacks(FILE *out, const struct snapshot_peer *p)
{
	fprintf(out, "%llu", (unsigned long long)p->failbacks);
}

COUNTER_VALUE(resolve_failures, resolve_failures)

static const struct peer_family peer_families[] = {
    {"wgate_peer_info", "gauge",
     "1 for each peer, labelled with its name and groups from the config (wgate(8)).",
     LABELS_IDENTITY, one, NULL},
    {"wireguard_sent_bytes_total", "counter", "Bytes sent to the peer.", LABELS_EXPORTER, tx_bytes,
     NULL},
    {"wireguard_received_bytes_total", "counter", "Bytes received from the peer.", LABELS_EXPORTER,
     rx_bytes, NULL},
    {"wireguard_latest_handshake_seconds", "gauge",
     "UNIX time of the latest handshake with the peer, 0 for never.", LABELS_EXPORTER,
     handshake_time, NULL},
    {"wgate_latest_handshake_timestamp_seconds", "gauge",
     "UNIX time of the latest handshake, as Prometheus names timestamps; 0 for never.", LABELS_KEY,
     handshake_time, NULL},
    {"wgate_peer_sent_packets_total", "counter",
     "Data packets sent to the peer, keepalives included.", LABELS_KEY, tx_packets, NULL},
    {"wgate_peer_received_packets_total", "counter",
     "Data packets received from the peer, keepalives included.", LABELS_KEY, rx_packets, NULL},
    {"wgate_handshakes_initiated_total", "counter", "Handshake initiations sent to the peer.",
     LABELS_KEY, initiated, NULL},
    {"wgate_handshakes_completed_total", "counter",
     "Handshakes completed with the peer, either side initiating.", LABELS_KEY, completed, NULL},
    {"wgate_handshakes_failed_total", "counter",
     "Times the peer gave no answer for REKEY_ATTEMPT_TIME (90 s).", LABELS_KEY, failed, NULL},
    {"wgate_endpoint_changes_total", "counter",
     "Times the peer's endpoint moved to a new source address (roaming).", LABELS_KEY,
     endpoint_changes, NULL},
    {"wgate_peer_expiry_timestamp_seconds", "gauge",
     "UNIX time after which the peer is refused (its Expires), 0 for never.", LABELS_KEY, expiry,
     NULL},
    {"wgate_peer_unanswered_initiations", "gauge",
     "Handshake initiations sent to the peer since the latest completed handshake: more than a "
     "few, and the endpoint is wrong, filtered, or has another key for this interface.",
     LABELS_KEY, unanswered, NULL},
    {"wgate_peer_cookie_replies_total", "counter",
     "Cookie replies from the peer: it was under load.", LABELS_KEY, cookie_replies, NULL},
    {"wgate_peer_refused_timestamps_total", "counter",
     "Initiations from the peer refused for an old timestamp: replayed, or its clock went back.",
     LABELS_KEY, timestamps_refused, NULL},
    {"wgate_peer_allowedips_dropped_total", "counter",
     "Packets from the peer dropped because their source is not in its AllowedIPs.", LABELS_KEY,
     allowedips_dropped, NULL},
    {"wgate_keypair_age_seconds", "gauge",
     "Age of the keypair in use with the peer, -1 when there is none.", LABELS_KEY, keypair_age,
     NULL},
    {"wgate_peer_endpoint_index", "gauge",
     "Which of the peer's endpoints is in use: 0 the preferred, 1 the next...; as many as it "
     "has when another address (only peers with several endpoints).",
     LABELS_KEY, endpoint_index, fails_over},
    {"wgate_peer_endpoint_failovers_total", "counter",
     "Times the peer's traffic moved to its next endpoint for want of an answer.", LABELS_KEY,
     failovers, fails_over},
    {"wgate_peer_endpoint_failbacks_total", "counter",
     "Times the peer's traffic moved back to its preferred endpoint.", LABELS_KEY, failbacks,
     fails_over},
    {"wgate_peer_resolve_failures_total", "counter",
     "Times a name of the peer's endpoints did not resolve (its last address stayed in use).",
     LABELS_KEY, resolve_failures, resolves},
};
enum { PEER_FAMILIES = sizeof(peer_families) / sizeof(peer_families[0]) };

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

static void datapath_series(FILE *out, const struct metrics_snapshot *s)
{
	const char *ifname = s->ifname;

	family_header(out, "wgate_offload_enabled", "gauge",
		      "1 when a data path feature is in use: tun (TSO and coalescing), udp-gso, "
		      "udp-gro, mmsg, tun-uso (UDP segmentation offload on the TUN).");
	for (unsigned f = 1; f < DATAPATH_ALL; f <<= 1)
		labelled_series(out, ifname, "wgate_offload_enabled", "offload",
				datapath_feature_name(f), !!(s->features & f));
	per_path(out, ifname, "wgate_datapath_batches_total",
		 "System-call units on the data path: TUN reads and writes, UDP messages.",
		 s->datapath.batches);
	per_path(out, ifname, "wgate_datapath_packets_total",
		 "IP packets and datagrams carried in those batches.", s->datapath.packets);
	interface_series(out, ifname, "wgate_datapath_threads", "gauge",
			 "Threads that seal and open data packets (WGATE_THREADS).", s->threads);
	interface_series(out, ifname, "wgate_datapath_shared_batches_total", "counter",
			 "Batches whose sealing or opening was spread over more than one thread.",
			 s->shared_runs);
	interface_series(out, ifname, "wgate_datapath_sources_gone_total", "counter",
			 "Sends refused from the local address a peer had reached, no longer this "
			 "host's; sent again from the address the routing table picks.",
			 s->datapath.sources_gone);
}

/*
 * The access policy's drops: "rule\tCOMMENT\tPACKETS\tBYTES" and
 * "peer\tKEY\tDIRECTION\tPACKETS\tBYTES" lines, from the monitor.
 */
static void policy_series(FILE *out, const struct metrics_snapshot *s)
{
	static const char *const families[2][2] = {
	    {"wgate_policy_dropped_packets_total", "Packets the access policy dropped, by rule."},
	    {"wgate_peer_policy_dropped_packets_total",
	     "Packets from the peer that its access rules dropped (peers with drops only)."}};

	for (int kind = 0; kind < 2; ++kind) {
		bool header = false;

		for (const char *line = s->policy; line && *line;) {
			const char *end = strchr(line, '\n');
			char a[160], b[64], c[32];
			long long packets, bytes;

			if (!end)
				break;
			if (kind == 0 &&
			    sscanf(line, "rule\t%159[^\t]\t%lld\t%lld", a, &packets, &bytes) == 3) {
				if (!header)
					family_header(out, families[0][0], "counter",
						      families[0][1]);
				header = true;
				fprintf(out, "%s{interface=\"", families[0][0]);
				put_escaped(out, s->ifname);
				fputs("\",rule=\"", out);
				put_escaped(out, a);
				fprintf(out, "\"} %lld\n", packets);
			} else if (kind == 1 && sscanf(line, "peer\t%63[^\t]\t%31[^\t]\t%lld\t%lld",
						       b, c, &packets, &bytes) == 4) {
				if (!header)
					family_header(out, families[1][0], "counter",
						      families[1][1]);
				header = true;
				fprintf(out, "%s{interface=\"", families[1][0]);
				put_escaped(out, s->ifname);
				fputs("\",public_key=\"", out);
				put_escaped(out, b);
				fputs("\",direction=\"", out);
				put_escaped(out, c);
				fprintf(out, "\"} %lld\n", packets);
			}
			line = end + 1;
		}
	}
}

/* The series for the interface as a whole, after the per-peer families. */
static void interface_block(FILE *out, const struct metrics_snapshot *s)
{
	const char *ifname = s->ifname;

	family_header(out, "wgate_packets_dropped_total", "counter", "Packets dropped, by reason.");
	for (int r = 0; r < DROP_REASON_COUNT; ++r)
		labelled_series(out, ifname, "wgate_packets_dropped_total", "reason", drop_names[r],
				s->stats.dropped[r]);
	interface_series(out, ifname, "wgate_cookie_replies_sent_total", "counter",
			 "Cookie replies sent while under load.", s->stats.cookie_replies_sent);
	interface_series(out, ifname, "wgate_icmp_unreachable_sent_total", "counter",
			 "ICMP destination-unreachable errors written back for packets no peer "
			 "could take (no peer for the destination, or no endpoint yet).",
			 s->stats.icmp_unreachable_sent);
	interface_series(out, ifname, "wgate_under_load", "gauge",
			 "1 while handshakes must carry a cookie (many handshake messages).",
			 s->under_load);
	interface_series(out, ifname, "wgate_peers", "gauge", "Configured peers.", s->peer_count);
	if (s->has_datapath)
		datapath_series(out, s);
	if (s->policy)
		policy_series(out, s);
	if (s->has_identity) {
		family_header(out, "wgate_identity_answers_total", "counter",
			      "Answers of the identity endpoint, by result.");
		for (int r = 0; r < IDENTITY_RESULTS; ++r)
			labelled_series(out, ifname, "wgate_identity_answers_total", "result",
					identity_result_name(r), s->identity_answers[r]);
	}
	family_header(out, "wgate_build_info", "gauge", "wgate's version; always 1.");
	fprintf(out, "wgate_build_info{version=\"%s\"} 1\n", WGATE_VERSION);
}

struct metrics_snapshot *metrics_snapshot_take(const struct device *dev, const struct datapath *dp,
					       const char *ifname, uint64_t now)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	size_t prefixes = 0, cap = 0;

	if (!s)
		return NULL;
	s->refs = 1;
	s->taken = now;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->peers = calloc(dev->peer_count ? dev->peer_count : 1, sizeof(*s->peers));
	if (!s->peers)
		goto fail;
	for (const struct peer *p = dev->first_peer; p; p = p->next) {
		struct snapshot_peer *sp = &s->peers[s->peer_count++];
		struct allowedips_node *it = NULL;
		struct snapshot_prefix a;

		memcpy(sp->public_key, p->public_key, KEY_LEN);
		sp->stats = p->stats;
		sp->latest_handshake = (long long)p->last_handshake.tv_sec;
		sp->expires = p->expires;
		if (p->endpoints) {
			sp->endpoints = p->endpoints->count;
			sp->endpoint_index = p->endpoints->active;
			sp->failovers = p->endpoints->failovers;
			sp->failbacks = p->endpoints->failbacks;
		}
		sp->keypair_age =
		    p->current ? (double)(now - p->current->birth) / NSEC_PER_SEC : -1.0;
		if ((p->name && !(sp->name = strdup(p->name))) ||
		    (p->groups && !(sp->groups = strdup(p->groups))))
			goto fail;
		sp->first_prefix = prefixes;
		while ((it = allowedips_next(&p->allowedips, it, &a.family, a.addr, &a.cidr))) {
			if (prefixes == cap) {
				size_t bigger = cap ? cap * 2 : 1024;
				void *grown = reallocarray(s->prefixes, bigger, sizeof(a));

				if (!grown)
					goto fail;
				s->prefixes = grown;
				cap = bigger;
			}
			s->prefixes[prefixes++] = a;
		}
		sp->prefix_count = prefixes - sp->first_prefix;
	}
	s->prefix_count = prefixes;
	s->stats = dev->stats;
	s->under_load = dev->force_under_load || now < dev->under_load_until;
	if (dp) {
		s->has_datapath = true;
		s->features = dp->features;
		s->threads = dp->workers.threads ? dp->workers.threads : dp->threads;
		s->datapath = dp->stats;
		s->shared_runs = dp->workers.shared_runs;
	}
	return s;
fail:
	metrics_snapshot_put(s);
	return NULL;
}

void metrics_snapshot_put(struct metrics_snapshot *s)
{
	if (!s || --s->refs)
		return;
	for (size_t i = 0; i < s->peer_count; ++i) {
		free(s->peers[i].name);
		free(s->peers[i].groups);
	}
	free(s->peers);
	free(s->prefixes);
	free(s->policy);
	free(s);
}

/* Where a rendering stands: the family (PEER_FAMILIES is the interface block) and the peer. */
struct render_cursor {
	unsigned family;
	size_t peer;
	bool header_done;
};

/* Renders the next units until about budget bytes are out; false once everything is. */
static bool render_some(const struct metrics_snapshot *s, struct render_cursor *c, FILE *out,
			long budget)
{
	long start = ftell(out);

	while (c->family <= PEER_FAMILIES) {
		const struct peer_family *f;

		if (start >= 0 && ftell(out) - start >= budget)
			return true;
		if (c->family == PEER_FAMILIES) {
			interface_block(out, s);
			++c->family;
			break;
		}
		f = &peer_families[c->family];
		if (!c->header_done) {
			family_header(out, f->name, f->type, f->help);
			c->header_done = true;
		}
		for (unsigned n = 0; c->peer < s->peer_count && n < 64; ++n, ++c->peer) {
			if (f->present && !f->present(&s->peers[c->peer]))
				continue;
			fputs(f->name, out);
			peer_labels(out, s, &s->peers[c->peer], f->labels);
			fputc(' ', out);
			f->value(out, &s->peers[c->peer]);
			fputc('\n', out);
		}
		if (c->peer == s->peer_count) {
			++c->family;
			c->peer = 0;
			c->header_done = false;
		}
	}
	return false;
}

void metrics_snapshot_render(const struct metrics_snapshot *s, FILE *out)
{
	struct render_cursor c = {0};

	while (render_some(s, &c, out, 1L << 30))
		;
}

void metrics_render(const struct device *dev, const struct datapath *dp, const char *ifname,
		    FILE *out, uint64_t now)
{
	struct metrics_snapshot *s = metrics_snapshot_take(dev, dp, ifname, now);

	if (s)
		metrics_snapshot_render(s, out);
	metrics_snapshot_put(s);
}

/* One response being streamed: the snapshot it shows and the text not yet handed to MHD. */
struct stream {
	struct metrics_server *server;
	struct metrics_snapshot *snapshot;
	struct render_cursor cursor;
	char *text;
	size_t len, done;
	bool finished;
};

static void release_snapshot(struct metrics_server *server, struct metrics_snapshot *s)
{
	if (s->refs == 1) /* the last holder: one snapshot fewer alive */
		--server->snapshots;
	metrics_snapshot_put(s);
}

/*
 * The snapshot for a new scrape: a fresh one, unless another scrape is still
 * streaming the newest and it is under a second old (concurrent scrapes share
 * it), or two are alive already (slow clients hold them: memory stays bounded).
 */
static struct metrics_snapshot *snapshot_for_scrape(struct metrics_server *server, uint64_t now)
{
	struct metrics_snapshot *fresh;
	bool streaming = server->newest && server->newest->refs > 1;

	if (server->newest &&
	    ((streaming && now - server->newest->taken < NSEC_PER_SEC) || server->snapshots >= 2)) {
		++server->newest->refs;
		return server->newest;
	}
	fresh = metrics_snapshot_take(server->device, server->datapath, server->ifname, now);
	if (fresh && server->policy_counters) {
		size_t len = 0;

		fresh->policy = server->policy_counters(server->policy_ctx, &len);
	}
	if (fresh && server->identity && server->identity->http.httpd) {
		fresh->has_identity = true;
		memcpy(fresh->identity_answers, server->identity->answers,
		       sizeof(fresh->identity_answers));
	}
	if (!fresh)
		return NULL;
	if (server->newest)
		release_snapshot(server, server->newest);
	server->newest = fresh;
	++server->snapshots;
	++fresh->refs; /* one for the server, one for the stream */
	return fresh;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;

	(void)pos;
	while (st->done == st->len) {
		FILE *f;

		free(st->text);
		st->text = NULL;
		st->len = st->done = 0;
		if (st->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		f = open_memstream(&st->text, &st->len);
		if (!f)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		st->finished = !render_some(st->snapshot, &st->cursor, f, METRICS_CHUNK);
		if (fclose(f))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (max > st->len - st->done)
		max = st->len - st->done;
	memcpy(buf, st->text + st->done, max);
	st->done += max;
	return (ssize_t)max;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->text);
	release_snapshot(st->server, st->snapshot);
	free(st);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method)
{
	struct metrics_server *server = cls;
	struct MHD_Response *r;
	struct stream *st;
	enum MHD_Result ret;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return http_send_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "wgate serves GET /metrics only\n");
	if (strcmp(url, "/metrics"))
		return http_send_text(connection, MHD_HTTP_NOT_FOUND,
				      "wgate serves /metrics only\n");
	st = calloc(1, sizeof(*st));
	if (!st)
		return MHD_NO;
	st->server = server;
	st->snapshot = snapshot_for_scrape(server, server->http.clock());
	if (!st->snapshot) {
		free(st);
		return http_send_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, METRICS_CHUNK, stream_read, st,
					      stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(connection, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	++server->scrapes;
	return ret;
}

int metrics_listen(struct metrics_server *server, const char *address, const struct device *dev,
		   const struct datapath *dp, const char *ifname, uint64_t (*clock)(void),
		   char *err, size_t err_len)
{
	memset(server, 0, sizeof(*server));
	server->device = dev;
	server->datapath = dp;
	server->ifname = ifname;
	/* scrapers are few: one address must not take every slot */
	return http_listen(&server->http, address, "metrics", 16, answer, server, clock, err,
			   err_len);
}

void metrics_close(struct metrics_server *server)
{
	http_close(&server->http);
	if (server->newest)
		release_snapshot(server, server->newest);
	server->newest = NULL;
}
