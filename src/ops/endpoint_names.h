/* SPDX-License-Identifier: MIT */
/*
 * Following endpoints' names. WireGuard resolves an endpoint's name once; the
 * monitor resolves them again at ResolveInterval, when the data path says a
 * peer's handshakes go unanswered, and at every reload, on its resolver's
 * thread (host/resolver.h), and hands the addresses that changed to the
 * running interface. A name that does not resolve keeps its last address.
 */
#ifndef WGATE_ENDPOINT_NAMES_H
#define WGATE_ENDPOINT_NAMES_H

#include <stddef.h>

#include "config/config.h"
#include "host/resolver.h"
#include "ops/reload.h"

/* The names of the config's endpoints, to resolve; NULL (len 0) when it has none. */
struct resolve_item *endpoint_names(const struct config *config, size_t *len);
/*
 * Records in t->config what the names resolved to and sets the running
 * interface's endpoints that changed; a failure is logged and counted on
 * its peer. items must come from endpoint_names() on this same config.
 */
void endpoint_names_apply(struct reload_target *t, const struct resolve_item *items, size_t len);

#endif
