/* SPDX-License-Identifier: MIT */
/*
 * wgate check: the guide's troubleshooting and hardening checklists as
 * findings about a config and, when it runs, its interface. The checks are
 * pure: what they need of the host (the file's mode, the other interfaces'
 * addresses, route MTUs, other configs' keys) and of the running interface
 * comes in as facts gathered by the caller, so each check is tested on facts
 * made up for it. Each finding has a stable code (wgate(8), CHECK).
 */
#ifndef WGATE_CHECK_H
#define WGATE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "control/uapi.h"
#include "ops/key_ledger.h"

enum check_severity { CHECK_NOTICE, CHECK_WARNING, CHECK_ERROR };

struct finding {
	const char *code; /* stable: scripts match on it */
	enum check_severity severity;
	unsigned line;	  /* in the config; 0 for none */
	const char *file; /* the PeerDirectory file line is in; NULL: the config */
	char peer[72];	  /* the peer's Name, else its public key; "" for none */
	char what[512];	  /* what is wrong and what it means */
	char fix[256];	  /* what to do */
};

struct findings {
	struct finding *v;
	size_t len, cap;
	bool failed; /* out of memory: some findings may be missing */
};

/* A network another interface of the host has (an address with its prefix length). */
struct host_network {
	char ifname[16];
	struct ip_prefix prefix; /* the address itself, with the network's length */
	unsigned mtu;
};

/* Another WireGuard config on the host, by the public key of its PrivateKey. */
struct other_config {
	char name[64];
	uint8_t public_key[KEY_LEN];
};

struct check_facts {
	/* the config file */
	bool have_stat;
	mode_t mode;
	uid_t uid;
	const char *path;
	/* per config->peer_files entry: its mode (0 unknown, and for etcd's keys) */
	const mode_t *peer_file_modes;
	/* the host */
	const struct host_network *networks; /* the other interfaces' (not this one's) */
	size_t networks_len;
	const struct other_config *others;
	size_t others_len;
	/* per peer, in config order: the MTU of the underlay's route to its endpoint; 0 unknown */
	const unsigned *endpoint_mtu;
	/* the MTU of the underlay's default route (IPv4, IPv6); 0 unknown */
	unsigned default_mtu[2];
	bool ip_forward; /* the kernel forwards IPv4 or IPv6 */
	/* TCP ports listening on every address (0.0.0.0 or ::), ascending */
	const uint16_t *open_ports;
	size_t open_ports_len;
	/* when each key came into use (the daemon's ledger), for KeyMaxAge */
	const struct key_since *key_ages;
	size_t key_ages_len;
	int64_t now; /* UNIX seconds, for expiries */
};

/* The running interface, when there is one. */
struct check_live {
	const struct uapi_state *state; /* a get=wgate answer, parsed */
	int64_t now;			/* UNIX seconds */
	/* per peer of state: the path MTU a probe found to its endpoint; 0 unknown */
	const unsigned *path_mtu;
};

/* The static checks of config (facts may have gaps: what is unknown is not checked). */
void check_config(const struct config *config, const struct check_facts *facts,
		  struct findings *out);
/* AllowedIPs alone: the same prefix in two peers, one inside another's (reload warns). */
void check_allowedips(const struct config *config, struct findings *out);
/* The checks of the running interface against its config. */
void check_running(const struct config *config, const struct check_live *live,
		   struct findings *out);

void findings_free(struct findings *f);
const char *check_severity_name(enum check_severity s);
/* How many findings there are of severity s. */
size_t findings_count(const struct findings *f, enum check_severity s);

#endif
