/*
 * http_kv.c - the unary calls over the JSON gateway: /v3/kv/range, put,
 * deleterange, txn, compaction and the lease calls. Each builds the
 * request message as JSON, runs it through bl__hcall() (failover,
 * deadline, re-auth) and copies the answer into bollard's own structs.
 * Same semantics as etcd_kv.c (the gRPC client) call for call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_err.h"
#include "http_internal.h"

/* Set "key" (and "range_end" for a prefix) on obj. "" with prefix is every
 * key: key "\0", range_end "\0". */
static int set_range(json_t *obj, const char *key, bool prefix)
{
	size_t len = strlen(key), end_len;
	uint8_t *end = NULL;
	int rc;

	if (prefix && !len) {
		json_object_set_new(obj, "key", bl__jb64("", 1));
		json_object_set_new(obj, "range_end", bl__jb64("", 1));
		return 0;
	}
	json_object_set_new(obj, "key", bl__jb64(key, len));
	if (!prefix)
		return 0;
	rc = bl__prefix_end((const uint8_t *)key, len, &end, &end_len);
	if (rc < 0)
		return rc;
	json_object_set_new(obj, "range_end", bl__jb64(end, end_len));
	free(end);
	return 0;
}

/* Append the kvs of one RangeResponse (JSON) to out. */
static int kvs_append(struct bl_kvs *out, const json_t *r, bool values)
{
	const json_t *kvs = json_object_get(r, "kvs");
	size_t i, n = json_array_size(kvs);
	int64_t rev = bl__jrev(r);
	struct bl_kv *v;
	int rc;

	if (n) {
		v = realloc(out->kvs, (out->n + n) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->kvs = v;
		for (i = 0; i < n; i++) {
			rc = bl__jkv(&out->kvs[out->n], json_array_get(kvs, i), values);
			if (rc < 0)
				return rc;
			out->n++;
		}
	}
	out->count += bl__jint(r, "count");
	out->more = out->more || json_is_true(json_object_get(r, "more"));
	if (rev > out->revision)
		out->revision = rev;
	return 0;
}

int bl_etcd_get(struct bl_etcd *e, const char *key, bool prefix,
		int64_t limit, int64_t revision, bool keys_only,
		struct bl_kvs *out)
{
	json_t *req = json_object(), *resp = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!req)
		return -ENOMEM;
	rc = set_range(req, key, prefix);
	if (rc < 0)
		goto out_req;
	if (limit)
		json_object_set_new(req, "limit", bl__jint_new(limit));
	if (revision)
		json_object_set_new(req, "revision", bl__jint_new(revision));
	if (keys_only)
		json_object_set_new(req, "keys_only", json_true());
	rc = bl__hcall(e, "/v3/kv/range", req, &resp);
	if (rc < 0)
		goto out_req;
	rc = kvs_append(out, resp, !keys_only);
	if (rc < 0) {
		bl__seterr(e, "range: bad key or value encoding in the answer");
		bl_kvs_free(out);
	}
	json_decref(resp);
out_req:
	json_decref(req);
	return rc;
}

int bl_etcd_put(struct bl_etcd *e, const char *key, const void *val,
		size_t len, int64_t lease, int64_t *revision)
{
	json_t *req, *resp = NULL;
	int rc;

	req = json_pack("{s:o, s:o}", "key", bl__jb64(key, strlen(key)),
			"value", bl__jb64(val, len));
	if (!req)
		return -ENOMEM;
	if (lease)
		json_object_set_new(req, "lease", bl__jint_new(lease));
	rc = bl__hcall(e, "/v3/kv/put", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	if (revision)
		*revision = bl__jrev(resp);
	json_decref(resp);
	return 0;
}

int bl_etcd_delete(struct bl_etcd *e, const char *key, bool prefix,
		   int64_t *deleted, int64_t *revision)
{
	json_t *req = json_object(), *resp = NULL;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = set_range(req, key, prefix);
	if (rc == 0)
		rc = bl__hcall(e, "/v3/kv/deleterange", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	if (deleted)
		*deleted = bl__jint(resp, "deleted");
	if (revision)
		*revision = bl__jrev(resp);
	json_decref(resp);
	return 0;
}

int bl_etcd_compact(struct bl_etcd *e, int64_t revision, bool physical)
{
	json_t *req, *resp = NULL;
	int rc;

	req = json_pack("{s:o, s:b}", "revision", bl__jint_new(revision),
			"physical", physical);
	if (!req)
		return -ENOMEM;
	rc = bl__hcall(e, "/v3/kv/compaction", req, &resp);
	json_decref(req);
	json_decref(resp);
	return rc;
}

/* ---- transactions ------------------------------------------------------------*/

static const char *const cmp_result[] = {
	[BL_CMP_EQ] = "EQUAL", [BL_CMP_NE] = "NOT_EQUAL",
	[BL_CMP_LT] = "LESS", [BL_CMP_GT] = "GREATER",
};

static json_t *make_cmp(const struct bl_cmp *b)
{
	json_t *c;

	if ((unsigned)b->result > BL_CMP_GT || !b->key)
		return NULL;
	c = json_pack("{s:o, s:s}", "key", bl__jb64(b->key, strlen(b->key)),
		      "result", cmp_result[b->result]);
	if (!c)
		return NULL;
	switch (b->target) {
	case BL_CMP_MOD:
		json_object_set_new(c, "target", json_string("MOD"));
		json_object_set_new(c, "mod_revision", bl__jint_new(b->rev));
		return c;
	case BL_CMP_CREATE:
		json_object_set_new(c, "target", json_string("CREATE"));
		json_object_set_new(c, "create_revision", bl__jint_new(b->rev));
		return c;
	case BL_CMP_VERSION:
		json_object_set_new(c, "target", json_string("VERSION"));
		json_object_set_new(c, "version", bl__jint_new(b->rev));
		return c;
	case BL_CMP_VALUE:
		json_object_set_new(c, "target", json_string("VALUE"));
		json_object_set_new(c, "value", bl__jb64(b->value, b->value_len));
		return c;
	}
	json_decref(c);
	return NULL;
}

static json_t *make_op(const struct bl_op *b)
{
	json_t *inner = json_object(), *o;
	const char *kind;

	if (!inner || !b->key) {
		json_decref(inner);
		return NULL;
	}
	switch (b->type) {
	case BL_OP_PUT:
		kind = "request_put";
		json_object_set_new(inner, "key", bl__jb64(b->key, strlen(b->key)));
		json_object_set_new(inner, "value", bl__jb64(b->value, b->value_len));
		if (b->lease)
			json_object_set_new(inner, "lease", bl__jint_new(b->lease));
		break;
	case BL_OP_GET:
		kind = "request_range";
		if (set_range(inner, b->key, b->prefix) < 0)
			goto out_inner;
		break;
	case BL_OP_DELETE:
		kind = "request_delete_range";
		if (set_range(inner, b->key, b->prefix) < 0)
			goto out_inner;
		break;
	default:
		goto out_inner;
	}
	o = json_object();
	if (o && json_object_set_new(o, kind, inner) == 0)
		return o;
	json_decref(o);
	return NULL;
out_inner:
	json_decref(inner);
	return NULL;
}

int bl_etcd_txn(struct bl_etcd *e,
		const struct bl_cmp *cmps, size_t ncmp,
		const struct bl_op *success, size_t nsuccess,
		const struct bl_op *failure, size_t nfailure,
		bool *succeeded, struct bl_kvs *gets, int64_t *revision)
{
	json_t *req = json_object(), *resp = NULL, *ca, *sa, *fa, *rs;
	size_t i;
	int rc = -ENOMEM;

	if (gets)
		memset(gets, 0, sizeof(*gets));
	ca = json_array();
	sa = json_array();
	fa = json_array();
	if (!req || !ca || !sa || !fa) {
		json_decref(ca);
		json_decref(sa);
		json_decref(fa);
		goto out_req;
	}
	json_object_set_new(req, "compare", ca);
	json_object_set_new(req, "success", sa);
	json_object_set_new(req, "failure", fa);
	for (i = 0; i < ncmp; i++) {
		json_t *c = make_cmp(&cmps[i]);
		if (!c) {
			bl__seterr(e, "txn: compare %zu is invalid", i);
			rc = -EINVAL;
			goto out_req;
		}
		json_array_append_new(ca, c);
	}
	for (i = 0; i < nsuccess + nfailure; i++) {
		json_t *o = make_op(i < nsuccess ? &success[i] : &failure[i - nsuccess]);
		if (!o) {
			bl__seterr(e, "txn: operation %zu is invalid", i);
			rc = -EINVAL;
			goto out_req;
		}
		json_array_append_new(i < nsuccess ? sa : fa, o);
	}
	rc = bl__hcall(e, "/v3/kv/txn", req, &resp);
	if (rc < 0)
		goto out_req;
	if (succeeded)
		*succeeded = json_is_true(json_object_get(resp, "succeeded"));
	if (revision)
		*revision = bl__jrev(resp);
	rs = json_object_get(resp, "responses");
	for (i = 0; gets && i < json_array_size(rs); i++) {
		const json_t *r = json_object_get(json_array_get(rs, i), "response_range");
		if (!r)
			continue;
		rc = kvs_append(gets, r, true);
		if (rc < 0) {
			bl_kvs_free(gets);
			break;
		}
	}
	if (gets && gets->revision < bl__jrev(resp))
		gets->revision = bl__jrev(resp);
	json_decref(resp);
out_req:
	json_decref(req);
	return rc;
}

/* ---- leases -------------------------------------------------------------------*/

int bl_etcd_lease_grant(struct bl_etcd *e, int64_t ttl_s, int64_t *id)
{
	json_t *req, *resp = NULL;
	const char *err;
	int rc;

	req = json_pack("{s:o}", "TTL", bl__jint_new(ttl_s));
	if (!req)
		return -ENOMEM;
	rc = bl__hcall(e, "/v3/lease/grant", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	err = json_string_value(json_object_get(resp, "error"));
	if (err && *err) {
		bl__seterr(e, "lease grant: %s", err);
		rc = BL_E_ETCD;
	} else {
		*id = bl__jint(resp, "ID");
	}
	json_decref(resp);
	return rc;
}

/*
 * LeaseKeepAlive is a bidirectional stream; through the gateway, a POST
 * with one request is answered with one streamed {"result": ...} (or
 * {"error": ...}) and the end of the stream. An unknown or expired lease
 * gets TTL 0, not an error.
 */
int bl_etcd_lease_keepalive(struct bl_etcd *e, int64_t id, int64_t *ttl_s)
{
	json_t *req, *resp = NULL;
	char msg[256];
	int rc, code;

	req = json_pack("{s:o}", "ID", bl__jint_new(id));
	if (!req)
		return -ENOMEM;
	rc = bl__hcall(e, "/v3/lease/keepalive", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	code = bl__jerror(resp, msg, sizeof(msg));
	if (code > 0) {
		bl__seterr(e, "lease keepalive: %s (grpc status %d)", msg, code);
		json_decref(resp);
		return bl__code_rc(code, msg);
	}
	if (ttl_s) {
		int64_t ttl = bl__jint(json_object_get(resp, "result"), "TTL");
		*ttl_s = ttl > 0 ? ttl : 0;
	}
	json_decref(resp);
	return 0;
}

int bl_etcd_lease_revoke(struct bl_etcd *e, int64_t id)
{
	json_t *req, *resp = NULL;
	int rc;

	req = json_pack("{s:o}", "ID", bl__jint_new(id));
	if (!req)
		return -ENOMEM;
	rc = bl__hcall(e, "/v3/lease/revoke", req, &resp);
	json_decref(req);
	json_decref(resp);
	return rc;
}
