// SPDX-License-Identifier: MIT
/* rtnetlink requests, each sent on its own socket and acknowledged. */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Requests are small; acknowledgements carry at most the request back. */
enum { NETLINK_BUFFER_SIZE = 8192 };

/* Sends one request and waits for its acknowledgement. */
static int transact(struct nlmsghdr *nlh)
{
	char buf[NETLINK_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned seq = (unsigned)time(NULL), portid;
	int ret;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_cb_run(buf, (size_t)ret, seq, portid, NULL, NULL);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
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

static int route(int type, unsigned ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	char buf[NETLINK_BUFFER_SIZE];
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
	return transact(nlh);
}

int netlink_route_add(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	int ret = route(RTM_NEWROUTE, ifindex, prefix, table);

	return ret == -EEXIST ? 0 : ret;
}

int netlink_route_del(unsigned ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	return route(RTM_DELROUTE, ifindex, prefix, table);
}

int netlink_rule(bool add, int family, uint32_t table, uint32_t fwmark, bool not_fwmark,
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
