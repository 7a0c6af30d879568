/* SPDX-License-Identifier: MIT */
/*
 * The peer set in etcd (EtcdEndpoints): each key under the interface's
 * prefix holds a peer file's text ([Peer] sections). The monitor keeps a local
 * copy, one file per key in WGATE_STATE_DIR/IFNAME.etcd/ with the revision it
 * reflects, which the config loader reads as it reads PeerDirectory: so a
 * node serves its last known peer set while etcd is unreachable, and after a
 * restart. `wgate up' reads the whole prefix once; then a thread watches it
 * from the copy's revision + 1 (after a failure too: nothing is missed, and
 * nothing is applied twice), reading it whole again only when etcd compacted
 * that revision away. Each change to the copy is a reload (all or nothing).
 */
#ifndef WGATE_PEER_STORE_H
#define WGATE_PEER_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "host/etcd.h"

struct peer_store {
	struct etcd_options options; /* copies: the config may be reloaded */
	struct strv endpoints;
	char *password;
	char prefix[256], dir[4096];
	int64_t revision; /* that the copy reflects; 0: none yet */
	int notify_fd;	  /* an eventfd: the copy or the status changed */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* the status below, shared with the thread */
	bool reachable, copy_changed;
	int said; /* the reachability last logged: 1, 0, or -1 for none yet */
	int64_t shown_revision;
	char error[256];
};

/* From the config's Etcd* keys; false with a sentence in err. */
bool peer_store_init(struct peer_store *s, const struct config *config, const char *ifname,
		     char *err, size_t err_len);
void peer_store_free(struct peer_store *s);
/* Reads the whole prefix into the copy (blocking); 0, or -1 with err set (the copy kept). */
int peer_store_sync(struct peer_store *s, char *err, size_t err_len);
/* Starts the watch thread; false when it cannot. */
bool peer_store_start(struct peer_store *s);
/*
 * In the monitor, when notify_fd turned readable: whether the copy changed
 * (a reload is due); transitions of reachability are logged.
 */
bool peer_store_collect(struct peer_store *s);

/* For the commands: the key of a peer named name. */
void peer_store_key(const struct config *config, const char *ifname, const char *name, char *out,
		    size_t len);
/*
 * For the commands: writes key's text only when it is as read (absent when
 * mod_revision is 0, else last changed then), or deletes it (text NULL). 0
 * done; 1 not done (there already, changed since, or already gone); -1 etcd
 * unreachable or refusing; err says why.
 */
int peer_store_write(const struct config *config, const char *ifname, const char *key,
		     const char *text, int64_t mod_revision, char *err, size_t err_len);
/* For the commands: key's text as etcd has it now (the caller wipes and frees). 0, 1 absent, -1. */
int peer_store_read(const struct config *config, const char *ifname, const char *key, char **text,
		    int64_t *mod_revision, char *err, size_t err_len);

#endif
