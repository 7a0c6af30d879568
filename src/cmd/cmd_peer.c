// SPDX-License-Identifier: MIT
/*
 * wgate peer add | list | remove | rotate: the guide's peer lifecycle on the config
 * file, which stays the source of truth (edited in place, comments and order
 * kept, replaced atomically with a backup, under a lock), with the running
 * interface reloaded from it (wgate(8), PEERS).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "config/edit.h"
#include "config/policy.h"
#include "control/uapi.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/hashindex.h"
#include "core/secret_stream.h"
#include "ops/config_file.h"
#include "ops/peer_store.h"
#include "ops/qr.h"

static void usage(FILE *out)
{
	fputs("Usage: wgate peer add <INTERFACE | CONFIG_FILE> NAME [--groups G1,G2]\n"
	      "           [--public-key KEY] [--endpoint HOST:PORT] [--keepalive SECONDS]\n"
	      "           [--expires DATE] [--qr] [--png FILE]\n"
	      "       wgate peer list <INTERFACE | CONFIG_FILE> [--json]\n"
	      "       wgate peer remove <INTERFACE | CONFIG_FILE> <NAME | PUBLIC_KEY>\n"
	      "       wgate peer rotate <INTERFACE | CONFIG_FILE> <NAME | PUBLIC_KEY>\n"
	      "           [--public-key KEY] [--deadline DATE] [--endpoint HOST:PORT]\n"
	      "           [--keepalive SECONDS] [--qr] [--png FILE]\n"
	      "       wgate peer rotate <INTERFACE | CONFIG_FILE> <NAME | PUBLIC_KEY> --cancel\n\n"
	      "add writes a [Peer] for NAME into the config: the next free tunnel address in\n"
	      "each of the interface's subnets, a new key pair (unless the client's public key\n"
	      "is given) and preshared key, the groups, and with --expires (2026-12-31, or\n"
	      "2026-12-31T18:30:00Z) when it stops being let in; then it prints the client's\n"
	      "config\n"
	      "(wg-quick format; its Endpoint is the interface's PublicEndpoint or --endpoint),\n"
	      "with --qr also as a QR code for the terminal, and with --png FILE as a QR code\n"
	      "image (mode 0600: it holds the client's private key), for mobile clients.\n"
	      "list shows the peers with their names, addresses, groups and, when the interface\n"
	      "runs, latest handshake and transfer. remove deletes a peer's [Peer] section.\n"
	      "rotate gives a peer a new key without cutting it off: a new key pair (printed\n"
	      "as the client's new config, as add does) or the client's new public key becomes\n"
	      "its NextPublicKey; both keys are let in until the first handshake with the new\n"
	      "one, which makes it the only one (the config then records it), or until the\n"
	      "--deadline, when the new key is made the only one anyway. --cancel keeps the\n"
	      "old key.\n"
	      "The config keeps its comments and order, is replaced whole (the previous one kept\n"
	      "as FILE.bak), and a running interface is reloaded from it: other peers' sessions\n"
	      "are kept; a removed peer's end at once. See wgate(8), PEERS.\n",
	      out);
}

struct target {
	char path[4096], ifname[IFNAMSIZ];
	bool running;
	struct config config;
	char *text;
	size_t len;
	int lock;
};

static void target_free(struct target *t)
{
	config_free(&t->config);
	if (t->text) {
		crypto_wipe(t->text, t->len);
		free(t->text);
	}
	config_file_unlock(t->lock);
}

/* The config an argument means, locked and read; false with the message said. */
static bool target_open(struct target *t, const char *who, const char *arg, bool lock)
{
	char err[512];

	memset(t, 0, sizeof(*t));
	t->lock = -1;
	if (!config_for_reading(arg, t->path, t->ifname, &t->running)) {
		cli_error("%s: `%s' does not name an interface: name the file NAME.conf\n", who,
			  t->path);
		return false;
	}
	if (lock && (t->lock = config_file_lock(t->path, err, sizeof(err))) < 0) {
		cli_error("%s: %s\n", who, err);
		return false;
	}
	t->text = read_file(t->path, 64 << 20, &t->len, err, sizeof(err));
	/* the peers of PeerDirectory too: their names and addresses are taken */
	if (!t->text || !config_parse_all(&t->config, t->text, t->len, t->path, err, sizeof(err))) {
		cli_error("%s: %s\n", who, err);
		target_free(t);
		return false;
	}
	return true;
}

/*
 * The peer set in etcd: creates key with text, or deletes it (text NULL); the
 * running interfaces' watches apply it. 0, or 1 with the reason said.
 */
static int store_write(const struct target *t, const char *who, const char *key, const char *text,
		       int64_t mod_revision)
{
	char err[512];
	int ret =
	    peer_store_write(&t->config, t->ifname, key, text, mod_revision, err, sizeof(err));

	if (ret)
		cli_error("%s: %s%s\n%s: nothing was changed\n", who,
			  ret < 0 ? "etcd is unreachable or refused: " : "", err, who);
	return ret ? 1 : 0;
}

/*
 * A peer's text edited for the peer set in etcd: checked with the config
 * file's [Interface] (parsed into *edited when non-NULL), then written only
 * if etcd still has the text it was made from (mod_revision).
 */
static int store_commit(const struct target *t, const char *who, const char *key, const char *text,
			size_t len, int64_t mod_revision, struct config *edited)
{
	struct config check;
	char err[512], *both = malloc(t->len + len + 2);
	bool ok;

	if (!both) {
		cli_error("%s: out of memory\n", who);
		return 1;
	}
	memcpy(both, t->text, t->len);
	both[t->len] = '\n';
	memcpy(both + t->len + 1, text, len);
	both[t->len + 1 + len] = '\0';
	ok = config_parse(&check, both, t->len + 1 + len, t->path, err, sizeof(err));
	crypto_wipe(both, t->len + len + 2);
	free(both);
	if (!ok) {
		cli_error("%s: the edited peer would not load: %s\n%s: nothing was changed\n", who,
			  err, who);
		return 1;
	}
	if (store_write(t, who, key, text, mod_revision)) {
		config_free(&check);
		return 1;
	}
	if (edited)
		*edited = check;
	else
		config_free(&check);
	return 0;
}

/* The peer a name or key means, in the config file itself; NULL with the reason said. */
static const struct peer_config *editable_peer(const struct target *t, const char *who,
					       const char *arg)
{
	const struct peer_config *peer = config_find_peer(&t->config, arg);

	if (!peer)
		cli_error("%s: %s has no peer named `%s' (nor with that public key)\n", who,
			  t->path, arg);
	else if (peer->file)
		cli_error("%s: `%s' is defined in %s (PeerDirectory): change that file, and every "
			  "node watching the directory applies it\n",
			  who, arg, peer->file);
	return peer && !peer->file ? peer : NULL;
}

/*
 * Puts text in place of the config (checked whole first) and has a running
 * interface reload it; on a failure the previous file comes back. The check's
 * parse is left in *edited (when non-NULL; the caller frees it) on success.
 */
static int commit(struct target *t, const char *who, const char *text, size_t len,
		  struct config *edited)
{
	struct config check;
	char err[512];

	if (!config_parse_all(&check, text, len, t->path, err, sizeof(err))) {
		cli_error("%s: the edited config would not load: %s\n%s: nothing was changed\n",
			  who, err, who);
		return 1;
	}
	if (edited)
		*edited = check;
	else
		config_free(&check);
	if (!config_file_replace(t->path, text, len, err, sizeof(err))) {
		cli_error("%s: %s\n%s: nothing was changed\n", who, err, who);
		if (edited)
			config_free(edited);
		return 1;
	}
	/* stdout may be the client's config: the reload's word goes to stderr */
	if (t->running && reload_interface(who, t->ifname, stderr)) {
		if (!config_file_restore(t->path, err, sizeof(err))) {
			cli_error("%s: %s\n", who, err);
			if (edited)
				config_free(edited);
			return 1;
		}
		cli_error("%s: %s is as it was\n", who, t->path);
		/*
		 * A reload that fell short of part of the change (a route, the gateway's
		 * config) applied the rest: the interface follows the file back.
		 */
		if (reload_interface(who, t->ifname, stderr))
			cli_error("%s: %s may not be as it was: see its log\n", who, t->ifname);
		if (edited)
			config_free(edited);
		return 1;
	}
	return 0;
}

/* The client's routes: the interface's subnets, and what its rules let it reach beyond. */
static void client_routes(FILE *f, const struct config *c, const struct strv *groups,
			  const struct policy_rules *own)
{
	struct ip_prefix seen[64];
	size_t n = 0;
	char text[64];

	for (size_t i = 0; i < c->addresses_len && n < 64; ++i) {
		if (c->addresses[i].cidr == (c->addresses[i].family == AF_INET ? 32 : 128))
			continue;
		seen[n++] = ip_prefix_network(&c->addresses[i]);
	}
	for (size_t g = 0; g <= groups->len; ++g) {
		const struct policy_rules *rules = own;

		if (g < groups->len)
			for (size_t k = 0; k < c->groups_len; ++k)
				if (!strcmp(c->groups[k].name, groups->v[g]))
					rules = &c->groups[k].allow;
		for (size_t r = 0; rules && r < rules->len && n < 64; ++r) {
			const struct policy_rule *rule = &rules->v[r];
			bool known = false;

			if (rule->gateway || !rule->dest.family)
				continue;
			for (size_t k = 0; k < n; ++k)
				known |= ip_prefix_contains(&seen[k], &rule->dest);
			if (!known)
				seen[n++] = rule->dest;
		}
		if (g == groups->len)
			break;
	}
	fputs("AllowedIPs = ", f);
	for (size_t k = 0; k < n; ++k) {
		ip_prefix_format(&seen[k], text, sizeof(text));
		fprintf(f, "%s%s", k ? ", " : "", text);
	}
	fputc('\n', f);
}

/* The client's config as a QR code: on stdout (qr) and in a PNG file (png); the exit status. */
static int show_qr(const char *who, const char *text, bool qr, const char *png)
{
	int status = 0;

	if (qr) {
		char *art = qr_terminal(text);

		if (!art) {
			cli_error("%s: the config does not fit in a QR code\n", who);
			return 1;
		}
		printf("\n%s", art);
		free(art); /* the picture of a key: no key text */
	}
	if (png) {
		uint8_t *image;
		size_t len;
		FILE *f;
		int fd;

		if (!qr_png(text, 8, &image, &len)) {
			cli_error("%s: the config does not fit in a QR code\n", who);
			return 1;
		}
		fd = open(png, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!f && fd >= 0)
			close(fd);
		if (!f || fchmod(fd, 0600) || fwrite(image, 1, len, f) != len) {
			cli_error("%s: cannot write %s: %s\n", who, png, strerror(errno));
			status = 1;
		}
		if (f && fclose(f) && !status) {
			cli_error("%s: cannot write %s: %s\n", who, png, strerror(errno));
			status = 1;
		}
		crypto_wipe(image, len);
		free(image);
	}
	return status;
}

/*
 * The client's config for peer, in wg-quick format, on stdout: its private key
 * (NULL: the client has its own), its addresses, the gateway's key, the
 * preshared key, endpoint and routes; then as QR codes when asked. The exit
 * status.
 */
static int print_client(const char *who, const struct config *c, const struct peer_config *peer,
			const uint8_t *private_key, const char *endpoint, unsigned keepalive,
			bool qr, const char *png)
{
	struct secret_stream client;
	FILE *f = secret_stream_open(&client);
	char key[KEY_BASE64_LEN + 1], text[64], *client_text;
	uint8_t gateway_pub[KEY_LEN];
	size_t client_len, shown = 0;
	int status;

	if (!f || !c->has_private_key || !x25519_public(gateway_pub, c->private_key)) {
		if (f) {
			client.failed = 1;
			secret_stream_close(&client, NULL);
		}
		cli_error("%s: cannot write the client's config\n", who);
		return 1;
	}
	fprintf(f, "[Interface]\n");
	if (!private_key) {
		fprintf(f,
			"# PrivateKey = (the client's own: the key whose public key was given)\n");
	} else {
		key_to_base64(key, private_key);
		fprintf(f, "PrivateKey = %s\n", key);
	}
	fputs("Address = ", f);
	for (size_t i = 0; i < peer->allowed_ips_len; ++i) {
		const struct ip_prefix *a = &peer->allowed_ips[i];

		if (a->cidr != (a->family == AF_INET ? 32 : 128))
			continue; /* a route through the client, not its address */
		ip_prefix_format(a, text, sizeof(text));
		fprintf(f, "%s%s", shown++ ? ", " : "", text);
	}
	key_to_base64(key, gateway_pub);
	fprintf(f, "\n\n[Peer]\nPublicKey = %s\n", key);
	if (peer->has_preshared_key) {
		key_to_base64(key, peer->preshared_key);
		fprintf(f, "PresharedKey = %s\n", key);
	}
	fprintf(f, "Endpoint = %s\n", endpoint);
	client_routes(f, c, &peer->groups, peer->has_allow ? &peer->allow : NULL);
	if (keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", keepalive);
	crypto_wipe(key, sizeof(key));
	client_text = secret_stream_close(&client, &client_len);
	if (!client_text) {
		cli_error("%s: out of memory\n", who);
		return 1;
	}
	fputs(client_text, stdout);
	status = show_qr(who, client_text, qr, png);
	crypto_wipe(client_text, client_len);
	free(client_text);
	if (fflush(stdout)) {
		cli_error("%s: cannot write the client's config: %s\n", who, strerror(errno));
		status = 1;
	}
	return status;
}

/* The options of add and rotate: each command takes those `allowed' names. */
struct peer_options {
	const char *groups, *given_key, *endpoint, *png, *expires, *deadline;
	bool qr, cancel;
	uint64_t keepalive;
};

/*
 * Parses argv[from..] into o; allowed lists the option names (without "--")
 * the command takes, as " name name ". False with the message said.
 */
static bool parse_options(const char *who, int argc, char **argv, int from, const char *allowed,
			  struct peer_options *o)
{
	*o = (struct peer_options){.keepalive = 25};
	for (int i = from; i < argc; ++i) {
		const char *opt = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		char name[32];
		int64_t when;

		snprintf(name, sizeof(name), " %s ", strncmp(opt, "--", 2) ? "?" : opt + 2);
		if (!strstr(allowed, name)) {
			cli_error("%s: unknown option `%s'\n", who, opt);
			return false;
		}
		if (!strcmp(opt, "--qr") || !strcmp(opt, "--cancel")) {
			*(opt[2] == 'q' ? &o->qr : &o->cancel) = true;
			continue;
		}
		if (!value) {
			cli_error("%s: %s needs a value\n", who, opt);
			return false;
		}
		++i;
		if (!strcmp(opt, "--groups")) {
			o->groups = value;
		} else if (!strcmp(opt, "--public-key")) {
			o->given_key = value;
		} else if (!strcmp(opt, "--endpoint")) {
			o->endpoint = value;
		} else if (!strcmp(opt, "--png")) {
			o->png = value;
		} else if (!strcmp(opt, "--expires") || !strcmp(opt, "--deadline")) {
			if (!utc_time_parse(value, &when) || !when) {
				cli_error("%s: %s `%s' is not a date, such as 2026-12-31 or "
					  "2026-12-31T18:30:00Z (UTC)\n",
					  who, opt, value);
				return false;
			}
			*(opt[2] == 'e' ? &o->expires : &o->deadline) = value;
		} else if (!parse_uint(value, 65535, false, &o->keepalive)) { /* --keepalive */
			cli_error("%s: --keepalive `%s' is not a number of seconds\n", who, value);
			return false;
		}
	}
	return true;
}

static int peer_add(int argc, char **argv)
{
	const char *who = "wgate peer add", *name, *groups = NULL, *given_key = NULL,
		   *endpoint = NULL, *png = NULL, *expires = NULL;
	bool qr = false;
	uint8_t private_key[KEY_LEN], public_key[KEY_LEN], psk[KEY_LEN], gateway_pub[KEY_LEN];
	char key[KEY_BASE64_LEN + 1], section[2048], addr_text[2][64], *edited = NULL;
	struct ip_prefix addr[2];
	unsigned addresses = 0;
	uint64_t keepalive;
	struct peer_options o;
	struct config edited_config;
	struct target t;
	size_t n = 0, edited_len;
	int status = 1;

	if (argc < 3) {
		usage(stderr);
		return 1;
	}
	name = argv[2];
	if (!parse_options(who, argc, argv, 3,
			   " groups public-key endpoint png expires keepalive qr ", &o))
		return 1;
	groups = o.groups, given_key = o.given_key, endpoint = o.endpoint, png = o.png;
	expires = o.expires, keepalive = o.keepalive, qr = o.qr;
	if (!peer_name_valid(name, true)) {
		cli_error("%s: `%s' is not a peer name (1 to 64 letters, digits, `_', `-', `.', "
			  "`@')\n",
			  who, name);
		return 1;
	}
	if (given_key && !key_from_base64(public_key, given_key)) {
		cli_error("%s: --public-key is not a base64 WireGuard key\n", who);
		return 1;
	}
	if (!target_open(&t, who, argv[1], true))
		return 1;
	if (config_find_peer(&t.config, name)) {
		cli_error("%s: %s already has a peer named `%s'\n", who, t.path, name);
		goto out;
	}
	if (!endpoint)
		endpoint = t.config.public_endpoint;
	if (!endpoint) {
		cli_error(
		    "%s: no endpoint for the client's config: set PublicEndpoint = HOST:PORT in "
		    "[Interface], or give --endpoint\n",
		    who);
		goto out;
	}
	if (!t.config.has_private_key || !x25519_public(gateway_pub, t.config.private_key)) {
		cli_error("%s: %s has no PrivateKey: the client would not know the gateway's key\n",
			  who, t.path);
		goto out;
	}
	for (int f = 0; f < 2; ++f)
		if (config_free_address(&t.config, f ? AF_INET6 : AF_INET, &addr[addresses]))
			ip_prefix_format(&addr[addresses], addr_text[addresses],
					 sizeof(addr_text[0])),
			    ++addresses;
	if (!addresses) {
		cli_error(
		    "%s: no free tunnel address: %s has no Address, or its subnets are full\n", who,
		    t.path);
		goto out;
	}
	if ((!given_key && !x25519_generate(private_key)) ||
	    (!given_key && !x25519_public(public_key, private_key)) ||
	    !crypto_random(psk, KEY_LEN)) {
		cli_error("%s: the system random number generator failed\n", who);
		goto out;
	}
	/* the new section */
	{
		time_t now = time(NULL);
		char date[32];

		strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
		n += (size_t)snprintf(section + n, sizeof(section) - n,
				      "[Peer]\n# added by wgate peer add on %s\nName = %s\n", date,
				      name);
		if (groups)
			n += (size_t)snprintf(section + n, sizeof(section) - n, "Groups = %s\n",
					      groups);
		if (expires)
			n += (size_t)snprintf(section + n, sizeof(section) - n, "Expires = %s\n",
					      expires);
		key_to_base64(key, public_key);
		n += (size_t)snprintf(section + n, sizeof(section) - n, "PublicKey = %s\n", key);
		key_to_base64(key, psk);
		n += (size_t)snprintf(section + n, sizeof(section) - n, "PresharedKey = %s\n", key);
		n += (size_t)snprintf(section + n, sizeof(section) - n, "AllowedIPs = %s%s%s\n",
				      addr_text[0], addresses > 1 ? ", " : "",
				      addresses > 1 ? addr_text[1] : "");
		if (n >= sizeof(section)) {
			cli_error("%s: --groups is too long\n", who);
			goto out;
		}
	}
	edited = config_text_append(t.text, t.len, section, &edited_len);
	if (!edited) {
		cli_error("%s: out of memory\n", who);
		goto out;
	}
	if (t.config.etcd.endpoints.len) {
		/* the peer set is in etcd: the section goes there, checked with the rest first */
		char err[512], store_key[300];

		if (!config_parse_all(&edited_config, edited, edited_len, t.path, err,
				      sizeof(err))) {
			cli_error("%s: the peer would not load: %s\n%s: nothing was changed\n", who,
				  err, who);
			goto out;
		}
		peer_store_key(&t.config, t.ifname, name, store_key, sizeof(store_key));
		status = store_write(&t, who, store_key, section, 0);
		if (status)
			config_free(&edited_config);
	} else {
		status = commit(&t, who, edited, edited_len, &edited_config);
	}
	if (status)
		goto out;
	/* the client's config, on stdout */
	status =
	    print_client(who, &edited_config, config_find_peer(&edited_config, name),
			 given_key ? NULL : private_key, endpoint, (unsigned)keepalive, qr, png);
	config_free(&edited_config);
out:
	crypto_wipe(private_key, sizeof(private_key));
	crypto_wipe(psk, sizeof(psk));
	crypto_wipe(key, sizeof(key));
	crypto_wipe(section, sizeof(section));
	if (edited) {
		crypto_wipe(edited, edited_len);
		free(edited);
	}
	target_free(&t);
	return status;
}

static int peer_remove(int argc, char **argv)
{
	const char *who = "wgate peer remove";
	const struct peer_config *peer;
	struct target t;
	char *edited;
	size_t edited_len;
	int status;

	if (argc != 3) {
		usage(stderr);
		return 1;
	}
	if (!target_open(&t, who, argv[1], true))
		return 1;
	peer = config_find_peer(&t.config, argv[2]);
	if (peer && peer->file && !strncmp(peer->file, "etcd:", 5)) {
		/* the peer set in etcd: every node's watch removes it */
		status = store_write(&t, who, peer->file + 5, NULL, 0);
		if (!status)
			printf("%s: removed `%s' from etcd (%s)\n", who, argv[2], peer->file + 5);
		target_free(&t);
		return status;
	}
	peer = editable_peer(&t, who, argv[2]);
	if (!peer) {
		target_free(&t);
		return 1;
	}
	edited = config_text_remove_section(t.text, t.len, peer->line, &edited_len);
	if (!edited) {
		cli_error("%s: out of memory\n", who);
		target_free(&t);
		return 1;
	}
	status = commit(&t, who, edited, edited_len, NULL);
	if (!status)
		printf("%s: removed `%s' from %s\n", who, argv[2], t.path);
	crypto_wipe(edited, edited_len);
	free(edited);
	target_free(&t);
	return status;
}

/*
 * wgate peer rotate: the peer's NextPublicKey (a new key pair's, or the one
 * given) and RotationDeadline written into its section, or with --cancel
 * taken out; the running interface then accepts both keys until the first
 * handshake with the new one, and the reload that follows records it.
 */
static int peer_rotate(int argc, char **argv)
{
	const char *who = "wgate peer rotate", *given_key = NULL, *endpoint = NULL, *png = NULL,
		   *deadline = NULL;
	bool qr = false, cancel = false;
	uint8_t private_key[KEY_LEN], next_key[KEY_LEN];
	char key[KEY_BASE64_LEN + 1], *edited = NULL, *step;
	const struct peer_config *peer;
	struct peer_options o;
	struct config edited_config;
	uint64_t keepalive;
	unsigned line;
	struct target t;
	size_t edited_len = 0, base_len;
	const char *base, *store_key = NULL;
	char *store_text = NULL;
	int64_t store_revision = 0;
	bool has_next;
	int status = 1;

	if (argc < 3) {
		usage(stderr);
		return 1;
	}
	if (!parse_options(who, argc, argv, 3,
			   " public-key endpoint png deadline keepalive qr cancel ", &o))
		return 1;
	given_key = o.given_key, endpoint = o.endpoint, png = o.png, deadline = o.deadline;
	keepalive = o.keepalive, qr = o.qr, cancel = o.cancel;
	if (cancel && (given_key || deadline || qr || png || endpoint)) {
		cli_error("%s: --cancel takes no other option\n", who);
		return 1;
	}
	if (given_key && !key_from_base64(next_key, given_key)) {
		cli_error("%s: --public-key is not a base64 WireGuard key\n", who);
		return 1;
	}
	if (!target_open(&t, who, argv[1], true))
		return 1;
	base = t.text;
	base_len = t.len;
	peer = config_find_peer(&t.config, argv[2]);
	if (peer && peer->file && !strncmp(peer->file, "etcd:", 5)) {
		/* the peer set in etcd: its key's text as etcd has it now is what is edited */
		struct config one;
		char err[512];

		store_key = peer->file + 5;
		if (peer_store_read(&t.config, t.ifname, store_key, &store_text, &store_revision,
				    err, sizeof(err))) {
			cli_error("%s: %s\n%s: nothing was changed\n", who, err, who);
			goto out;
		}
		if (!config_parse(&one, store_text, strlen(store_text), store_key, err,
				  sizeof(err)) ||
		    !(peer = config_find_peer(&one, argv[2]))) {
			cli_error("%s: %s\n", who,
				  peer ? err : "etcd's text no longer has the peer");
			if (peer)
				config_free(&one);
			goto out;
		}
		line = peer->line;
		has_next = peer->has_next_key;
		config_free(&one);
		base = store_text;
		base_len = strlen(store_text);
	} else {
		peer = editable_peer(&t, who, argv[2]);
		if (!peer)
			goto out;
		line = peer->line;
		has_next = peer->has_next_key;
	}
	if (cancel && !has_next) {
		cli_error("%s: `%s' has no key rotation to cancel\n", who, argv[2]);
		goto out;
	}
	if (!endpoint)
		endpoint = t.config.public_endpoint;
	if (!cancel && !endpoint && !given_key) {
		cli_error(
		    "%s: no endpoint for the client's config: set PublicEndpoint = HOST:PORT in "
		    "[Interface], or give --endpoint\n",
		    who);
		goto out;
	}
	if (!cancel && !given_key &&
	    (!x25519_generate(private_key) || !x25519_public(next_key, private_key))) {
		cli_error("%s: the system random number generator failed\n", who);
		goto out;
	}
	if (!cancel)
		key_to_base64(key, next_key);
	edited = config_text_set_key(base, base_len, line, "NextPublicKey", cancel ? NULL : key,
				     "PublicKey", &edited_len);
	step = edited ? config_text_set_key(edited, edited_len, line, "RotationDeadline", deadline,
					    "NextPublicKey", &edited_len)
		      : NULL;
	if (edited)
		crypto_wipe(edited, strlen(edited));
	free(edited);
	edited = step;
	if (!edited) {
		cli_error("%s: out of memory\n", who);
		goto out;
	}
	if (store_key)
		status = store_commit(&t, who, store_key, edited, edited_len, store_revision,
				      cancel || given_key ? NULL : &edited_config);
	else
		status = commit(&t, who, edited, edited_len,
				cancel || given_key ? NULL : &edited_config);
	if (status)
		goto out;
	if (cancel) {
		printf("%s: `%s' keeps its key; the rotation is cancelled\n", who, argv[2]);
		goto out;
	}
	fprintf(stderr,
		"%s: `%s' now accepts %s besides its key until the first handshake with it%s%s\n",
		who, argv[2], key, deadline ? "; the old key is refused from " : "",
		deadline ? deadline : "");
	if (given_key)
		goto out;
	/* the client's new config, on stdout */
	status = print_client(who, &edited_config, config_find_peer(&edited_config, argv[2]),
			      private_key, endpoint, (unsigned)keepalive, qr, png);
	config_free(&edited_config);
out:
	crypto_wipe(private_key, sizeof(private_key));
	crypto_wipe(key, sizeof(key));
	if (edited) {
		crypto_wipe(edited, edited_len);
		free(edited);
	}
	if (store_text) {
		crypto_wipe(store_text, strlen(store_text));
		free(store_text);
	}
	target_free(&t);
	return status;
}

/* The running interface's peers (for handshakes and transfer), or none. */
static void read_live(const char *ifname, struct uapi_state *state)
{
	char *answer = uapi_request(ifname, "get=1\n\n");

	memset(state, 0, sizeof(*state));
	if (answer && !uapi_state_parse(state, answer))
		memset(state, 0, sizeof(*state));
	if (answer) {
		crypto_wipe(answer, strlen(answer));
		free(answer);
	}
}

static const void *live_key_of(const void *items, size_t pos)
{
	return ((const struct uapi_peer_state *)items)[pos].public_key;
}

static int peer_list(int argc, char **argv)
{
	const char *who = "wgate peer list";
	bool json = argc == 3 && !strcmp(argv[2], "--json");
	struct uapi_state live = {0};
	struct hash_index running;
	json_object *doc = NULL, *peers = NULL;
	struct target t;

	if (argc != 2 && !json) {
		usage(stderr);
		return 1;
	}
	if (!target_open(&t, who, argv[1], false))
		return 1;
	if (t.running)
		read_live(t.ifname, &live);
	/* the running peers by key: 100k peers listed in linear time */
	if (!hash_index_init(&running, live.peers_len, KEY_LEN, live_key_of, live.peers)) {
		cli_error("%s: out of memory\n", who);
		uapi_state_free(&live);
		target_free(&t);
		return 1;
	}
	for (size_t i = 0, found; i < live.peers_len; ++i)
		if (!hash_index_add(&running, i, &found))
			break; /* out of memory: the rest show as not running */
	if (json) {
		doc = json_object_new_object();
		peers = json_object_new_array();
		json_object_object_add(doc, "schema", json_object_new_string("wgate.peers/1"));
		json_object_object_add(doc, "interface", json_object_new_string(t.ifname));
		json_object_object_add(doc, "config", json_object_new_string(t.path));
		json_object_object_add(doc, "running", json_object_new_boolean(t.running));
		json_object_object_add(doc, "peers", peers);
	} else {
		printf("%-20s %-44s %-28s %-16s %s\n", "NAME", "PUBLIC KEY", "ADDRESSES", "GROUPS",
		       t.running ? "HANDSHAKE, RX/TX BYTES" : "");
	}
	for (size_t i = 0; i < t.config.peers_len; ++i) {
		const struct peer_config *p = &t.config.peers[i];
		const struct uapi_peer_state *l = NULL;
		char key[KEY_BASE64_LEN + 1], next[KEY_BASE64_LEN + 1],
		    addrs[512] = "", text[64], *groups = strv_join(&p->groups);
		size_t used = 0;

		size_t at = hash_index_find(&running, p->public_key);

		if (at == HASH_INDEX_NONE &&
		    p->has_next_key) /* a rotation ended, not yet recorded */
			at = hash_index_find(&running, p->next_public_key);
		l = at == HASH_INDEX_NONE ? NULL : &live.peers[at];
		key_to_base64(key, p->public_key);
		for (size_t j = 0; j < p->allowed_ips_len && used < sizeof(addrs); ++j) {
			ip_prefix_format(&p->allowed_ips[j], text, sizeof(text));
			used += (size_t)snprintf(addrs + used, sizeof(addrs) - used, "%s%s",
						 j ? (json ? " " : ",") : "", text);
		}
		if (json) {
			json_object *o = json_object_new_object(), *ips = json_object_new_array(),
				    *gs = json_object_new_array();

			json_object_object_add(o, "name",
					       p->name ? json_object_new_string(p->name) : NULL);
			json_object_object_add(o, "public_key", json_object_new_string(key));
			for (size_t j = 0; j < p->allowed_ips_len; ++j) {
				ip_prefix_format(&p->allowed_ips[j], text, sizeof(text));
				json_object_array_add(ips, json_object_new_string(text));
			}
			json_object_object_add(o, "allowed_ips", ips);
			for (size_t g = 0; g < p->groups.len; ++g)
				json_object_array_add(gs, json_object_new_string(p->groups.v[g]));
			json_object_object_add(o, "groups", gs);
			json_object_object_add(o, "line", json_object_new_int64(p->line));
			/* where it is defined: a PeerDirectory file, or etcd:KEY; absent: the config */
			if (p->file)
				json_object_object_add(o, "source", json_object_new_string(p->file));
			json_object_object_add(
			    o, "expires", p->expires ? json_object_new_int64(p->expires) : NULL);
			if (p->has_next_key)
				key_to_base64(next, p->next_public_key);
			json_object_object_add(o, "next_public_key",
					       p->has_next_key ? json_object_new_string(next)
							       : NULL);
			json_object_object_add(o, "rotation_deadline",
					       p->rotation_deadline
						   ? json_object_new_int64(p->rotation_deadline)
						   : NULL);
			json_object_object_add(o, "running", json_object_new_boolean(l != NULL));
			json_object_object_add(o, "latest_handshake",
					       json_object_new_int64(l ? l->last_handshake : 0));
			json_object_object_add(o, "rx_bytes",
					       json_object_new_uint64(l ? l->rx_bytes : 0));
			json_object_object_add(o, "tx_bytes",
					       json_object_new_uint64(l ? l->tx_bytes : 0));
			json_object_array_add(peers, o);
		} else {
			char handshake[64] = "";

			if (l && l->last_handshake)
				snprintf(handshake, sizeof(handshake), "%llds ago, %llu/%llu",
					 (long long)time(NULL) - l->last_handshake, l->rx_bytes,
					 l->tx_bytes);
			else if (l)
				snprintf(handshake, sizeof(handshake), "never, %llu/%llu",
					 l->rx_bytes, l->tx_bytes);
			else if (t.running)
				snprintf(handshake, sizeof(handshake), "(not running)");
			printf("%-20s %-44s %-28s %-16s %s\n", p->name ? p->name : "-", key, addrs,
			       groups && *groups ? groups : "-", handshake);
			if (p->has_next_key) {
				key_to_base64(next, p->next_public_key);
				printf("%-20s %s (key rotation%s)\n", "  next key", next,
				       p->rotation_deadline ? " with a deadline" : "");
			}
		}
		free(groups);
	}
	if (json) {
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	hash_index_free(&running);
	uapi_state_free(&live);
	target_free(&t);
	return fflush(stdout) ? 1 : 0;
}

int cmd_peer(int argc, char **argv)
{
	for (int i = 1; i < argc; ++i)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	if (argc >= 3 && !strcmp(argv[1], "add"))
		return peer_add(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return peer_list(argc - 1, argv + 1);
	if (argc >= 3 && !strcmp(argv[1], "remove"))
		return peer_remove(argc - 1, argv + 1);
	if (argc >= 3 && !strcmp(argv[1], "rotate"))
		return peer_rotate(argc - 1, argv + 1);
	usage(stderr);
	return 1;
}
