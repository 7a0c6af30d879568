// SPDX-License-Identifier: MIT
/*
 * The control protocol. A set is parsed whole into a list of operations and
 * checked before any of it is applied, so a malformed request changes
 * nothing; errno values follow wireguard-go's (-EINVAL for a bad value,
 * -EPROTO for a bad request, -EADDRINUSE when a port is taken).
 *
 * wgate adds peer keys no other implementation knows: wgate_name and
 * wgate_groups (who the peer is: wgate(8), GATEWAY KEYS), wgate_expires, and
 * wgate_next_public_key with wgate_rotation_deadline (a key rotation: empty
 * or zero cancels it), which a get shows only when asked with "get=wgate"
 * (or "get=wgate_config": enum uapi_view): the stock tools never see them.
 */
#include "control/uapi.h"

#include "config/policy.h"
#include "core/crypto.h"
#include "host/log.h"
#include "core/secret_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { MAX_REQUEST = 64 << 20 };

struct allowed_ip_op {
	struct ip_prefix prefix;
	bool remove;
};

struct peer_op {
	uint8_t public_key[KEY_LEN];
	bool remove, update_only, replace_allowed_ips;
	bool has_preshared_key, has_endpoint, has_keepalive;
	uint8_t preshared_key[KEY_LEN];
	union sockaddr_any endpoint;
	uint16_t keepalive;
	char *name, *groups; /* NULL when not given; "" clears */
	bool has_expires;
	int64_t expires;
	bool has_next_key, has_deadline; /* a zero next key cancels a rotation */
	uint8_t next_key[KEY_LEN];
	int64_t deadline;
	union sockaddr_any *endpoints; /* wgate_endpoints; NULL when not given */
	uint8_t endpoints_len;
	bool has_endpoints, has_resolve_failures;
	uint32_t failover_ms, failback_ms;
	uint64_t resolve_failures;
	/* its allowed_ip lines: in the set_op's array, from ips_from (ips set once it is whole) */
	const struct allowed_ip_op *ips;
	size_t ips_from, ips_len;
};

struct set_op {
	bool has_private_key, has_listen_port, has_fwmark, replace_peers;
	uint8_t private_key[KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct peer_op *peers;
	size_t peers_len, peers_cap;
	struct allowed_ip_op *ips; /* every peer's, in order: one array, not one each */
	size_t ips_len, ips_cap;
};

/* Why a peer's handshakes may not complete (wgate check reads these). */
static void put_diagnostics(FILE *out, const struct peer_stats *st)
{
	char ip[INET6_ADDRSTRLEN];

	if (st->initiations_unanswered)
		fprintf(out, "wgate_unanswered_initiations=%llu\nwgate_unanswered_since=%lld\n",
			(unsigned long long)st->initiations_unanswered,
			(long long)st->unanswered_since);
	if (st->cookie_replies)
		fprintf(out, "wgate_cookie_replies=%llu\n", (unsigned long long)st->cookie_replies);
	if (st->timestamps_refused)
		fprintf(out, "wgate_timestamps_refused=%llu\n",
			(unsigned long long)st->timestamps_refused);
	if (st->dropped_allowedips) {
		fprintf(out, "wgate_allowedips_dropped=%llu\n",
			(unsigned long long)st->dropped_allowedips);
		if (inet_ntop(st->allowedips_drop_family == AF_INET ? AF_INET : AF_INET6,
			      st->allowedips_drop_source, ip, sizeof(ip)))
			fprintf(out, "wgate_allowedips_drop_source=%s\n", ip);
	}
}

/* A peer's endpoints to fail over between, and (stats) how that goes. */
static void put_endpoints(FILE *out, const struct peer *p, bool stats)
{
	const struct peer_endpoints *eps = p->endpoints;
	char text[INET6_ADDRSTRLEN + 16];

	if (stats && p->stats.resolve_failures)
		fprintf(out, "wgate_resolve_failures=%llu\n",
			(unsigned long long)p->stats.resolve_failures);
	if (!eps)
		return;
	fputs("wgate_endpoints=", out);
	for (unsigned i = 0; i < eps->count; ++i) {
		sockaddr_format(&eps->addr[i].remote, text, sizeof(text));
		fprintf(out, "%s%s", i ? "," : "", text);
	}
	fprintf(out, "\nwgate_failover_ms=%llu\nwgate_failback_ms=%llu\n",
		(unsigned long long)(eps->failover_ns / NSEC_PER_MSEC),
		(unsigned long long)(eps->failback_ns / NSEC_PER_MSEC));
	if (stats)
		fprintf(out,
			"wgate_endpoint_index=%u\nwgate_failovers=%llu\nwgate_failbacks=%llu\n",
			eps->active, (unsigned long long)eps->failovers,
			(unsigned long long)eps->failbacks);
}

void uapi_get(const struct device *dev, FILE *out, enum uapi_view view)
{
	char hex[KEY_HEX_LEN + 1], text[INET6_ADDRSTRLEN + 16];
	bool identity = view != UAPI_VIEW_WG, stats = view != UAPI_VIEW_CONFIG;

	if (dev->identity.has_identity) {
		key_to_hex(hex, dev->identity.static_private);
		fprintf(out, "private_key=%s\n", hex);
		crypto_wipe(hex, sizeof(hex));
	}
	if (dev->listen_port)
		fprintf(out, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		fprintf(out, "fwmark=%u\n", dev->fwmark);
	for (int i = 0; view == UAPI_VIEW_WGATE && i < BAD_MAC_SOURCES; ++i) {
		const struct bad_mac_source *b = &dev->stats.bad_mac[i];

		if (b->from.sa.sa_family == AF_UNSPEC)
			continue;
		sockaddr_format(&b->from, text, sizeof(text));
		fprintf(out, "wgate_bad_mac1=%s,%llu,%lld,%lld\n", text,
			(unsigned long long)b->count, (long long)b->first, (long long)b->last);
	}
	for (const struct peer *p = dev->first_peer; p; p = p->next) {
		struct allowedips_node *it = NULL;
		int family;
		uint8_t addr[16], cidr;

		key_to_hex(hex, p->public_key);
		fprintf(out, "public_key=%s\n", hex);
		if (identity && p->name)
			fprintf(out, "wgate_name=%s\n", p->name);
		if (identity && p->groups)
			fprintf(out, "wgate_groups=%s\n", p->groups);
		if (identity && p->expires)
			fprintf(out, "wgate_expires=%lld\n", (long long)p->expires);
		if (view == UAPI_VIEW_WGATE)
			put_diagnostics(out, &p->stats);
		if (identity)
			put_endpoints(out, p, stats);
		if (identity && p->rotation) {
			key_to_hex(hex, p->rotation->public_key);
			fprintf(out, "wgate_next_public_key=%s\n", hex);
			if (p->rotation->deadline)
				fprintf(out, "wgate_rotation_deadline=%lld\n",
					(long long)p->rotation->deadline);
		}
		if (p->has_preshared_key) {
			key_to_hex(hex, p->handshake.preshared_key);
			fprintf(out, "preshared_key=%s\n", hex);
			crypto_wipe(hex, sizeof(hex));
		}
		if (stats) {
			fprintf(out, "protocol_version=1\n");
			if (p->endpoint.remote.sa.sa_family != AF_UNSPEC) {
				sockaddr_format(&p->endpoint.remote, text, sizeof(text));
				fprintf(out, "endpoint=%s\n", text);
			}
			fprintf(out,
				"last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%ld\n"
				"tx_bytes=%llu\nrx_bytes=%llu\n",
				(long long)p->last_handshake.tv_sec, p->last_handshake.tv_nsec,
				(unsigned long long)p->stats.tx_bytes,
				(unsigned long long)p->stats.rx_bytes);
		}
		if (stats || p->persistent_keepalive)
			fprintf(out, "persistent_keepalive_interval=%u\n", p->persistent_keepalive);
		while ((it = allowedips_next(&p->allowedips, it, &family, addr, &cidr))) {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(family, addr, ip, sizeof(ip));
			fprintf(out, "allowed_ip=%s/%u\n", ip, cidr);
		}
	}
}

static bool parse_endpoint(const char *value, union sockaddr_any *out)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *port_text;
	uint64_t port;

	memset(out, 0, sizeof(*out));
	if (!host_port_split(value, host, sizeof(host), &port_text))
		return false;
	if (value[0] == '[') {
		out->v6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &out->v6.sin6_addr) != 1)
			return false;
	} else {
		out->v4.sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &out->v4.sin_addr) != 1)
			return false;
	}
	if (!parse_uint(port_text, 65535, false, &port) || !port)
		return false;
	if (out->sa.sa_family == AF_INET)
		out->v4.sin_port = htons((uint16_t)port);
	else
		out->v6.sin6_port = htons((uint16_t)port);
	return true;
}

static void set_op_free(struct set_op *op)
{
	for (size_t i = 0; i < op->peers_len; ++i) {
		free(op->peers[i].name);
		free(op->peers[i].groups);
		free(op->peers[i].endpoints);
	}
	if (op->peers)
		crypto_wipe(op->peers, op->peers_cap * sizeof(*op->peers));
	free(op->peers);
	free(op->ips);
	crypto_wipe(op, sizeof(*op));
}

/* "" or up to PEER_GROUPS_MAX group names, comma-separated. */
static bool groups_valid(const char *value)
{
	char name[33];
	unsigned count = 0;

	if (!*value)
		return true;
	for (const char *at = value;;) {
		size_t len = strcspn(at, ",");

		if (len >= sizeof(name) || ++count > PEER_GROUPS_MAX)
			return false;
		memcpy(name, at, len);
		name[len] = '\0';
		if (!policy_name_valid(name))
			return false;
		if (!at[len])
			break;
		at += len + 1;
	}
	return true;
}

/* wgate_endpoints: addresses in order of preference; "" removes them. */
static int parse_endpoints(struct peer_op *peer, char *value)
{
	char *item;

	if (peer->has_endpoints)
		return -EINVAL;
	peer->has_endpoints = true;
	if (!*value)
		return 0;
	peer->endpoints = calloc(PEER_ENDPOINTS_MAX, sizeof(*peer->endpoints));
	if (!peer->endpoints)
		return -ENOMEM;
	while ((item = strsep(&value, ","))) {
		if (peer->endpoints_len == PEER_ENDPOINTS_MAX ||
		    !parse_endpoint(item, &peer->endpoints[peer->endpoints_len++]))
			return -EINVAL;
	}
	return 0;
}

/*
 * How many lines of text begin with key, given as "\nkey=": a large
 * request's or answer's peers are counted first and get their array at once,
 * not grown (and copied) as they come.
 */
static size_t lines_starting(const char *text, size_t len, const char *key)
{
	size_t n = 0, key_len = strlen(key);
	const char *at = text, *end = text + len, *nl;

	if (len >= key_len - 1 && !memcmp(text, key + 1, key_len - 1))
		++n;
	/* line by line (memchr): a search of the rest (memmem) is checked whole by sanitizers */
	while ((nl = memchr(at, '\n', (size_t)(end - at)))) {
		if ((size_t)(end - nl) >= key_len && !memcmp(nl, key, key_len))
			++n;
		at = nl + 1;
	}
	return n;
}

/* One key=value line into op; 0 or a negative errno. */
static int parse_line(struct set_op *op, char *line)
{
	char *value = strchr(line, '=');
	struct peer_op *peer = op->peers_len ? &op->peers[op->peers_len - 1] : NULL;
	uint64_t n;

	if (!value)
		return -EPROTO;
	*value++ = '\0';
	if (!strcmp(line, "public_key")) {
		/* the old array is wiped as it grows: peers carry preshared keys */
		if (!crypto_grow_wiped((void **)&op->peers, &op->peers_cap, op->peers_len,
				       sizeof(*op->peers)))
			return -ENOMEM;
		peer = &op->peers[op->peers_len++];
		return key_from_hex(peer->public_key, value) ? 0 : -EINVAL;
	}
	if (!peer) {
		if (!strcmp(line, "private_key")) {
			op->has_private_key = true;
			return key_from_hex(op->private_key, value) ? 0 : -EINVAL;
		}
		if (!strcmp(line, "listen_port")) {
			if (!parse_uint(value, 65535, false, &n))
				return -EINVAL;
			op->has_listen_port = true;
			op->listen_port = (uint16_t)n;
			return 0;
		}
		if (!strcmp(line, "fwmark")) {
			if (!*value)
				n = 0;
			else if (!parse_uint(value, UINT32_MAX, false, &n))
				return -EINVAL;
			op->has_fwmark = true;
			op->fwmark = (uint32_t)n;
			return 0;
		}
		if (!strcmp(line, "replace_peers")) {
			op->replace_peers = !strcmp(value, "true");
			return op->replace_peers ? 0 : -EINVAL;
		}
		return -EPROTO;
	}
	bool *flag = !strcmp(line, "remove")		    ? &peer->remove
		     : !strcmp(line, "update_only")	    ? &peer->update_only
		     : !strcmp(line, "replace_allowed_ips") ? &peer->replace_allowed_ips
							    : NULL;
	if (flag) {
		if (strcmp(value, "true"))
			return -EINVAL;
		*flag = true;
		return 0;
	}
	if (!strcmp(line, "preshared_key")) {
		peer->has_preshared_key = true;
		return key_from_hex(peer->preshared_key, value) ? 0 : -EINVAL;
	}
	if (!strcmp(line, "endpoint")) {
		peer->has_endpoint = true;
		return parse_endpoint(value, &peer->endpoint) ? 0 : -EINVAL;
	}
	if (!strcmp(line, "persistent_keepalive_interval")) {
		if (!parse_uint(value, 65535, false, &n))
			return -EINVAL;
		peer->has_keepalive = true;
		peer->keepalive = (uint16_t)n;
		return 0;
	}
	if (!strcmp(line, "allowed_ip")) {
		struct allowed_ip_op *ip;

		/* reserved by set_parse from a count of these lines; grown should it fall short */
		if (!crypto_grow_wiped((void **)&op->ips, &op->ips_cap, op->ips_len,
				       sizeof(*op->ips)))
			return -ENOMEM;
		if (!peer->ips_len) /* a peer's lines come together: it is the last one */
			peer->ips_from = op->ips_len;
		ip = &op->ips[op->ips_len++];
		++peer->ips_len;
		ip->remove = value[0] == '-';
		return ip_prefix_parse(&ip->prefix, value + ip->remove, true) ? 0 : -EINVAL;
	}
	if (!strcmp(line, "protocol_version"))
		return !strcmp(value, "1") ? 0 : -EPROTONOSUPPORT;
	if (!strcmp(line, "wgate_name")) {
		if (peer->name || (*value && !peer_name_valid(value, false)))
			return -EINVAL;
		return (peer->name = strdup(value)) ? 0 : -ENOMEM;
	}
	if (!strcmp(line, "wgate_expires")) {
		if (peer->has_expires || !parse_uint(value, INT64_MAX, false, &n))
			return -EINVAL;
		peer->has_expires = true;
		peer->expires = (int64_t)n;
		return 0;
	}
	if (!strcmp(line, "wgate_next_public_key")) {
		if (peer->has_next_key)
			return -EINVAL;
		peer->has_next_key = true;
		return !*value || key_from_hex(peer->next_key, value) ? 0 : -EINVAL;
	}
	if (!strcmp(line, "wgate_rotation_deadline")) {
		if (peer->has_deadline || !parse_uint(value, INT64_MAX, false, &n))
			return -EINVAL;
		peer->has_deadline = true;
		peer->deadline = (int64_t)n;
		return 0;
	}
	if (!strcmp(line, "wgate_groups")) {
		if (peer->groups || !groups_valid(value))
			return -EINVAL;
		return (peer->groups = strdup(value)) ? 0 : -ENOMEM;
	}
	if (!strcmp(line, "wgate_endpoints"))
		return parse_endpoints(peer, value);
	if (!strcmp(line, "wgate_failover_ms") || !strcmp(line, "wgate_failback_ms")) {
		if (!parse_uint(value, 3600 * 1000, false, &n))
			return -EINVAL;
		*(line[8] == 'o' ? &peer->failover_ms : &peer->failback_ms) = (uint32_t)n;
		return 0;
	}
	if (!strcmp(line, "wgate_resolve_failed")) { /* counted: adds to the peer's */
		if (!parse_uint(value, UINT64_MAX, false, &n))
			return -EINVAL;
		peer->has_resolve_failures = true;
		peer->resolve_failures = n;
		return 0;
	}
	return -EPROTO;
}

/* Who the request being applied came from, for the audit lines (set during uapi_set). */
static struct {
	const char *via;
	long uid, pid;
} asker = {"control_socket", -1, -1};

/* "a,b,c" of the names whose flag is set; "" for none. */
static const char *field_list(char *out, size_t len, const char *const names[], const bool set[],
			      size_t count)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < count; ++i)
		if (set[i] && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
						 names[i]);
	return out;
}

/* The audit trail: what a control-socket request changed (never key material). */
static bool same_label(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Whether the op's AllowedIPs change what the peer (NULL: a new one) holds. */
static bool ips_change(const struct device *dev, const struct peer *peer, const struct peer_op *op)
{
	size_t held = 0, given = 0;

	if (!peer)
		return op->ips_len > 0;
	for (size_t i = 0; i < op->ips_len; ++i) {
		const struct ip_prefix *p = &op->ips[i].prefix;
		bool has = allowedips_owner_of(&dev->allowedips, p->family, &p->addr, p->cidr) ==
			   &peer->allowedips;

		if (op->ips[i].remove ? has : !has)
			return true;
		given += !op->ips[i].remove;
	}
	if (!op->replace_allowed_ips)
		return false;
	for (struct allowedips_node *it = NULL;;) {
		int family;
		uint8_t addr[16], cidr;

		if (!(it = allowedips_next(&peer->allowedips, it, &family, addr, &cidr)))
			break;
		++held;
	}
	return held != given; /* each given one is held: more held means some go */
}

/* Whether the op's endpoint list (or failover times) differ from the peer's. */
static bool endpoints_change(const struct peer *peer, const struct peer_op *op)
{
	const struct peer_endpoints *eps = peer ? peer->endpoints : NULL;
	size_t held = eps ? eps->count : 0;

	if (op->endpoints_len < 2 && held < 2)
		return false; /* one endpoint is the endpoint, audited as such */
	if (held != op->endpoints_len)
		return true;
	for (size_t i = 0; i < held; ++i)
		if (!sockaddr_equal(&eps->addr[i].remote, &op->endpoints[i]))
			return true;
	return (op->failover_ms && op->failover_ms != eps->failover_ns / NSEC_PER_MSEC) ||
	       (op->failback_ms && op->failback_ms != eps->failback_ns / NSEC_PER_MSEC);
}

/*
 * The audit trail: what a control-socket request changes (never key
 * material). Only real changes: a sync that sends a peer as it is says
 * nothing about it.
 */
static void audit_peer(const struct device *dev, const struct peer *peer, const struct peer_op *op,
		       const char *action)
{
	static const char *const names[] = {
	    "preshared_key", "endpoint", "persistent_keepalive", "allowed_ips",	      "name",
	    "groups",	     "expires",	 "next_public_key",	 "rotation_deadline", "endpoints"};
	bool removing = !strcmp(action, "peer_removed");
	bool set[] = {
	    op->has_preshared_key &&
		(!peer || peer->has_preshared_key != !crypto_is_zero(op->preshared_key, KEY_LEN) ||
		 !crypto_equal(peer->handshake.preshared_key, op->preshared_key, KEY_LEN)),
	    op->has_endpoint && (!peer || peer->endpoint.remote.sa.sa_family == AF_UNSPEC ||
				 !sockaddr_equal(&peer->endpoint.remote, &op->endpoint)),
	    op->has_keepalive && (!peer || peer->persistent_keepalive != op->keepalive),
	    ips_change(dev, peer, op),
	    op->name && (!peer || !same_label(peer->name, op->name)),
	    op->groups && (!peer || !same_label(peer->groups, op->groups)),
	    op->has_expires && (!peer || peer->expires != op->expires),
	    op->has_next_key &&
		(!peer || !peer->rotation ||
		 !crypto_equal(peer->rotation->public_key, op->next_key, KEY_LEN)) &&
		(peer ? peer->rotation != NULL || !crypto_is_zero(op->next_key, KEY_LEN)
		      : !crypto_is_zero(op->next_key, KEY_LEN)),
	    op->has_deadline &&
		(!peer || !peer->rotation || peer->rotation->deadline != op->deadline),
	    op->has_endpoints && endpoints_change(peer, op),
	};
	char key[KEY_BASE64_LEN + 1], fields[160];
	bool any = false;

	for (size_t i = 0; i < sizeof(set); ++i)
		any |= set[i];
	if (peer && !removing && !any)
		return; /* sent as it is: nothing changed */
	if (removing)
		memset(set, 0, sizeof(set));
	key_to_base64(key, op->public_key);
	field_list(fields, sizeof(fields), names, set, sizeof(set));
	log_info("event=audit via=%s action=%s peer=%s%s%s uid=%ld pid=%ld", asker.via, action, key,
		 *fields ? " fields=" : "", fields, asker.uid, asker.pid);
}

/*
 * Gives peer the prefix; one another peer held moves (WireGuard's rule), and
 * the audit trail and the log say which peer lost it.
 */
static bool take_prefix(struct device *dev, struct peer *peer, const struct ip_prefix *p)
{
	struct allowedips_owner *was =
	    allowedips_owner_of(&dev->allowedips, p->family, &p->addr, p->cidr);

	if (was && was != &peer->allowedips) {
		const struct peer *loser = container_of(was, struct peer, allowedips);
		char from[KEY_BASE64_LEN + 1], to[KEY_BASE64_LEN + 1], text[64];

		key_to_base64(from, loser->public_key);
		key_to_base64(to, peer->public_key);
		ip_prefix_format(p, text, sizeof(text));
		log_info("event=audit via=%s action=allowed_ip_moved prefix=%s from=%s "
			 "from_name=%s to=%s to_name=%s uid=%ld pid=%ld",
			 asker.via, text, from, loser->name ? loser->name : "-", to,
			 peer->name ? peer->name : "-", asker.uid, asker.pid);
	}
	return allowedips_insert(&dev->allowedips, p->family, &p->addr, p->cidr, &peer->allowedips);
}

/* A rotation's start, change or end; its keys were checked (check_rotations). */
static void apply_rotation(struct device *dev, struct peer *peer, const struct peer_op *op)
{
	char from[KEY_BASE64_LEN + 1], to[KEY_BASE64_LEN + 1];
	bool cancel = op->has_next_key && crypto_is_zero(op->next_key, KEY_LEN);
	const uint8_t *next = op->has_next_key ? op->next_key
			      : peer->rotation ? peer->rotation->public_key
					       : NULL;

	key_to_base64(from, peer->public_key);
	if (cancel || !next) {
		if (peer->rotation) {
			key_to_base64(to, peer->rotation->public_key);
			device_cancel_rotation(dev, peer);
			log_info("event=audit via=%s action=key_rotation_cancelled peer=%s "
				 "next_key=%s uid=%ld pid=%ld",
				 asker.via, from, to, asker.uid, asker.pid);
		}
		return;
	}
	key_to_base64(to, next);
	if (!device_rotate_peer(dev, peer, next,
				op->has_deadline ? op->deadline
				: peer->rotation ? peer->rotation->deadline
						 : 0)) {
		log_error("event=key_rotation_refused peer=%s next_key=%s", from, to);
		return;
	}
	log_info("event=audit via=%s action=key_rotation_started peer=%s next_key=%s "
		 "deadline=%lld uid=%ld pid=%ld",
		 asker.via, from, to, (long long)peer->rotation->deadline, asker.uid, asker.pid);
}

static int by_key(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, KEY_LEN);
}

/*
 * Whether each rotation asked for can start: its next key is neither the
 * peer's own, nor another peer's (current or next), nor ours, nor asked for
 * twice. A set that fails this changes nothing.
 */
static bool check_rotations(const struct device *dev, const struct set_op *op)
{
	const uint8_t **asked = NULL;
	size_t n = 0;
	bool ok = true;

	for (size_t i = 0; ok && i < op->peers_len; ++i) {
		const struct peer_op *p = &op->peers[i];
		struct peer *self, *owner;

		if (!p->has_next_key || p->remove || crypto_is_zero(p->next_key, KEY_LEN))
			continue;
		self = device_find_peer(dev, p->public_key);
		owner = device_find_peer(dev, p->next_key);
		if (crypto_equal(p->next_key, p->public_key, KEY_LEN) ||
		    (owner && (owner != self || !self->rotation ||
			       !crypto_equal(self->rotation->public_key, p->next_key, KEY_LEN))) ||
		    (dev->identity.has_identity &&
		     crypto_equal(p->next_key, dev->identity.static_public, KEY_LEN)))
			ok = false;
		if (!asked && !(asked = calloc(op->peers_len, sizeof(*asked))))
			return false;
		asked[n++] = p->next_key;
	}
	/* asked for twice: sorted, a repeat is next to its twin (n log n for a fleet's rotation) */
	if (ok && n > 1) {
		qsort(asked, n, sizeof(*asked), by_key);
		for (size_t i = 1; ok && i < n; ++i)
			ok = memcmp(asked[i - 1], asked[i], KEY_LEN) != 0;
	}
	free(asked);
	return ok;
}

static void apply_peer(struct device *dev, const struct peer_op *op, uint64_t now)
{
	struct peer *peer = device_find_peer(dev, op->public_key);

	if (op->remove) {
		if (peer) {
			audit_peer(dev, peer, op, "peer_removed");
			device_remove_peer(dev, peer);
		}
		return;
	}
	if (!peer && op->update_only)
		return;
	audit_peer(dev, peer, op, peer ? "peer_changed" : "peer_added");
	if (!peer) {
		peer = device_add_new_peer(dev, op->public_key);
		if (!peer)
			return; /* our own key is ignored, as the kernel does */
	}
	/* An unchanged key leaves a handshake in progress alone (wg syncconf resends keys). */
	if (op->has_preshared_key &&
	    (peer->has_preshared_key != !crypto_is_zero(op->preshared_key, KEY_LEN) ||
	     !crypto_equal(peer->handshake.preshared_key, op->preshared_key, KEY_LEN)))
		peer_set_preshared_key(peer, op->preshared_key);
	if (op->has_endpoint)
		peer_move_endpoint(peer, &op->endpoint, now);
	if (op->has_endpoints && !peer_set_endpoints(peer, op->endpoints, op->endpoints_len,
						     op->failover_ms, op->failback_ms, now))
		log_error("event=endpoints_not_set reason=out_of_memory");
	if (op->has_resolve_failures)
		peer->stats.resolve_failures += op->resolve_failures;
	if (op->replace_allowed_ips)
		allowedips_remove_owner(&dev->allowedips, &peer->allowedips);
	for (size_t i = 0; i < op->ips_len; ++i) {
		const struct ip_prefix *p = &op->ips[i].prefix;

		if (op->ips[i].remove)
			allowedips_remove(&dev->allowedips, p->family, &p->addr, p->cidr,
					  &peer->allowedips);
		else if (!take_prefix(dev, peer, p))
			return;
	}
	if (op->has_keepalive)
		peer_set_persistent_keepalive(peer, op->keepalive, now);
	if (op->has_expires)
		peer_set_expiry(peer, op->expires);
	if (op->has_next_key || op->has_deadline)
		apply_rotation(dev, peer, op);
	if ((op->name || op->groups) && !peer_set_identity(peer, op->name ? op->name : peer->name,
							   op->groups ? op->groups : peer->groups))
		log_error("event=identity_not_set reason=out_of_memory");
}

/* Who asks, for the audit trail, while a request (or a slice of one) is carried out. */
static void asker_set(const struct uapi_ops *ops)
{
	if (ops && ops->via)
		asker.via = ops->via, asker.uid = ops->uid, asker.pid = ops->pid;
}

static void asker_reset(void)
{
	asker.via = "control_socket", asker.uid = asker.pid = -1;
}

/*
 * Parses a set request's len bytes of text into op, cutting its lines in
 * place: text[len] must be writable too (the caller wipes it all). The
 * arrays are sized first from a count of their lines: a set of 100k peers
 * is 100k public_key lines, and as many allowed_ip lines or more.
 */
static int set_parse(char *text, size_t len, struct set_op *op)
{
	char *line = text, *end = text + len;
	int ret = 0;

	if (memchr(text, '\0', len))
		return -EINVAL;
	if (!crypto_reserve_wiped((void **)&op->peers, &op->peers_cap,
				  lines_starting(text, len, "\npublic_key="), sizeof(*op->peers)) ||
	    !crypto_reserve_wiped((void **)&op->ips, &op->ips_cap,
				  lines_starting(text, len, "\nallowed_ip="), sizeof(*op->ips)))
		return -ENOMEM;
	*end = '\0';
	while (!ret && line <= end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));

		if (!nl)
			nl = end;
		*nl = '\0';
		if (*line)
			ret = parse_line(op, line);
		line = nl + 1;
	}
	for (size_t i = 0; op->ips && i < op->peers_len; ++i) /* the array grows no more */
		op->peers[i].ips = op->ips + op->peers[i].ips_from;
	return ret;
}

/*
 * Parses (set_parse: text is cut in place) and checks a set request, then
 * makes its interface-wide changes (port, mark, private key,
 * replace_peers); the peers' changes are left in op for set_peers. 0 or a
 * negative errno: then nothing has changed. op is freed by the caller
 * (set_op_free) either way.
 */
static int set_start(struct device *dev, char *text, size_t len, const struct uapi_ops *ops,
		     struct set_op *op)
{
	bool changed[3];
	int ret = set_parse(text, len, op);

	if (!ret && !check_rotations(dev, op))
		ret = -EINVAL;
	if (ret)
		return ret;
	asker_set(ops);
	/* what really changes, for the audit trail (wg syncconf sends everything) */
	changed[0] =
	    op->has_private_key &&
	    (crypto_is_zero(op->private_key, KEY_LEN)
		 ? dev->identity.has_identity
		 : !dev->identity.has_identity ||
		       !crypto_equal(op->private_key, dev->identity.static_private, KEY_LEN));
	changed[1] = op->has_listen_port && op->listen_port != dev->listen_port;
	changed[2] = op->has_fwmark && op->fwmark != dev->fwmark;
	if ((op->has_listen_port || op->has_fwmark) && ops && ops->rebind) {
		/* the daemon binds, and records the port it got in dev->listen_port */
		ret =
		    ops->rebind(ops->ctx, op->has_listen_port ? op->listen_port : dev->listen_port,
				op->has_fwmark ? op->fwmark : dev->fwmark);
		if (ret)
			goto out;
	} else {
		if (op->has_listen_port)
			dev->listen_port = op->listen_port;
		if (op->has_fwmark)
			dev->fwmark = op->fwmark;
	}
	if (op->has_private_key &&
	    !device_set_private_key(
		dev, crypto_is_zero(op->private_key, KEY_LEN) ? NULL : op->private_key)) {
		ret = -EINVAL;
		goto out;
	}
	{
		static const char *const names[] = {"private_key", "listen_port", "fwmark"};
		char fields[64];

		if (changed[0] || changed[1] || changed[2])
			log_info(
			    "event=audit via=%s action=interface_changed fields=%s uid=%ld pid=%ld",
			    asker.via, field_list(fields, sizeof(fields), names, changed, 3),
			    asker.uid, asker.pid);
	}
	if (op->replace_peers) {
		log_info("event=audit via=%s action=peers_replaced removed=%zu uid=%ld pid=%ld",
			 asker.via, dev->peer_count, asker.uid, asker.pid);
		device_remove_all_peers(dev);
	}
out:
	asker_reset();
	return ret;
}

/* The peers' changes of a started set, [from, to). */
static void set_peers(struct device *dev, const struct set_op *op, const struct uapi_ops *ops,
		      size_t from, size_t to, uint64_t now)
{
	asker_set(ops);
	for (size_t i = from; i < to; ++i)
		apply_peer(dev, &op->peers[i], now);
	asker_reset();
}

int uapi_set(struct device *dev, const char *request, size_t len, const struct uapi_ops *ops,
	     uint64_t now)
{
	struct set_op op = {0};
	char *text = malloc(len + 1); /* set_start cuts its lines in place */
	int ret = text ? 0 : -ENOMEM;

	if (text) {
		memcpy(text, request, len);
		ret = set_start(dev, text, len, ops, &op);
		crypto_wipe(text, len + 1);
		free(text);
	}
	if (!ret)
		set_peers(dev, &op, ops, 0, op.peers_len, now);
	set_op_free(&op);
	return ret;
}

/* ---- the socket ---- */

bool uapi_state_parse(struct uapi_state *s, const char *answer)
{
	struct uapi_peer_state *peer = NULL;
	const char *line = answer;
	int status = -1;

	memset(s, 0, sizeof(*s));
	if (!crypto_reserve_wiped((void **)&s->peers, &s->peers_cap,
				  lines_starting(answer, strlen(answer), "\npublic_key="),
				  sizeof(*s->peers)))
		return false;
	while (*line) {
		const char *end = strchr(line, '\n'), *eq = strchr(line, '=');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char value[1024];

		if (eq && eq < line + len && (size_t)(line + len - eq - 1) < sizeof(value)) {
			size_t key_len = (size_t)(eq - line),
			       value_len = (size_t)(line + len - eq - 1);

			memcpy(value, eq + 1, value_len);
			value[value_len] = '\0';
#define KEY(k) (key_len == sizeof(k) - 1 && !memcmp(line, k, key_len))
			if (KEY("errno")) {
				status = atoi(value);
			} else if (KEY("private_key")) {
				s->has_private_key = key_from_hex(s->private_key, value) &&
						     !crypto_is_zero(s->private_key, KEY_LEN);
			} else if (KEY("listen_port")) {
				s->listen_port = (uint16_t)strtoul(value, NULL, 10);
			} else if (KEY("fwmark")) {
				s->fwmark = (uint32_t)strtoul(value, NULL, 10);
			} else if (KEY("public_key")) {
				if (!crypto_grow_wiped((void **)&s->peers, &s->peers_cap,
						       s->peers_len, sizeof(*s->peers)))
					goto fail;
				peer = &s->peers[s->peers_len++];
				if (!key_from_hex(peer->public_key, value))
					goto fail;
			} else if (peer && KEY("preshared_key")) {
				peer->has_preshared_key =
				    key_from_hex(peer->preshared_key, value) &&
				    !crypto_is_zero(peer->preshared_key, KEY_LEN);
			} else if (peer && KEY("endpoint")) {
				if (!parse_endpoint(value, &peer->endpoint))
					memset(&peer->endpoint, 0, sizeof(peer->endpoint));
			} else if (peer && KEY("persistent_keepalive_interval")) {
				peer->persistent_keepalive = (uint16_t)strtoul(value, NULL, 10);
			} else if (peer && KEY("wgate_expires")) {
				peer->expires = strtoll(value, NULL, 10);
			} else if (!peer && KEY("wgate_bad_mac1") &&
				   s->bad_mac_len < UAPI_BAD_MAC_SOURCES) {
				struct uapi_bad_mac *b = &s->bad_mac[s->bad_mac_len];
				char *comma = strchr(value, ',');

				if (comma && (size_t)(comma - value) < sizeof(b->from)) {
					memcpy(b->from, value, (size_t)(comma - value));
					b->from[comma - value] = '\0';
					if (sscanf(comma + 1, "%llu,%lld,%lld", &b->count,
						   &b->first, &b->last) == 3)
						++s->bad_mac_len;
				}
			} else if (peer && KEY("wgate_unanswered_initiations")) {
				peer->unanswered = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_unanswered_since")) {
				peer->unanswered_since = strtoll(value, NULL, 10);
			} else if (peer && KEY("wgate_cookie_replies")) {
				peer->cookie_replies = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_timestamps_refused")) {
				peer->timestamps_refused = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_allowedips_dropped")) {
				peer->allowedips_dropped = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_allowedips_drop_source")) {
				snprintf(peer->allowedips_drop_source,
					 sizeof(peer->allowedips_drop_source), "%.47s", value);
			} else if (peer && KEY("wgate_next_public_key")) {
				peer->has_next_key = key_from_hex(peer->next_public_key, value);
			} else if (peer && KEY("wgate_rotation_deadline")) {
				peer->rotation_deadline = strtoll(value, NULL, 10);
			} else if (peer && KEY("last_handshake_time_sec")) {
				peer->last_handshake = strtoll(value, NULL, 10);
			} else if (peer && KEY("rx_bytes")) {
				peer->rx_bytes = strtoull(value, NULL, 10);
			} else if (peer && KEY("tx_bytes")) {
				peer->tx_bytes = strtoull(value, NULL, 10);
			} else if (peer && (KEY("wgate_name") || KEY("wgate_groups"))) {
				char **to = KEY("wgate_name") ? &peer->name : &peer->groups;

				free(*to);
				if (!(*to = strdup(value)))
					goto fail;
			} else if (peer && KEY("wgate_endpoints")) {
				free(peer->endpoints);
				if (!(peer->endpoints = strdup(value)))
					goto fail;
			} else if (peer && KEY("wgate_failover_ms")) {
				peer->failover_ms = (unsigned)strtoul(value, NULL, 10);
			} else if (peer && KEY("wgate_failback_ms")) {
				peer->failback_ms = (unsigned)strtoul(value, NULL, 10);
			} else if (peer && KEY("wgate_endpoint_index")) {
				peer->endpoint_index = (unsigned)strtoul(value, NULL, 10);
			} else if (peer && KEY("wgate_failovers")) {
				peer->failovers = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_failbacks")) {
				peer->failbacks = strtoull(value, NULL, 10);
			} else if (peer && KEY("wgate_resolve_failures")) {
				peer->resolve_failures = strtoull(value, NULL, 10);
			} else if (peer && KEY("allowed_ip")) {
				if (!crypto_grow_wiped(
					(void **)&peer->allowed_ips, &peer->allowed_ips_cap,
					peer->allowed_ips_len, sizeof(*peer->allowed_ips)) ||
				    !ip_prefix_parse(&peer->allowed_ips[peer->allowed_ips_len++],
						     value, true))
					goto fail;
			}
#undef KEY
			crypto_wipe(value, value_len);
		}
		line += len + (end != NULL);
	}
	if (status == 0)
		return true;
fail:
	uapi_state_free(s);
	return false;
}

bool uapi_endpoints_text(const struct peer_config *pc, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < pc->endpoints_len; ++i) {
		char text[INET6_ADDRSTRLEN + 16];
		int n;

		if (pc->endpoints[i].addr.sa.sa_family == AF_UNSPEC)
			continue;
		sockaddr_format(&pc->endpoints[i].addr, text, sizeof(text));
		n = snprintf(out + used, len - used, "%s%s", used ? "," : "", text);
		if (n < 0 || (size_t)n >= len - used)
			return false;
		used += (size_t)n;
	}
	return true;
}

void uapi_put_endpoints(FILE *f, const struct peer_config *pc)
{
	char text[PEER_ENDPOINTS_MAX * (INET6_ADDRSTRLEN + 16)];

	if (pc->endpoints_len > 1) {
		if (uapi_endpoints_text(pc, text, sizeof(text)) && *text)
			fprintf(f,
				"wgate_endpoints=%s\nwgate_failover_ms=%u\nwgate_failback_ms=%u\n",
				text, pc->failover_ms, pc->failback_ms);
	} else if (peer_config_endpoint(pc)) {
		sockaddr_format(peer_config_endpoint(pc), text, sizeof(text));
		fprintf(f, "endpoint=%s\n", text);
	}
}

void uapi_state_free(struct uapi_state *s)
{
	for (size_t i = 0; i < s->peers_len; ++i) {
		free(s->peers[i].allowed_ips);
		free(s->peers[i].name);
		free(s->peers[i].groups);
		free(s->peers[i].endpoints);
	}
	if (s->peers)
		crypto_wipe(s->peers, s->peers_cap * sizeof(*s->peers));
	free(s->peers);
	crypto_wipe(s, sizeof(*s));
}

bool uapi_name_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len < IFNAMSIZ && strcmp(name, ".") && strcmp(name, "..") &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=+.-") == len;
}

int uapi_listen(struct uapi_server *server, const char *ifname, int fd, char *err, size_t err_len)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old_umask;
	int probe, *listen_fd = &server->conns.listen_fd;

	memset(server, 0, sizeof(*server));
	server->conns.listen_fd = -1;
	if (!uapi_name_valid(ifname)) {
		snprintf(err, err_len, "`%s' is not an interface name", ifname);
		return -EINVAL;
	}
	snprintf(server->path, sizeof(server->path), UAPI_SOCKET_DIR "/%s.sock", ifname);
	if (fd >= 0) {
		*listen_fd = fd;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (stat(server->path, &st) == 0)
			server->inode = st.st_ino;
		return 0;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", server->path);
	mkdir(UAPI_SOCKET_DIR, 0755);
	/* A socket file left by a dead process is replaced; a live one is not. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		close(probe);
		snprintf(err, err_len, "%s is in use: another process already controls `%s'",
			 server->path, ifname);
		*listen_fd = -1;
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(server->path);
	*listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*listen_fd < 0)
		goto fail;
	old_umask = umask(077);
	if (bind(*listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		umask(old_umask);
		goto fail;
	}
	umask(old_umask);
	if (listen(*listen_fd, 16) < 0 || stat(server->path, &st) < 0)
		goto fail;
	server->inode = st.st_ino;
	return 0;
fail:
	snprintf(err, err_len, "cannot listen on %s: %s", server->path, strerror(errno));
	if (*listen_fd >= 0)
		close(*listen_fd);
	*listen_fd = -1;
	return -errno;
}

struct uapi_job {
	struct set_op op;
	size_t next;	     /* the first peer not yet changed */
	uint64_t serial;     /* of the client's connection */
	struct uapi_ops ops; /* who asked, for the audit trail */
};

static void job_free(struct uapi_job *job)
{
	set_op_free(&job->op);
	free(job);
}

void uapi_close(struct uapi_server *server)
{
	struct stat st;

	if (server->job) { /* stopping: the rest of a set is not carried out */
		job_free(server->job);
		server->job = NULL;
	}
	conn_close_all(&server->conns);
	if (server->conns.listen_fd >= 0)
		close(server->conns.listen_fd);
	/* Remove the file only if it is still ours (the monitor's too: the child may have died). */
	if (server->inode && stat(server->path, &st) == 0 && st.st_ino == server->inode)
		unlink(server->path);
	server->conns.listen_fd = -1;
}

bool uapi_socket_present(const struct uapi_server *server)
{
	struct stat st;

	return stat(server->path, &st) == 0 && st.st_ino == server->inode;
}

static const enum uapi_view wg = UAPI_VIEW_WG, wgate = UAPI_VIEW_WGATE, config = UAPI_VIEW_CONFIG;

/* Answers a get (in view) or, view NULL, a set with its status. */
static void respond(struct conn *c, const struct device *dev, const enum uapi_view *view,
		    int status)
{
	struct secret_stream out; /* a get answer carries the keys */
	FILE *f = secret_stream_open(&out);
	char *text;
	size_t len;

	if (!f)
		return;
	if (view && !status)
		uapi_get(dev, f, *view);
	fprintf(f, "errno=%d\n\n", status);
	text = secret_stream_close(&out, &len);
	if (text)
		conn_queue(c, text, len);
}

static size_t slice_of(const struct uapi_server *server)
{
	return server->slice_peers ? server->slice_peers : UAPI_SLICE_PEERS;
}

/*
 * Answers a set request or, when it has more than a slice of peers and
 * nothing failed, starts it as the server's job, answered when uapi_continue
 * has done its last slice. request is in c's input, cut in place (and wiped
 * with it when consumed); request[len] is the last line's end.
 */
static void set_or_start(struct uapi_server *server, struct conn *c, struct device *dev,
			 char *request, size_t len, const struct uapi_ops *ops, uint64_t now)
{
	struct uapi_job *job;
	struct set_op op = {0};
	int ret = set_start(dev, request, len, ops, &op);

	if (!ret && op.peers_len > slice_of(server) && !server->job &&
	    (job = calloc(1, sizeof(*job)))) {
		job->op = op;
		job->serial = c->serial;
		if (ops)
			job->ops = *ops;
		job->ops.ctx = NULL, job->ops.rebind = NULL; /* only the start binds */
		server->job = job;
		c->busy = true;
		return;
	}
	if (!ret)
		set_peers(dev, &op, ops, 0, op.peers_len, now);
	set_op_free(&op);
	respond(c, dev, NULL, ret);
}

bool uapi_busy(const struct uapi_server *server)
{
	return server->job != NULL;
}

struct conn *uapi_continue(struct uapi_server *server, struct device *dev, uint64_t now)
{
	struct uapi_job *job = server->job;
	size_t slice = slice_of(server), to;
	struct conn *c = NULL;

	if (!job)
		return NULL;
	to = job->op.peers_len - job->next < slice ? job->op.peers_len : job->next + slice;
	set_peers(dev, &job->op, &job->ops, job->next, to, now);
	job->next = to;
	if (job->next < job->op.peers_len)
		return NULL;
	for (size_t i = 0; i < server->conns.len; ++i)
		if (server->conns.conns[i].serial == job->serial)
			c = &server->conns.conns[i];
	server->job = NULL;
	job_free(job);
	if (c) { /* still there: answered now */
		c->busy = false;
		respond(c, dev, NULL, 0);
		conn_flush(c, now);
	}
	return c;
}

bool uapi_serve(struct uapi_server *server, struct conn *c, struct device *dev,
		const struct uapi_ops *ops, uint32_t events, uint64_t now)
{
	if (c->busy)
		return true; /* its set is being carried out: heard from when it is done */
	if (events & EPOLLOUT && conn_flush(c, now))
		return true; /* still answering: the next request waits, unread */
	if (c->broken ||
	    (!conn_pending(c) && !c->in_closed && events & (EPOLLIN | EPOLLHUP | EPOLLERR) &&
	     conn_read(c, MAX_REQUEST, now) == CONN_ERROR)) {
		conn_close(&server->conns, c);
		return false;
	}
	/* One request at a time: a first line, then lines up to an empty one. */
	while (!conn_pending(c) && !c->broken && !c->busy) {
		/* from where the last look stopped: a large request arrives in many reads */
		size_t from = c->scanned ? c->scanned - 1 : 0;
		char *end = c->in_len >= from + 2
				? memmem(c->in + from, c->in_len - from, "\n\n", 2)
				: NULL;
		size_t used;

		if (!end) {
			c->scanned = c->in_len;
			break;
		}
		used = (size_t)(end - c->in) + 2;
		c->scanned = 0;
		if (!strncmp(c->in, "get=1\n", 6) && used == 7)
			respond(c, dev, &wg, 0);
		else if (!strncmp(c->in, "get=wgate\n", 10) && used == 11)
			respond(c, dev, &wgate, 0);
		else if (!strncmp(c->in, "get=wgate_config\n", 17) && used == 18)
			respond(c, dev, &config, 0);
		else if (!strncmp(c->in, "set=1\n", 6))
			set_or_start(server, c, dev, c->in + 6, used - 7, ops, now);
		else
			respond(c, dev, NULL, -EPROTO);
		conn_consume(c, used);
		conn_flush(c, now);
	}
	/* A client that has said all it will say is answered, then let go. */
	if (!c->broken && (conn_pending(c) || !c->in_closed || c->busy))
		return true;
	conn_close(&server->conns, c);
	return false;
}

/*
 * Moves the call on until its request is sent (whole) or its answer is in
 * (finish): sends, reads, and serves the side channel; 0 or an errno.
 */
static int call_pump(struct uapi_call *call, bool finish)
{
	char buf[16384];
	int saved = 0;

	while (finish ? !call->complete : call->done < call->len) {
		struct pollfd fds[2] = {
		    {.fd = call->fd, .events = POLLIN | (call->done < call->len ? POLLOUT : 0)},
		    {.fd = call->side, .events = POLLIN}};
		ssize_t n;
		int ready = poll(fds, call->side >= 0 ? 2 : 1, call->timeout_ms);

		if (ready <= 0) {
			if (ready < 0 && errno == EINTR)
				continue;
			saved = ready ? errno : ETIMEDOUT;
			break;
		}
		if (call->side >= 0 && fds[1].revents & (POLLIN | POLLHUP) &&
		    !call->serve(call->side)) {
			saved = EPIPE;
			break;
		}
		if (fds[0].revents & POLLOUT && call->done < call->len) {
			n = send(call->fd, call->request + call->done, call->len - call->done,
				 MSG_NOSIGNAL);
			if (n < 0) {
				saved = errno;
				break;
			}
			call->done += (size_t)n;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(call->fd, buf, sizeof(buf));
			if (n <= 0) {
				saved = n ? errno : EPIPE;
				break;
			}
			fwrite(buf, 1, (size_t)n, call->answer.file);
			/* The response ends with its errno line and an empty line. */
			call->complete =
			    call->answer.len >= 2 &&
			    !memcmp(call->answer.data + call->answer.len - 2, "\n\n", 2) &&
			    strstr(call->answer.data, "errno=");
		}
	}
	crypto_wipe(buf, sizeof(buf));
	return saved;
}

int uapi_call_start(struct uapi_call *call, const char *ifname, const char *request, int side,
		    bool (*serve)(int side), int timeout_ms)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int saved;

	memset(call, 0, sizeof(*call));
	call->fd = -1;
	if (!uapi_name_valid(ifname))
		return EINVAL;
	snprintf(addr.sun_path, sizeof(addr.sun_path), UAPI_SOCKET_DIR "/%s.sock", ifname);
	call->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (call->fd < 0 || connect(call->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    !secret_stream_open(&call->answer)) {
		saved = errno ? errno : EIO;
		if (call->fd >= 0)
			close(call->fd);
		call->fd = -1;
		return saved;
	}
	call->request = request;
	call->len = strlen(request);
	call->side = side;
	call->serve = serve;
	call->timeout_ms = timeout_ms;
	saved = call_pump(call, false);
	if (saved)
		uapi_call_end(call);
	return saved;
}

char *uapi_call_finish(struct uapi_call *call)
{
	int saved = call->fd >= 0 ? call_pump(call, true) : EBADF;

	if (call->complete) {
		close(call->fd);
		call->fd = -1;
		return secret_stream_close(&call->answer, NULL);
	}
	uapi_call_end(call);
	errno = saved ? saved : EPROTO;
	return NULL;
}

void uapi_call_end(struct uapi_call *call)
{
	char *text;

	if (call->fd < 0)
		return;
	close(call->fd);
	call->fd = -1;
	text = secret_stream_close(&call->answer, NULL);
	if (text) {
		crypto_wipe(text, strlen(text));
		free(text);
	}
}

char *uapi_request_serving(const char *ifname, const char *request, int side,
			   bool (*serve)(int side), int timeout_ms)
{
	struct uapi_call call;
	int ret = uapi_call_start(&call, ifname, request, side, serve, timeout_ms);

	if (ret) {
		errno = ret;
		return NULL;
	}
	return uapi_call_finish(&call);
}

char *uapi_request(const char *ifname, const char *request)
{
	return uapi_request_serving(ifname, request, -1, NULL, -1);
}

char *uapi_request_identity(const char *ifname)
{
	char *answer = uapi_request(ifname, "get=wgate\n\n");

	if (answer && strstr(answer, "errno=") && !strstr(answer, "errno=0\n")) {
		free(answer); /* holds no keys: the request failed */
		answer = uapi_request(ifname, "get=1\n\n");
	}
	return answer;
}
