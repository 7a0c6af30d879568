// SPDX-License-Identifier: MIT
/*
 * The control socket's large sets: carried out a slice at a time between the
 * data path's turns, answered when done, all or nothing when they fail their
 * checks. Over real socket pairs, through uapi_serve as the daemon calls it.
 */
#include "testutil.h"
#include "quiet_io.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/uapi.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "host/log.h"

enum { SLICE = 10, NOW = 1000000000 };

struct rig {
	struct device dev;
	struct uapi_server server;
	int client[2]; /* the client ends of up to two connections */
};

/* A connection from a new client; returns its index. */
static int connect_client(struct rig *r)
{
	int pair[2], k = (int)r->server.conns.len;
	struct conn *c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair),
			 0);
	c = &r->server.conns.conns[r->server.conns.len++];
	memset(c, 0, sizeof(*c));
	c->fd = pair[0];
	c->serial = ++r->server.conns.serials;
	r->client[k] = pair[1];
	return k;
}

static void rig_up(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	setenv("LOG_LEVEL", "error", 1); /* the audit trail of each peer added is not wanted here */
	log_init("test", false);
	assert_true(crypto_init());
	assert_true(device_init(&r->dev, &io));
	r->server.conns.listen_fd = -1;
	r->server.slice_peers = SLICE;
	connect_client(r);
}

static void rig_down(struct rig *r)
{
	uapi_close(&r->server);
	for (int k = 0; k < 2; ++k)
		if (r->client[k] > 0)
			close(r->client[k]);
	device_free(&r->dev);
}

/* "set=1" with n peers (keys 1..n, one /32 each); the peer bad (1-based) gets a bad key. */
static char *set_request(size_t n, size_t bad)
{
	size_t cap = 64 + n * 128, len = 0;
	char *text = malloc(cap), hex[KEY_HEX_LEN + 1];
	uint8_t key[KEY_LEN] = {0};

	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "set=1\n");
	for (size_t i = 1; i <= n; ++i) {
		key[0] = (uint8_t)i, key[1] = (uint8_t)(i >> 8), key[31] = 0x40;
		key_to_hex(hex, key);
		if (i == bad)
			hex[0] = 'x';
		len += (size_t)snprintf(text + len, cap - len,
					"public_key=%s\nallowed_ip=10.9.%zu.%zu/32\n", hex, i / 256,
					i % 256);
	}
	snprintf(text + len, cap - len, "\n");
	return text;
}

static void say(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* The first client sends a set of n peers (bad: as set_request). */
static void send_set(struct rig *r, size_t n, size_t bad)
{
	char *set = set_request(n, bad);

	say(r->client[0], set);
	free(set);
}

/* The server serves client k for these events, as the daemon does; it stays open. */
static void serve(struct rig *r, int k, uint32_t events)
{
	assert_true(uapi_serve(&r->server, &r->server.conns.conns[k], &r->dev, NULL, events, NOW));
}

/* What the client has been answered so far ("" for nothing). */
static const char *heard(int fd)
{
	static char buf[65536];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		++n;
	return n;
}

/*
 * 25 peers with slices of 10: the first call only starts the set; each
 * continue changes ten more; the client hears nothing until the last, and
 * its next request (sent meanwhile) waits for the answer before it.
 */
static void large_set_in_slices(void **state)
{
	struct rig r;
	struct conn *done;

	(void)state;
	rig_up(&r);
	send_set(&r, 25, 0);
	say(r.client[0], "get=1\n\n");
	serve(&r, 0, EPOLLIN);
	assert_true(uapi_busy(&r.server));
	assert_int_equal(r.dev.peer_count, 0);
	assert_int_equal(conn_events(&r.server.conns.conns[0]), 0);
	for (size_t want = 10; want < 25; want += 10) {
		assert_null(uapi_continue(&r.server, &r.dev, NOW));
		assert_int_equal(r.dev.peer_count, want);
		assert_string_equal(heard(r.client[0]), "");
	}
	done = uapi_continue(&r.server, &r.dev, NOW);
	assert_ptr_equal(done, &r.server.conns.conns[0]);
	assert_false(uapi_busy(&r.server));
	assert_int_equal(r.dev.peer_count, 25);
	assert_string_equal(heard(r.client[0]), "errno=0\n\n");
	/* served again, as the daemon does: the get sent meanwhile is answered */
	assert_true(uapi_serve(&r.server, done, &r.dev, NULL, EPOLLOUT, NOW));
	{
		const char *answer = heard(r.client[0]);

		assert_int_equal(count(answer, "public_key="), 25);
		assert_int_equal(count(answer, "allowed_ip="), 25);
		assert_non_null(strstr(answer, "errno=0\n\n"));
	}
	rig_down(&r);
}

/* Another client is served between slices and sees the set part done. */
static void others_served_between_slices(void **state)
{
	struct rig r;
	int other;

	(void)state;
	rig_up(&r);
	other = connect_client(&r);
	send_set(&r, 25, 0);
	serve(&r, 0, EPOLLIN);
	assert_null(uapi_continue(&r.server, &r.dev, NOW));
	say(r.client[other], "get=1\n\n");
	serve(&r, other, EPOLLIN);
	assert_int_equal(count(heard(r.client[other]), "public_key="), 10);
	while (uapi_busy(&r.server))
		uapi_continue(&r.server, &r.dev, NOW);
	assert_int_equal(r.dev.peer_count, 25);
	assert_string_equal(heard(r.client[0]), "errno=0\n\n");
	rig_down(&r);
}

/* A client that hangs up halfway: its set is still carried out whole. */
static void client_gone_midway(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	send_set(&r, 25, 0);
	shutdown(r.client[0], SHUT_WR); /* said all it will say */
	serve(&r, 0, EPOLLIN | EPOLLHUP);
	assert_true(uapi_busy(&r.server));
	close(r.client[0]);
	r.client[0] = -1;
	/* while busy, hang-ups do not close it */
	serve(&r, 0, EPOLLHUP);
	while (uapi_busy(&r.server))
		uapi_continue(&r.server, &r.dev, NOW);
	assert_int_equal(r.dev.peer_count, 25);
	rig_down(&r);
}

/* A set that fails its checks changes nothing and is answered at once, however large. */
static void bad_large_set_changes_nothing(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	send_set(&r, 25, 20);
	serve(&r, 0, EPOLLIN);
	assert_false(uapi_busy(&r.server));
	assert_int_equal(r.dev.peer_count, 0);
	assert_string_equal(heard(r.client[0]), "errno=-22\n\n");
	rig_down(&r);
}

/* A set of a slice or less is carried out and answered in one call, as before. */
static void small_set_at_once(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	send_set(&r, SLICE, 0);
	serve(&r, 0, EPOLLIN);
	assert_false(uapi_busy(&r.server));
	assert_int_equal(r.dev.peer_count, SLICE);
	assert_string_equal(heard(r.client[0]), "errno=0\n\n");
	rig_down(&r);
}

/* The daemon stopping with a set part done frees it (the sanitizer build sees leaks). */
static void stop_midway(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	send_set(&r, 25, 0);
	serve(&r, 0, EPOLLIN);
	assert_true(uapi_busy(&r.server));
	rig_down(&r);
}

static char *hex_of(uint8_t fill, char out[KEY_HEX_LEN + 1])
{
	uint8_t key[KEY_LEN];

	memset(key, fill, sizeof(key));
	key[31] = 0x40;
	key_to_hex(out, key);
	return out;
}

/* What the client hears for a get (all of it: the answer may come in pieces). */
static char *ask_get(struct rig *r, const char *request)
{
	static char answer[65536];
	size_t len = 0;

	answer[0] = '\0';
	say(r->client[0], request);
	serve(r, 0, EPOLLIN);
	while (!strstr(answer, "errno=") || len < 2 || strcmp(answer + len - 2, "\n\n")) {
		const char *more = heard(r->client[0]);

		assert_true(*more && len + strlen(more) < sizeof(answer));
		memcpy(answer + len, more, strlen(more) + 1);
		len += strlen(more);
	}
	return strdup(answer);
}

/*
 * get=wgate_config shows what a config sets, as get=wgate shows it (parsed,
 * every field a reload compares is the same), without counters, times or
 * the endpoint in use, and keepalive only when set.
 */
static void config_view(void **state)
{
	char set[2048], a[KEY_HEX_LEN + 1], b[KEY_HEX_LEN + 1], c[KEY_HEX_LEN + 1];
	char psk[KEY_HEX_LEN + 1], *full, *config;
	struct uapi_state sf, sc;
	struct rig r;

	(void)state;
	rig_up(&r);
	snprintf(set, sizeof(set),
		 "set=1\nlisten_port=51999\nfwmark=7\n"
		 "public_key=%s\npreshared_key=%s\npersistent_keepalive_interval=25\n"
		 "endpoint=192.0.2.1:51820\nallowed_ip=10.9.0.1/32\nallowed_ip=fd00::/64\n"
		 "wgate_name=a\nwgate_groups=x,y\nwgate_expires=2000000000\n"
		 "public_key=%s\nwgate_endpoints=192.0.2.2:51820,[2001:db8::3]:51820\n"
		 "wgate_failover_ms=3000\nwgate_failback_ms=60000\nallowed_ip=10.9.0.2/32\n"
		 "wgate_next_public_key=%s\nwgate_rotation_deadline=2000000000\n\n",
		 hex_of(1, a), hex_of(9, psk), hex_of(2, b), hex_of(3, c));
	say(r.client[0], set);
	serve(&r, 0, EPOLLIN);
	assert_string_equal(heard(r.client[0]), "errno=0\n\n");
	full = ask_get(&r, "get=wgate\n\n");
	config = ask_get(&r, "get=wgate_config\n\n");
	for (const char *k = "protocol_version=\0last_handshake_time_sec=\0tx_bytes=\0rx_bytes=\0"
			     "\nendpoint=\0wgate_endpoint_index=\0wgate_failovers=\0";
	     *k; k += strlen(k) + 1)
		if (strstr(config, k))
			fail_msg("get=wgate_config shows %s", k);
	assert_int_equal(count(config, "persistent_keepalive_interval="), 1);
	assert_int_equal(count(full, "persistent_keepalive_interval="), 2);
	assert_true(uapi_state_parse(&sf, full));
	assert_true(uapi_state_parse(&sc, config));
	assert_int_equal(sc.listen_port, 51999);
	assert_int_equal(sc.fwmark, 7);
	assert_int_equal(sc.peers_len, 2);
	assert_int_equal(sf.peers_len, 2);
	for (size_t i = 0; i < 2; ++i) {
		const struct uapi_peer_state *x = &sf.peers[i], *y = &sc.peers[i];

		assert_memory_equal(x->public_key, y->public_key, KEY_LEN);
		assert_int_equal(x->has_preshared_key, y->has_preshared_key);
		assert_memory_equal(x->preshared_key, y->preshared_key, KEY_LEN);
		assert_int_equal(x->persistent_keepalive, y->persistent_keepalive);
		assert_string_equal(x->name ? x->name : "", y->name ? y->name : "");
		assert_string_equal(x->groups ? x->groups : "", y->groups ? y->groups : "");
		assert_int_equal(x->expires, y->expires);
		assert_int_equal(x->has_next_key, y->has_next_key);
		assert_memory_equal(x->next_public_key, y->next_public_key, KEY_LEN);
		assert_int_equal(x->rotation_deadline, y->rotation_deadline);
		assert_string_equal(x->endpoints ? x->endpoints : "",
				    y->endpoints ? y->endpoints : "");
		assert_int_equal(x->failover_ms, y->failover_ms);
		assert_int_equal(x->failback_ms, y->failback_ms);
		assert_int_equal(x->allowed_ips_len, y->allowed_ips_len);
		assert_memory_equal(x->allowed_ips, y->allowed_ips,
				    x->allowed_ips_len * sizeof(*x->allowed_ips));
	}
	assert_true(sc.peers[0].has_preshared_key);
	assert_int_equal(sc.peers[0].persistent_keepalive, 25);
	assert_string_equal(sc.peers[0].groups, "x,y");
	assert_true(sc.peers[1].has_next_key);
	assert_int_equal(sc.peers[1].failover_ms, 3000);
	assert_int_equal(sc.peers[1].allowed_ips_len, 1);
	uapi_state_free(&sf);
	uapi_state_free(&sc);
	free(full);
	free(config);
	rig_down(&r);
}

/*
 * Random sets against a model of who holds which prefix: 12 peers, 16
 * prefixes (a /32, a /24 and a /64 among them) given, taken back (-),
 * replaced, and moved between peers (the later claim wins); half the sets
 * over the socket (in slices when over ten peers), half through uapi_set.
 */
static void allowed_ips_against_a_model(void **state)
{
	enum { KEYS = 12, PREFIXES = 16, ROUNDS = 60 };
	static const char *const prefixes[PREFIXES] = {
	    "10.1.0.1/32",   "10.1.0.2/32",	"10.1.0.0/24",	"10.1.1.0/24",
	    "10.2.0.0/16",   "10.2.3.4/32",	"192.0.2.0/25", "192.0.2.128/25",
	    "fd00::/64",     "fd00:0:0:1::/64", "fd00::1/128",	"fd00::2/128",
	    "2001:db8::/48", "2001:db8:1::/48", "0.0.0.0/1",	"128.0.0.0/1"};
	int owner[PREFIXES];
	bool exists[KEYS] = {0};
	struct ip_prefix parsed[PREFIXES];
	uint8_t keys[KEYS][KEY_LEN];
	struct rig r;
	unsigned seed = 20261201;

	(void)state;
	rig_up(&r);
	for (int i = 0; i < PREFIXES; ++i) {
		owner[i] = -1;
		assert_true(ip_prefix_parse(&parsed[i], prefixes[i], false));
	}
	for (int k = 0; k < KEYS; ++k) {
		memset(keys[k], 0x11 * (k + 1), KEY_LEN);
		keys[k][31] = 0x40;
	}
	for (int round = 0; round < ROUNDS; ++round) {
		size_t cap = 1 << 16, len = 0;
		char *set = malloc(cap), hex[KEY_HEX_LEN + 1];
		int ops = 1 + rand_r(&seed) % 25;

		assert_non_null(set);
		len += (size_t)snprintf(set + len, cap - len, "set=1\n");
		for (int o = 0; o < ops; ++o) {
			int k = rand_r(&seed) % KEYS, ips = rand_r(&seed) % 5;

			key_to_hex(hex, keys[k]);
			len += (size_t)snprintf(set + len, cap - len, "public_key=%s\n", hex);
			exists[k] = true;
			if (rand_r(&seed) % 5 == 0) {
				len += (size_t)snprintf(set + len, cap - len,
							"replace_allowed_ips=true\n");
				for (int i = 0; i < PREFIXES; ++i)
					if (owner[i] == k)
						owner[i] = -1;
			}
			for (int j = 0; j < ips; ++j) {
				int i = rand_r(&seed) % PREFIXES;
				bool remove = rand_r(&seed) % 5 == 0;

				len += (size_t)snprintf(set + len, cap - len, "allowed_ip=%s%s\n",
							remove ? "-" : "", prefixes[i]);
				if (!remove)
					owner[i] = k;
				else if (owner[i] == k)
					owner[i] = -1;
			}
		}
		if (round % 2) {
			snprintf(set + len, cap - len, "\n");
			say(r.client[0], set);
			serve(&r, 0, EPOLLIN);
			while (uapi_busy(&r.server))
				uapi_continue(&r.server, &r.dev, NOW);
			assert_string_equal(heard(r.client[0]), "errno=0\n\n");
		} else {
			assert_int_equal(uapi_set(&r.dev, set + 6, len - 6, NULL, NOW), 0);
		}
		free(set);
		for (int i = 0; i < PREFIXES; ++i) {
			const struct ip_prefix *p = &parsed[i];
			struct peer *holder =
			    owner[i] < 0 ? NULL : device_find_peer(&r.dev, keys[owner[i]]);

			if (allowedips_owner_of(&r.dev.allowedips, p->family, &p->addr, p->cidr) !=
			    (holder ? &holder->allowedips : NULL))
				fail_msg("round %d: %s is not where the model has it", round,
					 prefixes[i]);
		}
		for (int k = 0; k < KEYS; ++k) {
			struct peer *peer = device_find_peer(&r.dev, keys[k]);
			size_t held = 0;

			assert_int_equal(peer != NULL, exists[k]);
			for (int i = 0; i < PREFIXES; ++i)
				held += owner[i] == k;
			if (peer)
				assert_int_equal(peer->allowedips.count, held);
		}
	}
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(large_set_in_slices), cmocka_unit_test(others_served_between_slices),
	    cmocka_unit_test(client_gone_midway),  cmocka_unit_test(bad_large_set_changes_nothing),
	    cmocka_unit_test(small_set_at_once),   cmocka_unit_test(stop_midway),
	    cmocka_unit_test(config_view),	   cmocka_unit_test(allowed_ips_against_a_model),
	};
	return cmocka_run_group_tests_name("uapi", tests, NULL, NULL);
}
