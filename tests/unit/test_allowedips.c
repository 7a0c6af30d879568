// SPDX-License-Identifier: MIT
/* Cryptokey routing: fixed cases, then random operations against a naive model. */
#include "testutil.h"

#include <arpa/inet.h>

#include "core/allowedips.h"

static struct allowedips_owner owners[8];

static struct allowedips_owner *lookup4(struct allowedips *t, const char *ip)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
	return allowedips_lookup(t, AF_INET, &a);
}

static struct allowedips_owner *lookup6(struct allowedips *t, const char *ip)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, ip, &a), 1);
	return allowedips_lookup(t, AF_INET6, &a);
}

static void insert(struct allowedips *t, const char *ip, uint8_t cidr, int owner)
{
	uint8_t a[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, a), 1);
	assert_true(allowedips_insert(t, family, a, cidr, &owners[owner]));
}

static void fixed_cases(void **state)
{
	struct allowedips t;

	(void)state;
	memset(owners, 0, sizeof(owners));
	allowedips_init(&t);
	insert(&t, "192.168.4.0", 24, 0);
	insert(&t, "192.168.4.4", 32, 1);
	insert(&t, "192.168.0.0", 16, 2);
	insert(&t, "192.95.5.64", 27, 3);
	insert(&t, "192.95.5.65", 27, 2); /* host bits ignored: the same prefix moves to 2 */
	insert(&t, "0.0.0.0", 0, 4);
	insert(&t, "2607:5300:60:6b00::", 64, 5);
	insert(&t, "2607:5300:60:6b00::c05f:543", 128, 6);
	insert(&t, "::", 0, 7);
	assert_ptr_equal(lookup4(&t, "192.168.4.20"), &owners[0]);
	assert_ptr_equal(lookup4(&t, "192.168.4.0"), &owners[0]);
	assert_ptr_equal(lookup4(&t, "192.168.4.4"), &owners[1]);
	assert_ptr_equal(lookup4(&t, "192.168.200.182"), &owners[2]);
	assert_ptr_equal(lookup4(&t, "192.95.5.68"), &owners[2]);
	assert_ptr_equal(lookup4(&t, "192.95.5.96"), &owners[4]);
	assert_ptr_equal(lookup4(&t, "8.8.8.8"), &owners[4]);
	assert_ptr_equal(lookup6(&t, "2607:5300:60:6b00::c05f:543"), &owners[6]);
	assert_ptr_equal(lookup6(&t, "2607:5300:60:6b00::c05f:544"), &owners[5]);
	assert_ptr_equal(lookup6(&t, "2001::1"), &owners[7]);
	assert_int_equal(owners[3].count, 0);
	assert_int_equal(owners[2].count, 2);

	/* removal only by the owner that holds the prefix */
	uint8_t a[4] = {192, 168, 4, 4};
	assert_false(allowedips_remove(&t, AF_INET, a, 32, &owners[0]));
	assert_true(allowedips_remove(&t, AF_INET, a, 32, &owners[1]));
	assert_ptr_equal(lookup4(&t, "192.168.4.4"), &owners[0]);
	allowedips_remove_owner(&t, &owners[4]);
	assert_null(lookup4(&t, "8.8.8.8"));
	assert_int_equal(owners[4].count, 0);
	allowedips_free(&t);
	assert_int_equal(t.nodes, 0);
}

/* Iteration gives the owner's prefixes in the order they were added. */
static void iteration_order(void **state)
{
	struct allowedips t;
	int family;
	uint8_t addr[16], cidr;
	char text[80];
	const char *want[] = {"10.0.0.0/8", "fd00::/64", "10.1.2.0/24"};
	size_t n = 0;

	(void)state;
	memset(owners, 0, sizeof(owners));
	allowedips_init(&t);
	insert(&t, "10.9.9.9", 8, 0);
	insert(&t, "fd00::1", 64, 0);
	insert(&t, "10.1.2.0", 24, 0);
	for (struct allowedips_node *it = NULL;
	     (it = allowedips_next(&owners[0], it, &family, addr, &cidr));) {
		char ip[64];

		inet_ntop(family, addr, ip, sizeof(ip));
		snprintf(text, sizeof(text), "%s/%u", ip, cidr);
		assert_string_equal(text, want[n++]);
	}
	assert_int_equal(n, 3);
	allowedips_free(&t);
}

/* The model: a plain list of prefixes, each with its owner. */
struct entry {
	int family;
	uint8_t key[16];
	uint8_t cidr;
	int owner;
};
static struct entry model[4096];
static size_t model_len;

static bool matches(const uint8_t *key, const uint8_t *addr, unsigned cidr)
{
	for (unsigned i = 0; i < cidr; ++i)
		if (((key[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static void model_mask(uint8_t *key, unsigned cidr, unsigned bytes)
{
	for (unsigned i = cidr; i < bytes * 8; ++i)
		key[i / 8] &= (uint8_t) ~(1 << (7 - i % 8));
}

static int model_find(int family, const uint8_t *key, uint8_t cidr)
{
	for (size_t i = 0; i < model_len; ++i)
		if (model[i].family == family && model[i].cidr == cidr &&
		    !memcmp(model[i].key, key, family == AF_INET ? 4 : 16))
			return (int)i;
	return -1;
}

static int model_lookup(int family, const uint8_t *addr)
{
	int best = -1, best_cidr = -1;

	for (size_t i = 0; i < model_len; ++i) {
		if (model[i].family == family && model[i].cidr > best_cidr &&
		    matches(model[i].key, addr, model[i].cidr)) {
			best = model[i].owner;
			best_cidr = model[i].cidr;
		}
	}
	return best;
}

static void random_address(uint64_t *seed, int family, uint8_t *addr)
{
	/* Few distinct leading bytes, so prefixes overlap and nest often. */
	unsigned bytes = family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; ++i)
		addr[i] = (uint8_t)test_rand(seed);
	addr[0] = (uint8_t)(test_rand(seed) % 3);
	addr[1] &= 0x0f;
}

static void random_against_model(void **state)
{
	uint64_t seed = 0xfeedbeef;

	(void)state;
	for (int round = 0; round < 10; ++round) {
		struct allowedips t;

		memset(owners, 0, sizeof(owners));
		allowedips_init(&t);
		model_len = 0;
		for (int step = 0; step < 6000; ++step) {
			int family = test_rand(&seed) % 2 ? AF_INET : AF_INET6;
			unsigned bits = family == AF_INET ? 32 : 128, bytes = bits / 8;
			uint8_t addr[16] = {0};
			uint64_t op = test_rand(&seed) % 100;

			random_address(&seed, family, addr);
			if (op < 40 && model_len < 4000) {
				uint8_t cidr = (uint8_t)(test_rand(&seed) % (bits + 1));
				int owner = (int)(test_rand(&seed) % 8);
				int at;

				assert_true(
				    allowedips_insert(&t, family, addr, cidr, &owners[owner]));
				model_mask(addr, cidr, bytes);
				at = model_find(family, addr, cidr);
				if (at < 0) {
					at = (int)model_len++;
					model[at].family = family;
					memcpy(model[at].key, addr, 16);
					model[at].cidr = cidr;
				}
				model[at].owner = owner;
			} else if (op < 50 && model_len) {
				struct entry e = model[test_rand(&seed) % model_len];
				int owner =
				    test_rand(&seed) % 4 ? e.owner : (int)(test_rand(&seed) % 8);
				bool removed =
				    allowedips_remove(&t, e.family, e.key, e.cidr, &owners[owner]);

				assert_int_equal(removed, owner == e.owner);
				if (removed) {
					int at = model_find(e.family, e.key, e.cidr);

					model[at] = model[--model_len];
				}
			} else if (op < 51) {
				int owner = (int)(test_rand(&seed) % 8);

				allowedips_remove_owner(&t, &owners[owner]);
				for (size_t i = 0; i < model_len;)
					if (model[i].owner == owner)
						model[i] = model[--model_len];
					else
						++i;
			} else {
				struct allowedips_owner *got = allowedips_lookup(&t, family, addr);
				int want = model_lookup(family, addr);

				assert_ptr_equal(got, want < 0 ? NULL : &owners[want]);
			}
		}
		/* per-owner lists agree with the model */
		for (int o = 0; o < 8; ++o) {
			size_t want = 0;

			for (size_t i = 0; i < model_len; ++i)
				want += model[i].owner == o;
			assert_int_equal(owners[o].count, want);
		}
		/* no more nodes than two per prefix (each join node has two children) */
		assert_true(t.nodes <= 2 * model_len + 2);
		for (int o = 0; o < 8; ++o)
			allowedips_remove_owner(&t, &owners[o]);
		assert_int_equal(t.nodes, 0);
		allowedips_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fixed_cases),
	    cmocka_unit_test(iteration_order),
	    cmocka_unit_test(random_against_model),
	};
	return cmocka_run_group_tests_name("allowedips", tests, NULL, NULL);
}
