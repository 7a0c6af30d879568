// SPDX-License-Identifier: MIT
/* The access policy's values: see policy.h. */
#include "config/policy.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "core/crypto.h"

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	char text[8];
	uint64_t n;

	if (!len || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	if (!parse_uint(text, 65535, false, &n) || !n)
		return false;
	*out = (uint16_t)n;
	return true;
}

/* "tcp", "udp", "icmp", "any", "tcp/443", "udp/5000-5100", or a bare port (TCP). */
static bool parse_service(struct policy_rule *rule, const char *s, const char **why)
{
	const char *slash = strchr(s, '/'), *ports = s, *dash;
	size_t name_len = slash ? (size_t)(slash - s) : strlen(s);

	if (strspn(s, "0123456789-") == strlen(s)) {
		rule->proto = IPPROTO_TCP;
	} else {
		if (name_len == 3 && !strncasecmp(s, "tcp", 3))
			rule->proto = IPPROTO_TCP;
		else if (name_len == 3 && !strncasecmp(s, "udp", 3))
			rule->proto = IPPROTO_UDP;
		else if (name_len == 4 && !strncasecmp(s, "icmp", 4))
			rule->proto = IPPROTO_ICMP;
		else if (name_len == 3 && !strncasecmp(s, "any", 3))
			rule->proto = 0;
		else
			return *why = "names no protocol: expected tcp, udp, icmp or any, "
				      "then /PORT or /FIRST-LAST for tcp and udp",
			       false;
		if (!slash)
			return true;
		if (rule->proto != IPPROTO_TCP && rule->proto != IPPROTO_UDP)
			return *why = "has ports, which only tcp and udp have", false;
		ports = slash + 1;
	}
	dash = strchr(ports, '-');
	if (!parse_port(ports, dash ? (size_t)(dash - ports) : strlen(ports), &rule->port_lo) ||
	    (dash && !parse_port(dash + 1, strlen(dash + 1), &rule->port_hi)))
		return *why = "has a bad port: expected a number from 1 to 65535, or FIRST-LAST",
		       false;
	if (!dash)
		rule->port_hi = rule->port_lo;
	if (rule->port_hi < rule->port_lo)
		return *why = "has a port range that ends before it starts", false;
	return true;
}

bool policy_rule_parse(struct policy_rule *rule, const char *item, enum rule_form form,
		       const char **why)
{
	char first[64], second[64], extra[2];
	int n = sscanf(item, "%63s %63s %1s", first, second, extra);

	memset(rule, 0, sizeof(*rule));
	if (n < 1 || n > 2)
		return *why = n > 2 ? "has more than a destination and a service" : "is empty",
		       false;
	if (form == RULE_PORTS) {
		if (n != 1)
			return *why = "is not a port: expected tcp/PORT, udp/PORT or a TCP port",
			       false;
		rule->gateway = true;
		if (!parse_service(rule, first, why))
			return false;
		if (!rule->port_lo)
			return *why = "has no port: expected tcp/PORT, udp/PORT or a TCP port",
			       false;
		return true;
	}
	if (!strcasecmp(first, "gateway")) {
		if (form == RULE_EGRESS)
			return *why = "names the gateway: Egress is what is forwarded past it",
			       false;
		rule->gateway = true;
	} else if (!strcasecmp(first, "any")) {
		/* any destination */
	} else if (!ip_prefix_parse(&rule->dest, first, false)) {
		return *why = "does not start with `gateway', `any' or an IP address with an "
			      "optional /prefix",
		       false;
	}
	return n == 1 || parse_service(rule, second, why);
}

bool policy_rules_add(struct policy_rules *rules, const struct policy_rule *rule)
{
	if (!crypto_grow_wiped((void **)&rules->v, &rules->cap, rules->len, sizeof(*rules->v)))
		return false;
	rules->v[rules->len++] = *rule;
	return true;
}

void policy_rules_free(struct policy_rules *rules)
{
	free(rules->v);
	memset(rules, 0, sizeof(*rules));
}

bool prefixes_add(struct prefixes *list, const struct ip_prefix *prefix)
{
	if (!crypto_grow_wiped((void **)&list->v, &list->cap, list->len, sizeof(*list->v)))
		return false;
	list->v[list->len++] = *prefix;
	return true;
}

void prefixes_free(struct prefixes *list)
{
	free(list->v);
	memset(list, 0, sizeof(*list));
}

void policy_rule_format(const struct policy_rule *rule, char *out, size_t len)
{
	char dest[INET6_ADDRSTRLEN + 8] = "any";
	const char *proto = rule->proto == IPPROTO_TCP	  ? "tcp"
			    : rule->proto == IPPROTO_UDP  ? "udp"
			    : rule->proto == IPPROTO_ICMP ? "icmp"
							  : "any";

	if (rule->gateway)
		snprintf(dest, sizeof(dest), "gateway");
	else if (rule->dest.family)
		ip_prefix_format(&rule->dest, dest, sizeof(dest));
	if (rule->port_lo && rule->port_lo != rule->port_hi)
		snprintf(out, len, "%s %s/%u-%u", dest, proto, rule->port_lo, rule->port_hi);
	else if (rule->port_lo)
		snprintf(out, len, "%s %s/%u", dest, proto, rule->port_lo);
	else
		snprintf(out, len, "%s %s", dest, proto);
}

bool utc_time_parse(const char *text, int64_t *out)
{
	struct tm tm = {0};
	const char *end = strptime(text, "%Y-%m-%d", &tm);
	time_t t;

	if (!end || strlen(text) != 10 + strlen(end) || text[4] != '-' || text[7] != '-')
		return false;
	if (*end) {
		const char *rest = strptime(end, "T%H:%M", &tm);

		if (!rest)
			return false;
		if (*rest == ':' && !(rest = strptime(rest, ":%S", &tm)))
			return false;
		if (strcmp(rest, "Z"))
			return false;
	}
	t = timegm(&tm);
	if (t < 0)
		return false;
	*out = (int64_t)t;
	return true;
}

bool peer_name_valid(const char *name, bool strict)
{
	size_t len = strlen(name);

	if (len < 1 || len > PEER_NAME_MAX)
		return false;
	if (strict)
		return strspn(
			   name,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@") ==
		       len;
	for (size_t i = 0; i < len; ++i)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == ',')
			return false;
	return true;
}

bool policy_name_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= 32 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
		   len;
}
