// SPDX-License-Identifier: MIT
/*
 * wgate check: gathers what the checks need of the host and of the running
 * interface (ops/check.h does the judging), then prints the findings as text
 * or JSON, with an exit status a pipeline can use (wgate(8), CHECK).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "config/config.h"
#include "control/uapi.h"
#include "core/crypto.h"
#include "ops/check.h"
#include "ops/key_ledger.h"

enum { MAX_OTHERS = 64 };

static void usage(FILE *out)
{
	fputs(
	    "Usage: wgate check <INTERFACE | CONFIG_FILE> [--json] [--strict] [--static | --live]\n"
	    "           [--no-probe]\n\n"
	    "Walks the guide's troubleshooting and hardening checklists over a config and,\n"
	    "when its interface runs, over the running interface: keys and file modes,\n"
	    "AllowedIPs that overlap each other, the host's networks or a peer's endpoint,\n"
	    "MTU against the underlay, the access policy, handshakes, expiries. Each finding\n"
	    "has a stable code, a severity (error, warning, notice), where it is (file and\n"
	    "line, peer), what it means and the fix. --static skips the running interface,\n"
	    "--live checks only it; a live check probes the path MTU to each endpoint with\n"
	    "one datagram (--no-probe: none).\n"
	    "Exit status: 0 when there is no error (with --strict: no warning either), 1\n"
	    "when there is, 2 when the config cannot be read. See wgate(8), CHECK.\n",
	    out);
}

/* The other interfaces' networks (not ifname's, not loopback or link-local). */
static size_t host_networks(const char *ifname, struct host_network **out)
{
	struct ifaddrs *all, *a;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (getifaddrs(&all) < 0)
		return 0;
	for (a = all; a; a = a->ifa_next) {
		struct host_network net = {0};
		const struct sockaddr *sa = a->ifa_addr, *mask = a->ifa_netmask;
		unsigned bits = 0;

		if (!sa || !mask || (a->ifa_flags & IFF_LOOPBACK) || !strcmp(a->ifa_name, ifname) ||
		    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		net.prefix.family = sa->sa_family;
		if (sa->sa_family == AF_INET) {
			uint32_t m = ntohl(((const struct sockaddr_in *)mask)->sin_addr.s_addr);

			net.prefix.addr.v4 = ((const struct sockaddr_in *)sa)->sin_addr;
			while (m & 0x80000000u)
				++bits, m <<= 1;
		} else {
			const uint8_t *m = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;

			net.prefix.addr.v6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&net.prefix.addr.v6))
				continue;
			for (int i = 0; i < 16 && m[i] == 0xff; ++i)
				bits += 8;
			if (bits < 128)
				for (uint8_t b = m[bits / 8]; b & 0x80; b <<= 1)
					++bits;
		}
		net.prefix.cidr = (uint8_t)bits;
		snprintf(net.ifname, sizeof(net.ifname), "%s", a->ifa_name);
		if (n == cap) {
			struct host_network *more =
			    realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof(*more));

			if (!more)
				break;
			*out = more;
		}
		(*out)[n++] = net;
	}
	freeifaddrs(all);
	return n;
}

/* The public keys of the other configs beside path (NAME.conf) and of running interfaces. */
static size_t other_configs(const char *path, struct other_config *out)
{
	char dir[3800], *slash, candidates[MAX_OTHERS][4096];
	size_t n = 0, found = 0;
	DIR *d;
	struct dirent *e;

	if (strlen(path) >= sizeof(dir))
		return 0;
	snprintf(dir, sizeof(dir), "%.3799s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if ((d = opendir(dir))) {
		while ((e = readdir(d)) && found < MAX_OTHERS) {
			size_t len = strlen(e->d_name);

			if (len > 5 && len < 256 && !strcmp(e->d_name + len - 5, ".conf"))
				snprintf(candidates[found++], sizeof(candidates[0]), "%s/%.255s",
					 dir, e->d_name);
		}
		closedir(d);
	}
	if ((d = opendir("/run/wgate"))) {
		while ((e = readdir(d)) && found < MAX_OTHERS) {
			size_t len = strlen(e->d_name);
			char name[IFNAMSIZ];

			if (len <= 4 || len - 4 >= IFNAMSIZ || strcmp(e->d_name + len - 4, ".pid"))
				continue;
			memcpy(name, e->d_name, len - 4);
			name[len - 4] = '\0';
			if (running_interface(name, candidates[found]))
				++found;
		}
		closedir(d);
	}
	for (size_t i = 0; i < found && n < MAX_OTHERS; ++i) {
		struct config c;
		char err[512], real_a[4096], real_b[4096];
		bool dup = false;

		if (!realpath(candidates[i], real_a) || !realpath(path, real_b) ||
		    !strcmp(real_a, real_b))
			continue;
		for (size_t k = 0; k < i && !dup; ++k) {
			char real_k[4096];

			dup = realpath(candidates[k], real_k) && !strcmp(real_k, real_a);
		}
		if (dup || !config_load(&c, candidates[i], err, sizeof(err)))
			continue;
		if (c.has_private_key && x25519_public(out[n].public_key, c.private_key)) {
			const char *base = strrchr(candidates[i], '/');

			snprintf(out[n].name, sizeof(out[n].name), "%s",
				 base ? base + 1 : candidates[i]);
			++n;
		}
		config_free(&c);
	}
	return n;
}

/* The MTU the kernel would use toward addr (its route's, or a learned path MTU); 0 unknown. */
static unsigned route_mtu(const union sockaddr_any *addr, bool probe)
{
	int fd = socket(addr->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int v6 = addr->sa.sa_family == AF_INET6, mtu = 0;
	socklen_t len = sizeof(mtu);

	if (fd < 0)
		return 0;
	if (connect(fd, &addr->sa, v6 ? sizeof(addr->v6) : sizeof(addr->v4)) < 0) {
		close(fd);
		return 0;
	}
	if (probe) {
		/*
		 * One datagram as large as the route allows, not to be fragmented: a
		 * router with a smaller MTU answers "too big", and the kernel learns the
		 * path's MTU. Its first byte (0) is no WireGuard message: the peer drops it.
		 */
		int dont = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
		static uint8_t junk[65536];

		setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			   v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &dont, sizeof(dont));
		if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu,
			       &len) == 0 &&
		    mtu > 48) {
			size_t size = (size_t)mtu - (v6 ? 48 : 28);

			for (int i = 0; i < 3; ++i) {
				struct pollfd p = {.fd = fd, .events = POLLERR};

				if (send(fd, junk, size, 0) < 0 && errno == EMSGSIZE)
					break;
				poll(&p, 1, 200);
			}
		}
		len = sizeof(mtu);
	}
	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) < 0)
		mtu = 0;
	close(fd);
	return mtu > 0 ? (unsigned)mtu : 0;
}

/* The default route's MTU for a family: toward a documentation address, nothing sent. */
static unsigned default_route_mtu(int family)
{
	union sockaddr_any a = {0};

	a.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "192.0.2.1", &a.v4.sin_addr);
		a.v4.sin_port = htons(9);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", &a.v6.sin6_addr);
		a.v6.sin6_port = htons(9);
	}
	return route_mtu(&a, false);
}

static int by_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* TCP ports listening on every address (from /proc/net/tcp and tcp6), distinct, ascending. */
static size_t open_ports(uint16_t *out, size_t max)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	size_t n = 0;

	for (size_t i = 0; i < 2; ++i) {
		FILE *f = fopen(files[i], "re");
		char line[512];

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && n < max) {
			char local[64], state[8];
			unsigned port;
			const char *colon;

			if (sscanf(line, " %*s %63s %*s %7s", local, state) != 2 ||
			    strcmp(state, "0A"))
				continue; /* not listening (TCP_LISTEN is 0A) */
			colon = strchr(local, ':');
			if (!colon || strspn(local, "0") != (size_t)(colon - local) ||
			    sscanf(colon + 1, "%x", &port) != 1)
				continue; /* bound to one address, not every one */
			out[n++] = (uint16_t)port;
		}
		fclose(f);
	}
	qsort(out, n, sizeof(*out), by_port);
	size_t k = 0;

	for (size_t i = 0; i < n; ++i)
		if (!k || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

static bool forwarding(void)
{
	static const char *const files[] = {"/proc/sys/net/ipv4/ip_forward",
					    "/proc/sys/net/ipv6/conf/all/forwarding"};

	for (size_t i = 0; i < 2; ++i) {
		FILE *f = fopen(files[i], "re");
		int c = f ? fgetc(f) : EOF;

		if (f)
			fclose(f);
		if (c == '1')
			return true;
	}
	return false;
}

static void print_text(const struct findings *fs, const char *path, const char *ifname,
		       bool running)
{
	size_t e = findings_count(fs, CHECK_ERROR), w = findings_count(fs, CHECK_WARNING),
	       n = findings_count(fs, CHECK_NOTICE);

	for (int sev = CHECK_ERROR; sev >= CHECK_NOTICE; --sev)
		for (size_t i = 0; i < fs->len; ++i) {
			const struct finding *f = &fs->v[i];

			if ((int)f->severity != sev)
				continue;
			if (f->line)
				printf("%s:%u: ", f->file ? f->file : path, f->line);
			else
				printf("%s: ", path);
			printf("%s [%s] ", check_severity_name(f->severity), f->code);
			if (*f->peer)
				printf("peer %s: ", f->peer);
			printf("%s\n", f->what);
			if (*f->fix)
				printf("    fix: %s\n", f->fix);
		}
	printf("%s%s: %zu error%s, %zu warning%s, %zu notice%s\n", ifname,
	       running ? " (running)" : "", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s", n,
	       n == 1 ? "" : "s");
}

static void print_json(const struct findings *fs, const char *path, const char *ifname,
		       bool running)
{
	json_object *doc = json_object_new_object(), *list = json_object_new_array(),
		    *counts = json_object_new_object();

	json_object_object_add(doc, "schema", json_object_new_string("wgate.check/1"));
	json_object_object_add(doc, "interface", json_object_new_string(ifname));
	json_object_object_add(doc, "config", json_object_new_string(path));
	json_object_object_add(doc, "running", json_object_new_boolean(running));
	for (size_t i = 0; i < fs->len; ++i) {
		const struct finding *f = &fs->v[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "code", json_object_new_string(f->code));
		json_object_object_add(o, "severity",
				       json_object_new_string(check_severity_name(f->severity)));
		json_object_object_add(o, "line", f->line ? json_object_new_int64(f->line) : NULL);
		if (f->file)
			json_object_object_add(o, "file", json_object_new_string(f->file));
		json_object_object_add(o, "peer",
				       *f->peer ? json_object_new_string(f->peer) : NULL);
		json_object_object_add(o, "message", json_object_new_string(f->what));
		json_object_object_add(o, "fix", json_object_new_string(f->fix));
		json_object_array_add(list, o);
	}
	json_object_object_add(doc, "findings", list);
	for (int s = CHECK_NOTICE; s <= CHECK_ERROR; ++s)
		json_object_object_add(
		    counts, check_severity_name((enum check_severity)s),
		    json_object_new_uint64(findings_count(fs, (enum check_severity)s)));
	json_object_object_add(doc, "counts", counts);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

int cmd_check(int argc, char **argv)
{
	bool json = false, strict = false, only_static = false, only_live = false, probe = true;
	const char *arg = NULL;
	char path[4096], ifname[IFNAMSIZ], err[512];
	struct findings fs = {0};
	struct config config;
	bool running = false;
	int status;

	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--strict")) {
			strict = true;
		} else if (!strcmp(argv[i], "--static")) {
			only_static = true;
		} else if (!strcmp(argv[i], "--live")) {
			only_live = true;
		} else if (!strcmp(argv[i], "--no-probe")) {
			probe = false;
		} else if (argv[i][0] == '-' || arg) {
			cli_error("wgate check: unknown argument `%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			arg = argv[i];
		}
	}
	if (!arg || (only_static && only_live)) {
		usage(stderr);
		return 2;
	}
	if (!config_for_reading(arg, path, ifname, &running)) {
		cli_error("wgate check: `%s' does not name an interface: name the file NAME.conf\n",
			  path);
		return 2;
	}
	if (only_live && !running) {
		cli_error("wgate check: %s is not running (--live needs it)\n", ifname);
		return 2;
	}
	if (!config_load(&config, path, err, sizeof(err))) {
		cli_error("wgate check: %s\n", err);
		return 2;
	}
	if (!config_resolve_endpoints(&config, NULL, NULL, err, sizeof(err)))
		cli_error("wgate check: %s (endpoints not checked)\n", err);
	if (!only_live) {
		struct other_config others[MAX_OTHERS];
		struct host_network *networks = NULL;
		struct key_since *key_ages = NULL;
		uint16_t ports[64];
		unsigned *endpoint_mtu = calloc(config.peers_len + 1, sizeof(*endpoint_mtu));
		mode_t *peer_file_modes = calloc(config.peer_files.len + 1, sizeof(mode_t));
		struct check_facts facts = {.path = path, .now = (int64_t)time(NULL)};
		struct stat st;

		if (stat(path, &st) == 0) {
			facts.have_stat = true;
			facts.mode = st.st_mode;
			facts.uid = st.st_uid;
		}
		for (size_t i = 0; peer_file_modes && i < config.peer_files.len; ++i)
			if (strncmp(config.peer_files.v[i], "etcd:", 5) &&
			    stat(config.peer_files.v[i], &st) == 0)
				peer_file_modes[i] = st.st_mode;
		facts.peer_file_modes = peer_file_modes;
		facts.networks_len = host_networks(ifname, &networks);
		facts.networks = networks;
		facts.others_len = other_configs(path, others);
		facts.others = others;
		for (size_t i = 0; endpoint_mtu && i < config.peers_len; ++i)
			if (peer_config_endpoint(&config.peers[i]))
				endpoint_mtu[i] =
				    route_mtu(peer_config_endpoint(&config.peers[i]), false);
		facts.endpoint_mtu = endpoint_mtu;
		facts.default_mtu[0] = default_route_mtu(AF_INET);
		facts.default_mtu[1] = default_route_mtu(AF_INET6);
		facts.ip_forward = forwarding();
		facts.open_ports_len = open_ports(ports, sizeof(ports) / sizeof(ports[0]));
		facts.open_ports = ports;
		facts.key_ages_len = key_ledger_load(ifname, &key_ages);
		facts.key_ages = key_ages;
		check_config(&config, &facts, &fs);
		free(key_ages);
		crypto_wipe(others, sizeof(others));
		free(networks);
		free(endpoint_mtu);
		free(peer_file_modes);
	}
	if (running && !only_static) {
		char *answer = uapi_request(ifname, "get=wgate\n\n");
		struct uapi_state state;

		if (answer && uapi_state_parse(&state, answer)) {
			unsigned *path_mtu = calloc(state.peers_len + 1, sizeof(*path_mtu));
			struct check_live live = {
			    .state = &state, .now = (int64_t)time(NULL), .path_mtu = path_mtu};

			for (size_t i = 0; probe && path_mtu && i < state.peers_len; ++i)
				if (state.peers[i].endpoint.sa.sa_family != AF_UNSPEC)
					path_mtu[i] = route_mtu(&state.peers[i].endpoint, true);
			check_running(&config, &live, &fs);
			free(path_mtu);
			uapi_state_free(&state);
		} else {
			cli_error("wgate check: cannot read the running interface %s\n", ifname);
		}
		if (answer) {
			crypto_wipe(answer, strlen(answer));
			free(answer);
		}
	}
	if (fs.failed)
		cli_error("wgate check: out of memory: some findings are missing\n");
	if (json)
		print_json(&fs, path, ifname, running);
	else
		print_text(&fs, path, ifname, running);
	status = findings_count(&fs, CHECK_ERROR) || (strict && findings_count(&fs, CHECK_WARNING));
	findings_free(&fs);
	config_free(&config);
	if (fflush(stdout))
		return 2;
	return status;
}
