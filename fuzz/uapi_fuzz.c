// SPDX-License-Identifier: MIT
/* libFuzzer harness: any bytes as a control-protocol set request, then a get. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "device.h"
#include "log.h"
#include "noise.h"
#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool send_nothing(void *ctx, const union sockaddr_any *to, const void *buf, size_t len)
{
	(void)ctx, (void)to, (void)buf, (void)len;
	return true;
}

static void write_nothing(void *ctx, const void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
}

static void wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	ts->tv_sec = 1700000000;
	ts->tv_nsec = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct device_io io = {
	    .send_udp = send_nothing, .write_tun = write_nothing, .wall_time = wall_time};
	struct device dev;

	if (!null) {
		if (!crypto_init())
			abort();
		setenv("LOG_LEVEL", "silent", 1);
		log_init("fuzz", false);
		noise_static_init();
		null = fopen("/dev/null", "w");
	}
	if (!device_init(&dev, &io))
		return 0;
	(void)uapi_set(&dev, (const char *)data, size, NULL, 1);
	uapi_get(&dev, null);
	device_free(&dev);
	return 0;
}
