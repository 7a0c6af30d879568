/* SPDX-License-Identifier: MIT */
/*
 * Keys as text: base64 (the wg(8) config form) and hex (the control
 * protocol's form). Both directions run in time independent of the key's
 * value, so that encoding a secret leaks nothing through timing.
 */
#ifndef WGATE_ENCODING_H
#define WGATE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	KEY_LEN = 32,
	KEY_BASE64_LEN = 44, /* characters, without the terminating NUL */
	KEY_HEX_LEN = 64,
};

void key_to_base64(char out[KEY_BASE64_LEN + 1], const uint8_t key[KEY_LEN]);
/* Accepts exactly 44 characters with canonical '=' padding; nothing else. */
bool key_from_base64(uint8_t key[KEY_LEN], const char *base64);
void key_to_hex(char out[KEY_HEX_LEN + 1], const uint8_t key[KEY_LEN]);
/* Any bytes as base64 with padding: out holds 4 * ((len + 2) / 3) + 1 bytes. */
void base64_encode(char *out, const uint8_t *in, size_t len);
/* Padded base64 (len a multiple of 4) into out (len / 4 * 3 bytes); false when invalid. */
bool base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t len);
/* Accepts exactly 64 hex digits, either case. */
bool key_from_hex(uint8_t key[KEY_LEN], const char *hex);

/*
 * Hides anything in a message that may be key material, in place, so that no
 * error or log line quotes a secret whatever the mistake (a key pasted with a
 * typo, a missing `=', in hex, in a hook). A run of 20 or more base64
 * characters with 3 or more of at least two of capitals, small letters and
 * digits (as random base64 and hex have, and words, paths and host names
 * rarely) is key-like. A `quoted' token holding one, or 32 such characters
 * in runs of 6 or more with 5 of two classes (a key split by stray
 * characters), becomes `(hidden)' whole; outside quotes the run alone does.
 * Returns whether anything was hidden.
 */
bool redact_keys(char *msg, size_t cap);

#endif
