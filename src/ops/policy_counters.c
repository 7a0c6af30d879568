// SPDX-License-Identifier: MIT
/* The access policy's drop counters: see policy_counters.h. */
#include "ops/policy_counters.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "host/nft.h"

/* The counter among a rule's expressions, if it has one. */
static bool rule_counter(json_object *rule, int64_t *packets, int64_t *bytes)
{
	json_object *exprs, *counter, *v;

	if (!json_object_object_get_ex(rule, "expr", &exprs) ||
	    !json_object_is_type(exprs, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(exprs); ++i) {
		json_object *e = json_object_array_get_idx(exprs, i);

		if (!json_object_object_get_ex(e, "counter", &counter))
			continue;
		*packets = json_object_object_get_ex(counter, "packets", &v)
			       ? json_object_get_int64(v)
			       : 0;
		*bytes =
		    json_object_object_get_ex(counter, "bytes", &v) ? json_object_get_int64(v) : 0;
		return true;
	}
	return false;
}

/* A comment is printed inside a label: only what cannot break the line format. */
static void put_comment(FILE *f, const char *s)
{
	for (; *s; ++s)
		fputc(*s == '\t' || *s == '\n' || (unsigned char)*s < 0x20 ? ' ' : *s, f);
}

/* The rules' counters summed by comment: IPv4 and IPv6, TCP and UDP share one. */
struct rule_sum {
	const char *comment;
	long long packets, bytes;
};

char *policy_counters_from_json(const char *json, const struct config *config)
{
	json_object *root = json_tokener_parse(json), *items;
	struct rule_sum sums[32];
	size_t n_sums = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!root || !json_object_object_get_ex(root, "nftables", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(root);
		return NULL;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		json_object_put(root);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(items); ++i) {
		json_object *rule, *chain, *comment;
		int64_t packets, bytes;
		const char *name;
		size_t peer;
		char dir[8], key[KEY_BASE64_LEN + 1];
		int used = 0;

		if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule",
					       &rule) ||
		    !json_object_object_get_ex(rule, "chain", &chain) ||
		    !rule_counter(rule, &packets, &bytes))
			continue;
		name = json_object_get_string(chain);
		if (sscanf(name, "peer_%zu_%7[a-z]%n", &peer, dir, &used) == 2 && !name[used] &&
		    peer < config->peers_len && (!strcmp(dir, "in") || !strcmp(dir, "fwd"))) {
			if (!packets)
				continue;
			key_to_base64(key, config->peers[peer].public_key);
			fprintf(f, "peer\t%s\t%s\t%lld\t%lld\n", key,
				strcmp(dir, "in") ? "forwarded" : "to_gateway", (long long)packets,
				(long long)bytes);
			continue;
		}
		if (!json_object_object_get_ex(rule, "comment", &comment))
			continue;
		size_t k = 0;

		while (k < n_sums && strcmp(sums[k].comment, json_object_get_string(comment)))
			++k;
		if (k == n_sums && n_sums < sizeof(sums) / sizeof(sums[0]))
			sums[n_sums++] = (struct rule_sum){json_object_get_string(comment), 0, 0};
		if (k < n_sums) {
			sums[k].packets += packets;
			sums[k].bytes += bytes;
		}
	}
	for (size_t k = 0; k < n_sums; ++k) {
		fputs("rule\t", f);
		put_comment(f, sums[k].comment);
		fprintf(f, "\t%lld\t%lld\n", sums[k].packets, sums[k].bytes);
	}
	json_object_put(root);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

char *policy_counters_read(const char *ifname, const struct config *config, char *err,
			   size_t err_len)
{
	char command[64], *json, *text;

	snprintf(command, sizeof(command), "list table inet wgate-%s", ifname);
	json = nft_list_json(command, err, err_len);
	if (!json)
		return NULL;
	text = policy_counters_from_json(json, config);
	free(json);
	if (!text)
		snprintf(err, err_len, "nftables' listing is not what was expected");
	return text;
}
