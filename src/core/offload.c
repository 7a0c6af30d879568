// SPDX-License-Identifier: MIT
/* TSO-style splitting and GRO-style coalescing of TUN packets (see offload.h). */
#include "core/offload.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/bytes.h"

enum {
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_CWR = 0x80,
	TCP_CHECK_OFFSET = 16,
	UDP_CHECK_OFFSET = 6,
};

static void ipv4_set_checksum(uint8_t *ip, size_t header_len)
{
	memset(ip + 10, 0, 2);
	checksum_store(ip + 10, checksum_finish(checksum_add(0, ip, header_len)));
}

/* Sets the IP length fields for a packet of len bytes. */
static void ip_set_length(uint8_t *ip, int family, size_t len)
{
	if (family == AF_INET)
		put_be16(ip + 2, (uint16_t)len);
	else
		put_be16(ip + 4, (uint16_t)(len - 40));
}

bool offload_split_begin(struct offload_split *s, const struct virtio_net_hdr *hdr,
			 const uint8_t *pkt, size_t len)
{
	uint8_t gso = hdr->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t l4_header;

	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	s->hdr = hdr;
	s->needs_checksum = hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (!len || len > OFFLOAD_MAX_PACKET)
		return false;
	if (s->needs_checksum &&
	    ((size_t)hdr->csum_start + hdr->csum_offset + 2 > len || hdr->csum_offset & 1))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	s->family = pkt[0] >> 4 == 4 ? AF_INET : pkt[0] >> 4 == 6 ? AF_INET6 : 0;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && s->family == AF_INET)
		s->protocol = IPPROTO_TCP;
	else if (gso == VIRTIO_NET_HDR_GSO_TCPV6 && s->family == AF_INET6)
		s->protocol = IPPROTO_TCP;
	else if (gso == VIRTIO_NET_HDR_GSO_UDP_L4 && s->family)
		s->protocol = IPPROTO_UDP;
	else
		return false;
	if (s->family == AF_INET) {
		s->l4_offset = (size_t)(pkt[0] & 0x0f) * 4;
		if (len < 20 || s->l4_offset < 20 || pkt[9] != s->protocol)
			return false;
	} else {
		s->l4_offset = 40; /* extension headers are not segmented */
		if (len < 40 || pkt[6] != s->protocol)
			return false;
	}
	if (s->protocol == IPPROTO_TCP) {
		if (len < s->l4_offset + 20)
			return false;
		l4_header = (size_t)(pkt[s->l4_offset + 12] >> 4) * 4;
		if (l4_header < 20)
			return false;
	} else {
		l4_header = 8;
	}
	s->header_len = s->l4_offset + l4_header;
	s->segment_size = hdr->gso_size;
	s->offset = s->header_len;
	return s->header_len <= len && s->segment_size > 0;
}

/* A packet that needs no cutting, with the checksum the kernel left to us. */
static long split_whole(struct offload_split *s, uint8_t *out, size_t cap)
{
	s->done = true;
	if (s->len > cap)
		return -1;
	memcpy(out, s->pkt, s->len);
	if (s->needs_checksum) {
		size_t start = s->hdr->csum_start;
		uint16_t sum = checksum_finish(checksum_add(0, out + start, s->len - start));

		checksum_store(out + start + s->hdr->csum_offset, sum ? sum : 0xffff);
	}
	return (long)s->len;
}

long offload_split_next(struct offload_split *s, uint8_t *out, size_t cap)
{
	size_t chunk, out_len, l4 = s->l4_offset;
	uint8_t *check;
	uint16_t sum;
	bool last;

	if (s->done)
		return 0;
	if (!s->protocol)
		return split_whole(s, out, cap);
	chunk = s->len - s->offset < s->segment_size ? s->len - s->offset : s->segment_size;
	out_len = s->header_len + chunk;
	last = s->offset + chunk >= s->len;
	if (out_len > cap) {
		s->done = true;
		return -1;
	}
	memcpy(out, s->pkt, s->header_len);
	memcpy(out + s->header_len, s->pkt + s->offset, chunk);
	ip_set_length(out, s->family, out_len);
	if (s->family == AF_INET) {
		put_be16(out + 4, (uint16_t)(be16(out + 4) + s->index));
		ipv4_set_checksum(out, l4);
	}
	if (s->protocol == IPPROTO_TCP) {
		put_be32(out + l4 + 4, be32(out + l4 + 4) + (uint32_t)(s->offset - s->header_len));
		if (!last)
			out[l4 + 13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (s->index)
			out[l4 + 13] &= (uint8_t)~TCP_CWR;
		check = out + l4 + TCP_CHECK_OFFSET;
	} else {
		put_be16(out + l4 + 4, (uint16_t)(out_len - l4));
		check = out + l4 + UDP_CHECK_OFFSET;
	}
	memset(check, 0, 2);
	sum = checksum_finish(
	    checksum_add(checksum_pseudo_header(out, s->family, s->protocol, out_len - l4),
			 out + l4, out_len - l4));
	checksum_store(check, sum || s->protocol == IPPROTO_TCP ? sum : 0xffff);
	s->offset += chunk;
	++s->index;
	s->done = last;
	return (long)out_len;
}

/* What the coalescer needs to know of a TCP or UDP packet. */
struct l4_view {
	int family;
	uint8_t protocol;
	size_t l4_offset, header_len, payload_len;
	uint32_t seq; /* TCP only */
	uint8_t flags;
};

static bool parse_l4(const struct offload_coalescer *c, const uint8_t *pkt, size_t len,
		     struct l4_view *v)
{
	size_t l4_header;

	if (len > OFFLOAD_MAX_PACKET) /* an IPv6 length can claim 40 bytes more than a flow holds */
		return false;
	if (len >= 20 && pkt[0] == 0x45 && be16(pkt + 2) == len &&
	    !(be16(pkt + 6) & 0x3fff)) { /* neither MF nor a fragment offset */
		v->family = AF_INET;
		v->l4_offset = 20;
		v->protocol = pkt[9];
	} else if (len >= 40 && pkt[0] >> 4 == 6 && (size_t)be16(pkt + 4) + 40 == len) {
		v->family = AF_INET6;
		v->l4_offset = 40;
		v->protocol = pkt[6];
	} else {
		return false;
	}
	if (v->protocol == IPPROTO_UDP && c->udp) {
		l4_header = 8;
		if (len < v->l4_offset + 8 || be16(pkt + v->l4_offset + 4) != len - v->l4_offset)
			return false;
	} else if (v->protocol == IPPROTO_TCP) {
		if (len < v->l4_offset + 20)
			return false;
		l4_header = (size_t)(pkt[v->l4_offset + 12] >> 4) * 4;
		if (l4_header < 20 || v->l4_offset + l4_header > len)
			return false;
		v->seq = be32(pkt + v->l4_offset + 4);
		v->flags = pkt[v->l4_offset + 13];
	} else {
		return false;
	}
	v->header_len = v->l4_offset + l4_header;
	v->payload_len = len - v->header_len;
	return true;
}

/* Same protocol, addresses and ports. */
static bool same_flow(const uint8_t *a, const uint8_t *b, const struct l4_view *v)
{
	if (v->family == AF_INET)
		return a[9] == b[9] && !memcmp(a + 12, b + 12, 8) && !memcmp(a + 20, b + 20, 4);
	return a[6] == b[6] && !memcmp(a + 8, b + 8, 32) && !memcmp(a + 40, b + 40, 4);
}

static struct offload_flow *find_flow(struct offload_coalescer *c, const uint8_t *pkt,
				      const struct l4_view *v)
{
	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i) {
		struct offload_flow *f = &c->flows[i];

		if (f->len && (f->buf[0] >> 4 == 4) == (v->family == AF_INET) &&
		    same_flow(f->buf, pkt, v))
			return f;
	}
	return NULL;
}

/*
 * Whether pkt continues f: headers equal in all but length, id and checksums,
 * the IPv4 id the next in line (GRO's rules, so that re-segmenting gives the
 * packets back, ids included), no larger than
 * the first segment; for TCP the next sequence number, for UDP at most
 * OFFLOAD_UDP_MAX_SEGMENTS datagrams.
 */
static bool can_append(const struct offload_flow *f, const uint8_t *pkt, const struct l4_view *v)
{
	const uint8_t *h = f->buf;
	size_t l4 = v->l4_offset;

	if (f->closed || v->header_len != f->header_len || v->payload_len > f->segment_size ||
	    f->len + v->payload_len > OFFLOAD_MAX_PACKET)
		return false;
	if (v->family == AF_INET) {
		if (h[1] != pkt[1] || (h[6] & 0x40) != (pkt[6] & 0x40) || h[8] != pkt[8] ||
		    be16(pkt + 4) != (uint16_t)(be16(h + 4) + f->segments))
			return false; /* TOS, DF, TTL, the id segmenting will give it */
	} else if (memcmp(h, pkt, 4) || h[7] != pkt[7]) {
		return false; /* traffic class, flow label, hop limit */
	}
	if (v->protocol == IPPROTO_UDP)
		return f->segments < OFFLOAD_UDP_MAX_SEGMENTS;
	/* sequence, then ack, flags but PSH, window, urgent pointer, options */
	return v->seq == f->next_seq && !memcmp(h + l4 + 8, pkt + l4 + 8, 4) &&
	       (h[l4 + 13] & ~TCP_PSH) == (pkt[l4 + 13] & ~TCP_PSH) &&
	       !memcmp(h + l4 + 14, pkt + l4 + 14, 2) && !memcmp(h + l4 + 18, pkt + l4 + 18, 2) &&
	       !memcmp(h + l4 + 20, pkt + l4 + 20, v->header_len - l4 - 20);
}

static void emit_plain(struct offload_coalescer *c, const uint8_t *pkt, size_t len)
{
	struct virtio_net_hdr hdr = {0};

	c->emit(c->ctx, &hdr, pkt, len);
}

static void flush_flow(struct offload_coalescer *c, struct offload_flow *f)
{
	struct virtio_net_hdr hdr = {0};
	int family = f->buf[0] >> 4 == 4 ? AF_INET : AF_INET6;
	size_t l4 = family == AF_INET ? 20 : 40;
	uint8_t protocol = family == AF_INET ? f->buf[9] : f->buf[6];
	size_t check = protocol == IPPROTO_TCP ? TCP_CHECK_OFFSET : UDP_CHECK_OFFSET;

	if (f->segments > 1) {
		/* As GRO leaves it: lengths for the whole, the L4 checksum left to the kernel. */
		ip_set_length(f->buf, family, f->len);
		if (family == AF_INET)
			ipv4_set_checksum(f->buf, l4);
		if (protocol == IPPROTO_UDP)
			put_be16(f->buf + l4 + 4, (uint16_t)(f->len - l4));
		checksum_store(f->buf + l4 + check,
			       (uint16_t)~checksum_finish(
				   checksum_pseudo_header(f->buf, family, protocol, f->len - l4)));
		hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr.gso_type = protocol == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
			       : family == AF_INET     ? VIRTIO_NET_HDR_GSO_TCPV4
						       : VIRTIO_NET_HDR_GSO_TCPV6;
		hdr.hdr_len = (uint16_t)f->header_len;
		hdr.gso_size = (uint16_t)f->segment_size;
		hdr.csum_start = (uint16_t)l4;
		hdr.csum_offset = (uint16_t)check;
	}
	c->emit(c->ctx, &hdr, f->buf, f->len);
	f->len = 0;
}

/* Flushes the flows between pkt's addresses; all of them if it has none. */
static void flush_related(struct offload_coalescer *c, const uint8_t *pkt, size_t len)
{
	int version = len ? pkt[0] >> 4 : 0;

	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i) {
		struct offload_flow *f = &c->flows[i];
		bool related = true;

		if (!f->len)
			continue;
		if (version == 4 && len >= 20)
			related = f->buf[0] >> 4 == 4 && !memcmp(f->buf + 12, pkt + 12, 8);
		else if (version == 6 && len >= 40)
			related = f->buf[0] >> 4 == 6 && !memcmp(f->buf + 8, pkt + 8, 32);
		if (related)
			flush_flow(c, f);
	}
}

bool offload_coalescer_init(struct offload_coalescer *c, offload_emit_fn *emit, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->emit = emit;
	c->ctx = ctx;
	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i) {
		c->flows[i].buf = malloc(OFFLOAD_MAX_PACKET);
		if (!c->flows[i].buf) {
			offload_coalescer_free(c);
			return false;
		}
	}
	return true;
}

void offload_coalescer_free(struct offload_coalescer *c)
{
	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i) {
		free(c->flows[i].buf);
		c->flows[i].buf = NULL;
	}
}

static struct offload_flow *free_flow(struct offload_coalescer *c)
{
	struct offload_flow *oldest = &c->flows[0];

	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i) {
		if (!c->flows[i].len)
			return &c->flows[i];
		if (c->flows[i].age < oldest->age)
			oldest = &c->flows[i];
	}
	flush_flow(c, oldest);
	return oldest;
}

void offload_coalescer_add(struct offload_coalescer *c, const uint8_t *pkt, size_t len)
{
	struct l4_view v = {0};
	struct offload_flow *f;
	bool tcp;

	if (!parse_l4(c, pkt, len, &v)) {
		flush_related(c, pkt, len); /* it may belong to a held flow: keep the order */
		emit_plain(c, pkt, len);
		return;
	}
	tcp = v.protocol == IPPROTO_TCP;
	f = find_flow(c, pkt, &v);
	if (f && v.payload_len && can_append(f, pkt, &v)) {
		memcpy(f->buf + f->len, pkt + v.header_len, v.payload_len);
		f->len += v.payload_len;
		++f->segments;
		f->closed = v.payload_len < f->segment_size;
		if (tcp) {
			f->next_seq += (uint32_t)v.payload_len;
			f->buf[v.l4_offset + 13] |= v.flags & TCP_PSH;
			f->closed |= (v.flags & TCP_PSH) != 0;
		}
		return;
	}
	if (f)
		flush_flow(c, f); /* keep the flow's order */
	if (!v.payload_len || (tcp && (v.flags & ~TCP_PSH) != TCP_ACK)) {
		emit_plain(c, pkt, len);
		return;
	}
	f = free_flow(c);
	memcpy(f->buf, pkt, len);
	f->len = len;
	f->header_len = v.header_len;
	f->segment_size = v.payload_len;
	f->segments = 1;
	f->next_seq = v.seq + (uint32_t)v.payload_len;
	f->closed = tcp && v.flags & TCP_PSH;
	f->age = ++c->clock;
}

void offload_coalescer_flush(struct offload_coalescer *c)
{
	for (int i = 0; i < OFFLOAD_COALESCE_FLOWS; ++i)
		if (c->flows[i].len)
			flush_flow(c, &c->flows[i]);
}
