// SPDX-License-Identifier: MIT
/* The identity endpoint: see identity.h. */
#include "control/identity.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <string.h>

#include "core/encoding.h"
#include "core/peer.h"

static const char *const result_names[IDENTITY_RESULTS] = {
    [IDENTITY_ALLOWED] = "allowed",	      [IDENTITY_NO_ADDRESS] = "no_address",
    [IDENTITY_UNKNOWN] = "unknown_address",   [IDENTITY_NO_SESSION] = "no_session",
    [IDENTITY_NOT_IN_GROUP] = "not_in_group",
};

const char *identity_result_name(enum identity_result result)
{
	return result < IDENTITY_RESULTS ? result_names[result] : "?";
}

/*
 * The last entry of an X-Forwarded-For value as an address: "10.0.0.2",
 * "fd00::2", "[fd00::2]:443", "10.0.0.2:443"; an IPv4-mapped IPv6 address (a
 * dual-stack listener's view) is the IPv4 one.
 */
static bool last_forwarded(const char *value, int *family, uint8_t addr[16])
{
	const char *start = strrchr(value, ',');
	char text[INET6_ADDRSTRLEN + 8], *end, *colon;
	size_t len;

	start = start ? start + 1 : value;
	start += strspn(start, " \t");
	len = strcspn(start, " \t");
	if (!len || len >= sizeof(text) || start[len + strspn(start + len, " \t")])
		return false;
	memcpy(text, start, len);
	text[len] = '\0';
	if (text[0] == '[') { /* [v6] or [v6]:port */
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':'))
			return false;
		*end = '\0';
		memmove(text, text + 1, strlen(text + 1) + 1);
	} else if ((colon = strchr(text, ':')) && !strchr(colon + 1, ':')) {
		*colon = '\0'; /* v4:port */
	}
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return false;
	*family = AF_INET6;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
	return true;
}

/* Whether groups ("a,b") holds name (len bytes). */
static bool in_group(const char *groups, const char *name, size_t len)
{
	while (groups && *groups) {
		size_t n = strcspn(groups, ",");

		if (n == len && !memcmp(groups, name, len))
			return true;
		groups += n + (groups[n] == ',');
	}
	return false;
}

enum identity_result identity_lookup(const struct device *dev, const char *forwarded_for,
				     const char *path, uint64_t now, const struct peer **peer)
{
	static const char group_prefix[] = "/group/";
	uint8_t addr[16];
	int family;
	const struct peer *p;

	*peer = NULL;
	if (!forwarded_for || !last_forwarded(forwarded_for, &family, addr))
		return IDENTITY_NO_ADDRESS;
	p = *peer = device_peer_for_address(dev, family, addr);
	if (!p)
		return IDENTITY_UNKNOWN;
	if (!p->current || now - p->current->birth >= SECONDS(REJECT_AFTER_TIME))
		return IDENTITY_NO_SESSION;
	if (path && !strncmp(path, group_prefix, sizeof(group_prefix) - 1)) {
		const char *name = path + sizeof(group_prefix) - 1;

		if (!in_group(p->groups, name, strcspn(name, "/?")))
			return IDENTITY_NOT_IN_GROUP;
	}
	return IDENTITY_ALLOWED;
}

static enum MHD_Result reply(struct MHD_Connection *connection, enum identity_result result,
			     const struct peer *peer, const char *forwarded_for)
{
	static const unsigned status[IDENTITY_RESULTS] = {
	    [IDENTITY_ALLOWED] = MHD_HTTP_OK,
	    [IDENTITY_NO_ADDRESS] = MHD_HTTP_BAD_REQUEST,
	    [IDENTITY_UNKNOWN] = MHD_HTTP_FORBIDDEN,
	    [IDENTITY_NO_SESSION] = MHD_HTTP_FORBIDDEN,
	    [IDENTITY_NOT_IN_GROUP] = MHD_HTTP_FORBIDDEN,
	};
	json_object *doc = json_object_new_object();
	/* who called, also when refused for a group: the gateway's log names the caller */
	bool named = result == IDENTITY_ALLOWED || result == IDENTITY_NOT_IN_GROUP;
	char key[KEY_BASE64_LEN + 1];
	struct MHD_Response *r;
	const char *body;
	enum MHD_Result ret = MHD_NO;

	if (!doc)
		return MHD_NO;
	json_object_object_add(doc, "result", json_object_new_string(identity_result_name(result)));
	if (forwarded_for && result != IDENTITY_NO_ADDRESS)
		json_object_object_add(doc, "address", json_object_new_string(forwarded_for));
	if (named) {
		key_to_base64(key, peer->public_key);
		json_object_object_add(doc, "peer",
				       json_object_new_string(peer->name ? peer->name : key));
		json_object_object_add(doc, "public_key", json_object_new_string(key));
		json_object_object_add(doc, "groups",
				       json_object_new_string(peer->groups ? peer->groups : ""));
	}
	body = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(r, "Wgate-Result", identity_result_name(result));
		if (named) {
			MHD_add_response_header(r, "Wgate-Peer", peer->name ? peer->name : key);
			MHD_add_response_header(r, "Wgate-Peer-Key", key);
			MHD_add_response_header(r, "Wgate-Peer-Groups",
						peer->groups ? peer->groups : "");
		}
		ret = MHD_queue_response(connection, status[result], r);
		MHD_destroy_response(r);
	}
	json_object_put(doc);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
			      const char *method)
{
	struct identity_server *server = cls;
	const char *forwarded_for =
	    MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Forwarded-For");
	const struct peer *peer;
	enum identity_result result;

	(void)method; /* a sub-request keeps the method of the request it checks */
	result = identity_lookup(server->device, forwarded_for, url, server->http.clock(), &peer);
	++server->answers[result];
	return reply(connection, result, peer, forwarded_for);
}

int identity_listen(struct identity_server *server, const char *address, const struct device *dev,
		    uint64_t (*clock)(void), char *err, size_t err_len)
{
	memset(server, 0, sizeof(*server));
	server->device = dev;
	/* its one client is the gateway on this host, with a connection per worker */
	return http_listen(&server->http, address, "the identity endpoint", HTTP_CONNECTIONS,
			   answer, server, clock, err, err_len);
}

void identity_close(struct identity_server *server)
{
	http_close(&server->http);
}
