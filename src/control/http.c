// SPDX-License-Identifier: MIT
/* The daemon's HTTP servers: see http.h. */
#include "control/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/messages.h"

static bool unix_path_of(const char *address, const char **path)
{
	if (strncmp(address, UNIX_ADDRESS_PREFIX, strlen(UNIX_ADDRESS_PREFIX)))
		return false;
	*path = address + strlen(UNIX_ADDRESS_PREFIX);
	return true;
}

enum MHD_Result http_send_text(struct MHD_Connection *connection, unsigned status, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(connection, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **request_state)
{
	struct http_server *server = cls;

	(void)version, (void)upload_data;
	if (!*request_state) { /* headers in; answer once the (ignored) body is too */
		*request_state = server;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	return server->handle(server->ctx, connection, url, method);
}

/* Keeps the open connections with their start, for the lifetime deadline. */
static void track(void *cls, struct MHD_Connection *connection, void **socket_state,
		  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *server = cls;

	(void)socket_state;
	if (code == MHD_CONNECTION_NOTIFY_STARTED && server->conn_count < HTTP_CONNECTIONS) {
		server->conns[server->conn_count++] =
		    (struct http_connection){connection, server->clock()};
		return;
	}
	for (unsigned i = 0; code == MHD_CONNECTION_NOTIFY_CLOSED && i < server->conn_count; ++i) {
		if (server->conns[i].connection == connection) {
			server->conns[i] = server->conns[--server->conn_count];
			return;
		}
	}
}

/* A listening socket for address; -errno with err set. */
static int open_listener(struct http_server *server, const char *address, const char *what,
			 char *err, size_t err_len)
{
	union sockaddr_any addr;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *path;
	int fd, one = 1, saved;

	if (unix_path_of(address, &path)) {
		if (!listen_address_valid(address)) {
			snprintf(err, err_len, "%s address `%s' is not unix:/ABSOLUTE/PATH", what,
				 address);
			return -EINVAL;
		}
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			struct stat st;

			/* a socket left by a daemon that died; anything else is not ours to remove
			 */
			if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
				unlink(path);
			if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
				snprintf(server->unix_path, sizeof(server->unix_path), "%s", path);
				if (chmod(path, 0666) == 0 && listen(fd, 64) == 0)
					return fd;
			}
		}
	} else {
		if (!metrics_address_parse(address, &addr)) {
			snprintf(err, err_len, "%s address `%s' is not IP:port or unix:/PATH", what,
				 address);
			return -EINVAL;
		}
		fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/*
		 * Free binding: the address may be the tunnel's own, which exists only
		 * once the interface is up (after this), so Prometheus can scrape
		 * through the tunnel.
		 */
		if (fd >= 0)
			setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
		if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, &addr.sa, sockaddr_len(&addr)) == 0 && listen(fd, 64) == 0)
			return fd;
	}
	saved = errno;
	snprintf(err, err_len, "cannot serve %s on %s: %s", what, address, strerror(saved));
	if (fd >= 0)
		close(fd);
	if (*server->unix_path)
		unlink(server->unix_path);
	*server->unix_path = '\0';
	return -saved;
}

int http_listen(struct http_server *server, const char *address, const char *what,
		unsigned per_address, http_handler handle, void *ctx, uint64_t (*clock)(void),
		char *err, size_t err_len)
{
	int fd;

	memset(server, 0, sizeof(*server));
	fd = open_listener(server, address, what, err, err_len);
	if (fd < 0)
		return fd;
	server->handle = handle;
	server->ctx = ctx;
	server->clock = clock;
	server->httpd = MHD_start_daemon(
	    MHD_USE_EPOLL, 0, NULL, NULL, answer, server, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTP_IDLE_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_NOTIFY_CONNECTION, track, server, MHD_OPTION_END);
	if (!server->httpd) {
		snprintf(err, err_len, "cannot serve %s on %s: the HTTP server did not start", what,
			 address);
		close(fd);
		if (*server->unix_path)
			unlink(server->unix_path);
		return -EIO;
	}
	return 0;
}

int http_fd(const struct http_server *server)
{
	const union MHD_DaemonInfo *info;

	if (!server->httpd)
		return -1;
	info = MHD_get_daemon_info(server->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

void http_run(struct http_server *server, uint64_t now)
{
	if (!server->httpd)
		return;
	/* A connection past its lifetime is shut down; the server then sees it close. */
	for (unsigned i = 0; i < server->conn_count; ++i) {
		struct http_connection *c = &server->conns[i];
		const union MHD_ConnectionInfo *info;

		if (now - c->opened < (uint64_t)HTTP_LIFETIME_SECONDS * NSEC_PER_SEC)
			continue;
		info = MHD_get_connection_info(c->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info && info->connect_fd >= 0)
			shutdown(info->connect_fd, SHUT_RDWR);
		c->opened = UINT64_MAX / 2; /* once */
		++server->expired;
	}
	MHD_run(server->httpd);
}

long http_timeout_ms(const struct http_server *server)
{
	MHD_UNSIGNED_LONG_LONG ms;
	long wait;

	if (!server->httpd)
		return -1;
	wait = MHD_get_timeout(server->httpd, &ms) == MHD_YES ? (long)ms : -1;
	if (server->conn_count && (wait < 0 || wait > 1000))
		wait = 1000; /* the lifetime check */
	return wait;
}

bool http_add_connection(struct http_server *server, int fd)
{
	struct sockaddr_in from = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	return server->httpd && MHD_add_connection(server->httpd, fd, (struct sockaddr *)&from,
						   sizeof(from)) == MHD_YES;
}

void http_close(struct http_server *server)
{
	if (server->httpd)
		MHD_stop_daemon(server->httpd);
	server->httpd = NULL;
}

void http_unlink(struct http_server *server)
{
	if (*server->unix_path)
		unlink(server->unix_path);
	*server->unix_path = '\0';
}
