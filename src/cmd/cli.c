// SPDX-License-Identifier: MIT
/* Small helpers the subcommands share. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "host/clock.h"
#include "core/encoding.h"
#include "control/uapi.h"

int parse_run_options(const char *who, int argc, char **argv, void (*usage)(FILE *out),
		      bool *foreground, const char **metrics, const char **name)
{
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--foreground")) {
			*foreground = true;
		} else if (!strcmp(argv[i], "--metrics") && i + 1 < argc) {
			*metrics = argv[++i];
		} else if (!*name && argv[i][0] != '-') {
			*name = argv[i];
		} else {
			cli_error("%s: unexpected argument `%s'\n\n", who, argv[i]);
			usage(stderr);
			return 1;
		}
	}
	if (*name)
		return -1;
	usage(stderr);
	return 1;
}

void stdio_to_dev_null(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}

bool wants_help(int argc, char **argv)
{
	return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

bool interface_name_ok(const char *name, size_t len)
{
	char copy[IFNAMSIZ];

	if (len >= IFNAMSIZ)
		return false;
	memcpy(copy, name, len);
	copy[len] = '\0';
	return uapi_name_valid(copy);
}

int running_interface(const char *ifname, char config_path[4096])
{
	char pidpath[64];
	int pid = 0;
	FILE *f;

	run_file_path(pidpath, sizeof(pidpath), ifname, "pid");
	f = fopen(pidpath, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d %4095[^\n]", &pid, config_path) != 2 || pid <= 1)
		pid = 0;
	fclose(f);
	return pid;
}

const char *config_path_for(const char *arg, char *buf, unsigned long buf_len)
{
	if (interface_name_ok(arg, strlen(arg))) {
		snprintf(buf, buf_len, "/etc/wireguard/%s.conf", arg);
		return buf;
	}
	return arg;
}

bool config_for_reading(const char *arg, char path[4096], char ifname[IFNAMSIZ], bool *running)
{
	const char *base;
	size_t len;

	*running = !strchr(arg, '/') && uapi_name_valid(arg) && running_interface(arg, path);
	if (*running) {
		snprintf(ifname, IFNAMSIZ, "%s", arg);
		return true;
	}
	if (config_path_for(arg, path, 4096) != path)
		snprintf(path, 4096, "%s", arg);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".conf"))
		len -= 5;
	return interface_name_ok(base, len) && snprintf(ifname, IFNAMSIZ, "%.*s", (int)len, base);
}

void warn_if_world_accessible(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat file_st, dir_st;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	if (stat(path, &file_st) || stat(dir, &dir_st))
		return;
	if (file_st.st_mode & dir_st.st_mode & S_IRWXO)
		cli_error("Warning: `%s' is world accessible\n", path);
}

void cli_error(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact_keys(msg, sizeof(msg));
	fputs(msg, stderr);
}
