// SPDX-License-Identifier: MIT
/*
 * wgate set and wgate syncconf: wg(8)'s set and syncconf, over the control
 * socket. Arguments and files are checked whole before anything is sent, and
 * the daemon applies a request whole or not at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/secret_stream.h"
#include "control/uapi.h"

static void put_key(FILE *f, const char *name, const uint8_t key[KEY_LEN])
{
	char hex[KEY_HEX_LEN + 1];

	key_to_hex(hex, key);
	fprintf(f, "%s=%s\n", name, hex);
	crypto_wipe(hex, sizeof(hex));
}

static void put_endpoint(FILE *f, const union sockaddr_any *ep)
{
	char text[64];

	if (ep->sa.sa_family == AF_UNSPEC)
		return;
	sockaddr_format(ep, text, sizeof(text));
	fprintf(f, "endpoint=%s\n", text);
}

/* Sends a finished request; prints why it failed. */
static int send_request(const char *cmd, const char *ifname, char *request, size_t len)
{
	char *answer = uapi_request(ifname, request);
	int status;

	crypto_wipe(request, len);
	free(request);
	if (!answer) {
		cli_error("wgate %s: cannot reach `%s': %s\n", cmd, ifname,
			  errno == ENOENT ? "no such interface (no control socket)"
					  : strerror(errno));
		return 1;
	}
	status = strstr(answer, "errno=") ? atoi(strstr(answer, "errno=") + 6) : -EPROTO;
	crypto_wipe(answer, strlen(answer));
	free(answer);
	if (status) {
		cli_error("wgate %s: `%s' refused the change: %s; nothing was changed\n", cmd,
			  ifname, strerror(-status));
		return 1;
	}
	return 0;
}

/* Reads a base64 key from a file, as wg set does (the file "/dev/null" means none). */
static bool key_from_file(uint8_t key[KEY_LEN], const char *path, const char *what)
{
	char err[256], *text, *start, *end;
	size_t len;
	bool ok;

	text = read_file(path, 4096, &len, err, sizeof(err));
	if (!text) {
		cli_error("wgate set: %s: %s\n", what, err);
		return false;
	}
	for (start = text; *start == ' ' || *start == '\t' || *start == '\n'; ++start)
		;
	for (end = start + strlen(start); end > start && (end[-1] == '\n' || end[-1] == ' ' ||
							  end[-1] == '\r' || end[-1] == '\t');)
		*--end = '\0';
	ok = !*start ? (memset(key, 0, KEY_LEN), true) : key_from_base64(key, start);
	if (!ok)
		cli_error("wgate set: %s: `%s' does not hold a base64 key\n", what, path);
	crypto_wipe(text, len);
	free(text);
	return ok;
}

/* host:port or [v6]:port, resolved, as wg set accepts endpoints. */
static bool endpoint_from_arg(union sockaddr_any *out, const char *arg)
{
	char text[600], err[512];
	struct config c;
	bool ok;

	/* The config parser knows every endpoint rule and error; let it judge. */
	snprintf(text, sizeof(text), "[Peer]\nPublicKey = %s\nEndpoint = %s\n",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", arg);
	ok = config_parse(&c, text, strlen(text), "endpoint", err, sizeof(err));
	if (ok && c.peers[0].endpoints_len != 1) {
		ok = false;
		snprintf(err, sizeof(err), "x endpoint `%s' is not one host:port", arg);
	}
	ok = ok && config_resolve_endpoints(&c, NULL, NULL, err, sizeof(err));
	if (ok)
		*out = c.peers[0].endpoints[0].addr;
	else
		cli_error("wgate set: %s\n", strchr(err, ' ') ? strchr(err, ' ') + 1 : err);
	config_free(&c); /* safe on the zeroed struct a failed parse leaves */
	return ok;
}

/* A prefix the set gives a peer. */
struct given {
	uint8_t peer[KEY_LEN];
	struct ip_prefix prefix;
};

static bool same_network(const struct ip_prefix *a, const struct ip_prefix *b)
{
	struct ip_prefix x = ip_prefix_network(a), y = ip_prefix_network(b);

	return x.family == y.family && x.cidr == y.cidr &&
	       !memcmp(&x.addr, &y.addr, x.family == AF_INET ? 4 : 16);
}

/*
 * Says which prefixes the set moves off another running peer: WireGuard gives
 * an address to one peer only, so the other loses it (the daemon's audit
 * trail says so too).
 */
static void warn_moves(const char *ifname, const struct given *given, size_t n)
{
	char *answer = n ? uapi_request_identity(ifname) : NULL;
	struct uapi_state state;

	if (!answer || !uapi_state_parse(&state, answer)) {
		free(answer);
		return;
	}
	crypto_wipe(answer, strlen(answer));
	free(answer);
	for (size_t i = 0; i < n; ++i)
		for (size_t k = 0; k < state.peers_len; ++k) {
			const struct uapi_peer_state *p = &state.peers[k];

			if (crypto_equal(p->public_key, given[i].peer, KEY_LEN))
				continue;
			for (size_t j = 0; j < p->allowed_ips_len; ++j) {
				char text[64], from[KEY_BASE64_LEN + 1], to[KEY_BASE64_LEN + 1];

				if (!same_network(&p->allowed_ips[j], &given[i].prefix))
					continue;
				ip_prefix_format(&given[i].prefix, text, sizeof(text));
				key_to_base64(from, p->public_key);
				key_to_base64(to, given[i].peer);
				fprintf(stderr,
					"wgate set: warning: %s moves from peer %s%s%s%s to %s: an "
					"address belongs to one peer only\n",
					text, p->name ? p->name : from, p->name ? " (" : "",
					p->name ? from : "", p->name ? ")" : "", to);
			}
		}
	uapi_state_free(&state);
}

int cmd_set(int argc, char **argv)
{
	struct secret_stream rq; /* the request may carry keys */
	char *request = NULL;
	size_t len = 0;
	FILE *f;
	bool in_peer = false;
	uint8_t key[KEY_LEN], peer[KEY_LEN];
	struct given *given = NULL;
	size_t given_len = 0;
	int status;

	if (argc < 3 || wants_help(argc, argv)) {
		bool help = wants_help(argc, argv);

		fprintf(
		    help ? stdout : stderr,
		    "Usage: wgate set INTERFACE [listen-port PORT] [fwmark MARK] "
		    "[private-key FILE]\n"
		    "        [peer PUBLIC_KEY [remove] [preshared-key FILE] [endpoint HOST:PORT]\n"
		    "        [persistent-keepalive SECONDS|off] [allowed-ips IP/CIDR[,...]]]...\n\n"
		    "Changes a running interface as wg set does; all or nothing.\n");
		return !help;
	}
	f = secret_stream_open(&rq);
	if (!f)
		return 1;
	fputs("set=1\n", f);
	for (int i = 2; i < argc; ++i) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(opt, "remove") && in_peer) {
			fputs("remove=true\n", f);
			continue;
		}
		if (!val) {
			cli_error("wgate set: `%s' needs a value\n", opt);
			goto fail;
		}
		++i;
		if (!strcmp(opt, "listen-port") && !in_peer) {
			if (!parse_uint(val, 65535, false, &n)) {
				cli_error("wgate set: listen-port `%s' is not a port\n", val);
				goto fail;
			}
			fprintf(f, "listen_port=%" PRIu64 "\n", n);
		} else if (!strcmp(opt, "fwmark") && !in_peer) {
			if (!parse_uint_or_off(val, UINT32_MAX, true, &n)) {
				fprintf(
				    stderr,
				    "wgate set: fwmark `%s' is not `off' or a number (decimal, or "
				    "hexadecimal after 0x)\n",
				    val);
				goto fail;
			}
			fprintf(f, "fwmark=%" PRIu64 "\n", n);
		} else if (!strcmp(opt, "private-key") && !in_peer) {
			if (!key_from_file(key, val, "private-key"))
				goto fail;
			put_key(f, "private_key", key);
		} else if (!strcmp(opt, "peer")) {
			if (!key_from_base64(key, val)) {
				cli_error("wgate set: peer `%s' is not a base64 public key\n", val);
				goto fail;
			}
			put_key(f, "public_key", key);
			memcpy(peer, key, KEY_LEN);
			in_peer = true;
		} else if (!strcmp(opt, "preshared-key") && in_peer) {
			if (!key_from_file(key, val, "preshared-key"))
				goto fail;
			put_key(f, "preshared_key", key);
		} else if (!strcmp(opt, "endpoint") && in_peer) {
			union sockaddr_any ep;

			if (!endpoint_from_arg(&ep, val))
				goto fail;
			put_endpoint(f, &ep);
		} else if (!strcmp(opt, "persistent-keepalive") && in_peer) {
			if (!parse_uint_or_off(val, 65535, false, &n)) {
				cli_error("wgate set: persistent-keepalive `%s' is not `off' or "
					  "seconds\n",
					  val);
				goto fail;
			}
			fprintf(f, "persistent_keepalive_interval=%" PRIu64 "\n", n);
		} else if (!strcmp(opt, "allowed-ips") && in_peer) {
			char *list = strdup(val), *item, *save = list;

			fputs("replace_allowed_ips=true\n", f);
			while (list && (item = strsep(&save, ","))) {
				struct ip_prefix p;
				char text[64];

				while (*item == ' ')
					++item;
				if (!*item)
					continue;
				if (!ip_prefix_parse(&p, item, false)) {
					fprintf(
					    stderr,
					    "wgate set: allowed-ips entry `%s' is not IP/CIDR\n",
					    item);
					free(list);
					goto fail;
				}
				ip_prefix_format(&p, text, sizeof(text));
				fprintf(f, "allowed_ip=%s\n", text);
				struct given *more =
				    realloc(given, (given_len + 1) * sizeof(*given));

				if (more) {
					given = more;
					memcpy(given[given_len].peer, peer, KEY_LEN);
					given[given_len++].prefix = p;
				}
			}
			free(list);
		} else {
			cli_error("wgate set: unknown or misplaced option `%s'\n", opt);
			goto fail;
		}
	}
	fputs("\n", f);
	request = secret_stream_close(&rq, &len);
	crypto_wipe(key, sizeof(key));
	if (request)
		warn_moves(argv[1], given, given_len);
	free(given);
	status = request ? send_request("set", argv[1], request, len) : 1;
	return status;
fail:
	free(given);
	request = secret_stream_close(&rq, &len);
	crypto_wipe(key, sizeof(key));
	if (request)
		crypto_wipe(request, len);
	free(request);
	return 1;
}

int cmd_syncconf(int argc, char **argv)
{
	struct config c;
	struct secret_stream rq;
	char err[512], *request = NULL, *current, *line, *save;
	size_t len = 0, current_len;
	FILE *f;

	if (argc != 3 || wants_help(argc, argv)) {
		bool help = wants_help(argc, argv);

		fprintf(help ? stdout : stderr,
			"Usage: wgate syncconf INTERFACE FILE\n\n"
			"Makes the interface's peers match FILE, as wg syncconf does, without\n"
			"disturbing the sessions of peers that stay. FILE may be in the wg-quick\n"
			"format: its wg-quick keys are ignored here (see wgate reload).\n");
		return !help;
	}
	if (!config_load(&c, argv[2], err, sizeof(err)) ||
	    !config_resolve_endpoints(&c, NULL, NULL, err, sizeof(err))) {
		cli_error("wgate syncconf: %s\nwgate syncconf: nothing was changed\n", err);
		config_free(&c);
		return 1;
	}
	current = uapi_request(argv[1], "get=1\n\n");
	if (!current) {
		cli_error("wgate syncconf: cannot reach `%s': %s\n", argv[1], strerror(errno));
		config_free(&c);
		return 1;
	}
	current_len = strlen(current);
	f = secret_stream_open(&rq);
	if (!f) {
		config_free(&c);
		crypto_wipe(current, current_len);
		free(current);
		return 1;
	}
	fputs("set=1\n", f);
	if (c.has_private_key)
		put_key(f, "private_key", c.private_key);
	if (c.has_listen_port)
		fprintf(f, "listen_port=%u\n", c.listen_port);
	if (c.has_fwmark)
		fprintf(f, "fwmark=%u\n", c.fwmark);
	/* peers the file no longer has */
	for (save = current; (line = strsep(&save, "\n"));) {
		uint8_t key[KEY_LEN];
		bool keep = false;

		if (strncmp(line, "public_key=", 11) || !key_from_hex(key, line + 11))
			continue;
		for (size_t i = 0; i < c.peers_len && !keep; ++i)
			keep = crypto_equal(c.peers[i].public_key, key, KEY_LEN);
		if (!keep)
			fprintf(f, "%s\nremove=true\n", line);
	}
	for (size_t i = 0; i < c.peers_len; ++i) {
		const struct peer_config *p = &c.peers[i];
		static const uint8_t none[KEY_LEN];

		put_key(f, "public_key", p->public_key);
		put_key(f, "preshared_key", p->has_preshared_key ? p->preshared_key : none);
		uapi_put_endpoints(f, p);
		fprintf(f, "persistent_keepalive_interval=%u\nreplace_allowed_ips=true\n",
			p->persistent_keepalive);
		for (size_t j = 0; j < p->allowed_ips_len; ++j) {
			char text[64];

			ip_prefix_format(&p->allowed_ips[j], text, sizeof(text));
			fprintf(f, "allowed_ip=%s\n", text);
		}
	}
	fputs("\n", f);
	request = secret_stream_close(&rq, &len);
	crypto_wipe(current, current_len);
	free(current);
	config_free(&c);
	return request ? send_request("syncconf", argv[1], request, len) : 1;
}
