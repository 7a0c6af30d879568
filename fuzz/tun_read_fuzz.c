// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the TUN read, starting where read(2) hands the bytes
 * over: a virtio-net header (any flags, GSO type, sizes, checksum offsets)
 * and up to 64 KiB behind it, through datapath_tun_input() into a device
 * with a live session (fuzz_session.h): segmentation, cryptokey routing,
 * ICMP unreachable, sealing and the send queue.
 *   byte 0 bit 0: the TUN has no virtio-net header (offloads off)
 *   the rest: the read
 */
#include <stdint.h>

#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static _Alignas(16) uint8_t read_buf[DATAPATH_BUFFER_SIZE + 16]; /* as the daemon's */

	if (!ready) {
		session_start();
		ready = true;
	}
	if (size < 1)
		return 0;
	dp.tun_vnet_hdr = !(data[0] & 1);
	if (size - 1 > sizeof(read_buf))
		size = sizeof(read_buf) + 1;
	memcpy(read_buf, data + 1, size - 1);
	datapath_tun_input(&dp, &a, read_buf, size - 1, now);
	datapath_flush(&dp);
	return 0;
}
