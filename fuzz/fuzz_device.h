/* SPDX-License-Identifier: MIT */
/* What the fuzz harnesses that drive a device share: quiet start-up and an I/O that goes nowhere.
 */
#ifndef WGATE_FUZZ_DEVICE_H
#define WGATE_FUZZ_DEVICE_H

#include <stdlib.h>

#include "core/device.h"
#include "host/log.h"
#include "core/noise.h"

static bool send_nothing(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	(void)ctx, (void)to, (void)buf, (void)len;
	return true;
}

static void write_nothing(void *ctx, const void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
}

static void fixed_wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	ts->tv_sec = 1700000000;
	ts->tv_nsec = 0;
}

static const struct device_io fuzz_io = {
    .send_udp = send_nothing, .write_tun = write_nothing, .wall_time = fixed_wall_time};

/* Crypto, a silent log and the protocol's constants: once per process. */
static void fuzz_start(void)
{
	if (!noise_init())
		abort();
	setenv("LOG_LEVEL", "silent", 1);
	log_init("fuzz", false);
}

#endif
