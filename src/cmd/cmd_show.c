// SPDX-License-Identifier: MIT
/*
 * wgate show and wgate showconf: a get over the control socket, printed as
 * wg(8) prints it, or as JSON (schema "wgate.show/1", in wgate(8)).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <json-c/json.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "control/uapi.h"

struct shown_peer {
	uint8_t public_key[KEY_LEN];
	bool has_psk;
	uint8_t psk[KEY_LEN];
	char endpoint[INET6_ADDRSTRLEN + 16];
	long long handshake_sec;
	unsigned long long rx, tx;
	unsigned keepalive;
	char *allowed_ips;	   /* "a, b, c" */
	const char *name, *groups; /* in the answer's text; NULL when none */
	long long expires;	   /* UNIX seconds; 0 never */
	const char *endpoints;	   /* several to fail over between ("a,b"); NULL none */
	unsigned endpoint_index;
	unsigned long long failovers, failbacks;
};

struct shown {
	bool has_private_key;
	uint8_t private_key[KEY_LEN], public_key[KEY_LEN];
	unsigned listen_port, fwmark;
	struct shown_peer *peers;
	size_t peers_len;
};

static void append(char **list, const char *item)
{
	size_t old = *list ? strlen(*list) : 0;
	char *bigger = realloc(*list, old + strlen(item) + 3);

	if (!bigger)
		return;
	sprintf(bigger + old, "%s%s", old ? ", " : "", item);
	*list = bigger;
}

static bool parse(struct shown *s, char *text)
{
	struct shown_peer *peer = NULL;
	char *line, *save = text;
	int status = -1;

	memset(s, 0, sizeof(*s));
	while ((line = strsep(&save, "\n"))) {
		char *value = strchr(line, '=');

		if (!value)
			continue;
		*value++ = '\0';
		if (!strcmp(line, "errno")) {
			status = atoi(value);
		} else if (!strcmp(line, "private_key")) {
			s->has_private_key = key_from_hex(s->private_key, value) &&
					     x25519_public(s->public_key, s->private_key);
		} else if (!strcmp(line, "listen_port")) {
			s->listen_port = (unsigned)strtoul(value, NULL, 10);
		} else if (!strcmp(line, "fwmark")) {
			s->fwmark = (unsigned)strtoul(value, NULL, 10);
		} else if (!strcmp(line, "public_key")) {
			struct shown_peer *bigger =
			    realloc(s->peers, (s->peers_len + 1) * sizeof(*s->peers));

			if (!bigger)
				return false;
			s->peers = bigger;
			peer = &s->peers[s->peers_len++];
			memset(peer, 0, sizeof(*peer));
			key_from_hex(peer->public_key, value);
		} else if (peer && !strcmp(line, "wgate_name")) {
			peer->name = value;
		} else if (peer && !strcmp(line, "wgate_groups")) {
			peer->groups = value;
		} else if (peer && !strcmp(line, "wgate_expires")) {
			peer->expires = strtoll(value, NULL, 10);
		} else if (peer && !strcmp(line, "wgate_endpoints")) {
			peer->endpoints = value;
		} else if (peer && !strcmp(line, "wgate_endpoint_index")) {
			peer->endpoint_index = (unsigned)strtoul(value, NULL, 10);
		} else if (peer && !strcmp(line, "wgate_failovers")) {
			peer->failovers = strtoull(value, NULL, 10);
		} else if (peer && !strcmp(line, "wgate_failbacks")) {
			peer->failbacks = strtoull(value, NULL, 10);
		} else if (peer && !strcmp(line, "preshared_key")) {
			peer->has_psk =
			    key_from_hex(peer->psk, value) && !crypto_is_zero(peer->psk, KEY_LEN);
		} else if (peer && !strcmp(line, "endpoint")) {
			snprintf(peer->endpoint, sizeof(peer->endpoint), "%s", value);
		} else if (peer && !strcmp(line, "last_handshake_time_sec")) {
			peer->handshake_sec = strtoll(value, NULL, 10);
		} else if (peer && !strcmp(line, "rx_bytes")) {
			peer->rx = strtoull(value, NULL, 10);
		} else if (peer && !strcmp(line, "tx_bytes")) {
			peer->tx = strtoull(value, NULL, 10);
		} else if (peer && !strcmp(line, "persistent_keepalive_interval")) {
			peer->keepalive = (unsigned)strtoul(value, NULL, 10);
		} else if (peer && !strcmp(line, "allowed_ip")) {
			append(&peer->allowed_ips, value);
		}
	}
	return status == 0;
}

static void shown_free(struct shown *s)
{
	for (size_t i = 0; i < s->peers_len; ++i)
		free(s->peers[i].allowed_ips);
	if (s->peers)
		crypto_wipe(s->peers, s->peers_len * sizeof(*s->peers));
	free(s->peers);
	crypto_wipe(s, sizeof(*s));
}

/* "endpoints: a (in use), b; 1 failover, 1 failback" */
static void print_endpoints(const struct shown_peer *p)
{
	unsigned i = 0;

	printf("  endpoints: ");
	for (const char *at = p->endpoints; *at; ++i) {
		size_t len = strcspn(at, ",");

		printf("%s%.*s%s", i ? ", " : "", (int)len, at,
		       i == p->endpoint_index ? " (in use)" : "");
		at += len + (at[len] == ',');
	}
	printf("; %llu failover%s, %llu failback%s\n", p->failovers, p->failovers == 1 ? "" : "s",
	       p->failbacks, p->failbacks == 1 ? "" : "s");
}

/* Most recent handshake first, as wg(8) orders peers. */
static int by_handshake(const void *a, const void *b)
{
	const struct shown_peer *x = a, *y = b;

	return (y->handshake_sec > x->handshake_sec) - (y->handshake_sec < x->handshake_sec);
}

static void print_bytes(unsigned long long n)
{
	if (n < 1024)
		printf("%llu B", n);
	else if (n < 1024ull * 1024)
		printf("%.2f KiB", n / 1024.0);
	else if (n < 1024ull * 1024 * 1024)
		printf("%.2f MiB", n / (1024.0 * 1024));
	else if (n < 1024ull * 1024 * 1024 * 1024)
		printf("%.2f GiB", n / (1024.0 * 1024 * 1024));
	else
		printf("%.2f TiB", n / (1024.0 * 1024 * 1024 * 1024));
}

static void print_age(long long seconds)
{
	static const struct {
		long long size;
		const char *name;
	} units[] = {
	    {365 * 86400LL, "year"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
	bool first = true;

	if (seconds <= 0) {
		printf("Now");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); ++i) {
		long long n = seconds / units[i].size;

		if (!n)
			continue;
		seconds %= units[i].size;
		printf("%s%lld %s%s", first ? "" : ", ", n, units[i].name, n == 1 ? "" : "s");
		first = false;
	}
	printf(" ago");
}

static void print_text(const char *ifname, struct shown *s)
{
	char b64[KEY_BASE64_LEN + 1];
	long long now = (long long)time(NULL);

	printf("interface: %s\n", ifname);
	if (s->has_private_key) {
		key_to_base64(b64, s->public_key);
		printf("  public key: %s\n  private key: (hidden)\n", b64);
	}
	if (s->listen_port)
		printf("  listening port: %u\n", s->listen_port);
	if (s->fwmark)
		printf("  fwmark: 0x%x\n", s->fwmark);
	qsort(s->peers, s->peers_len, sizeof(*s->peers), by_handshake);
	for (size_t i = 0; i < s->peers_len; ++i) {
		struct shown_peer *p = &s->peers[i];

		key_to_base64(b64, p->public_key);
		printf("\npeer: %s\n", b64);
		if (p->name)
			printf("  name: %s\n", p->name);
		if (p->groups)
			printf("  groups: %s\n", p->groups);
		if (p->expires) {
			char when[32];
			time_t t = (time_t)p->expires;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
			printf("  expires: %s%s\n", when, p->expires <= now ? " (expired)" : "");
		}
		if (p->has_psk)
			printf("  preshared key: (hidden)\n");
		if (*p->endpoint)
			printf("  endpoint: %s\n", p->endpoint);
		if (p->endpoints)
			print_endpoints(p);
		printf("  allowed ips: %s\n", p->allowed_ips ? p->allowed_ips : "(none)");
		if (p->handshake_sec) {
			printf("  latest handshake: ");
			print_age(now - p->handshake_sec);
			printf("\n");
		}
		if (p->rx || p->tx) {
			printf("  transfer: ");
			print_bytes(p->rx);
			printf(" received, ");
			print_bytes(p->tx);
			printf(" sent\n");
		}
		if (p->keepalive)
			printf("  persistent keepalive: every %u second%s\n", p->keepalive,
			       p->keepalive == 1 ? "" : "s");
	}
}

static void add_string(json_object *obj, const char *name, const char *value)
{
	json_object_object_add(obj, name, value ? json_object_new_string(value) : NULL);
}

/* One interface as the wgate.show/1 schema has it (wgate(8)); json-c escapes every string. */
static json_object *interface_json(const char *ifname, struct shown *s)
{
	json_object *iface = json_object_new_object(), *peers = json_object_new_array();
	char b64[KEY_BASE64_LEN + 1];
	long long now = (long long)time(NULL);

	add_string(iface, "name", ifname);
	if (s->has_private_key) {
		key_to_base64(b64, s->public_key);
		add_string(iface, "public_key", b64);
	}
	json_object_object_add(iface, "listen_port", json_object_new_int64(s->listen_port));
	json_object_object_add(iface, "fwmark", json_object_new_int64(s->fwmark));
	for (size_t i = 0; i < s->peers_len; ++i) {
		struct shown_peer *p = &s->peers[i];
		json_object *peer = json_object_new_object(), *ips = json_object_new_array(),
			    *groups = json_object_new_array();
		char *item, *save = NULL;

		key_to_base64(b64, p->public_key);
		add_string(peer, "public_key", b64);
		add_string(peer, "name", p->name);
		json_object_object_add(peer, "expires",
				       p->expires ? json_object_new_int64(p->expires) : NULL);
		json_object_object_add(peer, "groups", groups);
		for (item = p->groups ? strtok_r((char *)p->groups, ",", &save) : NULL; item;
		     item = strtok_r(NULL, ",", &save))
			json_object_array_add(groups, json_object_new_string(item));
		json_object_object_add(peer, "preshared_key", json_object_new_boolean(p->has_psk));
		add_string(peer, "endpoint", *p->endpoint ? p->endpoint : NULL);
		if (p->endpoints) {
			json_object *list = json_object_new_array();
			char *copy = strdup(p->endpoints), *at = copy;

			for (item = copy ? strtok_r(at, ",", &save) : NULL; item;
			     item = strtok_r(NULL, ",", &save))
				json_object_array_add(list, json_object_new_string(item));
			free(copy);
			json_object_object_add(peer, "endpoints", list);
			json_object_object_add(peer, "endpoint_index",
					       json_object_new_int64(p->endpoint_index));
			json_object_object_add(peer, "failovers",
					       json_object_new_int64((int64_t)p->failovers));
			json_object_object_add(peer, "failbacks",
					       json_object_new_int64((int64_t)p->failbacks));
		}
		for (item = p->allowed_ips ? strtok_r(p->allowed_ips, ", ", &save) : NULL; item;
		     item = strtok_r(NULL, ", ", &save))
			json_object_array_add(ips, json_object_new_string(item));
		json_object_object_add(peer, "allowed_ips", ips);
		json_object_object_add(peer, "latest_handshake",
				       json_object_new_int64(p->handshake_sec));
		json_object_object_add(
		    peer, "latest_handshake_age_seconds",
		    p->handshake_sec ? json_object_new_int64(now - p->handshake_sec) : NULL);
		json_object_object_add(peer, "rx_bytes", json_object_new_uint64(p->rx));
		json_object_object_add(peer, "tx_bytes", json_object_new_uint64(p->tx));
		json_object_object_add(peer, "persistent_keepalive",
				       json_object_new_int64(p->keepalive));
		json_object_array_add(peers, peer);
	}
	json_object_object_add(iface, "peers", peers);
	return iface;
}

static void print_conf(struct shown *s)
{
	char b64[KEY_BASE64_LEN + 1];

	printf("[Interface]\n");
	if (s->listen_port)
		printf("ListenPort = %u\n", s->listen_port);
	if (s->fwmark)
		printf("FwMark = 0x%x\n", s->fwmark);
	if (s->has_private_key) {
		key_to_base64(b64, s->private_key);
		printf("PrivateKey = %s\n", b64);
		crypto_wipe(b64, sizeof(b64));
	}
	for (size_t i = 0; i < s->peers_len; ++i) {
		struct shown_peer *p = &s->peers[i];

		key_to_base64(b64, p->public_key);
		printf("\n[Peer]\nPublicKey = %s\n", b64);
		if (p->has_psk) {
			key_to_base64(b64, p->psk);
			printf("PresharedKey = %s\n", b64);
			crypto_wipe(b64, sizeof(b64));
		}
		if (p->allowed_ips)
			printf("AllowedIPs = %s\n", p->allowed_ips);
		if (*p->endpoint)
			printf("Endpoint = %s\n", p->endpoint);
		if (p->keepalive)
			printf("PersistentKeepalive = %u\n", p->keepalive);
	}
}

/* The names of the interfaces whose control sockets exist, sorted. */
static size_t list_interfaces(char names[][IFNAMSIZ], size_t max)
{
	DIR *dir = opendir(UAPI_SOCKET_DIR);
	struct dirent *e;
	size_t n = 0;

	while (dir && (e = readdir(dir)) && n < max) {
		size_t len = strlen(e->d_name);

		if (len > 5 && len - 5 < IFNAMSIZ && !strcmp(e->d_name + len - 5, ".sock"))
			snprintf(names[n++], IFNAMSIZ, "%.*s", (int)(len - 5), e->d_name);
	}
	if (dir)
		closedir(dir);
	qsort(names, n, IFNAMSIZ, (int (*)(const void *, const void *))strcmp);
	return n;
}

static const char *const fields[] = {"public-key",
				     "private-key",
				     "listen-port",
				     "fwmark",
				     "peers",
				     "preshared-keys",
				     "endpoints",
				     "allowed-ips",
				     "latest-handshakes",
				     "transfer",
				     "persistent-keepalive",
				     "dump",
				     "names"};

static bool is_field(const char *word)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i)
		if (!strcmp(word, fields[i]))
			return true;
	return false;
}

static void key_text(char out[KEY_BASE64_LEN + 1], const uint8_t *key)
{
	key_to_base64(out, key);
}

/* The allowed IPs as wg(8) prints them: sep between them (dump: ','); "(none)" for none. */
static void print_ips(const struct shown_peer *p, char sep)
{
	if (!p->allowed_ips) {
		fputs("(none)", stdout);
		return;
	}
	for (const char *c = p->allowed_ips; *c; ++c)
		if (!(c[0] == ' ' && c > p->allowed_ips && c[-1] == ','))
			putchar(*c == ',' ? sep : *c);
}

/*
 * One field of wg show's, as wg(8) prints it (tab-separated, for scripts),
 * prefixed by the interface's name for `all'; "names" is wgate's own: each
 * peer's Name.
 */
static void print_field(const char *ifname, const struct shown *s, const char *field, bool all)
{
	char key[KEY_BASE64_LEN + 1], psk[KEY_BASE64_LEN + 1];
	const char *pre = all ? ifname : "", *tab = all ? "\t" : "";

	if (!strcmp(field, "public-key") || !strcmp(field, "private-key")) {
		if (s->has_private_key)
			key_text(key, field[1] == 'u' ? s->public_key : s->private_key);
		printf("%s%s%s\n", pre, tab, s->has_private_key ? key : "(none)");
		crypto_wipe(key, sizeof(key));
		return;
	}
	if (!strcmp(field, "listen-port")) {
		printf("%s%s%u\n", pre, tab, s->listen_port);
		return;
	}
	if (!strcmp(field, "fwmark")) {
		if (s->fwmark)
			printf("%s%s0x%x\n", pre, tab, s->fwmark);
		else
			printf("%s%soff\n", pre, tab);
		return;
	}
	if (!strcmp(field, "dump")) {
		if (s->has_private_key)
			key_text(key, s->private_key);
		key_text(psk, s->public_key);
		printf("%s%s%s\t%s\t%u\t", pre, tab, s->has_private_key ? key : "(none)",
		       s->has_private_key ? psk : "(none)", s->listen_port);
		if (s->fwmark)
			printf("0x%x\n", s->fwmark);
		else
			puts("off");
		crypto_wipe(key, sizeof(key));
	}
	for (size_t i = 0; i < s->peers_len; ++i) {
		const struct shown_peer *p = &s->peers[i];

		key_text(key, p->public_key);
		printf("%s%s%s", pre, tab, key);
		if (!strcmp(field, "peers")) {
			putchar('\n');
			continue;
		}
		putchar('\t');
		if (!strcmp(field, "preshared-keys") || !strcmp(field, "dump")) {
			if (p->has_psk)
				key_text(psk, p->psk);
			printf("%s", p->has_psk ? psk : "(none)");
			crypto_wipe(psk, sizeof(psk));
			if (!strcmp(field, "preshared-keys")) {
				putchar('\n');
				continue;
			}
			putchar('\t');
		}
		if (!strcmp(field, "endpoints") || !strcmp(field, "dump"))
			printf("%s%s", *p->endpoint ? p->endpoint : "(none)",
			       !strcmp(field, "dump") ? "\t" : "\n");
		if (!strcmp(field, "allowed-ips") || !strcmp(field, "dump")) {
			print_ips(p, !strcmp(field, "dump") ? ',' : ' ');
			fputs(!strcmp(field, "dump") ? "\t" : "\n", stdout);
		}
		if (!strcmp(field, "latest-handshakes") || !strcmp(field, "dump"))
			printf("%lld%s", p->handshake_sec, !strcmp(field, "dump") ? "\t" : "\n");
		if (!strcmp(field, "transfer") || !strcmp(field, "dump"))
			printf("%llu\t%llu%s", p->rx, p->tx, !strcmp(field, "dump") ? "\t" : "\n");
		if (!strcmp(field, "persistent-keepalive") || !strcmp(field, "dump")) {
			if (p->keepalive)
				printf("%u\n", p->keepalive);
			else
				puts("off");
		}
		if (!strcmp(field, "names"))
			printf("%s\n", p->name && *p->name ? p->name : "(none)");
	}
}

static int show(int argc, char **argv, bool conf)
{
	static char names[256][IFNAMSIZ];
	json_object *doc = NULL, *interfaces = NULL;
	const char *field = NULL;
	bool json = false, all = false;
	size_t count = 0;
	int status = 0;

	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--json") && !conf) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf(
			    conf ? "Usage: wgate showconf INTERFACE\n\nPrints the running "
				   "configuration in the wg(8) format (secrets included).\n"
				 : "Usage: wgate show [INTERFACE | all] [--json | FIELD]\n\nShows "
				   "interfaces as wg show does (keys hidden), or as JSON for\n"
				   "scripts. A FIELD prints that field alone, tab-separated, as wg "
				   "show does:\npublic-key, private-key, listen-port, fwmark, "
				   "peers, "
				   "preshared-keys, endpoints,\nallowed-ips, latest-handshakes, "
				   "transfer, persistent-keepalive, dump; and wgate's\nown names "
				   "(each peer's Name).\n");
			return 0;
		} else if (!conf && !field && (count || all) && is_field(argv[i])) {
			field = argv[i];
		} else if (!conf && !count && !all && !strcmp(argv[i], "all")) {
			all = true;
		} else if (argv[i][0] != '-' && count < 1 && strlen(argv[i]) < IFNAMSIZ) {
			snprintf(names[count++], IFNAMSIZ, "%s", argv[i]);
		} else {
			cli_error("wgate %s: unexpected argument `%s'\n", argv[0], argv[i]);
			return 1;
		}
	}
	if (conf && count != 1) {
		cli_error("Usage: wgate showconf INTERFACE\n");
		return 1;
	}
	if (field && json) {
		cli_error("wgate show: --json and a field do not go together\n");
		return 1;
	}
	if (!count)
		count = list_interfaces(names, 256);
	if (json) {
		doc = json_object_new_object();
		interfaces = json_object_new_array();
		json_object_object_add(doc, "schema", json_object_new_string("wgate.show/1"));
		json_object_object_add(doc, "interfaces", interfaces);
	}
	for (size_t i = 0; i < count; ++i) {
		struct shown s;
		char *text = uapi_request_identity(names[i]);

		if (!text || !parse(&s, text)) {
			cli_error("wgate %s: cannot read interface `%s': %s\n", argv[0], names[i],
				  text		    ? "bad answer from its control socket"
				  : errno == ENOENT ? "no such interface (no control socket)"
						    : strerror(errno));
			if (text) {
				shown_free(&s);
				crypto_wipe(text, strlen(text)); /* it holds the keys */
				free(text);
			}
			status = 1;
			continue;
		}
		if (json)
			json_object_array_add(interfaces, interface_json(names[i], &s));
		else if (field)
			print_field(names[i], &s, field, all);
		else if (conf)
			print_conf(&s);
		else {
			if (i)
				printf("\n");
			print_text(names[i], &s);
		}
		shown_free(&s);
		crypto_wipe(text, strlen(text)); /* it holds the keys */
		free(text);
	}
	if (json) {
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	return status;
}

int cmd_show(int argc, char **argv)
{
	return show(argc, argv, false);
}

int cmd_showconf(int argc, char **argv)
{
	return show(argc, argv, true);
}
