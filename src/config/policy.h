/* SPDX-License-Identifier: MIT */
/*
 * The access policy's vocabulary: the values of wgate's own keys ApiPorts,
 * ManagementSources, ListenSources, Egress, Allow, Groups, MssClamp and
 * Masquerade (wgate(8), GATEWAY KEYS). Parsing only; ops/firewall.c turns a
 * config's policy into nftables rules.
 */
#ifndef WGATE_POLICY_H
#define WGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/*
 * One thing a peer may reach, or the gateway may forward: a destination
 * (the gateway itself, a prefix, or anything), a protocol and a port range.
 */
struct policy_rule {
	bool gateway;	       /* the gateway's own addresses */
	struct ip_prefix dest; /* family 0: any destination */
	uint8_t proto;	       /* 0 any; IPPROTO_TCP, IPPROTO_UDP, or IPPROTO_ICMP for both ICMPs */
	uint16_t port_lo, port_hi; /* 0 and 0: any port */
};

struct policy_rules {
	struct policy_rule *v;
	size_t len, cap;
};

struct prefixes {
	struct ip_prefix *v;
	size_t len, cap;
};

/* What an item may say. */
enum rule_form {
	RULE_PORTS, /* ApiPorts: "tcp/443", "443" (TCP), "udp/5000-5100" */
	RULE_ALLOW, /* Allow: "gateway tcp/443", "10.20.0.0/16 tcp/5432", "10.30.0.5" */
	RULE_EGRESS /* Egress: as Allow, without "gateway" */
};

/*
 * Parses one comma-separated item. On failure *why says what is wrong with
 * it (a static string, to follow the quoted item in an error).
 */
bool policy_rule_parse(struct policy_rule *rule, const char *item, enum rule_form form,
		       const char **why);
bool policy_rules_add(struct policy_rules *rules, const struct policy_rule *rule);
void policy_rules_free(struct policy_rules *rules);
bool prefixes_add(struct prefixes *list, const struct ip_prefix *prefix);
void prefixes_free(struct prefixes *list);

/* "gateway tcp/443", "10.20.0.0/16 udp/53", "any icmp": the text form, for messages and comments.
 */
void policy_rule_format(const struct policy_rule *rule, char *out, size_t len);

/* A group's name: 1 to 32 of letters, digits, '_', '-', '.'. */
bool policy_name_valid(const char *name);

/*
 * A peer's name: 1 to PEER_NAME_MAX bytes of text without control characters
 * or commas (it travels in HTTP headers and metrics labels). strict (the Name
 * key) asks for a token gateways' config files carry unquoted: letters,
 * digits, '_', '-', '.', '@'.
 */
#define PEER_NAME_MAX	64
#define PEER_GROUPS_MAX 16
bool peer_name_valid(const char *name, bool strict);

/*
 * A moment in UTC: "2026-12-31" (its midnight) or "2026-12-31T18:30:00Z"
 * (seconds optional); false for anything else, or before 1970.
 */
bool utc_time_parse(const char *text, int64_t *out);

#define MSS_CLAMP_AUTO (-1)

#endif
