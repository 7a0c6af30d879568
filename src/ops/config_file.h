/* SPDX-License-Identifier: MIT */
/*
 * A config file as commands change it: one command at a time (a lock file
 * beside it), the new text written whole to a temporary file, synced and
 * renamed over the old one, mode 0600, the previous version kept as
 * PATH.bak; the file is never seen half-written and a failure leaves it as
 * it was.
 */
#ifndef WGATE_CONFIG_FILE_H
#define WGATE_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Takes PATH.lock (waiting for another command's); the fd to pass to unlock, or -1 with err. */
int config_file_lock(const char *path, char *err, size_t err_len);
/* The same without waiting: -1 when another command holds it. */
int config_file_try_lock(const char *path, char *err, size_t err_len);
void config_file_unlock(int fd);
/* Replaces path's content with text (backup first); false with err, the file unchanged. */
bool config_file_replace(const char *path, const char *text, size_t len, char *err, size_t err_len);
/* Puts PATH.bak back (after a step that failed once the file was replaced). */
bool config_file_restore(const char *path, char *err, size_t err_len);

#endif
