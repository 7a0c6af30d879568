// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what etcd answers, starting where its bytes enter:
 * the body of a range answer, and a watch stream fed in pieces of
 * fuzzer-chosen sizes as libcurl hands them over (messages cut anywhere,
 * several in one piece). Every event's key and value are read back.
 *   byte 0: bit 7 a range answer (else a watch stream); bits 0-6 the piece size - 1
 *   the rest: the HTTP body
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t seen;

static bool on_events(void *ctx, const struct etcd_event *events, size_t len, int64_t revision)
{
	(void)ctx;
	(void)revision;
	for (size_t i = 0; i < len; ++i)
		seen += strlen(events[i].kv.key) + events[i].kv.value_len + events[i].deleted;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t piece;

	if (size < 1)
		return 0;
	piece = (size_t)(data[0] & 0x7f) + 1;
	if (data[0] & 0x80) {
		char *text = malloc(size);
		struct etcd_kv *kvs;
		size_t len;
		int64_t revision;

		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (etcd_range_parse(text, &kvs, &len, &revision, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < len; ++i)
				seen += strlen(kvs[i].key) + kvs[i].value_len;
			etcd_kvs_free(kvs, len);
		}
		free(text);
		return 0;
	}
	{
		struct etcd_stream s;

		if (!etcd_stream_init(&s, on_events, NULL, err, sizeof(err)))
			return 0;
		for (size_t at = 1; at < size; at += piece)
			if (!etcd_stream_feed(&s, (const char *)data + at,
					      size - at < piece ? size - at : piece))
				break;
		etcd_stream_free(&s);
	}
	return 0;
}
