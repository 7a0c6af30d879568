/* SPDX-License-Identifier: MIT */
/* A device's I/O that goes nowhere, with a fixed wall clock: for tests of the control side. */
#ifndef WGATE_TEST_QUIET_IO_H
#define WGATE_TEST_QUIET_IO_H

#include "core/device.h"

static void quiet_wall_time(void *ctx, struct timespec *ts)
{
	(void)ctx;
	ts->tv_sec = 1700000000;
	ts->tv_nsec = 0;
}

static bool no_send(void *ctx, const struct wire_addr *to, const void *buf, size_t len)
{
	(void)ctx, (void)to, (void)buf, (void)len;
	return true;
}

static void no_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
}

static const struct device_io io = {
    .send_udp = no_send, .write_tun = no_write, .wall_time = quiet_wall_time};

#endif
