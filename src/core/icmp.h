/* SPDX-License-Identifier: MIT */
/*
 * ICMP "destination unreachable" for a packet the tunnel cannot carry (no
 * peer's AllowedIPs hold its destination, or that peer has no endpoint yet),
 * to be written back to the TUN: the sender's connect() or ping fails at once
 * with "no route to host" instead of timing out, as with the kernel driver.
 * Building only; the device writes it and limits the rate.
 */
#ifndef WGATE_ICMP_H
#define WGATE_ICMP_H

#include <stddef.h>
#include <stdint.h>

enum {
	/* IPv6's minimum MTU bounds the error (RFC 4443 2.4 c); IPv4's is 576 (RFC 1812 4.3.2.3).
	 */
	ICMP_UNREACHABLE_MAX = 1280,
};

/*
 * Builds into out (ICMP_UNREACHABLE_MAX bytes) the error for the IP packet
 * ip of len bytes: host unreachable (IPv4, type 3 code 1) or address
 * unreachable (IPv6, type 1 code 3), from the packet's destination to its
 * source, quoting as much of it as fits. Returns the error's length, or 0
 * when none is due: for an ICMP error, a fragment other than the first, a
 * multicast or broadcast destination, or a source that is no single host
 * (RFC 1122 3.2.2, RFC 4443 2.4 e).
 */
size_t icmp_unreachable(uint8_t *out, const uint8_t *ip, size_t len);

#endif
