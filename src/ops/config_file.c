// SPDX-License-Identifier: MIT
/* A config file replaced safely: see config_file.h. */
#include "ops/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool sibling(char *out, size_t len, const char *path, const char *suffix)
{
	return snprintf(out, len, "%s%s", path, suffix) < (int)len;
}

static int lock_file(const char *path, int how, char *err, size_t err_len)
{
	char lock[4200];
	int fd;

	if (!sibling(lock, sizeof(lock), path, ".lock")) {
		snprintf(err, err_len, "%s: the path is too long", path);
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, how) < 0) {
		snprintf(err, err_len, "cannot lock %s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int config_file_lock(const char *path, char *err, size_t err_len)
{
	return lock_file(path, LOCK_EX, err, err_len);
}

int config_file_try_lock(const char *path, char *err, size_t err_len)
{
	return lock_file(path, LOCK_EX | LOCK_NB, err, err_len);
}

void config_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the lock */
}

/* Writes text to a new file at path (0600), synced; false with errno set. */
static bool write_new(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600), saved;
	size_t done = 0;

	if (fd < 0)
		return false;
	if (fchmod(fd, 0600) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	return close(fd) == 0;
fail:
	saved = errno;
	close(fd);
	unlink(path);
	errno = saved;
	return false;
}

/* Syncs the directory holding path, so a rename survives a crash. */
static void sync_directory(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
		 slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Copies path's current content to PATH.bak (0600). */
static bool backup(const char *path, char *err, size_t err_len)
{
	char bak[4200], buf[65536];
	FILE *in = fopen(path, "re");
	int fd;
	size_t n;
	bool ok = true;

	if (!in)
		return errno == ENOENT; /* nothing to keep */
	if (!sibling(bak, sizeof(bak), path, ".bak") ||
	    (fd = open(bak, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		snprintf(err, err_len, "cannot write %s.bak: %s", path, strerror(errno));
		fclose(in);
		return false;
	}
	fchmod(fd, 0600);
	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = write(fd, buf, n) == (ssize_t)n;
	ok = ok && !ferror(in) && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = false;
	fclose(in);
	explicit_bzero(buf, sizeof(buf)); /* the config holds keys */
	if (!ok)
		snprintf(err, err_len, "cannot write %s: %s", bak, strerror(errno));
	return ok;
}

bool config_file_replace(const char *path, const char *text, size_t len, char *err, size_t err_len)
{
	char tmp[4200];

	if (!sibling(tmp, sizeof(tmp), path, ".wgate-tmp")) {
		snprintf(err, err_len, "%s: the path is too long", path);
		return false;
	}
	if (!backup(path, err, err_len))
		return false;
	if (!write_new(tmp, text, len) || rename(tmp, path) < 0) {
		snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	sync_directory(path);
	return true;
}

bool config_file_restore(const char *path, char *err, size_t err_len)
{
	char bak[4200];

	if (!sibling(bak, sizeof(bak), path, ".bak") || rename(bak, path) < 0) {
		snprintf(err, err_len, "cannot put back %s.bak: %s", path, strerror(errno));
		return false;
	}
	sync_directory(path);
	return true;
}
