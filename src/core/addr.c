// SPDX-License-Identifier: MIT
/* Addresses, prefixes and numbers as text: see addr.h. */
#include "core/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

bool parse_uint(const char *s, uint64_t max, bool allow_hex, uint64_t *out)
{
	int base = 10;
	char *end;
	unsigned long long v;

	if (allow_hex && (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_uint_or_off(const char *s, uint64_t max, bool allow_hex, uint64_t *out)
{
	if (strcasecmp(s, "off"))
		return parse_uint(s, max, allow_hex, out);
	*out = 0;
	return true;
}

socklen_t sockaddr_len(const union sockaddr_any *addr)
{
	return addr->sa.sa_family == AF_INET ? sizeof(addr->v4) : sizeof(addr->v6);
}

bool sockaddr_equal(const union sockaddr_any *a, const union sockaddr_any *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->v4.sin_port == b->v4.sin_port &&
		       a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
	return a->v6.sin6_port == b->v6.sin6_port &&
	       !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof(a->v6.sin6_addr)) &&
	       a->v6.sin6_scope_id == b->v6.sin6_scope_id;
}

bool wire_addr_equal(const struct wire_addr *a, const struct wire_addr *b)
{
	const struct local_addr *x = &a->local, *y = &b->local;

	if (!sockaddr_equal(&a->remote, &b->remote) || x->family != y->family)
		return false;
	if (x->family == AF_INET)
		return x->v4.s_addr == y->v4.s_addr;
	return x->family != AF_INET6 ||
	       (x->ifindex == y->ifindex && !memcmp(&x->v6, &y->v6, sizeof(x->v6)));
}

void sockaddr_format(const union sockaddr_any *addr, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN];

	if (addr->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &addr->v4.sin_addr, ip, sizeof(ip));
		snprintf(out, out_len, "%s:%u", ip, ntohs(addr->v4.sin_port));
	} else if (addr->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &addr->v6.sin6_addr, ip, sizeof(ip));
		snprintf(out, out_len, "[%s]:%u", ip, ntohs(addr->v6.sin6_port));
	} else {
		snprintf(out, out_len, "none");
	}
}

bool host_port_split(const char *text, char *host, size_t host_cap, const char **port)
{
	const char *start = text, *end;

	if (text[0] == '[') {
		start = text + 1;
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			return false;
		*port = end + 2;
	} else {
		end = strrchr(text, ':');
		if (!end || memchr(text, ':', (size_t)(end - text)))
			return false;
		*port = end + 1;
	}
	if ((size_t)(end - start) >= host_cap)
		return false;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return true;
}

bool metrics_address_parse(const char *text, union sockaddr_any *out)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char host[INET6_ADDRSTRLEN + 8];
	const char *port;

	if (!host_port_split(text, host, sizeof(host), &port) || !*port ||
	    strspn(port, "0123456789") != strlen(port) || getaddrinfo(host, port, &hints, &res))
		return false;
	if (out && res->ai_addrlen <= sizeof(*out))
		memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return true;
}

struct ip_prefix ip_prefix_network(const struct ip_prefix *p)
{
	struct ip_prefix n = *p;
	uint8_t *b = (uint8_t *)&n.addr;
	unsigned bytes = p->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; ++i) {
		unsigned keep = p->cidr > i * 8 ? p->cidr - i * 8 : 0;

		if (keep < 8)
			b[i] &= (uint8_t)(0xff00u >> keep);
	}
	return n;
}

bool ip_prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	const uint8_t *a = (const uint8_t *)&outer->addr, *b = (const uint8_t *)&inner->addr;
	unsigned whole = outer->cidr / 8, rest = outer->cidr % 8;

	if (outer->family != inner->family || inner->cidr < outer->cidr)
		return false;
	if (memcmp(a, b, whole))
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (uint8_t)(0xff00u >> rest));
}

bool listen_address_valid(const char *text)
{
	const size_t prefix = sizeof(UNIX_ADDRESS_PREFIX) - 1;

	if (!strncmp(text, UNIX_ADDRESS_PREFIX, prefix))
		return text[prefix] == '/' &&
		       strlen(text + prefix) < sizeof(((struct sockaddr_un *)0)->sun_path);
	return metrics_address_parse(text, NULL);
}

bool ip_prefix_parse(struct ip_prefix *prefix, const char *text, bool need_cidr)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint64_t cidr;
	int max;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(prefix, 0, sizeof(*prefix));
	if (inet_pton(AF_INET, buf, &prefix->addr.v4) == 1) {
		prefix->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, &prefix->addr.v6) == 1) {
		prefix->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	if (!slash) {
		prefix->cidr = (uint8_t)max;
		return !need_cidr;
	}
	if (!parse_uint(slash, (uint64_t)max, false, &cidr))
		return false;
	prefix->cidr = (uint8_t)cidr;
	return true;
}

void ip_prefix_format(const struct ip_prefix *prefix, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(prefix->family, &prefix->addr, ip, sizeof(ip));
	snprintf(out, out_len, "%s/%u", ip, prefix->cidr);
}
