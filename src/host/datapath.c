// SPDX-License-Identifier: MIT
/* Batches, GSO/GRO and TUN offloads between the device and its fds (see datapath.h). */
#include "host/datapath.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/log.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

enum { TUN_READS_PER_BATCH = 64, RX_CALLS_PER_BATCH = 8 };

static const struct {
	enum datapath_feature feature;
	const char *name;
} feature_names[] = {
    {DATAPATH_TUN_OFFLOAD, "tun"}, /* TSO reads, coalesced TCP writes */
    {DATAPATH_UDP_GSO, "udp-gso"}, /* UDP_SEGMENT sends */
    {DATAPATH_UDP_GRO, "udp-gro"}, /* UDP_GRO receives */
    {DATAPATH_MMSG, "mmsg"},	   /* recvmmsg/sendmmsg */
    {DATAPATH_TUN_USO, "tun-uso"}, /* coalesced UDP writes */
};

const char *datapath_feature_name(enum datapath_feature feature)
{
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); ++i)
		if (feature_names[i].feature == feature)
			return feature_names[i].name;
	return "?";
}

const char *datapath_path_name(enum datapath_path path)
{
	static const char *const names[PATH_COUNT] = {
	    [PATH_TUN_READ] = "tun_read",
	    [PATH_TUN_WRITE] = "tun_write",
	    [PATH_UDP_SEND] = "udp_send",
	    [PATH_UDP_RECEIVE] = "udp_receive",
	};
	return names[path];
}

static void tally(struct datapath *dp, enum datapath_path path, uint64_t packets)
{
	++dp->stats.batches[path];
	dp->stats.packets[path] += packets;
}

bool datapath_features_parse(const char *disabled, unsigned *features, char *err, size_t err_len)
{
	const char *p = disabled;

	*features = DATAPATH_ALL;
	if (!disabled || !*disabled)
		return true;
	if (!strcmp(disabled, "all")) {
		*features = 0;
		return true;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		bool known = false;

		for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); ++i) {
			if (strlen(feature_names[i].name) == n &&
			    !strncmp(p, feature_names[i].name, n)) {
				*features &= ~(unsigned)feature_names[i].feature;
				known = true;
			}
		}
		if (!known) {
			snprintf(
			    err, err_len,
			    "WGATE_NO_OFFLOAD: unknown offload '%.*s' (expected all, or a list "
			    "of tun, tun-uso, udp-gso, udp-gro, mmsg)",
			    (int)n, p);
			return false;
		}
		p += n;
		if (*p == ',')
			++p;
	}
	return true;
}

static void emit_to_tun(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *pkt, size_t len)
{
	struct datapath *dp = ctx;
	struct iovec iov[2] = {{(void *)hdr, sizeof(*hdr)}, {(void *)pkt, len}};

	tally(dp, PATH_TUN_WRITE,
	      hdr->gso_size ? (len - hdr->hdr_len + hdr->gso_size - 1) / hdr->gso_size : 1);
	if (writev(dp->tun_fd, iov, 2) < 0 && errno != EAGAIN)
		log_debug("event=tun_write_failed error=\"%s\"", strerror(errno));
}

bool datapath_init(struct datapath *dp, unsigned features, unsigned threads)
{
	bool ok = threads >= 1 && threads <= WORKERS_MAX;

	memset(dp, 0, sizeof(*dp));
	dp->tun_fd = -1;
	dp->features = features;
	dp->threads = threads;
	dp->tx_buf = malloc((size_t)DATAPATH_TX_GROUPS * DATAPATH_BUFFER_SIZE);
	dp->rx_buf = malloc((size_t)DATAPATH_RX_MESSAGES * DATAPATH_BUFFER_SIZE);
	dp->tun_buf = malloc(sizeof(struct virtio_net_hdr) + DATAPATH_BUFFER_SIZE);
	dp->seals =
	    calloc((size_t)DATAPATH_TX_GROUPS * DATAPATH_GSO_MAX_SEGMENTS, sizeof(*dp->seals));
	dp->received =
	    calloc((size_t)DATAPATH_RX_MESSAGES * DATAPATH_RX_SEGMENTS, sizeof(*dp->received));
	for (unsigned i = 0; ok && i < threads; ++i)
		ok = aead_ctx_init(&dp->crypto[i]);
	if (!ok || !dp->tx_buf || !dp->rx_buf || !dp->tun_buf || !dp->seals || !dp->received ||
	    !offload_coalescer_init(&dp->coalescer, emit_to_tun, dp)) {
		datapath_free(dp);
		return false;
	}
	return true;
}

bool datapath_start_threads(struct datapath *dp)
{
	return workers_init(&dp->workers, dp->threads);
}

void datapath_free(struct datapath *dp)
{
	workers_free(&dp->workers);
	offload_coalescer_free(&dp->coalescer);
	for (unsigned i = 0; i < WORKERS_MAX; ++i)
		aead_ctx_free(&dp->crypto[i]);
	crypto_wipe(dp->seal_keys, sizeof(dp->seal_keys));
	free(dp->tx_buf);
	free(dp->rx_buf);
	free(dp->tun_buf);
	free(dp->seals);
	free(dp->received);
	dp->tx_buf = dp->rx_buf = dp->tun_buf = NULL;
	dp->seals = NULL;
	dp->received = NULL;
}

/* Runs fn over the items on the threads; keys do not stay in their contexts after. */
static void run_crypto(struct datapath *dp, workers_fn *fn, size_t items)
{
	unsigned used = items > 0;

	if (dp->workers.threads > 1) {
		workers_run(&dp->workers, fn, dp, items, DATAPATH_MIN_PER_THREAD);
		used = dp->workers.threads;
	} else if (items) {
		fn(dp, 0, 0, items); /* not started (tests) or one thread */
	}
	for (unsigned i = 0; i < used; ++i)
		aead_ctx_forget(&dp->crypto[i]);
}

void datapath_attach_tun(struct datapath *dp, int tun_fd)
{
	struct ifreq ifr = {0};
	unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	dp->tun_fd = tun_fd;
	dp->tun_vnet_hdr = ioctl(tun_fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
	if (!dp->tun_vnet_hdr || !(dp->features & DATAPATH_TUN_OFFLOAD))
		dp->features &= ~(unsigned)(DATAPATH_TUN_OFFLOAD | DATAPATH_TUN_USO);
	if (!dp->tun_vnet_hdr)
		return;
	if (!(dp->features & DATAPATH_TUN_OFFLOAD))
		offloads = 0; /* an inherited fd with headers, offloads unwanted */
	/* UDP segmentation offload needs Linux 6.2; without it, TCP alone. */
	if (dp->features & DATAPATH_TUN_USO &&
	    ioctl(tun_fd, TUNSETOFFLOAD, offloads | TUN_F_USO4 | TUN_F_USO6) == 0) {
		dp->coalescer.udp = true;
		return;
	}
	dp->features &= ~(unsigned)DATAPATH_TUN_USO;
	dp->coalescer.udp = false;
	if (ioctl(tun_fd, TUNSETOFFLOAD, offloads) < 0) {
		ioctl(tun_fd, TUNSETOFFLOAD, 0);
		dp->features &= ~(unsigned)DATAPATH_TUN_OFFLOAD;
	}
}

void datapath_tun_input(struct datapath *dp, struct device *dev, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct virtio_net_hdr plain = {0};
	const struct virtio_net_hdr *hdr = &plain;
	struct offload_split split;
	struct packet *p;
	uint64_t packets = 0;
	long n;

	if (dp->tun_vnet_hdr) {
		if (len < sizeof(*hdr))
			return;
		hdr = (const struct virtio_net_hdr *)buf;
		buf += sizeof(*hdr);
		len -= sizeof(*hdr);
	}
	if (!offload_split_begin(&split, hdr, buf, len)) {
		device_drop(dev, DROP_MALFORMED);
		return;
	}
	for (;;) {
		size_t room = split.protocol ? split.header_len + split.segment_size : len;

		p = packet_get(&dev->pool, room);
		if (!p)
			break;
		n = offload_split_next(&split, packet_payload(p), p->cap);
		if (n <= 0) {
			packet_put(&dev->pool, p);
			break;
		}
		p->len = (size_t)n;
		++packets;
		device_send(dev, p, now);
	}
	tally(dp, PATH_TUN_READ, packets);
}

bool datapath_read_tun(struct datapath *dp, struct device *dev)
{
	size_t cap = (dp->tun_vnet_hdr ? sizeof(struct virtio_net_hdr) : 0) + DATAPATH_BUFFER_SIZE;
	uint64_t now = monotonic_ns(); /* once per batch of reads: the timers count seconds */

	for (int i = 0; i < TUN_READS_PER_BATCH; ++i) {
		ssize_t n = read(dp->tun_fd, dp->tun_buf, cap);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		datapath_tun_input(dp, dev, dp->tun_buf, (size_t)n, now);
		/* Out as soon as a GSO send's worth is ready: pipelined with the peer, not in
		 * bursts. */
		if (dp->tx_queued >= DATAPATH_GSO_MAX_BYTES)
			datapath_flush(dp);
	}
	return true;
}

static void open_slice(void *arg, unsigned thread, size_t begin, size_t end)
{
	struct datapath *dp = arg;

	for (size_t i = begin; i < end; ++i)
		device_open_run(&dp->crypto[thread], &dp->received[i].open);
}

/* Opens the data messages (spread over the threads), then hands all to the device in order. */
static void receive_listed(struct datapath *dp, struct device *dev, size_t count, uint64_t now)
{
	for (size_t i = 0; i < count; ++i)
		device_open_prepare(dev, dp->received[i].buf, dp->received[i].len, now,
				    &dp->received[i].open);
	run_crypto(dp, open_slice, count);
	for (size_t i = 0; i < count; ++i) {
		struct datapath_received *r = &dp->received[i];

		device_receive_opened(dev, r->buf, r->len, r->src, now, &r->open);
	}
}

/*
 * Lists the datagrams of a (possibly GRO-joined) receive; returns the new
 * count. A full list is handed on first, so any number of segments fits.
 */
static size_t list_datagrams(struct datapath *dp, struct device *dev, size_t count, uint8_t *buf,
			     size_t len, size_t segment_size, const struct wire_addr *src,
			     uint64_t now)
{
	if (!len) {
		/* Anyone may send an empty datagram: no message is that short. */
		tally(dp, PATH_UDP_RECEIVE, 1);
		device_drop(dev, DROP_MALFORMED);
		return count;
	}
	if (!segment_size || segment_size > len)
		segment_size = len;
	tally(dp, PATH_UDP_RECEIVE, (len + segment_size - 1) / segment_size);
	for (size_t off = 0; off < len; off += segment_size) {
		struct datapath_received *r;

		if (count == (size_t)DATAPATH_RX_MESSAGES * DATAPATH_RX_SEGMENTS) {
			receive_listed(dp, dev, count, now);
			count = 0;
		}
		r = &dp->received[count++];
		r->buf = buf + off;
		r->len = len - off < segment_size ? len - off : segment_size;
		r->src = src;
	}
	return count;
}

/*
 * Whether c is the control message level/type with len bytes at least, all
 * inside msg's control buffer; if so, copies them.
 */
static bool read_one_control(const struct msghdr *msg, const struct cmsghdr *c, int level, int type,
			     void *out, size_t len)
{
	size_t room =
	    msg->msg_controllen - (size_t)((const char *)c - (const char *)msg->msg_control);

	if (c->cmsg_level != level || c->cmsg_type != type || c->cmsg_len < CMSG_LEN(len) ||
	    CMSG_LEN(len) > room)
		return false;
	memcpy(out, CMSG_DATA(c), len);
	return true;
}

/*
 * What a receive's control messages tell: the segment size of joined
 * datagrams (UDP_GRO; 0 when single), and the local address it arrived at.
 */
static size_t read_control(const struct msghdr *msg, struct local_addr *local)
{
	size_t segment_size = 0;

	*local = (struct local_addr){.family = AF_UNSPEC};
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		struct in_pktinfo info4;
		struct in6_pktinfo info6;
		int size;

		if (read_one_control(msg, c, SOL_UDP, UDP_GRO, &size, sizeof(size))) {
			segment_size = size > 0 ? (size_t)size : 0;
		} else if (read_one_control(msg, c, IPPROTO_IP, IP_PKTINFO, &info4,
					    sizeof(info4))) {
			local->family = AF_INET;
			local->v4 = info4.ipi_spec_dst;
		} else if (read_one_control(msg, c, IPPROTO_IPV6, IPV6_PKTINFO, &info6,
					    sizeof(info6))) {
			local->family = AF_INET6;
			local->v6 = info6.ipi6_addr;
			/* a link-local address means nothing without its link */
			local->ifindex =
			    IN6_IS_ADDR_LINKLOCAL(&info6.ipi6_addr) ? info6.ipi6_ifindex : 0;
		}
	}
	return segment_size;
}

void datapath_read_udp(struct datapath *dp, struct device *dev, int fd)
{
	struct mmsghdr msgs[DATAPATH_RX_MESSAGES];
	struct iovec iov[DATAPATH_RX_MESSAGES];
	struct wire_addr src[DATAPATH_RX_MESSAGES];
	union {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} control[DATAPATH_RX_MESSAGES];
	unsigned slots = dp->features & DATAPATH_MMSG ? DATAPATH_RX_MESSAGES : 1;

	for (int call = 0; call < RX_CALLS_PER_BATCH; ++call) {
		int n;
		uint64_t now;

		for (unsigned i = 0; i < slots; ++i) {
			iov[i].iov_base = dp->rx_buf + (size_t)i * DATAPATH_BUFFER_SIZE;
			iov[i].iov_len = DATAPATH_BUFFER_SIZE;
			msgs[i].msg_hdr = (struct msghdr){
			    .msg_name = &src[i].remote,
			    .msg_namelen = sizeof(src[i].remote),
			    .msg_iov = &iov[i],
			    .msg_iovlen = 1,
			    .msg_control = control[i].buf,
			    .msg_controllen = sizeof(control[i].buf),
			};
		}
		if (slots > 1) {
			n = recvmmsg(fd, msgs, slots, MSG_DONTWAIT, NULL);
		} else {
			ssize_t r = recvmsg(fd, &msgs[0].msg_hdr, MSG_DONTWAIT);

			n = r < 0 ? -1 : 1;
			msgs[0].msg_len = r < 0 ? 0 : (unsigned)r;
		}
		if (n <= 0)
			return;
		now = monotonic_ns();
		datapath_receive(dp, dev, msgs, (unsigned)n, src, now);
		datapath_flush(dp);
		if ((unsigned)n < slots)
			return;
	}
}

void datapath_receive(struct datapath *dp, struct device *dev, struct mmsghdr *msgs, unsigned n,
		      struct wire_addr *src, uint64_t now)
{
	size_t count = 0;

	for (unsigned i = 0; i < n; ++i) {
		struct msghdr *m = &msgs[i].msg_hdr;
		size_t segment_size = read_control(m, &src[i].local);
		size_t len = msgs[i].msg_len;

		if (m->msg_iovlen < 1 || len > m->msg_iov[0].iov_len)
			len = m->msg_iovlen < 1 ? 0 : m->msg_iov[0].iov_len;
		count = list_datagrams(dp, dev, count, m->msg_iov[0].iov_base, len, segment_size,
				       &src[i], now);
	}
	receive_listed(dp, dev, count, now);
}

/* Whether a datagram of len bytes may join g as its next GSO segment. */
static bool group_takes(const struct datapath *dp, const struct datapath_group *g, size_t len)
{
	/* A shorter datagram ends a group: GSO allows only the last segment to be short. */
	bool ended = g->len != (size_t)g->segments * g->segment_size;

	return dp->features & DATAPATH_UDP_GSO && !ended && len <= g->segment_size &&
	       g->segments < DATAPATH_GSO_MAX_SEGMENTS && g->len + len <= DATAPATH_GSO_MAX_BYTES;
}

/* Room for a datagram of len bytes to `to', in its latest group or a new one. */
static uint8_t *reserve(struct datapath *dp, const struct wire_addr *to, size_t len)
{
	struct datapath_group *g = NULL;
	uint8_t *at;

	if (len > DATAPATH_BUFFER_SIZE)
		return NULL;
	/* Only the destination's latest group may grow, so its datagrams stay in order. */
	for (unsigned i = dp->group_count; i-- > 0;) {
		if (wire_addr_equal(&dp->groups[i].to, to)) {
			g = &dp->groups[i];
			break;
		}
	}
	if (!g || !group_takes(dp, g, len)) {
		if (dp->group_count == DATAPATH_TX_GROUPS)
			datapath_flush(dp);
		g = &dp->groups[dp->group_count++];
		*g = (struct datapath_group){.to = *to, .segment_size = len};
	}
	at = dp->tx_buf + (size_t)(g - dp->groups) * DATAPATH_BUFFER_SIZE + g->len;
	g->len += len;
	dp->tx_queued += len;
	++g->segments;
	return at;
}

bool datapath_queue_udp(struct datapath *dp, const struct wire_addr *to, const void *buf,
			size_t len)
{
	uint8_t *at = reserve(dp, to, len);

	if (at)
		memcpy(at, buf, len);
	return at != NULL;
}

/* The key's slot among this flush's keys; a full table flushes first. */
static unsigned seal_key_slot(struct datapath *dp, const struct aead_key *key)
{
	for (unsigned i = dp->seal_key_count; i-- > 0;)
		if (dp->seal_keys[i].id == key->id)
			return i;
	if (dp->seal_key_count == DATAPATH_SEAL_KEYS)
		datapath_flush(dp);
	dp->seal_keys[dp->seal_key_count] = *key;
	return dp->seal_key_count++;
}

bool datapath_queue_data(struct datapath *dp, const struct wire_addr *to, const void *msg,
			 size_t len, const struct aead_key *key, uint64_t counter)
{
	const size_t header = sizeof(struct message_data);
	unsigned slot;
	uint8_t *at;

	if (len < header)
		return false;
	slot = seal_key_slot(dp, key);
	at = reserve(dp, to, len + CRYPTO_AEAD_TAG_LEN);
	if (!at)
		return false;
	memcpy(at, msg, len);
	/* reserve() may have flushed, and the flush emptied the key table */
	if (!dp->seal_key_count || dp->seal_keys[slot].id != key->id)
		slot = seal_key_slot(dp, key);
	dp->seals[dp->seal_count++] = (struct datapath_seal){
	    .payload = at + header,
	    .counter = counter,
	    .len = (uint32_t)(len - header),
	    .key = (uint16_t)slot,
	};
	return true;
}

static void seal_slice(void *arg, unsigned thread, size_t begin, size_t end)
{
	struct datapath *dp = arg;

	for (size_t i = begin; i < end; ++i) {
		struct datapath_seal *s = &dp->seals[i];
		uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

		aead_counter_nonce(nonce, s->counter);
		s->failed = !aead_seal(&dp->crypto[thread], &dp->seal_keys[s->key], nonce,
				       s->payload, s->payload, s->len, NULL, 0);
	}
}

/* Seals every queued data message; one that fails leaves as zeros, never as plaintext. */
static void seal_queued(struct datapath *dp)
{
	run_crypto(dp, seal_slice, dp->seal_count);
	for (unsigned i = 0; i < dp->seal_count; ++i) {
		struct datapath_seal *s = &dp->seals[i];

		if (s->failed)
			crypto_wipe(s->payload - sizeof(struct message_data),
				    sizeof(struct message_data) + s->len + CRYPTO_AEAD_TAG_LEN);
	}
	dp->seal_count = 0;
	crypto_wipe(dp->seal_keys, sizeof(struct aead_key) * dp->seal_key_count);
	dp->seal_key_count = 0;
}

static int fd_for(const struct datapath *dp, const struct wire_addr *to)
{
	return to->remote.sa.sa_family == AF_INET ? dp->udp->fd4 : dp->udp->fd6;
}

union send_control {
	char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

/* Appends one control message to msg, whose control buffer has room for it (see read_one_control).
 */
static void add_control(struct msghdr *msg, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((char *)msg->msg_control + msg->msg_controllen);

	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	msg->msg_controllen += CMSG_SPACE(len);
}

/*
 * The message for len bytes of g's buffer at data: to its remote address,
 * from its local one when known, as one GSO send when segmented.
 */
static void group_message(struct msghdr *msg, struct iovec *iov, union send_control *control,
			  const struct datapath_group *g, uint8_t *data, size_t len, bool segmented)
{
	iov->iov_base = data;
	iov->iov_len = len;
	*msg = (struct msghdr){
	    .msg_name = (void *)&g->to.remote,
	    .msg_namelen = sockaddr_len(&g->to.remote),
	    .msg_iov = iov,
	    .msg_iovlen = 1,
	    .msg_control = control->buf,
	};
	if (segmented) {
		uint16_t size = (uint16_t)g->segment_size;

		add_control(msg, SOL_UDP, UDP_SEGMENT, &size, sizeof(size));
	}
	if (g->to.local.family == AF_INET) {
		struct in_pktinfo info = {.ipi_spec_dst = g->to.local.v4};

		add_control(msg, IPPROTO_IP, IP_PKTINFO, &info, sizeof(info));
	} else if (g->to.local.family == AF_INET6) {
		struct in6_pktinfo info = {.ipi6_addr = g->to.local.v6,
					   .ipi6_ifindex = g->to.local.ifindex};

		add_control(msg, IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof(info));
	}
	if (!msg->msg_controllen)
		msg->msg_control = NULL;
}

/* One datagram at a time: the fallback when a GSO send is refused. */
static void send_each(struct datapath *dp, const struct datapath_group *g, uint8_t *data)
{
	for (size_t off = 0; off < g->len; off += g->segment_size) {
		size_t n = g->len - off < g->segment_size ? g->len - off : g->segment_size;
		union send_control control;
		struct msghdr msg;
		struct iovec iov;

		group_message(&msg, &iov, &control, g, data + off, n, false);
		if (sendmsg(fd_for(dp, &g->to), &msg, 0) < 0) {
			log_debug("event=send_failed error=\"%s\"", strerror(errno));
			return;
		}
	}
}

/*
 * Sends groups [first, first + count), all for one fd; returns how many went
 * (0: the first again, without its local address, which is ours no longer).
 */
static unsigned send_groups(struct datapath *dp, int fd, unsigned first, unsigned count)
{
	struct mmsghdr msgs[DATAPATH_TX_GROUPS];
	struct iovec iov[DATAPATH_TX_GROUPS];
	union send_control control[DATAPATH_TX_GROUPS];
	unsigned limit = dp->features & DATAPATH_MMSG ? count : 1;
	int sent;

	for (unsigned i = 0; i < limit; ++i) {
		struct datapath_group *g = &dp->groups[first + i];

		group_message(&msgs[i].msg_hdr, &iov[i], &control[i], g,
			      dp->tx_buf + (size_t)(first + i) * DATAPATH_BUFFER_SIZE, g->len,
			      g->segments > 1);
	}
	if (limit > 1) {
		sent = sendmmsg(fd, msgs, limit, 0);
	} else {
		ssize_t r = sendmsg(fd, &msgs[0].msg_hdr, 0);

		sent = r < 0 ? -1 : 1;
	}
	for (int i = 0; i < sent; ++i)
		tally(dp, PATH_UDP_SEND, dp->groups[first + (unsigned)i].segments);
	if (sent > 0)
		return (unsigned)sent;
	{
		struct datapath_group *g = &dp->groups[first];
		int err = errno;

		if (g->to.local.family != AF_UNSPEC &&
		    (err == ENETUNREACH || err == EINVAL || err == EADDRNOTAVAIL)) {
			/*
			 * The address the peer reached us at is ours no longer (IPv4 says
			 * ENETUNREACH, IPv6 EINVAL): send from whatever the routing table
			 * picks; the peer's answer to that teaches the device the new one.
			 */
			++dp->stats.sources_gone;
			g->to.local = (struct local_addr){.family = AF_UNSPEC};
			return 0; /* the same group again */
		}
		if (g->segments > 1 && err != EAGAIN && err != ENOBUFS) {
			/* The route's device cannot segment (EIO), or the MTU is too small. */
			if (err == EIO && dp->features & DATAPATH_UDP_GSO) {
				dp->features &= ~(unsigned)DATAPATH_UDP_GSO;
				log_info("event=offload_disabled offload=udp-gso error=\"%s\"",
					 strerror(err));
			}
			tally(dp, PATH_UDP_SEND, g->segments);
			send_each(dp, g, iov[0].iov_base);
		} else {
			log_debug("event=send_failed error=\"%s\"", strerror(err));
		}
	}
	return 1; /* the failed group is done with either way */
}

void datapath_flush(struct datapath *dp)
{
	seal_queued(dp);
	/* sendmmsg takes one fd: IPv4 groups first, then IPv6 (distinct peers, no order). */
	for (int pass = 0; pass < 2; ++pass) {
		int family = pass == 0 ? AF_INET : AF_INET6;
		unsigned i = 0;

		while (i < dp->group_count) {
			unsigned j = i;
			int fd;

			if (dp->groups[i].to.remote.sa.sa_family != family) {
				++i;
				continue;
			}
			while (j < dp->group_count &&
			       dp->groups[j].to.remote.sa.sa_family == family)
				++j;
			fd = fd_for(dp, &dp->groups[i].to);
			while (i < j)
				i += fd < 0 ? j - i : send_groups(dp, fd, i, j - i);
		}
	}
	dp->group_count = 0;
	dp->tx_queued = 0;
	if (dp->tun_vnet_hdr)
		offload_coalescer_flush(&dp->coalescer);
}

void datapath_write_tun(struct datapath *dp, const void *buf, size_t len)
{
	struct virtio_net_hdr plain = {0};

	if (dp->features & DATAPATH_TUN_OFFLOAD) {
		offload_coalescer_add(&dp->coalescer, buf, len);
		return;
	}
	if (dp->tun_vnet_hdr) {
		emit_to_tun(dp, &plain, buf, len);
		return;
	}
	tally(dp, PATH_TUN_WRITE, 1);
	if (write(dp->tun_fd, buf, len) < 0 && errno != EAGAIN)
		log_debug("event=tun_write_failed error=\"%s\"", strerror(errno));
}

void datapath_describe(const struct datapath *dp, char *out, size_t len)
{
	size_t used = 0;

	out[0] = 0;
	for (unsigned f = 1; f < DATAPATH_ALL && used < len; f <<= 1)
		if (dp->features & f)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
						 datapath_feature_name(f));
	if (!used)
		snprintf(out, len, "none");
}
