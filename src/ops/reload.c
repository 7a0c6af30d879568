// SPDX-License-Identifier: MIT
/*
 * Reload, in the monitor (privsep.h): the running interface follows its
 * config file again. Unlike `wg syncconf', which handles peers only, this also
 * applies Address, MTU, routes and DNS. The device's part is compared with
 * what runs (a get over the control socket) and handed to the sandboxed child
 * as one set request, which it applies all or nothing; only then do the
 * monitor's own changes follow. A peer whose key, preshared key and endpoint
 * did not change keeps its session; its AllowedIPs change one prefix at a time.
 *
 * A key rotation that ended in the running interface (its peer now has the
 * config's NextPublicKey as its key) is recorded here: the config is read as
 * if it said so, and the file is made to say so (PublicKey replaced,
 * NextPublicKey and RotationDeadline removed), so that the old key is never
 * let in again by a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "ops/reload.h"
#include "ops/firewall.h"
#include "ops/gateway.h"
#include "control/uapi.h"
#include "host/clock.h"
#include "core/hashindex.h"
#include "host/log.h"
#include "host/netlink.h"
#include "host/privsep.h"
#include "core/secret_stream.h"
#include "core/encoding.h"
#include "config/edit.h"
#include "ops/config_file.h"
#include "ops/check.h"
#include "ops/key_ledger.h"
#include "ops/peer_store.h"

/*
 * A config's peers by public key and its AllowedIPs by prefix (and by peer and
 * prefix for peers with many), so that a reload of 100k peers diffs in
 * linear time.
 */
struct prefix_item {
	uint32_t peer; /* position in the config's peers */
	uint8_t family, cidr;
	uint8_t addr[16];
	bool holds; /* no later peer has this prefix: it is this peer's (and routed once) */
} __attribute__((packed));

/* Key lengths: by peer and prefix, from peer; by prefix alone, from family. */
#define PEER_PREFIX_KEY offsetof(struct prefix_item, holds)
#define PREFIX_KEY	(offsetof(struct prefix_item, holds) - offsetof(struct prefix_item, family))

/*
 * A peer with up to this many AllowedIPs has them compared one by one; those
 * of peers with more are indexed.
 */
enum { SHORT_LIST = 8 };

struct config_index {
	const struct config *config;
	struct hash_index peers, by_peer_prefix, by_prefix;
	struct prefix_item *prefixes; /* the peers' AllowedIPs in order */
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

/* Keyed by the network: 10.0.0.1/31 is the device's (and the kernel's) 10.0.0.0/31. */
static struct prefix_item item_of(uint32_t peer, const struct ip_prefix *p)
{
	struct ip_prefix net = ip_prefix_network(p);
	struct prefix_item it = {.peer = peer, .family = (uint8_t)net.family, .cidr = net.cidr};

	memcpy(it.addr, &net.addr, net.family == AF_INET ? 4 : 16);
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
	    !hash_index_init(&x->by_peer_prefix, 0, PEER_PREFIX_KEY, peer_prefix_of, x->prefixes) ||
	    !hash_index_init(&x->by_prefix, total, PREFIX_KEY, prefix_of, x->prefixes))
		goto fail;
	for (size_t i = 0; i < c->peers_len; ++i) {
		bool long_list = c->peers[i].allowed_ips_len > SHORT_LIST;

		if (!hash_index_add(&x->peers, i, &found))
			goto fail;
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j, ++n) {
			x->prefixes[n] = item_of((uint32_t)i, &c->peers[i].allowed_ips[j]);
			if (long_list && !hash_index_add(&x->by_peer_prefix, n, &found))
				goto fail;
		}
	}
	/* last first: a prefix two peers have is the later one's (WireGuard's rule) */
	while (n--) {
		if (!hash_index_add(&x->by_prefix, n, &found))
			goto fail;
		x->prefixes[n].holds = found == HASH_INDEX_NONE;
	}
	return true;
fail:
	index_free(x);
	return false;
}

/*
 * The peer of the config with this key: the one at *near when it is (a
 * config and the device list peers in the same order, so a diff walks
 * along), else looked up. *near moves on past the peer found.
 */
static const struct peer_config *find_config_peer(const struct config_index *x,
						  const uint8_t key[KEY_LEN], size_t *near)
{
	size_t i = hash_index_find_near(&x->peers, key, *near < x->config->peers_len ? *near : 0);

	if (i == HASH_INDEX_NONE)
		return NULL;
	*near = i + 1;
	return &x->config->peers[i];
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

/* Whether the list has p's network, compared as networks (host bits aside). */
static bool list_has_network(const struct ip_prefix *list, size_t len, const struct ip_prefix *p)
{
	struct ip_prefix net = ip_prefix_network(p);

	for (size_t i = 0; i < len; ++i) {
		struct ip_prefix other = ip_prefix_network(&list[i]);

		if (same_prefix(&other, &net))
			return true;
	}
	return false;
}

/* Whether the config gives peer pc the prefix. */
static bool peer_has_prefix(const struct config_index *x, const struct peer_config *pc,
			    const struct ip_prefix *p)
{
	struct prefix_item it;

	if (pc->allowed_ips_len <= SHORT_LIST)
		return list_has_network(pc->allowed_ips, pc->allowed_ips_len, p);
	it = item_of((uint32_t)(pc - x->config->peers), p);
	return hash_index_find(&x->by_peer_prefix, &it) != HASH_INDEX_NONE;
}

/* Whether any peer of the config has the prefix (so it is routed). */
static bool routes_contain(const struct config_index *x, const struct ip_prefix *p)
{
	struct prefix_item it = item_of(0, p);

	return hash_index_find(&x->by_prefix, &it.family) != HASH_INDEX_NONE;
}

/* The same preferred endpoint, written and resolved the same (a name may resolve anew). */
static bool same_endpoint(const struct peer_config *a, const struct peer_config *b)
{
	const union sockaddr_any *x = peer_config_endpoint(a), *y = peer_config_endpoint(b);

	if (!a->endpoints_len || !b->endpoints_len)
		return !a->endpoints_len && !b->endpoints_len;
	return a->endpoints[0].port == b->endpoints[0].port &&
	       !strcmp(a->endpoints[0].host, b->endpoints[0].host) &&
	       (!x || !y ? !x && !y : sockaddr_equal(x, y));
}

/* Whether the running peer's endpoints to fail over between are not those of pc. */
static bool endpoints_differ(const struct uapi_peer_state *running, const struct peer_config *pc)
{
	char text[ENDPOINTS_MAX * 64];

	if (pc->endpoints_len < 2)
		return running && running->endpoints;
	if (!running || !running->endpoints || !uapi_endpoints_text(pc, text, sizeof(text)) ||
	    strcmp(running->endpoints, text))
		return true;
	return (pc->failover_ms ? pc->failover_ms : FAILOVER_DEFAULT_MS) != running->failover_ms ||
	       (pc->failback_ms ? pc->failback_ms : FAILBACK_DEFAULT_MS) != running->failback_ms;
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
		s->len +=
		    (size_t)n < sizeof(s->text) - s->len ? (size_t)n : sizeof(s->text) - s->len - 1;
	log_error("event=reload_warning msg=\"%s\"", s->text);
}

/* The same name (or groups); NULL and "" are both none. */
static bool same_label(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void put_key(FILE *f, const char *name, const uint8_t key[KEY_LEN])
{
	char hex[KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	fprintf(f, "%s=%s\n", name, hex);
	crypto_wipe(hex, sizeof(hex));
}

static const void *state_key_of(const void *items, size_t pos)
{
	return ((const struct uapi_peer_state *)items)[pos].public_key;
}

/* The running peers by key, and the AllowedIPs of those with many by (peer, prefix). */
struct running_index {
	const struct uapi_state *state;
	struct hash_index peers, by_peer_prefix;
	struct prefix_item *items;
};

static void running_free(struct running_index *r)
{
	hash_index_free(&r->peers);
	hash_index_free(&r->by_peer_prefix);
	free(r->items);
	r->items = NULL;
}

static bool running_build(struct running_index *r, const struct uapi_state *state)
{
	size_t total = 0, n = 0, found;

	memset(r, 0, sizeof(*r));
	r->state = state;
	for (size_t i = 0; i < state->peers_len; ++i)
		if (state->peers[i].allowed_ips_len > SHORT_LIST)
			total += state->peers[i].allowed_ips_len;
	r->items = calloc(total ? total : 1, sizeof(*r->items));
	if (!r->items ||
	    !hash_index_init(&r->peers, state->peers_len, KEY_LEN, state_key_of, state->peers) ||
	    !hash_index_init(&r->by_peer_prefix, total, PEER_PREFIX_KEY, peer_prefix_of, r->items))
		goto fail;
	for (size_t i = 0; i < state->peers_len; ++i) {
		const struct uapi_peer_state *rp = &state->peers[i];

		if (!hash_index_add(&r->peers, i, &found))
			goto fail;
		for (size_t j = 0; rp->allowed_ips_len > SHORT_LIST && j < rp->allowed_ips_len;
		     ++j) {
			r->items[n] = item_of((uint32_t)i, &rp->allowed_ips[j]);
			if (!hash_index_add(&r->by_peer_prefix, n++, &found))
				goto fail;
		}
	}
	return true;
fail:
	running_free(r);
	return false;
}

/* The running peer with this key (near: as find_config_peer): its position, or HASH_INDEX_NONE. */
static size_t find_running(const struct running_index *r, const uint8_t key[KEY_LEN], size_t *near)
{
	size_t i = hash_index_find_near(&r->peers, key, *near < r->state->peers_len ? *near : 0);

	if (i != HASH_INDEX_NONE)
		*near = i + 1;
	return i;
}

/* Whether running peer number pos has the prefix. */
static bool running_has(const struct running_index *r, size_t pos, const struct ip_prefix *p)
{
	const struct uapi_peer_state *rp = &r->state->peers[pos];
	struct prefix_item it;

	if (rp->allowed_ips_len <= SHORT_LIST)
		return list_has_network(rp->allowed_ips, rp->allowed_ips_len, p);
	it = item_of((uint32_t)pos, p);
	return hash_index_find(&r->by_peer_prefix, &it) != HASH_INDEX_NONE;
}

/*
 * Whether the set gives a peer of the new config its prefix p (item: p's
 * entry in newx): the peer holds it (no later peer takes it, to take it back
 * in the same set) and the running peer (at pos; HASH_INDEX_NONE: not there)
 * lacks it.
 */
static bool gives_prefix(const struct running_index *ri, size_t pos, const struct prefix_item *item,
			 const struct ip_prefix *p)
{
	return item->holds && (pos == HASH_INDEX_NONE || !running_has(ri, pos, p));
}

/*
 * What one peer of the new config needs, compared with the running peer (at
 * pos; HASH_INDEX_NONE: not there) and its previous config (NULL: not in the
 * old file): keys and keepalive as they run, the endpoint only when the file
 * changed it (so roaming is not undone), AllowedIPs prefix by prefix (items:
 * the peer's in newx); name and groups. False when out of memory.
 */
static bool peer_changes(FILE *f, const struct running_index *ri, size_t pos,
			 const struct config_index *newx, const struct prefix_item *items,
			 const struct peer_config *old, const struct peer_config *new)
{
	static const uint8_t none[KEY_LEN];
	const struct uapi_peer_state *running =
	    pos == HASH_INDEX_NONE ? NULL : &ri->state->peers[pos];
	/* a new peer starts with neither preshared key nor keepalive: said only when it has them */
	bool psk = running
		       ? running->has_preshared_key != new->has_preshared_key ||
			     (new->has_preshared_key &&
			      !crypto_equal(running->preshared_key, new->preshared_key, KEY_LEN))
		       : new->has_preshared_key;
	/* one endpoint: set when the file (or the name's address) changed; several: their list */
	bool endpoint = new->endpoints_len < 2 && peer_config_endpoint(new) &&
			(!running || !old || !same_endpoint(old, new));
	bool endpoints = endpoints_differ(running, new);
	bool keepalive = running ? running->persistent_keepalive != new->persistent_keepalive
				 : new->persistent_keepalive != 0;
	char *groups = strv_join(&new->groups);
	bool name = !same_label(running ? running->name : NULL, new->name);
	bool group = groups && !same_label(running ? running->groups : NULL, groups);
	bool expiry = (running ? running->expires : 0) != new->expires;
	bool rotation =
	    running
		? running->has_next_key != new->has_next_key ||
		      (new->has_next_key &&
		       (!crypto_equal(running->next_public_key, new->next_public_key, KEY_LEN) ||
			running->rotation_deadline != new->rotation_deadline))
		: new->has_next_key;
	size_t gone = 0, added = 0;
	char text[64];

	for (size_t i = 0; running && i < running->allowed_ips_len; ++i)
		gone += !peer_has_prefix(newx, new, &running->allowed_ips[i]);
	for (size_t i = 0; i < new->allowed_ips_len; ++i)
		added += gives_prefix(ri, pos, &items[i], &new->allowed_ips[i]);
	if (running && !psk && !endpoint && !endpoints && !keepalive && !gone && !added && !name &&
	    !group && !expiry && !rotation) {
		bool ok = groups != NULL;

		free(groups);
		return ok; /* nothing to change: nothing to say or audit */
	}
	put_key(f, "public_key", new->public_key);
	if (name)
		fprintf(f, "wgate_name=%s\n", new->name ? new->name : "");
	if (group)
		fprintf(f, "wgate_groups=%s\n", groups);
	if (expiry)
		fprintf(f, "wgate_expires=%lld\n", (long long)new->expires);
	if (rotation && new->has_next_key) {
		put_key(f, "wgate_next_public_key", new->next_public_key);
		fprintf(f, "wgate_rotation_deadline=%lld\n", (long long)new->rotation_deadline);
	} else if (rotation) {
		fputs("wgate_next_public_key=\n", f); /* the rotation is called off */
	}
	if (psk)
		put_key(f, "preshared_key", new->has_preshared_key ? new->preshared_key : none);
	if (endpoints && new->endpoints_len < 2)
		fputs("wgate_endpoints=\n", f); /* no more failing over */
	if (endpoint || (endpoints && new->endpoints_len > 1))
		uapi_put_endpoints(f, new);
	if (keepalive)
		fprintf(f, "persistent_keepalive_interval=%u\n", new->persistent_keepalive);
	for (size_t i = 0; gone && i < running->allowed_ips_len; ++i) {
		if (peer_has_prefix(newx, new, &running->allowed_ips[i]))
			continue;
		ip_prefix_format(&running->allowed_ips[i], text, sizeof(text));
		fprintf(f, "allowed_ip=-%s\n", text);
	}
	for (size_t i = 0; added && i < new->allowed_ips_len; ++i) {
		if (!gives_prefix(ri, pos, &items[i], &new->allowed_ips[i]))
			continue;
		ip_prefix_format(&new->allowed_ips[i], text, sizeof(text));
		fprintf(f, "allowed_ip=%s\n", text);
	}
	if (!groups)
		return false;
	free(groups);
	return true;
}

/*
 * The set request that brings the running device (ri) in line with next;
 * NULL when out of memory. mark is the socket mark the interface needs.
 */
static char *device_changes(const struct running_index *ri, const struct config_index *oldx,
			    const struct config_index *newx, uint32_t mark, size_t *len)
{
	const struct uapi_state *state = ri->state;
	const struct config *next = newx->config;
	struct secret_stream rq;
	FILE *f = secret_stream_open(&rq);
	size_t near_new = 0, near_old = 0, near_running = 0, first = 0;

	if (!f)
		return NULL;
	fputs("set=1\n", f);
	if (next->has_private_key != state->has_private_key ||
	    (next->has_private_key &&
	     !crypto_equal(next->private_key, state->private_key, KEY_LEN))) {
		static const uint8_t none[KEY_LEN];

		put_key(f, "private_key", next->has_private_key ? next->private_key : none);
	}
	/* ListenPort unset keeps the port chosen at random */
	if (next->listen_port && next->listen_port != state->listen_port)
		fprintf(f, "listen_port=%u\n", next->listen_port);
	if (mark != state->fwmark)
		fprintf(f, "fwmark=%u\n", mark);
	for (size_t i = 0; i < state->peers_len; ++i) {
		if (find_config_peer(newx, state->peers[i].public_key, &near_new))
			continue;
		put_key(f, "public_key", state->peers[i].public_key);
		fputs("remove=true\n", f);
	}
	for (size_t i = 0; i < next->peers_len; ++i) {
		const struct peer_config *pc = &next->peers[i];
		size_t at = find_running(ri, pc->public_key, &near_running);

		if (!peer_changes(f, ri, at, newx, &newx->prefixes[first],
				  find_config_peer(oldx, pc->public_key, &near_old), pc))
			rq.failed = 1;
		first += pc->allowed_ips_len;
	}
	fputs("\n", f);
	return secret_stream_close(&rq, len);
}

/* Adds (or removes) each of from's addresses that other lacks; logs each. */
static void change_addresses(struct reload_target *d, const struct config *from,
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

static void sync_addresses(struct reload_target *d, const struct config *old,
			   const struct config *new)
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

/*
 * Collects into list the prefixes of x to route (each network once, not /0),
 * those other routes too left out when same_table; false: out of memory.
 */
static bool collect_routes(const struct config_index *x, const struct config_index *other,
			   bool same_table, const struct ip_prefix ***list, size_t *len)
{
	const struct config *c = x->config;
	size_t total = 0, n = 0;

	for (size_t i = 0; i < c->peers_len; ++i)
		total += c->peers[i].allowed_ips_len;
	*len = 0;
	*list = calloc(total ? total : 1, sizeof(**list));
	if (!*list)
		return false;
	for (size_t i = 0; i < c->peers_len; ++i) {
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j, ++n) {
			const struct ip_prefix *p = &c->peers[i].allowed_ips[j];

			if (p->cidr && x->prefixes[n].holds &&
			    !(same_table && routes_contain(other, p)))
				(*list)[(*len)++] = p;
		}
	}
	return true;
}

/*
 * Routes follow AllowedIPs: those of the old table no longer wanted go, those
 * of the new table not there already come, in netlink batches.
 */
static void sync_routes(struct reload_target *d, const struct config_index *oldx,
			const struct config_index *newx, long old_table, long new_table,
			struct shortfall *short_of)
{
	const struct ip_prefix **list;
	size_t len;
	bool same = new_table == old_table;

	if (old_table >= 0 && collect_routes(oldx, newx, same && new_table >= 0, &list, &len)) {
		netlink_routes(false, d->ifindex, list, len, (uint32_t)old_table, NULL, NULL);
		free(list);
	}
	if (new_table < 0)
		return;
	if (!collect_routes(newx, oldx, same, &list, &len)) {
		fell_short(short_of, "out of memory for routes");
		return;
	}
	netlink_routes(true, d->ifindex, list, len, (uint32_t)new_table, route_refused, short_of);
	free(list);
}

/*
 * A reload's report: one line with its generation, status and message, then
 * a line for each warning (a prefix that two peers claim: the later one takes
 * it), which `wgate reload' repeats.
 */
static void write_status(struct reload_target *d, const char *status, const char *message,
			 const struct findings *warnings)
{
	char path[64], tmp[72];
	FILE *f;
	int fd;

	/*
	 * Written aside and renamed over the last one: `wgate reload' polls the
	 * file and must never see it missing or half written. Created anew,
	 * 0600: the report quotes config errors.
	 */
	run_file_path(path, sizeof(path), d->ifname, "reload");
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "generation=%u status=%s", ++*d->generation, status);
	if (message)
		fprintf(f, " message=%s", message);
	fputc('\n', f);
	for (size_t i = 0; warnings && i < warnings->len && i < 20; ++i)
		if (warnings->v[i].severity >= CHECK_WARNING)
			fprintf(f, "warning=line %u: %s\n", warnings->v[i].line,
				warnings->v[i].what);
	if (fclose(f) || rename(tmp, path))
		unlink(tmp);
}

/* The errno of the child's answer text, which it takes: kept in *answer when asked for. */
static int answer_status(char *text, char **answer)
{
	const char *e = text ? strstr(text, "errno=") : NULL;
	int status = e ? atoi(e + 6) : -(errno ? errno : EPROTO);

	if (answer && e) {
		*answer = text;
		return status;
	}
	if (answer)
		*answer = NULL;
	if (text) {
		crypto_wipe(text, strlen(text));
		free(text);
	}
	return status;
}

/*
 * Sends request to the child's control socket and returns its errno (0 on
 * success), and the whole answer when asked. While waiting it answers the
 * child's own requests (a new port in the request makes the child ask the
 * monitor for sockets).
 */
static int ask_child(struct reload_target *d, const char *request, char **answer)
{
	return answer_status(
	    uapi_request_serving(d->ifname, request, d->privsep_channel, privsep_serve, 30000),
	    answer);
}

/* The same in two steps (uapi_call_start): the monitor works while the child answers. */
static int start_asking(struct reload_target *d, struct uapi_call *call, const char *request)
{
	return -uapi_call_start(call, d->ifname, request, d->privsep_channel, privsep_serve, 30000);
}

static int child_answer(struct uapi_call *call, char **answer)
{
	return answer_status(uapi_call_finish(call), answer);
}

int reload_ask(struct reload_target *t, const char *request)
{
	return ask_child(t, request, NULL);
}

/*
 * The running interface as the get=wgate_config answer of call shows it (started:
 * what starting the call returned); 0 or a negative errno.
 */
static int read_running(struct uapi_call *call, int started, struct uapi_state *state)
{
	char *answer = NULL;
	int ret = started ? started : child_answer(call, &answer);

	if (!ret && (!answer || !uapi_state_parse(state, answer)))
		ret = -EPROTO;
	if (answer) {
		crypto_wipe(answer, strlen(answer)); /* it holds the keys */
		free(answer);
	}
	return ret;
}

static bool hooks_changed(const struct config *a, const struct config *b)
{
	return !strv_equal(&a->pre_up, &b->pre_up) || !strv_equal(&a->post_up, &b->post_up) ||
	       !strv_equal(&a->pre_down, &b->pre_down) || !strv_equal(&a->post_down, &b->post_down);
}

/*
 * Changed hooks run again as a down and an up would run them: the old
 * PreDown and PostDown undo what the old PreUp and PostUp did, then the new
 * PreUp and PostUp run. So `down' later runs the down hooks that match the
 * up hooks that ran.
 */
static void rerun_hooks(const struct reload_target *d, const struct config *old,
			const struct config *next, struct shortfall *short_of)
{
	char err[512];

	if (!hooks_changed(old, next))
		return;
	log_info("event=audit via=reload action=hooks_rerun pre_down=%zu post_down=%zu pre_up=%zu "
		 "post_up=%zu",
		 old->pre_down.len, old->post_down.len, next->pre_up.len, next->post_up.len);
	if (!netconf_run_hooks(&old->pre_down, d->ifname, false, err, sizeof(err)))
		fell_short(short_of, "PreDown: %s", err);
	if (!netconf_run_hooks(&old->post_down, d->ifname, false, err, sizeof(err)))
		fell_short(short_of, "PostDown: %s", err);
	if (!netconf_run_hooks(&next->pre_up, d->ifname, true, err, sizeof(err)))
		fell_short(short_of, "PreUp: %s", err);
	else if (!netconf_run_hooks(&next->post_up, d->ifname, true, err, sizeof(err)))
		fell_short(short_of, "PostUp: %s", err);
}

static unsigned long long ms_between(uint64_t from, uint64_t to)
{
	return (unsigned long long)((to - from) / NSEC_PER_MSEC);
}

/* A rotation that ended in the running interface: the peer's key was from, it is to. */
struct rotation_ended {
	uint8_t from[KEY_LEN], to[KEY_LEN];
};

/*
 * Reads c as if it recorded the rotations that ended in the running interface
 * (state): a peer whose PublicKey runs no more and whose NextPublicKey does
 * is that key's. Returns how many, listed in *ended when it is non-NULL (the
 * caller frees it); -1 when out of memory.
 */
static long settle_rotations(struct config *c, const struct running_index *running,
			     struct rotation_ended **ended)
{
	long n = 0;

	if (ended)
		*ended = NULL;
	for (size_t i = 0; i < c->peers_len; ++i) {
		struct peer_config *pc = &c->peers[i];

		if (!pc->has_next_key ||
		    hash_index_find(&running->peers, pc->public_key) != HASH_INDEX_NONE ||
		    hash_index_find(&running->peers, pc->next_public_key) == HASH_INDEX_NONE)
			continue;
		if (ended) {
			struct rotation_ended *more =
			    realloc(*ended, (size_t)(n + 1) * sizeof(**ended));

			if (!more)
				return -1;
			*ended = more;
			memcpy(more[n].from, pc->public_key, KEY_LEN);
			memcpy(more[n].to, pc->next_public_key, KEY_LEN);
		}
		memcpy(pc->public_key, pc->next_public_key, KEY_LEN);
		pc->has_next_key = false;
		pc->rotation_deadline = 0;
		++n;
	}
	return n;
}

/* The config text with one ended rotation written down; NULL when the peer is not there. */
static char *record_rotation(char *text, size_t *len, const struct rotation_ended *r,
			     const char *path)
{
	struct config c;
	char err[512], key[KEY_BASE64_LEN + 1], *out = NULL, *step;
	unsigned line = 0;
	size_t n;

	if (!config_parse(&c, text, *len, path, err, sizeof(err)))
		return NULL;
	for (size_t i = 0; i < c.peers_len && !line; ++i)
		if (c.peers[i].has_next_key &&
		    crypto_equal(c.peers[i].public_key, r->from, KEY_LEN) &&
		    crypto_equal(c.peers[i].next_public_key, r->to, KEY_LEN))
			line = c.peers[i].line;
	config_free(&c);
	if (!line)
		return NULL;
	key_to_base64(key, r->to);
	if (!(step = config_text_set_key(text, *len, line, "PublicKey", key, NULL, &n)))
		return NULL;
	out = config_text_set_key(step, n, line, "NextPublicKey", NULL, NULL, &n);
	free(step);
	if (out && (step = config_text_set_key(out, n, line, "RotationDeadline", NULL, NULL, &n))) {
		free(out);
		out = step;
		*len = n;
		return out;
	}
	free(out);
	return NULL;
}

/*
 * A rotation of a peer whose text is in etcd: written there (only over the text
 * it was made from), so that a restart of any node lets only the new key in.
 */
static bool record_in_store(const struct reload_target *d, const struct rotation_ended *r)
{
	const struct peer_config *pc = NULL;
	char err[512] = "", *text = NULL, *edited;
	int64_t revision;
	size_t len;
	int ret = -1;

	for (size_t i = 0; i < d->config->peers_len && !pc; ++i)
		if (crypto_equal(d->config->peers[i].public_key, r->to, KEY_LEN))
			pc = &d->config->peers[i];
	if (!pc || !pc->file || strncmp(pc->file, "etcd:", 5))
		return false;
	if (peer_store_read(d->config, d->ifname, pc->file + 5, &text, &revision, err,
			    sizeof(err)) == 0) {
		len = strlen(text);
		edited = record_rotation(text, &len, r, pc->file);
		ret = edited ? peer_store_write(d->config, d->ifname, pc->file + 5, edited,
						revision, err, sizeof(err))
			     : 1;
		if (edited) {
			crypto_wipe(edited, len);
			free(edited);
		}
		crypto_wipe(text, strlen(text));
		free(text);
	}
	if (ret)
		log_error("event=rotation_not_recorded path=%s error=\"%s\"", pc->file,
			  ret > 0 && !*err ? "etcd no longer has the rotation" : err);
	return ret == 0;
}

/* Makes the config file record the rotations that ended; each recorded is audited. */
static void record_rotations(const struct reload_target *d, const struct rotation_ended *ended,
			     long n)
{
	const char *path = d->config_path;
	char err[512], *text;
	size_t len;
	int lock = config_file_try_lock(path, err, sizeof(err));

	if (lock < 0) { /* a command is editing it: the reload that follows records them */
		log_info("event=rotation_not_recorded path=%s reason=\"%s\"", path, err);
		return;
	}
	text = read_file(path, 64 << 20, &len, err, sizeof(err));
	for (long i = 0; text && i < n; ++i) {
		char *next = record_rotation(text, &len, &ended[i], path);
		char from[KEY_BASE64_LEN + 1], to[KEY_BASE64_LEN + 1];
		const char *where = path;

		if (next) {
			free(text);
			text = next;
		} else if (!record_in_store(d, &ended[i])) {
			continue;
		} else {
			where = "etcd";
		}
		key_to_base64(from, ended[i].from);
		key_to_base64(to, ended[i].to);
		log_info("event=audit via=reload action=key_rotation_recorded peer=%s "
			 "previous_key=%s path=%s",
			 to, from, where);
	}
	if (text && !config_file_replace(path, text, len, err, sizeof(err)))
		log_error("event=rotation_not_recorded path=%s error=\"%s\"", path, err);
	if (text) {
		crypto_wipe(text, len);
		free(text);
	}
	config_file_unlock(lock);
}

void reload_settle(struct reload_target *d)
{
	struct rotation_ended *ended = NULL;
	struct uapi_state state;
	struct running_index running;
	char err[512];
	struct uapi_call asking;
	long settled;
	int ret = read_running(&asking, start_asking(d, &asking, "get=wgate_config\n\n"), &state);

	if (ret) {
		log_error("event=rotation_not_recorded error=\"cannot read the running interface: "
			  "%s\"",
			  strerror(-ret));
		return;
	}
	settled =
	    running_build(&running, &state) ? settle_rotations(d->config, &running, &ended) : -1;
	running_free(&running);
	uapi_state_free(&state);
	if (settled < 0)
		log_error("event=rotation_not_recorded error=\"out of memory\"");
	if (settled > 0) {
		record_rotations(d, ended, settled);
		if (!key_ledger_update(d->ifname, d->config, (int64_t)time(NULL), err, sizeof(err)))
			log_error("event=key_ledger_failed error=\"%s\"", err);
	}
	free(ended);
}

/*
 * Whether the key ledger holds next's keys already: they are old's (in which
 * no rotation ended since the ledger was written) and the file is there.
 */
static bool ledger_holds(const struct reload_target *d, const struct config *old, long settled_old,
			 const struct config *next)
{
	char path[4096];

	key_ledger_path(path, sizeof(path), d->ifname);
	return !settled_old && key_ledger_same(old, next) && access(path, F_OK) == 0;
}

bool reload_apply(struct reload_target *d)
{
	struct config next, *old = d->config;
	struct config_index oldx = {0}, newx = {0};
	struct running_index running = {0};
	struct shortfall short_of = {0};
	struct uapi_state state;
	char err[512], *request;
	uint64_t now = monotonic_ns(), t_parsed, t_read, t_diffed, t_routed, t_applied;
	long old_table, new_table;
	size_t request_len = 0;
	struct firewall_params fp;
	struct rotation_ended *ended = NULL;
	struct uapi_call asking;
	long settled = 0, settled_old = 0;
	size_t unresolved = 0;
	uint32_t mark;
	unsigned mtu;
	int ret, asked;
	bool routed;

	/* the child renders what runs while the file is parsed */
	asked = start_asking(d, &asking, "get=wgate_config\n\n");
	if (!config_load(&next, d->config_path, err, sizeof(err)) ||
	    !config_resolve_endpoints(&next, old, &unresolved, err, sizeof(err))) {
		config_free(&next); /* safe on the zeroed struct a failed load leaves */
		goto fail;
	}
	t_parsed = monotonic_ns();
	if (unresolved)
		fell_short(
		    &short_of,
		    "%zu endpoint name%s did not resolve: the other endpoints of %s peer serve",
		    unresolved, unresolved == 1 ? "" : "s", unresolved == 1 ? "its" : "each");
	if (old->uplinks_len != next.uplinks_len ||
	    (next.uplinks_len &&
	     memcmp(old->uplinks, next.uplinks, next.uplinks_len * sizeof(*next.uplinks)))) {
		config_free(&next);
		snprintf(err, sizeof(err),
			 "Uplink changed, which only `wgate down' and `wgate up' apply");
		goto fail;
	}
	if (strcmp(old->identity_address ? old->identity_address : "",
		   next.identity_address ? next.identity_address : "")) {
		config_free(&next);
		snprintf(err, sizeof(err),
			 "IdentityAddress changed, which only `wgate down' and `wgate up' apply");
		goto fail;
	}
	old_table = netconf_table(old, err, sizeof(err));
	new_table = netconf_table(&next, err, sizeof(err));
	if (new_table < -1) {
		config_free(&next);
		goto fail;
	}
	ret = read_running(&asking, asked, &state);
	if (ret) {
		config_free(&next);
		snprintf(err, sizeof(err), "cannot read the running interface: %s", strerror(-ret));
		goto fail;
	}
	t_read = monotonic_ns();
	if (!running_build(&running, &state) ||
	    (settled = settle_rotations(&next, &running, &ended)) < 0 ||
	    (settled_old = settle_rotations(old, &running, NULL)) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail_diff;
	}
	if (!index_build(&oldx, old) || !index_build(&newx, &next)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail_diff;
	}
	mark = d->netconf->default_table && !next.fwmark ? d->netconf->default_table : next.fwmark;
	/* the kernel checks the new policy before anything changes */
	fp = (struct firewall_params){
	    .ifname = d->ifname,
	    .listen_port = next.listen_port ? next.listen_port : state.listen_port,
	    .mtu = next.has_mtu ? next.mtu : DEFAULT_MTU,
	    .full_tunnel_mark = d->netconf->default_table,
	    .full_tunnel_v4 = d->netconf->default_v4,
	    .full_tunnel_v6 = d->netconf->default_v6,
	};
	if (!firewall_apply(&next, &fp, true, err, sizeof(err)))
		goto fail_diff;
	request = device_changes(&running, &oldx, &newx, mark, &request_len);
	running_free(&running);
	uapi_state_free(&state);
	t_diffed = monotonic_ns();
	/*
	 * The routes change while the child applies the request (100k peers keep
	 * both busy for a while); if the child refuses it, they go back.
	 */
	ret = request ? start_asking(d, &asking, request) : -ENOMEM;
	routed = !ret;
	if (routed)
		sync_routes(d, &oldx, &newx, old_table, new_table, &short_of);
	t_routed = monotonic_ns();
	if (!ret)
		ret = child_answer(&asking, NULL);
	t_applied = monotonic_ns();
	if (request) {
		crypto_wipe(request, request_len);
		free(request);
	}
	if (ret) {
		struct shortfall ignored = {0};

		if (routed)
			sync_routes(d, &newx, &oldx, new_table, old_table, &ignored);
		index_free(&oldx);
		index_free(&newx);
		config_free(&next);
		snprintf(err, sizeof(err), "the running interface refused the change: %s",
			 strerror(-ret));
		goto fail;
	}
	/* the child holds them; the rest (the key ledger too) and the kept config need none */
	config_wipe_secrets(&next);
	sync_addresses(d, old, &next);
	mtu = next.has_mtu ? next.mtu : DEFAULT_MTU;
	if (mtu != *d->mtu) {
		if (netlink_link_set(d->ifindex, true, mtu) == 0) {
			log_info("event=audit via=reload action=mtu_changed mtu=%u", mtu);
			*d->mtu = mtu;
		} else {
			fell_short(&short_of, "cannot set MTU %u", mtu);
		}
	}
	if (firewall_apply(&next, &fp, false, err, sizeof(err)))
		d->netconf->firewall = firewall_needed(&next, &fp);
	else
		fell_short(&short_of, "%s", err);
	if (!strv_equal(&old->dns, &next.dns) || !strv_equal(&old->dns_search, &next.dns_search)) {
		if (old->dns.len || old->dns_search.len)
			netconf_dns_unset(d->ifname);
		if (!netconf_dns_set(d->ifname, &next, err, sizeof(err)))
			fell_short(&short_of, "%s", err);
	}
	if (!gateway_sync(&next, d->ifname, d->config_path, err, sizeof(err)))
		fell_short(&short_of, "%s", err);
	rerun_hooks(d, old, &next, &short_of);
	index_free(&oldx);
	index_free(&newx);
	if (!ledger_holds(d, old, settled_old, &next) &&
	    !key_ledger_update(d->ifname, &next, (int64_t)time(NULL), err, sizeof(err)))
		log_error("event=key_ledger_failed error=\"%s\"", err);
	config_free(old);
	*old = next;
	log_info("event=config_reloaded path=%s peers=%zu ms=%llu parse_ms=%llu read_ms=%llu "
		 "diff_ms=%llu apply_ms=%llu routes_ms=%llu network_ms=%llu",
		 d->config_path, next.peers_len, ms_between(now, monotonic_ns()),
		 ms_between(now, t_parsed), ms_between(t_parsed, t_read),
		 ms_between(t_read, t_diffed), ms_between(t_diffed, t_applied),
		 ms_between(t_diffed, t_routed), ms_between(t_applied, monotonic_ns()));
	if (settled > 0)
		record_rotations(d, ended, settled);

	free(ended);
	{
		struct findings overlaps = {0};

		check_allowedips(&next, &overlaps);
		for (size_t i = 0; i < overlaps.len; ++i)
			if (overlaps.v[i].severity >= CHECK_WARNING)
				log_info("event=reload_warning code=%s line=%u msg=\"%s\"",
					 overlaps.v[i].code, overlaps.v[i].line,
					 overlaps.v[i].what);
		write_status(d, short_of.len ? "partial" : "ok",
			     short_of.len ? short_of.text : NULL, &overlaps);
		findings_free(&overlaps);
	}
	return !short_of.len;
fail_diff:
	index_free(&oldx);
	index_free(&newx);
	running_free(&running);
	uapi_state_free(&state);
	config_free(&next);
fail:
	uapi_call_end(&asking); /* when it failed before the answer was read */
	free(ended);
	log_error("event=reload_failed error=\"%s\"", err);
	write_status(d, "error", err, NULL);
	return false;
}
