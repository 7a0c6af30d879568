/* SPDX-License-Identifier: MIT */
/*
 * nftables through libnftables: a script applied as one transaction (all of
 * it or none of it), or only checked by the kernel. WGATE_NFT=off acts as a
 * host without nftables.
 */
#ifndef WGATE_NFT_H
#define WGATE_NFT_H

#include <stdbool.h>
#include <stddef.h>

bool nft_available(void);
/* check_only: the kernel validates the whole transaction, then drops it. */
bool nft_run(const char *script, bool check_only, char *err, size_t err_len);

/* Runs a listing command ("list table inet x") and returns its JSON output; NULL with err set. */
char *nft_list_json(const char *command, char *err, size_t err_len);

#endif
