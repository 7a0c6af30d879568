/* SPDX-License-Identifier: MIT */
/* The wgate subcommands, one per file; main.c dispatches to them. */
#ifndef WGATE_COMMANDS_H
#define WGATE_COMMANDS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/version.h"

/* Each takes argv[0] as its own name and returns the process exit status. */
int cmd_genkey(int argc, char **argv);
int cmd_genpsk(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_firewall(int argc, char **argv);
int cmd_gateway(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_showconf(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_syncconf(int argc, char **argv);
/* The daemon alone, when wgate runs under the name wgated. */
int wgated_main(int argc, char **argv);

/*
 * Has the daemon running ifname reload its config file, and says how that
 * went (who names the command in messages; success is said on say); the exit
 * status.
 */
int reload_interface(const char *who, const char *ifname, FILE *say);
/* True when argv holds exactly one argument and it asks for help. */
bool wants_help(int argc, char **argv);
/*
 * Prints a message on standard error as fprintf would, with anything that may
 * be key material hidden (redact_keys): what a user typed or pasted is quoted
 * back only when it cannot be a secret.
 */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);
/* Maps a bare interface name to /etc/wireguard/NAME.conf as wg-quick(8) does. */
/*
 * The pid of the `wgate up' that runs interface ifname and the config it came up
 * from (/run/wgate/IFNAME.pid); 0 when none does.
 */
int running_interface(const char *ifname, char config_path[4096]);
const char *config_path_for(const char *arg, char *buf, unsigned long buf_len);
/*
 * The config a command that only reads one means by arg: the file a running
 * interface came up from (*running), else config_path_for(arg); ifname is the
 * interface's name, or the file's (NAME.conf). False when the file's name is
 * no interface name.
 */
bool config_for_reading(const char *arg, char path[4096], char ifname[IFNAMSIZ], bool *running);
/* Whether name's first len bytes make an interface name by wg-quick's rule (1 to 15 of
 * a-z A-Z 0-9 _ = + . -). */
bool interface_name_ok(const char *name, size_t len);
/* Warns on stderr, as wg-quick(8) does, when others may read the file or its directory. */
void warn_if_world_accessible(const char *path);

/* The config file and interface name an argument means, as wg-quick(8) decides them. */
bool interface_from_arg(const char *arg, char *path, size_t path_len, char ifname[IFNAMSIZ],
			char *err, size_t err_len);
/*
 * The options wgate up and wgated share: -f/--foreground, --metrics ADDR:PORT,
 * -h/--help, and one name. Returns -1 to go on; otherwise usage() has been
 * printed (stdout for help, stderr for bad usage) and this is the exit status.
 */
int parse_run_options(const char *who, int argc, char **argv, void (*usage)(FILE *out),
		      bool *foreground, const char **metrics, const char **name);
/* Points stdin, stdout and stderr at /dev/null: for a daemon once it is detached. */
void stdio_to_dev_null(void);

#endif
