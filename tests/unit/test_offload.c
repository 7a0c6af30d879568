// SPDX-License-Identifier: MIT
/*
 * Offloads: the checksum against RFC 1071 and a naive reference; TSO-style
 * splitting checked packet by packet; coalescing checked by splitting its
 * output again and getting exactly the original packets back, per flow.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "testutil.h"

#include "core/offload.h"

static uint16_t stored(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void rfc1071_example(void **state)
{
	/* RFC 1071 section 3: these bytes sum to ddf2, so the checksum is 220d. */
	static const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint16_t sum = checksum_finish(checksum_add(0, bytes, sizeof(bytes)));
	uint8_t out[2];

	(void)state;
	memcpy(out, &sum, 2);
	assert_int_equal(stored(out), 0x220d);
}

static void checksum_random_against_naive(void **state)
{
	static uint8_t buf[4100];
	uint64_t seed = 0x5eed0ff1;

	(void)state;
	for (int round = 0; round < 2000; ++round) {
		size_t len = test_rand(&seed) % 4000, start = test_rand(&seed) % 64, cut;
		uint16_t sum;
		uint8_t out[2];

		for (size_t i = 0; i < len + start; ++i)
			buf[i] = (uint8_t)test_rand(&seed);
		cut = (test_rand(&seed) % (len + 1)) & ~(size_t)1; /* chained: even first part */
		sum = checksum_finish(
		    checksum_add(checksum_add(0, buf + start, cut), buf + start + cut, len - cut));
		memcpy(out, &sum, 2);
		if (stored(out) != naive_checksum(buf + start, len)) {
			print_error("round %d len %zu start %zu\n", round, len, start);
			fail();
		}
	}
}

/* A TCP (or UDP) super-packet as the kernel hands it over with TSO; returns its length. */
static size_t make_super(uint8_t *p, int family, uint8_t protocol, uint32_t seq, uint16_t id,
			 uint8_t flags, size_t payload, uint64_t *seed, struct virtio_net_hdr *hdr)
{
	size_t l4 = family == AF_INET ? 20 : 40, l4_header = protocol == IPPROTO_TCP ? 32 : 8;
	size_t len = l4 + l4_header + payload;

	memset(p, 0, l4 + l4_header);
	if (family == AF_INET) {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = (uint8_t)(id >> 8);
		p[5] = (uint8_t)id;
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = protocol;
		memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	} else {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = protocol;
		p[7] = 64;
		p[8] = 0xfd;
		p[39] = 2;
		p[24] = 0xfd;
		p[23] = 1;
	}
	p[l4] = 0x9c; /* source port 40000 + flow in p[l4 + 1] */
	p[l4 + 1] = (uint8_t)(*seed & 7);
	p[l4 + 2] = 0x1f;
	p[l4 + 3] = 0x90;
	if (protocol == IPPROTO_TCP) {
		p[l4 + 4] = (uint8_t)(seq >> 24);
		p[l4 + 5] = (uint8_t)(seq >> 16);
		p[l4 + 6] = (uint8_t)(seq >> 8);
		p[l4 + 7] = (uint8_t)seq;
		memcpy(p + l4 + 8, "\x12\x34\x56\x78", 4); /* ack */
		p[l4 + 12] = 8 << 4;
		p[l4 + 13] = flags;
		p[l4 + 14] = 0x01; /* window */
		/* NOP NOP timestamp */
		memcpy(p + l4 + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	}
	for (size_t i = 0; i < payload; ++i)
		p[l4 + l4_header + i] = (uint8_t)test_rand(seed);
	memset(hdr, 0, sizeof(*hdr));
	hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->gso_type = protocol == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
			: family == AF_INET	? VIRTIO_NET_HDR_GSO_TCPV4
						: VIRTIO_NET_HDR_GSO_TCPV6;
	hdr->hdr_len = (uint16_t)(l4 + l4_header);
	hdr->csum_start = (uint16_t)l4;
	hdr->csum_offset = protocol == IPPROTO_TCP ? 16 : 6;
	return len;
}

static uint32_t seq_of(const uint8_t *p)
{
	size_t l4 = p[0] >> 4 == 4 ? 20 : 40;

	return (uint32_t)p[l4 + 4] << 24 | (uint32_t)p[l4 + 5] << 16 | (uint32_t)p[l4 + 6] << 8 |
	       p[l4 + 7];
}

static void check_split(int family, uint8_t protocol)
{
	static uint8_t super[OFFLOAD_MAX_PACKET], seg[2048], joined[OFFLOAD_MAX_PACKET];
	uint64_t seed = 0xabcdef01u + (uint64_t)family * 7 + protocol;

	for (int round = 0; round < 60; ++round) {
		struct virtio_net_hdr hdr;
		struct offload_split s;
		size_t l4 = family == AF_INET ? 20 : 40;
		size_t header = l4 + (protocol == IPPROTO_TCP ? 32 : 8);
		size_t payload = 1 + test_rand(&seed) % (OFFLOAD_MAX_PACKET - header - 1);
		uint32_t seq = (uint32_t)test_rand(&seed);
		size_t len = make_super(super, family, protocol, seq, 0xfff0,
					0x10 | 0x08 | 0x01 | 0x80, payload, &seed, &hdr);
		size_t got = 0;
		unsigned count = 0;
		long n;

		hdr.gso_size = (uint16_t)(500 + test_rand(&seed) % 1000);
		assert_true(offload_split_begin(&s, &hdr, super, len));
		while ((n = offload_split_next(&s, seg, sizeof(seg))) > 0) {
			size_t seg_payload = (size_t)n - header;
			bool last = got + seg_payload == payload;

			assert_true(seg_payload <= hdr.gso_size && seg_payload > 0);
			assert_true(last || seg_payload == hdr.gso_size);
			if (family == AF_INET) {
				assert_int_equal(stored(seg + 2), n);
				assert_int_equal(naive_checksum(seg, 20), 0);
				assert_int_equal(stored(seg + 4), (uint16_t)(0xfff0 + count));
			} else {
				assert_int_equal(stored(seg + 4), n - 40);
			}
			assert_true(l4_checksum_ok(seg, (size_t)n));
			if (protocol == IPPROTO_TCP) {
				uint8_t flags = seg[l4 + 13];

				assert_int_equal(seq_of(seg), seq + (uint32_t)got);
				assert_int_equal(!!(flags & 0x01), last);	/* FIN */
				assert_int_equal(!!(flags & 0x08), last);	/* PSH */
				assert_int_equal(!!(flags & 0x80), count == 0); /* CWR */
			} else {
				assert_int_equal(stored(seg + l4 + 4), n - (long)l4);
			}
			memcpy(joined + got, seg + header, seg_payload);
			got += seg_payload;
			++count;
		}
		assert_int_equal(n, 0);
		assert_int_equal(got, payload);
		assert_memory_equal(joined, super + header, payload);
		assert_int_equal(count, (payload + hdr.gso_size - 1) / hdr.gso_size);
	}
}

static void split_tcp4(void **state)
{
	(void)state;
	check_split(AF_INET, IPPROTO_TCP);
}

static void split_tcp6(void **state)
{
	(void)state;
	check_split(AF_INET6, IPPROTO_TCP);
}

static void split_udp(void **state)
{
	(void)state;
	check_split(AF_INET, IPPROTO_UDP);
	check_split(AF_INET6, IPPROTO_UDP);
}

static void split_plain_with_checksum(void **state)
{
	static uint8_t pkt[1500], out[1500];
	struct virtio_net_hdr hdr;
	struct offload_split s;
	uint64_t seed = 3;
	size_t len = make_super(pkt, AF_INET, IPPROTO_TCP, 1, 1, 0x18, 1000, &seed, &hdr);

	(void)state;
	hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	/* The kernel leaves the pseudo-header sum in the field; the rest is ours to add. */
	memset(pkt + 20 + 16, 0, 2);
	{
		uint8_t pseudo[12] = {0};
		uint16_t partial;

		memcpy(pseudo, pkt + 12, 8);
		pseudo[9] = 6;
		pseudo[10] = (uint8_t)((len - 20) >> 8);
		pseudo[11] = (uint8_t)(len - 20);
		partial = (uint16_t)~checksum_finish(checksum_add(0, pseudo, 12));
		memcpy(pkt + 20 + 16, &partial, 2);
	}
	assert_true(offload_split_begin(&s, &hdr, pkt, len));
	assert_int_equal(offload_split_next(&s, out, sizeof(out)), len);
	assert_int_equal(offload_split_next(&s, out, sizeof(out)), 0);
	assert_true(l4_checksum_ok(out, len));
}

static void split_rejects_bad_headers(void **state)
{
	static uint8_t pkt[3000], out[2048];
	struct virtio_net_hdr hdr, bad;
	struct offload_split s;
	uint64_t seed = 4;
	size_t len = make_super(pkt, AF_INET, IPPROTO_TCP, 1, 1, 0x10, 2500, &seed, &hdr);

	(void)state;
	hdr.gso_size = 1000;
	assert_true(offload_split_begin(&s, &hdr, pkt, len));
	bad = hdr;
	bad.gso_size = 0;
	assert_false(offload_split_begin(&s, &bad, pkt, len));
	bad = hdr;
	bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* an IPv4 packet */
	assert_false(offload_split_begin(&s, &bad, pkt, len));
	bad = hdr;
	bad.gso_type = 2; /* no such type */
	assert_false(offload_split_begin(&s, &bad, pkt, len));
	bad = hdr;
	bad.csum_start = (uint16_t)len;
	assert_false(offload_split_begin(&s, &bad, pkt, len));
	assert_false(offload_split_begin(&s, &hdr, pkt, 30)); /* TCP header cut off */
	assert_false(offload_split_begin(&s, &hdr, pkt, 0));
	pkt[20 + 12] = 4 << 4; /* data offset below the minimum */
	assert_false(offload_split_begin(&s, &hdr, pkt, len));
	pkt[20 + 12] = 15 << 4; /* TCP header longer than what is left after 30 bytes */
	assert_false(offload_split_begin(&s, &hdr, pkt, 60));
	pkt[20 + 12] = 8 << 4;
	/* A segment that does not fit the caller's buffer ends the walk. */
	assert_true(offload_split_begin(&s, &hdr, pkt, len));
	assert_int_equal(offload_split_next(&s, out, 500), -1);
	assert_int_equal(offload_split_next(&s, out, sizeof(out)), 0);
}

/* Collects what the coalescer emits. */
struct sink {
	uint8_t *buf;
	size_t used;
	struct {
		struct virtio_net_hdr hdr;
		size_t offset, len;
	} packets[4096];
	size_t count;
};

static void collect(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *pkt, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->count < 4096);
	s->packets[s->count].hdr = *hdr;
	s->packets[s->count].offset = s->used;
	s->packets[s->count].len = len;
	memcpy(s->buf + s->used, pkt, len);
	s->used += len;
	++s->count;
}

enum { FLOWS = 3, SUPERS = 3, MAX_SEGS = 600 };

struct flow_segments {
	uint8_t *data[MAX_SEGS];
	size_t len[MAX_SEGS];
	size_t count, next;
};

/* Splits a super-packet and appends its segments to f. */
static void split_into(struct flow_segments *f, const struct virtio_net_hdr *hdr,
		       const uint8_t *pkt, size_t len)
{
	struct offload_split s;
	uint8_t seg[2048];
	long n;

	assert_true(offload_split_begin(&s, hdr, pkt, len));
	while ((n = offload_split_next(&s, seg, sizeof(seg))) > 0) {
		assert_true(f->count < MAX_SEGS);
		f->data[f->count] = malloc((size_t)n);
		memcpy(f->data[f->count], seg, (size_t)n);
		f->len[f->count++] = (size_t)n;
	}
	assert_int_equal(n, 0);
}

static void coalesce_round_trip_for(int family, uint8_t protocol, uint64_t seed)
{
	static uint8_t super[OFFLOAD_MAX_PACKET];
	struct flow_segments *in = calloc(FLOWS, sizeof(*in)), *out = calloc(FLOWS, sizeof(*out));
	struct sink *sink = calloc(1, sizeof(*sink));
	struct offload_coalescer c;
	size_t total = 0, emitted_gso = 0, flushes = 0;

	sink->buf = malloc(FLOWS * SUPERS * OFFLOAD_MAX_PACKET);
	assert_true(offload_coalescer_init(&c, collect, sink));
	c.udp = protocol == IPPROTO_UDP;
	for (int f = 0; f < FLOWS; ++f) {
		uint32_t seq = (uint32_t)test_rand(&seed);
		uint16_t id = (uint16_t)test_rand(&seed);
		uint64_t flow_seed = (uint64_t)f; /* the port comes from the seed's low bits */

		for (int k = 0; k < SUPERS; ++k) {
			struct virtio_net_hdr hdr;
			size_t payload = 1 + test_rand(&seed) % 20000, len;
			unsigned before = (unsigned)in[f].count;

			flow_seed =
			    (flow_seed & ~(uint64_t)7) + 8 * (test_rand(&seed) >> 8) + (unsigned)f;
			len = make_super(super, family, protocol, seq, id,
					 k == SUPERS - 1 ? 0x18 : 0x10, payload, &flow_seed, &hdr);
			hdr.gso_size = (uint16_t)(1000 + (f * 100));
			split_into(&in[f], &hdr, super, len);
			seq += (uint32_t)payload;
			id = (uint16_t)(id + (in[f].count - before));
		}
		total += in[f].count;
	}
	/* Interleave the flows at random, each in order, flushing now and then. */
	for (size_t fed = 0; fed < total;) {
		int f = (int)(test_rand(&seed) % FLOWS);

		if (in[f].next == in[f].count)
			continue;
		offload_coalescer_add(&c, in[f].data[in[f].next], in[f].len[in[f].next]);
		++in[f].next;
		++fed;
		if (test_rand(&seed) % 50 == 0) {
			offload_coalescer_flush(&c);
			++flushes;
		}
	}
	offload_coalescer_flush(&c);
	for (size_t i = 0; i < sink->count; ++i) {
		const uint8_t *pkt = sink->buf + sink->packets[i].offset;
		size_t l4 = family == AF_INET ? 20 : 40;
		int f = pkt[l4 + 1] & 7;

		assert_true(f < FLOWS);
		if (sink->packets[i].hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			assert_true(out[f].count < MAX_SEGS);
			out[f].data[out[f].count] = malloc(sink->packets[i].len);
			memcpy(out[f].data[out[f].count], pkt, sink->packets[i].len);
			out[f].len[out[f].count++] = sink->packets[i].len;
			continue;
		}
		++emitted_gso;
		assert_int_equal(sink->packets[i].hdr.gso_type,
				 protocol == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
				 : family == AF_INET	 ? VIRTIO_NET_HDR_GSO_TCPV4
							 : VIRTIO_NET_HDR_GSO_TCPV6);
		split_into(&out[f], &sink->packets[i].hdr, pkt, sink->packets[i].len);
	}
	/* It joined packets: at most one emit per super-packet, plus what early flushes cut. */
	assert_true(sink->count <= FLOWS * SUPERS + FLOWS * flushes);
	assert_true(sink->count < total / 2);
	assert_true(emitted_gso > 0);
	for (int f = 0; f < FLOWS; ++f) {
		assert_int_equal(out[f].count, in[f].count);
		for (size_t i = 0; i < in[f].count; ++i) {
			assert_int_equal(out[f].len[i], in[f].len[i]);
			assert_memory_equal(out[f].data[i], in[f].data[i], in[f].len[i]);
			free(in[f].data[i]);
			free(out[f].data[i]);
		}
	}
	offload_coalescer_free(&c);
	free(sink->buf);
	free(sink);
	free(in);
	free(out);
}

static void coalesce_round_trip(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; ++seed) {
		coalesce_round_trip_for(AF_INET, IPPROTO_TCP, seed * 0x9e3779b97f4a7c15u);
		coalesce_round_trip_for(AF_INET6, IPPROTO_TCP, seed * 0xc2b2ae3d27d4eb4fu);
		coalesce_round_trip_for(AF_INET, IPPROTO_UDP, seed * 0x165667b19e3779f9u);
		coalesce_round_trip_for(AF_INET6, IPPROTO_UDP, seed * 0x27d4eb2f165667c5u);
	}
}

/* Whether two IPv4 test packets belong to one flow: protocol and ports (addresses are fixed). */
static bool same_test_flow(const uint8_t *a, const uint8_t *b)
{
	return a[9] == b[9] && !memcmp(a + 20, b + 20, 4);
}

/*
 * Emits for one flow's segments of segment_size (payload bytes in all) after
 * a change applied to segment `which`; UDP with the TUN's USO or without.
 * Whatever was joined or not, the emitted packets, segmented again, must be
 * the packets fed in, each flow in its order.
 */
static size_t emits_for(uint8_t protocol, bool udp, size_t payload, uint16_t segment_size,
			void (*change)(uint8_t *pkt, size_t len), unsigned which)
{
	static uint8_t super[8000];
	struct flow_segments segs = {0}, out = {0};
	struct virtio_net_hdr hdr;
	struct offload_coalescer c;
	struct sink *sink = calloc(1, sizeof(*sink));
	uint64_t seed = 0;
	size_t len = make_super(super, AF_INET, protocol, 100, 1, 0x10, payload, &seed, &hdr), n;
	size_t found[MAX_SEGS];

	sink->buf = malloc(64 * 1024);
	hdr.gso_size = segment_size;
	split_into(&segs, &hdr, super, len);
	assert_true(offload_coalescer_init(&c, collect, sink));
	c.udp = udp;
	for (size_t i = 0; i < segs.count; ++i) {
		if (i == which && change)
			change(segs.data[i], segs.len[i]);
		offload_coalescer_add(&c, segs.data[i], segs.len[i]);
	}
	offload_coalescer_flush(&c);
	n = sink->count;
	for (size_t i = 0; i < n; ++i)
		split_into(&out, &sink->packets[i].hdr, sink->buf + sink->packets[i].offset,
			   sink->packets[i].len);
	assert_int_equal(out.count, segs.count);
	for (size_t i = 0; i < segs.count; ++i) {
		for (found[i] = 0; found[i] < out.count; ++found[i])
			if (out.len[found[i]] == segs.len[i] &&
			    !memcmp(out.data[found[i]], segs.data[i], segs.len[i]))
				break;
		assert_true(found[i] < out.count);
		for (size_t k = 0; k < i; ++k)
			if (same_test_flow(segs.data[k], segs.data[i]))
				assert_true(found[k] < found[i]);
	}
	for (size_t i = 0; i < segs.count; ++i) {
		free(segs.data[i]);
		free(out.data[i]);
	}
	offload_coalescer_free(&c);
	free(sink->buf);
	free(sink);
	return n;
}

/* Emits of four same-flow TCP segments after a change applied to segment `which`. */
static size_t emits_after(void (*change)(uint8_t *pkt, size_t len), unsigned which)
{
	return emits_for(IPPROTO_TCP, false, 4000, 1000, change, which);
}

static void set_syn(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 13] |= 0x02;
}

static void other_ack(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 11] ^= 1;
}

static void seq_gap(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 7] += 1;
}

static void other_ttl(uint8_t *p, size_t len)
{
	(void)len;
	p[8] = 1;
}

static void other_option(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 27] ^= 1; /* timestamp value */
}

static void as_udp(uint8_t *p, size_t len)
{
	(void)len;
	p[9] = IPPROTO_UDP;
}

static void coalesce_refuses(void **state)
{
	(void)state;
	assert_int_equal(emits_after(NULL, 0), 1); /* four segments, one super-packet */
	assert_int_equal(emits_after(set_syn, 2), 3);
	assert_int_equal(emits_after(other_ack, 2), 3);
	assert_int_equal(emits_after(seq_gap, 3), 2);
	assert_int_equal(emits_after(other_ttl, 3), 2);
	assert_int_equal(emits_after(other_option, 3), 2);
	assert_int_equal(emits_after(as_udp, 1), 3);
}

static void other_udp_port(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 3] ^= 1;
}

static void as_fragment(uint8_t *p, size_t len)
{
	(void)len;
	p[6] |= 0x20; /* MF: the first fragment of a larger datagram */
}

static void bad_udp_length(uint8_t *p, size_t len)
{
	(void)len;
	p[20 + 5] ^= 1;
}

static void coalesce_udp(void **state)
{
	(void)state;
	/* 4000 bytes in 1000-byte datagrams: one super-packet with USO, four without. */
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4000, 1000, NULL, 0), 1);
	assert_int_equal(emits_for(IPPROTO_UDP, false, 4000, 1000, NULL, 0), 4);
	/* A shorter datagram ends a super-packet; the next starts another. */
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4500, 1000, NULL, 0), 1);
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4000, 1000, other_ttl, 3), 2);
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4000, 1000, other_udp_port, 2), 3);
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4000, 1000, as_fragment, 1), 3);
	assert_int_equal(emits_for(IPPROTO_UDP, true, 4000, 1000, bad_udp_length, 1), 3);
	/* 100 datagrams of 64 bytes: OFFLOAD_UDP_MAX_SEGMENTS in the first, the rest in a second.
	 */
	assert_int_equal(emits_for(IPPROTO_UDP, true, 6400, 64, NULL, 0), 2);
}

/* A UDP super-packet as the TUN gets it: lengths of the whole, the pseudo-header sum. */
static void coalesce_udp_header(void **state)
{
	static uint8_t super[8000];
	struct flow_segments segs = {0};
	struct virtio_net_hdr hdr;
	struct offload_coalescer c;
	struct sink *sink = calloc(1, sizeof(*sink));
	uint64_t seed = 5;
	size_t len = make_super(super, AF_INET, IPPROTO_UDP, 0, 7, 0, 3000, &seed, &hdr);
	const uint8_t *p;
	uint64_t sum = 0;

	(void)state;
	sink->buf = malloc(64 * 1024);
	hdr.gso_size = 1200;
	split_into(&segs, &hdr, super, len);
	assert_int_equal(segs.count, 3);
	assert_true(offload_coalescer_init(&c, collect, sink));
	c.udp = true;
	for (size_t i = 0; i < segs.count; ++i) {
		offload_coalescer_add(&c, segs.data[i], segs.len[i]);
		free(segs.data[i]);
	}
	offload_coalescer_flush(&c);
	assert_int_equal(sink->count, 1);
	p = sink->buf;
	assert_int_equal(sink->packets[0].len, len);
	assert_int_equal(sink->packets[0].hdr.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(sink->packets[0].hdr.gso_size, 1200);
	assert_int_equal(sink->packets[0].hdr.hdr_len, 28);
	assert_int_equal(sink->packets[0].hdr.csum_start, 20);
	assert_int_equal(sink->packets[0].hdr.csum_offset, 6);
	assert_int_equal(sink->packets[0].hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(p[2] << 8 | p[3], len);
	assert_int_equal(p[24] << 8 | p[25], len - 20);
	assert_int_equal(naive_checksum(p, 20), 0); /* the IPv4 header checksum holds */
	/* The stored L4 checksum is the folded pseudo-header sum, not complemented. */
	for (int i = 12; i < 20; i += 2)
		sum += (unsigned)(p[i] << 8 | p[i + 1]);
	sum += IPPROTO_UDP + (len - 20);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(p[26] << 8 | p[27], sum);
	offload_coalescer_free(&c);
	free(sink->buf);
	free(sink);
}

/* An IPv6 packet may be 40 bytes longer than a flow's buffer: it must pass through whole. */
static void coalesce_oversized_ipv6(void **state)
{
	static uint8_t pkt[65535 + 40];
	struct virtio_net_hdr hdr;
	struct offload_coalescer c;
	struct sink *sink = calloc(1, sizeof(*sink));
	uint64_t seed = 9;
	size_t len = make_super(pkt, AF_INET6, IPPROTO_TCP, 1, 0, 0x10, 65535 - 32, &seed, &hdr);

	(void)state;
	assert_int_equal(len, sizeof(pkt));
	sink->buf = malloc(sizeof(pkt));
	assert_true(offload_coalescer_init(&c, collect, sink));
	offload_coalescer_add(&c, pkt, len);
	offload_coalescer_flush(&c);
	assert_int_equal(sink->count, 1);
	assert_int_equal(sink->packets[0].len, len);
	assert_int_equal(sink->packets[0].hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	offload_coalescer_free(&c);
	free(sink->buf);
	free(sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc1071_example),
	    cmocka_unit_test(checksum_random_against_naive),
	    cmocka_unit_test(split_tcp4),
	    cmocka_unit_test(split_tcp6),
	    cmocka_unit_test(split_udp),
	    cmocka_unit_test(split_plain_with_checksum),
	    cmocka_unit_test(split_rejects_bad_headers),
	    cmocka_unit_test(coalesce_round_trip),
	    cmocka_unit_test(coalesce_refuses),
	    cmocka_unit_test(coalesce_oversized_ipv6),
	    cmocka_unit_test(coalesce_udp),
	    cmocka_unit_test(coalesce_udp_header),
	};
	return cmocka_run_group_tests_name("offload", tests, NULL, NULL);
}
