// SPDX-License-Identifier: MIT
/*
 * The key ledger (ops/key_ledger.h): a key keeps the time it came into use
 * across updates; a new one gets now; a gone one is dropped; the monitor's
 * wiped copy of the config keeps the interface's own key as recorded.
 */
#include "testutil.h"

#include <sys/stat.h>

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

enum { POOL = 48, ROUNDS = 60 };

/* A config of the pool's keys picked (in order), with the private key A. */
static struct config config_of(char pool[POOL][KEY_BASE64_LEN + 1], const int *pick, size_t n)
{
	char *text = malloc(64 + n * 80);
	size_t at = (size_t)sprintf(text, "[Interface]\nPrivateKey = " KEY_A "\n");
	struct config c;

	for (size_t i = 0; i < n; ++i)
		at += (size_t)sprintf(text + at, "[Peer]\nPublicKey = %s\n", pool[pick[i]]);
	c = parsed(text);
	free(text);
	return c;
}

static ino_t inode_of(const char *dir)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/lg1.keys", dir);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/*
 * Random key sets in random orders against a naive model (a key keeps the
 * time of the update that first had it while it stays); an update that
 * changes nothing leaves the file alone (the same inode: not rewritten).
 * A hand-made line that repeats a key, a broken line and a line too short
 * are passed over.
 */
static void random_sets_against_a_model(void **state)
{
	char dir[] = "/tmp/wgate-ledger.XXXXXX", err[512], pool[POOL][KEY_BASE64_LEN + 1];
	int64_t model[POOL];
	int pick[POOL], last[POOL];
	size_t last_n = 0;
	uint32_t seed = 12345;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("WGATE_STATE_DIR", dir, 1);
	for (int i = 0; i < POOL; ++i) {
		uint8_t key[KEY_LEN];

		assert_true(crypto_random(key, sizeof(key)));
		key_to_base64(pool[i], key);
		model[i] = -1;
	}
	for (int r = 1; r <= ROUNDS; ++r) {
		bool in[POOL] = {false}, same;
		size_t n = 0, loaded;
		struct key_since *k;
		struct config c;
		ino_t before = 0;

		if (r % 4 == 0 && last_n) { /* the same set again */
			memcpy(pick, last, sizeof(pick));
			n = last_n;
		} else {
			for (int i = 0; i < POOL; ++i) {
				seed = seed * 1103515245u + 12345u;
				if ((seed >> 16) % 3)
					pick[n++] = i;
			}
			for (size_t i = n; i > 1; --i) { /* shuffled, now and then */
				seed = seed * 1103515245u + 12345u;
				if (r % 3 == 0) {
					size_t j = (seed >> 16) % i;
					int t = pick[i - 1];

					pick[i - 1] = pick[j];
					pick[j] = t;
				}
			}
		}
		same = r > 1 && n == last_n && !memcmp(pick, last, n * sizeof(*pick));
		if (r > 1)
			before = inode_of(dir);
		c = config_of(pool, pick, n);
		assert_true(key_ledger_update("lg1", &c, r * 1000, err, sizeof(err)));
		config_free(&c);
		if (same)
			assert_int_equal(inode_of(dir), before);
		for (size_t i = 0; i < n; ++i) {
			in[pick[i]] = true;
			if (model[pick[i]] < 0)
				model[pick[i]] = r * 1000;
		}
		for (int i = 0; i < POOL; ++i)
			if (!in[i])
				model[i] = -1;
		loaded = key_ledger_load("lg1", &k);
		assert_int_equal(loaded, n + 1); /* and the interface's own */
		for (int i = 0; i < POOL; ++i)
			assert_int_equal(since_of(k, loaded, pool[i], NULL), model[i]);
		free(k);
		memcpy(last, pick, sizeof(pick));
		last_n = n;
		if (r == ROUNDS / 2) { /* hand-made lines, at the end */
			char path[256];
			FILE *f;

			snprintf(path, sizeof(path), "%s/lg1.keys", dir);
			assert_non_null(f = fopen(path, "a"));
			fprintf(f, "%s 1\nnot a key 5\n%.20s\n", pool[pick[0]], pool[pick[1]]);
			fclose(f);
		}
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(times_kept_across_updates),
	    cmocka_unit_test(random_sets_against_a_model),
	};

	if (!crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
