// SPDX-License-Identifier: MIT
/*
 * Gateway configs derived from the peers (ops/gateway.h): the GatewayConfig
 * keys, each format's shape, and, on random peers whose AllowedIPs nest, the
 * NGINX geo blocks and the Envoy RBAC policies evaluated for random addresses
 * against the tunnel's own rule (the longest prefix owns an address).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <json-c/json.h>

#include "config/config.h"
#include "ops/gateway.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

static char err[512];

static bool parse(struct config *c, const char *text)
{
	return config_parse(c, text, strlen(text), "test.conf", err, sizeof(err));
}

static void keys(void **state)
{
	struct config c;

	(void)state;
	assert_true(parse(&c, "[Interface]\nGatewayConfig = nginx /etc/nginx/wgate/wg0.conf\n"
			      "GatewayConfig = HAProxy\t/etc/haproxy/wg0.map\n"
			      "GatewayReload = systemctl reload nginx\n"
			      "GatewayReload = systemctl reload haproxy\n"));
	assert_int_equal(c.gateway_outputs_len, 2);
	assert_int_equal(c.gateway_outputs[1].format, GATEWAY_HAPROXY);
	assert_string_equal(c.gateway_outputs[1].path, "/etc/haproxy/wg0.map");
	assert_int_equal(c.gateway_reload.len, 2);
	config_free(&c);
	assert_false(parse(&c, "[Interface]\nGatewayConfig = apache /etc/x\n"));
	assert_string_equal(err, "test.conf:2: GatewayConfig `apache' does not start with nginx, "
				 "haproxy, envoy or kong");
	assert_false(parse(&c, "[Interface]\nGatewayConfig = nginx wgate.conf\n"));
	assert_string_equal(err, "test.conf:2: GatewayConfig nginx needs one absolute path to "
				 "write, not `wgate.conf'");
	assert_false(parse(&c, "[Interface]\nGatewayConfig = nginx\n"));
	assert_false(parse(&c, "[Interface]\nGatewayConfig = nginx /a /b\n"));
	assert_false(parse(&c, "[Interface]\nGatewayConfig = nginx /a\nGatewayConfig = kong /a\n"));
	assert_string_equal(err, "test.conf:3: GatewayConfig writes /a twice");
	assert_false(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nGatewayConfig = nginx /a\n"));
}

static const char conf[] =
    "[Interface]\nManagementSources = 192.0.2.0/24\n"
    "[Group]\nName = orders\n[Group]\nName = ops.v2\n"
    "[Peer]\nName = partner-a\nGroups = orders, ops.v2\nPublicKey = " KEY_A
    "\nAllowedIPs = 10.10.0.0/24, fd10::2/128\n"
    "[Peer]\n# friendly_name = Partner \"B\" $x\nPublicKey = " KEY_B "\nAllowedIPs = 10.10.0.3/32\n"
    "[Peer]\nPublicKey = " KEY_C "\nAllowedIPs = 10.10.0.4/32\n";

static void formats(void **state)
{
	struct config c;
	char *text;

	(void)state;
	assert_true(parse(&c, conf));
	text = gateway_render(&c, "wg0", "/etc/wireguard/wg0.conf", GATEWAY_NGINX);
	assert_non_null(strstr(text,
			       "geo $wgate_peer {\n\tdefault \"\";\n\t10.10.0.0/24 "
			       "\"partner-a\";\n\t10.10.0.3/32 \"Partner__B___x\";\n"
			       "\t10.10.0.4/32 \"" KEY_C "\";\n\tfd10::2/128 \"partner-a\";\n}\n"));
	assert_non_null(strstr(text, "geo $wgate_peer_groups {\n\tdefault \"\";\n\t10.10.0.0/24 "
				     "\"orders,ops.v2\";\n\t10.10.0.3/32 \"\";\n\t10.10.0.4/32 "
				     "\"\";\n\tfd10::2/128 \"orders,ops.v2\";\n}\n"));
	/* a nested prefix of a peer outside the group says 0 */
	assert_non_null(strstr(text,
			       "geo $wgate_group_ops_v2 {\n\tdefault 0;\n\t10.10.0.0/24 1;\n"
			       "\t10.10.0.3/32 0;\n\t10.10.0.4/32 0;\n\tfd10::2/128 1;\n}\n"));
	free(text);
	text = gateway_render(&c, "wg0", "x", GATEWAY_HAPROXY);
	assert_non_null(strstr(text, "\n10.10.0.0/24 partner-a;,orders,ops.v2,\n10.10.0.3/32 "
				     "Partner__B___x;,\n10.10.0.4/32 " KEY_C ";,\nfd10::2/128 "
				     "partner-a;,orders,ops.v2,\n"));
	free(text);
	text = gateway_render(&c, "wg0", "x", GATEWAY_KONG);
	json_object *doc = json_tokener_parse(text), *v;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "_format_version", &v));
	assert_string_equal(json_object_get_string(v), "3.0");
	assert_true(json_object_object_get_ex(doc, "consumers", &v));
	assert_int_equal(json_object_array_length(v), 3);
	json_object *first = json_object_array_get_idx(v, 0), *f;
	assert_true(json_object_object_get_ex(first, "custom_id", &f));
	assert_string_equal(json_object_get_string(f), KEY_A);
	assert_true(json_object_object_get_ex(first, "tags", &f));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(f, 2)),
			    "group:ops.v2");
	assert_true(json_object_object_get_ex(doc, "plugins", &v));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 0), "config", &f));
	assert_true(json_object_object_get_ex(f, "allow", &f));
	assert_int_equal(json_object_array_length(f), 5); /* four prefixes, the management net */
	assert_string_equal(json_object_get_string(json_object_array_get_idx(f, 4)),
			    "192.0.2.0/24");
	free(text);
	text = gateway_render(&c, "wg0", "x", GATEWAY_ENVOY);
	assert_non_null(strstr(text, "\"peer:" KEY_C "\""));
	assert_non_null(strstr(text, "\"group:ops.v2\""));
	json_object_put(doc);
	free(text);
	config_free(&c);
}

/* ---- random peers with nesting AllowedIPs, against the longest-prefix rule ---- */

/* Envoy's principal semantics, as its RBAC reference gives them. */
static bool in_range(json_object *range, uint32_t addr)
{
	json_object *a, *l;
	struct in_addr in;
	int len;

	assert_true(json_object_object_get_ex(range, "address_prefix", &a));
	assert_true(json_object_object_get_ex(range, "prefix_len", &l));
	assert_int_equal(inet_pton(AF_INET, json_object_get_string(a), &in), 1);
	len = json_object_get_int(l);
	return len == 0 || ((ntohl(in.s_addr) ^ addr) >> (32 - len)) == 0;
}

static bool principal_matches(json_object *p, uint32_t addr)
{
	json_object *v, *ids;

	if (json_object_object_get_ex(p, "direct_remote_ip", &v))
		return in_range(v, addr);
	if (json_object_object_get_ex(p, "not_id", &v))
		return !principal_matches(v, addr);
	if (json_object_object_get_ex(p, "and_ids", &v) ||
	    json_object_object_get_ex(p, "or_ids", &v)) {
		bool and = json_object_object_get_ex(p, "and_ids", NULL);

		assert_true(json_object_object_get_ex(v, "ids", &ids));
		for (size_t i = 0; i < json_object_array_length(ids); ++i)
			if (principal_matches(json_object_array_get_idx(ids, i), addr) != and)
				return !and;
		return and;
	}
	fail_msg("unknown principal %s", json_object_to_json_string(p));
	return false;
}

static bool policy_allows(json_object *policy, uint32_t addr)
{
	json_object *principals;

	assert_true(json_object_object_get_ex(policy, "principals", &principals));
	for (size_t i = 0; i < json_object_array_length(principals); ++i)
		if (principal_matches(json_object_array_get_idx(principals, i), addr))
			return true;
	return false;
}

/* NGINX geo: the longest listed prefix holding addr gives the value. */
static int geo_value(const char *text, const char *block, uint32_t addr)
{
	const char *at = strstr(text, block);
	int best_len = -1, value = 0;
	char line[128];

	assert_non_null(at);
	at = strchr(at, '\n') + 1;
	while (*at != '}') {
		unsigned a, b, c2, d, len;
		int v;
		size_t n = strcspn(at, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, at);
		if (sscanf(line, " %u.%u.%u.%u/%u %d;", &a, &b, &c2, &d, &len, &v) == 6) {
			uint32_t p = a << 24 | b << 16 | c2 << 8 | d;

			if ((int)len > best_len && (len == 0 || ((p ^ addr) >> (32 - len)) == 0))
				best_len = (int)len, value = v;
		}
		at += n + 1;
	}
	return value;
}

static void against_longest_prefix(void **state)
{
	uint64_t seed = 0x5eed1234;

	(void)state;
	for (int round = 0; round < 60; ++round) {
		char text[16384];
		size_t n = (size_t)snprintf(text, sizeof(text), "[Group]\nName = g\n");
		struct config c;
		unsigned peers = 2 + test_rand(&seed) % 6;
		uint32_t prefix[8][3];
		unsigned prefix_len[8][3], counts[8];
		bool member[8];

		for (unsigned i = 0; i < peers; ++i) {
			uint8_t key[32];
			char b64[64];

			for (int k = 0; k < 32; ++k)
				key[k] = (uint8_t)test_rand(&seed);
			key[0] = (uint8_t)i; /* distinct */
			key_to_base64(b64, key);
			member[i] = test_rand(&seed) & 1;
			counts[i] = 1 + test_rand(&seed) % 3;
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "[Peer]\nPublicKey = %s\n%s", b64,
					      member[i] ? "Groups = g\n" : "");
			for (unsigned j = 0; j < counts[i]; ++j) {
				unsigned len =
				    22 + (unsigned)(test_rand(&seed) % 11); /* /22../32 */
				uint32_t a = 0x0a0a0000u | (uint32_t)(test_rand(&seed) & 0x3ff);

				a &= len == 32 ? ~0u : ~(0xffffffffu >> len);
				prefix[i][j] = a;
				prefix_len[i][j] = len;
				n += (size_t)snprintf(text + n, sizeof(text) - n,
						      "AllowedIPs = %u.%u.%u.%u/%u\n", a >> 24,
						      a >> 16 & 255, a >> 8 & 255, a & 255, len);
			}
		}
		assert_true(parse(&c, text));
		char *nginx = gateway_render(&c, "t", "t", GATEWAY_NGINX);
		char *envoy = gateway_render(&c, "t", "t", GATEWAY_ENVOY);
		json_object *doc = json_tokener_parse(envoy), *v, *policies, *group;

		assert_non_null(doc);
		assert_true(json_object_object_get_ex(doc, "typed_config", &v));
		assert_true(json_object_object_get_ex(v, "rules", &v));
		assert_true(json_object_object_get_ex(v, "policies", &policies));
		assert_true(json_object_object_get_ex(policies, "group:g", &group));
		for (int probe = 0; probe < 300; ++probe) {
			uint32_t addr = 0x0a0a0000u | (uint32_t)(test_rand(&seed) & 0x3ff);
			int owner = -1, best = -1;

			for (unsigned i = 0; i < peers; ++i)
				for (unsigned j = 0; j < counts[i]; ++j) {
					unsigned len = prefix_len[i][j];

					/* the same prefix twice: the later peer holds it */
					if ((int)len >= best &&
					    ((prefix[i][j] ^ addr) >> (32 - len)) == 0)
						best = (int)len, owner = (int)i;
				}
			bool want = owner >= 0 && member[owner];

			assert_int_equal(policy_allows(group, addr), want);
			assert_int_equal(geo_value(nginx, "geo $wgate_group_g {", addr), want);
		}
		json_object_put(doc);
		free(nginx);
		free(envoy);
		config_free(&c);
	}
}

static void contains_against_naive(void **state)
{
	uint64_t seed = 77;

	(void)state;
	for (int i = 0; i < 20000; ++i) {
		struct ip_prefix a = {.family = AF_INET6}, b = {.family = AF_INET6};
		uint8_t *x = (uint8_t *)&a.addr, *y = (uint8_t *)&b.addr;
		bool naive = true;

		for (int k = 0; k < 16; ++k)
			x[k] = y[k] = (uint8_t)test_rand(&seed);
		y[test_rand(&seed) % 16] ^= (uint8_t)(1u << (test_rand(&seed) % 8));
		a.cidr = (uint8_t)(test_rand(&seed) % 129);
		b.cidr = (uint8_t)(test_rand(&seed) % 129);
		for (unsigned bit = 0; bit < a.cidr; ++bit)
			if ((x[bit / 8] ^ y[bit / 8]) & (0x80 >> (bit % 8)))
				naive = false;
		naive = naive && b.cidr >= a.cidr;
		assert_int_equal(ip_prefix_contains(&a, &b), naive);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keys),
	    cmocka_unit_test(formats),
	    cmocka_unit_test(against_longest_prefix),
	    cmocka_unit_test(contains_against_naive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
