// SPDX-License-Identifier: MIT
/* A directory's changes, through inotify: see dirwatch.h. */
#include "host/dirwatch.h"

#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

int dirwatch_open(const char *path)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	if (inotify_add_watch(fd, path,
			      IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
				  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool dirwatch_changed(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	while (read(fd, buf, sizeof(buf)) > 0)
		changed = true;
	return changed;
}
