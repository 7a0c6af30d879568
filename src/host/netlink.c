// SPDX-License-Identifier: MIT
/* rtnetlink requests on one socket, each acknowledged before the next. */
#include "host/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Requests are small; acknowledgements carry at most the request back. */
enum { NETLINK_BUFFER_SIZE = 8192 };

/*
 * One socket serves every request of the process, opened at the first: a
 * reload of 100k routes costs a send and a receive each, not a socket too.
 * The sequence number tells this request's acknowledgement from a stale one.
 */
static struct mnl_socket *shared_socket(unsigned *portid)
{
	static struct mnl_socket *nl;
	static unsigned port;

	if (!nl) {
		nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!nl)
			return NULL;
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			int saved = errno;

			mnl_socket_close(nl);
			nl = NULL;
			errno = saved;
			return NULL;
		}
		port = mnl_socket_get_portid(nl);
		/*
		 * Acknowledgements without the request echoed back, room for a
		 * batch's worth of them, and never a wait of more than a second
		 * for one the kernel could not queue.
		 */
		setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &(int){1},
			   sizeof(int));
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &(int){1 << 20},
			   sizeof(int));
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
			   &(struct timeval){.tv_sec = 1}, sizeof(struct timeval));
	}
	*portid = port;
	return nl;
}

/* Sequence numbers for every request of the process, so acknowledgements match. */
static unsigned next_seq(void)
{
	static unsigned seq;

	if (!seq)
		seq = (unsigned)time(NULL);
	return ++seq;
}

/* Sends one request and waits for its acknowledgement. */
static int transact(struct nlmsghdr *nlh)
{
	char buf[NETLINK_BUFFER_SIZE];
	unsigned portid, seq;
	struct mnl_socket *nl = shared_socket(&portid);
	int ret;

	if (!nl)
		return -errno;
	nlh->nlmsg_seq = seq = next_seq();
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)ret, seq, portid, NULL, NULL);
	} while (ret < 0 && errno == EPROTO); /* an acknowledgement of an earlier request */
	return ret < 0 ? -errno : 0;
}

/* A link request of this type for ifindex; attributes may follow. */
static struct nlmsghdr *link_request(char *buf, uint16_t type, unsigned ifindex,
				     struct ifinfomsg **ifi)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifi));
	(*ifi)->ifi_family = AF_UNSPEC;
	(*ifi)->ifi_index = (int)ifindex;
	return nlh;
}

int netlink_link_set(unsigned ifindex, bool up, unsigned mtu)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, ifindex, &ifi);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return transact(nlh);
}

int netlink_link_delete(unsigned ifindex)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct ifinfomsg *ifi;

	return transact(link_request(buf, RTM_DELLINK, ifindex, &ifi));
}

static size_t addr_len(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static int address_request(int type, unsigned ifindex, const struct ip_prefix *address)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = (uint16_t)type;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)address->family;
	ifa->ifa_prefixlen = address->cidr;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(address->family), &address->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(address->family), &address->addr);
	return transact(nlh);
}

int netlink_address_add(unsigned ifindex, const struct ip_prefix *prefix)
{
	return address_request(RTM_NEWADDR, ifindex, prefix);
}

int netlink_address_del(unsigned ifindex, const struct ip_prefix *prefix)
{
	return address_request(RTM_DELADDR, ifindex, prefix);
}

/* Puts a route request for prefix at buf (room for one); returns its header. */
static struct nlmsghdr *route_request(char *buf, int type, unsigned ifindex,
				      const struct ip_prefix *prefix, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint8_t dst[16] = {0};
	unsigned bytes = (unsigned)addr_len(prefix->family);

	/* The kernel wants the network address: host bits cleared. */
	memcpy(dst, &prefix->addr, bytes);
	for (unsigned i = prefix->cidr; i < bytes * 8; ++i)
		dst[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	nlh->nlmsg_type = (uint16_t)type;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)prefix->family;
	rtm->rtm_dst_len = prefix->cidr;
	rtm->rtm_table = table && table < 256 ? (unsigned char)table : RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, bytes, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

int netlink_route_via(bool add, unsigned ifindex, const struct ip_prefix *prefix,
		      const void *gateway, uint32_t table)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct nlmsghdr *nlh =
	    route_request(buf, add ? RTM_NEWROUTE : RTM_DELROUTE, ifindex, prefix, table);
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int ret;

	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, RTA_GATEWAY, addr_len(prefix->family), gateway);
	ret = transact(nlh);
	return add && ret == -EEXIST ? 0 : ret;
}

int netlink_route_add(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	char buf[NETLINK_BUFFER_SIZE];
	int ret = transact(route_request(buf, RTM_NEWROUTE, ifindex, prefix, table));

	return ret == -EEXIST ? 0 : ret;
}

int netlink_route_del(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	char buf[NETLINK_BUFFER_SIZE];

	return transact(route_request(buf, RTM_DELROUTE, ifindex, prefix, table));
}

enum { BATCH_BYTES = 32768, ROUTE_REQUEST_MAX = 128 }; /* 256 requests at most */

/*
 * Reads the answers to requests numbered [first, first + n): only the last
 * asked for an acknowledgement; the kernel answers a failed one anyway, and
 * handles a batch in order, so the last one's acknowledgement ends it.
 */
static void collect_acks(struct mnl_socket *nl, unsigned first, size_t n,
			 const struct ip_prefix *const *prefixes, bool add,
			 netlink_route_failed *failed, void *ctx)
{
	enum { ACKS_PER_READ = 64, ACK_ROOM = 512 };
	static char bufs[ACKS_PER_READ][ACK_ROOM];
	struct mmsghdr msgs[ACKS_PER_READ];
	struct iovec iov[ACKS_PER_READ];
	bool last = false;

	while (!last) {
		int got;

		/* each acknowledgement is a datagram of its own: many per system call */
		for (int i = 0; i < ACKS_PER_READ; ++i) {
			iov[i] = (struct iovec){bufs[i], ACK_ROOM};
			msgs[i] =
			    (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		got = recvmmsg(mnl_socket_get_fd(nl), msgs, ACKS_PER_READ, MSG_WAITFORONE, NULL);
		if (got <= 0)
			return; /* the socket failed or timed out: the rest are not known */
		for (int m = 0; m < got; ++m) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)bufs[m];
			int left = (int)msgs[m].msg_len;

			for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				unsigned i = nlh->nlmsg_seq - first;

				if (nlh->nlmsg_type != NLMSG_ERROR || i >= n)
					continue; /* not one of ours */
				last |= i == n - 1;
				if (e->error && !(add && e->error == -EEXIST) && failed)
					failed(ctx, prefixes[i], e->error);
			}
		}
	}
}

size_t netlink_routes(bool add, unsigned ifindex, const struct ip_prefix *const *prefixes, size_t n,
		      uint32_t table, netlink_route_failed *failed, void *ctx)
{
	static char batch[BATCH_BYTES];
	unsigned portid;
	struct mnl_socket *nl = shared_socket(&portid);
	size_t done = 0;

	if (!nl) {
		for (size_t i = 0; failed && i < n; ++i)
			failed(ctx, prefixes[i], -errno);
		return n;
	}
	while (done < n) {
		size_t used = 0, count = 0;
		unsigned first = next_seq();
		struct nlmsghdr *last = NULL;

		/* As many requests as fit, sent at once, acknowledged together. */
		while (done + count < n && used + ROUTE_REQUEST_MAX <= sizeof(batch)) {
			struct nlmsghdr *nlh =
			    route_request(batch + used, add ? RTM_NEWROUTE : RTM_DELROUTE, ifindex,
					  prefixes[done + count], table);

			nlh->nlmsg_flags |= NLM_F_REQUEST;
			nlh->nlmsg_seq = count ? next_seq() : first;
			used += NLMSG_ALIGN(nlh->nlmsg_len);
			++count;
			last = nlh;
		}
		last->nlmsg_flags |= NLM_F_ACK;
		if (mnl_socket_sendto(nl, batch, used) < 0) {
			for (size_t i = 0; failed && i < count; ++i)
				failed(ctx, prefixes[done + i], -errno);
		} else {
			collect_acks(nl, first, count, prefixes + done, add, failed, ctx);
		}
		done += count;
	}
	return n;
}

static int rule_once(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
		     int suppress_prefixlen);

/*
 * The kernel gives a rule without a priority a new one, so the same rule can
 * be there twice (a daemon that was killed left it): every copy goes before
 * one is added, and a delete removes every copy.
 */
int netlink_rule(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
		 int suppress_prefixlen)
{
	int ret, removed = 0;

	while (removed < 64 &&
	       rule_once(false, family, table, fwmark, not_fwmark, suppress_prefixlen) == 0)
		++removed;
	if (!add)
		return removed ? 0 : -ENOENT;
	ret = rule_once(true, family, table, fwmark, not_fwmark, suppress_prefixlen);
	return ret;
}

static int rule_once(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
		     int suppress_prefixlen)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	int ret;

	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (unsigned char)family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	if (not_fwmark)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if (fwmark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
	}
	if (suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)suppress_prefixlen);
	ret = transact(nlh);
	return add && ret == -EEXIST ? 0 : ret;
}
