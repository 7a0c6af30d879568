/* SPDX-License-Identifier: MIT */
/*
 * Non-blocking stream connections for the daemon's small servers (the
 * control socket, the metrics endpoint): an input buffer filled as data
 * arrives, an output buffer drained as the peer reads, so that a slow client
 * never stalls the event loop. Buffers are wiped when released: the control
 * protocol carries keys.
 */
#ifndef WGATE_CONN_H
#define WGATE_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct conn {
	int fd;
	char *in; /* NUL-terminated after conn_read */
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_done;
};

struct conn_set {
	int listen_fd;
	struct conn conns[16];
	size_t len;
};

enum conn_read_result { CONN_OPEN, CONN_EOF, CONN_ERROR };

/* Reads all that is available, keeping at most max bytes of unanswered input. */
enum conn_read_result conn_read(struct conn *c, size_t max);
/* Appends text to the output; takes ownership of the malloc'ed text. */
void conn_queue(struct conn *c, char *text, size_t len);
/* Writes what it can; true while output remains. */
bool conn_flush(struct conn *c);
/* Drops the first n bytes of input. */
void conn_consume(struct conn *c, size_t n);

/* Accepts one pending connection, or NULL (none waiting, or the set is full). */
struct conn *conn_accept(struct conn_set *set);
struct conn *conn_find(struct conn_set *set, int fd);
void conn_close(struct conn_set *set, struct conn *c);
void conn_close_all(struct conn_set *set);

#endif
