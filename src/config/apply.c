// SPDX-License-Identifier: MIT
/* A parsed config handed to a device: see apply.h. */
#include "config/apply.h"

#include <stdlib.h>
#include <string.h>

#include "core/allowedips.h"
#include "core/crypto.h"
#include "core/device.h"
#include "core/peer.h"

/* Several endpoints: the peer fails over between those resolved. */
static bool apply_endpoints(struct peer *peer, const struct peer_config *pc, uint64_t now)
{
	union sockaddr_any addrs[PEER_ENDPOINTS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < pc->endpoints_len && n < PEER_ENDPOINTS_MAX; ++i)
		if (pc->endpoints[i].addr.sa.sa_family != AF_UNSPEC)
			addrs[n++] = pc->endpoints[i].addr;
	return peer_set_endpoints(peer, addrs, n, pc->failover_ms, pc->failback_ms, now);
}

bool config_apply(struct device *dev, const struct config *config, uint64_t now)
{
	if (!device_set_private_key(dev, config->has_private_key ? config->private_key : NULL))
		return false;
	if (config->has_listen_port)
		dev->listen_port = config->listen_port;
	if (config->has_fwmark)
		dev->fwmark = config->fwmark;
	if (config->has_mtu)
		dev->mtu = config->mtu;
	for (size_t i = 0; i < config->peers_len; ++i) {
		const struct peer_config *pc = &config->peers[i];
		struct peer *peer = device_add_peer(dev, pc->public_key);

		if (!peer) {
			if (dev->identity.has_identity &&
			    crypto_equal(pc->public_key, dev->identity.static_public,
					 CRYPTO_KEY_LEN))
				continue; /* our own key: ignored, as the kernel does */
			return false;
		}
		peer_set_preshared_key(peer, pc->has_preshared_key ? pc->preshared_key : NULL);
		if (peer_config_endpoint(pc))
			peer_set_endpoint(peer, peer_config_endpoint(pc));
		if (pc->endpoints_len > 1 && !apply_endpoints(peer, pc, now))
			return false;
		for (size_t j = 0; j < pc->allowed_ips_len; ++j) {
			const struct ip_prefix *ip = &pc->allowed_ips[j];

			if (!allowedips_insert(&dev->allowedips, ip->family, &ip->addr, ip->cidr,
					       &peer->allowedips))
				return false;
		}
		char *groups = strv_join(&pc->groups);

		if (!groups || !peer_set_identity(peer, pc->name, groups)) {
			free(groups);
			return false;
		}
		free(groups);
		peer_set_persistent_keepalive(peer, pc->persistent_keepalive, now);
		peer_set_expiry(peer, pc->expires);
		/* a rotation in progress goes on; one to our own key is ignored, as that key is */
		if (pc->has_next_key &&
		    !(dev->identity.has_identity &&
		      crypto_equal(pc->next_public_key, dev->identity.static_public,
				   CRYPTO_KEY_LEN)) &&
		    !device_rotate_peer(dev, peer, pc->next_public_key, pc->rotation_deadline))
			return false;
	}
	return true;
}
