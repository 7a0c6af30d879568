// SPDX-License-Identifier: MIT
/*
 * Config edits that keep the rest byte for byte (config/edit.h): a section
 * appended then removed leaves the text as it was, whatever its comments and
 * spacing; a removed section takes its own comments and nothing else; a new
 * peer's address is the lowest free one, checked against a naive scan over
 * random configs.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include "config/config.h"
#include "config/edit.h"
#include "core/encoding.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static char err[512];

static const char *const bases[] = {
    "[Interface]\nAddress = 10.0.0.1/24\n",
    "[Interface]\nAddress = 10.0.0.1/24\n\n",
    "# only a comment, no newline at the end",
    "",
    "[Interface] # x\n\tAddress=10.0.0.1/24\n\n# a peer\n[Peer]\nPublicKey = " KEY_A
    "\n# its note\n\n\n",
};

static void append_then_remove(void **state)
{
	(void)state;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); ++b) {
		const char *base = bases[b];
		size_t len, back_len;
		unsigned lines = 1;
		char *added = config_text_append(base, strlen(base), "[Peer]\nName = x\n", &len);

		assert_non_null(added);
		/* the new header's line */
		for (const char *p = added; p < strstr(added, "[Peer]\nName = x"); ++p)
			lines += *p == '\n';
		char *back = config_text_remove_section(added, len, lines, &back_len);
		assert_non_null(back);
		/* what had no newline at its end gets one: a section starts on its own line */
		if (strlen(base) && base[strlen(base) - 1] != '\n') {
			assert_int_equal(back_len, strlen(base) + 1);
			assert_memory_equal(back, base, strlen(base));
		} else {
			assert_int_equal(back_len, strlen(base));
			assert_memory_equal(back, base, back_len);
		}
		free(added);
		free(back);
	}
}

static void remove_in_the_middle(void **state)
{
	const char *text =
	    "[Interface]\nAddress = 10.0.0.1/24\n\n"
	    "# partner one\n# second line\n[Peer]\nPublicKey = " KEY_A "\n# inside\n\n"
	    "# partner two\n[Peer]\nPublicKey = " KEY_B "\n";
	const char *want = "[Interface]\nAddress = 10.0.0.1/24\n\n"
			   "# partner two\n[Peer]\nPublicKey = " KEY_B "\n";
	size_t len;
	char *out = config_text_remove_section(text, strlen(text), 6, &len);

	(void)state;
	assert_string_equal(out, want);
	free(out);
	/* a line that is no section's header: the rest of the file from it */
	out = config_text_remove_section(text, strlen(text), 99, &len);
	assert_string_equal(out, text);
	free(out);
}

static bool naive_used(const struct config *c, uint32_t a)
{
	for (size_t i = 0; i < c->addresses_len; ++i)
		if (ntohl(c->addresses[i].addr.v4.s_addr) == a)
			return true;
	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j) {
			const struct ip_prefix *p = &c->peers[i].allowed_ips[j];
			uint32_t net = ntohl(p->addr.v4.s_addr),
				 mask = p->cidr ? ~0u << (32 - p->cidr) : 0;

			if (p->family == AF_INET && (net & mask) == (a & mask))
				return true;
		}
	return false;
}

static void free_address_against_naive(void **state)
{
	uint64_t seed = 99;

	(void)state;
	for (int round = 0; round < 300; ++round) {
		char text[8192];
		unsigned cidr = 26 + (unsigned)(test_rand(&seed) % 5); /* /26../30 */
		uint32_t gw = 0x0a000000u | (uint32_t)(test_rand(&seed) % 3 + 1);
		size_t n = (size_t)snprintf(text, sizeof(text),
					    "[Interface]\nAddress = 10.0.0.%u/%u, fd00::1/64\n",
					    gw & 255, cidr);
		unsigned peers = (unsigned)(test_rand(&seed) % 12);
		struct config c;
		struct ip_prefix got;

		for (unsigned i = 0; i < peers; ++i) {
			uint8_t key[32];
			char b64[64];
			unsigned len = 28 + (unsigned)(test_rand(&seed) % 5);
			uint32_t a = (uint32_t)(test_rand(&seed) % 64);

			for (int k = 0; k < 32; ++k)
				key[k] = (uint8_t)test_rand(&seed);
			key[0] = (uint8_t)i;
			key_to_base64(b64, key);
			a &= len == 32 ? ~0u : ~(0xffffffffu >> len);
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.%u/%u\n",
					      b64, a, len);
		}
		assert_true(config_parse(&c, text, n, "t", err, sizeof(err)));
		/* naive: scan the subnet's hosts */
		uint32_t size = 1u << (32 - cidr), want = 0;
		for (uint32_t h = 1; h < size - 1 && !want; ++h)
			if (!naive_used(&c, 0x0a000000u | h))
				want = 0x0a000000u | h;
		bool found = config_free_address(&c, AF_INET, &got);
		assert_int_equal(found, want != 0);
		if (found) {
			assert_int_equal(ntohl(got.addr.v4.s_addr), want);
			assert_int_equal(got.cidr, 32);
		}
		/* IPv6: ::1 is the interface's, so ::2 unless a peer holds it */
		assert_true(config_free_address(&c, AF_INET6, &got));
		config_free(&c);
	}
}

static void find_peer(void **state)
{
	struct config c;
	const char *text =
	    "[Peer]\nName = a\nPublicKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_B "\n";

	(void)state;
	assert_true(config_parse(&c, text, strlen(text), "t", err, sizeof(err)));
	assert_ptr_equal(config_find_peer(&c, "a"), &c.peers[0]);
	assert_ptr_equal(config_find_peer(&c, KEY_B), &c.peers[1]);
	assert_null(config_find_peer(&c, "b"));
	config_free(&c);
}

static char *set_key(const char *text, unsigned line, const char *key, const char *value,
		     const char *after)
{
	size_t len;
	char *out = config_text_set_key(text, strlen(text), line, key, value, after, &len);

	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* A key set, replaced and removed in one section, the rest byte for byte. */
static void set_key_in_a_section(void **state)
{
	static const char *const text =
	    "[Interface]\nAddress = 10.0.0.1/24\n\n# alice\n[Peer]\nName = alice\n"
	    "PublicKey = " KEY_A "\n  # her laptop\nAllowedIPs = 10.0.0.2/32\n\n"
	    "# bob\n[Peer]\npublickey=" KEY_B "\n";
	char *added, *replaced, *removed, *at_end, *none;
	size_t len;

	(void)state;
	/* added after PublicKey in alice's section (header on line 5) only */
	added = set_key(text, 5, "NextPublicKey", KEY_B, "PublicKey");
	assert_non_null(
	    strstr(added, "PublicKey = " KEY_A "\nNextPublicKey = " KEY_B "\n  # her laptop\n"));
	/* replaced in place: one line changes */
	replaced = set_key(added, 5, "nextpublickey", KEY_A, "PublicKey");
	assert_non_null(strstr(replaced, "PublicKey = " KEY_A "\nnextpublickey = " KEY_A "\n  #"));
	assert_null(strstr(replaced, "NextPublicKey = " KEY_B));
	/* removed: the text is as it was */
	removed = set_key(replaced, 5, "NextPublicKey", NULL, NULL);
	assert_string_equal(removed, text);
	/* without the anchor: at the section's end, before the blank line and bob's comment */
	at_end = set_key(text, 5, "RotationDeadline", "2027-01-01", NULL);
	assert_non_null(strstr(at_end, "AllowedIPs = 10.0.0.2/32\nRotationDeadline = 2027-01-01\n\n"
				       "# bob\n"));
	/* bob's section, the last, with a key written without spaces */
	none = set_key(text, 12, "PublicKey", KEY_A, NULL);
	assert_non_null(strstr(none, "# bob\n[Peer]\nPublicKey = " KEY_A "\n"));
	assert_null(strstr(none, KEY_B));
	free(none);
	/* removing what is not there changes nothing; no section on the line: NULL */
	none = set_key(text, 12, "Expires", NULL, NULL);
	assert_string_equal(none, text);
	assert_null(config_text_set_key(text, strlen(text), 3, "Name", "x", NULL, &len));
	free(added), free(replaced), free(removed), free(at_end), free(none);
}

/* NextPublicKey and RotationDeadline: parsed, and refused where they would name two peers. */
static void rotation_keys_parsed(void **state)
{
	struct config c;
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
		 "[Peer]\nPublicKey = %s\nNextPublicKey = %s\nRotationDeadline = 2027-01-01\n",
		 KEY_A, KEY_B);
	assert_true(config_parse(&c, text, strlen(text), "t", err, sizeof(err)));
	assert_true(c.peers[0].has_next_key);
	assert_int_equal(c.peers[0].rotation_deadline, 1798761600);
	config_free(&c);
	static const char *const bad[][2] = {
	    {"[Peer]\nPublicKey = " KEY_A "\nNextPublicKey = " KEY_A "\n",
	     "t:3: NextPublicKey is this [Peer]'s PublicKey"},
	    {"[Peer]\nPublicKey = " KEY_A "\nRotationDeadline = 2027-01-01\n",
	     "t:3: RotationDeadline without a NextPublicKey in this [Peer]"},
	    {"[Peer]\nPublicKey = " KEY_A "\nNextPublicKey = " KEY_B "\n[Peer]\nPublicKey = " KEY_B
	     "\n",
	     "t:1: this [Peer]'s NextPublicKey is the PublicKey of the [Peer] at line 4"},
	    {"[Peer]\nPublicKey = " KEY_A "\nNextPublicKey = 2\n", NULL},
	    {"[Peer]\nPublicKey = " KEY_A "\nNextPublicKey = " KEY_B "\nRotationDeadline = soon\n",
	     "t:4: RotationDeadline `soon' is not a date, such as 2026-12-31 or "
	     "2026-12-31T18:30:00Z (UTC)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		assert_false(config_parse(&c, bad[i][0], strlen(bad[i][0]), "t", err, sizeof(err)));
		if (bad[i][1])
			assert_string_equal(err, bad[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_then_remove),	  cmocka_unit_test(remove_in_the_middle),
	    cmocka_unit_test(free_address_against_naive), cmocka_unit_test(find_peer),
	    cmocka_unit_test(set_key_in_a_section),	  cmocka_unit_test(rotation_keys_parsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
