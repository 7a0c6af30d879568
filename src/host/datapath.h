/* SPDX-License-Identifier: MIT */
/*
 * The batched data path between a device and its descriptors. TUN reads
 * arrive as super-packets with a virtio-net header and are split (offload.c);
 * outgoing datagrams are grouped per destination and leave in one
 * sendmmsg(2), each group one UDP_SEGMENT (GSO) send; incoming ones come in
 * through recvmmsg(2) with UDP_GRO, and packets for the TUN are coalesced
 * back into super-packets. Each feature falls back when the kernel refuses
 * it, and each can be turned off (WGATE_NO_OFFLOAD). Single-threaded: the
 * daemon's event loop owns it.
 */
#ifndef WGATE_DATAPATH_H
#define WGATE_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/device.h"
#include "core/offload.h"
#include "host/udp.h"
#include "host/workers.h"

enum datapath_feature {
	DATAPATH_TUN_OFFLOAD = 1 << 0, /* IFF_VNET_HDR + TUNSETOFFLOAD, coalesced writes */
	DATAPATH_UDP_GSO = 1 << 1,     /* UDP_SEGMENT on send */
	DATAPATH_UDP_GRO = 1 << 2,     /* UDP_GRO on receive */
	DATAPATH_MMSG = 1 << 3,	       /* recvmmsg/sendmmsg rather than one call per datagram */
	DATAPATH_TUN_USO = 1 << 4,     /* TUN_F_USO4/6 (Linux 6.2), UDP coalesced too; needs tun */
	DATAPATH_ALL = (1 << 5) - 1,
};

enum {
	DATAPATH_TX_GROUPS = 64,
	DATAPATH_RX_MESSAGES = 16,
	DATAPATH_GSO_MAX_SEGMENTS = 64,
	DATAPATH_GSO_MAX_BYTES = 65507, /* the largest UDP payload IPv4 can carry */
	DATAPATH_BUFFER_SIZE = 65536,
	DATAPATH_SEAL_KEYS = 16,      /* distinct keys in one flush */
	DATAPATH_RX_SEGMENTS = 64,    /* per GRO receive (the kernel's UDP_GRO_CNT_MAX) */
	DATAPATH_MIN_PER_THREAD = 16, /* packets worth waking a thread for */
};

/* A data message queued with its payload still plaintext. */
struct datapath_seal {
	uint8_t *payload; /* len bytes, then room for the tag */
	uint64_t counter;
	uint32_t len;
	uint16_t key; /* in seal_keys */
	bool failed;
};

/* A received datagram and what was opened of it ahead. */
struct datapath_received {
	uint8_t *buf;
	size_t len;
	const struct wire_addr *src;
	struct device_open open;
};

struct datapath_group {
	struct wire_addr to;
	size_t len, segment_size;
	unsigned segments;
};

/* Where packets pass; batches per path show how well system calls are shared. */
enum datapath_path { PATH_TUN_READ, PATH_TUN_WRITE, PATH_UDP_SEND, PATH_UDP_RECEIVE, PATH_COUNT };

struct datapath_stats {
	uint64_t batches[PATH_COUNT]; /* one TUN read or write, one UDP message */
	uint64_t packets[PATH_COUNT]; /* IP packets or datagrams in them */
	uint64_t sources_gone;	      /* sends refused from a local address no longer ours */
};

struct datapath {
	int tun_fd;
	bool tun_vnet_hdr; /* reads and writes carry a virtio-net header */
	struct udp *udp;
	unsigned features; /* enum datapath_feature, as requested and then as granted */

	uint8_t *tx_buf; /* DATAPATH_TX_GROUPS buffers of DATAPATH_BUFFER_SIZE */
	struct datapath_group groups[DATAPATH_TX_GROUPS];
	unsigned group_count;
	size_t tx_queued; /* bytes in all groups */
	uint8_t *rx_buf;  /* DATAPATH_RX_MESSAGES buffers */
	uint8_t *tun_buf; /* one TUN read: header and up to 64 KiB */
	struct offload_coalescer coalescer;
	struct datapath_stats stats;

	unsigned threads; /* wanted (WGATE_THREADS); running once started */
	struct workers workers;
	struct aead_ctx crypto[WORKERS_MAX]; /* one per thread */
	struct datapath_seal *seals;	     /* for every datagram the groups can hold */
	unsigned seal_count;
	struct aead_key seal_keys[DATAPATH_SEAL_KEYS];
	unsigned seal_key_count;
	struct datapath_received *received; /* one recvmmsg's datagrams */
};

/*
 * Parses WGATE_NO_OFFLOAD's value ("all", or a comma-separated list of tun,
 * tun-uso, udp-gso, udp-gro, mmsg) into the features that stay on. False, naming the
 * bad word in err, for anything else.
 */
bool datapath_features_parse(const char *disabled, unsigned *features, char *err, size_t err_len)
    __attribute__((warn_unused_result));
const char *datapath_feature_name(enum datapath_feature feature);
const char *datapath_path_name(enum datapath_path path);

/* The features in use, as "tun,udp-gso,udp-gro,mmsg,tun-uso" or "none". */
void datapath_describe(const struct datapath *dp, char *out, size_t len);

/* Allocates the buffers and cipher contexts for threads; nothing is attached yet. */
bool datapath_init(struct datapath *dp, unsigned features, unsigned threads)
    __attribute__((warn_unused_result));
/* Starts the helper threads: after any fork. False (with errno) when they cannot start. */
bool datapath_start_threads(struct datapath *dp) __attribute__((warn_unused_result));
void datapath_free(struct datapath *dp);
/* Takes a TUN fd (opened by tun_open or inherited) and enables what it supports. */
void datapath_attach_tun(struct datapath *dp, int tun_fd);

/* Drains up to a batch of TUN reads into device_send(); false when the TUN is gone. */
bool datapath_read_tun(struct datapath *dp, struct device *dev);
/* Drains up to a batch of datagrams from fd into device_receive(). */
void datapath_read_udp(struct datapath *dp, struct device *dev, int fd);
/*
 * Where received bytes enter, as recvmmsg(2) hands them over: n messages of
 * any length (zero included), each with its control messages (UDP_GRO's
 * segment size, the local address) and its source in src[i].remote.
 */
void datapath_receive(struct datapath *dp, struct device *dev, struct mmsghdr *msgs, unsigned n,
		      struct wire_addr *src, uint64_t now);
/* Where a TUN read enters: its virtio-net header (when the TUN has them), then the packet(s). */
void datapath_tun_input(struct datapath *dp, struct device *dev, const uint8_t *buf, size_t len,
			uint64_t now);
/* The device's output, queued until datapath_flush(). */
bool datapath_queue_udp(struct datapath *dp, const struct wire_addr *to, const void *buf,
			size_t len);
/* A data message to be sealed at the next flush (see device_io.send_data). */
bool datapath_queue_data(struct datapath *dp, const struct wire_addr *to, const void *msg,
			 size_t len, const struct aead_key *key, uint64_t counter);
void datapath_write_tun(struct datapath *dp, const void *buf, size_t len);
/* Sends and writes everything queued: at the end of every batch. */
void datapath_flush(struct datapath *dp);

#endif
