// SPDX-License-Identifier: MIT
/*
 * The key ledger (ops/key_ledger.h): a key keeps the time it came into use
 * across updates; a new one gets now; a gone one is dropped; the monitor's
 * wiped copy of the config keeps the interface's own key as recorded.
 */
#include "testutil.h"

#include "config/config.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "ops/key_ledger.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

static struct config parsed(const char *text)
{
	struct config c;
	char err[512];

	if (!config_parse(&c, text, strlen(text), "t", err, sizeof(err)))
		fail_msg("%s", err);
	return c;
}

static int64_t since_of(const struct key_since *k, size_t n, const char *b64, bool *self)
{
	uint8_t key[KEY_LEN];

	assert_true(key_from_base64(key, b64));
	for (size_t i = 0; i < n; ++i)
		if (crypto_equal(k[i].public_key, key, KEY_LEN)) {
			if (self)
				*self = k[i].self;
			return k[i].since;
		}
	return -1;
}

static void times_kept_across_updates(void **state)
{
	char dir[] = "/tmp/wgate-ledger.XXXXXX", own[KEY_BASE64_LEN + 1], err[512];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	struct key_since *k;
	struct config c;
	bool self = false;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("WGATE_STATE_DIR", dir, 1);
	assert_true(key_from_base64(priv, KEY_A));
	assert_true(x25519_public(pub, priv));
	key_to_base64(own, pub);
	assert_int_equal(key_ledger_load("lg0", &k), 0); /* none yet */
	c = parsed("[Interface]\nPrivateKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_B "\n");
	assert_true(key_ledger_update("lg0", &c, 1000, err, sizeof(err)));
	config_free(&c);
	/* later: B stays, C comes; the monitor's copy has its private key wiped */
	c = parsed("[Interface]\nPrivateKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_B
		   "\n[Peer]\nPublicKey = " KEY_C "\n");
	config_wipe_secrets(&c);
	assert_true(key_ledger_update("lg0", &c, 2000, err, sizeof(err)));
	config_free(&c);
	n = key_ledger_load("lg0", &k);
	assert_int_equal(n, 3);
	assert_int_equal(since_of(k, n, own, &self), 1000);
	assert_true(self);
	assert_int_equal(since_of(k, n, KEY_B, &self), 1000);
	assert_false(self);
	assert_int_equal(since_of(k, n, KEY_C, NULL), 2000);
	free(k);
	/* B goes */
	c = parsed("[Interface]\nPrivateKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_C "\n");
	assert_true(key_ledger_update("lg0", &c, 3000, err, sizeof(err)));
	config_free(&c);
	n = key_ledger_load("lg0", &k);
	assert_int_equal(n, 2);
	assert_int_equal(since_of(k, n, KEY_B, NULL), -1);
	assert_int_equal(since_of(k, n, KEY_C, NULL), 2000);
	free(k);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(times_kept_across_updates),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
