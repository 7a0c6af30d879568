// SPDX-License-Identifier: MIT
/*
 * Reload: the running interface follows its config file again. Unlike
 * `wg syncconf', which handles peers only, this also applies Address, MTU,
 * routes and DNS. A peer whose key, preshared key and endpoint did not change
 * keeps its session; its AllowedIPs are brought in line one prefix at a time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon.h"
#include "hashindex.h"
#include "log.h"
#include "netlink.h"

/*
 * A config's peers by public key and its AllowedIPs by (peer, prefix) and by
 * prefix alone, so that a reload of 100k peers diffs in linear time.
 */
struct prefix_item {
	uint32_t peer; /* position in the config's peers */
	uint8_t family, cidr;
	uint8_t addr[16];
} __attribute__((packed));

struct config_index {
	const struct config *config;
	struct hash_index peers, by_peer_prefix, by_prefix;
	struct prefix_item *prefixes;
};

static const void *peer_key_of(const void *items, size_t pos)
{
	return ((const struct peer_config *)items)[pos].public_key;
}

static const void *peer_prefix_of(const void *items, size_t pos)
{
	return &((const struct prefix_item *)items)[pos];
}

static const void *prefix_of(const void *items, size_t pos)
{
	return &((const struct prefix_item *)items)[pos].family;
}

static struct prefix_item item_of(uint32_t peer, const struct ip_prefix *p)
{
	struct prefix_item it = {.peer = peer, .family = (uint8_t)p->family, .cidr = p->cidr};

	memcpy(it.addr, &p->addr, p->family == AF_INET ? 4 : 16);
	return it;
}

static void index_free(struct config_index *x)
{
	hash_index_free(&x->peers);
	hash_index_free(&x->by_peer_prefix);
	hash_index_free(&x->by_prefix);
	free(x->prefixes);
	x->prefixes = NULL;
}

static bool index_build(struct config_index *x, const struct config *c)
{
	size_t total = 0, n = 0, found;

	memset(x, 0, sizeof(*x));
	x->config = c;
	for (size_t i = 0; i < c->peers_len; ++i)
		total += c->peers[i].allowed_ips_len;
	x->prefixes = calloc(total ? total : 1, sizeof(*x->prefixes));
	if (!x->prefixes ||
	    !hash_index_init(&x->peers, c->peers_len, KEY_LEN, peer_key_of, c->peers) ||
	    !hash_index_init(&x->by_peer_prefix, total, sizeof(struct prefix_item), peer_prefix_of,
			     x->prefixes) ||
	    !hash_index_init(&x->by_prefix, total, sizeof(struct prefix_item) - 4, prefix_of,
			     x->prefixes))
		goto fail;
	for (size_t i = 0; i < c->peers_len; ++i) {
		if (!hash_index_add(&x->peers, i, &found))
			goto fail;
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j) {
			x->prefixes[n] = item_of((uint32_t)i, &c->peers[i].allowed_ips[j]);
			if (!hash_index_add(&x->by_peer_prefix, n, &found) ||
			    !hash_index_add(&x->by_prefix, n, &found))
				goto fail;
			++n;
		}
	}
	return true;
fail:
	index_free(x);
	return false;
}

static const struct peer_config *find_config_peer(const struct config_index *x,
						  const uint8_t key[KEY_LEN])
{
	size_t i = hash_index_find(&x->peers, key);

	return i == HASH_INDEX_NONE ? NULL : &x->config->peers[i];
}

/* Whether the config gives peer pc the prefix. */
static bool peer_has_prefix(const struct config_index *x, const struct peer_config *pc,
			    const struct ip_prefix *p)
{
	struct prefix_item it = item_of((uint32_t)(pc - x->config->peers), p);

	return hash_index_find(&x->by_peer_prefix, &it) != HASH_INDEX_NONE;
}

/* Whether any peer of the config has the prefix (so it is routed). */
static bool routes_contain(const struct config_index *x, const struct ip_prefix *p)
{
	struct prefix_item it = item_of(0, p);

	return hash_index_find(&x->by_prefix, &it.family) != HASH_INDEX_NONE;
}

static bool same_prefix(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16);
}

static bool has_prefix(const struct ip_prefix *list, size_t len, const struct ip_prefix *p)
{
	for (size_t i = 0; i < len; ++i)
		if (same_prefix(&list[i], p))
			return true;
	return false;
}

static bool same_endpoint(const struct endpoint *a, const struct endpoint *b)
{
	if (!a->host || !b->host)
		return !a->host && !b->host;
	return a->port == b->port && !strcmp(a->host, b->host);
}

/* What a reload could not apply, for the report and the command's answer. */
struct shortfall {
	char text[512];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void fell_short(struct shortfall *s, const char *fmt,
							      ...)
{
	va_list ap;
	int n;

	if (s->len + 3 >= sizeof(s->text))
		return;
	if (s->len)
		s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "; ");
	va_start(ap, fmt);
	n = vsnprintf(s->text + s->len, sizeof(s->text) - s->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n < sizeof(s->text) - s->len ? (size_t)n : sizeof(s->text) - s->len - 1;
	log_error("event=reload_warning msg=\"%s\"", s->text);
}

/*
 * Brings one device peer in line with its new config, compared with what
 * runs (a preshared key or keepalive set with `wg set' is replaced too);
 * logs what changed. old is the peer's previous config, or NULL.
 */
static bool update_peer(struct daemon *d, struct peer *peer, const struct config_index *oldx,
			const struct peer_config *old, const struct config_index *newx,
			const struct peer_config *new, uint64_t now)
{
	char name[KEY_BASE64_LEN + 1], text[64];
	struct ip_prefix gone[64];
	size_t gone_len;
	int family;
	uint8_t addr[16], cidr;

	key_to_base64(name, new->public_key);
	if (peer->has_preshared_key != new->has_preshared_key ||
	    (new->has_preshared_key &&
	     !crypto_equal(peer->handshake.preshared_key, new->preshared_key, KEY_LEN))) {
		peer_set_preshared_key(peer, new->has_preshared_key ? new->preshared_key : NULL);
		log_info("event=audit via=reload action=peer_changed peer=%s fields=preshared_key",
			 name);
	}
	if (new->endpoint.addr.sa.sa_family != AF_UNSPEC &&
	    (!old || !same_endpoint(&old->endpoint, &new->endpoint))) {
		peer_set_endpoint(peer, &new->endpoint.addr);
		if (old)
			log_info(
			    "event=audit via=reload action=peer_changed peer=%s fields=endpoint",
			    name);
	}
	/* AllowedIPs: drop what the new config lacks (in rounds of 64), add what it brings */
	do {
		gone_len = 0;
		for (struct allowedips_node *it = NULL;
		     gone_len < 64 &&
		     (it = allowedips_next(&peer->allowedips, it, &family, addr, &cidr));) {
			struct ip_prefix p = {.family = family, .cidr = cidr};

			memcpy(&p.addr, addr, family == AF_INET ? 4 : 16);
			if (!peer_has_prefix(newx, new, &p))
				gone[gone_len++] = p;
		}
		for (size_t i = 0; i < gone_len; ++i) {
			allowedips_remove(&d->dev.allowedips, gone[i].family, &gone[i].addr,
					  gone[i].cidr, &peer->allowedips);
			ip_prefix_format(&gone[i], text, sizeof(text));
			log_info("event=audit via=reload action=peer_changed peer=%s "
				 "fields=allowed_ips removed=%s",
				 name, text);
		}
	} while (gone_len == 64);
	for (size_t i = 0; i < new->allowed_ips_len; ++i) {
		const struct ip_prefix *p = &new->allowed_ips[i];

		if (old && !peer_has_prefix(oldx, old, p)) {
			ip_prefix_format(p, text, sizeof(text));
			log_info("event=audit via=reload action=peer_changed peer=%s "
				 "fields=allowed_ips added=%s",
				 name, text);
		}
		if (!allowedips_insert(&d->dev.allowedips, p->family, &p->addr, p->cidr,
				       &peer->allowedips))
			return false;
	}
	if (peer->persistent_keepalive != new->persistent_keepalive)
		peer_set_persistent_keepalive(peer, new->persistent_keepalive, now);
	return true;
}

/* Adds (or removes) each of from's addresses that other lacks; logs each. */
static void change_addresses(struct daemon *d, const struct config *from,
			     const struct config *other, bool add)
{
	char text[64];

	for (size_t i = 0; i < from->addresses_len; ++i) {
		const struct ip_prefix *a = &from->addresses[i];

		if (has_prefix(other->addresses, other->addresses_len, a))
			continue;
		ip_prefix_format(a, text, sizeof(text));
		if (add ? netlink_address_add(d->ifindex, a) : netlink_address_del(d->ifindex, a))
			log_error("event=reload_warning msg=\"cannot %s address %s\"",
				  add ? "add" : "remove", text);
		else
			log_info("event=audit via=reload action=address_%s address=%s",
				 add ? "added" : "removed", text);
	}
}

static void sync_addresses(struct daemon *d, const struct config *old, const struct config *new)
{
	change_addresses(d, old, new, false);
	change_addresses(d, new, old, true);
}

static void route_refused(void *ctx, const struct ip_prefix *p, int err)
{
	char text[64];

	ip_prefix_format(p, text, sizeof(text));
	fell_short(ctx, "cannot add route %s: %s", text, strerror(-err));
}

/* Collects the non-default prefixes of c (those wanted per keep) into list; false: out of memory. */
static bool collect_routes(const struct config *c, const struct config_index *other, bool same_table,
			   const struct ip_prefix ***list, size_t *len)
{
	size_t total = 0;

	for (size_t i = 0; i < c->peers_len; ++i)
		total += c->peers[i].allowed_ips_len;
	*len = 0;
	*list = calloc(total ? total : 1, sizeof(**list));
	if (!*list)
		return false;
	for (size_t i = 0; i < c->peers_len; ++i) {
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j) {
			const struct ip_prefix *p = &c->peers[i].allowed_ips[j];

			if (p->cidr && !(same_table && routes_contain(other, p)))
				(*list)[(*len)++] = p;
		}
	}
	return true;
}

/*
 * Routes follow AllowedIPs: those of the old table no longer wanted go, those
 * of the new table not there already come, in netlink batches.
 */
static void sync_routes(struct daemon *d, const struct config_index *oldx,
			const struct config_index *newx, long old_table, long new_table,
			struct shortfall *short_of)
{
	const struct ip_prefix **list;
	size_t len;
	bool same = new_table == old_table;

	if (old_table >= 0 && collect_routes(oldx->config, newx, same && new_table >= 0, &list, &len)) {
		netlink_routes(false, d->ifindex, list, len, (uint32_t)old_table, NULL, NULL);
		free(list);
	}
	if (new_table < 0)
		return;
	if (!collect_routes(newx->config, oldx, same, &list, &len)) {
		fell_short(short_of, "out of memory for routes");
		return;
	}
	netlink_routes(true, d->ifindex, list, len, (uint32_t)new_table, route_refused, short_of);
	free(list);
}

static void write_status(struct daemon *d, const char *status, const char *message)
{
	char path[64];
	FILE *f;
	int fd;

	run_file_path(path, sizeof(path), d->ifname, "reload");
	unlink(path); /* created anew, 0600: the report quotes config errors */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		return;
	fprintf(f, "generation=%u status=%s", ++d->reload_generation, status);
	if (message)
		fprintf(f, " message=%s", message);
	fputc('\n', f);
	fclose(f);
}

/* The identity: the running one is compared, so a key set with `wg set' is replaced too. */
static bool sync_private_key(struct daemon *d, const struct config *next)
{
	const struct noise_identity *id = &d->dev.identity;

	if (next->has_private_key == id->has_identity &&
	    (!next->has_private_key ||
	     crypto_equal(next->private_key, id->static_private, KEY_LEN)))
		return true;
	if (!device_set_private_key(&d->dev, next->has_private_key ? next->private_key : NULL))
		return false;
	log_info("event=audit via=reload action=interface_changed fields=private_key");
	return true;
}

/* Port and mark, as they run; ListenPort unset keeps the port chosen at random. */
static void sync_port(struct daemon *d, const struct config *next, struct shortfall *short_of)
{
	uint32_t mark = d->netconf->default_table && !next->fwmark ? d->netconf->default_table
								      : next->fwmark;
	uint16_t port = next->listen_port ? next->listen_port : d->udp.port;
	int ret;

	if (port == d->udp.port && mark == d->dev.fwmark)
		return;
	ret = daemon_rebind(d, port, mark);
	if (ret)
		fell_short(short_of, "cannot listen on port %u with fwmark %u: %s", port, mark,
			   strerror(-ret));
	else
		log_info("event=audit via=reload action=interface_changed fields=listen_port,fwmark");
}

bool daemon_reload(struct daemon *d)
{
	struct config next, *old = d->config;
	struct config_index oldx, newx;
	struct shortfall short_of = {0};
	char err[512];
	uint64_t now = monotonic_ns();
	long old_table, new_table;
	unsigned added = 0, removed = 0, mtu;

	if (!config_load(&next, d->config_path, err, sizeof(err)) ||
	    !config_resolve_endpoints(&next, err, sizeof(err))) {
		config_free(&next); /* safe on the zeroed struct a failed load leaves */
		goto fail;
	}
	old_table = netconf_table(old, err, sizeof(err));
	new_table = netconf_table(&next, err, sizeof(err));
	if (new_table < -1) {
		config_free(&next);
		goto fail;
	}
	if (!index_build(&oldx, old)) {
		config_free(&next);
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (!index_build(&newx, &next)) {
		index_free(&oldx);
		config_free(&next);
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (!sync_private_key(d, &next)) {
		index_free(&oldx);
		index_free(&newx);
		config_free(&next);
		snprintf(err, sizeof(err), "the new private key is not usable");
		goto fail;
	}
	sync_port(d, &next, &short_of);
	/* peers that went away */
	for (struct peer *p = d->dev.first_peer, *nextp; p; p = nextp) {
		char name[KEY_BASE64_LEN + 1];

		nextp = p->next;
		if (find_config_peer(&newx, p->public_key))
			continue;
		key_to_base64(name, p->public_key);
		device_remove_peer(&d->dev, p);
		log_info("event=audit via=reload action=peer_removed peer=%s", name);
		++removed;
	}
	for (size_t i = 0; i < next.peers_len; ++i) {
		const struct peer_config *pc = &next.peers[i];
		struct peer *peer = device_find_peer(&d->dev, pc->public_key);
		char name[KEY_BASE64_LEN + 1];

		key_to_base64(name, pc->public_key);
		if (!peer) {
			peer = device_add_peer(&d->dev, pc->public_key);
			if (!peer)
				continue; /* our own key */
			log_info("event=audit via=reload action=peer_added peer=%s", name);
			++added;
		}
		if (!update_peer(d, peer, &oldx, find_config_peer(&oldx, pc->public_key), &newx, pc,
				 now))
			fell_short(&short_of, "out of memory for the AllowedIPs of peer %s", name);
	}
	sync_addresses(d, old, &next);
	mtu = next.has_mtu ? next.mtu : DEFAULT_MTU;
	if (mtu != d->dev.mtu) {
		if (netlink_link_set(d->ifindex, true, mtu) == 0) {
			log_info("event=audit via=reload action=mtu_changed mtu=%u", mtu);
			d->dev.mtu = mtu;
		} else {
			fell_short(&short_of, "cannot set MTU %u", mtu);
		}
	}
	sync_routes(d, &oldx, &newx, old_table, new_table, &short_of);
	if (!strv_equal(&old->dns, &next.dns) || !strv_equal(&old->dns_search, &next.dns_search)) {
		if (old->dns.len || old->dns_search.len)
			netconf_dns_unset(d->ifname);
		if (!netconf_dns_set(d->ifname, &next, err, sizeof(err)))
			fell_short(&short_of, "%s", err);
	}
	index_free(&oldx);
	index_free(&newx);
	config_free(old);
	config_wipe_secrets(&next); /* the device holds them; the kept config needs none */
	*old = next;
	log_info("event=config_reloaded path=%s peers=%zu added=%u removed=%u ms=%llu",
		 d->config_path, d->dev.peer_count, added, removed,
		 (unsigned long long)((monotonic_ns() - now) / NSEC_PER_MSEC));
	write_status(d, short_of.len ? "partial" : "ok", short_of.len ? short_of.text : NULL);
	return !short_of.len;
fail:
	log_error("event=reload_failed error=\"%s\"", err);
	write_status(d, "error", err);
	return false;
}
