// SPDX-License-Identifier: MIT
/*
 * Peer identity: names and groups in the config, on the control socket and on
 * the device, and the identity endpoint's answer for a gateway's client
 * address (control/identity.h).
 */
#include "testutil.h"
#include "quiet_io.h"

#include <arpa/inet.h>
#include <errno.h>

#include "config/config.h"
#include "config/policy.h"
#include "control/identity.h"
#include "control/uapi.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/peer.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static char err[512];

static bool parse(struct config *c, const char *text)
{
	return config_parse(c, text, strlen(text), "test.conf", err, sizeof(err));
}

static void config_names(void **state)
{
	struct config c;

	(void)state;
	assert_true(parse(&c, "[Group]\nName = orders\n[Group]\nName = ops\n"
			      "[Peer]\nPublicKey = " KEY_A "\nName = partner-a\n"
			      "Groups = orders, ops\n"
			      "[Peer]\n# friendly_name = Partner \"B\"\nPublicKey = " KEY_B "\n"));
	assert_string_equal(c.peers[0].name, "partner-a");
	assert_int_equal(c.peers[0].groups.len, 2);
	char *joined = strv_join(&c.peers[0].groups);
	assert_string_equal(joined, "orders,ops");
	free(joined);
	/* the exporter's comment still names a peer */
	assert_string_equal(c.peers[1].name, "Partner \"B\"");
	config_free(&c);

	/* Name wins over the comment, before or after it */
	assert_true(parse(&c,
			  "[Peer]\n# friendly_name = old\nName = new\nPublicKey = " KEY_A "\n"
			  "[Peer]\nName = new2\n# friendly_name = old2\nPublicKey = " KEY_B "\n"));
	assert_string_equal(c.peers[0].name, "new");
	assert_string_equal(c.peers[1].name, "new2");
	config_free(&c);

	/* a Name is a token gateways carry unquoted: the error names it */
	assert_false(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nName = partner a\n"));
	assert_string_equal(err,
			    "test.conf:3: Name `partner a' is not a peer name (1 to 64 letters, "
			    "digits, `_', `-', `.', `@')");
	assert_false(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nName = x$y\n"));
	assert_false(parse(
	    &c, "[Peer]\nPublicKey = " KEY_A
		"\nName = a1234567890123456789012345678901234567890123456789012345678901234\n"));
	assert_false(parse(&c, "[Peer]\n# friendly_name = a, b\nPublicKey = " KEY_A "\n"));
	assert_string_equal(err, "test.conf:2: friendly_name `a, b' is not a peer name (1 to 64 "
				 "characters, no commas)");
	assert_false(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nName = a\nName = b\n"));
	/* groups: at most 16 */
	char text[2048] = "";
	size_t n = 0;
	for (int i = 0; i < 17; ++i)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[Group]\nName = g%d\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "[Peer]\nPublicKey = " KEY_A "\nGroups = ");
	for (int i = 0; i < 17; ++i)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sg%d", i ? "," : "", i);
	assert_false(parse(&c, text));
	assert_non_null(strstr(err, "more than 16 groups"));
}

static void expiry_values(void **state)
{
	static const struct {
		const char *text;
		long long want; /* -1: refused */
	} cases[] = {
	    {"2026-12-31", 1798675200},
	    {"2026-12-31T18:30:00Z", 1798741800},
	    {"2026-12-31T18:30Z", 1798741800},
	    {"1970-01-01", 0},
	    {"2026-12-31T18:30:00", -1}, /* UTC must be said */
	    {"2026-12-31T18:30:00+01:00", -1},
	    {"31.12.2026", -1},
	    {"2026-13-01", -1},
	    {"2026-12-31 ", -1},
	    {"", -1},
	    {"tomorrow", -1},
	};
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		int64_t t = 0;
		bool ok = utc_time_parse(cases[i].text, &t);

		assert_int_equal(ok, cases[i].want >= 0);
		if (ok)
			assert_int_equal(t, cases[i].want);
	}
	assert_true(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nExpires = 2026-12-31\n"));
	assert_int_equal(c.peers[0].expires, 1798675200);
	config_free(&c);
	assert_false(parse(&c, "[Peer]\nPublicKey = " KEY_A "\nExpires = soon\n"));
	assert_string_equal(err, "test.conf:3: Expires `soon' is not a date, such as 2026-12-31 or "
				 "2026-12-31T18:30:00Z (UTC)");
	assert_false(parse(&c, "[Interface]\nExpires = 2026-12-31\n"));
}

static struct peer *add_peer(struct device *dev, uint8_t fill, const char *prefix)
{
	uint8_t key[32];
	struct ip_prefix ip;
	struct peer *p;

	memset(key, fill, sizeof(key));
	p = device_add_peer(dev, key);
	assert_non_null(p);
	assert_true(ip_prefix_parse(&ip, prefix, true));
	assert_true(
	    allowedips_insert(&dev->allowedips, ip.family, &ip.addr, ip.cidr, &p->allowedips));
	return p;
}

#define SEC NSEC_PER_SEC

static void lookup(void **state)
{
	struct device dev;
	struct keypair live = {0};
	const struct peer *who;
	uint64_t now = 1000 * SEC;
	struct peer *a, *b;

	(void)state;
	assert_true(device_init(&dev, &io));
	a = add_peer(&dev, 2, "10.0.0.2/32");
	b = add_peer(&dev, 3, "fd00::/64");
	assert_true(peer_set_identity(a, "partner-a", "orders,ops"));

	/* no session yet: known, refused */
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/", now, &who), IDENTITY_NO_SESSION);
	assert_ptr_equal(who, a);
	live.birth = now - 10 * SEC;
	a->current = &live;
	b->current = &live;
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/", now, &who), IDENTITY_ALLOWED);
	/* the gateway's own entry is the last one; a client's claims before it do not count */
	assert_int_equal(identity_lookup(&dev, "10.0.0.2, 192.0.2.7", "/", now, &who),
			 IDENTITY_UNKNOWN);
	assert_int_equal(identity_lookup(&dev, "192.0.2.7,10.0.0.2", "/", now, &who),
			 IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, " 192.0.2.7 ,  10.0.0.2 ", "/", now, &who),
			 IDENTITY_ALLOWED);
	/* forms: v4:port, [v6]:port, [v6], v4-mapped v6 */
	assert_int_equal(identity_lookup(&dev, "10.0.0.2:443", "/", now, &who), IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "::ffff:10.0.0.2", "/", now, &who),
			 IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "[fd00::99]:8080", "/", now, &who),
			 IDENTITY_ALLOWED);
	assert_ptr_equal(who, b);
	assert_int_equal(identity_lookup(&dev, "[fd00::99]", "/", now, &who), IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "fd00::99", "/", now, &who), IDENTITY_ALLOWED);
	/* not addresses */
	static const char *const bad[] = {"",	      " ",	     "10.0.0.2 x", "10.0.0.256",
					  "fd00::1]", "[fd00::1",    "10.0.0.2,",  "[fd00::1]x",
					  "unknown",  "10.0.0.2:1:2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
		assert_int_equal(identity_lookup(&dev, bad[i], "/", now, &who),
				 IDENTITY_NO_ADDRESS);
	assert_int_equal(identity_lookup(&dev, NULL, "/", now, &who), IDENTITY_NO_ADDRESS);
	assert_int_equal(identity_lookup(&dev, "10.0.0.3", "/", now, &who), IDENTITY_UNKNOWN);
	assert_null(who);

	/* groups by path; the rest of the path (Envoy's original path) is ignored */
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/orders", now, &who),
			 IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/ops/v1/x?y=1", now, &who),
			 IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/order", now, &who),
			 IDENTITY_NOT_IN_GROUP);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/orders-x", now, &who),
			 IDENTITY_NOT_IN_GROUP);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/", now, &who),
			 IDENTITY_NOT_IN_GROUP);
	assert_int_equal(identity_lookup(&dev, "fd00::1", "/group/orders", now, &who),
			 IDENTITY_NOT_IN_GROUP);

	/* expiry: a keypair REJECT_AFTER_TIME old is no session */
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/", live.birth + 180 * SEC - 1, &who),
			 IDENTITY_ALLOWED);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/", live.birth + 180 * SEC, &who),
			 IDENTITY_NO_SESSION);

	/* AllowedIPs move: the answer follows at once */
	struct ip_prefix ip;
	assert_true(ip_prefix_parse(&ip, "10.0.0.2/32", true));
	assert_true(
	    allowedips_insert(&dev.allowedips, ip.family, &ip.addr, ip.cidr, &b->allowedips));
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/group/orders", now, &who),
			 IDENTITY_NOT_IN_GROUP);
	assert_ptr_equal(who, b);
	/* removed: unknown at once */
	b->current = NULL;
	device_remove_peer(&dev, b);
	assert_int_equal(identity_lookup(&dev, "10.0.0.2", "/", now, &who), IDENTITY_UNKNOWN);
	assert_int_equal(identity_lookup(&dev, "fd00::1", "/", now, &who), IDENTITY_UNKNOWN);
	a->current = NULL;
	device_free(&dev);
}

static char *get(const struct device *dev, bool identity)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	uapi_get(dev, f, identity ? UAPI_VIEW_WGATE : UAPI_VIEW_WG);
	fclose(f);
	return text;
}

static void control_socket(void **state)
{
	struct device dev;
	char set[512], *text;
	struct peer *p;

	(void)state;
	assert_true(device_init(&dev, &io));
	p = add_peer(&dev, 2, "10.0.0.2/32");
	(void)p;
	char hex[65];
	key_to_hex(hex, p->public_key);

	snprintf(set, sizeof(set), "public_key=%s\nwgate_name=partner-a\nwgate_groups=orders,ops\n",
		 hex);
	assert_int_equal(uapi_set(&dev, set, strlen(set), NULL, 0), 0);
	assert_string_equal(p->name, "partner-a");
	assert_string_equal(p->groups, "orders,ops");
	text = get(&dev, true);
	assert_non_null(strstr(text, "wgate_name=partner-a\nwgate_groups=orders,ops\n"));
	free(text);
	/* the stock tools' get never shows them */
	text = get(&dev, false);
	assert_null(strstr(text, "wgate_"));
	free(text);

	/* a bad value anywhere changes nothing */
	static const char *const bad[] = {"wgate_name=a,b\n",
					  "wgate_groups=ok,not ok\n",
					  "wgate_groups=a,,b\n",
					  "wgate_groups=,\n",
					  "wgate_name=x\nwgate_name=y\n",
					  "wgate_groups=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
					  "wgate_groups=a123456789012345678901234567890123\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		snprintf(set, sizeof(set), "public_key=%s\nwgate_name=other\n%s", hex, bad[i]);
		assert_int_equal(uapi_set(&dev, set, strlen(set), NULL, 0), -EINVAL);
		assert_string_equal(p->name, "partner-a");
	}
	/* one alone changes only itself; empty clears */
	snprintf(set, sizeof(set), "public_key=%s\nwgate_groups=\n", hex);
	assert_int_equal(uapi_set(&dev, set, strlen(set), NULL, 0), 0);
	assert_string_equal(p->name, "partner-a");
	assert_null(p->groups);
	snprintf(set, sizeof(set), "public_key=%s\nwgate_name=\n", hex);
	assert_int_equal(uapi_set(&dev, set, strlen(set), NULL, 0), 0);
	assert_null(p->name);
	device_free(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_names),
	    cmocka_unit_test(expiry_values),
	    cmocka_unit_test(lookup),
	    cmocka_unit_test(control_socket),
	};

	if (!noise_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
