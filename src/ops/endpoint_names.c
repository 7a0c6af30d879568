// SPDX-License-Identifier: MIT
/* Following endpoints' names: see endpoint_names.h. */
#include "ops/endpoint_names.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "control/uapi.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/secret_stream.h"
#include "host/log.h"

struct resolve_item *endpoint_names(const struct config *config, size_t *len)
{
	struct resolve_item *items = NULL;
	size_t n = 0, cap = 0;

	*len = 0;
	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *pc = &config->peers[i];

		for (size_t k = 0; k < pc->endpoints_len; ++k) {
			const struct endpoint *ep = &pc->endpoints[k];

			if (ep->numeric || !ep->host)
				continue;
			if (n == cap) {
				struct resolve_item *bigger =
				    reallocarray(items, cap ? cap * 2 : 8, sizeof(*items));

				if (!bigger)
					goto fail;
				items = bigger;
				cap = cap ? cap * 2 : 8;
			}
			items[n] = (struct resolve_item){
			    .host = strdup(ep->host), .port = ep->port, .peer = i, .endpoint = k};
			if (!items[n++].host)
				goto fail;
		}
	}
	*len = n;
	return items;
fail:
	resolve_items_free(items, n);
	return NULL;
}

/* The item names that endpoint of this config still. */
static struct endpoint *endpoint_of(struct config *c, const struct resolve_item *it)
{
	struct endpoint *ep;

	if (it->peer >= c->peers_len || it->endpoint >= c->peers[it->peer].endpoints_len)
		return NULL;
	ep = &c->peers[it->peer].endpoints[it->endpoint];
	return ep->host && ep->port == it->port && !strcmp(ep->host, it->host) ? ep : NULL;
}

void endpoint_names_apply(struct reload_target *t, const struct resolve_item *items, size_t len)
{
	struct config *c = t->config;
	struct secret_stream rq;
	bool any = false;
	FILE *f;

	if (!len || !(f = secret_stream_open(&rq)))
		return;
	fputs("set=1\n", f);
	for (size_t i = 0; i < len;) {
		size_t peer = items[i].peer, failed = 0;
		bool moved = false;
		char key[KEY_BASE64_LEN + 1], hex[KEY_HEX_LEN + 1];

		/* the items of one peer are next to each other */
		for (; i < len && items[i].peer == peer; ++i) {
			struct endpoint *ep = endpoint_of(c, &items[i]);
			char was[INET6_ADDRSTRLEN + 16], now[INET6_ADDRSTRLEN + 16];

			if (!ep)
				continue;
			key_to_base64(key, c->peers[peer].public_key);
			if (items[i].error) {
				++failed;
				log_error(
				    "event=resolve_failed peer=%s name=%s host=%s error=\"%s\" "
				    "msg=\"its last address stays in use\"",
				    key, c->peers[peer].name ? c->peers[peer].name : "-", ep->host,
				    gai_strerror(items[i].error));
				continue;
			}
			if (ep->addr.sa.sa_family != AF_UNSPEC &&
			    sockaddr_equal(&ep->addr, &items[i].addr))
				continue;
			sockaddr_format(&ep->addr, was, sizeof(was));
			sockaddr_format(&items[i].addr, now, sizeof(now));
			log_info(
			    "event=audit via=resolver action=endpoint_resolved peer=%s name=%s "
			    "host=%s from=%s to=%s",
			    key, c->peers[peer].name ? c->peers[peer].name : "-", ep->host,
			    ep->addr.sa.sa_family == AF_UNSPEC ? "-" : was, now);
			ep->addr = items[i].addr;
			moved = true;
		}
		if (!moved && !failed)
			continue;
		any = true;
		key_to_hex(hex, c->peers[peer].public_key);
		fprintf(f, "public_key=%s\nupdate_only=true\n", hex);
		if (moved)
			uapi_put_endpoints(f, &c->peers[peer]);
		if (failed)
			fprintf(f, "wgate_resolve_failed=%zu\n", failed);
	}
	fputs("\n", f);
	{
		size_t request_len = 0;
		char *request = secret_stream_close(&rq, &request_len);
		int ret = any && request ? reload_ask(t, request) : 0;

		if (ret)
			log_error("event=resolve_not_applied error=\"%s\"", strerror(-ret));
		if (request) {
			crypto_wipe(request, request_len);
			free(request);
		}
	}
}
