// SPDX-License-Identifier: MIT
/* The access policy: its values, its config sections, and the nftables table it makes. */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "config/config.h"
#include "config/policy.h"
#include "ops/firewall.h"
#include "ops/policy_counters.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

static char err[512];

static bool parse(struct config *c, const char *text)
{
	return config_parse(c, text, strlen(text), "test.conf", err, sizeof(err));
}

static void rule_values(void **state)
{
	static const struct {
		const char *text;
		enum rule_form form;
		const char *formatted;
	} good[] = {
	    {"tcp/443", RULE_PORTS, "gateway tcp/443"},
	    {"443", RULE_PORTS, "gateway tcp/443"},
	    {"UDP/5000-5100", RULE_PORTS, "gateway udp/5000-5100"},
	    {"gateway tcp/443", RULE_ALLOW, "gateway tcp/443"},
	    {"gateway icmp", RULE_ALLOW, "gateway icmp"},
	    {"gateway", RULE_ALLOW, "gateway any"},
	    {"10.20.0.0/16 tcp/5432", RULE_ALLOW, "10.20.0.0/16 tcp/5432"},
	    {"10.30.0.5", RULE_EGRESS, "10.30.0.5/32 any"},
	    {"fd20::/64   udp/53", RULE_EGRESS, "fd20::/64 udp/53"},
	    {"any icmp", RULE_EGRESS, "any icmp"},
	    {"any tcp", RULE_ALLOW, "any tcp"},
	};
	static const struct {
		const char *text;
		enum rule_form form;
		const char *why;
	} bad[] = {
	    {"tcp/0", RULE_PORTS, "bad port"},
	    {"tcp/70000", RULE_PORTS, "bad port"},
	    {"tcp/10-5", RULE_PORTS, "ends before it starts"},
	    {"tcp", RULE_PORTS, "has no port"},
	    {"gateway icmp/5", RULE_ALLOW, "only tcp and udp"},
	    {"10.0.0.0/8 sctp/5", RULE_ALLOW, "names no protocol"},
	    {"gateway tcp/443", RULE_EGRESS, "names the gateway"},
	    {"10.0.0.0/33", RULE_ALLOW, "does not start with"},
	    {"somewhere tcp/1", RULE_ALLOW, "does not start with"},
	    {"10.0.0.1 tcp/1 extra", RULE_ALLOW, "more than"},
	    {"gateway tcp/443", RULE_PORTS, "is not a port"},
	};
	struct policy_rule r;
	const char *why;
	char text[96];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
		why = NULL;
		assert_true(policy_rule_parse(&r, good[i].text, good[i].form, &why));
		policy_rule_format(&r, text, sizeof(text));
		assert_string_equal(text, good[i].formatted);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		why = "";
		assert_false(policy_rule_parse(&r, bad[i].text, bad[i].form, &why));
		if (!strstr(why, bad[i].why))
			fail_msg("`%s': `%s' does not say `%s'", bad[i].text, why, bad[i].why);
	}
}

static const char gateway[] = "[Interface]\n"
			      "PrivateKey = " KEY_A "\n"
			      "ListenPort = 51820\n"
			      "Address = 10.10.0.1/24\n"
			      "ApiPorts = tcp/443, tcp/8000\n"
			      "ManagementSources = 192.0.2.0/24\n"
			      "ListenSources = 198.51.100.0/24\n"
			      "Egress = 10.20.0.0/16 tcp/5432\n"
			      "Masquerade = eth1\n"
			      "\n"
			      "[Group]\n"
			      "Name = partners\n"
			      "Allow = gateway tcp/443\n"
			      "\n"
			      "[Peer]\n"
			      "PublicKey = " KEY_B "\n"
			      "AllowedIPs = 10.10.0.2/32\n"
			      "Groups = partners\n"
			      "\n"
			      "[Peer]\n"
			      "PublicKey = " KEY_C "\n"
			      "AllowedIPs = 10.10.0.3/32\n"
			      "Allow = 10.20.0.0/16 tcp/5432\n";

static void sections_and_keys(void **state)
{
	struct config c;

	(void)state;
	assert_true(parse(&c, gateway));
	assert_int_equal(c.api_ports.len, 2);
	assert_int_equal(c.management_sources.len, 1);
	assert_int_equal(c.listen_sources.len, 1);
	assert_true(c.has_egress);
	assert_int_equal(c.egress.len, 1);
	assert_int_equal(c.masquerade.len, 1);
	assert_int_equal(c.groups_len, 1);
	assert_string_equal(c.groups[0].name, "partners");
	assert_int_equal(c.groups[0].allow.len, 1);
	assert_string_equal(c.peers[0].groups.v[0], "partners");
	assert_true(c.peers[1].has_allow);
	assert_true(config_tunnel_policy(&c));
	assert_true(config_has_policy(&c));
	config_free(&c);

	/* no policy key: no policy */
	assert_true(parse(&c, "[Interface]\nPrivateKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_B
			      "\nAllowedIPs = 10.0.0.2/32\n"));
	assert_false(config_has_policy(&c));
	config_free(&c);
	/* ApiPorts alone protects the ports, without filtering the tunnel */
	assert_true(parse(&c, "[Interface]\nApiPorts = 443\n"));
	assert_false(config_tunnel_policy(&c));
	assert_true(config_has_policy(&c));
	config_free(&c);
	/* an empty Allow is a peer that reaches nothing */
	assert_true(parse(&c, "[Peer]\nPublicKey = " KEY_B "\nAllow =\n"));
	assert_true(c.peers[0].has_allow);
	assert_true(config_tunnel_policy(&c));
	config_free(&c);
}

static void section_errors(void **state)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
	    {"[Peer]\nPublicKey = " KEY_B "\nGroups = nobody\n",
	     "test.conf:1: this [Peer] is in group `nobody', which no [Group] defines"},
	    {"[Group]\nName = a\n[Group]\nName = a\n",
	     "test.conf:3: this [Group] repeats the Name `a' of the one at line 1"},
	    {"[Group]\nAllow = gateway tcp/1\n", "test.conf:1: this [Group] has no Name"},
	    {"[Group]\nName = a b\n", "test.conf:2: Name `a b' is not a group name"},
	    {"[Interface]\nAllow = gateway tcp/1\n",
	     "test.conf:2: Allow belongs in [Peer] or [Group], not in [Interface]"},
	    {"[Group]\nName = a\nGroups = a\n",
	     "test.conf:3: Groups belongs in [Peer], not in [Group]"},
	    {"[Group]\nName = a\nPublicKey = " KEY_B "\n",
	     "test.conf:3: PublicKey belongs in [Peer], not in [Group]"},
	    {"[Interface]\nEgress = 10.0.0.0/8 tcp/99999\n",
	     "test.conf:2: Egress entry `10.0.0.0/8 tcp/99999' has a bad port"},
	    {"[Interface]\nApiPorts = tcp/443,\n", "test.conf:2: empty entry in the ApiPorts list"},
	    {"[Interface]\nMssClamp = 100\n", "test.conf:2: MssClamp `100' is not `auto', `off'"},
	    {"[Interface]\nMasquerade = eth0; rm -rf /\n",
	     "test.conf:2: Masquerade entry `eth0; rm -rf /' is not an interface name"},
	    {"[Interface]\nListenSources = example.com\n",
	     "test.conf:2: ListenSources entry `example.com' is not an IP address"},
	    {"[Interface]\nUplink = eth2 via 192.0.2.1\n",
	     "test.conf:2: Uplink `eth2 via 192.0.2.1' is not `DEVICE via GATEWAY table NUMBER'"},
	    {"[Interface]\nUplink = eth2 via gw.example table 200\n",
	     "the gateway `gw.example' is not an IP address"},
	    {"[Interface]\nUplink = eth2 via 192.0.2.1 table 254\n",
	     "is not a routing table number"},
	    {"[Interface]\nUplink = eth2 via 192.0.2.1 table 200, eth2 via 192.0.2.9 table 200\n",
	     "one uplink per address family"},
	    {"[Interface]\nUplink = eth2 via 192.0.2.1 table 200, eth3 via 2001:db8::1 table 200\n",
	     "both families' uplinks take the same device and table"},
	    {"[Frob]\n", "unknown section `[Frob]': expected [Interface], [Peer] or [Group]"},
	};
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		err[0] = '\0';
		assert_false(parse(&c, cases[i].text));
		if (!strstr(err, cases[i].error))
			fail_msg("case %zu: got `%s', want `%s'", i, err, cases[i].error);
	}
}

static char *stripped(const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	config_strip(text, strlen(text), f);
	fclose(f);
	return out;
}

static void strip_removes_policy(void **state)
{
	char *out = stripped(gateway);

	(void)state;
	for (const char *k = "ApiPorts\0ManagementSources\0ListenSources\0Egress\0Masquerade\0"
			     "[Group]\0Name =\0Allow =\0Groups\0Address\0";
	     *k; k += strlen(k) + 1)
		if (strstr(out, k))
			fail_msg("strip left `%s' in:\n%s", k, out);
	assert_non_null(strstr(out, "PrivateKey = " KEY_A));
	assert_non_null(strstr(out, "ListenPort = 51820"));
	assert_non_null(strstr(out, "PublicKey = " KEY_B));
	assert_non_null(strstr(out, "AllowedIPs = 10.10.0.3/32"));
	free(out);
}

static char *script_of(const char *text, unsigned mtu)
{
	struct firewall_params fp = {.ifname = "wg0", .listen_port = 51820, .mtu = mtu};
	struct config c;
	char *s;

	assert_true(parse(&c, text));
	s = firewall_script(&c, &fp, err, sizeof(err));
	config_free(&c);
	assert_non_null(s);
	return s;
}

static void want(const char *script, const char *line)
{
	if (!strstr(script, line))
		fail_msg("no `%s' in:\n%s", line, script);
}

static void the_table(void **state)
{
	char *s = script_of(gateway, 1420);

	(void)state;
	want(s, "add table inet wgate-wg0\ndelete table inet wgate-wg0\ntable inet wgate-wg0 {");
	want(s, "meta nfproto ipv4 udp dport 51820 ip saddr != { 198.51.100.0/24 } counter drop");
	want(s, "meta nfproto ipv6 udp dport 51820 counter drop comment \"ListenSources\"");
	want(s,
	     "iifname != \"lo\" iifname != \"wg0\" meta nfproto ipv4 ip saddr != { 192.0.2.0/24 } "
	     "tcp dport { 443, 8000 } counter drop");
	want(s, "iifname \"wg0\" jump tunnel_in");
	want(s, "ip saddr vmap { 10.10.0.2/32 : jump peer_0_in, 10.10.0.3/32 : jump peer_1_in }");
	want(s, "chain peer_0_in {\n\t\ttcp dport 443 accept comment \"gateway tcp/443\"\n"
		"\t\tcounter drop");
	want(s, "chain peer_1_fwd {\n\t\tip daddr 10.20.0.0/16 tcp dport 5432 accept");
	want(s, "chain egress_ceiling {\n\t\tip daddr 10.20.0.0/16 tcp dport 5432 return");
	want(s, "tcp option maxseg size > 1380 tcp option maxseg size set 1380");
	want(s, "tcp option maxseg size > 1360 tcp option maxseg size set 1360");
	want(s, "iifname \"wg0\" oifname \"eth1\" masquerade");
	free(s);
	/* host bits go, as nft wants networks */
	s = script_of("[Interface]\nEgress = 10.20.3.4/16\n", 1420);
	want(s, "ip daddr 10.20.0.0/16 return");
	free(s);
	/* Uplink: the tunnel's traffic marked with the table, the uplink's connections too */
	s = script_of("[Interface]\nUplink = eth2 via 192.0.2.1 table 200\n", 1420);
	want(s, "iifname \"wg0\" meta mark set 200");
	want(s, "iifname \"eth2\" ct state new ct mark set 200");
	want(s, "type route hook output priority mangle; policy accept;\n\t\tct mark 200 meta mark "
		"set ct mark");
	free(s);
	/* MssClamp off: no mss chain; a number: that MSS for both families */
	s = script_of("[Interface]\nApiPorts = 443\nMssClamp = off\n", 1420);
	assert_null(strstr(s, "maxseg"));
	free(s);
	s = script_of("[Interface]\nApiPorts = 443\nMssClamp = 1200\n", 1420);
	want(s, "ipv6 tcp flags & (syn | rst) == syn tcp option maxseg size > 1200");
	free(s);
	/* a peer with neither Allow nor Groups reaches the ApiPorts and pings */
	s = script_of("[Interface]\nApiPorts = 443, udp/53\nEgress =\n[Peer]\nPublicKey = " KEY_B
		      "\nAllowedIPs = 10.0.0.2/32\n",
		      1420);
	want(s, "chain peer_0_in {\n\t\ttcp dport 443 accept comment \"gateway tcp/443\"\n"
		"\t\tudp dport 53 accept comment \"gateway udp/53\"\n"
		"\t\ticmp type echo-request accept");
	free(s);
}

/* Overlapping sources cannot share a map: the dispatch falls back to rules, longest first. */
static void overlapping_sources(void **state)
{
	char *s = script_of("[Interface]\nEgress =\n[Peer]\nPublicKey = " KEY_B
			    "\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " KEY_C
			    "\nAllowedIPs = 10.1.2.3/32\n",
			    1420);
	const char *longer, *shorter;

	(void)state;
	assert_null(strstr(s, "vmap"));
	longer = strstr(s, "ip saddr 10.1.2.3/32 jump peer_1_in");
	shorter = strstr(s, "ip saddr 10.0.0.0/8 jump peer_0_in");
	assert_non_null(longer);
	assert_non_null(shorter);
	assert_true(longer < shorter);
	free(s);
}

/* Random AllowedIPs: the map is used exactly when no prefix holds another (naive check). */
static bool contains(uint32_t net, unsigned cidr, uint32_t addr)
{
	uint32_t mask = cidr ? ~0u << (32 - cidr) : 0;

	return (addr & mask) == (net & mask);
}

static void overlap_against_naive(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 300; ++round) {
		uint32_t nets[6];
		unsigned cidrs[6], n = 2 + (unsigned)rand() % 5;
		char text[4096], *s;
		size_t used = (size_t)snprintf(text, sizeof(text), "[Interface]\nEgress =\n");
		bool overlap = false;
		const char *keys[] = {KEY_A, KEY_B, KEY_C};

		for (unsigned i = 0; i < n; ++i) {
			cidrs[i] = 24 + (unsigned)rand() % 9;
			nets[i] =
			    (10u << 24) | ((unsigned)rand() % 4 << 8) | ((unsigned)rand() & 0xff);
			nets[i] &= cidrs[i] ? ~0u << (32 - cidrs[i]) : 0;
		}
		for (unsigned i = 0; i < n; ++i)
			for (unsigned j = 0; j < n; ++j)
				if (i != j && cidrs[i] <= cidrs[j] &&
				    contains(nets[i], cidrs[i], nets[j]))
					overlap = true;
		/* three peers hold the prefixes between them */
		for (unsigned p = 0; p < 3; ++p) {
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "[Peer]\nPublicKey = %s\nAllowedIPs = ", keys[p]);
			for (unsigned i = p; i < n; i += 3)
				used += (size_t)snprintf(
				    text + used, sizeof(text) - used, "%s%u.%u.%u.%u/%u",
				    i == p ? "" : ", ", nets[i] >> 24, nets[i] >> 16 & 0xff,
				    nets[i] >> 8 & 0xff, nets[i] & 0xff, cidrs[i]);
			used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");
		}
		s = script_of(text, 1420);
		if ((strstr(s, "vmap") == NULL) != overlap)
			fail_msg("round %d: overlap %d, script:\n%s\nconfig:\n%s", round, overlap,
				 s, text);
		free(s);
	}
}

static void no_policy_no_table(void **state)
{
	struct firewall_params fp = {.ifname = "wg0", .mtu = 1420};
	struct config c;

	(void)state;
	assert_true(parse(&c, "[Interface]\nPrivateKey = " KEY_A "\n"));
	assert_false(firewall_needed(&c, &fp));
	fp.full_tunnel_v4 = true;
	assert_true(firewall_needed(&c, &fp));
	config_free(&c);
}

/* nft's JSON listing to the counters' lines: rules summed by comment, peers by key. */
static void counters_from_listing(void **state)
{
	static const char json[] =
	    "{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"
	    "{\"table\": {\"family\": \"inet\", \"name\": \"wgate-wg0\"}},"
	    "{\"rule\": {\"chain\": \"input\", \"comment\": \"ListenSources\", \"expr\": ["
	    "{\"match\": {}}, {\"counter\": {\"packets\": 3, \"bytes\": 180}}, {\"drop\": null}]}},"
	    "{\"rule\": {\"chain\": \"input\", \"comment\": \"ListenSources\", \"expr\": ["
	    "{\"counter\": {\"packets\": 4, \"bytes\": 400}}, {\"drop\": null}]}},"
	    "{\"rule\": {\"chain\": \"peer_1_fwd\", \"comment\": \"peer x: forwarded\", \"expr\": ["
	    "{\"counter\": {\"packets\": 2, \"bytes\": 120}}, {\"drop\": null}]}},"
	    "{\"rule\": {\"chain\": \"peer_0_in\", \"expr\": ["
	    "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"drop\": null}]}},"
	    "{\"rule\": {\"chain\": \"peer_7_in\", \"expr\": ["
	    "{\"counter\": {\"packets\": 9, \"bytes\": 9}}]}},"
	    "{\"rule\": {\"chain\": \"egress_ceiling\", \"comment\": \"10.0.0.0/8 any\", \"expr\": "
	    "["
	    "{\"return\": null}]}}]}";
	struct config c;
	char *text;

	(void)state;
	assert_true(parse(&c, gateway));
	text = policy_counters_from_json(json, &c);
	assert_non_null(text);
	/* summed; a peer without drops and one the config does not have are left out */
	assert_string_equal(text,
			    "peer\t" KEY_C "\tforwarded\t2\t120\nrule\tListenSources\t7\t580\n");
	free(text);
	assert_null(policy_counters_from_json("{\"nftables\": 5}", &c));
	assert_null(policy_counters_from_json("not json", &c));
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rule_values),
	    cmocka_unit_test(sections_and_keys),
	    cmocka_unit_test(section_errors),
	    cmocka_unit_test(strip_removes_policy),
	    cmocka_unit_test(the_table),
	    cmocka_unit_test(overlapping_sources),
	    cmocka_unit_test(overlap_against_naive),
	    cmocka_unit_test(no_policy_no_table),
	    cmocka_unit_test(counters_from_listing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
