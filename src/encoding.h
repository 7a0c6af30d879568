/* SPDX-License-Identifier: MIT */
/*
 * Keys as text: base64 (the wg(8) config form) and hex (the control
 * protocol's form). Both directions run in time independent of the key's
 * value, so that encoding a secret leaks nothing through timing.
 */
#ifndef WGATE_ENCODING_H
#define WGATE_ENCODING_H

#include <stdbool.h>
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
/* Accepts exactly 64 hex digits, either case. */
bool key_from_hex(uint8_t key[KEY_LEN], const char *hex);

#endif
