// SPDX-License-Identifier: MIT
/* etcd's v3 JSON gateway over libcurl: see etcd.h. */
#include "host/etcd.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encoding.h"

enum { RESPONSE_MAX = 64 << 20 };

struct buffer {
	char *data;
	size_t len, cap;
	bool too_big;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buffer *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n + 1 > RESPONSE_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *bigger = realloc(b->data, cap);

		if (!bigger)
			return 0;
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

__attribute__((format(printf, 3, 4))) static int failed(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

bool etcd_init(struct etcd_client *c, const struct etcd_options *options)
{
	static bool global;

	memset(c, 0, sizeof(*c));
	if (!global && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return false;
	global = true;
	c->options = *options;
	c->curl = curl_easy_init();
	return c->curl != NULL;
}

void etcd_free(struct etcd_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->token) {
		crypto_wipe(c->token, strlen(c->token));
		free(c->token);
	}
	memset(c, 0, sizeof(*c));
}

static char *b64(const char *text, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		base64_encode(out, (const uint8_t *)text, len);
	return out;
}

/* A JSON string member decoded from base64 into a NUL-terminated copy; NULL when absent or bad. */
static char *unb64(json_object *o, const char *member, size_t *len)
{
	json_object *v;
	const char *text;
	size_t text_len, out_len;
	char *out;

	if (!json_object_object_get_ex(o, member, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	text = json_object_get_string(v);
	text_len = strlen(text);
	out = malloc(text_len / 4 * 3 + 1);
	if (!out || !base64_decode((uint8_t *)out, &out_len, text, text_len)) {
		free(out);
		return NULL;
	}
	out[out_len] = '\0';
	if (len)
		*len = out_len;
	return out;
}

/* int64 fields come as JSON strings; 0 when absent. */
static int64_t int64_of(json_object *o, const char *member)
{
	json_object *v;

	return json_object_object_get_ex(o, member, &v) ? json_object_get_int64(v) : 0;
}

static int64_t header_revision(json_object *o)
{
	json_object *h;

	return json_object_object_get_ex(o, "header", &h) ? int64_of(h, "revision") : 0;
}

/* The first key past every key that starts with prefix ("\0" when none is). */
static char *range_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = malloc(n + 1);

	if (!end)
		return NULL;
	memcpy(end, prefix, n + 1);
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		--n;
	if (n == 0) {
		end[0] = '\0';
		*len = 1;
		return end;
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	*len = n;
	return end;
}

static void setup(struct etcd_client *c, const char *url, struct curl_slist **headers,
		  const char *body, long timeout_ms)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->options.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->options.ca_file);
	if (c->options.cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->options.cert_file);
	if (c->options.key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->options.key_file);
	*headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->token) {
		char auth[1024];

		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
		*headers = curl_slist_append(*headers, auth);
		crypto_wipe(auth, sizeof(auth));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
}

/*
 * POSTs body to path on one member; the parsed answer, or NULL with err set.
 * An etcd error ({"error": ...}) is an answer too: the caller looks.
 */
static json_object *post_to(struct etcd_client *c, const char *base, const char *path,
			    const char *body, char *err, size_t err_len)
{
	struct buffer b = {0};
	struct curl_slist *headers = NULL;
	char url[512];
	long status = 0;
	CURLcode rc;
	json_object *answer = NULL;

	snprintf(url, sizeof(url), "%s%s", base, path);
	setup(c, url, &headers, body, c->options.timeout_ms ? c->options.timeout_ms : 5000);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK)
		failed(err, err_len, "%s: %s", base,
		       b.too_big ? "answer too large" : curl_easy_strerror(rc));
	else if (!b.data || !(answer = json_tokener_parse(b.data)))
		failed(err, err_len, "%s: HTTP %ld, not an etcd answer", base, status);
	free(b.data);
	return answer;
}

/* An etcd error answer's message (NULL: not an error). */
static const char *etcd_error(json_object *answer)
{
	json_object *e;

	if (json_object_object_get_ex(answer, "message", &e) ||
	    json_object_object_get_ex(answer, "error", &e))
		return json_object_get_string(e);
	return NULL;
}

static bool authenticate(struct etcd_client *c, const char *base, char *err, size_t err_len)
{
	json_object *rq = json_object_new_object(), *answer, *token;
	bool ok = false;

	json_object_object_add(rq, "name", json_object_new_string(c->options.user));
	json_object_object_add(rq, "password", json_object_new_string(c->options.password));
	answer =
	    post_to(c, base, "/v3/auth/authenticate", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq); /* json-c does not wipe: the password is in a freed string */
	if (answer && json_object_object_get_ex(answer, "token", &token)) {
		free(c->token);
		c->token = strdup(json_object_get_string(token));
		ok = c->token != NULL;
	} else if (answer) {
		failed(err, err_len, "%s: authentication refused: %s", base,
		       etcd_error(answer) ? etcd_error(answer) : "no token");
	}
	json_object_put(answer);
	return ok;
}

/* POSTs to each member in turn, the last good one first; the answer or NULL with err set. */
static json_object *post(struct etcd_client *c, const char *path, const char *body, char *err,
			 size_t err_len)
{
	for (size_t tried = 0; tried < c->options.endpoints_len; ++tried) {
		const char *base = c->options.endpoints[c->current];
		json_object *answer = NULL;

		if (!c->options.user || c->token || authenticate(c, base, err, err_len))
			answer = post_to(c, base, path, body, err, err_len);
		if (answer && c->options.user && etcd_error(answer) &&
		    strstr(etcd_error(answer), "token")) {
			/* an expired token: once more with a new one */
			json_object_put(answer);
			free(c->token);
			c->token = NULL;
			answer = authenticate(c, base, err, err_len)
				     ? post_to(c, base, path, body, err, err_len)
				     : NULL;
		}
		if (answer)
			return answer;
		c->current = (c->current + 1) % c->options.endpoints_len;
	}
	return NULL;
}

static bool kv_of(json_object *o, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	kv->key = unb64(o, "key", NULL);
	kv->value = unb64(o, "value", &kv->value_len);
	if (!kv->value)
		kv->value = calloc(1, 1); /* an empty value is left out of the JSON */
	kv->mod_revision = int64_of(o, "mod_revision");
	return kv->key && kv->value;
}

static void kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	if (kv->value) {
		crypto_wipe(kv->value, kv->value_len); /* peer files hold preshared keys */
		free(kv->value);
	}
}

void etcd_kvs_free(struct etcd_kv *kvs, size_t len)
{
	for (size_t i = 0; kvs && i < len; ++i)
		kv_free(&kvs[i]);
	free(kvs);
}

/* A request naming a key range: {"key": ..., "range_end": ...} plus extra members. */
static json_object *range_request(const char *prefix, bool whole_prefix)
{
	json_object *rq = json_object_new_object();
	char *key = b64(prefix, strlen(prefix));

	json_object_object_add(rq, "key", json_object_new_string(key ? key : ""));
	free(key);
	if (whole_prefix) {
		size_t end_len = 0;
		char *end = range_end(prefix, &end_len), *end64 = end ? b64(end, end_len) : NULL;

		json_object_object_add(rq, "range_end", json_object_new_string(end64 ? end64 : ""));
		free(end);
		free(end64);
	}
	return rq;
}

static int range_from(json_object *answer, struct etcd_kv **kvs, size_t *len, int64_t *revision,
		      char *err, size_t err_len);

static int range_from(json_object *answer, struct etcd_kv **kvs, size_t *len, int64_t *revision,
		      char *err, size_t err_len);

int etcd_get(struct etcd_client *c, const char *key, struct etcd_kv **kv, char *err, size_t err_len)
{
	json_object *rq = range_request(key, false), *answer;
	struct etcd_kv *kvs = NULL;
	size_t len = 0;
	int64_t revision;
	int ret;

	*kv = NULL;
	answer = post(c, "/v3/kv/range", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq);
	ret = answer ? range_from(answer, &kvs, &len, &revision, err, err_len) : -1;
	if (ret == 0 && len == 1)
		*kv = kvs;
	else
		etcd_kvs_free(kvs, len);
	return ret ? ret : *kv ? 0 : 1;
}

int etcd_range(struct etcd_client *c, const char *prefix, struct etcd_kv **kvs, size_t *len,
	       int64_t *revision, char *err, size_t err_len)
{
	json_object *rq = range_request(prefix, true), *answer;

	*kvs = NULL;
	*len = 0;
	answer = post(c, "/v3/kv/range", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq);
	return answer ? range_from(answer, kvs, len, revision, err, err_len) : -1;
}

int etcd_range_parse(const char *text, struct etcd_kv **kvs, size_t *len, int64_t *revision,
		     char *err, size_t err_len)
{
	json_object *answer = json_tokener_parse(text);

	*kvs = NULL;
	*len = 0;
	if (!answer)
		return failed(err, err_len, "not an etcd answer");
	return range_from(answer, kvs, len, revision, err, err_len);
}

/* A range answer's keys (answer is released); 0 or -1 with err set. */
static int range_from(json_object *answer, struct etcd_kv **kvs, size_t *len, int64_t *revision,
		      char *err, size_t err_len)
{
	json_object *list;
	size_t n;

	if (etcd_error(answer)) {
		failed(err, err_len, "etcd refused the read: %s", etcd_error(answer));
		json_object_put(answer);
		return -1;
	}
	*revision = header_revision(answer);
	n = json_object_object_get_ex(answer, "kvs", &list) &&
		    json_object_is_type(list, json_type_array)
		? json_object_array_length(list)
		: 0;
	if (n && !(*kvs = calloc(n, sizeof(**kvs)))) {
		json_object_put(answer);
		return failed(err, err_len, "out of memory");
	}
	for (size_t i = 0; i < n; ++i) {
		if (!kv_of(json_object_array_get_idx(list, i), &(*kvs)[i])) {
			etcd_kvs_free(*kvs, i + 1);
			*kvs = NULL;
			json_object_put(answer);
			return failed(err, err_len, "etcd answered a key that is not base64");
		}
		*len = i + 1;
	}
	json_object_put(answer);
	return 0;
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t len, char *err,
	     size_t err_len)
{
	json_object *rq = range_request(key, false), *answer;
	char *v = b64(value, len);
	int ret = 0;

	if (!v) {
		json_object_put(rq);
		return failed(err, err_len, "out of memory");
	}
	json_object_object_add(rq, "value", json_object_new_string(v));
	crypto_wipe(v, strlen(v));
	free(v);
	answer = post(c, "/v3/kv/put", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq);
	if (!answer)
		return -1;
	if (etcd_error(answer))
		ret = failed(err, err_len, "etcd refused the write: %s", etcd_error(answer));
	json_object_put(answer);
	return ret;
}

int etcd_put_if(struct etcd_client *c, const char *key, const char *value, size_t len,
		int64_t mod_revision, bool *done, char *err, size_t err_len)
{
	json_object *rq = json_object_new_object(), *compare = range_request(key, false),
		    *put = range_request(key, false), *request = json_object_new_object(),
		    *list = json_object_new_array(), *success = json_object_new_array(), *answer,
		    *v;
	char *value64 = b64(value, len);
	int ret = 0;

	if (!value64) {
		json_object_put(rq), json_object_put(compare), json_object_put(put);
		json_object_put(request), json_object_put(list), json_object_put(success);
		return failed(err, err_len, "out of memory");
	}
	/* only when the key is as it was read: absent (0), or last changed at mod_revision */
	json_object_object_add(compare, "target",
			       json_object_new_string(mod_revision ? "MOD" : "CREATE"));
	json_object_object_add(compare, mod_revision ? "mod_revision" : "create_revision",
			       json_object_new_int64(mod_revision));
	json_object_array_add(list, compare);
	json_object_object_add(put, "value", json_object_new_string(value64));
	crypto_wipe(value64, strlen(value64));
	free(value64);
	json_object_object_add(request, "request_put", put);
	json_object_array_add(success, request);
	json_object_object_add(rq, "compare", list);
	json_object_object_add(rq, "success", success);
	answer = post(c, "/v3/kv/txn", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq);
	if (!answer)
		return -1;
	if (etcd_error(answer))
		ret = failed(err, err_len, "etcd refused the write: %s", etcd_error(answer));
	else
		*done = json_object_object_get_ex(answer, "succeeded", &v) &&
			json_object_get_boolean(v);
	json_object_put(answer);
	return ret;
}

int etcd_delete(struct etcd_client *c, const char *key, bool *deleted, char *err, size_t err_len)
{
	json_object *rq = range_request(key, false), *answer;
	int ret = 0;

	answer = post(c, "/v3/kv/deleterange", json_object_to_json_string(rq), err, err_len);
	json_object_put(rq);
	if (!answer)
		return -1;
	if (etcd_error(answer))
		ret = failed(err, err_len, "etcd refused the delete: %s", etcd_error(answer));
	else
		*deleted = int64_of(answer, "deleted") > 0;
	json_object_put(answer);
	return ret;
}

/* One message of the stream: {"result": {...}} or an error. False ends the stream. */
static bool watch_message(struct etcd_stream *w, json_object *msg)
{
	json_object *result, *events, *v;
	struct etcd_event *batch;
	size_t n;
	bool go_on;

	if (!json_object_object_get_ex(msg, "result", &result)) {
		failed(w->err, w->err_len, "the watch ended: %s",
		       etcd_error(msg) ? etcd_error(msg) : "unexpected answer");
		w->end = ETCD_WATCH_ERROR;
		return false;
	}
	if (int64_of(result, "compact_revision") > 0) {
		w->end = ETCD_WATCH_COMPACTED;
		return false;
	}
	if (json_object_object_get_ex(result, "canceled", &v) && json_object_get_boolean(v)) {
		failed(w->err, w->err_len, "etcd cancelled the watch");
		w->end = ETCD_WATCH_ERROR;
		return false;
	}
	n = json_object_object_get_ex(result, "events", &events) &&
		    json_object_is_type(events, json_type_array)
		? json_object_array_length(events)
		: 0;
	if (!n) { /* created, or a progress notice: the member answers */
		w->created = true;
		return w->on_events(w->ctx, NULL, 0, header_revision(result));
	}
	batch = calloc(n, sizeof(*batch));
	if (!batch) {
		failed(w->err, w->err_len, "out of memory");
		w->end = ETCD_WATCH_ERROR;
		return false;
	}
	go_on = true;
	for (size_t i = 0; go_on && i < n; ++i) {
		json_object *e = json_object_array_get_idx(events, i), *kv, *type;

		batch[i].deleted = json_object_object_get_ex(e, "type", &type) &&
				   !strcmp(json_object_get_string(type), "DELETE");
		go_on = json_object_object_get_ex(e, "kv", &kv) && kv_of(kv, &batch[i].kv);
	}
	if (go_on)
		go_on = w->on_events(w->ctx, batch, n, header_revision(result));
	if (!go_on)
		w->end = ETCD_WATCH_STOPPED;
	for (size_t i = 0; i < n; ++i)
		kv_free(&batch[i].kv);
	free(batch);
	return go_on;
}

bool etcd_stream_init(struct etcd_stream *s,
		      bool (*on_events)(void *ctx, const struct etcd_event *events, size_t len,
					int64_t revision),
		      void *ctx, char *err, size_t err_len)
{
	*s = (struct etcd_stream){.tok = json_tokener_new(),
				  .on_events = on_events,
				  .ctx = ctx,
				  .end = ETCD_WATCH_ERROR,
				  .err = err,
				  .err_len = err_len};
	return s->tok != NULL;
}

void etcd_stream_free(struct etcd_stream *s)
{
	if (s->tok)
		json_tokener_free(s->tok);
	s->tok = NULL;
}

bool etcd_stream_feed(struct etcd_stream *s, const char *data, size_t len)
{
	size_t at = 0;

	/* messages follow each other in the stream: parse each as it completes */
	while (at < len) {
		size_t piece = len - at > INT32_MAX ? INT32_MAX : len - at;
		json_object *msg = json_tokener_parse_ex(s->tok, data + at, (int)piece);
		bool go_on;

		if (!msg) {
			if (json_tokener_get_error(s->tok) == json_tokener_continue &&
			    piece == len - at)
				break; /* all taken: the rest of the message comes later */
			if (json_tokener_get_error(s->tok) == json_tokener_continue) {
				at += piece;
				continue;
			}
			failed(s->err, s->err_len, "the watch stream is not JSON");
			s->end = ETCD_WATCH_ERROR;
			return false;
		}
		at += json_tokener_get_parse_end(s->tok);
		json_tokener_reset(s->tok);
		go_on = watch_message(s, msg);
		json_object_put(msg);
		if (!go_on)
			return false;
	}
	return true;
}

static size_t watch_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;

	return etcd_stream_feed(userdata, ptr, n) ? n : 0; /* 0 ends the transfer */
}

enum etcd_watch_end etcd_watch(struct etcd_client *c, const char *prefix, int64_t start_revision,
			       bool (*on_events)(void *ctx, const struct etcd_event *events,
						 size_t len, int64_t revision),
			       void *ctx, char *err, size_t err_len)
{
	json_object *create = range_request(prefix, true), *rq = json_object_new_object();
	struct curl_slist *headers = NULL;
	struct etcd_stream w;
	bool ready = etcd_stream_init(&w, on_events, ctx, err, err_len);
	const char *base = c->options.endpoints[c->current];
	char url[512];
	CURLcode rc;

	json_object_object_add(create, "start_revision", json_object_new_int64(start_revision));
	json_object_object_add(rq, "create_request", create);
	snprintf(url, sizeof(url), "%s/v3/watch", base);
	if (!ready || (c->options.user && !c->token && !authenticate(c, base, err, err_len))) {
		etcd_stream_free(&w);
		json_object_put(rq);
		c->current = (c->current + 1) % c->options.endpoints_len;
		return ETCD_WATCH_ERROR;
	}
	/* renewed now and then: a member that went silent (not closed) is left soon */
	setup(c, url, &headers, json_object_to_json_string(rq), ETCD_WATCH_RENEW_MS);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, watch_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &w);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(headers);
	json_object_put(rq);
	etcd_stream_free(&w);
	if (w.end == ETCD_WATCH_ERROR && w.created && rc == CURLE_OPERATION_TIMEDOUT)
		return ETCD_WATCH_RENEW;
	if (w.end == ETCD_WATCH_ERROR) {
		if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
			failed(err, err_len, "%s: %s", base, curl_easy_strerror(rc));
		else if (rc == CURLE_OK)
			failed(err, err_len, "%s: the watch stream ended", base);
		c->current = (c->current + 1) % c->options.endpoints_len;
	}
	return w.end;
}
