/* SPDX-License-Identifier: MIT */
/*
 * The HTTP servers inside the daemon's event loop (metrics, identity): a
 * libmicrohttpd daemon whose epoll fd joins the loop's (no thread), on a TCP
 * address or a unix socket, with the limits that keep hostile clients from
 * locking others out: connections in total and per address, an idle timeout,
 * a lifetime, and a bounded memory per connection.
 */
#ifndef WGATE_HTTP_H
#define WGATE_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	HTTP_CONNECTIONS = 64,
	HTTP_IDLE_SECONDS = 10,
	HTTP_LIFETIME_SECONDS = 30,
};

struct http_connection {
	struct MHD_Connection *connection;
	uint64_t opened;
};

/*
 * Answers one request once its headers (and any body, ignored) are in: url,
 * method, and the connection for headers and the reply.
 */
typedef enum MHD_Result (*http_handler)(void *ctx, struct MHD_Connection *connection,
					const char *url, const char *method);

struct http_server {
	struct MHD_Daemon *httpd; /* NULL when off */
	http_handler handle;
	void *ctx;
	uint64_t (*clock)(void);
	char unix_path[108]; /* the socket file to remove at close, or "" */
	struct http_connection conns[HTTP_CONNECTIONS];
	unsigned conn_count;
	uint64_t expired; /* connections shut down at the end of their lifetime */
};

/*
 * Listens on address (listen_address_valid: "IP:port" or "unix:/PATH"),
 * allowing per_address of the HTTP_CONNECTIONS to one client address; 0 or a
 * negative errno with a sentence in err naming what (for messages: "metrics",
 * "the identity endpoint"). A unix socket is created mode 0666 (who may
 * connect is the directory's business); an old socket file at the path is
 * replaced. clock gives monotonic ns.
 */
int http_listen(struct http_server *server, const char *address, const char *what,
		unsigned per_address, http_handler handle, void *ctx, uint64_t (*clock)(void),
		char *err, size_t err_len);
/* The fd to watch for input (-1 when off); call http_run() when it is ready. */
int http_fd(const struct http_server *server);
/* Serves what is ready and shuts down connections past their lifetime. */
void http_run(struct http_server *server, uint64_t now);
/* Milliseconds until http_run() is due without input, or -1 for none. */
long http_timeout_ms(const struct http_server *server);
/* Serves one connection already accepted (fuzzing, tests): the server takes fd. */
bool http_add_connection(struct http_server *server, int fd);
/* Stops serving; a unix socket's file stays (the process that serves may not own it). */
void http_close(struct http_server *server);
/* Removes the unix socket's file, if any. */
void http_unlink(struct http_server *server);

/* A plain-text reply (text must outlive the call: it is copied). */
enum MHD_Result http_send_text(struct MHD_Connection *connection, unsigned status,
			       const char *text);

#endif
