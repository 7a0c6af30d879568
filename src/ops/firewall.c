// SPDX-License-Identifier: MIT
/*
 * The access policy as one nftables table (see firewall.h and wgate(8),
 * ACCESS POLICY). Traffic from the tunnel is told apart by its inner source
 * address: cryptokey routing has already dropped any packet whose source is
 * not in the sending peer's AllowedIPs, so a source prefix names a peer.
 *
 * Packets a peer sends are checked against its rules every time, not only
 * when a connection starts: a reload that narrows a peer's reach ends its
 * connections that are no longer allowed. Replies to connections the
 * gateway or a backend opened (conntrack's reply direction) pass.
 */
#include "ops/firewall.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "host/log.h"
#include "host/nft.h"

/* A peer's source prefix, for the map from sources to peers. */
struct source {
	struct ip_prefix prefix; /* host bits cleared */
	size_t peer;
};

/* A prefix as nft writes it: host bits cleared. */
static void prefix_text(const struct ip_prefix *p, char *out, size_t len)
{
	struct ip_prefix n = ip_prefix_network(p);

	ip_prefix_format(&n, out, len);
}

static int compare_sources(const void *a, const void *b)
{
	const struct source *x = a, *y = b;
	int c;

	if (x->prefix.family != y->prefix.family)
		return x->prefix.family - y->prefix.family;
	c = memcmp(&x->prefix.addr, &y->prefix.addr, x->prefix.family == AF_INET ? 4 : 16);
	return c ? c : (int)x->prefix.cidr - (int)y->prefix.cidr;
}

/* The last address of a prefix, in network order. */
static void last_address(const struct ip_prefix *p, uint8_t out[16])
{
	unsigned bytes = p->family == AF_INET ? 4 : 16;

	memcpy(out, &p->addr, bytes);
	for (unsigned i = 0; i < bytes; ++i) {
		unsigned keep = p->cidr > i * 8 ? p->cidr - i * 8 : 0;

		if (keep < 8)
			out[i] |= (uint8_t)(0xffu >> keep);
	}
}

/* Sorted: whether one prefix lies inside another (a map of intervals cannot hold both). */
static bool sources_overlap(const struct source *s, size_t n)
{
	uint8_t end[16] = {0}, last[16];
	int family = 0;

	for (size_t i = 0; i < n; ++i) {
		unsigned bytes = s[i].prefix.family == AF_INET ? 4 : 16;

		if (s[i].prefix.family == family && memcmp(&s[i].prefix.addr, end, bytes) <= 0)
			return true;
		last_address(&s[i].prefix, last);
		if (s[i].prefix.family != family || memcmp(last, end, bytes) > 0)
			memcpy(end, last, bytes);
		family = s[i].prefix.family;
	}
	return false;
}

/* The match part of a rule; to_gateway leaves out the destination. */
static void write_match(FILE *f, const struct policy_rule *r, bool to_gateway)
{
	const char *proto = r->proto == IPPROTO_TCP ? "tcp" : "udp";
	char text[64];

	if (!to_gateway && r->dest.family) {
		prefix_text(&r->dest, text, sizeof(text));
		fprintf(f, "%s daddr %s ", r->dest.family == AF_INET ? "ip" : "ip6", text);
	}
	if ((r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) && r->port_lo) {
		if (r->port_hi != r->port_lo)
			fprintf(f, "%s dport %u-%u ", proto, r->port_lo, r->port_hi);
		else
			fprintf(f, "%s dport %u ", proto, r->port_lo);
	} else if (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) {
		fprintf(f, "meta l4proto %s ", proto);
	} else if (r->proto == IPPROTO_ICMP) {
		fprintf(f, "meta l4proto { icmp, ipv6-icmp } ");
	}
}

static void write_rule(FILE *f, const struct policy_rule *r, bool to_gateway, const char *verdict)
{
	char text[96];

	policy_rule_format(r, text, sizeof(text));
	fprintf(f, "\t\t");
	write_match(f, r, to_gateway);
	fprintf(f, "%s comment \"%s\"\n", verdict, text);
}

/* The rules that say where a peer may go: its own and its groups'. */
struct reach {
	const struct policy_rules *lists[65];
	size_t len;
	bool by_default; /* no Allow and no group: the ApiPorts and ping */
};

static void reach_of(const struct config *c, const struct peer_config *peer, struct reach *r)
{
	memset(r, 0, sizeof(*r));
	r->by_default = !peer->has_allow && !peer->groups.len;
	if (r->by_default) {
		r->lists[r->len++] = &c->api_ports;
		return;
	}
	r->lists[r->len++] = &peer->allow;
	for (size_t g = 0; g < peer->groups.len; ++g)
		for (size_t k = 0; k < c->groups_len && r->len < 65; ++k)
			if (!strcmp(c->groups[k].name, peer->groups.v[g]))
				r->lists[r->len++] = &c->groups[k].allow;
}

static void peer_label(const struct peer_config *peer, char *out, size_t len)
{
	char key[KEY_BASE64_LEN + 1];

	key_to_base64(key, peer->public_key);
	if (peer->name)
		snprintf(out, len, "peer %.40s (%s)", peer->name, key);
	else
		snprintf(out, len, "peer %s", key);
	for (char *p = out; *p; ++p) /* a comment is a quoted string */
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '_';
}

static void write_peer_chains(FILE *f, const struct config *c, size_t i)
{
	const struct peer_config *peer = &c->peers[i];
	struct reach r;
	char label[128];

	reach_of(c, peer, &r);
	peer_label(peer, label, sizeof(label));
	fprintf(f, "\tchain peer_%zu_in {\n", i);
	for (size_t l = 0; l < r.len; ++l)
		for (size_t k = 0; k < r.lists[l]->len; ++k) {
			const struct policy_rule *rule = &r.lists[l]->v[k];

			if (rule->gateway || !rule->dest.family)
				write_rule(f, rule, true, "accept");
		}
	if (r.by_default)
		fprintf(f, "\t\ticmp type echo-request accept comment \"ping\"\n"
			   "\t\ticmpv6 type echo-request accept comment \"ping\"\n");
	fprintf(f, "\t\tcounter drop comment \"%s: to the gateway\"\n\t}\n", label);
	fprintf(f, "\tchain peer_%zu_fwd {\n", i);
	for (size_t l = 0; l < r.len; ++l)
		for (size_t k = 0; k < r.lists[l]->len; ++k) {
			const struct policy_rule *rule = &r.lists[l]->v[k];

			if (!rule->gateway)
				write_rule(f, rule, false, "accept");
		}
	fprintf(f, "\t\tcounter drop comment \"%s: forwarded\"\n\t}\n", label);
}

/* ip saddr vmap { 10.10.0.2/32 : jump peer_0_in, ... }, or rules longest prefix first. */
static void write_dispatch(FILE *f, struct source *s, size_t n, bool overlap, const char *suffix)
{
	int families[] = {AF_INET, AF_INET6};
	char text[64];

	if (overlap) {
		for (unsigned cidr = 129; cidr-- > 0;)
			for (size_t i = 0; i < n; ++i) {
				if (s[i].prefix.cidr != cidr)
					continue;
				prefix_text(&s[i].prefix, text, sizeof(text));
				fprintf(f, "\t\t%s saddr %s jump peer_%zu_%s\n",
					s[i].prefix.family == AF_INET ? "ip" : "ip6", text,
					s[i].peer, suffix);
			}
		return;
	}
	for (int fam = 0; fam < 2; ++fam) {
		bool first = true;

		for (size_t i = 0; i < n; ++i) {
			if (s[i].prefix.family != families[fam])
				continue;
			prefix_text(&s[i].prefix, text, sizeof(text));
			fprintf(f, "%s%s : jump peer_%zu_%s",
				first ? (fam ? "\t\tip6 saddr vmap { " : "\t\tip saddr vmap { ")
				      : ", ",
				text, s[i].peer, suffix);
			first = false;
		}
		if (!first)
			fprintf(f, " }\n");
	}
}

/* { a, b, c } of one family's prefixes, or "" when it has none. */
static bool write_prefix_set(FILE *f, const struct prefixes *list, int family)
{
	char text[64];
	bool any = false;

	for (size_t i = 0; i < list->len; ++i) {
		if (list->v[i].family != family)
			continue;
		prefix_text(&list->v[i], text, sizeof(text));
		fprintf(f, "%s%s", any ? ", " : "{ ", text);
		any = true;
	}
	if (any)
		fprintf(f, " } ");
	return any;
}

static void write_listen_sources(FILE *f, const struct config *c, const struct firewall_params *fp)
{
	static const char *const fam_name[2] = {"ipv4", "ipv6"};
	int families[] = {AF_INET, AF_INET6};

	if (!c->listen_sources.len || !fp->listen_port)
		return;
	for (int i = 0; i < 2; ++i) {
		fprintf(f, "\t\tmeta nfproto %s udp dport %u ", fam_name[i], fp->listen_port);
		for (size_t k = 0; k < c->listen_sources.len; ++k)
			if (c->listen_sources.v[k].family == families[i]) {
				fprintf(f, "%s saddr != ", i ? "ip6" : "ip");
				write_prefix_set(f, &c->listen_sources, families[i]);
				break;
			}
		fprintf(f, "counter drop comment \"ListenSources\"\n");
	}
}

static void write_ports_set(FILE *f, const struct policy_rules *ports, uint8_t proto)
{
	bool any = false;

	for (size_t i = 0; i < ports->len; ++i) {
		const struct policy_rule *r = &ports->v[i];

		if (r->proto != proto)
			continue;
		if (r->port_hi != r->port_lo)
			fprintf(f, "%s%u-%u", any ? ", " : "{ ", r->port_lo, r->port_hi);
		else
			fprintf(f, "%s%u", any ? ", " : "{ ", r->port_lo);
		any = true;
	}
	fprintf(f, " } ");
}

static bool has_proto(const struct policy_rules *ports, uint8_t proto)
{
	for (size_t i = 0; i < ports->len; ++i)
		if (ports->v[i].proto == proto)
			return true;
	return false;
}

static void write_api_ports(FILE *f, const struct config *c, const char *ifname)
{
	static const char *const fam_name[2] = {"ipv4", "ipv6"};
	int families[] = {AF_INET, AF_INET6};
	uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};

	for (int p = 0; p < 2; ++p) {
		if (!has_proto(&c->api_ports, protos[p]))
			continue;
		for (int i = 0; i < 2; ++i) {
			fprintf(f, "\t\tiifname != \"lo\" iifname != \"%s\" meta nfproto %s ",
				ifname, fam_name[i]);
			for (size_t k = 0; k < c->management_sources.len; ++k)
				if (c->management_sources.v[k].family == families[i]) {
					fprintf(f, "%s saddr != ", i ? "ip6" : "ip");
					write_prefix_set(f, &c->management_sources, families[i]);
					break;
				}
			fprintf(f, "%s dport ", p ? "udp" : "tcp");
			write_ports_set(f, &c->api_ports, protos[p]);
			fprintf(f, "counter drop comment \"ApiPorts from outside the tunnel\"\n");
		}
	}
}

static int mss_of(const struct config *c, unsigned mtu, int family)
{
	int mss = c->has_mss_clamp ? c->mss_clamp : MSS_CLAMP_AUTO;

	if (mss == MSS_CLAMP_AUTO)
		mss = (int)mtu - (family == AF_INET ? 40 : 60);
	return mss;
}

static void write_full_tunnel(FILE *f, const struct config *c, const struct firewall_params *fp)
{
	char text[INET6_ADDRSTRLEN];

	fprintf(f,
		"\tchain preraw {\n\t\ttype filter hook prerouting priority raw; policy accept;\n");
	for (size_t i = 0; i < c->addresses_len; ++i) {
		int fam = c->addresses[i].family;

		if (!(fam == AF_INET ? fp->full_tunnel_v4 : fp->full_tunnel_v6) ||
		    !inet_ntop(fam, &c->addresses[i].addr, text, sizeof(text)))
			continue;
		fprintf(f, "\t\tiifname != \"%s\" %s daddr %s fib saddr type != local drop\n",
			fp->ifname, fam == AF_INET ? "ip" : "ip6", text);
	}
	fprintf(f,
		"\t}\n\tchain premangle {\n\t\ttype filter hook prerouting priority mangle; policy "
		"accept;\n\t\tmeta l4proto udp meta mark set ct mark\n\t}\n");
	fprintf(f,
		"\tchain postmangle {\n\t\ttype filter hook postrouting priority mangle; policy "
		"accept;\n\t\tmeta l4proto udp meta mark %u ct mark set meta mark\n\t}\n",
		fp->full_tunnel_mark);
}

bool firewall_needed(const struct config *c, const struct firewall_params *fp)
{
	return config_has_policy(c) || fp->full_tunnel_v4 || fp->full_tunnel_v6;
}

static bool collect_sources(const struct config *c, struct source **out, size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < c->peers_len; ++i)
		total += c->peers[i].allowed_ips_len;
	*out = calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return false;
	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j) {
			(*out)[k].prefix = ip_prefix_network(&c->peers[i].allowed_ips[j]);
			(*out)[k++].peer = i;
		}
	qsort(*out, total, sizeof(**out), compare_sources);
	*n = total;
	return true;
}

char *firewall_script(const struct config *c, const struct firewall_params *fp, char *err,
		      size_t err_len)
{
	bool tunnel = config_tunnel_policy(c), overlap = false;
	int mss4 = mss_of(c, fp->mtu, AF_INET), mss6 = mss_of(c, fp->mtu, AF_INET6);
	struct source *sources = NULL;
	size_t n_sources = 0, len = 0;
	char *text = NULL;
	FILE *f;

	if (tunnel && !collect_sources(c, &sources, &n_sources)) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	overlap = tunnel && sources_overlap(sources, n_sources);
	f = open_memstream(&text, &len);
	if (!f) {
		free(sources);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	/* a table left behind by a daemon that was killed is replaced, not added to */
	fprintf(f, "add table inet wgate-%s\ndelete table inet wgate-%s\n", fp->ifname, fp->ifname);
	fprintf(f, "table inet wgate-%s {\n", fp->ifname);
	fprintf(f, "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
	write_listen_sources(f, c, fp);
	if (tunnel)
		fprintf(f, "\t\tiifname \"%s\" jump tunnel_in\n", fp->ifname);
	write_api_ports(f, c, fp->ifname);
	fprintf(f, "\t}\n");
	if (tunnel) {
		fprintf(f,
			"\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
			"accept;\n");
		fprintf(f, "\t\tiifname \"%s\" jump tunnel_fwd\n", fp->ifname);
		fprintf(f, "\t\toifname \"%s\" ct state established,related accept\n", fp->ifname);
		fprintf(
		    f,
		    "\t\toifname \"%s\" counter drop comment \"into the tunnel: replies only\"\n"
		    "\t}\n",
		    fp->ifname);
		fprintf(f,
			"\tchain tunnel_in {\n\t\tct direction reply accept\n\t\tct state related "
			"accept\n");
		write_dispatch(f, sources, n_sources, overlap, "in");
		fprintf(f, "\t\tcounter drop comment \"from no peer's AllowedIPs\"\n\t}\n");
		fprintf(f,
			"\tchain tunnel_fwd {\n\t\tct direction reply accept\n\t\tct state related "
			"accept\n\t\tjump egress_ceiling\n");
		write_dispatch(f, sources, n_sources, overlap, "fwd");
		fprintf(f, "\t\tcounter drop comment \"from no peer's AllowedIPs\"\n\t}\n");
		fprintf(f, "\tchain egress_ceiling {\n");
		for (size_t k = 0; k < c->egress.len; ++k)
			write_rule(f, &c->egress.v[k], false, "return");
		fprintf(f, "\t\tcounter drop comment \"outside Egress\"\n\t}\n");
		for (size_t i = 0; i < c->peers_len; ++i)
			write_peer_chains(f, c, i);
	}
	if (mss4 > 0 || mss6 > 0) {
		fprintf(f, "\tchain mss {\n\t\ttype filter hook forward priority mangle; policy "
			   "accept;\n");
		for (int d = 0; d < 2; ++d)
			for (int fam = 0; fam < 2; ++fam) {
				int mss = fam ? mss6 : mss4;

				if (mss > 0)
					fprintf(
					    f,
					    "\t\t%s \"%s\" meta nfproto %s tcp flags & (syn | rst) "
					    "== syn tcp option maxseg size > %d tcp option maxseg "
					    "size set %d\n",
					    d ? "iifname" : "oifname", fp->ifname,
					    fam ? "ipv6" : "ipv4", mss, mss);
			}
		fprintf(f, "\t}\n");
	}
	if (c->masquerade.len) {
		fprintf(f, "\tchain uplink_nat {\n\t\ttype nat hook postrouting priority srcnat; "
			   "policy accept;\n");
		for (size_t k = 0; k < c->masquerade.len; ++k)
			fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" masquerade\n", fp->ifname,
				c->masquerade.v[k]);
		fprintf(f, "\t}\n");
	}
	if (c->uplinks_len) {
		/*
		 * The guide's mark / table / ip rule recipe: what comes from the tunnel
		 * carries the uplink's mark (its ip rule picks the uplink's table); a
		 * connection that came in through the uplink keeps the mark on its
		 * replies, forwarded or local.
		 */
		uint32_t mark = c->uplinks[0].table;

		fprintf(f,
			"\tchain uplink_mark {\n\t\ttype filter hook prerouting priority mangle; "
			"policy accept;\n\t\tiifname \"%s\" meta mark set %u\n"
			"\t\tiifname \"%s\" ct state new ct mark set %u\n"
			"\t\tct mark %u meta mark set ct mark\n\t}\n",
			fp->ifname, mark, c->uplinks[0].dev, mark, mark);
		fprintf(f,
			"\tchain uplink_replies {\n\t\ttype route hook output priority mangle; "
			"policy accept;\n\t\tct mark %u meta mark set ct mark\n\t}\n",
			mark);
	}
	if (fp->full_tunnel_v4 || fp->full_tunnel_v6)
		write_full_tunnel(f, c, fp);
	fprintf(f, "}\n");
	free(sources);
	if (fclose(f) != 0 || !text) {
		free(text);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	return text;
}

void firewall_delete_script(const char *ifname, char *out, size_t len)
{
	snprintf(out, len, "delete table inet wgate-%s\n", ifname);
}

bool firewall_apply(const struct config *c, const struct firewall_params *fp, bool check_only,
		    char *err, size_t err_len)
{
	char *script, why[512];
	bool ok;

	if (!firewall_needed(c, fp)) {
		if (!check_only)
			firewall_remove(fp->ifname);
		return true;
	}
	script = firewall_script(c, fp, err, err_len);
	if (!script)
		return false;
	ok = nft_run(script, check_only, why, sizeof(why));
	free(script);
	if (ok && !check_only)
		log_info("event=audit action=firewall_applied table=\"inet wgate-%s\" policy=%s "
			 "full_tunnel=%s",
			 fp->ifname, config_has_policy(c) ? "yes" : "no",
			 fp->full_tunnel_v4 || fp->full_tunnel_v6 ? "yes" : "no");
	if (ok)
		return true;
	if (!config_has_policy(c)) {
		/* as wg-quick, which runs the full tunnel without them when nft is missing */
		if (!check_only)
			log_error(
			    "event=firewall_skipped family=%s msg=\"%s: the full tunnel runs "
			    "without wg-quick's anti-spoofing and conntrack mark rules; install "
			    "nftables\"",
			    fp->full_tunnel_v4 ? "ip" : "ip6", why);
		return true;
	}
	snprintf(err, err_len, "the access policy cannot be applied: %s", why);
	return false;
}

void firewall_remove(const char *ifname)
{
	char script[64], err[256], both[160];

	if (!nft_available())
		return;
	firewall_delete_script(ifname, script, sizeof(script));
	/* "add" first: deleting a table that is not there is not an error then */
	snprintf(both, sizeof(both), "add table inet wgate-%s\n%s", ifname, script);
	if (!nft_run(both, false, err, sizeof(err)))
		log_error("event=error msg=\"could not remove table inet wgate-%s: %s\"", ifname,
			  err);
}
