/* SPDX-License-Identifier: MIT */
/*
 * A client's config as a QR code (libqrencode), for mobile clients: as text
 * for a terminal (UTF-8 half blocks, two rows a line, with the quiet zone) or
 * as a PNG image (8-bit grayscale, uncompressed deflate: no image library).
 * The text holds a private key: every buffer made from it is wiped.
 */
#ifndef WGATE_QR_H
#define WGATE_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The code as terminal text; NULL when the text does not fit a QR code or memory ran out. */
char *qr_terminal(const char *text);
/* The code as a PNG, scale pixels a module; false as qr_terminal. The caller wipes and frees. */
bool qr_png(const char *text, unsigned scale, uint8_t **png, size_t *len);

#endif
