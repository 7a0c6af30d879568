// SPDX-License-Identifier: MIT
/* Buffered non-blocking connections, and the small fixed set a server keeps. */
#include "control/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/crypto.h"

static void release(char *buf, size_t len)
{
	if (buf)
		crypto_wipe(buf, len);
	free(buf);
}

enum conn_read_result conn_read(struct conn *c, size_t max, uint64_t now)
{
	for (;;) {
		ssize_t n;

		if (c->in_len + 4096 > c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			char *bigger = cap > max + 4096 ? NULL : malloc(cap);

			if (!bigger)
				return CONN_ERROR;
			if (c->in)
				memcpy(bigger, c->in, c->in_len);
			release(c->in, c->in_cap);
			c->in = bigger;
			c->in_cap = cap;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->active = now;
			continue;
		}
		c->in[c->in_len] = '\0';
		if (n == 0) {
			c->in_closed = true;
			return CONN_EOF;
		}
		return errno == EAGAIN || errno == EINTR ? CONN_OPEN : CONN_ERROR;
	}
}

void conn_queue(struct conn *c, char *text, size_t len)
{
	char *joined;

	if (c->out_done == c->out_len) {
		release(c->out, c->out_len);
		c->out = text;
		c->out_len = len;
		c->out_done = 0;
		return;
	}
	joined = malloc(c->out_len + len); /* not realloc: the old buffer is wiped first */
	if (joined) {
		memcpy(joined, c->out, c->out_len);
		memcpy(joined + c->out_len, text, len);
		release(c->out, c->out_len);
		c->out = joined;
		c->out_len += len;
	}
	release(text, len);
}

bool conn_flush(struct conn *c, uint64_t now)
{
	while (c->out_done < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_done, c->out_len - c->out_done, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			c->broken = true; /* the client is gone */
			return false;
		}
		c->out_done += (size_t)n;
		c->active = now;
	}
	return false;
}

bool conn_pending(const struct conn *c)
{
	return !c->broken && c->out_done < c->out_len;
}

uint32_t conn_events(const struct conn *c)
{
	if (conn_pending(c))
		return EPOLLOUT;
	return c->in_closed || c->busy ? 0 : EPOLLIN;
}

void conn_consume(struct conn *c, size_t n)
{
	crypto_wipe(c->in, n);
	memmove(c->in, c->in + n, c->in_len - n + 1);
	c->in_len -= n;
}

struct conn *conn_accept(struct conn_set *set, uint64_t now)
{
	int fd = accept4(set->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	if (fd < 0)
		return NULL;
	if (set->len == CONN_MAX) {
		struct conn *idlest = &set->conns[0];

		for (size_t i = 1; i < set->len; ++i)
			if (set->conns[i].active < idlest->active)
				idlest = &set->conns[i];
		conn_close(set, idlest);
		++set->evicted;
	}
	c = &set->conns[set->len++];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->opened = c->active = now;
	c->uid = c->pid = -1;
	c->serial = ++set->serials;
	{
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			c->uid = (long)cred.uid;
			c->pid = (long)cred.pid;
		}
	}
	return c;
}

struct conn *conn_find(struct conn_set *set, int fd)
{
	for (size_t i = 0; i < set->len; ++i)
		if (set->conns[i].fd == fd)
			return &set->conns[i];
	return NULL;
}

void conn_close(struct conn_set *set, struct conn *c)
{
	close(c->fd);
	release(c->in, c->in_cap);
	release(c->out, c->out_len);
	*c = set->conns[--set->len];
}

void conn_close_all(struct conn_set *set)
{
	while (set->len)
		conn_close(set, &set->conns[0]);
}

void conn_expire(struct conn_set *set, uint64_t now)
{
	for (size_t i = 0; i < set->len;) {
		struct conn *c = &set->conns[i];

		if (now - c->active > (uint64_t)CONN_IDLE_SECONDS * 1000000000u ||
		    now - c->opened > (uint64_t)CONN_LIFETIME_SECONDS * 1000000000u) {
			conn_close(set, c); /* the last one moves into slot i */
			++set->expired;
		} else {
			++i;
		}
	}
}
