/* SPDX-License-Identifier: MIT */
#ifndef WGATE_VERSION_H
#define WGATE_VERSION_H

#define WGATE_VERSION "0.1.0"

#endif
