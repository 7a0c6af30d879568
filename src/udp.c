// SPDX-License-Identifier: MIT
/* One IPv4 and one IPv6 (v6-only) socket sharing a port, as the kernel driver binds. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bind_one(int family, uint16_t port, uint32_t fwmark, uint16_t *bound)
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

int udp_open(struct udp *udp, uint16_t port, uint32_t fwmark)
{
	/* With a random port, retry until both families get the same one. */
	for (int attempt = 0; attempt < 100; ++attempt) {
		uint16_t bound = 0, bound6 = 0;
		int fd4 = bind_one(AF_INET, port, fwmark, &bound), fd6;

		if (fd4 < 0 && fd4 != -EAFNOSUPPORT)
			return fd4;
		fd6 = bind_one(AF_INET6, fd4 >= 0 ? bound : port, fwmark, &bound6);
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

long udp_send(const struct udp *udp, const union sockaddr_any *to, const void *buf, size_t len)
{
	int fd = to->sa.sa_family == AF_INET ? udp->fd4 : udp->fd6;
	socklen_t alen = to->sa.sa_family == AF_INET ? sizeof(to->v4) : sizeof(to->v6);
	ssize_t n;

	if (fd < 0)
		return -EAFNOSUPPORT;
	n = sendto(fd, buf, len, 0, &to->sa, alen);
	return n < 0 ? -errno : n;
}
