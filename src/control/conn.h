/* SPDX-License-Identifier: MIT */
/*
 * Non-blocking stream connections for the control socket: an input buffer
 * filled as data arrives, an output buffer drained as the peer reads, so that
 * a slow client never stalls the event loop. A client is not read from while
 * an answer to it is pending (so it cannot queue answers without bound), and
 * not at all once it has closed its side; connections past their deadlines
 * are closed, and a full set gives up its longest-idle connection for a new
 * one, so hostile clients cannot lock the socket. Buffers are wiped when
 * released: the control protocol carries keys.
 */
#ifndef WGATE_CONN_H
#define WGATE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn {
	int fd;
	char *in; /* NUL-terminated after conn_read */
	size_t in_len, in_cap;
	size_t scanned; /* input already searched for a request's end */
	char *out;
	size_t out_len, out_done;
	bool in_closed;		 /* the client shut its side: answer, then close */
	bool broken;		 /* a send failed: the client is gone, close at once */
	uint64_t opened, active; /* monotonic ns: accepted, last read or written */
	long uid, pid;		 /* the client's (SO_PEERCRED), -1 when unknown */
	uint64_t serial;	 /* which connection it is (a slot and an fd are reused) */
	bool busy;		 /* its request is being carried out: not read, not answered */
};

enum {
	CONN_MAX = 64,
	CONN_IDLE_SECONDS = 10,	    /* nothing read or written for this long */
	CONN_LIFETIME_SECONDS = 60, /* a request and its answer take no longer */
};

struct conn_set {
	int listen_fd;
	struct conn conns[CONN_MAX];
	size_t len;
	uint64_t evicted, expired; /* connections closed to make room, or past a deadline */
	uint64_t serials;	   /* the last connection's serial */
};

enum conn_read_result { CONN_OPEN, CONN_EOF, CONN_ERROR };

/* Reads all that is available, keeping at most max bytes of unanswered input; EOF sets in_closed.
 */
enum conn_read_result conn_read(struct conn *c, size_t max, uint64_t now);
/* Appends text to the output; takes ownership of the malloc'ed text. */
void conn_queue(struct conn *c, char *text, size_t len);
/* Writes what it can; true while output remains. */
bool conn_flush(struct conn *c, uint64_t now);
/* Whether output is waiting for the client to read it. */
bool conn_pending(const struct conn *c);
/* Drops the first n bytes of input. */
void conn_consume(struct conn *c, size_t n);
/* The epoll events to wait for: input only when no answer is pending and the client may send. */
uint32_t conn_events(const struct conn *c);

/*
 * Accepts one pending connection, or NULL when none is waiting. A full set
 * first closes its longest-idle connection.
 */
struct conn *conn_accept(struct conn_set *set, uint64_t now);
struct conn *conn_find(struct conn_set *set, int fd);
void conn_close(struct conn_set *set, struct conn *c);
void conn_close_all(struct conn_set *set);
/* Closes the connections past CONN_IDLE_SECONDS or CONN_LIFETIME_SECONDS. */
void conn_expire(struct conn_set *set, uint64_t now);

#endif
