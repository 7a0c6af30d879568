// SPDX-License-Identifier: MIT
/* ICMP destination-unreachable errors for undeliverable packets (see icmp.h). */
#include "core/icmp.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "core/bytes.h"
#include "core/checksum.h"

enum {
	IPV4_ERROR_MAX = 576,
	ICMPV6_INFO_MIN = 128, /* types below are errors */
	ERROR_TTL = 64,
};

/* Whether an ICMPv4 type is an error (RFC 792, RFC 1122 3.2.2): never answered with one. */
static bool icmp4_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* No error for a source that is no single host, nor a destination that is many. */
static bool ipv4_addresses_allow(const uint8_t *src, const uint8_t *dst)
{
	static const uint8_t any[4], all[4] = {255, 255, 255, 255};

	return memcmp(src, any, 4) && memcmp(src, all, 4) && src[0] < 224 && src[0] != 127 &&
	       memcmp(dst, all, 4) && dst[0] < 224;
}

static size_t ipv4_unreachable(uint8_t *out, const uint8_t *ip, size_t len)
{
	size_t header_len = (size_t)(ip[0] & 0x0f) * 4, total = be16(ip + 2), quoted;

	if (header_len < 20 || total < header_len || total > len)
		return 0;
	if (be16(ip + 6) & 0x1fff || !ipv4_addresses_allow(ip + 12, ip + 16))
		return 0;
	if (ip[9] == IPPROTO_ICMP && (total == header_len || icmp4_is_error(ip[header_len])))
		return 0;
	quoted = total < IPV4_ERROR_MAX - 28 ? total : IPV4_ERROR_MAX - 28;
	memset(out, 0, 28);
	out[0] = 0x45;
	out[1] = 0xc0; /* internetwork control, as Linux sends its errors */
	put_be16(out + 2, (uint16_t)(28 + quoted));
	out[8] = ERROR_TTL;
	out[9] = IPPROTO_ICMP;
	memcpy(out + 12, ip + 16, 4); /* from the unreachable destination */
	memcpy(out + 16, ip + 12, 4); /* to the sender */
	checksum_store(out + 10, checksum_finish(checksum_add(0, out, 20)));
	out[20] = ICMP_DEST_UNREACH;
	out[21] = ICMP_HOST_UNREACH;
	memcpy(out + 28, ip, quoted);
	checksum_store(out + 22, checksum_finish(checksum_add(0, out + 20, 8 + quoted)));
	return 28 + quoted;
}

static bool ipv6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool ipv6_is_unspecified(const uint8_t *a)
{
	static const uint8_t any[16];

	return !memcmp(a, any, 16);
}

/*
 * Whether an IPv6 packet is an ICMPv6 error or a fragment other than the
 * first (RFC 4443 2.4 (e)), looking through its extension headers (RFC 8200
 * 4: Hop-by-Hop, Routing, Destination Options, Fragment, and AH, RFC 4302).
 * A chain too long or cut short to tell is given no error either.
 */
static bool ipv6_no_error_due(const uint8_t *ip, size_t total)
{
	uint8_t next = ip[6];
	size_t at = 40;

	for (int headers = 0; headers < 8; ++headers) {
		switch (next) {
		case IPPROTO_ICMPV6:
			return at >= total || ip[at] < ICMPV6_INFO_MIN;
		case IPPROTO_FRAGMENT:
			if (at + 8 > total || be16(ip + at + 2) & 0xfff8)
				return true; /* cut short, or not the first fragment */
			next = ip[at];
			at += 8;
			break;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (at + 8 > total)
				return true;
			next = ip[at];
			at += ((size_t)ip[at + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (at + 8 > total)
				return true;
			next = ip[at];
			at += ((size_t)ip[at + 1] + 2) * 4;
			break;
		default:
			return false; /* an upper layer that is not ICMPv6 */
		}
	}
	return true;
}

static size_t ipv6_unreachable(uint8_t *out, const uint8_t *ip, size_t len)
{
	size_t total = 40 + (size_t)be16(ip + 4), quoted;

	if (total > len || ipv6_is_multicast(ip + 24) || ipv6_is_multicast(ip + 8) ||
	    ipv6_is_unspecified(ip + 8) || ipv6_no_error_due(ip, total))
		return 0;
	quoted = total < ICMP_UNREACHABLE_MAX - 48 ? total : ICMP_UNREACHABLE_MAX - 48;
	memset(out, 0, 48);
	out[0] = 0x60;
	put_be16(out + 4, (uint16_t)(8 + quoted));
	out[6] = IPPROTO_ICMPV6;
	out[7] = ERROR_TTL;
	memcpy(out + 8, ip + 24, 16); /* from the unreachable destination */
	memcpy(out + 24, ip + 8, 16); /* to the sender */
	out[40] = ICMP6_DST_UNREACH;
	out[41] = ICMP6_DST_UNREACH_ADDR;
	memcpy(out + 48, ip, quoted);
	checksum_store(out + 42,
		       checksum_finish(checksum_add(
			   checksum_pseudo_header(out, AF_INET6, IPPROTO_ICMPV6, 8 + quoted),
			   out + 40, 8 + quoted)));
	return 48 + quoted;
}

size_t icmp_unreachable(uint8_t *out, const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return ipv4_unreachable(out, ip, len);
	if (len >= 40 && ip[0] >> 4 == 6)
		return ipv6_unreachable(out, ip, len);
	return 0;
}
