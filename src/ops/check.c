// SPDX-License-Identifier: MIT
/* The checks of wgate check: see check.h. */
#include "ops/check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/policy.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/hashindex.h"

enum {
	OVERHEAD_V4 = 20 + 8 + 32, /* outer IPv4 and UDP headers, WireGuard's header and tag */
	OVERHEAD_V6 = 40 + 8 + 32,
	STALE_HANDSHAKE = 180, /* seconds: REJECT_AFTER_TIME, when a session is useless */
	SOON = 7 * 24 * 3600,  /* an expiry this close is worth a word */
	NESTED_SAID = 20,      /* nested AllowedIPs named one by one, then counted */
	SAME_SAID = 20,	       /* the same for AllowedIPs two peers claim */
};

const char *check_severity_name(enum check_severity s)
{
	return s == CHECK_ERROR ? "error" : s == CHECK_WARNING ? "warning" : "notice";
}

void findings_free(struct findings *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

size_t findings_count(const struct findings *f, enum check_severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < f->len; ++i)
		n += f->v[i].severity == s;
	return n;
}

static void peer_label(char out[72], const struct peer_config *p)
{
	if (p && p->name) {
		snprintf(out, 72, "%s", p->name);
	} else if (p) {
		char key[KEY_BASE64_LEN + 1];

		key_to_base64(key, p->public_key);
		snprintf(out, 72, "%s", key);
	} else {
		out[0] = '\0';
	}
}

/* Adds a finding; what and fix are printf formats (fix after what's arguments: see callers). */
__attribute__((format(printf, 6, 7))) static struct finding *
say(struct findings *out, const char *code, enum check_severity severity,
    const struct peer_config *peer, unsigned line, const char *what, ...)
{
	struct finding *f;
	va_list ap;

	if (out->len == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct finding *more = realloc(out->v, cap * sizeof(*more));

		if (!more) {
			out->failed = true;
			return NULL;
		}
		out->v = more;
		out->cap = cap;
	}
	f = &out->v[out->len++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->severity = severity;
	f->line = peer && !line ? peer->line : line;
	f->file = peer && !line ? peer->file : NULL;
	peer_label(f->peer, peer);
	va_start(ap, what);
	vsnprintf(f->what, sizeof(f->what), what, ap);
	va_end(ap);
	return f;
}

__attribute__((format(printf, 2, 3))) static void fix(struct finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vsnprintf(f->fix, sizeof(f->fix), fmt, ap);
	va_end(ap);
}

/* A gateway serves several peers, or listens for peers it has no endpoint for. */
static bool gateway_side(const struct config *c)
{
	if (c->peers_len > 1)
		return true;
	return c->has_listen_port && c->peers_len == 1 && !peer_config_endpoint(&c->peers[0]);
}

static void prefix_text(const struct ip_prefix *p, char *out, size_t len)
{
	ip_prefix_format(p, out, len);
}

static bool prefixes_overlap(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return ip_prefix_contains(a, b) || ip_prefix_contains(b, a);
}

static struct ip_prefix host_prefix(const union sockaddr_any *sa)
{
	struct ip_prefix p = {.family = sa->sa.sa_family};

	if (p.family == AF_INET) {
		p.cidr = 32;
		p.addr.v4 = sa->v4.sin_addr;
	} else {
		p.cidr = 128;
		p.addr.v6 = sa->v6.sin6_addr;
	}
	return p;
}

/* ---- keys ---- */

static void check_file(const struct check_facts *facts, struct findings *out)
{
	struct finding *f;

	if (!facts->have_stat)
		return;
	if (facts->mode & 077) {
		f = say(out, "file-mode", facts->mode & 007 ? CHECK_ERROR : CHECK_WARNING, NULL, 0,
			"%s is mode %04o: %s can read the private and preshared keys in it",
			facts->path, (unsigned)(facts->mode & 07777),
			facts->mode & 007 ? "every user" : "its group");
		fix(f, "chmod 600 %s", facts->path);
	}
	if (facts->uid != 0) {
		f = say(out, "file-owner", CHECK_WARNING, NULL, 0,
			"%s belongs to uid %u, not root: that user can change the keys and the "
			"PreUp/PostUp hooks, which run as root",
			facts->path, (unsigned)facts->uid);
		fix(f, "chown root: %s", facts->path);
	}
}

/* PeerDirectory's files hold preshared keys too. */
static void check_peer_files(const struct config *c, const struct check_facts *facts,
			     struct findings *out)
{
	for (size_t i = 0; facts->peer_file_modes && i < c->peer_files.len; ++i) {
		mode_t mode = facts->peer_file_modes[i];
		const char *path = c->peer_files.v[i];
		bool secrets = false;
		struct finding *f;

		if (!(mode & 077))
			continue;
		for (size_t k = 0; k < c->peers_len && !secrets; ++k)
			secrets = c->peers[k].file == path && c->peers[k].has_preshared_key;
		if (!secrets)
			continue;
		f = say(out, "peer-file-mode", mode & 007 ? CHECK_ERROR : CHECK_WARNING, NULL, 0,
			"%s (PeerDirectory) is mode %04o: %s can read the preshared keys in it",
			path, (unsigned)(mode & 07777), mode & 007 ? "every user" : "its group");
		fix(f, "chmod 600 %s (and have what writes it keep that mode)", path);
	}
}

/* Keys of a fleet's endpoints that cannot do what they say. */
static void check_endpoints(const struct config *c, struct findings *out)
{
	bool names = false;
	struct finding *f;

	for (size_t i = 0; i < c->peers_len; ++i) {
		const struct peer_config *p = &c->peers[i];

		names |= peer_config_has_names(p);
		if ((p->failover_ms || p->failback_ms) && p->endpoints_len < 2) {
			f = say(
			    out, "failover-one-endpoint", CHECK_NOTICE, p, 0,
			    "FailoverAfter or FailbackAfter on a peer with %s endpoint: there is "
			    "nothing to fail over to",
			    p->endpoints_len ? "one" : "no");
			fix(f, "list the other gateway nodes in Endpoint (in order of preference), "
			       "or remove the key");
		}
	}
	if (names && c->has_resolve_interval && !c->resolve_interval) {
		f = say(out, "resolve-off", CHECK_NOTICE, NULL, 0,
			"ResolveInterval = off: the endpoints' names are resolved only at up and "
			"reload, so a gateway that moves to a new address is followed only then");
		fix(f, "remove ResolveInterval (60 s) or set one");
	}
}

/* A key in use for longer than KeyMaxAge (the guide: rotate keys periodically). */
static void check_key_age(const struct config *c, const struct check_facts *facts,
			  const uint8_t *key, const struct peer_config *peer, struct findings *out)
{
	struct finding *f;

	if (!c->key_max_age)
		return;
	for (size_t i = 0; i < facts->key_ages_len; ++i) {
		int64_t age = facts->now - facts->key_ages[i].since;

		if (!crypto_equal(facts->key_ages[i].public_key, key, KEY_LEN) ||
		    age <= c->key_max_age)
			continue;
		f = say(out, "key-age", CHECK_WARNING, peer, 0,
			"%s key has been in use for %lld days, past KeyMaxAge (%lld days)",
			peer ? "its" : "the interface's", (long long)(age / 86400),
			(long long)(c->key_max_age / 86400));
		if (peer)
			fix(f, "wgate peer rotate %s", peer->name ? peer->name : "<peer>");
		else
			fix(f, "a new PrivateKey (wgate genkey), and its public key on every peer");
		return;
	}
}

static void check_keys(const struct config *c, const struct check_facts *facts,
		       struct findings *out)
{
	uint8_t own[KEY_LEN];
	bool have_own = c->has_private_key && x25519_public(own, c->private_key);
	struct finding *f;

	if (!c->has_private_key) {
		f = say(out, "no-private-key", CHECK_NOTICE, NULL, 0,
			"no PrivateKey: the interface cannot handshake until one is set");
		fix(f, "add PrivateKey = $(wgate genkey) to [Interface]");
	}
	for (size_t i = 0; have_own && i < facts->others_len; ++i) {
		if (!crypto_equal(facts->others[i].public_key, own, KEY_LEN))
			continue;
		f = say(out, "shared-private-key", CHECK_ERROR, NULL, 0,
			"the PrivateKey is also %s's: one key per host or container (the guide), "
			"or a stolen copy impersonates both",
			facts->others[i].name);
		fix(f, "give this interface its own key (wgate genkey) and its peers the new "
		       "public key");
	}
	if (have_own)
		check_key_age(c, facts, own, NULL, out);
	for (size_t i = 0; i < c->peers_len; ++i) {
		const struct peer_config *p = &c->peers[i];

		check_key_age(c, facts, p->public_key, p, out);
		if (have_own && crypto_equal(p->public_key, own, KEY_LEN)) {
			f = say(out, "own-key-peer", CHECK_WARNING, p, 0,
				"this [Peer] has the interface's own public key: it is ignored, as "
				"the kernel ignores it");
			fix(f, "remove it, or put the other side's public key there");
		}
		if (!p->has_preshared_key) {
			f = say(
			    out, "no-preshared-key", CHECK_WARNING, p, 0,
			    "no PresharedKey: the guide's hardening checklist wants one per peer, "
			    "against future quantum or implementation attacks");
			fix(f, "PresharedKey = $(wgate genpsk), the same on both sides");
		}
	}
}

/* ---- addressing and routing ---- */

struct owned_prefix {
	struct ip_prefix prefix; /* its network */
	size_t peer;
};

static int by_network(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;
	int d = x->prefix.family - y->prefix.family;

	if (d)
		return d;
	d = memcmp(&x->prefix.addr, &y->prefix.addr,
		   x->prefix.family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr));
	if (d)
		return d;
	if (x->prefix.cidr != y->prefix.cidr)
		return x->prefix.cidr < y->prefix.cidr ? -1 : 1;
	return x->peer < y->peer ? -1 : x->peer > y->peer;
}

/*
 * The same prefix in two peers (the later takes it: an error), and a peer's
 * prefix inside another's (longest prefix wins: a notice, as it may be meant).
 * Sorted by network, then length, a sweep with a stack of the prefixes still
 * open finds both in n log n.
 */
void check_allowedips(const struct config *c, struct findings *out)
{
	struct owned_prefix *all, **open;
	size_t n = 0, depth = 0, nested = 0, same = 0;
	char a[64], b[64];

	for (size_t i = 0; i < c->peers_len; ++i)
		n += c->peers[i].allowed_ips_len;
	if (!n)
		return;
	all = calloc(n, sizeof(*all));
	open = calloc(n, sizeof(*open));
	if (!all || !open) {
		free(all);
		free(open);
		out->failed = true;
		return;
	}
	n = 0;
	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j)
			all[n++] = (struct owned_prefix){
			    ip_prefix_network(&c->peers[i].allowed_ips[j]), i};
	qsort(all, n, sizeof(*all), by_network);
	for (size_t i = 0; i < n; ++i) {
		const struct owned_prefix *cur = &all[i];

		while (depth && !ip_prefix_contains(&open[depth - 1]->prefix, &cur->prefix))
			--depth;
		if (depth) {
			const struct owned_prefix *outer = open[depth - 1];
			const struct peer_config *p = &c->peers[cur->peer],
						 *q = &c->peers[outer->peer];
			bool equal = outer->prefix.cidr == cur->prefix.cidr;
			char who[72];

			/* a peer's own nesting changes nothing; the rest is named, up to a count */
			if (outer->peer != cur->peer &&
			    (equal ? same++ < SAME_SAID : nested++ < NESTED_SAID)) {
				struct finding *f;

				peer_label(who, q);
				prefix_text(&cur->prefix, a, sizeof(a));
				prefix_text(&outer->prefix, b, sizeof(b));
				if (equal) {
					f = say(
					    out, "allowedips-same", CHECK_ERROR, p, 0,
					    "AllowedIPs %s is also the [Peer] %s's (line %u): "
					    "WireGuard gives an address to one peer only, so this "
					    "later one takes it and %s loses it",
					    a, who, q->line, who);
					fix(f, "give each peer its own addresses");
				} else {
					f = say(
					    out, "allowedips-nested", CHECK_NOTICE, p, 0,
					    "AllowedIPs %s lies inside %s of the [Peer] %s (line "
					    "%u): packets to %s go to this peer, the rest of %s to "
					    "%s",
					    a, b, who, q->line, a, b, who);
					fix(f, "if that is not meant, narrow %s", b);
				}
			}
		}
		open[depth++] = &all[i];
	}
	if (same > SAME_SAID) {
		struct finding *f =
		    say(out, "allowedips-same", CHECK_ERROR, NULL, 0,
			"%zu more AllowedIPs are also an earlier peer's, which loses them",
			same - SAME_SAID);
		fix(f, "give each peer its own addresses");
	}
	if (nested > NESTED_SAID)
		say(out, "allowedips-nested", CHECK_NOTICE, NULL, 0,
		    "%zu more AllowedIPs lie inside another peer's", nested - NESTED_SAID);
	free(all);
	free(open);
}

static bool table_is_auto(const struct config *c)
{
	return !c->table || !strcasecmp(c->table, "auto");
}

static void check_routes(const struct config *c, const struct check_facts *facts,
			 struct findings *out)
{
	bool gateway = gateway_side(c);
	char a[64], b[64];
	struct finding *f;

	for (size_t i = 0; i < c->peers_len; ++i) {
		const struct peer_config *p = &c->peers[i];
		static const union sockaddr_any none;
		const union sockaddr_any *ep =
		    peer_config_endpoint(p) ? peer_config_endpoint(p) : &none;

		for (size_t j = 0; j < p->allowed_ips_len; ++j) {
			const struct ip_prefix *ip = &p->allowed_ips[j];

			prefix_text(ip, a, sizeof(a));
			if (ip->cidr == 0 && gateway) {
				f = say(
				    out, "allowedips-default-route", CHECK_WARNING, p, 0,
				    "AllowedIPs %s on a gateway's peer: the gateway sends all its "
				    "%s traffic to this peer, as a full-tunnel client would",
				    a, ip->family == AF_INET ? "IPv4" : "IPv6");
				fix(f,
				    "give the peer its own tunnel address(es) only (wgate peer add "
				    "does)");
			}
			if (ep->sa.sa_family == ip->family) {
				struct ip_prefix host = host_prefix(ep);

				if (ip_prefix_contains(ip, &host) &&
				    !(ip->cidr == 0 && table_is_auto(c))) {
					sockaddr_format(ep, b, sizeof(b));
					f = say(
					    out, "allowedips-cover-endpoint", CHECK_ERROR, p, 0,
					    "AllowedIPs %s holds the peer's own endpoint %s: the "
					    "encrypted packets to it would be routed into the "
					    "tunnel, "
					    "and the tunnel dies",
					    a, b);
					fix(f, "leave the endpoint's address out of AllowedIPs");
				}
			}
			if (ip->cidr == 0)
				continue; /* a full tunnel covers everything by design */
			for (size_t k = 0; k < facts->networks_len; ++k) {
				const struct host_network *net = &facts->networks[k];
				struct ip_prefix netp = ip_prefix_network(&net->prefix);

				if (!prefixes_overlap(ip, &netp))
					continue;
				prefix_text(&netp, b, sizeof(b));
				f = say(
				    out, "allowedips-cover-local", CHECK_WARNING, p, 0,
				    "AllowedIPs %s overlaps %s, the network of %s: routes through "
				    "the tunnel take over part of it",
				    a, b, net->ifname);
				fix(f, "use tunnel addresses that no other interface has");
			}
		}
	}
	for (size_t i = 0; i < c->addresses_len; ++i) {
		struct ip_prefix mine = ip_prefix_network(&c->addresses[i]);

		for (size_t k = 0; k < facts->networks_len; ++k) {
			struct ip_prefix netp = ip_prefix_network(&facts->networks[k].prefix);

			if (!prefixes_overlap(&mine, &netp))
				continue;
			prefix_text(&c->addresses[i], a, sizeof(a));
			prefix_text(&netp, b, sizeof(b));
			f = say(out, "address-overlap", CHECK_WARNING, NULL, 0,
				"Address %s overlaps %s, the network of %s: the tunnel and the "
				"underlay compete for those addresses",
				a, b, facts->networks[k].ifname);
			fix(f, "number the tunnel from a range the host does not use");
		}
	}
	if (c->table && (!strcasecmp(c->table, "local") || !strcmp(c->table, "255"))) {
		f = say(out, "table-local", CHECK_ERROR, NULL, 0,
			"Table = %s: the kernel's local table decides what is this host's own "
			"address; tunnel routes there break it",
			c->table);
		fix(f, "Table = auto, or a table of its own");
	}
	if (c->table && !strcasecmp(c->table, "off"))
		for (size_t i = 0; i < c->peers_len; ++i)
			for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j)
				if (c->peers[i].allowed_ips[j].cidr == 0) {
					f = say(out, "table-off-full-tunnel", CHECK_NOTICE,
						&c->peers[i], 0,
						"Table = off with a full-tunnel AllowedIPs: no "
						"route is added, nothing goes through the "
						"tunnel unless your hooks route it");
					fix(f, "Table = auto, unless PostUp routes it");
					j = c->peers[i].allowed_ips_len;
				}
	if (c->has_fwmark && c->fwmark && c->table && strtoul(c->table, NULL, 10) == c->fwmark) {
		f = say(out, "fwmark-table", CHECK_NOTICE, NULL, 0,
			"FwMark %u is also the routing table's number: a full tunnel's rules "
			"match the mark, so the two must not be chosen apart",
			c->fwmark);
		fix(f, "leave FwMark unset, or make sure it is meant");
	}
}

/* ---- MTU ---- */

static unsigned tunnel_mtu(const struct config *c)
{
	return c->has_mtu ? c->mtu : 1420;
}

static void check_mtu(const struct config *c, const struct check_facts *facts, struct findings *out)
{
	unsigned mtu = tunnel_mtu(c);
	bool said_default[2] = {false, false};
	struct finding *f;

	for (size_t i = 0; i < c->peers_len; ++i) {
		const struct peer_config *p = &c->peers[i];
		int fam =
		    peer_config_endpoint(p) ? peer_config_endpoint(p)->sa.sa_family : AF_UNSPEC;
		unsigned under = facts->endpoint_mtu ? facts->endpoint_mtu[i] : 0,
			 overhead = fam == AF_INET6 ? OVERHEAD_V6 : OVERHEAD_V4;

		if (fam == AF_UNSPEC || !under || under <= overhead || mtu + overhead <= under)
			continue;
		f = say(out, "mtu-underlay", CHECK_ERROR, p, 0,
			"MTU %u does not fit the underlay's route to the endpoint (MTU %u): "
			"tunnel packets over %u bytes need fragments or vanish",
			mtu, under, under - overhead);
		fix(f, "MTU = %u", under - overhead);
	}
	/* a gateway's peers come from anywhere: its default route is the underlay */
	for (int v = 0; gateway_side(c) && v < 2; ++v) {
		unsigned under = facts->default_mtu[v], overhead = v ? OVERHEAD_V6 : OVERHEAD_V4;

		if (!under || under <= overhead || mtu + overhead <= under || said_default[v])
			continue;
		said_default[v] = true;
		f = say(out, "mtu-underlay", CHECK_ERROR, NULL, 0,
			"MTU %u does not fit the underlay's default %s route (MTU %u): tunnel "
			"packets over %u bytes need fragments or vanish",
			mtu, v ? "IPv6" : "IPv4", under, under - overhead);
		fix(f, "MTU = %u", under - overhead);
	}
	if (c->has_mss_clamp && c->mss_clamp == 0 && facts->ip_forward && gateway_side(c)) {
		f = say(out, "mss-clamp-off", CHECK_NOTICE, NULL, 0,
			"MssClamp = 0 on a forwarding gateway: TCP through it depends on path MTU "
			"discovery, which filtered ICMP breaks");
		fix(f, "leave MssClamp unset (automatic)");
	}
}

/* ---- the firewall ---- */

static bool loopback_address(const char *address)
{
	return !strncmp(address, "127.", 4) || !strncmp(address, "[::1]", 5) ||
	       !strncmp(address, "localhost:", 10) || !strncmp(address, "unix:", 5);
}

static void check_firewall(const struct config *c, const struct check_facts *facts,
			   struct findings *out)
{
	bool gateway = gateway_side(c);
	struct finding *f;

	if (gateway && !c->listen_sources.len) {
		f = say(out, "listen-port-open", CHECK_NOTICE, NULL, 0,
			"the listen port takes datagrams from any address (the guide: limit it "
			"with a host firewall or security group)");
		fix(f, "ListenSources = the networks your peers come from");
	}
	if (gateway && !c->api_ports.len && facts->open_ports_len) {
		char ports[256] = "";
		size_t used = 0;

		for (size_t i = 0; i < facts->open_ports_len && used < sizeof(ports) - 8; ++i)
			used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%u",
						 i ? ", " : "", facts->open_ports[i]);
		f = say(out, "api-ports-open", CHECK_WARNING, NULL, 0,
			"TCP port%s %s listen%s on every address and no ApiPorts keeps %s to the "
			"tunnel: %s reachable from outside it",
			facts->open_ports_len > 1 ? "s" : "", ports,
			facts->open_ports_len > 1 ? "" : "s",
			facts->open_ports_len > 1 ? "them" : "it",
			facts->open_ports_len > 1 ? "they are" : "it is");
		fix(f, "ApiPorts = tcp/PORT for the gateway's ports (or bind them to the tunnel "
		       "address)");
	} else if (gateway && !c->api_ports.len) {
		f = say(out, "api-ports-unset", CHECK_NOTICE, NULL, 0,
			"no ApiPorts: the gateway's API ports are not kept to the tunnel by wgate; "
			"one that listens on every address is reachable from outside it");
		fix(f, "ApiPorts = tcp/443 (the ports your gateway serves)");
	}
	if (gateway && facts->ip_forward && !c->has_egress) {
		f = say(out, "forward-no-egress", CHECK_WARNING, NULL, 0,
			"the kernel forwards and there is no Egress: peers' packets go anywhere "
			"this host routes");
		fix(f, "Egress = the destinations peers may reach through the gateway");
	}
	if (c->masquerade.len && !facts->ip_forward) {
		f = say(out, "masquerade-unneeded", CHECK_WARNING, NULL, 0,
			"Masquerade is set but the kernel does not forward: it does nothing "
			"(the guide: MASQUERADE only when necessary)");
		fix(f, "remove Masquerade, or enable forwarding if peers should go out");
	} else if (c->masquerade.len && !c->has_egress) {
		f = say(out, "masquerade-unneeded", CHECK_NOTICE, NULL, 0,
			"Masquerade with no Egress: everything peers send out is masqueraded; "
			"the guide wants MASQUERADE only when necessary");
		fix(f, "Egress = what needs it");
	}
	if (gateway && c->peers_len && !config_tunnel_policy(c)) {
		f = say(out, "peers-unrestricted", CHECK_NOTICE, NULL, 0,
			"no Allow, Groups or Egress: every peer reaches whatever the gateway does "
			"(the guide: restrict what each peer can access)");
		fix(f, "Allow = per peer, or [Group] sections (wgate(8), GATEWAY KEYS)");
	}
	if (c->metrics_address && !loopback_address(c->metrics_address) && !config_has_policy(c)) {
		f = say(out, "metrics-exposed", CHECK_WARNING, NULL, 0,
			"MetricsAddress %s is not on loopback and no access policy guards it: "
			"anyone who reaches it reads the peers' names and traffic",
			c->metrics_address);
		fix(f, "MetricsAddress = 127.0.0.1:9586, or ManagementSources");
	}
}

/* ---- lifecycle ---- */

static void check_lifecycle(const struct config *c, int64_t now, struct findings *out)
{
	char when[32];
	struct finding *f;

	for (size_t i = 0; i < c->peers_len; ++i) {
		const struct peer_config *p = &c->peers[i];

		if (p->expires && p->expires <= now) {
			time_t t = (time_t)p->expires;

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			f = say(out, "peer-expired", CHECK_NOTICE, p, 0,
				"expired at %s: its handshakes are refused", when);
			fix(f, "wgate peer remove, or a later Expires");
		} else if (p->expires && p->expires - now < SOON) {
			time_t t = (time_t)p->expires;

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			f = say(out, "peer-expires-soon", CHECK_WARNING, p, 0,
				"expires at %s, in %lld hours", when,
				(long long)((p->expires - now) / 3600));
			fix(f, "a later Expires, if it should stay");
		}
		if (p->has_next_key && p->rotation_deadline && p->rotation_deadline <= now) {
			f = say(out, "rotation-overdue", CHECK_WARNING, p, 0,
				"a key rotation is past its RotationDeadline and not yet recorded");
			fix(f, "wgate reload the interface; the rotation is then written down");
		} else if (p->has_next_key) {
			f = say(
			    out, "rotation-pending", CHECK_NOTICE, p, 0,
			    "a key rotation waits for the client's first handshake with its new "
			    "key");
			fix(f, "give the client its new config; or wgate peer rotate --cancel");
		}
	}
}

void check_config(const struct config *config, const struct check_facts *facts,
		  struct findings *out)
{
	check_file(facts, out);
	check_peer_files(config, facts, out);
	check_keys(config, facts, out);
	check_endpoints(config, out);
	check_allowedips(config, out);
	check_routes(config, facts, out);
	check_mtu(config, facts, out);
	check_firewall(config, facts, out);
	check_lifecycle(config, facts->now, out);
}

/* ---- the running interface ---- */

static const void *public_key_of(const void *items, size_t pos)
{
	return ((const struct peer_config *)items)[pos].public_key;
}

static const void *next_key_of(const void *items, size_t pos)
{
	return ((const struct peer_config *)items)[pos].next_public_key;
}

static const void *running_key_of(const void *items, size_t pos)
{
	return ((const struct uapi_peer_state *)items)[pos].public_key;
}

/* An index of items by key; false when out of memory. */
static bool index_of(struct hash_index *h, const void *items, size_t n, hash_index_key_fn *key_of,
		     const struct peer_config *only_rotating)
{
	size_t found;

	if (!hash_index_init(h, n, KEY_LEN, key_of, items))
		return false;
	for (size_t i = 0; i < n; ++i)
		if ((!only_rotating || only_rotating[i].has_next_key) &&
		    !hash_index_add(h, i, &found)) {
			hash_index_free(h);
			return false;
		}
	return true;
}

static void utc(char out[32], long long t)
{
	time_t tt = (time_t)t;

	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
}

static bool has_network(const struct ip_prefix *list, size_t n, const struct ip_prefix *p)
{
	struct ip_prefix want = ip_prefix_network(p);

	for (size_t i = 0; i < n; ++i) {
		struct ip_prefix have = ip_prefix_network(&list[i]);

		if (have.family == want.family && have.cidr == want.cidr &&
		    !memcmp(&have.addr, &want.addr, want.family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

/* The running peer's AllowedIPs against the file's: a set, or a move to another peer. */
static void allowedips_drift(const struct peer_config *p, const struct uapi_peer_state *r,
			     struct findings *out)
{
	char text[64];
	struct finding *f;

	for (size_t i = 0; i < p->allowed_ips_len; ++i) {
		if (has_network(r->allowed_ips, r->allowed_ips_len, &p->allowed_ips[i]))
			continue;
		prefix_text(&p->allowed_ips[i], text, sizeof(text));
		f = say(out, "allowedips-drift", CHECK_WARNING, p, 0,
			"the config gives it %s, the running interface does not (another peer took "
			"it, or wgate set changed it)",
			text);
		fix(f, "wgate reload puts the file's AllowedIPs back");
	}
	for (size_t i = 0; i < r->allowed_ips_len; ++i) {
		if (has_network(p->allowed_ips, p->allowed_ips_len, &r->allowed_ips[i]))
			continue;
		prefix_text(&r->allowed_ips[i], text, sizeof(text));
		f = say(out, "allowedips-drift", CHECK_WARNING, p, 0,
			"the running interface gives it %s, the config does not", text);
		fix(f, "wgate reload, or write it into the config");
	}
}

/* What the daemon saw of a peer's handshakes, in a sentence each. */
static void why_no_handshake(const struct peer_config *p, const struct uapi_peer_state *r,
			     struct findings *out)
{
	char when[32], ep[64] = "no endpoint yet";
	struct finding *f;

	if (r->endpoint.sa.sa_family != AF_UNSPEC)
		sockaddr_format(&r->endpoint, ep, sizeof(ep));
	if (r->unanswered >= 3) {
		utc(when, r->unanswered_since);
		f = say(out, "handshake-unanswered", CHECK_ERROR, p, 0,
			"(%s): %llu initiations sent since %s, no response: the endpoint is wrong, "
			"its UDP port is filtered, or the peer knows this interface by another "
			"public key",
			ep, r->unanswered, when);
		fix(f, "check the Endpoint, that its UDP port is open on the way, and the "
		       "PublicKey the peer has for this interface");
	}
	if (r->timestamps_refused) {
		f = say(out, "handshake-timestamp", CHECK_WARNING, p, 0,
			"(%s): %llu initiations refused for an old timestamp: replayed by someone, "
			"or the peer's clock went back",
			ep, r->timestamps_refused);
		fix(f, "check the peer's clock (NTP); a restart with a correct clock recovers");
	}
	if (r->cookie_replies) {
		f = say(out, "handshake-cookie", CHECK_NOTICE, p, 0,
			"(%s): answered %llu times with a cookie: the peer was under load "
			"(handshakes then take a round trip more)",
			ep, r->cookie_replies);
		fix(f, "look at the peer's load and handshake rate");
	}
	if (r->allowedips_dropped) {
		f = say(out, "allowedips-dropped", CHECK_WARNING, p, 0,
			"%llu packets dropped: their source (latest %s) is not in the peer's "
			"AllowedIPs; it sends from an address it was not given",
			r->allowedips_dropped,
			*r->allowedips_drop_source ? r->allowedips_drop_source : "unknown");
		fix(f, "give the peer that address in AllowedIPs, or fix its Address");
	}
}

/* Sources whose handshake messages fail mac1: a wrong public key for this interface there. */
static void bad_macs(const struct config *c, const struct uapi_state *s, struct findings *out)
{
	uint8_t own[KEY_LEN];
	char ours[KEY_BASE64_LEN + 1] = "this interface's", when[32];

	if (c->has_private_key && x25519_public(own, c->private_key))
		key_to_base64(ours, own);
	for (size_t i = 0; i < s->bad_mac_len; ++i) {
		const struct uapi_bad_mac *b = &s->bad_mac[i];
		const struct peer_config *who = NULL;
		struct finding *f;

		for (size_t k = 0; k < s->peers_len && !who; ++k) {
			char ep[64];

			if (s->peers[k].endpoint.sa.sa_family == AF_UNSPEC)
				continue;
			sockaddr_format(&s->peers[k].endpoint, ep, sizeof(ep));
			if (!strcmp(ep, b->from))
				for (size_t j = 0; j < c->peers_len && !who; ++j)
					if (crypto_equal(c->peers[j].public_key,
							 s->peers[k].public_key, KEY_LEN))
						who = &c->peers[j];
		}
		utc(when, b->last);
		f = say(out, "handshake-bad-mac1", CHECK_ERROR, who, 0,
			"packets from %s fail mac1 (%llu, the latest at %s): the public key "
			"configured there for this interface is not %s",
			b->from, b->count, when, ours);
		fix(f, "set PublicKey = %s in that peer's config for this interface", ours);
	}
}

void check_running(const struct config *config, const struct check_live *live, struct findings *out)
{
	const struct uapi_state *s = live->state;
	unsigned mtu = tunnel_mtu(config);
	struct hash_index by_key, by_next, running;
	struct finding *f;

	if (!index_of(&by_key, config->peers, config->peers_len, public_key_of, NULL)) {
		out->failed = true;
		return;
	}
	if (!index_of(&by_next, config->peers, config->peers_len, next_key_of, config->peers)) {
		hash_index_free(&by_key);
		out->failed = true;
		return;
	}
	if (!index_of(&running, s->peers, s->peers_len, running_key_of, NULL)) {
		hash_index_free(&by_key);
		hash_index_free(&by_next);
		out->failed = true;
		return;
	}
	for (size_t i = 0; i < s->peers_len; ++i) {
		const struct uapi_peer_state *r = &s->peers[i];
		size_t at = hash_index_find(&by_key, r->public_key);
		const struct peer_config *p;
		struct peer_config anon = {0};

		if (at == HASH_INDEX_NONE)
			at = hash_index_find(&by_next, r->public_key);
		p = at == HASH_INDEX_NONE ? NULL : &config->peers[at];
		if (!p) {
			memcpy(anon.public_key, r->public_key, KEY_LEN);
			f = say(
			    out, "not-in-config", CHECK_WARNING, &anon, 0,
			    "the running interface has this peer, the config does not: a reload "
			    "would remove it");
			fix(f, "wgate reload, or add it to the config");
			continue;
		}
		if (p->expires && p->expires <= live->now)
			continue; /* said by peer-expired */
		if (!r->last_handshake) {
			f = say(out, "never-handshaked",
				r->persistent_keepalive ? CHECK_WARNING : CHECK_NOTICE, p, 0,
				"no handshake since the interface came up%s",
				r->persistent_keepalive ? ", though it sends keepalives" : "");
			fix(f, "check the keys on both sides, the endpoint and that its UDP port "
			       "is open");
		} else if (live->now - r->last_handshake > STALE_HANDSHAKE) {
			f = say(out, "handshake-stale",
				r->persistent_keepalive ? CHECK_WARNING : CHECK_NOTICE, p, 0,
				"the latest handshake was %lld s ago: its session is over%s",
				(long long)(live->now - r->last_handshake),
				r->persistent_keepalive
				    ? ", though keepalives should have renewed it: the other side "
				      "stopped answering"
				    : " (idle peers handshake only when there is traffic)");
			fix(f, "if it should be up: check that the peer runs, its endpoint and "
			       "firewall");
		}
		why_no_handshake(p, r, out);
		allowedips_drift(p, r, out);
		if (live->path_mtu && live->path_mtu[i]) {
			unsigned path = live->path_mtu[i];

			if (mtu + OVERHEAD_V4 > path && path > OVERHEAD_V4) {
				f = say(
				    out, "mtu-path", CHECK_ERROR, p, 0,
				    "the path to its endpoint carries %u bytes; tunnel packets of "
				    "MTU %u need %u: larger packets vanish",
				    path, mtu, mtu + OVERHEAD_V4);
				fix(f, "MTU = %u (IPv6 endpoints: %u)", path - OVERHEAD_V4,
				    path - OVERHEAD_V6);
			}
		}
	}
	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *p = &config->peers[i];
		bool found = hash_index_find(&running, p->public_key) != HASH_INDEX_NONE ||
			     (p->has_next_key &&
			      hash_index_find(&running, p->next_public_key) != HASH_INDEX_NONE);

		if (!found) {
			f = say(out, "not-running", CHECK_WARNING, p, 0,
				"in the config but not in the running interface");
			fix(f, "wgate reload");
		}
	}
	bad_macs(config, s, out);
	hash_index_free(&by_key);
	hash_index_free(&by_next);
	hash_index_free(&running);
}
