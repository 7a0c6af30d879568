// SPDX-License-Identifier: MIT
/* Gateway configs derived from the peers: see gateway.h. */
#include "ops/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/encoding.h"
#include "host/log.h"
#include "host/netconf.h"

/*
 * A peer as gateways see it: its name (its public key when it has none), with
 * anything but letters, digits and _ - . @ (a friendly_name comment may hold
 * them) made '_', so every format carries it unquoted and unescaped.
 */
static void peer_label(const struct peer_config *peer, char out[KEY_BASE64_LEN + 1])
{
	if (!peer->name) {
		key_to_base64(out, peer->public_key);
		return;
	}
	snprintf(out, KEY_BASE64_LEN + 1, "%s", peer->name);
	for (char *p = out; *p; ++p)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@",
			    *p))
			*p = '_';
}

/*
 * Who holds each prefix, sorted by prefix: a config may give one prefix to two
 * peers (or twice to one), and then, as in the tunnel, the later one holds it.
 */
struct owner {
	struct ip_prefix prefix;
	size_t peer;
	size_t next_of_peer; /* the peer's next entry, or SIZE_MAX */
};

struct owners {
	struct owner *v;
	size_t len;
	size_t *first_of_peer; /* per peer, or SIZE_MAX */
};

static int prefix_order(const struct ip_prefix *x, const struct ip_prefix *y)
{
	int c = x->family - y->family;

	if (!c)
		c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	return c ? c : (int)x->cidr - (int)y->cidr;
}

static int owner_order(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	int c = prefix_order(&x->prefix, &y->prefix);

	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

static void owners_free(struct owners *o)
{
	free(o->v);
	free(o->first_of_peer);
}

static bool owners_build(struct owners *o, const struct config *c)
{
	size_t total = 0, kept = 0;

	for (size_t i = 0; i < c->peers_len; ++i)
		total += c->peers[i].allowed_ips_len;
	o->len = 0;
	o->v = calloc(total ? total : 1, sizeof(*o->v));
	o->first_of_peer = malloc((c->peers_len ? c->peers_len : 1) * sizeof(size_t));
	if (!o->v || !o->first_of_peer) {
		owners_free(o);
		return false;
	}
	for (size_t i = 0; i < c->peers_len; ++i)
		for (size_t j = 0; j < c->peers[i].allowed_ips_len; ++j)
			o->v[o->len++] = (struct owner){c->peers[i].allowed_ips[j], i, SIZE_MAX};
	qsort(o->v, o->len, sizeof(*o->v), owner_order);
	for (size_t k = 0; k < o->len; ++k) /* the last of equal prefixes: the latest peer */
		if (k + 1 == o->len || prefix_order(&o->v[k].prefix, &o->v[k + 1].prefix))
			o->v[kept++] = o->v[k];
	o->len = kept;
	for (size_t i = 0; i < c->peers_len; ++i)
		o->first_of_peer[i] = SIZE_MAX;
	for (size_t k = o->len; k-- > 0;) {
		o->v[k].next_of_peer = o->first_of_peer[o->v[k].peer];
		o->first_of_peer[o->v[k].peer] = k;
	}
	return true;
}

static bool peer_in(const struct peer_config *peer, const char *group)
{
	for (size_t i = 0; i < peer->groups.len; ++i)
		if (!strcmp(peer->groups.v[i], group))
			return true;
	return false;
}

/* An NGINX variable name part: a group's '-' and '.' become '_'. */
static void variable_part(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; ++p)
		if (*p == '-' || *p == '.')
			*p = '_';
}

static void header(FILE *f, const char *comment, const char *ifname, const char *source)
{
	fprintf(f, "%s Written by wgate for %s from %s; rewritten at every up and reload.\n",
		comment, ifname, source);
	fprintf(f, "%s The peers by tunnel address: see wgate(8), GATEWAY KEYS.\n", comment);
}

static void groups_text(FILE *f, const struct peer_config *peer, const char *sep, bool around)
{
	if (around)
		fputs(sep, f);
	for (size_t g = 0; g < peer->groups.len; ++g)
		fprintf(f, "%s%s", g ? sep : "", peer->groups.v[g]);
	if (around && peer->groups.len)
		fputs(sep, f);
}

static void nginx(FILE *f, const struct config *c, const struct owners *o)
{
	char label[KEY_BASE64_LEN + 1], prefix[64], var[64];

	fputs("geo $wgate_peer {\n\tdefault \"\";\n", f);
	for (size_t k = 0; k < o->len; ++k) {
		peer_label(&c->peers[o->v[k].peer], label);
		ip_prefix_format(&o->v[k].prefix, prefix, sizeof(prefix));
		fprintf(f, "\t%s \"%s\";\n", prefix, label);
	}
	/* every prefix in every block: a nested one of another peer must say so */
	fputs("}\ngeo $wgate_peer_groups {\n\tdefault \"\";\n", f);
	for (size_t k = 0; k < o->len; ++k) {
		ip_prefix_format(&o->v[k].prefix, prefix, sizeof(prefix));
		fprintf(f, "\t%s \"", prefix);
		groups_text(f, &c->peers[o->v[k].peer], ",", false);
		fputs("\";\n", f);
	}
	fputs("}\n", f);
	for (size_t g = 0; g < c->groups_len; ++g) {
		variable_part(c->groups[g].name, var, sizeof(var));
		fprintf(f, "geo $wgate_group_%s {\n\tdefault 0;\n", var);
		for (size_t k = 0; k < o->len; ++k) {
			ip_prefix_format(&o->v[k].prefix, prefix, sizeof(prefix));
			fprintf(f, "\t%s %d;\n", prefix,
				peer_in(&c->peers[o->v[k].peer], c->groups[g].name));
		}
		fputs("}\n", f);
	}
}

static void haproxy(FILE *f, const struct config *c, const struct owners *o)
{
	char label[KEY_BASE64_LEN + 1], prefix[64];

	for (size_t k = 0; k < o->len; ++k) {
		peer_label(&c->peers[o->v[k].peer], label);
		ip_prefix_format(&o->v[k].prefix, prefix, sizeof(prefix));
		fprintf(f, "%s %s;", prefix, label);
		groups_text(f, &c->peers[o->v[k].peer], ",", true);
		fputc('\n', f);
	}
}

/* Envoy's CidrRange for a prefix. */
static json_object *cidr_range(const struct ip_prefix *p)
{
	json_object *o = json_object_new_object();
	char text[64], *slash;

	ip_prefix_format(p, text, sizeof(text));
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	json_object_object_add(o, "address_prefix", json_object_new_string(text));
	json_object_object_add(o, "prefix_len", json_object_new_int(p->cidr));
	return o;
}

static json_object *remote_ip(const struct ip_prefix *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "direct_remote_ip", cidr_range(p));
	return o;
}

static json_object *id_list(const char *kind, json_object *ids)
{
	json_object *o = json_object_new_object(), *list = json_object_new_object();

	json_object_object_add(list, "ids", ids);
	json_object_object_add(o, kind, list);
	return o;
}

/* Whether owner entry k belongs to what a policy names: a group, or else one peer. */
static bool in_policy(const struct config *c, const struct owner *e, const char *group, size_t peer)
{
	return group ? peer_in(&c->peers[e->peer], group) : e->peer == peer;
}

/*
 * The principal for owner entry k: its addresses, less those of the narrower
 * prefixes inside it that are outside the policy (they follow k in the sorted
 * list, up to the first one past its last address).
 */
static json_object *principal_for(const struct config *c, const struct owners *o, size_t k,
				  const char *group, size_t peer)
{
	const struct ip_prefix *p = &o->v[k].prefix;
	json_object *excluded = json_object_new_array(), *both, *not_id;

	for (size_t m = k + 1; m < o->len && ip_prefix_contains(p, &o->v[m].prefix); ++m)
		if (!in_policy(c, &o->v[m], group, peer))
			json_object_array_add(excluded, remote_ip(&o->v[m].prefix));
	if (!json_object_array_length(excluded)) {
		json_object_put(excluded);
		return remote_ip(p);
	}
	not_id = json_object_new_object();
	json_object_object_add(not_id, "not_id", id_list("or_ids", excluded));
	both = json_object_new_array();
	json_object_array_add(both, remote_ip(p));
	json_object_array_add(both, not_id);
	return id_list("and_ids", both);
}

static json_object *rbac_policy(const struct config *c, const struct owners *o, const char *group,
				size_t peer)
{
	json_object *policy = json_object_new_object(), *permissions = json_object_new_array(),
		    *any = json_object_new_object(), *principals = json_object_new_array();

	json_object_object_add(any, "any", json_object_new_boolean(true));
	json_object_array_add(permissions, any);
	if (group) {
		for (size_t k = 0; k < o->len; ++k)
			if (in_policy(c, &o->v[k], group, 0))
				json_object_array_add(principals, principal_for(c, o, k, group, 0));
	} else {
		for (size_t k = o->first_of_peer[peer]; k != SIZE_MAX; k = o->v[k].next_of_peer)
			json_object_array_add(principals, principal_for(c, o, k, NULL, peer));
	}
	json_object_object_add(policy, "permissions", permissions);
	json_object_object_add(policy, "principals", principals);
	return policy;
}

static json_object *envoy(const struct config *c, const struct owners *o)
{
	json_object *filter = json_object_new_object(), *typed = json_object_new_object(),
		    *rules = json_object_new_object(), *policies = json_object_new_object();
	char label[KEY_BASE64_LEN + 1], name[96];

	for (size_t g = 0; g < c->groups_len; ++g) {
		snprintf(name, sizeof(name), "group:%s", c->groups[g].name);
		json_object_object_add(policies, name, rbac_policy(c, o, c->groups[g].name, 0));
	}
	for (size_t i = 0; i < c->peers_len; ++i) {
		peer_label(&c->peers[i], label);
		snprintf(name, sizeof(name), "peer:%s", label);
		json_object_object_add(policies, name, rbac_policy(c, o, NULL, i));
	}
	json_object_object_add(rules, "action", json_object_new_string("ALLOW"));
	json_object_object_add(rules, "policies", policies);
	json_object_object_add(
	    typed, "@type",
	    json_object_new_string(
		"type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"));
	json_object_object_add(typed, "rules", rules);
	json_object_object_add(filter, "name", json_object_new_string("envoy.filters.http.rbac"));
	json_object_object_add(filter, "typed_config", typed);
	return filter;
}

static json_object *tags(const char *first)
{
	json_object *list = json_object_new_array();

	json_object_array_add(list, json_object_new_string(first));
	return list;
}

static json_object *kong(const struct config *c, const struct owners *o, const char *ifname)
{
	json_object *doc = json_object_new_object(), *consumers = json_object_new_array(),
		    *plugins = json_object_new_array(), *plugin = json_object_new_object(),
		    *config = json_object_new_object(), *allow = json_object_new_array();
	char label[KEY_BASE64_LEN + 1], tag[64], key[KEY_BASE64_LEN + 1], instance[48], prefix[64];

	snprintf(tag, sizeof(tag), "wgate:%s", ifname);
	json_object_object_add(doc, "_format_version", json_object_new_string("3.0"));
	for (size_t i = 0; i < c->peers_len; ++i) {
		json_object *consumer = json_object_new_object(), *t = tags(tag);

		peer_label(&c->peers[i], label);
		key_to_base64(key, c->peers[i].public_key);
		json_object_object_add(consumer, "username", json_object_new_string(label));
		json_object_object_add(consumer, "custom_id", json_object_new_string(key));
		for (size_t g = 0; g < c->peers[i].groups.len; ++g) {
			char group_tag[48];

			snprintf(group_tag, sizeof(group_tag), "group:%s", c->peers[i].groups.v[g]);
			json_object_array_add(t, json_object_new_string(group_tag));
		}
		json_object_object_add(consumer, "tags", t);
		json_object_array_add(consumers, consumer);
	}
	/* who may call at all: the peers and the management sources, as ApiPorts has it */
	for (size_t k = 0; k < o->len; ++k) {
		ip_prefix_format(&o->v[k].prefix, prefix, sizeof(prefix));
		json_object_array_add(allow, json_object_new_string(prefix));
	}
	for (size_t i = 0; i < c->management_sources.len; ++i) {
		ip_prefix_format(&c->management_sources.v[i], prefix, sizeof(prefix));
		json_object_array_add(allow, json_object_new_string(prefix));
	}
	snprintf(instance, sizeof(instance), "wgate-%s", ifname);
	json_object_object_add(plugin, "name", json_object_new_string("ip-restriction"));
	json_object_object_add(plugin, "instance_name", json_object_new_string(instance));
	json_object_object_add(plugin, "tags", tags(tag));
	json_object_object_add(config, "allow", allow);
	json_object_object_add(plugin, "config", config);
	json_object_array_add(plugins, plugin);
	json_object_object_add(doc, "consumers", consumers);
	json_object_object_add(doc, "plugins", plugins);
	return doc;
}

char *gateway_render(const struct config *config, const char *ifname, const char *source,
		     enum gateway_format format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_object *doc = NULL;
	struct owners o;

	if (!owners_build(&o, config))
		return NULL;
	f = open_memstream(&text, &len);
	if (!f) {
		owners_free(&o);
		return NULL;
	}
	switch (format) {
	case GATEWAY_NGINX:
		header(f, "#", ifname, source);
		fputs("# Include in the http block; in a location, for example:\n"
		      "#   if ($wgate_group_orders = 0) { return 403; }\n"
		      "#   proxy_set_header Wgate-Peer $wgate_peer;\n",
		      f);
		nginx(f, config, &o);
		break;
	case GATEWAY_HAPROXY:
		header(f, "#", ifname, source);
		fputs("# Lines \"PREFIX NAME;,GROUP,...,\" for map_ip, for example:\n"
		      "#   http-request set-var(txn.wgate) src,map_ip(THIS_FILE)\n"
		      "#   http-request deny unless { var(txn.wgate) -m sub ;,orders, }\n"
		      "#   http-request set-header Wgate-Peer %[var(txn.wgate),field(1,;)]\n",
		      f);
		haproxy(f, config, &o);
		break;
	case GATEWAY_ENVOY:
		doc = envoy(config, &o);
		break;
	case GATEWAY_KONG:
		doc = kong(config, &o, ifname);
		break;
	case GATEWAY_FORMATS:
		break;
	}
	if (doc) {
		fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
		      f);
		fputc('\n', f);
		json_object_put(doc);
	}
	owners_free(&o);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Whether path holds exactly text. */
static bool same_content(const char *path, const char *text)
{
	size_t len = strlen(text);
	char *old = malloc(len + 2);
	FILE *f = fopen(path, "re");
	bool same = false;

	if (f && old)
		same = fread(old, 1, len + 1, f) == len && !memcmp(old, text, len);
	if (f)
		fclose(f);
	free(old);
	return same;
}

/* Writes path.wgate-tmp, then renames it over path; false with errno set. */
static bool write_atomically(const char *path, const char *text)
{
	char tmp[4200];
	size_t len = strlen(text);
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.wgate-tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return false;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return false;
	if (fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0 &&
	    close(fd) == 0)
		return rename(tmp, path) == 0 || (saved = errno, unlink(tmp), errno = saved, false);
	saved = errno;
	close(fd);
	unlink(tmp);
	errno = saved;
	return false;
}

bool gateway_sync(const struct config *config, const char *ifname, const char *source, char *err,
		  size_t err_len)
{
	bool changed = false, ok = true;

	for (size_t i = 0; i < config->gateway_outputs_len; ++i) {
		const struct gateway_output *out = &config->gateway_outputs[i];
		char *text = gateway_render(config, ifname, source, out->format);

		if (!text) {
			snprintf(err, err_len, "GatewayConfig %s: out of memory", out->path);
			ok = false;
			continue;
		}
		if (!same_content(out->path, text)) {
			if (write_atomically(out->path, text)) {
				changed = true;
				log_info("event=gateway_config_written format=%s path=%s",
					 gateway_format_name(out->format), out->path);
			} else {
				snprintf(err, err_len, "GatewayConfig: cannot write %s: %s",
					 out->path, strerror(errno));
				ok = false;
			}
		}
		free(text);
	}
	if (changed && config->gateway_reload.len) {
		char hook_err[400];

		log_info("event=audit action=gateway_reload commands=%zu",
			 config->gateway_reload.len);
		/* the gateway may not run yet (it starts after the tunnel): said, not fatal */
		if (!netconf_run_hooks(&config->gateway_reload, ifname, false, hook_err,
				       sizeof(hook_err)))
			log_error("event=gateway_reload_failed msg=\"%s\"", hook_err);
	}
	return ok;
}
