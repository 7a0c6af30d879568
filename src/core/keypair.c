// SPDX-License-Identifier: MIT
/*
 * Keypair slots: previous, current and next. The initiator may use a new
 * keypair at once (the response confirmed it); the responder parks it in
 * `next' and promotes it only when the first data packet on it arrives (key
 * confirmation), so it never sends on a keypair the initiator may not have.
 */
#include <stdlib.h>

#include "core/device.h"

void keypair_free(struct device *dev, struct keypair *kp)
{
	if (!kp)
		return;
	index_remove(&dev->indices, &kp->entry);
	aead_ctx_release(&dev->aead, &kp->send);
	aead_ctx_release(&dev->aead, &kp->receive);
	crypto_wipe(kp, sizeof(*kp));
	free(kp);
}

void keypair_add(struct peer *peer, struct keypair *kp)
{
	struct device *dev = peer->device;

	if (peer->current)
		device_event(dev, EVENT_KEYPAIR_ROTATED, peer);
	if (kp->initiator) {
		if (peer->next_keypair) {
			/* An unconfirmed next becomes previous; the old current goes. */
			keypair_free(dev, peer->previous);
			keypair_free(dev, peer->current);
			peer->previous = peer->next_keypair;
			peer->next_keypair = NULL;
		} else {
			keypair_free(dev, peer->previous);
			peer->previous = peer->current;
		}
		peer->current = kp;
	} else {
		keypair_free(dev, peer->next_keypair);
		keypair_free(dev, peer->previous);
		peer->previous = NULL;
		peer->next_keypair = kp;
	}
}

bool keypair_received_with(struct peer *peer, struct keypair *kp)
{
	if (kp != peer->next_keypair)
		return false;
	keypair_free(peer->device, peer->previous);
	peer->previous = peer->current;
	peer->current = kp;
	peer->next_keypair = NULL;
	return true;
}
