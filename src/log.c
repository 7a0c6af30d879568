// SPDX-License-Identifier: MIT
/* The daemon's log: stderr with a timestamp, or syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static enum log_level threshold = LOG_LEVEL_INFO;
static bool use_syslog;
static char tag[32] = "wgate";

void log_init(const char *name, bool to_syslog)
{
	const char *env = getenv("LOG_LEVEL");

	if (env) {
		if (!strcasecmp(env, "silent"))
			threshold = LOG_LEVEL_SILENT;
		else if (!strcasecmp(env, "error"))
			threshold = LOG_LEVEL_ERROR;
		else if (!strcasecmp(env, "verbose") || !strcasecmp(env, "debug"))
			threshold = LOG_LEVEL_DEBUG;
		else
			threshold = LOG_LEVEL_INFO;
	}
	snprintf(tag, sizeof(tag), "wgate[%s]", name);
	use_syslog = to_syslog;
	if (use_syslog)
		openlog(tag, LOG_PID, LOG_DAEMON);
}

bool log_enabled(enum log_level level)
{
	return level <= threshold && level != LOG_LEVEL_SILENT;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(level == LOG_LEVEL_ERROR  ? LOG_ERR
			: level == LOG_LEVEL_INFO ? LOG_INFO
						  : LOG_DEBUG,
			fmt, ap);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s %s: ", when, ts.tv_nsec / 1000000, tag,
			level == LOG_LEVEL_ERROR  ? "error"
			: level == LOG_LEVEL_INFO ? "info"
						  : "debug");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
