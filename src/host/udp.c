// SPDX-License-Identifier: MIT
/* One IPv4 and one IPv6 (v6-only) socket sharing a port, as the kernel driver binds. */
#include "host/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

enum { UDP_SOCKET_BUFFER = 4 << 20 };

/* Room for bursts of GSO sends and GRO receives; root may exceed the sysctl limits. */
static void set_buffers(int fd)
{
	int size = UDP_SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int bind_one(int family, uint16_t port, uint32_t fwmark, bool gro, uint16_t *bound)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, saved;
	union sockaddr_any addr = {0};
	socklen_t len;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	set_buffers(fd);
	/* Each datagram tells the local address it arrived at, for answers to leave from. */
	if (family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	/* Joined datagrams come with their segment size; a kernel without it sends them singly. */
	if (gro)
		setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	if (family == AF_INET) {
		addr.v4.sin_family = AF_INET;
		addr.v4.sin_port = htons(port);
		len = sizeof(addr.v4);
	} else {
		addr.v6.sin6_family = AF_INET6;
		addr.v6.sin6_port = htons(port);
		len = sizeof(addr.v6);
	}
	if (bind(fd, &addr.sa, len) < 0 || getsockname(fd, &addr.sa, &len) < 0)
		goto fail;
	*bound = ntohs(family == AF_INET ? addr.v4.sin_port : addr.v6.sin6_port);
	return fd;
fail:
	saved = errno;
	close(fd);
	return -saved;
}

int udp_open(struct udp *udp, uint16_t port, uint32_t fwmark, bool gro)
{
	/* With a random port, retry until both families get the same one. */
	for (int attempt = 0; attempt < 100; ++attempt) {
		uint16_t bound = 0, bound6 = 0;
		int fd4 = bind_one(AF_INET, port, fwmark, gro, &bound), fd6;

		if (fd4 < 0 && fd4 != -EAFNOSUPPORT)
			return fd4;
		fd6 = bind_one(AF_INET6, fd4 >= 0 ? bound : port, fwmark, gro, &bound6);
		if (fd6 == -EADDRINUSE && !port && fd4 >= 0) {
			close(fd4);
			continue;
		}
		if (fd6 < 0 && fd6 != -EAFNOSUPPORT && fd6 != -EADDRNOTAVAIL) {
			if (fd4 >= 0)
				close(fd4);
			return fd6;
		}
		if (fd4 < 0 && fd6 < 0)
			return fd4;
		udp->fd4 = fd4 >= 0 ? fd4 : -1;
		udp->fd6 = fd6 >= 0 ? fd6 : -1;
		udp->port = fd4 >= 0 ? bound : bound6;
		return 0;
	}
	return -EADDRINUSE;
}

int udp_set_fwmark(struct udp *udp, uint32_t fwmark)
{
	int fds[] = {udp->fd4, udp->fd6};

	for (int i = 0; i < 2; ++i)
		if (fds[i] >= 0 &&
		    setsockopt(fds[i], SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
			return -errno;
	return 0;
}

void udp_close(struct udp *udp)
{
	if (udp->fd4 >= 0)
		close(udp->fd4);
	if (udp->fd6 >= 0)
		close(udp->fd6);
	udp->fd4 = udp->fd6 = -1;
}
