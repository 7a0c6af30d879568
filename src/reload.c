// SPDX-License-Identifier: MIT
/*
 * Reload: the running interface follows its config file again. Unlike
 * `wg syncconf', which handles peers only, this also applies Address, MTU,
 * routes and DNS. A peer whose key, preshared key and endpoint did not change
 * keeps its session; its AllowedIPs are brought in line one prefix at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "netlink.h"

static const struct peer_config *find_config_peer(const struct config *c,
						  const uint8_t key[KEY_LEN])
{
	for (size_t i = 0; i < c->peers_len; ++i)
		if (crypto_equal(c->peers[i].public_key, key, KEY_LEN))
			return &c->peers[i];
	return NULL;
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

/* Brings one device peer in line with its new config; logs what changed. */
static bool update_peer(struct daemon *d, struct peer *peer, const struct peer_config *old,
			const struct peer_config *new, uint64_t now)
{
	char name[KEY_BASE64_LEN + 1], text[64];
	struct ip_prefix gone[64];
	size_t gone_len;
	int family;
	uint8_t addr[16], cidr;

	key_to_base64(name, new->public_key);
	if (old && (old->has_preshared_key != new->has_preshared_key ||
		    (new->has_preshared_key &&
		     !crypto_equal(old->preshared_key, new->preshared_key, KEY_LEN)))) {
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
			if (!has_prefix(new->allowed_ips, new->allowed_ips_len, &p))
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

		if (old && !has_prefix(old->allowed_ips, old->allowed_ips_len, p)) {
			ip_prefix_format(p, text, sizeof(text));
			log_info("event=audit via=reload action=peer_changed peer=%s "
				 "fields=allowed_ips added=%s",
				 name, text);
		}
		if (!allowedips_insert(&d->dev.allowedips, p->family, &p->addr, p->cidr,
				       &peer->allowedips))
			return false;
	}
	if (!old || old->persistent_keepalive != new->persistent_keepalive)
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

/* Every non-default prefix a config routes, for diffing. */
static bool routes_contain(const struct config *c, const struct ip_prefix *p)
{
	for (size_t i = 0; i < c->peers_len; ++i)
		if (has_prefix(c->peers[i].allowed_ips, c->peers[i].allowed_ips_len, p))
			return true;
	return false;
}

static void sync_routes(struct daemon *d, const struct config *old, const struct config *new,
			long old_table, long new_table)
{
	char text[64];

	if (old_table >= 0) {
		for (size_t i = 0; i < old->peers_len; ++i) {
			for (size_t j = 0; j < old->peers[i].allowed_ips_len; ++j) {
				const struct ip_prefix *p = &old->peers[i].allowed_ips[j];

				if (!p->cidr || (new_table == old_table && routes_contain(new, p)))
					continue;
				netlink_route_del(d->ifindex, p, (uint32_t)old_table);
			}
		}
	}
	if (new_table < 0)
		return;
	for (size_t i = 0; i < new->peers_len; ++i) {
		for (size_t j = 0; j < new->peers[i].allowed_ips_len; ++j) {
			const struct ip_prefix *p = &new->peers[i].allowed_ips[j];

			if (!p->cidr)
				continue;
			if (netlink_route_add(d->ifindex, p, (uint32_t)new_table)) {
				ip_prefix_format(p, text, sizeof(text));
				log_error("event=reload_warning msg=\"cannot add route %s\"", text);
			}
		}
	}
}

static void write_status(struct daemon *d, bool ok, const char *message)
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
	fprintf(f, "generation=%u status=%s", ++d->reload_generation, ok ? "ok" : "error");
	if (message)
		fprintf(f, " message=%s", message);
	fputc('\n', f);
	fclose(f);
}

bool daemon_reload(struct daemon *d)
{
	struct config next, *old = d->config;
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
	if (next.has_private_key != old->has_private_key ||
	    (next.has_private_key && !crypto_equal(next.private_key, old->private_key, KEY_LEN))) {
		if (!device_set_private_key(&d->dev,
					    next.has_private_key ? next.private_key : NULL)) {
			config_free(&next);
			snprintf(err, sizeof(err), "the new private key is not usable");
			goto fail;
		}
		log_info("event=audit via=reload action=interface_changed fields=private_key");
	}
	if (next.listen_port != old->listen_port || next.fwmark != old->fwmark) {
		uint32_t mark = d->netconf->default_table && !next.fwmark
				    ? d->netconf->default_table
				    : next.fwmark;
		int ret = daemon_rebind(d, next.listen_port, mark);

		if (ret)
			log_error("event=reload_warning msg=\"cannot listen on port %u: %s\"",
				  next.listen_port, strerror(-ret));
	}
	/* peers that went away */
	for (struct peer *p = d->dev.first_peer, *nextp; p; p = nextp) {
		char name[KEY_BASE64_LEN + 1];

		nextp = p->next;
		if (find_config_peer(&next, p->public_key))
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
			peer_set_preshared_key(peer,
					       pc->has_preshared_key ? pc->preshared_key : NULL);
			log_info("event=audit via=reload action=peer_added peer=%s", name);
			++added;
		}
		if (!update_peer(d, peer, find_config_peer(old, pc->public_key), pc, now))
			log_error("event=reload_warning msg=\"out of memory for AllowedIPs\"");
	}
	sync_addresses(d, old, &next);
	mtu = next.has_mtu ? next.mtu : DEFAULT_MTU;
	if (mtu != d->dev.mtu) {
		if (netlink_link_set(d->ifindex, true, mtu) == 0) {
			log_info("event=audit via=reload action=mtu_changed mtu=%u", mtu);
			d->dev.mtu = mtu;
		}
	}
	sync_routes(d, old, &next, old_table, new_table);
	if (!strv_equal(&old->dns, &next.dns) || !strv_equal(&old->dns_search, &next.dns_search)) {
		if (old->dns.len || old->dns_search.len)
			netconf_dns_unset(d->ifname);
		if (!netconf_dns_set(d->ifname, &next, err, sizeof(err)))
			log_error("event=reload_warning msg=\"%s\"", err);
	}
	config_free(old);
	*old = next;
	log_info("event=config_reloaded path=%s peers=%zu added=%u removed=%u", d->config_path,
		 d->dev.peer_count, added, removed);
	write_status(d, true, NULL);
	return true;
fail:
	log_error("event=reload_failed error=\"%s\"", err);
	write_status(d, false, err);
	return false;
}
