/* SPDX-License-Identifier: MIT */
/*
 * The sandbox the packet-handling process enters once everything it needs is
 * open (TUN, UDP sockets, control and metrics sockets, the log): it becomes
 * an unprivileged user with no capabilities and no way to regain any
 * (no_new_privs), its memory is locked (keys never reach swap) and it can be
 * neither dumped nor traced, and a seccomp allow-list confines it to the
 * system calls the event loop, the data path threads and the HTTP server
 * make. A call outside the list fails with EPERM and is counted, so that a
 * forgotten one shows in the log instead of killing the tunnel.
 */
#ifndef WGATE_SANDBOX_H
#define WGATE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The user the sandbox runs as: WGATE_USER, or nobody. */
#define SANDBOX_DEFAULT_USER "nobody"

/*
 * Enters the sandbox for good, in every thread of the process. Call as root
 * (it needs to change user and raise the memory-lock limit). False with a
 * sentence in err; then the process must not go on.
 */
bool sandbox_enter(const char *user, char *err, size_t err_len) __attribute__((warn_unused_result));
/* System calls refused so far, and the number of the last one (for the log). */
uint64_t sandbox_denied(int *last_syscall);
/* Whether all of the sandboxed process's memory is locked (see sandbox.c). */
bool sandbox_memory_locked(void);
/* Keeps the process out of core dumps and ptrace (for the monitor, which stays root). */
void sandbox_no_dumps(void);

#endif
