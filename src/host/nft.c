// SPDX-License-Identifier: MIT
/* nftables scripts through libnftables: see nft.h. */
#include "host/nft.h"

#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nft_available(void)
{
	const char *env = getenv("WGATE_NFT");

	return !env || strcmp(env, "off");
}

/* The first line of libnftables' error text, which may run over many. */
static void first_error(const char *text, char *err, size_t err_len)
{
	const char *nl;

	while (text && (*text == '\n' || *text == ' '))
		++text;
	if (!text || !*text)
		text = "nftables refused it";
	nl = strchr(text, '\n');
	snprintf(err, err_len, "%.*s", nl ? (int)(nl - text) : (int)strlen(text), text);
}

bool nft_run(const char *script, bool check_only, char *err, size_t err_len)
{
	struct nft_ctx *ctx;
	int rc;

	if (!nft_available()) {
		snprintf(err, err_len, "nftables is turned off (WGATE_NFT=off)");
		return false;
	}
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		snprintf(err, err_len, "cannot start libnftables");
		return false;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_set_dry_run(ctx, check_only);
	rc = nft_run_cmd_from_buffer(ctx, script);
	if (rc)
		first_error(nft_ctx_get_error_buffer(ctx), err, err_len);
	nft_ctx_free(ctx);
	return rc == 0;
}

char *nft_list_json(const char *command, char *err, size_t err_len)
{
	struct nft_ctx *ctx;
	char *out = NULL;

	if (!nft_available()) {
		snprintf(err, err_len, "nftables is turned off (WGATE_NFT=off)");
		return NULL;
	}
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		snprintf(err, err_len, "cannot start libnftables");
		return NULL;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, command) == 0) {
		out = strdup(nft_ctx_get_output_buffer(ctx));
		if (!out)
			snprintf(err, err_len, "out of memory");
	} else {
		first_error(nft_ctx_get_error_buffer(ctx), err, err_len);
	}
	nft_ctx_free(ctx);
	return out;
}
