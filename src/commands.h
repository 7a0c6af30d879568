/* SPDX-License-Identifier: MIT */
/* The wgate subcommands, one per file; main.c dispatches to them. */
#ifndef WGATE_COMMANDS_H
#define WGATE_COMMANDS_H

#include <stdbool.h>

#define WGATE_VERSION "0.1.0"

/* Each takes argv[0] as its own name and returns the process exit status. */
int cmd_genkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_strip(int argc, char **argv);

/* True when argv holds exactly one argument and it asks for help. */
bool wants_help(int argc, char **argv);
/* Maps a bare interface name to /etc/wireguard/NAME.conf as wg-quick(8) does. */
const char *config_path_for(const char *arg, char *buf, unsigned long buf_len);
/* Warns on stderr, as wg-quick(8) does, when others may read the file or its directory. */
void warn_if_world_accessible(const char *path);

#endif
