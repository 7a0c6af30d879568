// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the monitor's reading of the running state: the
 * answer the data path process gives to get=wgate (uapi_state_parse), which
 * crosses the privilege boundary upwards. Any bytes, as the whole answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_state state;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (uapi_state_parse(&state, text))
		uapi_state_free(&state);
	free(text);
	return 0;
}
