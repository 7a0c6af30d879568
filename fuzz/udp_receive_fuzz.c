// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the UDP receive, starting where recvmmsg(2) hands the
 * bytes over: datapath_receive() with up to DATAPATH_RX_MESSAGES messages of
 * any length (zero included), any control messages (a UDP_GRO segment size,
 * IP_PKTINFO, anything else, truncated ones) and IPv4, IPv6 or odd sources.
 *
 * The receiving device A has a live session with a peer B, made at start-up
 * by a real handshake, so a record can ask for its payload to be sealed under
 * that session: the fuzzer then reaches what follows decryption (AllowedIPs,
 * the inner IP parsers, coalescing for the TUN) as a peer's packets would.
 *
 * Input: records of
 *   flags (bit 0-1: source family v4/v6/none/odd, bit 2: seal the payload
 *          as B's next data message, bit 3-4: segment-size control message
 *          none/valid/truncated/garbage, bit 5: packet info control message)
 *   u16 segment size, u16 payload length, payload bytes
 */
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add_control(struct msghdr *msg, size_t room, int level, int type, const void *data,
			size_t len, size_t claimed)
{
	struct cmsghdr *c = (struct cmsghdr *)((char *)msg->msg_control + msg->msg_controllen);

	if (msg->msg_controllen + CMSG_SPACE(len) > room)
		return;
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = claimed;
	memcpy(CMSG_DATA(c), data, len);
	msg->msg_controllen += CMSG_SPACE(len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t buffers[DATAPATH_RX_MESSAGES][2048];
	static union {
		char buf[256];
		struct cmsghdr align;
	} control[DATAPATH_RX_MESSAGES];
	struct mmsghdr msgs[DATAPATH_RX_MESSAGES];
	struct iovec iov[DATAPATH_RX_MESSAGES];
	struct wire_addr src[DATAPATH_RX_MESSAGES];
	unsigned n = 0;

	if (!ready) {
		session_start();
		ready = true;
	}
	memset(msgs, 0, sizeof(msgs));
	memset(src, 0, sizeof(src));
	while (n < DATAPATH_RX_MESSAGES && size >= 5) {
		uint8_t flags = data[0];
		int gro = (int)(data[1] << 8 | data[2]);
		size_t len = (size_t)(data[3] << 8 | data[4]);
		struct msghdr *m = &msgs[n].msg_hdr;

		data += 5, size -= 5;
		if (len > size)
			len = size;
		if (flags & 4)
			len = seal_from_b(buffers[n], sizeof(buffers[n]), data, len);
		else
			memcpy(buffers[n], data,
			       len < sizeof(buffers[n]) ? len : sizeof(buffers[n]));
		data += len < size ? len : size;
		size -= len < size ? len : size;
		if (len > sizeof(buffers[n]))
			len = sizeof(buffers[n]);
		iov[n] = (struct iovec){buffers[n], sizeof(buffers[n])};
		*m = (struct msghdr){
		    .msg_iov = &iov[n], .msg_iovlen = 1, .msg_control = control[n].buf};
		msgs[n].msg_len = (unsigned)len;
		switch (flags & 3) {
		case 0:
			src[n].remote.v4.sin_family = AF_INET;
			src[n].remote.v4.sin_port = htons(51820);
			src[n].remote.v4.sin_addr.s_addr = htonl(0xc0000202u + (flags >> 6));
			break;
		case 1:
			src[n].remote.v6.sin6_family = AF_INET6;
			src[n].remote.v6.sin6_port = htons((uint16_t)gro);
			src[n].remote.v6.sin6_addr.s6_addr[15] = flags;
			break;
		case 3:
			src[n].remote.sa.sa_family = (sa_family_t)gro;
			break;
		}
		switch (flags >> 3 & 3) {
		case 1:
			add_control(m, sizeof(control[n].buf), SOL_UDP, 104 /* UDP_GRO */, &gro,
				    sizeof(gro), CMSG_LEN(sizeof(gro)));
			break;
		case 2: /* claims more than the buffer holds */
			add_control(m, sizeof(control[n].buf), SOL_UDP, 104, &gro, sizeof(gro),
				    (size_t)gro);
			break;
		case 3:
			add_control(m, sizeof(control[n].buf), gro & 0xff, gro >> 8, &gro, 1,
				    CMSG_LEN(1));
			break;
		}
		if (flags & 32) {
			struct in6_pktinfo info = {.ipi6_ifindex = gro};

			info.ipi6_addr.s6_addr[0] = 0xfe;
			info.ipi6_addr.s6_addr[1] = 0x80;
			add_control(m, sizeof(control[n].buf), IPPROTO_IPV6, IPV6_PKTINFO, &info,
				    sizeof(info), CMSG_LEN(sizeof(info)));
			add_control(m, sizeof(control[n].buf), IPPROTO_IP, IP_PKTINFO, &info,
				    sizeof(struct in_pktinfo), CMSG_LEN(sizeof(struct in_pktinfo)));
		}
		if (!m->msg_controllen)
			m->msg_control = NULL;
		++n;
	}
	if (n)
		datapath_receive(&dp, &a, msgs, n, src, now);
	datapath_flush(&dp);
	return 0;
}
