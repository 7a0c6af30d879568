// SPDX-License-Identifier: MIT
/* The peer set in etcd, and its local copy: see peer_store.h. */
#include "ops/peer_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "host/log.h"

void peer_store_key(const struct config *config, const char *ifname, const char *name, char *out,
		    size_t len)
{
	char prefix[256];

	snprintf(out, len, "%s%s", config_etcd_prefix(config, ifname, prefix, sizeof(prefix)),
		 name);
}

bool peer_store_init(struct peer_store *s, const struct config *config, const char *ifname,
		     char *err, size_t err_len)
{
	char state[4096];

	memset(s, 0, sizeof(*s));
	s->notify_fd = -1;
	s->said = -1;
	pthread_mutex_init(&s->lock, NULL);
	for (size_t i = 0; i < config->etcd.endpoints.len; ++i)
		if (!strv_push(&s->endpoints, config->etcd.endpoints.v[i]))
			goto oom;
	s->options = (struct etcd_options){.endpoints = s->endpoints.v,
					   .endpoints_len = s->endpoints.len,
					   .ca_file = config->etcd.ca_file,
					   .cert_file = config->etcd.cert_file,
					   .key_file = config->etcd.key_file,
					   .user = config->etcd.user};
	/* the paths are kept as copies too: the config they came from may go */
	if ((s->options.ca_file && !(s->options.ca_file = strdup(s->options.ca_file))) ||
	    (s->options.cert_file && !(s->options.cert_file = strdup(s->options.cert_file))) ||
	    (s->options.key_file && !(s->options.key_file = strdup(s->options.key_file))) ||
	    (s->options.user && !(s->options.user = strdup(s->options.user))))
		goto oom;
	if (config->etcd.password_file) {
		size_t len;

		s->password = read_file(config->etcd.password_file, 4096, &len, err, err_len);
		if (!s->password)
			return false;
		while (len && (s->password[len - 1] == '\n' || s->password[len - 1] == '\r'))
			s->password[--len] = '\0';
		s->options.password = s->password;
	}
	if (s->options.user && !s->options.password) {
		snprintf(err, err_len, "EtcdUser needs EtcdPasswordFile");
		return false;
	}
	config_etcd_prefix(config, ifname, s->prefix, sizeof(s->prefix));
	config_state_path(s->dir, sizeof(s->dir), ifname, ".etcd");
	config_state_path(state, sizeof(state), "", "");
	mkdir(state, 0755);
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, err_len, "cannot create %s: %s", s->dir, strerror(errno));
		return false;
	}
	{
		char path[4200];
		FILE *f;

		snprintf(path, sizeof(path), "%s/revision", s->dir);
		f = fopen(path, "re");
		if (f) {
			long long r = 0;

			if (fscanf(f, "%lld", &r) == 1 && r > 0)
				s->revision = r;
			fclose(f);
		}
	}
	s->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->notify_fd < 0) {
		snprintf(err, err_len, "eventfd: %s", strerror(errno));
		return false;
	}
	return true;
oom:
	snprintf(err, err_len, "out of memory");
	return false;
}

void peer_store_free(struct peer_store *s)
{
	if (s->running) {
		pthread_detach(s->thread); /* blocked in a watch: it ends with the process */
		return;
	}
	strv_free(&s->endpoints);
	free((char *)s->options.ca_file);
	free((char *)s->options.cert_file);
	free((char *)s->options.key_file);
	free((char *)s->options.user);
	if (s->password) {
		crypto_wipe(s->password, strlen(s->password));
		free(s->password);
	}
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	s->notify_fd = -1;
}

/* The copy's file for a key: NAME.conf for a plain name after the prefix, else x-HEX.conf. */
static bool file_of(const struct peer_store *s, const char *key, char *out, size_t len)
{
	size_t plen = strlen(s->prefix), n;
	const char *name = key + plen;

	if (strncmp(key, s->prefix, plen) || !*name)
		return false;
	n = strlen(name);
	if (n <= 100 && name[0] != '.' && name[0] != 'x' &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n)
		return (size_t)snprintf(out, len, "%s/%s.conf", s->dir, name) < len;
	if (n > 120)
		return false;
	{
		char hex[241];

		for (size_t i = 0; i < n; ++i)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)name[i]);
		return (size_t)snprintf(out, len, "%s/x-%s.conf", s->dir, hex) < len;
	}
}

/* Writes text to path whole (0600, a temporary file renamed over it); false on failure. */
static bool write_whole(const char *path, const char *text, size_t len)
{
	char tmp[4300];
	int fd;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	if (ok)
		ok = rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	return ok;
}

/* The file's text is already value: nothing to write (a watch resumed from an older revision). */
static bool same_text(const char *path, const char *value, size_t len)
{
	char err[64], *text;
	size_t have;
	bool same;

	text = read_file(path, 16u << 20, &have, err, sizeof(err));
	if (!text)
		return false;
	same = have == len && !memcmp(text, value, len);
	crypto_wipe(text, have);
	free(text);
	return same;
}

static bool save_revision(struct peer_store *s, int64_t revision)
{
	char path[4200], text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)revision);

	snprintf(path, sizeof(path), "%s/revision", s->dir);
	s->revision = revision;
	return write_whole(path, text, (size_t)n);
}

static void set_status(struct peer_store *s, bool reachable, const char *error, bool changed)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	s->reachable = reachable;
	s->shown_revision = s->revision;
	if (error)
		snprintf(s->error, sizeof(s->error), "%s", error);
	s->copy_changed |= changed;
	pthread_mutex_unlock(&s->lock);
	if (write(s->notify_fd, &one, sizeof(one)) != sizeof(one))
		return; /* the counter is far from full: cannot happen */
}

/* One key's value into the copy; true when the copy changed. */
static bool put_file(struct peer_store *s, const struct etcd_kv *kv)
{
	char path[4200];

	if (!file_of(s, kv->key, path, sizeof(path)) || same_text(path, kv->value, kv->value_len))
		return false;
	return write_whole(path, kv->value, kv->value_len);
}

static bool remove_file(struct peer_store *s, const char *key)
{
	char path[4200];

	return file_of(s, key, path, sizeof(path)) && unlink(path) == 0;
}

/* Makes the copy the range's keys exactly; true when it changed. */
static bool replace_copy(struct peer_store *s, const struct etcd_kv *kvs, size_t n)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	bool changed = false;

	for (size_t i = 0; i < n; ++i)
		changed |= put_file(s, &kvs[i]);
	while (d && (e = readdir(d))) {
		char path[4200];
		size_t len = strlen(e->d_name);
		bool keep = false;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".conf"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
		for (size_t i = 0; !keep && i < n; ++i) {
			char mine[4200];

			keep = file_of(s, kvs[i].key, mine, sizeof(mine)) && !strcmp(mine, path);
		}
		if (!keep && unlink(path) == 0)
			changed = true;
	}
	if (d)
		closedir(d);
	return changed;
}

int peer_store_sync(struct peer_store *s, char *err, size_t err_len)
{
	struct etcd_client c;
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	int64_t revision = 0;
	int ret;

	if (!etcd_init(&c, &s->options)) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	ret = etcd_range(&c, s->prefix, &kvs, &n, &revision, err, err_len);
	if (ret == 0) {
		replace_copy(s, kvs, n);
		save_revision(s, revision);
	}
	etcd_kvs_free(kvs, n);
	etcd_free(&c);
	return ret;
}

static bool on_events(void *ctx, const struct etcd_event *events, size_t n, int64_t revision)
{
	struct peer_store *s = ctx;
	bool changed = false;

	for (size_t i = 0; i < n; ++i)
		changed |= events[i].deleted ? remove_file(s, events[i].kv.key)
					     : put_file(s, &events[i].kv);
	if (revision > s->revision)
		save_revision(s, revision);
	set_status(s, true, NULL, changed);
	return true;
}

static void *watch_loop(void *arg)
{
	struct peer_store *s = arg;
	struct etcd_client c;
	unsigned wait = 1;

	if (!etcd_init(&c, &s->options))
		return NULL;
	for (;;) {
		char err[256] = "";

		if (!s->revision) { /* never read, or compacted away: everything again */
			struct etcd_kv *kvs = NULL;
			size_t n = 0;
			int64_t revision = 0;

			if (etcd_range(&c, s->prefix, &kvs, &n, &revision, err, sizeof(err)) == 0) {
				bool changed = replace_copy(s, kvs, n);

				save_revision(s, revision);
				set_status(s, true, NULL, changed);
				wait = 1;
			}
			etcd_kvs_free(kvs, n);
		}
		if (s->revision) {
			enum etcd_watch_end end = etcd_watch(&c, s->prefix, s->revision + 1,
							     on_events, s, err, sizeof(err));

			if (end == ETCD_WATCH_COMPACTED) {
				s->revision = 0;
				continue;
			}
			if (end == ETCD_WATCH_RENEW)
				continue;
		}
		set_status(s, false, err, false);
		sleep(wait);
		if (wait < 4)
			wait *= 2;
	}
	return NULL;
}

int peer_store_read(const struct config *config, const char *ifname, const char *key, char **text,
		    int64_t *mod_revision, char *err, size_t err_len)
{
	struct peer_store s;
	struct etcd_client c;
	struct etcd_kv *kv = NULL;
	int ret = -1;

	*text = NULL;
	if (peer_store_init(&s, config, ifname, err, err_len) && etcd_init(&c, &s.options)) {
		ret = etcd_get(&c, key, &kv, err, err_len);
		if (ret == 1)
			snprintf(err, err_len, "etcd has no `%s' (another node removed it)", key);
		if (kv) {
			*text = kv->value; /* the caller's now */
			kv->value = NULL;
			*mod_revision = kv->mod_revision;
			etcd_kvs_free(kv, 1);
		}
		etcd_free(&c);
	}
	peer_store_free(&s);
	return ret;
}

int peer_store_write(const struct config *config, const char *ifname, const char *key,
		     const char *text, int64_t mod_revision, char *err, size_t err_len)
{
	struct peer_store s;
	struct etcd_client c;
	bool done = false;
	int ret = -1;

	if (!peer_store_init(&s, config, ifname, err, err_len)) {
		peer_store_free(&s);
		return -1;
	}
	if (etcd_init(&c, &s.options)) {
		ret = text ? etcd_put_if(&c, key, text, strlen(text), mod_revision, &done, err,
					 err_len)
			   : etcd_delete(&c, key, &done, err, err_len);
		if (!ret && !done) {
			snprintf(err, err_len,
				 !text		? "etcd has no `%s' (another node removed it)"
				 : mod_revision ? "`%s' changed in etcd since it was read (another "
						  "node changed it): try again"
						: "etcd already has `%s' (another node added it)",
				 key);
			ret = 1;
		}
		etcd_free(&c);
	} else {
		snprintf(err, err_len, "out of memory");
	}
	peer_store_free(&s);
	return ret;
}

bool peer_store_start(struct peer_store *s)
{
	s->running = pthread_create(&s->thread, NULL, watch_loop, s) == 0;
	return s->running;
}

bool peer_store_collect(struct peer_store *s)
{
	uint64_t count;
	bool changed, reachable;
	int said;
	long long revision;
	char error[256];

	if (read(s->notify_fd, &count, sizeof(count)) != sizeof(count))
		return false;
	pthread_mutex_lock(&s->lock);
	changed = s->copy_changed;
	s->copy_changed = false;
	reachable = s->reachable;
	said = s->said;
	s->said = reachable;
	revision = (long long)s->shown_revision;
	memcpy(error, s->error, sizeof(error));
	pthread_mutex_unlock(&s->lock);
	if (reachable && said != 1)
		log_info("event=etcd_connected prefix=%s revision=%lld", s->prefix, revision);
	else if (!reachable && said != 0)
		log_error(
		    "event=etcd_unreachable prefix=%s revision=%lld error=\"%s\" msg=\"the last "
		    "known peer set keeps serving\"",
		    s->prefix, revision, error);
	return changed;
}
