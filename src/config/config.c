// SPDX-License-Identifier: MIT
/*
 * The wg(8) and wg-quick(8) config formats.
 *
 * Lines are read as both tools read them: a comment runs from the first '#'
 * to the end of the line, keys and section names are case-insensitive, a
 * wg(8) value loses all its whitespace (wg removes it), and a wg-quick(8)
 * value keeps its inner whitespace (the hooks are shell commands).
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/hashindex.h"

enum section { SECTION_NONE = 0, SECTION_INTERFACE = 1, SECTION_PEER = 2, SECTION_GROUP = 4 };

enum key {
	KEY_PRIVATE_KEY,
	KEY_LISTEN_PORT,
	KEY_FWMARK,
	KEY_ADDRESS,
	KEY_DNS,
	KEY_MTU,
	KEY_TABLE,
	KEY_PRE_UP,
	KEY_POST_UP,
	KEY_PRE_DOWN,
	KEY_POST_DOWN,
	KEY_SAVE_CONFIG,
	KEY_METRICS_ADDRESS,
	KEY_IDENTITY_ADDRESS,
	KEY_GATEWAY_CONFIG,
	KEY_PUBLIC_ENDPOINT,
	KEY_KEY_MAX_AGE,
	KEY_GATEWAY_RELOAD,
	KEY_PUBLIC_KEY,
	KEY_PRESHARED_KEY,
	KEY_ENDPOINT,
	KEY_ALLOWED_IPS,
	KEY_PERSISTENT_KEEPALIVE,
	KEY_API_PORTS,
	KEY_MANAGEMENT_SOURCES,
	KEY_LISTEN_SOURCES,
	KEY_EGRESS,
	KEY_MSS_CLAMP,
	KEY_MASQUERADE,
	KEY_UPLINK,
	KEY_NAME,
	KEY_ALLOW,
	KEY_GROUPS,
	KEY_EXPIRES,
	KEY_NEXT_PUBLIC_KEY,
	KEY_ROTATION_DEADLINE,
	KEY_FAILOVER_AFTER,
	KEY_FAILBACK_AFTER,
	KEY_RESOLVE_INTERVAL,
	KEY_PEER_DIRECTORY,
	KEY_ETCD_ENDPOINTS,
	KEY_ETCD_PREFIX,
	KEY_ETCD_CA_CERT,
	KEY_ETCD_CERT,
	KEY_ETCD_KEY,
	KEY_ETCD_USER,
	KEY_ETCD_PASSWORD_FILE,
	KEY_COUNT
};

static const struct {
	const char *name;
	unsigned section; /* the sections it may appear in */
	bool quick;	  /* not wg(8)'s: wg-quick's or wgate's own, removed by strip */
	bool repeatable;  /* values accumulate instead of being set once */
} keys[KEY_COUNT] = {
    [KEY_PRIVATE_KEY] = {"PrivateKey", SECTION_INTERFACE, false, false},
    [KEY_LISTEN_PORT] = {"ListenPort", SECTION_INTERFACE, false, false},
    [KEY_FWMARK] = {"FwMark", SECTION_INTERFACE, false, false},
    [KEY_ADDRESS] = {"Address", SECTION_INTERFACE, true, true},
    [KEY_DNS] = {"DNS", SECTION_INTERFACE, true, true},
    [KEY_MTU] = {"MTU", SECTION_INTERFACE, true, false},
    [KEY_TABLE] = {"Table", SECTION_INTERFACE, true, false},
    [KEY_PRE_UP] = {"PreUp", SECTION_INTERFACE, true, true},
    [KEY_POST_UP] = {"PostUp", SECTION_INTERFACE, true, true},
    [KEY_PRE_DOWN] = {"PreDown", SECTION_INTERFACE, true, true},
    [KEY_POST_DOWN] = {"PostDown", SECTION_INTERFACE, true, true},
    [KEY_SAVE_CONFIG] = {"SaveConfig", SECTION_INTERFACE, true, false},
    /* wgate's own: where the daemon serves Prometheus metrics (host:port) */
    [KEY_METRICS_ADDRESS] = {"MetricsAddress", SECTION_INTERFACE, true, false},
    /* wgate's own: where the daemon answers gateways' identity sub-requests */
    [KEY_IDENTITY_ADDRESS] = {"IdentityAddress", SECTION_INTERFACE, true, false},
    /* wgate's own: gateway configs derived from the peers, and what reloads the gateway */
    [KEY_GATEWAY_CONFIG] = {"GatewayConfig", SECTION_INTERFACE, true, true},
    [KEY_GATEWAY_RELOAD] = {"GatewayReload", SECTION_INTERFACE, true, true},
    /* wgate's own: where clients reach this interface, for the configs wgate peer add prints */
    [KEY_PUBLIC_ENDPOINT] = {"PublicEndpoint", SECTION_INTERFACE, true, false},
    /* wgate's own: how long a key may stay in use before wgate check says so */
    [KEY_KEY_MAX_AGE] = {"KeyMaxAge", SECTION_INTERFACE, true, false},
    [KEY_PUBLIC_KEY] = {"PublicKey", SECTION_PEER, false, false},
    [KEY_PRESHARED_KEY] = {"PresharedKey", SECTION_PEER, false, false},
    [KEY_ENDPOINT] = {"Endpoint", SECTION_PEER, false, false},
    [KEY_ALLOWED_IPS] = {"AllowedIPs", SECTION_PEER, false, true},
    [KEY_PERSISTENT_KEEPALIVE] = {"PersistentKeepalive", SECTION_PEER, false, false},
    /* wgate's own: the access policy (policy.h) */
    [KEY_API_PORTS] = {"ApiPorts", SECTION_INTERFACE, true, true},
    [KEY_MANAGEMENT_SOURCES] = {"ManagementSources", SECTION_INTERFACE, true, true},
    [KEY_LISTEN_SOURCES] = {"ListenSources", SECTION_INTERFACE, true, true},
    [KEY_EGRESS] = {"Egress", SECTION_INTERFACE, true, true},
    [KEY_MSS_CLAMP] = {"MssClamp", SECTION_INTERFACE, true, false},
    [KEY_MASQUERADE] = {"Masquerade", SECTION_INTERFACE, true, true},
    [KEY_UPLINK] = {"Uplink", SECTION_INTERFACE, true, true},
    [KEY_NAME] = {"Name", SECTION_PEER | SECTION_GROUP, true, false},
    [KEY_ALLOW] = {"Allow", SECTION_PEER | SECTION_GROUP, true, true},
    [KEY_GROUPS] = {"Groups", SECTION_PEER, true, true},
    /* wgate's own: when a peer stops being let in */
    [KEY_EXPIRES] = {"Expires", SECTION_PEER, true, false},
    /* wgate's own: a key rotation in progress (wgate peer rotate) */
    [KEY_NEXT_PUBLIC_KEY] = {"NextPublicKey", SECTION_PEER, true, false},
    [KEY_ROTATION_DEADLINE] = {"RotationDeadline", SECTION_PEER, true, false},
    /* wgate's own: moving between a peer's endpoints, and following their names */
    [KEY_FAILOVER_AFTER] = {"FailoverAfter", SECTION_PEER, true, false},
    [KEY_FAILBACK_AFTER] = {"FailbackAfter", SECTION_PEER, true, false},
    [KEY_RESOLVE_INTERVAL] = {"ResolveInterval", SECTION_INTERFACE, true, false},
    /* wgate's own: the peer set shared by a fleet of gateway nodes */
    [KEY_PEER_DIRECTORY] = {"PeerDirectory", SECTION_INTERFACE, true, false},
    [KEY_ETCD_ENDPOINTS] = {"EtcdEndpoints", SECTION_INTERFACE, true, true},
    [KEY_ETCD_PREFIX] = {"EtcdPrefix", SECTION_INTERFACE, true, false},
    [KEY_ETCD_CA_CERT] = {"EtcdCACert", SECTION_INTERFACE, true, false},
    [KEY_ETCD_CERT] = {"EtcdCert", SECTION_INTERFACE, true, false},
    [KEY_ETCD_KEY] = {"EtcdKey", SECTION_INTERFACE, true, false},
    [KEY_ETCD_USER] = {"EtcdUser", SECTION_INTERFACE, true, false},
    [KEY_ETCD_PASSWORD_FILE] = {"EtcdPasswordFile", SECTION_INTERFACE, true, false},
};

struct parser {
	struct config *config;
	const char *name;
	unsigned line;
	enum section section;
	enum rule_form form; /* of the list being read by add_rule */
	struct policy_rules *rules;
	struct prefixes *prefix_list;
	const char *what;
	unsigned seen[KEY_COUNT];    /* line of each key's first use in this section */
	bool peers_only;	     /* a file of PeerDirectory: [Peer] sections only */
	const char *file;	     /* the source's name as the config keeps it */
	const char *config_name;     /* the config file's, for what another file repeats */
	struct hash_index peer_keys; /* the peers so far, by public key */
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3))) static bool fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->err_len, "%s:%u: ", p->name, p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->err_len) {
		vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
		/* whatever the mistake, the text quoted back never holds a key */
		redact_keys(p->err + n, p->err_len - (size_t)n);
	}
	va_end(ap);
	return false;
}

bool strv_push(struct strv *strv, const char *s)
{
	char **bigger = reallocarray(strv->v, strv->len + 1, sizeof(*bigger));
	char *copy = strdup(s);

	if (bigger)
		strv->v = bigger;
	if (!bigger || !copy) {
		free(copy);
		return false;
	}
	strv->v[strv->len++] = copy;
	return true;
}

bool strv_equal(const struct strv *a, const struct strv *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; ++i)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

char *strv_join(const struct strv *strv)
{
	size_t len = 1;
	char *out, *at;

	for (size_t i = 0; i < strv->len; ++i)
		len += strlen(strv->v[i]) + 1;
	out = at = malloc(len);
	if (!out)
		return NULL;
	*at = '\0';
	for (size_t i = 0; i < strv->len; ++i)
		at += sprintf(at, "%s%s", i ? "," : "", strv->v[i]);
	return out;
}

void strv_free(struct strv *strv)
{
	for (size_t i = 0; i < strv->len; ++i)
		free(strv->v[i]);
	free(strv->v);
	strv->v = NULL;
	strv->len = 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		++s;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void remove_whitespace(char *s)
{
	char *out = s;

	for (; *s; ++s)
		if (!isspace((unsigned char)*s))
			*out++ = *s;
	*out = '\0';
}

/* Splits a comma-separated list in place and calls fn on each trimmed item. */
static bool for_each_item(struct parser *p, char *value, const char *what,
			  bool (*fn)(struct parser *, const char *))
{
	char *item;

	if (!*value)
		return true;
	while ((item = strsep(&value, ","))) {
		item = trim(item);
		if (!*item)
			return fail(p, "empty entry in the %s list", what);
		if (!fn(p, item))
			return false;
	}
	return true;
}

static struct peer_config *current_peer(struct parser *p)
{
	return &p->config->peers[p->config->peers_len - 1];
}

static bool add_allowed_ip(struct parser *p, const char *item)
{
	struct peer_config *peer = current_peer(p);
	struct ip_prefix prefix;

	if (!ip_prefix_parse(&prefix, item, false))
		return fail(
		    p, "AllowedIPs entry `%s' is not an IP address with an optional /prefix", item);
	if (!crypto_grow_wiped((void **)&peer->allowed_ips, &peer->allowed_ips_cap,
			       peer->allowed_ips_len, sizeof(prefix)))
		return fail(p, "out of memory");
	peer->allowed_ips[peer->allowed_ips_len++] = prefix;
	return true;
}

static bool add_address(struct parser *p, const char *item)
{
	struct config *c = p->config;
	struct ip_prefix prefix;

	if (!ip_prefix_parse(&prefix, item, false))
		return fail(p, "Address `%s' is not an IP address with an optional /prefix", item);
	if (!crypto_grow_wiped((void **)&c->addresses, &c->addresses_cap, c->addresses_len,
			       sizeof(prefix)))
		return fail(p, "out of memory");
	c->addresses[c->addresses_len++] = prefix;
	return true;
}

static struct group_config *current_group(struct parser *p)
{
	return &p->config->groups[p->config->groups_len - 1];
}

static bool add_rule(struct parser *p, const char *item)
{
	struct policy_rule rule;
	const char *why = "";

	if (!policy_rule_parse(&rule, item, p->form, &why))
		return fail(p, "%s entry `%s' %s", p->what, item, why);
	return policy_rules_add(p->rules, &rule) || fail(p, "out of memory");
}

static bool add_source(struct parser *p, const char *item)
{
	struct ip_prefix prefix;

	if (!ip_prefix_parse(&prefix, item, false))
		return fail(p, "%s entry `%s' is not an IP address with an optional /prefix",
			    p->what, item);
	return prefixes_add(p->prefix_list, &prefix) || fail(p, "out of memory");
}

static bool add_masquerade(struct parser *p, const char *item)
{
	if (strlen(item) >= 16 ||
	    strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-@") != strlen(item))
		return fail(p, "Masquerade entry `%s' is not an interface name", item);
	return strv_push(&p->config->masquerade, item) || fail(p, "out of memory");
}

/* "eth2 via 192.0.2.1 table 200" */
static bool add_uplink(struct parser *p, const char *item)
{
	struct config *c = p->config;
	char dev[32], via[64], word_via[8], word_table[8], extra[2];
	struct uplink_config u, *bigger;
	uint64_t table;
	char table_text[32];
	int n;

	memset(&u, 0, sizeof(u)); /* compared whole by reload: padding included */
	n = sscanf(item, "%31s %7s %63s %7s %31s %1s", dev, word_via, via, word_table, table_text,
		   extra);
	if (n != 5 || strcmp(word_via, "via") || strcmp(word_table, "table"))
		return fail(p, "Uplink `%s' is not `DEVICE via GATEWAY table NUMBER'", item);
	if (strlen(dev) >= sizeof(u.dev) ||
	    strspn(dev, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@") !=
		strlen(dev))
		return fail(p, "Uplink `%s': `%s' is not an interface name", item, dev);
	if (inet_pton(AF_INET, via, &u.via.v4) == 1)
		u.family = AF_INET;
	else if (inet_pton(AF_INET6, via, &u.via.v6) == 1)
		u.family = AF_INET6;
	else
		return fail(p, "Uplink `%s': the gateway `%s' is not an IP address", item, via);
	if (!parse_uint(table_text, UINT32_MAX, false, &table) || table == 0 || table == 253 ||
	    table == 254 || table == 255)
		return fail(p,
			    "Uplink `%s': table `%s' is not a routing table number of its own "
			    "(1 to 4294967295, not 253-255)",
			    item, table_text);
	snprintf(u.dev, sizeof(u.dev), "%s", dev);
	u.table = (uint32_t)table;
	for (size_t i = 0; i < c->uplinks_len; ++i) {
		if (c->uplinks[i].family == u.family)
			return fail(p, "Uplink `%s': one uplink per address family", item);
		if (c->uplinks[i].table != u.table || strcmp(c->uplinks[i].dev, u.dev))
			return fail(
			    p, "Uplink `%s': both families' uplinks take the same device and table",
			    item);
	}
	bigger = reallocarray(c->uplinks, c->uplinks_len + 1, sizeof(*bigger));
	if (!bigger)
		return fail(p, "out of memory");
	c->uplinks = bigger;
	c->uplinks[c->uplinks_len++] = u;
	return true;
}

static bool add_group_ref(struct parser *p, const char *item)
{
	if (!policy_name_valid(item))
		return fail(p,
			    "Groups entry `%s' is not a group name (1 to 32 letters, digits, "
			    "`_', `-', `.')",
			    item);
	if (current_peer(p)->groups.len == PEER_GROUPS_MAX)
		return fail(p, "this [Peer] is in more than %d groups", PEER_GROUPS_MAX);
	return strv_push(&current_peer(p)->groups, item) || fail(p, "out of memory");
}

static bool rules(struct parser *p, char *value, const char *what, enum rule_form form,
		  struct policy_rules *list)
{
	p->what = what;
	p->form = form;
	p->rules = list;
	return for_each_item(p, value, what, add_rule);
}

static bool sources(struct parser *p, char *value, const char *what, struct prefixes *list)
{
	p->what = what;
	p->prefix_list = list;
	return for_each_item(p, value, what, add_source);
}

/* As wg-quick: dotted digits or anything with a colon is a server, the rest search domains. */
static bool add_dns(struct parser *p, const char *item)
{
	struct config *c = p->config;
	bool server = strchr(item, ':') || strspn(item, "0123456789.") == strlen(item);
	unsigned char addr[sizeof(struct in6_addr)];

	if (server && inet_pton(AF_INET, item, addr) != 1 && inet_pton(AF_INET6, item, addr) != 1)
		return fail(p, "DNS server `%s' is not an IP address", item);
	if (!server && strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789.-_") != strlen(item))
		return fail(p, "DNS search domain `%s' has characters a domain cannot have", item);
	if (!strv_push(server ? &c->dns : &c->dns_search, item))
		return fail(p, "out of memory");
	return true;
}

static bool parse_key(struct parser *p, uint8_t key[KEY_LEN], const char *value, const char *what,
		      bool secret)
{
	if (key_from_base64(key, value))
		return true;
	if (secret) /* never echo what may be a secret */
		return fail(p,
			    "%s is not a valid key: expected 44 base64 characters ending in '=' "
			    "(as `wg genkey' prints)",
			    what);
	return fail(p, "%s `%s' is not a valid key: expected 44 base64 characters ending in '='",
		    what, value);
}

static bool parse_endpoint(struct parser *p, struct endpoint *ep, const char *value)
{
	const char *host = value, *port;
	size_t host_len;
	uint64_t port_number;
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = SOCK_DGRAM,
				 .ai_protocol = IPPROTO_UDP};
	struct addrinfo *res = NULL;
	char portbuf[8];

	if (value[0] == '[') {
		const char *close = strchr(value, ']');

		if (!close || close[1] != ':')
			return fail(p, "Endpoint `%s' must be [IPv6]:port", value);
		host = value + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
	} else {
		const char *colon = strrchr(value, ':');

		if (!colon)
			return fail(p, "Endpoint `%s' has no port: expected host:port", value);
		host_len = (size_t)(colon - value);
		port = colon + 1;
		if (memchr(value, ':', host_len))
			return fail(p, "Endpoint `%s' looks like IPv6: write it as [address]:port",
				    value);
	}
	if (!host_len)
		return fail(p, "Endpoint `%s' has no host", value);
	if (!parse_uint(port, 65535, false, &port_number) || !port_number)
		return fail(p, "Endpoint `%s' has a bad port: expected a number from 1 to 65535",
			    value);
	ep->host = strndup(host, host_len);
	if (!ep->host)
		return fail(p, "out of memory");
	ep->port = (uint16_t)port_number;
	snprintf(portbuf, sizeof(portbuf), "%u", ep->port);
	/* Numeric addresses resolve now, without the network; names wait. */
	if (getaddrinfo(ep->host, portbuf, &hints, &res) == 0) {
		if (res->ai_addrlen <= sizeof(ep->addr))
			memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
		ep->numeric = true;
		freeaddrinfo(res);
	} else if (value[0] == '[' || strspn(ep->host, "0123456789.") == host_len) {
		return fail(p, "Endpoint `%s' is not a valid IP address and port", value);
	}
	return true;
}

static bool add_endpoint(struct parser *p, const char *item)
{
	struct peer_config *peer = current_peer(p);
	struct endpoint *bigger;

	if (peer->endpoints_len >= ENDPOINTS_MAX)
		return fail(p, "Endpoint lists more than %d endpoints", ENDPOINTS_MAX);
	bigger = reallocarray(peer->endpoints, peer->endpoints_len + 1u, sizeof(*bigger));
	if (!bigger)
		return fail(p, "out of memory");
	peer->endpoints = bigger;
	memset(&bigger[peer->endpoints_len], 0, sizeof(*bigger));
	if (!parse_endpoint(p, &bigger[peer->endpoints_len], item)) {
		free(bigger[peer->endpoints_len].host);
		return false;
	}
	++peer->endpoints_len;
	return true;
}

static bool add_etcd_endpoint(struct parser *p, const char *item)
{
	if ((strncmp(item, "http://", 7) && strncmp(item, "https://", 8)) || strlen(item) > 200 ||
	    strpbrk(item, " \t\"'"))
		return fail(p,
			    "EtcdEndpoints entry `%s' is not an etcd member's URL, such as "
			    "https://10.0.0.1:2379",
			    item);
	return strv_push(&p->config->etcd.endpoints, item) || fail(p, "out of memory");
}

/* "3s", "1500ms", "2m", "1h"; seconds when no unit is given. */
static bool duration_ms(const char *value, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t scale;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
	size_t len = strlen(value);
	char digits[24];
	uint64_t n;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); ++i) {
		size_t ul = strlen(units[i].suffix);

		if (len <= ul || strcmp(value + len - ul, units[i].suffix))
			continue;
		if (len - ul >= sizeof(digits))
			return false;
		memcpy(digits, value, len - ul);
		digits[len - ul] = '\0';
		if (!parse_uint(digits, UINT32_MAX, false, &n))
			return false;
		*ms = n * units[i].scale;
		return true;
	}
	return false;
}

static bool set_string(struct parser *p, char **dst, const char *value)
{
	*dst = strdup(value);
	return *dst ? true : fail(p, "out of memory");
}

static const char *const gateway_format_names[GATEWAY_FORMATS] = {
    [GATEWAY_NGINX] = "nginx",
    [GATEWAY_HAPROXY] = "haproxy",
    [GATEWAY_ENVOY] = "envoy",
    [GATEWAY_KONG] = "kong",
};

bool gateway_format_parse(const char *name, enum gateway_format *out)
{
	for (int f = 0; f < GATEWAY_FORMATS; ++f)
		if (!strcasecmp(name, gateway_format_names[f])) {
			*out = (enum gateway_format)f;
			return true;
		}
	return false;
}

const char *gateway_format_name(enum gateway_format format)
{
	return format < GATEWAY_FORMATS ? gateway_format_names[format] : "?";
}

/* GatewayConfig = FORMAT /absolute/path, each path once. */
static bool add_gateway_output(struct parser *p, char *value)
{
	struct config *c = p->config;
	char *path = value + strcspn(value, " \t");
	struct gateway_output *grown;
	enum gateway_format format;

	if (*path)
		*path++ = '\0';
	path += strspn(path, " \t");
	if (!gateway_format_parse(value, &format))
		return fail(p,
			    "GatewayConfig `%s' does not start with nginx, haproxy, envoy or kong",
			    value);
	if (path[0] != '/' || strcspn(path, " \t") != strlen(path))
		return fail(p, "GatewayConfig %s needs one absolute path to write, not `%s'", value,
			    path);
	for (size_t i = 0; i < c->gateway_outputs_len; ++i)
		if (!strcmp(c->gateway_outputs[i].path, path))
			return fail(p, "GatewayConfig writes %s twice", path);
	grown = reallocarray(c->gateway_outputs, c->gateway_outputs_len + 1, sizeof(*grown));
	if (!grown)
		return fail(p, "out of memory");
	c->gateway_outputs = grown;
	grown[c->gateway_outputs_len].format = format;
	if (!(grown[c->gateway_outputs_len].path = strdup(path)))
		return fail(p, "out of memory");
	++c->gateway_outputs_len;
	return true;
}

static bool apply(struct parser *p, enum key key, char *value)
{
	struct config *c = p->config;
	struct peer_config *peer = p->section == SECTION_PEER ? current_peer(p) : NULL;
	uint64_t n;

	if (!*value && key != KEY_ALLOWED_IPS && key != KEY_DNS && key != KEY_ADDRESS &&
	    key != KEY_EGRESS && key != KEY_ALLOW)
		return fail(p, "%s has no value", keys[key].name);
	switch (key) {
	case KEY_PRIVATE_KEY:
		c->has_private_key = true;
		return parse_key(p, c->private_key, value, "PrivateKey", true);
	case KEY_LISTEN_PORT:
		if (!parse_uint(value, 65535, false, &n))
			return fail(p, "ListenPort `%s' is not a number from 0 to 65535", value);
		c->listen_port = (uint16_t)n;
		c->has_listen_port = true;
		return true;
	case KEY_FWMARK:
		if (!parse_uint_or_off(value, UINT32_MAX, true, &n))
			return fail(p, "FwMark `%s' is not `off' or a 32-bit number", value);
		c->fwmark = (uint32_t)n;
		c->has_fwmark = true;
		return true;
	case KEY_ADDRESS:
		return for_each_item(p, value, "Address", add_address);
	case KEY_DNS:
		return for_each_item(p, value, "DNS", add_dns);
	case KEY_MTU:
		if (!parse_uint(value, 65535, false, &n) || n < 576)
			return fail(p, "MTU `%s' is not a number from 576 to 65535", value);
		c->mtu = (uint32_t)n;
		c->has_mtu = true;
		return true;
	case KEY_TABLE:
		if (strspn(value,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(value))
			return fail(p, "Table `%s' is not `auto', `off', a number or a table name",
				    value);
		return set_string(p, &c->table, value);
	case KEY_PRE_UP:
		return strv_push(&c->pre_up, value) || fail(p, "out of memory");
	case KEY_POST_UP:
		return strv_push(&c->post_up, value) || fail(p, "out of memory");
	case KEY_PRE_DOWN:
		return strv_push(&c->pre_down, value) || fail(p, "out of memory");
	case KEY_POST_DOWN:
		return strv_push(&c->post_down, value) || fail(p, "out of memory");
	case KEY_METRICS_ADDRESS:
	case KEY_IDENTITY_ADDRESS:
		if (!listen_address_valid(value))
			return fail(p,
				    "%s `%s' is not an IP address and port, such as 127.0.0.1:9586 "
				    "or [::1]:9586, or unix:/ABSOLUTE/PATH",
				    keys[key].name, value);
		return set_string(
		    p, key == KEY_METRICS_ADDRESS ? &c->metrics_address : &c->identity_address,
		    value);
	case KEY_GATEWAY_CONFIG:
		return add_gateway_output(p, value);
	case KEY_KEY_MAX_AGE: {
		size_t len = strlen(value);
		char unit = len ? value[len - 1] : 0, digits[32];
		int64_t scale = unit == 'w' ? 7 * 86400 : unit == 'y' ? 365 * 86400 : 86400;

		snprintf(digits, sizeof(digits), "%.*s",
			 (int)(unit == 'd' || unit == 'w' || unit == 'y' ? len - 1 : len), value);
		if (len >= sizeof(digits) || !parse_uint(digits, 100000, false, &n) || !n)
			return fail(
			    p,
			    "KeyMaxAge `%s' is not a duration, such as 90d, 12w or 1y (days "
			    "when no unit is given)",
			    value);
		c->key_max_age = (int64_t)n * scale;
		return true;
	}
	case KEY_PUBLIC_ENDPOINT: {
		char host[256];
		const char *port;
		uint64_t number;

		if (!host_port_split(value, host, sizeof(host), &port) || !*host ||
		    !parse_uint(port, 65535, false, &number) || !number)
			return fail(
			    p,
			    "PublicEndpoint `%s' is not HOST:PORT (a name or address, and a "
			    "port from 1 to 65535)",
			    value);
		return set_string(p, &c->public_endpoint, value);
	}
	case KEY_GATEWAY_RELOAD:
		return strv_push(&c->gateway_reload, value) || fail(p, "out of memory");
	case KEY_SAVE_CONFIG:
		if (strcasecmp(value, "true") && strcasecmp(value, "false"))
			return fail(p, "SaveConfig `%s' is neither true nor false", value);
		c->save_config = !strcasecmp(value, "true");
		return true;
	case KEY_PUBLIC_KEY:
		return parse_key(p, peer->public_key, value, "PublicKey", false);
	case KEY_PRESHARED_KEY:
		peer->has_preshared_key = true;
		return parse_key(p, peer->preshared_key, value, "PresharedKey", true);
	case KEY_ENDPOINT:
		return for_each_item(p, value, "Endpoint", add_endpoint);
	case KEY_FAILOVER_AFTER:
	case KEY_FAILBACK_AFTER:
		if (!duration_ms(value, &n) || n < 200 || n > 3600 * 1000)
			return fail(p,
				    "%s `%s' is not a time from 200ms to 1h, such as 3s, 1500ms or "
				    "2m (seconds when no unit is given)",
				    keys[key].name, value);
		*(key == KEY_FAILOVER_AFTER ? &peer->failover_ms : &peer->failback_ms) =
		    (uint32_t)n;
		return true;
	case KEY_ETCD_ENDPOINTS:
		c->etcd_line = p->line;
		return for_each_item(p, value, "EtcdEndpoints", add_etcd_endpoint);
	case KEY_ETCD_PREFIX:
		if (value[0] != '/' || strlen(value) > 200)
			return fail(p, "EtcdPrefix `%s' is not a key prefix starting with `/'",
				    value);
		return set_string(p, &c->etcd.prefix, value);
	case KEY_ETCD_CA_CERT:
	case KEY_ETCD_CERT:
	case KEY_ETCD_KEY:
	case KEY_ETCD_PASSWORD_FILE:
		if (value[0] != '/')
			return fail(p, "%s `%s' is not an absolute path", keys[key].name, value);
		return set_string(p,
				  key == KEY_ETCD_CA_CERT ? &c->etcd.ca_file
				  : key == KEY_ETCD_CERT  ? &c->etcd.cert_file
				  : key == KEY_ETCD_KEY	  ? &c->etcd.key_file
							  : &c->etcd.password_file,
				  value);
	case KEY_ETCD_USER:
		return set_string(p, &c->etcd.user, value);
	case KEY_PEER_DIRECTORY:
		if (value[0] != '/')
			return fail(p, "PeerDirectory `%s' is not an absolute path", value);
		c->peer_directory_line = p->line;
		return set_string(p, &c->peer_directory, value);
	case KEY_RESOLVE_INTERVAL:
		if (!strcasecmp(value, "off"))
			n = 0;
		else if (!duration_ms(value, &n) || n < 1000 || n > 86400 * 1000)
			return fail(p,
				    "ResolveInterval `%s' is not `off' or a time from 1s to 24h, "
				    "such as 60s or 5m (seconds when no unit is given)",
				    value);
		c->resolve_interval = (uint32_t)(n / 1000);
		c->has_resolve_interval = true;
		return true;
	case KEY_ALLOWED_IPS:
		return for_each_item(p, value, "AllowedIPs", add_allowed_ip);
	case KEY_PERSISTENT_KEEPALIVE:
		if (!parse_uint_or_off(value, 65535, false, &n))
			return fail(p,
				    "PersistentKeepalive `%s' is not `off' or a number of seconds "
				    "from 0 to 65535",
				    value);
		peer->persistent_keepalive = (uint16_t)n;
		peer->has_persistent_keepalive = true;
		return true;
	case KEY_API_PORTS:
		return rules(p, value, "ApiPorts", RULE_PORTS, &c->api_ports);
	case KEY_MANAGEMENT_SOURCES:
		return sources(p, value, "ManagementSources", &c->management_sources);
	case KEY_LISTEN_SOURCES:
		return sources(p, value, "ListenSources", &c->listen_sources);
	case KEY_EGRESS:
		c->has_egress = true;
		return rules(p, value, "Egress", RULE_EGRESS, &c->egress);
	case KEY_MSS_CLAMP:
		c->has_mss_clamp = true;
		if (!strcasecmp(value, "auto"))
			c->mss_clamp = MSS_CLAMP_AUTO;
		else if (!strcasecmp(value, "off"))
			c->mss_clamp = 0;
		else if (parse_uint(value, 65535, false, &n) && n >= 536)
			c->mss_clamp = (int)n;
		else
			return fail(
			    p, "MssClamp `%s' is not `auto', `off' or an MSS from 536 to 65535",
			    value);
		return true;
	case KEY_MASQUERADE:
		return for_each_item(p, value, "Masquerade", add_masquerade);
	case KEY_UPLINK:
		return for_each_item(p, value, "Uplink", add_uplink);
	case KEY_NAME:
		if (peer) {
			if (!peer_name_valid(value, true))
				return fail(
				    p,
				    "Name `%s' is not a peer name (1 to 64 letters, digits, "
				    "`_', `-', `.', `@')",
				    value);
			free(peer->name);
			return set_string(p, &peer->name, value);
		}
		if (!policy_name_valid(value))
			return fail(p,
				    "Name `%s' is not a group name (1 to 32 letters, digits, `_', "
				    "`-', `.')",
				    value);
		return set_string(p, &current_group(p)->name, value);
	case KEY_ALLOW:
		if (peer)
			peer->has_allow = true;
		return rules(p, value, "Allow", RULE_ALLOW,
			     peer ? &peer->allow : &current_group(p)->allow);
	case KEY_GROUPS:
		return for_each_item(p, value, "Groups", add_group_ref);
	case KEY_EXPIRES:
		if (!utc_time_parse(value, &peer->expires) || !peer->expires)
			return fail(p,
				    "Expires `%s' is not a date, such as 2026-12-31 or "
				    "2026-12-31T18:30:00Z (UTC)",
				    value);
		return true;
	case KEY_NEXT_PUBLIC_KEY:
		peer->has_next_key = true;
		return parse_key(p, peer->next_public_key, value, "NextPublicKey", false);
	case KEY_ROTATION_DEADLINE:
		if (!utc_time_parse(value, &peer->rotation_deadline) || !peer->rotation_deadline)
			return fail(p,
				    "RotationDeadline `%s' is not a date, such as 2026-12-31 or "
				    "2026-12-31T18:30:00Z (UTC)",
				    value);
		return true;
	case KEY_COUNT:
		break;
	}
	return fail(p, "internal error");
}

static const char *section_names(unsigned sections)
{
	switch (sections) {
	case SECTION_INTERFACE:
		return "[Interface]";
	case SECTION_PEER:
		return "[Peer]";
	case SECTION_GROUP:
		return "[Group]";
	default:
		return "[Peer] or [Group]";
	}
}

static int find_key(const char *name)
{
	for (int i = 0; i < KEY_COUNT; ++i)
		if (!strcasecmp(name, keys[i].name))
			return i;
	return -1;
}

static bool end_section(struct parser *p)
{
	struct config *c = p->config;
	struct peer_config *peer;
	size_t earlier;

	if (p->section == SECTION_GROUP) {
		struct group_config *g = current_group(p);

		if (!g->name) {
			p->line = g->line;
			return fail(p, "this [Group] has no Name");
		}
		for (size_t i = 0; i + 1 < c->groups_len; ++i)
			if (!strcmp(c->groups[i].name, g->name)) {
				p->line = g->line;
				return fail(
				    p, "this [Group] repeats the Name `%s' of the one at line %u",
				    g->name, c->groups[i].line);
			}
		return true;
	}
	if (p->section != SECTION_PEER)
		return true;
	peer = current_peer(p);
	if (!p->seen[KEY_PUBLIC_KEY]) {
		p->line = peer->line;
		return fail(p, "this [Peer] has no PublicKey");
	}
	hash_index_rebase(&p->peer_keys, c->peers); /* the array may have moved */
	if (!hash_index_add(&p->peer_keys, c->peers_len - 1, &earlier))
		return fail(p, "out of memory");
	if (earlier != HASH_INDEX_NONE) {
		p->line = peer->line;
		if (c->peers[earlier].file != peer->file)
			return fail(p, "this [Peer] repeats the PublicKey of the [Peer] at %s:%u",
				    c->peers[earlier].file ? c->peers[earlier].file
							   : p->config_name,
				    c->peers[earlier].line);
		return fail(p, "this [Peer] repeats the PublicKey of the [Peer] at line %u",
			    c->peers[earlier].line);
	}
	if (p->seen[KEY_ROTATION_DEADLINE] && !peer->has_next_key) {
		p->line = p->seen[KEY_ROTATION_DEADLINE];
		return fail(p, "RotationDeadline without a NextPublicKey in this [Peer]");
	}
	if (peer->has_next_key && crypto_equal(peer->next_public_key, peer->public_key, KEY_LEN)) {
		p->line = p->seen[KEY_NEXT_PUBLIC_KEY];
		return fail(p, "NextPublicKey is this [Peer]'s PublicKey");
	}
	return true;
}

static const void *next_key_of(const void *items, size_t pos)
{
	return ((const struct peer_config *)items)[pos].next_public_key;
}

/* Errors found after every source was read name the peer's own file and line. */
static void at_peer(struct parser *p, const struct peer_config *peer)
{
	p->name = peer->file ? peer->file : p->config_name;
	p->line = peer->line;
}

/* A NextPublicKey names one peer only: no other peer's PublicKey or NextPublicKey. */
static bool check_next_keys(struct parser *p)
{
	struct config *c = p->config;
	struct hash_index next;
	size_t earlier;
	bool ok = true;

	if (!hash_index_init(&next, 16, KEY_LEN, next_key_of, c->peers))
		return fail(p, "out of memory");
	hash_index_rebase(&p->peer_keys, c->peers);
	for (size_t i = 0; ok && i < c->peers_len; ++i) {
		const struct peer_config *peer = &c->peers[i];

		if (!peer->has_next_key)
			continue;
		at_peer(p, peer);
		if ((earlier = hash_index_find(&p->peer_keys, peer->next_public_key)) !=
		    HASH_INDEX_NONE)
			ok = fail(
			    p,
			    "this [Peer]'s NextPublicKey is the PublicKey of the [Peer] at line %u",
			    c->peers[earlier].line);
		else if (!hash_index_add(&next, i, &earlier))
			ok = fail(p, "out of memory");
		else if (earlier != HASH_INDEX_NONE)
			ok = fail(p,
				  "this [Peer] repeats the NextPublicKey of the [Peer] at line %u",
				  c->peers[earlier].line);
	}
	hash_index_free(&next);
	return ok;
}

static bool begin_section(struct parser *p, const char *header)
{
	struct config *c = p->config;

	if (!end_section(p))
		return false;
	if (p->peers_only && strcasecmp(header, "[Peer]"))
		return fail(p, "`%s' in a file of PeerDirectory, which holds [Peer] sections only",
			    header);
	if (!strcasecmp(header, "[Interface]")) {
		p->section = SECTION_INTERFACE;
		return true; /* several [Interface] sections add up, as in wg(8) */
	}
	if (!strcasecmp(header, "[Group]")) {
		if (!crypto_grow_wiped((void **)&c->groups, &c->groups_cap, c->groups_len,
				       sizeof(*c->groups)))
			return fail(p, "out of memory");
		c->groups[c->groups_len++].line = p->line; /* the rest zeroed by the growth */
		p->section = SECTION_GROUP;
		for (int i = 0; i < KEY_COUNT; ++i)
			if (keys[i].section & SECTION_GROUP)
				p->seen[i] = 0;
		return true;
	}
	if (strcasecmp(header, "[Peer]"))
		return fail(p, "unknown section `%s': expected [Interface], [Peer] or [Group]",
			    header);
	if (!crypto_grow_wiped((void **)&c->peers, &c->peers_cap, c->peers_len, sizeof(*c->peers)))
		return fail(p, "out of memory");
	c->peers[c->peers_len].file = p->file;
	c->peers[c->peers_len++].line = p->line;
	p->section = SECTION_PEER;
	for (int i = 0; i < KEY_COUNT; ++i)
		if (keys[i].section & SECTION_PEER)
			p->seen[i] = 0;
	return true;
}

/*
 * "# friendly_name = X" inside a [Peer], the prometheus_wireguard_exporter
 * convention: the peer's name unless a Name key gives one.
 */
static bool note_comment(struct parser *p, char *comment)
{
	char *eq, *name;
	struct peer_config *peer;

	if (p->section != SECTION_PEER)
		return true;
	eq = strchr(comment, '=');
	if (!eq)
		return true;
	*eq = '\0';
	if (strcasecmp(trim(comment), "friendly_name"))
		return true;
	name = trim(eq + 1);
	peer = current_peer(p);
	if (p->seen[KEY_NAME] || !*name)
		return true;
	if (!peer_name_valid(name, false))
		return fail(p,
			    "friendly_name `%s' is not a peer name (1 to 64 characters, no commas)",
			    name);
	free(peer->name);
	return set_string(p, &peer->name, name);
}

static bool parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#'), *eq, *key_text, *value;
	int key;

	if (hash) {
		*hash = '\0';
		if (!note_comment(p, hash + 1))
			return false;
	}
	line = trim(line);
	if (!*line)
		return true;
	if (line[0] == '[')
		return begin_section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected `Key = Value' or a [Section], not `%s'", line);
	*eq = '\0';
	key_text = trim(line);
	value = eq + 1;
	key = find_key(key_text);
	if (key < 0)
		return fail(p, "unknown key `%s'", key_text);
	if (p->section == SECTION_NONE)
		return fail(p, "`%s' comes before any [Interface] or [Peer] section", key_text);
	if (!(keys[key].section & p->section))
		return fail(p, "%s belongs in %s, not in %s", keys[key].name,
			    section_names(keys[key].section), section_names(p->section));
	if (keys[key].quick)
		value = trim(value);
	else
		remove_whitespace(value);
	if (p->seen[key] && !keys[key].repeatable)
		return fail(p, "%s is set twice in this section (first at line %u)", keys[key].name,
			    p->seen[key]);
	if (!p->seen[key])
		p->seen[key] = p->line;
	return apply(p, (enum key)key, value);
}

/* Every group a peer names is defined by a [Group]. */
static bool check_group_references(struct parser *p)
{
	const struct config *c = p->config;

	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].groups.len; ++j) {
			const char *name = c->peers[i].groups.v[j];
			size_t k = 0;

			while (k < c->groups_len && strcmp(c->groups[k].name, name))
				++k;
			if (k == c->groups_len) {
				at_peer(p, &c->peers[i]);
				return fail(
				    p, "this [Peer] is in group `%s', which no [Group] defines",
				    name);
			}
		}
	return true;
}

bool config_tunnel_policy(const struct config *c)
{
	if (c->has_egress || c->groups_len)
		return true;
	for (size_t i = 0; i < c->peers_len; ++i)
		if (c->peers[i].has_allow || c->peers[i].groups.len)
			return true;
	return false;
}

bool config_has_policy(const struct config *c)
{
	return config_tunnel_policy(c) || c->api_ports.len || c->listen_sources.len ||
	       c->management_sources.len || c->masquerade.len || c->uplinks_len ||
	       (c->has_mss_clamp && c->mss_clamp != 0);
}

static const void *peer_key_of(const void *items, size_t pos)
{
	return ((const struct peer_config *)items)[pos].public_key;
}

static bool parser_begin(struct parser *p, struct config *config, char *err, size_t err_len)
{
	*p = (struct parser){.config = config,
			     .name = "config",
			     .config_name = "config",
			     .err = err,
			     .err_len = err_len};
	memset(config, 0, sizeof(*config));
	return hash_index_init(&p->peer_keys, 64, KEY_LEN, peer_key_of, NULL) ||
	       fail(p, "out of memory");
}

/* How many lines of text are a [Peer] header (written in any case, indented or not). */
static size_t peer_headers(const char *text, size_t len)
{
	size_t n = 0;

	for (const char *at = text, *end = text + len; at < end;) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));

		while (at < end && (*at == ' ' || *at == '\t'))
			++at;
		n += end - at >= 6 && !strncasecmp(at, "[Peer]", 6);
		at = nl ? nl + 1 : end;
	}
	return n;
}

/* One source's lines, the sections it ends with closed. */
static bool parser_feed(struct parser *p, const char *text, size_t len, const char *name,
			bool peers_only)
{
	char *line = malloc(len + 1); /* the longest line there can be: it never moves */
	bool ok = true;

	p->name = name ? name : "config";
	if (!peers_only)
		p->config_name = p->name;
	p->line = 0;
	p->section = SECTION_NONE;
	p->peers_only = peers_only;
	if (!line)
		return fail(p, "out of memory");
	if (memchr(text, '\0', len)) {
		const char *nul = memchr(text, '\0', len);

		p->line = 1;
		for (const char *c = text; c < nul; ++c)
			p->line += *c == '\n';
		free(line);
		return fail(p, "the file contains a NUL byte; is it really a config?");
	}
	/* the peers' array sized once: grown, it is copied and wiped each time */
	if (!crypto_reserve_wiped((void **)&p->config->peers, &p->config->peers_cap,
				  p->config->peers_len + peer_headers(text, len),
				  sizeof(*p->config->peers))) {
		free(line);
		return fail(p, "out of memory");
	}
	for (size_t start = 0; ok && start < len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t line_len = (nl ? (size_t)(nl - text) : len) - start;

		memcpy(line, text + start, line_len);
		line[line_len] = '\0';
		++p->line;
		ok = parse_line(p, line);
		crypto_wipe(line, line_len);
		start += line_len + 1;
	}
	free(line); /* wiped line by line */
	if (ok)
		ok = end_section(p);
	p->section = SECTION_NONE;
	return ok;
}

/* The checks across every source; the config is freed on failure. */
static bool parser_end(struct parser *p, bool ok)
{
	if (ok)
		ok = check_group_references(p);
	if (ok)
		ok = check_next_keys(p);
	hash_index_free(&p->peer_keys);
	if (!ok)
		config_free(p->config);
	return ok;
}

bool config_parse(struct config *config, const char *text, size_t len, const char *name, char *err,
		  size_t err_len)
{
	struct parser p;
	bool ok = parser_begin(&p, config, err, err_len);

	return parser_end(&p, ok && parser_feed(&p, text, len, name, false));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The peer files of a directory, sorted: NAME.conf, not hidden; false with the error said. */
static bool peer_files(struct parser *p, const char *dir, struct strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = true;

	if (!d)
		return fail(p, "PeerDirectory `%s' cannot be read: %s", dir, strerror(errno));
	while (ok && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".conf"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		/* what a symbolic link (a Kubernetes volume's) names; directories are not files */
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		ok = strv_push(out, path) || fail(p, "out of memory");
	}
	closedir(d);
	if (ok && out->len > 1)
		qsort(out->v, out->len, sizeof(*out->v), by_name);
	return ok;
}

/* Each peer file of dir (display: how messages name them, dir's own paths when NULL). */
static bool feed_directory(struct parser *p, const char *dir, const char *display)
{
	struct config *config = p->config;
	struct strv files = {0};
	bool ok = peer_files(p, dir, &files);

	for (size_t i = 0; ok && i < files.len; ++i) {
		size_t flen;
		char shown[4096], *ftext;

		if (display) {
			const char *base = strrchr(files.v[i], '/') + 1;
			size_t n = strlen(base) - 5, used;

			used = (size_t)snprintf(shown, sizeof(shown), "%s", display);
			if (n > 2 && !strncmp(base, "x-", 2) && n % 2 == 0) {
				/* a key that is no plain name: its bytes in hex */
				for (size_t k = 2; k + 1 < n && used + 1 < sizeof(shown); k += 2) {
					unsigned byte;

					if (sscanf(base + k, "%2x", &byte) == 1 && byte)
						shown[used++] = (char)byte;
				}
				shown[used] = '\0';
			} else {
				snprintf(shown + used, sizeof(shown) - used, "%.*s", (int)n, base);
			}
		}
		ok = strv_push(&config->peer_files, display ? shown : files.v[i]) ||
		     fail(p, "out of memory");
		ftext = ok ? read_file(files.v[i], 16u << 20, &flen, p->err, p->err_len) : NULL;
		ok = ok && ftext != NULL;
		/* the name stays put: nothing is pushed until the files are read */
		p->file = ok ? config->peer_files.v[config->peer_files.len - 1] : NULL;
		if (ok)
			ok = parser_feed(p, ftext, flen, p->file, true);
		if (ftext) {
			crypto_wipe(ftext, flen); /* preshared keys */
			free(ftext);
		}
	}
	p->file = NULL;
	strv_free(&files);
	return ok;
}

void config_state_path(char *out, size_t len, const char *ifname, const char *suffix)
{
	const char *dir = getenv("WGATE_STATE_DIR");

	snprintf(out, len, "%s/%s%s", dir && *dir ? dir : "/var/lib/wgate", ifname, suffix);
}

bool config_interface_name(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);

	if (n <= 5 || n - 5 >= len || strcmp(base + n - 5, ".conf"))
		return false;
	memcpy(out, base, n - 5);
	out[n - 5] = '\0';
	return true;
}

const char *config_etcd_prefix(const struct config *config, const char *ifname, char *buf,
			       size_t len)
{
	if (config->etcd.prefix)
		return config->etcd.prefix;
	snprintf(buf, len, "/wgate/%s/peers/", ifname);
	return buf;
}

bool config_parse_all(struct config *config, const char *text, size_t len, const char *name,
		      char *err, size_t err_len)
{
	struct parser p;
	bool ok = parser_begin(&p, config, err, err_len) && parser_feed(&p, text, len, name, false);

	if (ok && config->peer_directory) {
		p.name = name ? name : "config";
		p.line = config->peer_directory_line;
		ok = feed_directory(&p, config->peer_directory, NULL);
	}
	if (ok && config->etcd.endpoints.len) {
		char ifname[64], dir[4096], prefix[256], display[300];
		struct stat st;

		p.name = name ? name : "config";
		p.line = config->etcd_line;
		ok = (name && config_interface_name(name, ifname, sizeof(ifname))) ||
		     fail(&p, "EtcdEndpoints needs the config named INTERFACE.conf");
		if (ok) {
			/* the local copy of the store's peers, as the daemon last had them */
			config_state_path(dir, sizeof(dir), ifname, ".etcd");
			snprintf(display, sizeof(display), "etcd:%s",
				 config_etcd_prefix(config, ifname, prefix, sizeof(prefix)));
			if (stat(dir, &st) == 0)
				ok = feed_directory(&p, dir, display);
		}
	}
	return parser_end(&p, ok);
}

char *read_file(const char *path, size_t max, size_t *len, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t used = 0, cap = 0;

	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		st.st_size = 0;
	else if (S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "%s: is a directory, not a file", path);
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (used == cap) {
			/* at first the file's size and a byte more, to see its end in one read */
			size_t new_cap = cap ? cap * 2
					 : st.st_size > 0 && (uintmax_t)st.st_size < max
					     ? (size_t)st.st_size + 1
					     : 4096;
			char *bigger;

			if (cap > max) {
				snprintf(err, err_len, "%s: larger than %zu bytes", path, max);
				goto fail;
			}
			if (new_cap > max + 1)
				new_cap = max + 1;
			bigger = malloc(new_cap + 1); /* + 1 for the terminating NUL */
			if (!bigger) {
				snprintf(err, err_len, "%s: out of memory", path);
				goto fail;
			}
			if (buf) {
				memcpy(bigger, buf, used);
				crypto_wipe(buf, used);
				free(buf);
			}
			buf = bigger;
			cap = new_cap;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	*len = used;
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[used] = '\0';
	return buf;
fail:
	close(fd);
	if (buf)
		crypto_wipe(buf, cap + 1);
	free(buf);
	return NULL;
}

bool config_load(struct config *config, const char *path, char *err, size_t err_len)
{
	size_t len;
	char *text = read_file(path, 64u << 20, &len, err, err_len);
	bool ok;

	if (!text) {
		memset(config, 0, sizeof(*config));
		return false;
	}
	ok = config_parse_all(config, text, len, path, err, err_len);
	crypto_wipe(text, len);
	free(text);
	return ok;
}

int endpoint_lookup(const char *host, uint16_t port, union sockaddr_any *out)
{
	struct addrinfo hints = {
	    .ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP};
	struct addrinfo *res = NULL;
	char service[8];
	int ret;

	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(host, service, &hints, &res);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	if (res->ai_addrlen <= sizeof(*out))
		memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return out->sa.sa_family == AF_UNSPEC ? EAI_FAMILY : 0;
}

/* The address previous had for the same peer's same host:port; NULL when none. */
static const union sockaddr_any *
last_address(const struct config *previous, const struct peer_config *pc, const struct endpoint *ep)
{
	for (size_t i = 0; previous && i < previous->peers_len; ++i) {
		const struct peer_config *was = &previous->peers[i];

		if (memcmp(was->public_key, pc->public_key, KEY_LEN))
			continue;
		for (size_t k = 0; k < was->endpoints_len; ++k)
			if (was->endpoints[k].host && was->endpoints[k].port == ep->port &&
			    !strcmp(was->endpoints[k].host, ep->host) &&
			    was->endpoints[k].addr.sa.sa_family != AF_UNSPEC)
				return &was->endpoints[k].addr;
	}
	return NULL;
}

bool config_resolve_endpoints(struct config *config, const struct config *previous,
			      size_t *unresolved, char *err, size_t err_len)
{
	if (unresolved)
		*unresolved = 0;
	for (size_t i = 0; i < config->peers_len; ++i) {
		struct peer_config *pc = &config->peers[i];
		size_t resolved = 0;
		int first_error = 0;
		const char *first_host = NULL;

		for (size_t k = 0; k < pc->endpoints_len; ++k) {
			struct endpoint *ep = &pc->endpoints[k];
			const union sockaddr_any *last;
			int ret;

			if (!ep->host || ep->addr.sa.sa_family != AF_UNSPEC) {
				resolved += ep->host != NULL;
				continue;
			}
			/* Retried as wg(8) does, for boot-time configs whose DNS is not up yet. */
			for (int attempt = 0;; ++attempt) {
				ret = endpoint_lookup(ep->host, ep->port, &ep->addr);
				if (ret != EAI_AGAIN || attempt >= (previous ? 0 : 14))
					break;
				sleep(1);
			}
			if (ret && (last = last_address(previous, pc, ep)))
				ep->addr = *last, ret = 0;
			if (ret) {
				if (unresolved)
					++*unresolved;
				if (!first_host)
					first_host = ep->host, first_error = ret;
				continue;
			}
			++resolved;
		}
		/* one of several may be down: the others serve */
		if (first_host && !resolved) {
			snprintf(err, err_len,
				 "peer at line %u: cannot resolve Endpoint host `%s': %s", pc->line,
				 first_host, gai_strerror(first_error));
			return false;
		}
	}
	return true;
}

const union sockaddr_any *peer_config_endpoint(const struct peer_config *pc)
{
	return pc->endpoints_len && pc->endpoints[0].addr.sa.sa_family != AF_UNSPEC
		   ? &pc->endpoints[0].addr
		   : NULL;
}

bool peer_config_has_names(const struct peer_config *pc)
{
	for (size_t k = 0; k < pc->endpoints_len; ++k)
		if (!pc->endpoints[k].numeric)
			return true;
	return false;
}

uint32_t config_resolve_interval(const struct config *config)
{
	return config->has_resolve_interval ? config->resolve_interval : RESOLVE_INTERVAL_DEFAULT;
}

void config_wipe_secrets(struct config *config)
{
	if (config->has_private_key && !crypto_is_zero(config->private_key, KEY_LEN) &&
	    !config->has_public_key)
		config->has_public_key = x25519_public(config->public_key, config->private_key);
	crypto_wipe(config->private_key, sizeof(config->private_key));
	for (size_t i = 0; i < config->peers_len; ++i)
		crypto_wipe(config->peers[i].preshared_key, sizeof(config->peers[i].preshared_key));
}

void config_free(struct config *config)
{
	for (size_t i = 0; i < config->peers_len; ++i) {
		struct peer_config *peer = &config->peers[i];

		for (size_t j = 0; j < peer->endpoints_len; ++j)
			free(peer->endpoints[j].host);
		free(peer->endpoints);
		free(peer->allowed_ips);
		free(peer->name);
		policy_rules_free(&peer->allow);
		strv_free(&peer->groups);
	}
	for (size_t i = 0; i < config->groups_len; ++i) {
		free(config->groups[i].name);
		policy_rules_free(&config->groups[i].allow);
	}
	free(config->groups);
	policy_rules_free(&config->api_ports);
	policy_rules_free(&config->egress);
	prefixes_free(&config->management_sources);
	prefixes_free(&config->listen_sources);
	strv_free(&config->masquerade);
	free(config->uplinks);
	if (config->peers)
		crypto_wipe(config->peers, config->peers_cap * sizeof(*config->peers));
	free(config->peers);
	free(config->addresses);
	free(config->table);
	for (size_t i = 0; i < config->gateway_outputs_len; ++i)
		free(config->gateway_outputs[i].path);
	free(config->gateway_outputs);
	strv_free(&config->gateway_reload);
	free(config->public_endpoint);
	free(config->peer_directory);
	strv_free(&config->peer_files);
	strv_free(&config->etcd.endpoints);
	free(config->etcd.prefix);
	free(config->etcd.ca_file);
	free(config->etcd.cert_file);
	free(config->etcd.key_file);
	free(config->etcd.user);
	free(config->etcd.password_file);
	free(config->identity_address);
	free(config->metrics_address);
	strv_free(&config->dns);
	strv_free(&config->dns_search);
	strv_free(&config->pre_up);
	strv_free(&config->post_up);
	strv_free(&config->pre_down);
	strv_free(&config->post_down);
	crypto_wipe(config, sizeof(*config));
}

/*
 * Mirrors wg-quick's parse_options(): `read -r' drops leading and trailing
 * blanks (space, tab) of each line; the key is what precedes the first '='
 * of the comment-stripped line, trimmed; a key starting with '[' ends the
 * [Interface] section unless it is [Interface] itself. wgate's own keys go
 * from [Peer] sections too, and its [Group] sections go whole.
 */
void config_strip(const char *text, size_t len, FILE *out)
{
	unsigned section = SECTION_NONE;

	for (size_t start = 0; start < len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len, b = start, e = end, ks, ke;
		char key[32];
		bool last = !nl;

		start = end + 1;
		while (b < e && (text[b] == ' ' || text[b] == '\t'))
			++b;
		while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t'))
			--e;
		if (last && b == e)
			break;
		ks = b;
		ke = ks;
		while (ke < e && text[ke] != '#' && text[ke] != '=')
			++ke;
		while (ks < ke && isspace((unsigned char)text[ks]))
			++ks;
		while (ke > ks && isspace((unsigned char)text[ke - 1]))
			--ke;
		if (ke - ks < sizeof(key)) {
			int k;

			memcpy(key, text + ks, ke - ks);
			key[ke - ks] = '\0';
			if (key[0] == '[')
				section = !strcasecmp(key, "[Interface]") ? SECTION_INTERFACE
					  : !strcasecmp(key, "[Peer]")	  ? SECTION_PEER
					  : !strcasecmp(key, "[Group]")	  ? SECTION_GROUP
									  : SECTION_NONE;
			if (section == SECTION_GROUP)
				continue;
			k = find_key(key);
			if (k >= 0 && keys[k].quick && (keys[k].section & section))
				continue;
			if (k == KEY_ENDPOINT && section == SECTION_PEER) {
				/* wg takes one endpoint: the preferred */
				const char *comma = memchr(text + ke, ',', e - ke);

				while (comma && comma > text + ke &&
				       isspace((unsigned char)comma[-1]))
					--comma;
				if (comma)
					e = (size_t)(comma - text);
			}
		}
		fwrite(text + b, 1, e - b, out);
		fputc('\n', out);
	}
	fputc('\n', out);
}
