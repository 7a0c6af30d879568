// SPDX-License-Identifier: MIT
/* The daemon's log: stderr with a timestamp, syslog, or a file when there is no syslog. */
#include "host/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum log_level threshold = LOG_LEVEL_INFO;
static bool use_syslog;
static FILE *out; /* stderr, or the fallback file (NULL: stderr) */
static char tag[32] = "wgate";
static char fallback_path[128];

/* Whether a syslog daemon (or journald) takes messages at /dev/log. */
static bool syslog_listening(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Without syslog, a file of our own, so that no line is lost: LOG_FALLBACK_DIR/NAME.log. */
static FILE *open_fallback(const char *name)
{
	int fd;

	mkdir(LOG_FALLBACK_DIR, 0750);
	snprintf(fallback_path, sizeof(fallback_path), LOG_FALLBACK_DIR "/%s.log", name);
	fd = open(fallback_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? NULL : fdopen(fd, "a");
}

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
	out = stderr;
	use_syslog = to_syslog && syslog_listening();
	if (use_syslog) {
		openlog(tag, LOG_PID | LOG_NDELAY, LOG_DAEMON); /* connected once, now */
	} else if (to_syslog) {
		out = open_fallback(name);
		if (out) /* written out by log_flush() after each batch of work */
			setvbuf(out, NULL, _IOFBF, 1 << 16);
		log_info("event=log_fallback msg=\"no syslog at /dev/log; logging to %s\"",
			 out ? fallback_path : "standard error");
	}
}

void log_flush(void)
{
	if (out)
		fflush(out);
}

const char *log_fallback_path(void)
{
	return !use_syslog && out && out != stderr ? fallback_path : NULL;
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
		/* each second's text made once per thread: a set of 100k peers logs 100k lines */
		static _Thread_local time_t when_sec = -1;
		static _Thread_local char when[32];
		FILE *f = out ? out : stderr;
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (ts.tv_sec != when_sec) {
			struct tm tm;

			gmtime_r(&ts.tv_sec, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
			when_sec = ts.tv_sec;
		}
		fprintf(f, "%s.%03ldZ %s %s: ", when, ts.tv_nsec / 1000000, tag,
			level == LOG_LEVEL_ERROR  ? "error"
			: level == LOG_LEVEL_INFO ? "info"
						  : "debug");
		vfprintf(f, fmt, ap);
		fputc('\n', f);
	}
	va_end(ap);
}
