// SPDX-License-Identifier: MIT
/*
 * ICMP destination unreachable: each field of the error for IPv4 and IPv6,
 * checksums verified by the naive reference, the quote bounded, and no error
 * where RFC 1122 3.2.2 and RFC 4443 2.4 forbid one; random input never
 * yields a malformed error.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "testutil.h"

#include "core/icmp.h"

/* An IPv4 packet of len bytes (>= 28) from src to dst, protocol proto, the next byte first. */
static size_t ipv4(uint8_t *p, size_t len, const char *src, const char *dst, uint8_t proto,
		   uint8_t first)
{
	memset(p, 0xab, len);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = p[7] = 0;
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[20] = first;
	return len;
}

/* An IPv6 packet of len bytes (>= 48) from src to dst, next header next, the next byte first. */
static size_t ipv6(uint8_t *p, size_t len, const char *src, const char *dst, uint8_t next,
		   uint8_t first)
{
	memset(p, 0xcd, len);
	memset(p, 0, 8);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = next;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	p[40] = first;
	return len;
}

static void ipv4_host_unreachable(void **state)
{
	uint8_t pkt[1500], err[ICMP_UNREACHABLE_MAX];
	size_t n, len = ipv4(pkt, 84, "10.0.0.1", "10.0.0.99", 1, 8); /* an echo request */

	(void)state;
	n = icmp_unreachable(err, pkt, len);
	assert_int_equal(n, 28 + 84);
	assert_int_equal(err[0], 0x45);
	assert_int_equal(err[2] << 8 | err[3], n);
	assert_int_equal(err[9], 1);
	assert_memory_equal(err + 12, pkt + 16, 4); /* from the destination */
	assert_memory_equal(err + 16, pkt + 12, 4); /* to the sender */
	assert_int_equal(naive_checksum(err, 20), 0);
	assert_int_equal(err[20], 3); /* destination unreachable */
	assert_int_equal(err[21], 1); /* host unreachable */
	assert_int_equal(naive_checksum(err + 20, n - 20), 0);
	assert_memory_equal(err + 28, pkt, len);

	/* a large packet is quoted only as far as 576 bytes allow */
	len = ipv4(pkt, 1400, "10.0.0.1", "10.0.0.99", 6, 0);
	n = icmp_unreachable(err, pkt, len);
	assert_int_equal(n, 576);
	assert_int_equal(naive_checksum(err + 20, n - 20), 0);
	assert_memory_equal(err + 28, pkt, 548);
	/* only the IP length counts, not what follows it in the buffer */
	len = ipv4(pkt, 60, "10.0.0.1", "10.0.0.99", 17, 0);
	assert_int_equal(icmp_unreachable(err, pkt, 100), 28 + 60);
}

static void ipv6_address_unreachable(void **state)
{
	uint8_t pkt[1500], err[ICMP_UNREACHABLE_MAX];
	size_t n, len = ipv6(pkt, 80, "fd00::1", "fd00::99", 6, 0);

	(void)state;
	n = icmp_unreachable(err, pkt, len);
	assert_int_equal(n, 48 + 80);
	assert_int_equal(err[0] >> 4, 6);
	assert_int_equal(err[4] << 8 | err[5], n - 40);
	assert_int_equal(err[6], 58);
	assert_memory_equal(err + 8, pkt + 24, 16);
	assert_memory_equal(err + 24, pkt + 8, 16);
	assert_int_equal(err[40], 1); /* destination unreachable */
	assert_int_equal(err[41], 3); /* address unreachable */
	assert_true(l4_checksum_ok(err, n));
	assert_memory_equal(err + 48, pkt, len);

	/* the whole error stays within IPv6's minimum MTU */
	len = ipv6(pkt, 1500, "fd00::1", "fd00::99", 17, 0);
	n = icmp_unreachable(err, pkt, len);
	assert_int_equal(n, 1280);
	assert_true(l4_checksum_ok(err, n));
	/* an echo request is answered; so is a first fragment */
	len = ipv6(pkt, 64, "fd00::1", "fd00::99", 58, 128);
	assert_int_equal(icmp_unreachable(err, pkt, len), 48 + 64);
	len = ipv6(pkt, 64, "fd00::1", "fd00::99", 44, 6);
	pkt[42] = pkt[43] = 0;
	assert_int_equal(icmp_unreachable(err, pkt, len), 48 + 64);
}

static void no_error_where_none_is_due(void **state)
{
	uint8_t pkt[1500], err[ICMP_UNREACHABLE_MAX];
	size_t len;

	/*
	 * ICMP errors are never answered with one (types 3 and 11; ICMPv6 below 128),
	 * nor are many destinations, or a source that is no single host.
	 */
	static const struct {
		const char *src, *dst;
		uint8_t proto, first;
	} none[] = {
	    {"10.0.0.1", "10.0.0.99", 1, 3},	     {"10.0.0.1", "10.0.0.99", 1, 11},
	    {"fd00::1", "fd00::99", 58, 1},	     {"fd00::1", "fd00::99", 58, 127},
	    {"10.0.0.1", "224.0.0.1", 17, 0},	     {"10.0.0.1", "255.255.255.255", 17, 0},
	    {"0.0.0.0", "10.0.0.99", 17, 0},	     {"224.0.0.5", "10.0.0.99", 17, 0},
	    {"255.255.255.255", "10.0.0.99", 17, 0}, {"127.0.0.1", "10.0.0.99", 17, 0},
	    {"fd00::1", "ff02::1", 17, 0},	     {"::", "fd00::99", 17, 0},
	    {"ff02::1", "fd00::99", 17, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); ++i) {
		if (strchr(none[i].src, ':'))
			len = ipv6(pkt, 56, none[i].src, none[i].dst, none[i].proto, none[i].first);
		else
			len = ipv4(pkt, 56, none[i].src, none[i].dst, none[i].proto, none[i].first);
		if (icmp_unreachable(err, pkt, len))
			fail_msg("an error for %s -> %s, protocol %u, first byte %u", none[i].src,
				 none[i].dst, none[i].proto, none[i].first);
	}
	/* fragments other than the first */
	len = ipv4(pkt, 40, "10.0.0.1", "10.0.0.99", 17, 0);
	pkt[7] = 1;
	assert_int_equal(icmp_unreachable(err, pkt, len), 0);
	len = ipv6(pkt, 56, "fd00::1", "fd00::99", 44, 17);
	pkt[42] = 0;
	pkt[43] = 8;
	assert_int_equal(icmp_unreachable(err, pkt, len), 0);
	/* truncated or not IP at all */
	len = ipv4(pkt, 40, "10.0.0.1", "10.0.0.99", 17, 0);
	assert_int_equal(icmp_unreachable(err, pkt, 39), 0);
	pkt[0] = 0x44; /* a header shorter than 20 bytes */
	assert_int_equal(icmp_unreachable(err, pkt, len), 0);
	len = ipv6(pkt, 56, "fd00::1", "fd00::99", 17, 0);
	assert_int_equal(icmp_unreachable(err, pkt, 55), 0);
	pkt[0] = 0x20;
	assert_int_equal(icmp_unreachable(err, pkt, len), 0);
	assert_int_equal(icmp_unreachable(err, pkt, 0), 0);
}

/* Random packets, and random mutations of valid ones: whatever comes out is a valid error. */
/*
 * An ICMPv6 error behind extension headers (Hop-by-Hop, Destination Options,
 * Routing, a first Fragment, AH) is still an error: no error for it; the same
 * chain in front of UDP or an ICMPv6 echo request gets one.
 */
static void ipv6_errors_behind_extension_headers(void **state)
{
	static const uint8_t chains[][3] = {
	    {0, 255, 255},  {60, 255, 255}, {43, 255, 255}, {44, 255, 255},
	    {51, 255, 255}, {0, 60, 255},   {0, 43, 60},    {0, 44, 60},
	};
	uint8_t pkt[200], err[ICMP_UNREACHABLE_MAX];

	(void)state;
	for (size_t c = 0; c < sizeof(chains) / sizeof(chains[0]); ++c) {
		for (int upper = 0; upper < 3; ++upper) {
			/* upper 0: ICMPv6 destination unreachable; 1: echo request; 2: UDP */
			uint8_t last = upper == 2 ? 17 : 58;
			size_t at = 40,
			       len = ipv6(pkt, sizeof(pkt), "fd00::1", "fd00::99", chains[c][0], 0);

			for (int h = 0; h < 3 && chains[c][h] != 255; ++h) {
				uint8_t kind = chains[c][h];

				memset(pkt + at, 0, 16);
				pkt[at] =
				    h + 1 < 3 && chains[c][h + 1] != 255 ? chains[c][h + 1] : last;
				if (kind == 44) {
					at += 8; /* fragment offset 0: the first fragment */
				} else if (kind == 51) {
					pkt[at + 1] = 2; /* AH: (2 + 2) * 4 = 16 bytes */
					at += 16;
				} else {
					pkt[at + 1] = 1; /* (1 + 1) * 8 = 16 bytes */
					at += 16;
				}
			}
			pkt[at] = upper == 0 ? 1 : upper == 1 ? 128 : 0;
			if (upper == 0 && icmp_unreachable(err, pkt, len))
				fail_msg("an error for an ICMPv6 error behind chain %zu", c);
			if (upper > 0 && !icmp_unreachable(err, pkt, len))
				fail_msg("no error for upper %d behind chain %zu", upper, c);
		}
	}
	/* a chain that runs past the packet: no error */
	ipv6(pkt, 48, "fd00::1", "fd00::99", 0, 58);
	pkt[41] = 20;
	assert_int_equal(icmp_unreachable(err, pkt, 48), 0);
}

static void random_input_gives_valid_errors_or_none(void **state)
{
	uint8_t pkt[1500], err[ICMP_UNREACHABLE_MAX];
	uint64_t seed = 11;
	unsigned made = 0;

	(void)state;
	for (int i = 0; i < 200000; ++i) {
		size_t len = 20 + test_rand(&seed) % 1400, n;

		if (i % 2)
			ipv4(pkt, len < 28 ? 28 : len, "10.1.2.3", "10.9.8.7", 17, 0);
		else
			ipv6(pkt, len < 48 ? 48 : len, "fd00::3", "fd00::7", 6, 0);
		for (int j = (int)(test_rand(&seed) % 4); j-- > 0;)
			pkt[test_rand(&seed) % 60] = (uint8_t)test_rand(&seed);
		n = icmp_unreachable(err, pkt, len);
		if (!n)
			continue;
		++made;
		assert_true(n <= ICMP_UNREACHABLE_MAX);
		if (err[0] >> 4 == 4) {
			assert_true(n <= 576);
			assert_int_equal(err[2] << 8 | err[3], n);
			assert_int_equal(naive_checksum(err, 20), 0);
			assert_int_equal(naive_checksum(err + 20, n - 20), 0);
		} else {
			assert_int_equal((err[4] << 8 | err[5]) + 40, n);
			assert_true(l4_checksum_ok(err, n));
		}
	}
	assert_true(made > 1000); /* the mutations leave most packets valid */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_host_unreachable),
	    cmocka_unit_test(ipv6_address_unreachable),
	    cmocka_unit_test(no_error_where_none_is_due),
	    cmocka_unit_test(ipv6_errors_behind_extension_headers),
	    cmocka_unit_test(random_input_gives_valid_errors_or_none),
	};

	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
