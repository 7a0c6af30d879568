/* SPDX-License-Identifier: MIT */
#ifndef WGATE_APPLY_H
#define WGATE_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/device.h"

/* Applies a parsed config (endpoints resolved): identity, port, fwmark, peers. */
bool config_apply(struct device *dev, const struct config *config, uint64_t now)
    __attribute__((warn_unused_result));

#endif
