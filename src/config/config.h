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

#include "encoding.h"

/* An address with a prefix length: an AllowedIPs entry or a wg-quick Address. */
struct ip_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t cidr;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/*
 * A datagram's two ends: the remote address, and the local address it arrived
 * at. Answers leave from that local address, so a host with several addresses
 * answers from the one the peer chose, as the kernel driver does (local.family
 * AF_UNSPEC: the routing table picks the source).
 */
struct wire_addr {
	union sockaddr_any remote;
	struct local_addr {
		sa_family_t family;
		unsigned ifindex; /* IPv6 link-local only; else 0 */
		union {
			struct in_addr v4;
			struct in6_addr v6;
		};
	} local;
};

struct endpoint {
	char *host; /* as written, without brackets; NULL when no endpoint is set */
	uint16_t port;
	union sockaddr_any addr; /* sa_family is AF_UNSPEC until resolved */
};

struct strv {
	char **v;
	size_t len;
};

/* The same strings in the same order. */
bool strv_equal(const struct strv *a, const struct strv *b);

struct peer_config {
	uint8_t public_key[KEY_LEN];
	uint8_t preshared_key[KEY_LEN];
	bool has_preshared_key;
	struct endpoint endpoint;
	uint16_t persistent_keepalive; /* seconds; 0 is off */
	bool has_persistent_keepalive;
	struct ip_prefix *allowed_ips;
	size_t allowed_ips_len, allowed_ips_cap;
	char *friendly_name; /* from a "# friendly_name = X" comment */
	unsigned line;	     /* of its [Peer] header */
};

struct config {
	uint8_t private_key[KEY_LEN];
	bool has_private_key;
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
	char *metrics_address; /* wgate's MetricsAddress; NULL when unset */
};

/* name (for messages) may be NULL. */
bool config_parse(struct config *config, const char *text, size_t len, const char *name, char *err,
		  size_t err_len) __attribute__((warn_unused_result));
bool config_load(struct config *config, const char *path, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* Resolves endpoints given as host names (numeric ones already are). */
bool config_resolve_endpoints(struct config *config, char *err, size_t err_len)
    __attribute__((warn_unused_result));
/* Wipes and frees everything; the struct is left zeroed. */
void config_free(struct config *config);
/*
 * Wipes the private and preshared keys, keeping whether each was set: for a
 * config kept after its keys went to the device (to diff the next reload).
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

bool ip_prefix_parse(struct ip_prefix *prefix, const char *text, bool need_cidr);
/* "192.0.2.1:51820" or "[2001:db8::1]:51820"; "none" for AF_UNSPEC. out: 64 bytes suffice. */
void sockaddr_format(const union sockaddr_any *addr, char *out, size_t out_len);
/* The length to pass with addr to bind, connect or sendto. */
socklen_t sockaddr_len(const union sockaddr_any *addr);
/* Same family, address, port (and IPv6 scope). */
bool sockaddr_equal(const union sockaddr_any *a, const union sockaddr_any *b);
/* Same remote end (sockaddr_equal) and same local address. */
bool wire_addr_equal(const struct wire_addr *a, const struct wire_addr *b);
/* Decimal, or hexadecimal after "0x" when allow_hex; no sign, no spaces; at most max. */
bool parse_uint(const char *s, uint64_t max, bool allow_hex, uint64_t *out);
/* parse_uint, or `off' in any case, which is 0: FwMark and PersistentKeepalive as wg reads them. */
bool parse_uint_or_off(const char *s, uint64_t max, bool allow_hex, uint64_t *out);
/*
 * Splits "host:port" or "[host]:port": host copied (false when it needs more
 * than host_cap bytes, or an unbracketed host holds a colon), *port pointing
 * at what follows the colon.
 */
bool host_port_split(const char *text, char *host, size_t host_cap, const char **port);
/* "127.0.0.1:9586" or "[::1]:9586", numeric; out may be NULL to only check. */
bool metrics_address_parse(const char *text, union sockaddr_any *out);
/* "10.0.0.1/32" or "fd00::1/128"; out needs INET6_ADDRSTRLEN + 4 bytes. */
void ip_prefix_format(const struct ip_prefix *prefix, char *out, size_t out_len);

#endif
