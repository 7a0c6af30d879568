// SPDX-License-Identifier: MIT
/*
 * wgate check's findings (ops/check.h), table-driven: for each code a config
 * and facts that trigger it, and a near miss that must not; the guide's own
 * gateway and client configs raise no error and no warning; the running
 * interface's checks on a made-up get answer.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include "config/config.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "ops/check.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
#define KEY_D "wPpS5sqCYMZxAvjZGOLpFZhBX9uHvhA0tH+TNidJIm4="
#define PSK   "SO7URdAsdfXDzZuhvQTRiZmSJsGG+f2M4g5Z+bcl6Bk="
#define NOW   1800000000

/* Facts a row changes from the quiet defaults. */
enum fact {
	F_NONE,
	F_MODE_644,
	F_MODE_640,
	F_OWNER,
	F_SHARED_KEY, /* another config with KEY_A as its private key */
	F_LAN,	      /* eth0 has 192.168.1.10/24 */
	F_MTU_1400,   /* the route to each endpoint and the default routes carry 1400 */
	F_FORWARD,
	F_KEY_AGES,   /* B's key in use for 100 days, the interface's for 10 */
	F_OPEN_PORTS, /* 8080 and 8443 listen on every address */
};

struct row {
	const char *name, *code;
	enum check_severity severity;
	enum fact fact;
	const char *hit, *miss; /* configs: the first raises code, the second does not */
};

#define GW     "[Interface]\nPrivateKey = " KEY_A "\nListenPort = 51820\nAddress = 10.10.0.1/24\n"
#define PEER_B "[Peer]\nName = b\nPublicKey = " KEY_B "\nPresharedKey = " PSK "\n"
#define PEER_C "[Peer]\nName = c\nPublicKey = " KEY_C "\nPresharedKey = " PSK "\n"
#define CLIENT "[Interface]\nPrivateKey = " KEY_A "\nAddress = 10.10.0.2/32\n"

static const struct row rows[] = {
    {"world-readable file", "file-mode", CHECK_ERROR, F_MODE_644, GW, NULL},
    {"group-readable file", "file-mode", CHECK_WARNING, F_MODE_640, GW, NULL},
    {"not root's", "file-owner", CHECK_WARNING, F_OWNER, GW, NULL},
    {"no private key", "no-private-key", CHECK_NOTICE, F_NONE, "[Interface]\nListenPort = 1\n", GW},
    {"shared private key", "shared-private-key", CHECK_ERROR, F_SHARED_KEY, GW,
     "[Interface]\nPrivateKey = " KEY_D "\n"},
    {"own key as a peer", "own-key-peer", CHECK_WARNING, F_NONE,
     GW "[Peer]\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\n", GW PEER_B},
    {"no preshared key", "no-preshared-key", CHECK_WARNING, F_NONE,
     GW "[Peer]\nPublicKey = " KEY_B "\nAllowedIPs = 10.10.0.2/32\n", GW PEER_B},
    {"the same prefix twice", "allowedips-same", CHECK_ERROR, F_NONE,
     GW PEER_B "AllowedIPs = 10.10.0.2/32\n" PEER_C "AllowedIPs = 10.10.0.2/32\n",
     GW PEER_B "AllowedIPs = 10.10.0.2/32\n" PEER_C "AllowedIPs = 10.10.0.3/32\n"},
    {"the same network written two ways", "allowedips-same", CHECK_ERROR, F_NONE,
     GW PEER_B "AllowedIPs = 10.20.0.0/16\n" PEER_C "AllowedIPs = 10.20.9.9/16\n", NULL},
    {"nested prefixes", "allowedips-nested", CHECK_NOTICE, F_NONE,
     GW PEER_B "AllowedIPs = 10.20.0.0/16\n" PEER_C "AllowedIPs = 10.20.1.0/24\n",
     GW PEER_B "AllowedIPs = 10.20.0.0/16, 10.20.1.0/24\n" PEER_C "AllowedIPs = 10.21.0.0/16\n"},
    {"a default route on a gateway's peer", "allowedips-default-route", CHECK_WARNING, F_NONE,
     GW PEER_B "AllowedIPs = 0.0.0.0/0\n" PEER_C "AllowedIPs = 10.10.0.3/32\n",
     CLIENT "[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n"},
    {"AllowedIPs holding the endpoint", "allowedips-cover-endpoint", CHECK_ERROR, F_NONE,
     CLIENT "[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 192.0.2.0/24\n",
     CLIENT "Table = auto\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n"},
    {"a full tunnel with Table = off holds its endpoint", "allowedips-cover-endpoint", CHECK_ERROR,
     F_NONE,
     CLIENT "Table = off\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n",
     NULL},
    {"AllowedIPs over the LAN", "allowedips-cover-local", CHECK_WARNING, F_LAN,
     GW PEER_B "AllowedIPs = 192.168.0.0/16\n", GW PEER_B "AllowedIPs = 192.169.0.0/16\n"},
    {"Address over the LAN", "address-overlap", CHECK_WARNING, F_LAN,
     "[Interface]\nPrivateKey = " KEY_A "\nAddress = 192.168.1.1/24\n", GW},
    {"Table = local", "table-local", CHECK_ERROR, F_NONE, GW "Table = local\n", GW "Table = 51\n"},
    {"MTU 9000 on a 1400 underlay", "mtu-underlay", CHECK_ERROR, F_MTU_1400,
     CLIENT "MTU = 9000\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.10.0.0/24\n",
     CLIENT "MTU = 1340\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.10.0.0/24\n"},
    {"a gateway's MTU over its default route", "mtu-underlay", CHECK_ERROR, F_MTU_1400,
     GW PEER_B PEER_C, GW "MTU = 1320\n" PEER_B PEER_C},
    {"the listen port open to all", "listen-port-open", CHECK_NOTICE, F_NONE, GW PEER_B PEER_C,
     GW "ListenSources = 192.0.2.0/24\n" PEER_B PEER_C},
    {"API ports open to every address", "api-ports-open", CHECK_WARNING, F_OPEN_PORTS,
     GW PEER_B PEER_C, GW "ApiPorts = tcp/8080, tcp/8443\n" PEER_B PEER_C},
    {"forwarding without Egress", "forward-no-egress", CHECK_WARNING, F_FORWARD, GW PEER_B PEER_C,
     GW "Egress = 10.20.0.0/16\n" PEER_B PEER_C},
    {"MASQUERADE without forwarding", "masquerade-unneeded", CHECK_WARNING, F_NONE,
     GW "Masquerade = eth0\nEgress = 0.0.0.0/0\n" PEER_B PEER_C, GW PEER_B PEER_C},
    {"metrics on every address, no policy", "metrics-exposed", CHECK_WARNING, F_NONE,
     GW "MetricsAddress = 0.0.0.0:9586\n" PEER_B, GW "MetricsAddress = 127.0.0.1:9586\n" PEER_B},
    {"an expiry within a week", "peer-expires-soon", CHECK_WARNING, F_NONE,
     GW PEER_B "Expires = 2027-01-16\n", GW PEER_B "Expires = 2027-03-01\n"},
    {"a key past KeyMaxAge", "key-age", CHECK_WARNING, F_KEY_AGES, GW "KeyMaxAge = 90d\n" PEER_B,
     GW "KeyMaxAge = 101d\n" PEER_B},
    {"failover settings with one endpoint", "failover-one-endpoint", CHECK_NOTICE, F_NONE,
     CLIENT "[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nFailoverAfter = 2s\nAllowedIPs = 10.10.0.0/24\n",
     CLIENT "[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820, 192.0.2.2:51820\nFailoverAfter = 2s\n"
	    "AllowedIPs = 10.10.0.0/24\n"},
    {"names never resolved again", "resolve-off", CHECK_NOTICE, F_NONE,
     CLIENT "ResolveInterval = off\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = gw.example.com:51820\nAllowedIPs = 10.10.0.0/24\n",
     CLIENT "ResolveInterval = off\n[Peer]\nPublicKey = " KEY_B "\nPresharedKey = " PSK
	    "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.10.0.0/24\n"},
    {"a rotation past its deadline", "rotation-overdue", CHECK_WARNING, F_NONE,
     GW PEER_B "NextPublicKey = " KEY_C "\nRotationDeadline = 2027-01-01\n",
     GW PEER_B "NextPublicKey = " KEY_C "\nRotationDeadline = 2027-02-01\n"},
};

static struct findings run(const char *text, enum fact fact)
{
	static const struct host_network lan = {.ifname = "eth0",
						.prefix = {.family = AF_INET, .cidr = 24}};
	struct host_network networks[1] = {lan};
	struct other_config other = {.name = "other.conf"};
	struct key_since ages[2];
	static const uint16_t open[2] = {8080, 8443};
	static unsigned mtus[16384];
	struct check_facts facts = {.have_stat = true,
				    .mode = 0100600,
				    .path = "t.conf",
				    .now = 1800000000 - 86400 * 2}; /* 2027-01-13 */
	struct findings out = {0};
	struct config c;
	char err[512];
	uint8_t priv[32];

	inet_pton(AF_INET, "192.168.1.10", &networks[0].prefix.addr.v4);
	if (!config_parse(&c, text, strlen(text), "t.conf", err, sizeof(err)))
		fail_msg("%s", err);
	switch (fact) {
	case F_MODE_644:
		facts.mode = 0100644;
		break;
	case F_MODE_640:
		facts.mode = 0100640;
		break;
	case F_OWNER:
		facts.uid = 1000;
		break;
	case F_SHARED_KEY:
		assert_true(key_from_base64(priv, KEY_A));
		assert_true(x25519_public(other.public_key, priv));
		facts.others = &other;
		facts.others_len = 1;
		break;
	case F_LAN:
		facts.networks = networks;
		facts.networks_len = 1;
		break;
	case F_MTU_1400:
		for (size_t i = 0; i < 16384; ++i)
			mtus[i] = 1400;
		facts.endpoint_mtu = mtus;
		facts.default_mtu[0] = facts.default_mtu[1] = 1400;
		break;
	case F_FORWARD:
		facts.ip_forward = true;
		break;
	case F_OPEN_PORTS:
		facts.open_ports = open;
		facts.open_ports_len = 2;
		break;
	case F_KEY_AGES:
		assert_true(key_from_base64(ages[0].public_key, KEY_B));
		ages[0].since = facts.now - 100 * 86400;
		assert_true(key_from_base64(priv, KEY_A));
		assert_true(x25519_public(ages[1].public_key, priv));
		ages[1].since = facts.now - 10 * 86400;
		facts.key_ages = ages;
		facts.key_ages_len = 2;
		break;
	case F_NONE:
		break;
	}
	assert_true(c.peers_len <= 16384);
	check_config(&c, &facts, &out);
	config_free(&c);
	assert_false(out.failed);
	return out;
}

static const struct finding *find(const struct findings *f, const char *code)
{
	for (size_t i = 0; i < f->len; ++i)
		if (!strcmp(f->v[i].code, code))
			return &f->v[i];
	return NULL;
}

static void each_check_hits_and_misses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
		const struct row *r = &rows[i];
		struct findings hit = run(r->hit, r->fact);
		const struct finding *f = find(&hit, r->code);

		if (!f)
			fail_msg("%s: no %s", r->name, r->code);
		if (f->severity != r->severity)
			fail_msg("%s: %s is %s", r->name, r->code,
				 check_severity_name(f->severity));
		assert_true(*f->what && *f->fix);
		findings_free(&hit);
		if (r->miss) {
			struct findings miss = run(r->miss, r->fact);

			if (find(&miss, r->code))
				fail_msg("%s: the near miss raises %s: %s", r->name, r->code,
					 find(&miss, r->code)->what);
			findings_free(&miss);
		}
	}
}

/* The guide's two configs (keys filled in): notices at most. */
static void the_guides_configs_pass(void **state)
{
	static const char *const guide[] = {
	    "[Interface]\nPrivateKey = " KEY_A "\nAddress = 10.10.0.1/24\nListenPort = 51820\n"
	    "MTU = 1420\nPostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A "
	    "POSTROUTING -o eth0 -j MASQUERADE\nPostDown = iptables -D FORWARD -i %i -j ACCEPT; "
	    "iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE\n\n[Peer]\nPublicKey = " KEY_B
	    "\nPresharedKey = " PSK "\nAllowedIPs = 10.10.0.2/32, 192.168.100.0/24\n"
	    "PersistentKeepalive = 25\n",
	    "[Interface]\nPrivateKey = " KEY_C "\nAddress = 10.10.0.2/32\nDNS = 10.10.0.5\n\n"
	    "[Peer]\nPublicKey = " KEY_D "\nPresharedKey = " PSK
	    "\nEndpoint = api-gateway.example.com:51820\nAllowedIPs = 10.10.0.0/24, 10.20.0.0/16\n"
	    "PersistentKeepalive = 25\n",
	};

	(void)state;
	for (size_t i = 0; i < 2; ++i) {
		struct findings f = run(guide[i], F_LAN);

		for (size_t k = 0; k < f.len; ++k)
			if (f.v[k].severity != CHECK_NOTICE)
				fail_msg("the guide's config %zu: %s: %s", i, f.v[k].code,
					 f.v[k].what);
		findings_free(&f);
	}
}

/* The running interface: never handshaked, stale, drift both ways, the path MTU. */
static void running_interface(void **state)
{
	static const char *const text =
	    GW PEER_B "AllowedIPs = 10.10.0.2/32\n" PEER_C "AllowedIPs = 10.10.0.3/32\n"
		      "[Peer]\nName = d\nPublicKey = " KEY_D "\nPresharedKey = " PSK "\n";
	struct uapi_state s = {0};
	struct uapi_peer_state peers[3] = {0};
	unsigned path[3] = {0, 1400, 0};
	struct check_live live = {.state = &s, .now = NOW, .path_mtu = path};
	struct findings out = {0};
	struct config c;
	char err[512];
	uint8_t stray[32] = {1};

	(void)state;
	assert_true(config_parse(&c, text, strlen(text), "t.conf", err, sizeof(err)));
	assert_true(key_from_base64(peers[0].public_key, KEY_B)); /* never, with keepalive */
	peers[0].persistent_keepalive = 25;
	assert_true(key_from_base64(peers[1].public_key, KEY_C)); /* 10 min ago, path 1400 */
	peers[1].last_handshake = NOW - 600;
	memcpy(peers[2].public_key, stray, 32); /* not in the config; D is not running */
	peers[2].last_handshake = NOW - 5;
	/* B: 48 initiations without an answer; C: an old timestamp, a foreign source */
	peers[0].unanswered = 48;
	peers[0].unanswered_since = 1800000005; /* 2027-01-15T08:00:05Z */
	peers[0].endpoint.v4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &peers[0].endpoint.v4.sin_addr);
	peers[0].endpoint.v4.sin_port = htons(51820);
	peers[1].timestamps_refused = 2;
	peers[1].allowedips_dropped = 7;
	strcpy(peers[1].allowedips_drop_source, "10.99.0.1");
	/* and a stranger whose messages fail mac1 */
	strcpy(s.bad_mac[0].from, "192.0.2.2:51820");
	s.bad_mac[0].count = 9;
	s.bad_mac[0].last = 1800000100;
	s.bad_mac_len = 1;
	s.peers = peers;
	s.peers_len = 3;
	check_running(&c, &live, &out);
	assert_false(out.failed);
	const struct finding *f = find(&out, "never-handshaked");
	assert_non_null(f);
	assert_string_equal(f->peer, "b");
	assert_int_equal(f->severity, CHECK_WARNING);
	assert_non_null(f = find(&out, "handshake-stale"));
	assert_string_equal(f->peer, "c");
	assert_int_equal(f->severity, CHECK_NOTICE); /* idle, no keepalive: may be meant */
	assert_non_null(f = find(&out, "mtu-path"));
	assert_string_equal(f->fix, "MTU = 1340 (IPv6 endpoints: 1320)");
	assert_non_null(find(&out, "not-in-config"));
	assert_non_null(f = find(&out, "handshake-unanswered"));
	assert_string_equal(f->peer, "b");
	assert_string_equal(f->what,
			    "(192.0.2.1:51820): 48 initiations sent since "
			    "2027-01-15T08:00:05Z, no response: the endpoint is wrong, its "
			    "UDP port is filtered, or the peer knows this interface by another "
			    "public key");
	assert_non_null(f = find(&out, "handshake-timestamp"));
	assert_string_equal(f->peer, "c");
	assert_non_null(f = find(&out, "allowedips-dropped"));
	assert_non_null(strstr(f->what, "7 packets dropped: their source (latest 10.99.0.1)"));
	assert_non_null(f = find(&out, "handshake-bad-mac1"));
	assert_string_equal(f->what,
			    "packets from 192.0.2.2:51820 fail mac1 (9, the latest at "
			    "2027-01-15T08:01:40Z): the public key configured there for "
			    "this interface is not HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=");
	assert_non_null(f = find(&out, "not-running"));
	assert_string_equal(f->peer, "d");
	findings_free(&out);
	config_free(&c);
}

/* The near miss of every live check: a running interface as its config says, all well. */
static void running_healthy_says_nothing(void **state)
{
	static const char *const text = GW PEER_B "AllowedIPs = 10.10.0.2/32\n";
	struct uapi_state s = {0};
	struct uapi_peer_state peer = {0};
	struct ip_prefix ip;
	unsigned path[1] = {1500};
	struct check_live live = {.state = &s, .now = NOW, .path_mtu = path};
	struct findings out = {0};
	struct config c;
	char err[512];

	(void)state;
	assert_true(config_parse(&c, text, strlen(text), "t.conf", err, sizeof(err)));
	assert_true(key_from_base64(peer.public_key, KEY_B));
	peer.last_handshake = NOW - 30;
	peer.persistent_keepalive = 25;
	assert_true(ip_prefix_parse(&ip, "10.10.0.2/32", true));
	peer.allowed_ips = &ip;
	peer.allowed_ips_len = 1;
	peer.unanswered = 1; /* one initiation out: not yet a problem */
	s.peers = &peer;
	s.peers_len = 1;
	check_running(&c, &live, &out);
	for (size_t i = 0; i < out.len; ++i)
		fail_msg("%s: %s", out.v[i].code, out.v[i].what);
	findings_free(&out);
	config_free(&c);
}

/* Ten thousand peers in one /16 nest nothing and repeat nothing: checked without a finding. */
static void many_peers_no_noise(void **state)
{
	size_t cap = 10000 * 256 + 256, n = 0;
	char *text = malloc(cap);
	struct findings f;

	(void)state;
	n += (size_t)snprintf(text + n, cap - n,
			      GW "ListenSources = 0.0.0.0/0\nApiPorts = tcp/443\n");
	for (int i = 0; i < 10000; ++i) {
		uint8_t key[32] = {0};
		char b64[KEY_BASE64_LEN + 1];

		key[0] = (uint8_t)(i >> 8), key[1] = (uint8_t)i, key[2] = 7;
		key_to_base64(b64, key);
		n += (size_t)snprintf(text + n, cap - n,
				      "[Peer]\nPublicKey = %s\nPresharedKey = " PSK
				      "\nAllowedIPs = 10.%d.%d.%d/32\nAllow = gateway icmp\n",
				      b64, 10 + i / 65536, (i >> 8) & 255, i & 255);
	}
	f = run(text, F_NONE);
	for (size_t k = 0; k < f.len; ++k)
		fail_msg("%s: %s", f.v[k].code, f.v[k].what);
	findings_free(&f);
	free(text);
}

/*
 * 30 prefixes given to two peers each, 29 nested: the first 20 of each are
 * named, the rest counted in one finding (the same at each reload's log and
 * report), and the errors stay errors.
 */
static void many_overlaps_counted(void **state)
{
	size_t cap = 64 * 512, n = 0, same = 0, nested = 0;
	char *text = malloc(cap);
	const struct finding *rest = NULL, *rest_nested = NULL;
	struct findings f;

	(void)state;
	n += (size_t)snprintf(text + n, cap - n, GW);
	for (int i = 0; i < 60; ++i) {
		uint8_t key[32] = {0};
		char b64[KEY_BASE64_LEN + 1];

		key[0] = (uint8_t)i, key[2] = 9;
		key_to_base64(b64, key);
		/* peers 2k and 2k+1 share a /32; 2k has a /32 inside the /24 of 2k+3 */
		n += (size_t)snprintf(text + n, cap - n,
				      "[Peer]\nPublicKey = %s\nAllowedIPs = 10.98.0.%d/32\n", b64,
				      i / 2);
		if (i % 2)
			n += (size_t)snprintf(text + n, cap - n, "AllowedIPs = 10.99.%d.0/24\n",
					      i / 2);
		else
			n += (size_t)snprintf(text + n, cap - n, "AllowedIPs = 10.99.%d.9/32\n",
					      i / 2 + 1);
	}
	f = run(text, F_NONE);
	for (size_t k = 0; k < f.len; ++k) {
		bool counted = strstr(f.v[k].what, " more AllowedIPs") != NULL;

		if (!strcmp(f.v[k].code, "allowedips-same")) {
			assert_int_equal(f.v[k].severity, CHECK_ERROR);
			if (counted)
				rest = &f.v[k];
			else
				++same;
		} else if (!strcmp(f.v[k].code, "allowedips-nested")) {
			if (counted)
				rest_nested = &f.v[k];
			else
				++nested;
		}
	}
	assert_int_equal(same, 20);
	assert_non_null(rest);
	assert_non_null(strstr(rest->what, "10 more AllowedIPs are also an earlier peer's"));
	assert_int_equal(nested, 20);
	assert_non_null(rest_nested);
	assert_non_null(strstr(rest_nested->what, "9 more AllowedIPs lie inside"));
	findings_free(&f);
	free(text);
}

/* KeyMaxAge: days by default, or with a unit; a bad one named. */
/* A PeerDirectory file others can read is said when it holds a preshared key; etcd's copy is not.
 */
static void peer_files_modes(void **state)
{
	const char *text =
	    GW PEER_B "AllowedIPs = 10.10.0.2/32\n"
		      "[Peer]\nName = c\nPublicKey = " KEY_C "\nAllowedIPs = 10.10.0.3/32\n";
	mode_t modes[2] = {0100644, 0100640};
	struct check_facts facts = {.peer_file_modes = modes, .now = NOW};
	struct findings out = {0};
	struct config c;
	char err[512];

	(void)state;
	assert_true(config_parse(&c, text, strlen(text), "t.conf", err, sizeof(err)));
	assert_true(strv_push(&c.peer_files, "/peers/b.conf"));
	assert_true(strv_push(&c.peer_files, "/peers/c.conf"));
	c.peers[0].file = c.peer_files.v[0];
	c.peers[1].file = c.peer_files.v[1]; /* no preshared key in it: nothing to say */
	check_config(&c, &facts, &out);
	assert_non_null(find(&out, "peer-file-mode"));
	assert_int_equal(find(&out, "peer-file-mode")->severity, CHECK_ERROR);
	assert_non_null(strstr(find(&out, "peer-file-mode")->what, "/peers/b.conf"));
	findings_free(&out);
	modes[0] = 0100600;
	check_config(&c, &facts, &out);
	assert_null(find(&out, "peer-file-mode"));
	findings_free(&out);
	config_free(&c);
}

static void key_max_age_parsed(void **state)
{
	static const char *const good[][2] = {
	    {"90", "7776000"}, {"12w", "7257600"}, {"1y", "31536000"}};
	struct config c;
	char text[256], err[512];

	(void)state;
	for (size_t i = 0; i < 3; ++i) {
		snprintf(text, sizeof(text), "[Interface]\nKeyMaxAge = %s\n", good[i][0]);
		assert_true(config_parse(&c, text, strlen(text), "t", err, sizeof(err)));
		assert_int_equal(c.key_max_age, strtoll(good[i][1], NULL, 10));
		config_free(&c);
	}
	snprintf(text, sizeof(text), "[Interface]\nKeyMaxAge = soon\n");
	assert_false(config_parse(&c, text, strlen(text), "t", err, sizeof(err)));
	assert_string_equal(err, "t:2: KeyMaxAge `soon' is not a duration, such as 90d, 12w or 1y "
				 "(days when no unit is given)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_check_hits_and_misses),
	    cmocka_unit_test(the_guides_configs_pass),
	    cmocka_unit_test(running_interface),
	    cmocka_unit_test(running_healthy_says_nothing),
	    cmocka_unit_test(many_peers_no_noise),
	    cmocka_unit_test(many_overlaps_counted),
	    cmocka_unit_test(key_max_age_parsed),
	    cmocka_unit_test(peer_files_modes),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
