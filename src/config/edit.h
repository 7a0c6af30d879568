/* SPDX-License-Identifier: MIT */
/*
 * Edits of a config's text that keep everything else byte for byte (the
 * operator's comments, order and formatting), and the choices an edit needs:
 * a free tunnel address for a new peer, and what the peer's client routes.
 * Text only; ops/config_file.h writes the result.
 */
#ifndef WGATE_EDIT_H
#define WGATE_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* text with section (whole lines) appended after a blank line; NULL when out of memory. */
char *config_text_append(const char *text, size_t len, const char *section, size_t *out_len);
/*
 * text without the section whose header is on line (1-based): from the
 * comment lines right above it (they are the section's own) up to the next
 * section header or the end (and then the blank line before
 * it, which config_text_append puts there); NULL when out of memory.
 */
char *config_text_remove_section(const char *text, size_t len, unsigned line, size_t *out_len);

/*
 * text with the line that sets key in the section whose header is on line
 * (1-based) made "key = value": replaced in place; when there is none, added
 * after the line that sets the key `after' (NULL: none) or at the section's
 * end; removed when value is NULL. NULL when out of memory or when no section
 * starts on line.
 */
char *config_text_set_key(const char *text, size_t len, unsigned line, const char *key,
			  const char *value, const char *after, size_t *out_len);

/*
 * The lowest free host address in the subnet of each of the interface's
 * Addresses of the family: not the interface's own, not held by a peer's
 * AllowedIPs, not the network or (IPv4) broadcast address. False when the
 * config has no Address of the family, or its subnet is full.
 */
bool config_free_address(const struct config *config, int family, struct ip_prefix *out);

/* The peer whose Name is name, or whose public key is name in base64; NULL for none. */
const struct peer_config *config_find_peer(const struct config *config, const char *name);

#endif
