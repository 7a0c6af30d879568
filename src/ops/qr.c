// SPDX-License-Identifier: MIT
/* A config as a QR code: see qr.h. */
#include "ops/qr.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

enum { QUIET = 4 }; /* modules of light border, as the standard asks */

static QRcode *encode(const char *text)
{
	return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
}

static void code_free(QRcode *code)
{
	crypto_wipe(code->data, (size_t)code->width * (size_t)code->width);
	QRcode_free(code);
}

/* Whether module (x, y), quiet zone included, is dark. */
static bool dark(const QRcode *code, int x, int y)
{
	x -= QUIET, y -= QUIET;
	return x >= 0 && y >= 0 && x < code->width && y < code->width &&
	       (code->data[y * code->width + x] & 1);
}

char *qr_terminal(const char *text)
{
	QRcode *code = encode(text);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!code)
		return NULL;
	f = open_memstream(&out, &len);
	if (f) {
		int size = code->width + 2 * QUIET;

		/* light is drawn, dark left blank: readable on a dark terminal, as qrencode -t utf8
		 */
		for (int y = 0; y < size; y += 2) {
			for (int x = 0; x < size; ++x) {
				bool top = !dark(code, x, y),
				     bottom = y + 1 < size && !dark(code, x, y + 1);

				fputs(top && bottom ? "\u2588"
				      : top	    ? "\u2580"
				      : bottom	    ? "\u2584"
						    : " ",
				      f);
			}
			fputc('\n', f);
		}
		if (fclose(f)) {
			free(out);
			out = NULL;
		}
	}
	code_free(code);
	return out;
}

static uint32_t crc32_of(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; ++k)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* Appends a chunk: length, type, data, CRC of type and data. */
static size_t chunk(uint8_t *out, const char type[4], const uint8_t *data, size_t len)
{
	put32(out, (uint32_t)len);
	memcpy(out + 4, type, 4);
	if (len)
		memcpy(out + 8, data, len);
	put32(out + 8 + len, crc32_of(0, out + 4, len + 4));
	return len + 12;
}

bool qr_png(const char *text, unsigned scale, uint8_t **png, size_t *png_len)
{
	QRcode *code = encode(text);
	size_t side, row, raw_len, blocks, z_len, cap;
	uint8_t *raw, *z, *out, header[13];
	uint32_t a = 1, b = 0;

	if (!code)
		return false;
	side = (size_t)(code->width + 2 * QUIET) * scale;
	row = side + 1; /* a filter byte (none), then a byte a pixel */
	raw_len = row * side;
	raw = malloc(raw_len);
	blocks = (raw_len + 65534) / 65535;
	z_len = 2 + raw_len + blocks * 5 + 4;
	z = malloc(z_len);
	cap = 8 + 25 + z_len + 12 + 12;
	out = malloc(cap);
	if (!raw || !z || !out) {
		free(raw), free(z), free(out);
		code_free(code);
		return false;
	}
	for (size_t y = 0; y < side; ++y) {
		raw[y * row] = 0;
		for (size_t x = 0; x < side; ++x)
			raw[y * row + 1 + x] =
			    dark(code, (int)(x / scale), (int)(y / scale)) ? 0 : 255;
	}
	code_free(code);
	/* zlib: a header, stored deflate blocks, the Adler-32 of the data */
	size_t n = 0;
	z[n++] = 0x78, z[n++] = 0x01;
	for (size_t done = 0; done < raw_len;) {
		size_t take = raw_len - done > 65535 ? 65535 : raw_len - done;

		z[n++] = done + take == raw_len; /* BFINAL, BTYPE 00 */
		z[n++] = (uint8_t)take, z[n++] = (uint8_t)(take >> 8);
		z[n++] = (uint8_t)~take, z[n++] = (uint8_t)(~take >> 8);
		memcpy(z + n, raw + done, take);
		n += take;
		done += take;
	}
	for (size_t i = 0; i < raw_len; ++i) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	put32(z + n, b << 16 | a);
	n += 4;
	crypto_wipe(raw, raw_len);
	free(raw);
	/* the file */
	memcpy(out, "\x89PNG\r\n\x1a\n", 8);
	put32(header, (uint32_t)side);
	put32(header + 4, (uint32_t)side);
	header[8] = 8, header[9] = 0, header[10] = 0, header[11] = 0, header[12] = 0; /* gray */
	size_t len = 8;
	len += chunk(out + len, "IHDR", header, sizeof(header));
	len += chunk(out + len, "IDAT", z, n);
	len += chunk(out + len, "IEND", NULL, 0);
	crypto_wipe(z, z_len);
	free(z);
	*png = out;
	*png_len = len;
	return true;
}
