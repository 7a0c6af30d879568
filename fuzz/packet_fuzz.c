// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for received packets: the first byte picks the parser.
 *   0: a TUN read (virtio-net header, then the packet) through offload_split
 *   1: decrypted packets for the TUN (2-byte length prefixes) through the coalescer,
 *      joining UDP too when the first byte is 128 or more
 *   2: a UDP payload through device_receive, on a device with an identity and a peer
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_device.h"
#include "offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit_nothing(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *pkt,
			 size_t len)
{
	(void)ctx;
	/* What reaches the TUN must lie within what the header describes. */
	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE && (hdr->hdr_len > len || !hdr->gso_size))
		abort();
	(void)pkt;
}

static struct device dev;
static struct offload_coalescer coalescer;
static uint8_t segment[2048], copy[65536];

static void setup(void)
{
	uint8_t key[CRYPTO_KEY_LEN], peer_key[CRYPTO_KEY_LEN];

	fuzz_start();
	memset(key, 0x41, sizeof(key));
	memset(peer_key, 0x42, sizeof(peer_key));
	if (!device_init(&dev, &fuzz_io) || !device_set_private_key(&dev, key) ||
	    !x25519_public(peer_key, peer_key) || !device_add_peer(&dev, peer_key) ||
	    !offload_coalescer_init(&coalescer, emit_nothing, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint64_t now = 1000000000;
	struct wire_addr src = {0};

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct virtio_net_hdr hdr;
		struct offload_split s;
		long n;

		if (size < 1 + sizeof(hdr))
			return 0;
		memcpy(&hdr, data + 1, sizeof(hdr));
		if (!offload_split_begin(&s, &hdr, data + 1 + sizeof(hdr), size - 1 - sizeof(hdr)))
			return 0;
		while ((n = offload_split_next(&s, segment, sizeof(segment))) > 0)
			if ((size_t)n > sizeof(segment))
				abort();
		break;
	}
	case 1:
		coalescer.udp = data[0] >= 128;
		for (size_t off = 1; off + 2 <= size;) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];

			off += 2;
			if (len > size - off)
				len = size - off;
			memcpy(copy, data + off, len);
			offload_coalescer_add(&coalescer, copy, len);
			off += len;
		}
		offload_coalescer_flush(&coalescer);
		break;
	case 2:
		src.remote.v4.sin_family = AF_INET;
		src.remote.v4.sin_port = 0x1234;
		src.remote.v4.sin_addr.s_addr = 0x0100000a;
		memcpy(copy, data + 1, size - 1 < sizeof(copy) ? size - 1 : sizeof(copy));
		now += 1000000;
		device_receive(&dev, copy, size - 1 < sizeof(copy) ? size - 1 : sizeof(copy), &src,
			       now);
		break;
	}
	return 0;
}
