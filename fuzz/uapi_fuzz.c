// SPDX-License-Identifier: MIT
/* libFuzzer harness: any bytes as a control-protocol set request, then a get. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_device.h"
#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct device dev;

	if (!null) {
		fuzz_start();
		null = fopen("/dev/null", "w");
	}
	if (!device_init(&dev, &fuzz_io))
		return 0;
	(void)uapi_set(&dev, (const char *)data, size, NULL, 1);
	uapi_get(&dev, null);
	device_free(&dev);
	return 0;
}
