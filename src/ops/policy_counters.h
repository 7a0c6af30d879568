/* SPDX-License-Identifier: MIT */
/*
 * What the access policy dropped, read from its nftables table for the
 * metrics: one line per counted rule, "rule\tCOMMENT\tPACKETS\tBYTES", and
 * one per peer whose chains dropped anything,
 * "peer\tPUBLIC_KEY\tto_gateway|forwarded\tPACKETS\tBYTES".
 */
#ifndef WGATE_POLICY_COUNTERS_H
#define WGATE_POLICY_COUNTERS_H

#include <stddef.h>

#include "config/config.h"

/* The lines for interface ifname whose table config made; NULL with err set. */
char *policy_counters_read(const char *ifname, const struct config *config, char *err,
			   size_t err_len);

/* Parses the JSON of `list table' (split out for tests); NULL when it is not that. */
char *policy_counters_from_json(const char *json, const struct config *config);

#endif
