/* SPDX-License-Identifier: MIT */
/*
 * Segmentation and coalescing offloads for a TUN opened with IFF_VNET_HDR.
 * With TUNSETOFFLOAD the kernel hands over TCP (and UDP) super-packets of up
 * to 64 KiB with one virtio-net header; offload_split() cuts them into
 * packets that fit the tunnel's MTU, checksums included, as a NIC doing TSO
 * would. In the other direction the coalescer joins consecutive segments of
 * one TCP flow (and, where the TUN takes UDP segmentation offload, datagrams
 * of one UDP flow) back into a super-packet, as GRO would, so the kernel
 * handles one packet where there were forty. Pure functions over bytes: no I/O.
 */
#ifndef WGATE_OFFLOAD_H
#define WGATE_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/checksum.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

enum {
	OFFLOAD_MAX_PACKET = 65535,
	OFFLOAD_COALESCE_FLOWS = 8, /* flows joined at once; more are flushed */
	/* Datagrams per UDP super-packet: within UDP_MAX_SEGMENTS of every kernel with USO. */
	OFFLOAD_UDP_MAX_SEGMENTS = 64,
};

/* Walks the packets one TUN read contains. */
struct offload_split {
	const uint8_t *pkt;
	size_t len;
	size_t l4_offset, header_len; /* L4 header start; all headers' length */
	size_t segment_size, offset;  /* payload bytes per packet; next payload byte */
	unsigned index;
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP when segmenting, 0 if not */
	bool needs_checksum, done;
	const struct virtio_net_hdr *hdr;
};

/*
 * Starts walking pkt (the bytes after the virtio-net header hdr). False for
 * a header that does not describe the packet; the caller drops it.
 */
bool offload_split_begin(struct offload_split *s, const struct virtio_net_hdr *hdr,
			 const uint8_t *pkt, size_t len) __attribute__((warn_unused_result));
/*
 * Writes the next packet into out (room for cap bytes) with its IP and L4
 * checksums complete. Returns its length, 0 when there are no more, or -1
 * when it does not fit in cap (the rest is dropped).
 */
long offload_split_next(struct offload_split *s, uint8_t *out, size_t cap);

/* Receives each finished packet; hdr describes it to the TUN. */
typedef void offload_emit_fn(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *pkt,
			     size_t len);

struct offload_flow {
	uint8_t *buf;	     /* OFFLOAD_MAX_PACKET bytes */
	size_t len;	     /* bytes held; 0: slot free */
	size_t header_len;   /* IP + TCP or UDP headers */
	size_t segment_size; /* payload of the first segment */
	unsigned segments;
	uint32_t next_seq; /* TCP */
	bool closed;	   /* a short or PSH segment ended it */
	uint64_t age;	   /* for choosing which flow to flush when all are in use */
};

struct offload_coalescer {
	struct offload_flow flows[OFFLOAD_COALESCE_FLOWS];
	uint64_t clock;
	bool udp; /* join UDP datagrams too (the TUN has TUN_F_USO4/6) */
	offload_emit_fn *emit;
	void *ctx;
};

/* Allocates the flow buffers (once, at start-up). TCP only until udp is set. */
bool offload_coalescer_init(struct offload_coalescer *c, offload_emit_fn *emit, void *ctx)
    __attribute__((warn_unused_result));
void offload_coalescer_free(struct offload_coalescer *c);
/*
 * Takes one IP packet (checksums already valid) bound for the TUN. It joins
 * a held flow, starts one, or goes out at once; per flow the order is kept.
 */
void offload_coalescer_add(struct offload_coalescer *c, const uint8_t *pkt, size_t len);
/* Emits everything held. Call at the end of each batch. */
void offload_coalescer_flush(struct offload_coalescer *c);

#endif
