/* SPDX-License-Identifier: MIT */
/*
 * Addresses as the protocol and the config know them: prefixes, socket
 * addresses, a datagram's two ends; and their text forms (no I/O).
 */
#ifndef WGATE_ADDR_H
#define WGATE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

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
/* Where an HTTP endpoint may listen: as metrics_address_parse, or "unix:/absolute/path". */
#define UNIX_ADDRESS_PREFIX "unix:"
bool listen_address_valid(const char *text);
/* The prefix with its host bits cleared: 10.10.0.1/24 is 10.10.0.0/24. */
struct ip_prefix ip_prefix_network(const struct ip_prefix *p);
/* Whether inner lies inside outer (the same prefix included). */
bool ip_prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner);
/* "10.0.0.1/32" or "fd00::1/128"; out needs INET6_ADDRSTRLEN + 4 bytes. */
void ip_prefix_format(const struct ip_prefix *prefix, char *out, size_t out_len);

#endif
