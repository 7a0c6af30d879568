/* SPDX-License-Identifier: MIT */
/*
 * Peer identity for API gateways: an HTTP endpoint that answers an
 * authorization sub-request (NGINX auth_request, Envoy ext_authz, Traefik
 * forwardAuth, HAProxy) about the client address the gateway saw.
 *
 * Inside the tunnel a source address is authenticated (cryptokey routing
 * drops a packet whose source is not in its peer's AllowedIPs), so the
 * address names the peer that sent it. The answer is 200 with the peer's
 * name, public key and groups in headers when the address belongs to a peer
 * with a live session (a keypair under REJECT_AFTER_TIME old), 403 otherwise;
 * it is read from the device at the moment of the request, so it changes the
 * moment a peer is removed, expires or its AllowedIPs move.
 *
 * A refusal for a group names the peer too, so the gateway's log says who was
 * refused. The request names the address as the last entry of X-Forwarded-For (the
 * one the gateway itself appends or sets); a path /group/NAME[/...] also
 * requires the peer to be in group NAME.
 */
#ifndef WGATE_IDENTITY_H
#define WGATE_IDENTITY_H

#include <stdint.h>

#include "control/http.h"
#include "core/device.h"

enum identity_result {
	IDENTITY_ALLOWED,
	IDENTITY_NO_ADDRESS,   /* no usable X-Forwarded-For: 400 */
	IDENTITY_UNKNOWN,      /* no peer holds the address: 403 */
	IDENTITY_NO_SESSION,   /* the peer has no live session: 403 */
	IDENTITY_NOT_IN_GROUP, /* the path asks for a group the peer is not in: 403 */
	IDENTITY_RESULTS
};

/* "allowed", "no_address", "unknown_address", "no_session", "not_in_group". */
const char *identity_result_name(enum identity_result result);

/*
 * Who is at the last address of forwarded_for (an X-Forwarded-For value; NULL
 * for none) for a request to path, at monotonic time now; *peer is set when
 * one holds the address, whatever the result.
 */
enum identity_result identity_lookup(const struct device *dev, const char *forwarded_for,
				     const char *path, uint64_t now, const struct peer **peer);

struct identity_server {
	struct http_server http; /* http.httpd NULL when off */
	const struct device *device;
	uint64_t answers[IDENTITY_RESULTS];
};

/* Listens on address (http.h); 0 or a negative errno with a sentence in err. */
int identity_listen(struct identity_server *server, const char *address, const struct device *dev,
		    uint64_t (*clock)(void), char *err, size_t err_len);
void identity_close(struct identity_server *server);

#endif
