// SPDX-License-Identifier: MIT
/* libFuzzer harness: any bytes through the config parser and the stripper. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "core/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct config config;
	char err[512];

	if (!null) {
		if (!crypto_init())
			abort();
		null = fopen("/dev/null", "w");
	}
	if (config_parse(&config, (const char *)data, size, "fuzz", err, sizeof(err)))
		config_free(&config);
	config_strip((const char *)data, size, null);
	return 0;
}
