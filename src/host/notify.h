/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3), without libsystemd):
 * a datagram to $NOTIFY_SOCKET. A unit of Type=notify is started only when
 * wgate says READY=1, so units ordered after it (a gateway binding to the
 * tunnel's address) start once the interface, its addresses and its policy
 * are up.
 */
#ifndef WGATE_NOTIFY_H
#define WGATE_NOTIFY_H

#include <stdbool.h>

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", ...); true when sent or no manager asks. */
bool service_notify(const char *state);

#endif
