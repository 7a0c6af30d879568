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
/* One key: 0 with *kv (the caller frees it, etcd_kvs_free(*kv, 1)), 1 when absent, -1. */
int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv **kv, char *err,
	     size_t err_len);
/*
 * Puts key only when it is as read (a transaction): absent when mod_revision
 * is 0, else last changed at mod_revision; *done says whether it was.
 */
int etcd_put_if(struct etcd_client *c, const char *key, const char *value, size_t len,
		int64_t mod_revision, bool *done, char *err, size_t err_len);
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

/*
 * The parsers, for the fuzz harnesses as much as for the client: a range
 * answer's text, and a watch stream fed in pieces as it arrives (on_events
 * per batch; false when the stream ends, s->end saying why).
 */
int etcd_range_parse(const char *text, struct etcd_kv **kvs, size_t *len, int64_t *revision,
		     char *err, size_t err_len);

struct etcd_stream {
	void *tok; /* json-c's tokener */
	bool (*on_events)(void *ctx, const struct etcd_event *events, size_t len,
			  int64_t revision);
	void *ctx;
	enum etcd_watch_end end;
	bool created; /* the member answered */
	char *err;
	size_t err_len;
};
bool etcd_stream_init(struct etcd_stream *s,
		      bool (*on_events)(void *ctx, const struct etcd_event *events, size_t len,
					int64_t revision),
		      void *ctx, char *err, size_t err_len);
bool etcd_stream_feed(struct etcd_stream *s, const char *data, size_t len);
void etcd_stream_free(struct etcd_stream *s);

#endif
