/* SPDX-License-Identifier: MIT */
/*
 * A small client of etcd's v3 API through its JSON gateway (POST /v3/...,
 * keys and values in base64, libcurl for HTTP and TLS): range, put, delete
 * and a watch stream, over a list of cluster members tried in turn, with
 * client certificates or a user and password. Blocking: for a thread of its
 * own or a command.
 */
#ifndef WGATE_ETCD_H
#define WGATE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd_options {
	char **endpoints; /* "http(s)://host:port", at least one */
	size_t endpoints_len;
	const char *ca_file, *cert_file, *key_file; /* NULL: none */
	const char *user, *password;		    /* NULL: no authentication */
	long timeout_ms;			    /* for one request (not a watch); 0: 5000 */
};

struct etcd_client {
	struct etcd_options options;
	size_t current; /* the member asked first */
	char *token;	/* after authentication */
	void *curl;
};

struct etcd_kv {
	char *key, *value; /* decoded; value NUL-terminated (values are text) */
	size_t value_len;
	int64_t mod_revision;
};

struct etcd_event {
	bool deleted;
	struct etcd_kv kv;
};

/* The options are kept by pointer: they must outlive the client. False when out of memory. */
bool etcd_init(struct etcd_client *c, const struct etcd_options *options);
void etcd_free(struct etcd_client *c);

/*
 * Every key under prefix, and the store's revision; 0 or -1 with a sentence
 * in err (every member tried).
 */
int etcd_range(struct etcd_client *c, const char *prefix, struct etcd_kv **kvs, size_t *len,
	       int64_t *revision, char *err, size_t err_len);
void etcd_kvs_free(struct etcd_kv *kvs, size_t len);
int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t len, char *err,
	     size_t err_len);
/* Puts key only when it does not exist (a transaction); *created says whether it did. */
int etcd_create(struct etcd_client *c, const char *key, const char *value, size_t len,
		bool *created, char *err, size_t err_len);
/* Deletes key; *deleted says whether it was there. */
int etcd_delete(struct etcd_client *c, const char *key, bool *deleted, char *err, size_t err_len);

enum etcd_watch_end {
	ETCD_WATCH_ERROR,     /* the member went away or refused: try again (err says why) */
	ETCD_WATCH_COMPACTED, /* start_revision is gone: read everything again */
	ETCD_WATCH_STOPPED,   /* on_events returned false */
	ETCD_WATCH_RENEW      /* it ran ETCD_WATCH_RENEW_MS: watch again from the next revision */
};
enum { ETCD_WATCH_RENEW_MS = 10000 };

/*
 * Watches the keys under prefix from start_revision, calling on_events for
 * each batch (with the revision it brings the store to; no events when the
 * watch was created) until the stream ends. Blocks.
 */
enum etcd_watch_end etcd_watch(struct etcd_client *c, const char *prefix, int64_t start_revision,
			       bool (*on_events)(void *ctx, const struct etcd_event *events,
						 size_t len, int64_t revision),
			       void *ctx, char *err, size_t err_len);

#endif
