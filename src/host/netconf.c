// SPDX-License-Identifier: MIT
/* Interface set-up around the tunnel, in wg-quick's order and with its semantics. */
#include "host/netconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/crypto.h"
#include "host/log.h"
#include "host/netlink.h"

/* The main routing table (RT_TABLE_MAIN). */
enum { RT_TABLE_MAIN_ID = 254 };

/* Replaces every %i with the interface name. */
static char *expand(const char *hook, const char *ifname)
{
	size_t n = 1;
	char *out, *o;

	for (const char *s = hook; *s; ++s)
		n += (s[0] == '%' && s[1] == 'i') ? strlen(ifname) : 1;
	out = o = malloc(n);
	if (!out)
		return NULL;
	for (const char *s = hook; *s; ++s) {
		if (s[0] == '%' && s[1] == 'i') {
			o = stpcpy(o, ifname);
			++s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int run_shell(const char *command, const char *input)
{
	int pipefd[2] = {-1, -1}, status;
	pid_t pid;

	if (input && pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;

		/* The daemon's blocked signals (its signalfd's) and ignored SIGPIPE are its own. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (input) {
			dup2(pipefd[0], STDIN_FILENO);
			close(pipefd[0]);
			close(pipefd[1]);
		}
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	if (input) {
		close(pipefd[0]);
		if (write(pipefd[1], input, strlen(input)) < 0)
			log_error("event=error msg=\"could not feed `%s': %s\"", command,
				  strerror(errno));
		close(pipefd[1]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool netconf_run_hooks(const struct strv *hooks, const char *ifname, bool strict, char *err,
		       size_t err_len)
{
	for (size_t i = 0; i < hooks->len; ++i) {
		char *command = expand(hooks->v[i], ifname), *shown;
		int status;

		if (!command) {
			snprintf(err, err_len, "out of memory");
			return false;
		}
		/* a hook may carry a secret inline (wg set ... private-key <(echo ...)) */
		shown = strdup(command);
		if (shown)
			redact_keys(shown, strlen(shown) + 1);
		log_info("event=hook command=\"%s\"", shown ? shown : "(out of memory)");
		status = run_shell(command, NULL);
		crypto_wipe(command, strlen(command));
		free(command);
		if (status != 0) {
			snprintf(err, err_len, "hook `%s' failed with status %d",
				 shown ? shown : "(out of memory)", status);
			free(shown);
			if (strict)
				return false;
			log_error("event=hook_failed msg=\"%s\"", err);
			continue;
		}
		free(shown);
	}
	return true;
}

long netconf_table(const struct config *config, char *err, size_t err_len)
{
	const char *t = config->table;
	uint64_t n;

	if (!t || !strcasecmp(t, "auto") || !strcasecmp(t, "main"))
		return 0;
	if (!strcasecmp(t, "off"))
		return -1;
	if (!parse_uint(t, UINT32_MAX, false, &n)) {
		snprintf(err, err_len, "Table `%s': give a table number (or auto, main, off)", t);
		return -2;
	}
	return (long)n;
}

enum { DEFAULT_ROUTE_TABLE = 51820 };

bool netconf_full_tunnel(const struct config *config, uint32_t *mark, bool *v4, bool *v6)
{
	char err[128];
	long table = netconf_table(config, err, sizeof(err));

	*v4 = *v6 = false;
	*mark = 0;
	if (table < -1)
		return false;
	for (size_t i = 0; table == 0 && i < config->peers_len; ++i)
		for (size_t j = 0; j < config->peers[i].allowed_ips_len; ++j) {
			const struct ip_prefix *p = &config->peers[i].allowed_ips[j];

			if (p->cidr)
				continue;
			*(p->family == AF_INET ? v4 : v6) = true;
			*mark = config->fwmark ? config->fwmark : DEFAULT_ROUTE_TABLE;
		}
	return true;
}

static bool add_default_route(unsigned ifindex, const struct ip_prefix *prefix,
			      struct netconf_state *state, char *err, size_t err_len)
{
	uint32_t table = state->default_table;
	bool *done = prefix->family == AF_INET ? &state->default_v4 : &state->default_v6;
	int ret;

	if (*done)
		return true;
	/* not fwmark T -> table T; then main, but without its default route */
	ret = netlink_rule(true, prefix->family, table, table, true, -1);
	if (!ret) {
		*done = true; /* from here on, netconf_down() removes the rules */
		ret = netlink_rule(true, prefix->family, RT_TABLE_MAIN_ID, 0, false, 0);
	}
	if (!ret)
		ret = netlink_route_add(ifindex, prefix, table);
	if (ret) {
		snprintf(err, err_len, "cannot set up the default route through table %u: %s",
			 table, strerror(-ret));
		return false;
	}
	if (prefix->family == AF_INET) {
		/* so that replies to marked packets pass reverse-path filtering */
		FILE *f = fopen("/proc/sys/net/ipv4/conf/all/src_valid_mark", "we");

		if (!f || fputs("1\n", f) < 0 || fclose(f))
			log_error(
			    "event=error msg=\"cannot set net.ipv4.conf.all.src_valid_mark\"");
	}
	return true;
}

/* Uplink: the default route of its own table through the uplink, and the rules that pick it. */
static bool uplinks_up(const struct config *config, struct netconf_state *state, char *err,
		       size_t err_len)
{
	for (size_t i = 0; i < config->uplinks_len; ++i) {
		const struct uplink_config *u = &config->uplinks[i];
		struct ip_prefix any = {.family = u->family, .cidr = 0};
		int k = u->family == AF_INET ? 0 : 1;
		unsigned ifindex = if_nametoindex(u->dev);
		int ret;

		if (!ifindex) {
			snprintf(err, err_len, "Uplink device `%s' does not exist", u->dev);
			return false;
		}
		ret = netlink_route_via(true, ifindex, &any, &u->via, u->table);
		if (ret) {
			snprintf(err, err_len, "cannot route table %u through %s: %s", u->table,
				 u->dev, strerror(-ret));
			return false;
		}
		state->uplinks[k] = *u;
		state->uplink_ifindex[k] = ifindex;
		state->uplink_set[k] = true; /* from here on, netconf_down() removes them */
		ret = netlink_rule(true, u->family, u->table, u->table, false, -1);
		/* the main table without its default route first, as for a full tunnel */
		if (!ret && !(k ? state->default_v6 : state->default_v4))
			ret = netlink_rule(true, u->family, RT_TABLE_MAIN_ID, 0, false, 0);
		if (ret) {
			snprintf(err, err_len, "cannot add the rules for table %u: %s", u->table,
				 strerror(-ret));
			return false;
		}
	}
	return true;
}

bool netconf_up(const char *ifname, unsigned ifindex, const struct config *config, unsigned mtu,
		struct netconf_state *state, uint32_t *fwmark, char *err, size_t err_len)
{
	long table = netconf_table(config, err, err_len);
	char text[64];
	int ret;

	memset(state, 0, sizeof(*state));
	snprintf(state->ifname, sizeof(state->ifname), "%s", ifname);
	if (table < -1)
		return false;
	for (size_t i = 0; i < config->addresses_len; ++i) {
		ip_prefix_format(&config->addresses[i], text, sizeof(text));
		ret = netlink_address_add(ifindex, &config->addresses[i]);
		if (ret) {
			snprintf(err, err_len, "cannot add address %s to %s: %s", text, ifname,
				 strerror(-ret));
			return false;
		}
	}
	ret = netlink_link_set(ifindex, true, mtu);
	if (ret) {
		snprintf(err, err_len, "cannot set %s up with MTU %u: %s", ifname, mtu,
			 strerror(-ret));
		return false;
	}
	if (table < 0)
		return uplinks_up(config, state, err, err_len);
	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *peer = &config->peers[i];

		for (size_t j = 0; j < peer->allowed_ips_len; ++j) {
			const struct ip_prefix *prefix = &peer->allowed_ips[j];

			if (prefix->cidr == 0 && table == 0) {
				if (!state->default_table)
					state->default_table =
					    *fwmark ? *fwmark : DEFAULT_ROUTE_TABLE;
				*fwmark = state->default_table;
				if (!add_default_route(ifindex, prefix, state, err, err_len))
					return false;
				continue;
			}
			ip_prefix_format(prefix, text, sizeof(text));
			ret = netlink_route_add(ifindex, prefix, (uint32_t)table);
			if (ret) {
				snprintf(err, err_len, "cannot add route %s via %s: %s", text,
					 ifname, strerror(-ret));
				return false;
			}
		}
	}
	return uplinks_up(config, state, err, err_len);
}

void netconf_down(const struct netconf_state *state)
{
	int families[] = {state->default_v4 ? AF_INET : 0, state->default_v6 ? AF_INET6 : 0};

	for (int k = 0; k < 2; ++k) {
		const struct uplink_config *u = &state->uplinks[k];
		struct ip_prefix any = {.family = u->family, .cidr = 0};

		if (!state->uplink_set[k])
			continue;
		netlink_rule(false, u->family, u->table, u->table, false, -1);
		if (!families[k])
			netlink_rule(false, u->family, RT_TABLE_MAIN_ID, 0, false, 0);
		netlink_route_via(false, state->uplink_ifindex[k], &any, &u->via, u->table);
	}

	for (int i = 0; i < 2; ++i) {
		if (!families[i])
			continue;
		netlink_rule(false, families[i], state->default_table, state->default_table, true,
			     -1);
		netlink_rule(false, families[i], RT_TABLE_MAIN_ID, 0, false, 0);
	}
}

static const char *resolvconf_command(void)
{
	const char *env = getenv("WGATE_RESOLVCONF");

	return env && *env ? env : "resolvconf";
}

bool netconf_dns_set(const char *ifname, const struct config *config, char *err, size_t err_len)
{
	char command[256], *input;
	size_t len = 1;
	FILE *f;
	int status;

	if (!config->dns.len && !config->dns_search.len)
		return true;
	f = open_memstream(&input, &len);
	if (!f) {
		snprintf(err, err_len, "out of memory");
		return false;
	}
	for (size_t i = 0; i < config->dns.len; ++i)
		fprintf(f, "nameserver %s\n", config->dns.v[i]);
	if (config->dns_search.len) {
		fputs("search", f);
		for (size_t i = 0; i < config->dns_search.len; ++i)
			fprintf(f, " %s", config->dns_search.v[i]);
		fputc('\n', f);
	}
	fclose(f);
	snprintf(command, sizeof(command), "%s -a tun.%s -m 0 -x", resolvconf_command(), ifname);
	status = run_shell(command, input);
	free(input);
	if (status != 0) {
		snprintf(
		    err, err_len,
		    "DNS is set but `%s' failed (status %d); install openresolv, or remove DNS "
		    "from the config",
		    command, status);
		return false;
	}
	return true;
}

void netconf_dns_unset(const char *ifname)
{
	char command[256];

	snprintf(command, sizeof(command), "%s -d tun.%s -f", resolvconf_command(), ifname);
	if (run_shell(command, NULL) != 0)
		log_error("event=error msg=\"could not remove DNS settings: `%s' failed\"",
			  command);
}
