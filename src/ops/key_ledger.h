/* SPDX-License-Identifier: MIT */
/*
 * When each key came into use: the interface's own public key and each peer's,
 * with the time the interface first ran with it, kept by the monitor in
 * /var/lib/wgate/INTERFACE.keys (one "KEY UNIX_SECONDS" line each, the
 * interface's own marked "self") across
 * restarts, updated at up and at each reload. wgate check reads it against
 * KeyMaxAge. Public keys only: nothing secret.
 */
#ifndef WGATE_KEY_LEDGER_H
#define WGATE_KEY_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct key_since {
	uint8_t public_key[KEY_LEN];
	int64_t since; /* UNIX seconds */
	bool self;     /* the interface's own key */
};

/* The ledger's path for an interface (WGATE_STATE_DIR, default /var/lib/wgate). */
void key_ledger_path(char *out, size_t len, const char *ifname);
/*
 * The keys config runs with now, each with the time it was first seen (now
 * for a new one); keys no longer used are dropped. A config whose private key
 * was wiped (the monitor's kept copy) keeps the recorded own key. False with
 * err on failure (the file is left as it was).
 */
bool key_ledger_update(const char *ifname, const struct config *config, int64_t now, char *err,
		       size_t err_len);
/*
 * Whether next runs the keys recorded runs, own and peers', in the same
 * order: then the ledger written for recorded is next's too.
 */
bool key_ledger_same(const struct config *recorded, const struct config *next);
/* The ledger as read (*out freed by the caller); 0 when there is none. */
size_t key_ledger_load(const char *ifname, struct key_since **out);

#endif
