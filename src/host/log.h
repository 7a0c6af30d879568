/* SPDX-License-Identifier: MIT */
/*
 * Logging: one event per line, as key=value pairs after a short message, to
 * stderr or (for a daemon in the background) syslog, or a file when syslog
 * is not there. LOG_LEVEL chooses the
 * verbosity: silent, error, info (the default) or verbose/debug. Keys are
 * never logged.
 */
#ifndef WGATE_LOG_H
#define WGATE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_SILENT, LOG_LEVEL_ERROR, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Where a daemon logs when no syslog listens at /dev/log: NAME.log, created 0600. */
#define LOG_FALLBACK_DIR "/var/log/wgate"

/*
 * Reads LOG_LEVEL; tag prefixes every line (the interface name). to_syslog:
 * a daemon in the background, which logs to syslog, or to the fallback file
 * when nothing listens at /dev/log (the first line there says so).
 */
void log_init(const char *tag, bool to_syslog);
/* Writes out what the fallback file buffers: the daemon calls it after each wake-up. */
void log_flush(void);
/* The fallback file in use, or NULL. */
const char *log_fallback_path(void);
bool log_enabled(enum log_level level);
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
