/* SPDX-License-Identifier: MIT */
/*
 * wgate's one data model for an interface's configuration, and the parser
 * for the wg(8) and wg-quick(8) file formats.
 *
 * A config is accepted or rejected whole: on failure nothing is left in the
 * struct to free and the error names the file, the line and the offending
 * text (never a secret key's text).
 */
#ifndef WGATE_CONFIG_H
#define WGATE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/encoding.h"
#include "config/policy.h"

struct endpoint {
	char *host; /* as written, without brackets; NULL when no endpoint is set */
	uint16_t port;
	bool numeric;		 /* an address, not a name: resolved once, at parse time */
	union sockaddr_any addr; /* sa_family is AF_UNSPEC until resolved */
};

struct strv {
	char **v;
	size_t len;
};

enum {
	ENDPOINTS_MAX = 8,	       /* per peer */
	RESOLVE_INTERVAL_DEFAULT = 60, /* seconds between resolutions of endpoints' names */
};

/* The same strings in the same order. */
bool strv_equal(const struct strv *a, const struct strv *b);
/* Appends a copy of s; false when out of memory. */
bool strv_push(struct strv *strv, const char *s);
void strv_free(struct strv *strv);
/* "a,b,c"; "" for none; NULL when out of memory. The caller frees. */
char *strv_join(const struct strv *strv);

struct peer_config {
	uint8_t public_key[KEY_LEN];
	uint8_t preshared_key[KEY_LEN];
	bool has_preshared_key;
	/* Endpoint: in order of preference (wgate's own: more than one); endpoints_len 0 none */
	struct endpoint *endpoints;
	uint8_t endpoints_len;
	uint32_t failover_ms, failback_ms; /* FailoverAfter, FailbackAfter; 0 the defaults */
	uint16_t persistent_keepalive;	   /* seconds; 0 is off */
	bool has_persistent_keepalive;
	struct ip_prefix *allowed_ips;
	size_t allowed_ips_len, allowed_ips_cap;
	char *name;    /* Name, or a "# friendly_name = X" comment; NULL when none */
	unsigned line; /* of its [Peer] header */
	const char
	    *file; /* the PeerDirectory file it is in (config->peer_files); NULL: the config */
	/* wgate's access policy: what this peer may reach, itself and through its groups */
	struct policy_rules allow;
	bool has_allow; /* an Allow line, even an empty one: then it reaches nothing */
	struct strv groups;
	int64_t expires; /* Expires: UNIX seconds; 0 never */
	/* A key rotation: NextPublicKey, accepted besides PublicKey until it handshakes */
	bool has_next_key;
	uint8_t next_public_key[KEY_LEN];
	int64_t rotation_deadline; /* RotationDeadline: UNIX seconds; 0 none */
};

/* The peer's preferred endpoint's address, or NULL when it has none resolved. */
const union sockaddr_any *peer_config_endpoint(const struct peer_config *pc);
/* Whether any of the peer's endpoints is given as a name. */
bool peer_config_has_names(const struct peer_config *pc);

/* Uplink = DEV via GATEWAY table N: tunnel traffic bound for the default route leaves through DEV.
 */
struct uplink_config {
	char dev[16];
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} via;
	uint32_t table; /* also the packets' mark */
};

/* The gateway configs wgate writes from the peers (ops/gateway.h). */
enum gateway_format {
	GATEWAY_NGINX,
	GATEWAY_HAPROXY,
	GATEWAY_ENVOY,
	GATEWAY_KONG,
	GATEWAY_FORMATS
};
/* "nginx", "haproxy", "envoy", "kong"; false for anything else. */
bool gateway_format_parse(const char *name, enum gateway_format *out);
const char *gateway_format_name(enum gateway_format format);

/* GatewayConfig = FORMAT PATH */
struct gateway_output {
	enum gateway_format format;
	char *path;
};

/* A [Group]: peers that name it in Groups may reach what it allows. */
struct group_config {
	char *name;
	struct policy_rules allow;
	unsigned line;
};

struct config {
	uint8_t private_key[KEY_LEN];
	bool has_private_key;
	uint8_t public_key[KEY_LEN]; /* the private key's, set when it is wiped */
	bool has_public_key;
	uint16_t listen_port;
	bool has_listen_port;
	uint32_t fwmark; /* 0 is off */
	bool has_fwmark;
	struct peer_config *peers;
	size_t peers_len, peers_cap;

	/* wg-quick(8) keys */
	struct ip_prefix *addresses;
	size_t addresses_len, addresses_cap;
	struct strv dns, dns_search;
	uint32_t mtu;
	bool has_mtu;
	char *table; /* "auto", "off", a number or a table name; NULL when unset */
	struct strv pre_up, post_up, pre_down, post_down;
	bool save_config;
	char *metrics_address;			/* wgate's MetricsAddress; NULL when unset */
	char *identity_address;			/* wgate's IdentityAddress; NULL when unset (off) */
	struct gateway_output *gateway_outputs; /* GatewayConfig: written at up and reload */
	size_t gateway_outputs_len;
	struct strv gateway_reload; /* GatewayReload: run when one of them changed */
	char *public_endpoint;	    /* PublicEndpoint: HOST:PORT for clients; NULL when unset */
	int64_t key_max_age; /* KeyMaxAge: seconds a key may be in use (wgate check); 0 none */
	uint32_t resolve_interval; /* ResolveInterval: seconds; 0 off */
	char *peer_directory;	   /* PeerDirectory: more [Peer] sections, one file each */
	unsigned peer_directory_line;
	struct strv peer_files; /* the files read from it, sorted */
	/* the peer set in etcd (ops/peer_store.h): Etcd* keys; endpoints.len 0 when unused */
	struct {
		struct strv endpoints;
		char *prefix; /* NULL: /wgate/INTERFACE/peers/ */
		char *ca_file, *cert_file, *key_file, *user, *password_file;
	} etcd;
	unsigned etcd_line;
	bool has_resolve_interval;

	/* wgate's access policy (wgate(8), GATEWAY KEYS) */
	struct policy_rules api_ports; /* gateway services only peers and management reach */
	struct prefixes management_sources, listen_sources;
	struct policy_rules egress; /* what may be forwarded from the tunnel */
	bool has_egress;
	int mss_clamp; /* MSS_CLAMP_AUTO (the default), 0 off, or the MSS */
	bool has_mss_clamp;
	struct strv masquerade;	       /* uplinks forwarded traffic leaves masqueraded through */
	struct uplink_config *uplinks; /* policy routing, one per family at most */
	size_t uplinks_len;
	struct group_config *groups;
	size_t groups_len, groups_cap;
};

/*
 * Whether the tunnel's traffic is filtered per peer: once Egress, a [Group],
 * or a peer's Allow or Groups is written, peers reach only what they are
 * allowed and nothing is forwarded outside Egress.
 */
bool config_tunnel_policy(const struct config *config);
/* Whether wgate keeps an nftables table for the interface at all. */
bool config_has_policy(const struct config *config);

/*
 * name (for messages) may be NULL. config_parse() reads text alone;
 * config_parse_all() and config_load() add the peers of PeerDirectory's files.
 */
bool config_parse_all(struct config *config, const char *text, size_t len, const char *name,
		      char *err, size_t err_len) __attribute__((warn_unused_result));
bool config_parse(struct config *config, const char *text, size_t len, const char *name, char *err,
		  size_t err_len) __attribute__((warn_unused_result));
bool config_load(struct config *config, const char *path, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* Where wgate keeps an interface's state: WGATE_STATE_DIR (default /var/lib/wgate)/IFNAME SUFFIX.
 */
void config_state_path(char *out, size_t len, const char *ifname, const char *suffix);
/* The interface a config file is for: its name without .conf; false when it has none. */
bool config_interface_name(const char *path, char *out, size_t len);
/* The etcd key prefix of the interface's peers (EtcdPrefix, or /wgate/IFNAME/peers/). */
const char *config_etcd_prefix(const struct config *config, const char *ifname, char *buf,
			       size_t len);

/*
 * Resolves endpoints given as host names (numeric ones already are). A name
 * that does not resolve keeps the address previous (NULL: none; at reload,
 * the running config) had for it; without one it fails the config, unless
 * another endpoint of the same peer resolved (counted in *unresolved, which
 * may be NULL). Without previous, a temporary failure is retried for 15 s
 * (boot, DNS not up yet).
 */
bool config_resolve_endpoints(struct config *config, const struct config *previous,
			      size_t *unresolved, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* One name's first address for UDP (getaddrinfo, which may block): 0 or an EAI_ error. */
int endpoint_lookup(const char *host, uint16_t port, union sockaddr_any *out);
/* Seconds between resolutions of endpoints' names (ResolveInterval); 0 off. */
uint32_t config_resolve_interval(const struct config *config);
/* Wipes and frees everything; the struct is left zeroed. */
void config_free(struct config *config);
/*
 * Wipes the private and preshared keys, keeping whether each was set and the
 * private key's public key: for a config kept after its keys went to the
 * device (to diff the next reload).
 */
void config_wipe_secrets(struct config *config);

/*
 * Writes the part of a config that wg(8) understands: every line except the
 * wg-quick and wgate keys of [Interface] sections, byte for byte as
 * `wg-quick strip` prints it.
 */
void config_strip(const char *text, size_t len, FILE *out);

/*
 * Reads a whole file, refusing more than max bytes, and adds a NUL after it
 * (len excludes it); the caller wipes and frees.
 */
char *read_file(const char *path, size_t max, size_t *len, char *err, size_t err_len);

#endif
