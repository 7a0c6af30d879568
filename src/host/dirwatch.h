/* SPDX-License-Identifier: MIT */
/*
 * Watching a directory for changes to the files in it (inotify): files
 * written, created, removed, renamed in or out, and a Kubernetes volume's
 * "..data" link swapped. The caller reads the directory again; the events
 * themselves say nothing it needs.
 */
#ifndef WGATE_DIRWATCH_H
#define WGATE_DIRWATCH_H

#include <stdbool.h>

/* A descriptor that turns readable on a change in path; -1 with errno set. */
int dirwatch_open(const char *path);
/* Reads what is pending; true when something changed. */
bool dirwatch_changed(int fd);

#endif
