// SPDX-License-Identifier: MIT
/* The config parser: the guide's configs, each rule, and each error message. */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "control/uapi.h"
#include "core/crypto.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define KEY_D "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

static char err[512];

static bool parse(struct config *c, const char *text)
{
	return config_parse(c, text, strlen(text), "test.conf", err, sizeof(err));
}

/* Reads a fixture and fills its <placeholders> with real keys. */
static char *fixture(const char *name)
{
	char path[256], *text, *out, *o;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s",
		 getenv("FIXTURES") ? getenv("FIXTURES") : "tests/fixtures", name);
	text = read_file(path, 1 << 20, &len, err, sizeof(err));
	assert_non_null(text);
	out = o = calloc(1, len * 2 + 1);
	for (const char *s = text; *s;) {
		if (*s == '<') {
			const char *close = strchr(s, '>');

			o = stpcpy(o, !strncmp(s, "<psk", 4)	  ? KEY_C
				      : !strncmp(s, "<client", 7) ? KEY_B
								  : KEY_A);
			s = close + 1;
		} else {
			*o++ = *s++;
		}
	}
	free(text);
	return out;
}

static void guide_gateway(void **state)
{
	struct config c;
	char *text = fixture("seed-gateway.conf");
	char buf[64];
	uint8_t key[32];

	(void)state;
	assert_true(parse(&c, text));
	assert_true(c.has_private_key);
	assert_true(key_from_base64(key, KEY_A));
	assert_memory_equal(c.private_key, key, 32);
	assert_int_equal(c.addresses_len, 1);
	ip_prefix_format(&c.addresses[0], buf, sizeof(buf));
	assert_string_equal(buf, "10.10.0.1/24");
	assert_true(c.has_listen_port);
	assert_int_equal(c.listen_port, 51820);
	assert_int_equal(c.mtu, 1420);
	assert_int_equal(c.post_up.len, 1);
	assert_string_equal(c.post_up.v[0],
			    "iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A "
			    "POSTROUTING -o eth0 -j MASQUERADE");
	assert_int_equal(c.post_down.len, 1);
	assert_int_equal(c.peers_len, 1);
	assert_true(key_from_base64(key, KEY_B));
	assert_memory_equal(c.peers[0].public_key, key, 32);
	assert_true(c.peers[0].has_preshared_key);
	assert_int_equal(c.peers[0].allowed_ips_len, 2);
	ip_prefix_format(&c.peers[0].allowed_ips[0], buf, sizeof(buf));
	assert_string_equal(buf, "10.10.0.2/32");
	ip_prefix_format(&c.peers[0].allowed_ips[1], buf, sizeof(buf));
	assert_string_equal(buf, "192.168.100.0/24");
	assert_int_equal(c.peers[0].persistent_keepalive, 25);
	assert_int_equal(c.peers[0].endpoints_len, 0);
	config_free(&c);
	free(text);
}

static void guide_client(void **state)
{
	struct config c;
	char *text = fixture("seed-client.conf");

	(void)state;
	assert_true(parse(&c, text));
	assert_false(c.has_listen_port);
	assert_int_equal(c.dns.len, 1);
	assert_string_equal(c.dns.v[0], "10.10.0.5");
	assert_int_equal(c.peers_len, 1);
	assert_string_equal(c.peers[0].endpoints[0].host, "api-gateway.example.com");
	assert_int_equal(c.peers[0].endpoints[0].port, 51820);
	/* a host name waits for config_resolve_endpoints() */
	assert_int_equal(c.peers[0].endpoints[0].addr.sa.sa_family, AF_UNSPEC);
	assert_int_equal(c.peers[0].allowed_ips_len, 2);
	config_free(&c);
	free(text);
}

static void both_formats_and_their_quirks(void **state)
{
	struct config c;
	char buf[64];
	const char *text = "# leading comment\r\n"
			   "[interface]\r\n"
			   "privatekey=" KEY_A "\r\n"
			   "LISTENPORT = 0\n"
			   "FwMark = 0x1f\n"
			   "Address = 10.0.0.1/24, fd00::1/64\n"
			   "Address = 10.1.0.1\n"
			   "DNS = 1.1.1.1, fd00::53, corp.example, example.com\n"
			   "Table = off\n"
			   "PreUp = echo a=b\n"
			   "SaveConfig = TRUE\n"
			   "[Peer] # trailing comment\n"
			   "# friendly_name = Partner \"East\"\n"
			   "PublicKey = " KEY_B " # their key\n"
			   "AllowedIPs = 10.0.0.2/32 , fd00::2/128\n"
			   "AllowedIPs = 192.168.0.0/16\n"
			   "AllowedIPs =\n"
			   "Endpoint = [fd00::99]:51820\n"
			   "PersistentKeepalive = off\n"
			   "[Peer]\n"
			   "PublicKey = " KEY_C "\n"
			   "Endpoint = 192.0.2.1:1\n"
			   "PresharedKey = " KEY_A "\n"
			   "FwMark = off"; /* wrong section: must fail below */

	(void)state;
	assert_false(parse(&c, text));
	assert_string_equal(err, "test.conf:24: FwMark belongs in [Interface], not in [Peer]");
	/* the same without the last line */
	assert_true(
	    config_parse(&c, text, strlen(text) - strlen("FwMark = off"), "t", err, sizeof(err)));
	assert_int_equal(c.listen_port, 0);
	assert_true(c.has_listen_port);
	assert_int_equal(c.fwmark, 0x1f);
	assert_int_equal(c.addresses_len, 3);
	ip_prefix_format(&c.addresses[2], buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.1/32");
	ip_prefix_format(&c.addresses[1], buf, sizeof(buf));
	assert_string_equal(buf, "fd00::1/64");
	assert_int_equal(c.dns.len, 2);
	assert_int_equal(c.dns_search.len, 2);
	assert_string_equal(c.dns_search.v[0], "corp.example");
	assert_string_equal(c.table, "off");
	assert_string_equal(c.pre_up.v[0], "echo a=b");
	assert_true(c.save_config);
	assert_int_equal(c.peers_len, 2);
	assert_string_equal(c.peers[0].name, "Partner \"East\"");
	assert_int_equal(c.peers[0].allowed_ips_len, 3);
	assert_true(c.peers[0].has_persistent_keepalive);
	assert_int_equal(c.peers[0].persistent_keepalive, 0);
	assert_int_equal(c.peers[0].endpoints[0].addr.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(c.peers[0].endpoints[0].addr.v6.sin6_port), 51820);
	assert_int_equal(c.peers[1].endpoints[0].addr.sa.sa_family, AF_INET);
	assert_int_equal(c.peers[1].line, 20);
	assert_true(c.peers[1].has_preshared_key);
	config_free(&c);
}

/* Each bad input and the exact message a user sees. */
static void errors_name_file_line_and_text(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
	    {"ListenPort = 1\n",
	     "test.conf:1: `ListenPort' comes before any [Interface] or [Peer] section"},
	    {"[Interface]\nListenPort = 70000\n",
	     "test.conf:2: ListenPort `70000' is not a number from 0 to 65535"},
	    {"[Interface]\nListenPort = -1\n",
	     "test.conf:2: ListenPort `-1' is not a number from 0 to 65535"},
	    {"[Interface]\nListenPort = 1\nListenPort = 2\n",
	     "test.conf:3: ListenPort is set twice in this section (first at line 2)"},
	    {"[Interface]\nListenPorts = 1\n", "test.conf:2: unknown key `ListenPorts'"},
	    {"[Interface]\nListenPort\n",
	     "test.conf:2: expected `Key = Value' or a [Section], not `ListenPort'"},
	    {"[Interfaces]\n", "test.conf:1: unknown section `[Interfaces]': expected [Interface], "
			       "[Peer] or [Group]"},
	    {"[Interface]\nFwMark = 4294967296\n",
	     "test.conf:2: FwMark `4294967296' is not `off' or a 32-bit number"},
	    {"[Interface]\nMTU = 100\n",
	     "test.conf:2: MTU `100' is not a number from 576 to 65535"},
	    {"[Interface]\nMTU =\n", "test.conf:2: MTU has no value"},
	    {"[Interface]\nAddress = 10.0.0.1/33\n",
	     "test.conf:2: Address `10.0.0.1/33' is not an IP address with an optional /prefix"},
	    {"[Interface]\nAddress = 10.0.0.1,,10.0.0.2\n",
	     "test.conf:2: empty entry in the Address list"},
	    {"[Interface]\nDNS = 10.0.0.300\n",
	     "test.conf:2: DNS server `10.0.0.300' is not an IP address"},
	    {"[Interface]\nSaveConfig = yes\n",
	     "test.conf:2: SaveConfig `yes' is neither true nor false"},
	    {"[Interface]\nTable = main table\n",
	     "test.conf:2: Table `main table' is not `auto', `off', a number or a table name"},
	    {"[Peer]\nAllowedIPs = 10.0.0.0/8\n", "test.conf:1: this [Peer] has no PublicKey"},
	    {"[Peer]\nPublicKey = abc\n", "test.conf:2: PublicKey `abc' is not a valid key: "
					  "expected 44 base64 characters ending in '='"},
	    {"[Peer]\nPublicKey = " KEY_A "\nAllowedIPs = 10.0.0.0/8, 300.0.0.0/8\n",
	     "test.conf:3: AllowedIPs entry `300.0.0.0/8' is not an IP address with an optional "
	     "/prefix"},
	    {"[Peer]\nPublicKey = " KEY_A "\nAllowedIPs = fd00::/129\n",
	     "test.conf:3: AllowedIPs entry `fd00::/129' is not an IP address with an optional "
	     "/prefix"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = 10.0.0.1\n",
	     "test.conf:3: Endpoint `10.0.0.1' has no port: expected host:port"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = fd00::1:51820\n",
	     "test.conf:3: Endpoint `fd00::1:51820' looks like IPv6: write it as [address]:port"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = [fd00::1]51820\n",
	     "test.conf:3: Endpoint `[fd00::1]51820' must be [IPv6]:port"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = host:0\n",
	     "test.conf:3: Endpoint `host:0' has a bad port: expected a number from 1 to 65535"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = 10.0.0.999:1\n",
	     "test.conf:3: Endpoint `10.0.0.999:1' is not a valid IP address and port"},
	    {"[Peer]\nPublicKey = " KEY_A "\nPersistentKeepalive = 1d\n",
	     "test.conf:3: PersistentKeepalive `1d' is not `off' or a number of seconds from 0 to "
	     "65535"},
	    {"[Peer]\nPublicKey = " KEY_A "\n[Peer]\nPublicKey = " KEY_A "\n",
	     "test.conf:3: this [Peer] repeats the PublicKey of the [Peer] at line 1"},
	    {"[Peer]\nListenPort = 1\n",
	     "test.conf:2: ListenPort belongs in [Interface], not in [Peer]"},
	    {"[Interface]\nPublicKey = " KEY_A "\n",
	     "test.conf:2: PublicKey belongs in [Peer], not in [Interface]"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9\n",
	     "test.conf:3: Endpoint lists more than 8 endpoints"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = a:1, b\n",
	     "test.conf:3: Endpoint `b' has no port: expected host:port"},
	    {"[Peer]\nPublicKey = " KEY_A "\nEndpoint = a:1,\n",
	     "test.conf:3: empty entry in the Endpoint list"},
	    {"[Peer]\nPublicKey = " KEY_A "\nFailoverAfter = 100ms\n",
	     "test.conf:3: FailoverAfter `100ms' is not a time from 200ms to 1h, such as 3s, "
	     "1500ms or 2m (seconds when no unit is given)"},
	    {"[Peer]\nPublicKey = " KEY_A "\nFailbackAfter = 2d\n",
	     "test.conf:3: FailbackAfter `2d' is not a time from 200ms to 1h, such as 3s, 1500ms "
	     "or 2m (seconds when no unit is given)"},
	    {"[Interface]\nResolveInterval = 0\n",
	     "test.conf:2: ResolveInterval `0' is not `off' or a time from 1s to 24h, such as 60s "
	     "or 5m (seconds when no unit is given)"},
	    {"[Interface]\nFailoverAfter = 3s\n",
	     "test.conf:2: FailoverAfter belongs in [Peer], not in [Interface]"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		struct config c;

		memset(err, 0, sizeof(err));
		if (parse(&c, cases[i].text)) {
			print_error("accepted: %s\n", cases[i].text);
			fail();
		}
		assert_string_equal(err, cases[i].message);
		/* a rejected config leaves nothing behind */
		assert_int_equal(c.peers_len, 0);
		assert_null(c.peers);
	}
}

/* A bad secret key is reported without echoing what was written. */
static void secrets_are_not_echoed(void **state)
{
	struct config c;
	const char *bad = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmkX";
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\n", bad);
	assert_false(parse(&c, text));
	assert_null(strstr(err, "yAnz5"));
	assert_non_null(strstr(err, "test.conf:2: PrivateKey is not a valid key"));
	snprintf(text, sizeof(text), "[Peer]\nPublicKey = " KEY_A "\nPresharedKey = %s\n", bad);
	assert_false(parse(&c, text));
	assert_null(strstr(err, "yAnz5"));
}

/* Whether any 8 characters of the key, in base64 or in hex (either case), appear in text. */
static bool quotes_key(const char *text, const char *base64, const char *hex)
{
	char window[9] = {0};

	for (size_t i = 0; base64[i + 8]; ++i) {
		memcpy(window, base64 + i, 8);
		if (strstr(text, window))
			return true;
	}
	for (size_t i = 0; hex[i + 8]; ++i) {
		memcpy(window, hex + i, 8);
		if (strcasestr(text, window))
			return true;
	}
	return false;
}

/*
 * Every way a secret can be mistyped or pasted, for 100 random keys: the
 * error names the line, and no 8 characters of the key appear in it, in any
 * encoding.
 */
static void no_mistake_echoes_a_key(void **state)
{
	static const char *const shapes[] = {
	    "[Interface]\nPrivateKey %s\n",
	    "[Interface]\nPrivateKey: %s\n",
	    "[Interface]\n%s\n",
	    "[Interface]\nPrivateKey = %s extra\n",
	    "[Interface]\nPrivate Key = %s\n",
	    "[Interface]\nPrivateKye = %s\n",
	    "[Interface]\nPrivateKey == %s\n",
	    "[Peer]\nPublicKey = " KEY_A "\nPresharedKey %s\n",
	    "[%s]\n",
	    "[Interface]\nPrivateKey = \"%s\"\n",
	    "[Interface]\nListenPort = %s\n",
	    "[Interface]\nDNS = %s\n",
	    "[Peer]\nPublicKey = " KEY_A "\nEndpoint = %s\n",
	    "[Interface]\nTable = %s\n",
	};
	uint8_t key[KEY_LEN];
	char b64[KEY_BASE64_LEN + 1], hex[KEY_HEX_LEN + 1], text[512], mangled[128];

	(void)state;
	for (int round = 0; round < 100; ++round) {
		assert_true(crypto_random(key, sizeof(key)));
		key_to_base64(b64, key);
		key_to_hex(hex, key);
		for (int form = 0; form < 5; ++form) {
			const char *secret = form == 0 ? b64 : form == 1 ? hex : mangled;

			if (form == 2) /* a typo: one character swapped for another */
				snprintf(mangled, sizeof(mangled), "%.20s-%s", b64, b64 + 21);
			if (form == 3) /* pasted in pieces */
				snprintf(mangled, sizeof(mangled), "%.11s %.11s %.11s %s", b64,
					 b64 + 11, b64 + 22, b64 + 33);
			if (form == 4) /* cut short */
				snprintf(mangled, sizeof(mangled), "%.30s", b64);
			for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); ++i) {
				struct config c;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				snprintf(text, sizeof(text), shapes[i],
					 secret); /* each takes one %s */
#pragma GCC diagnostic pop
				memset(err, 0, sizeof(err));
				if (parse(&c, text)) {
					config_free(&c);
					continue; /* a well-formed key where one belongs */
				}
				if (quotes_key(err, b64, hex)) {
					print_error("shape %zu form %d quotes the key: %s\n", i,
						    form, err);
					fail();
				}
				assert_non_null(strstr(err, "test.conf:"));
			}
		}
	}
	crypto_wipe(key, sizeof(key));
}

/* Hiding what may be a key does not hide what cannot be one. */
static void redaction_keeps_ordinary_text(void **state)
{
	static const char *const kept[] = {
	    "Endpoint `api-gateway.example.com:51820' has no port",
	    "/etc/wireguard/a-very-long-interface-config-name.conf:3: unknown key `Adress'",
	    "Table `main table' is not `auto'",
	    "DNS server `fd00:1234:5678:9abc::53' is not an IP address",
	};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); ++i) {
		snprintf(msg, sizeof(msg), "%s", kept[i]);
		assert_false(redact_keys(msg, sizeof(msg)));
		assert_string_equal(msg, kept[i]);
	}
	snprintf(msg, sizeof(msg), "unknown key `PrivateKey " KEY_B "' here, and " KEY_C " there");
	assert_true(redact_keys(msg, sizeof(msg)));
	assert_string_equal(msg, "unknown key (hidden) here, and (hidden) there");
}

static void nul_bytes_rejected(void **state)
{
	struct config c;
	const char text[] = "[Interface]\nListenPort = 1\0\n";

	(void)state;
	assert_false(config_parse(&c, text, sizeof(text) - 1, "test.conf", err, sizeof(err)));
	assert_string_equal(err,
			    "test.conf:2: the file contains a NUL byte; is it really a config?");
}

static void host_names_resolve(void **state)
{
	struct config c;
	const char *text = "[Peer]\nPublicKey = " KEY_A "\nEndpoint = localhost:51820\n";

	(void)state;
	assert_true(parse(&c, text));
	assert_int_equal(c.peers[0].endpoints[0].addr.sa.sa_family, AF_UNSPEC);
	assert_true(config_resolve_endpoints(&c, NULL, NULL, err, sizeof(err)));
	assert_int_not_equal(c.peers[0].endpoints[0].addr.sa.sa_family, AF_UNSPEC);
	config_free(&c);
}

/* Several endpoints in order of preference, with their times; numeric ones resolved at once. */
static void endpoint_lists(void **state)
{
	struct config c;
	const char *text = "[Interface]\nResolveInterval = 5m\n"
			   "[Peer]\nPublicKey = " KEY_A "\n"
			   "Endpoint = 192.0.2.1:51820, localhost:51821 ,[2001:db8::2]:7\n"
			   "FailoverAfter = 1500ms\nFailbackAfter = 2m\n"
			   "[Peer]\nPublicKey = " KEY_B "\nEndpoint = 192.0.2.9:1\n";
	char list[256];

	(void)state;
	assert_true(parse(&c, text));
	assert_int_equal(config_resolve_interval(&c), 300);
	assert_int_equal(c.peers[0].endpoints_len, 3);
	assert_true(c.peers[0].endpoints[0].numeric);
	assert_false(c.peers[0].endpoints[1].numeric);
	assert_string_equal(c.peers[0].endpoints[1].host, "localhost");
	assert_int_equal(c.peers[0].endpoints[1].port, 51821);
	assert_int_equal(c.peers[0].failover_ms, 1500);
	assert_int_equal(c.peers[0].failback_ms, 120000);
	assert_true(peer_config_has_names(&c.peers[0]));
	assert_false(peer_config_has_names(&c.peers[1]));
	assert_true(config_resolve_endpoints(&c, NULL, NULL, err, sizeof(err)));
	assert_true(uapi_endpoints_text(&c.peers[0], list, sizeof(list)));
	assert_true(!strcmp(list, "192.0.2.1:51820,127.0.0.1:51821,[2001:db8::2]:7") ||
		    !strcmp(list, "192.0.2.1:51820,[::1]:51821,[2001:db8::2]:7"));
	config_free(&c);
	/* unset: the default; off: never */
	assert_true(parse(&c, "[Interface]\n"));
	assert_int_equal(config_resolve_interval(&c), RESOLVE_INTERVAL_DEFAULT);
	config_free(&c);
	assert_true(parse(&c, "[Interface]\nResolveInterval = off\n"));
	assert_int_equal(config_resolve_interval(&c), 0);
	config_free(&c);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* PeerDirectory: its *.conf files' peers join the config's, sorted by file; errors name them. */
static void peer_directory(void **state)
{
	char dir[] = "/tmp/wgate-peerdir-XXXXXX", path[128], main_text[256];
	struct config c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_text, sizeof(main_text),
		 "[Interface]\nPeerDirectory = %s\n[Peer]\nPublicKey = " KEY_A "\n", dir);
	snprintf(path, sizeof(path), "%s/b.conf", dir);
	write_text(path,
		   "[Peer]\nName = second\nPublicKey = " KEY_B "\nAllowedIPs = 10.0.0.3/32\n");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	write_text(path, "# one peer\n[Peer]\nName = first\nPublicKey = " KEY_C "\n");
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_text(path, "not a peer file\n");
	snprintf(path, sizeof(path), "%s/.hidden.conf", dir);
	write_text(path, "[Interface]\n");
	assert_true(
	    config_parse_all(&c, main_text, strlen(main_text), "main.conf", err, sizeof(err)));
	assert_int_equal(c.peers_len, 3);
	assert_null(c.peers[0].file);
	assert_string_equal(c.peers[1].name, "first"); /* a.conf before b.conf */
	assert_int_equal(c.peers[1].line, 2);
	assert_non_null(strstr(c.peers[1].file, "/a.conf"));
	assert_string_equal(c.peers[2].name, "second");
	config_free(&c);
	/* config_parse reads the text alone */
	assert_true(parse(&c, main_text));
	assert_int_equal(c.peers_len, 1);
	config_free(&c);
	/* errors name the file and its line; nothing is left */
	snprintf(path, sizeof(path), "%s/c.conf", dir);
	write_text(path, "[Peer]\nPublicKey = " KEY_B "\n");
	assert_false(
	    config_parse_all(&c, main_text, strlen(main_text), "main.conf", err, sizeof(err)));
	assert_non_null(
	    strstr(err, "/c.conf:1: this [Peer] repeats the PublicKey of the [Peer] at "));
	assert_non_null(strstr(err, "/b.conf:1"));
	assert_null(c.peers);
	write_text(path, "[Interface]\nListenPort = 1\n");
	assert_false(
	    config_parse_all(&c, main_text, strlen(main_text), "main.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/c.conf:1: `[Interface]' in a file of PeerDirectory, which "
				    "holds [Peer] sections only"));
	write_text(path, "[Peer]\nPublicKey = " KEY_D "\nGroups = nowhere\n");
	assert_false(
	    config_parse_all(&c, main_text, strlen(main_text), "main.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/c.conf:1: this [Peer] is in group `nowhere'"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.hidden.conf", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	/* a directory that is not there, or not absolute */
	assert_false(
	    config_parse_all(&c, main_text, strlen(main_text), "main.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "main.conf:2: PeerDirectory `/tmp/wgate-peerdir-"));
	assert_false(parse(&c, "[Interface]\nPeerDirectory = peers.d\n"));
	assert_string_equal(err, "test.conf:2: PeerDirectory `peers.d' is not an absolute path");
}

static void ip_prefixes(void **state)
{
	struct ip_prefix p;
	char buf[64];

	(void)state;
	assert_true(ip_prefix_parse(&p, "0.0.0.0/0", true));
	assert_int_equal(p.cidr, 0);
	assert_true(ip_prefix_parse(&p, "::/0", true));
	assert_int_equal(p.family, AF_INET6);
	assert_false(ip_prefix_parse(&p, "10.0.0.1", true));
	assert_true(ip_prefix_parse(&p, "fd00::1", false));
	ip_prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::1/128");
	assert_false(ip_prefix_parse(&p, "10.0.0.0/", false));
	assert_false(ip_prefix_parse(&p, "10.0.0.0/+8", false));
	assert_false(ip_prefix_parse(&p, "10.0.0.0/08x", false));
	assert_false(ip_prefix_parse(&p, "host/8", false));
}

/* config_strip against what wg-quick's line rules give, on tricky lines. */
static void strip_rules(void **state)
{
	const char *text = "  [Interface]  \n"
			   "\tAddress = 10.0.0.1/24\n"
			   "PrivateKey = " KEY_A "   \n"
			   "mtu=1420\n"
			   "# Address = comment kept\n"
			   "\n"
			   "[Peer]\n"
			   "Address = kept in a peer section\n"
			   "PublicKey = " KEY_B "\n"
			   "Endpoint = [2001:db8::1]:51820 , gw2.example:51820 # two\n"
			   "FailoverAfter = 2s\n"
			   "[Interface]\n"
			   "PostUp = echo # x\n"
			   "ListenPort = 1";
	const char *want = "[Interface]\n"
			   "PrivateKey = " KEY_A "\n"
			   "# Address = comment kept\n"
			   "\n"
			   "[Peer]\n"
			   "Address = kept in a peer section\n"
			   "PublicKey = " KEY_B "\n"
			   "Endpoint = [2001:db8::1]:51820\n"
			   "[Interface]\n"
			   "ListenPort = 1\n"
			   "\n";
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);

	(void)state;
	config_strip(text, strlen(text), f);
	fclose(f);
	assert_string_equal(out, want);
	free(out);
}

/* Numbers as wg reads them: no sign, no space, no octal; hexadecimal only where allowed. */
static void numbers(void **state)
{
	static const struct {
		const char *text;
		bool hex, ok;
		uint64_t want;
	} cases[] = {
	    {"0", false, true, 0},	   {"010", false, true, 10},
	    {"010", true, true, 10},	   {"0x10", true, true, 16},
	    {"0X1f", true, true, 31},	   {"0x10", false, false, 0},
	    {"65535", false, true, 65535}, {"65536", false, false, 0},
	    {"", false, false, 0},	   {"0x", true, false, 0},
	    {"+5", false, false, 0},	   {"-1", false, false, 0},
	    {" 5", false, false, 0},	   {"5 ", false, false, 0},
	    {"5a", false, false, 0},	   {"0x-1", true, false, 0},
	    {"off", false, true, 0},	   {"OFF", true, true, 0},
	    {"of", false, false, 0},	   {"99999999999999999999", false, false, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		uint64_t n = 12345;
		bool ok = parse_uint_or_off(cases[i].text, 65535, cases[i].hex, &n);

		if (ok != cases[i].ok || (ok && n != cases[i].want))
			fail_msg("`%s' (hex %d): got %d/%llu", cases[i].text, cases[i].hex, ok,
				 (unsigned long long)n);
		if (!ok)
			assert_int_equal(n, 12345); /* untouched */
		if (strcasecmp(cases[i].text, "off"))
			assert_int_equal(parse_uint(cases[i].text, 65535, cases[i].hex, &n), ok);
		else
			assert_false(parse_uint(cases[i].text, 65535, cases[i].hex, &n));
	}
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(guide_gateway),
	    cmocka_unit_test(guide_client),
	    cmocka_unit_test(both_formats_and_their_quirks),
	    cmocka_unit_test(errors_name_file_line_and_text),
	    cmocka_unit_test(secrets_are_not_echoed),
	    cmocka_unit_test(no_mistake_echoes_a_key),
	    cmocka_unit_test(redaction_keeps_ordinary_text),
	    cmocka_unit_test(nul_bytes_rejected),
	    cmocka_unit_test(host_names_resolve),
	    cmocka_unit_test(ip_prefixes),
	    cmocka_unit_test(endpoint_lists),
	    cmocka_unit_test(peer_directory),
	    cmocka_unit_test(numbers),
	    cmocka_unit_test(strip_rules),
	};
	return cmocka_run_group_tests_name("config", tests, setup, NULL);
}
