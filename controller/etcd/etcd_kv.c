/*
 * etcd_kv.c - the unary RPCs of the etcd client: Range, Put, DeleteRange,
 * Txn, Compact and the lease calls. Each builds a protobuf-c request on the
 * stack, runs it through bl__unary() (failover, deadline, re-auth) and
 * copies the answer into bollard's own structs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_err.h"
#include "etcd_internal.h"

#define KV_RANGE    "/etcdserverpb.KV/Range"
#define KV_PUT      "/etcdserverpb.KV/Put"
#define KV_DELETE   "/etcdserverpb.KV/DeleteRange"
#define KV_TXN      "/etcdserverpb.KV/Txn"
#define KV_COMPACT  "/etcdserverpb.KV/Compact"
#define LEASE_GRANT "/etcdserverpb.Lease/LeaseGrant"
#define LEASE_KA    "/etcdserverpb.Lease/LeaseKeepAlive"
#define LEASE_REVOKE "/etcdserverpb.Lease/LeaseRevoke"

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int bl__kv_copy(struct bl_kv *dst, const Mvccpb__KeyValue *src, bool value)
{
	memset(dst, 0, sizeof(*dst));
	dst->key = dup_bytes(src->key.data, src->key.len);
	dst->key_len = src->key.len;
	dst->value = dup_bytes(value ? src->value.data : NULL,
			       value ? src->value.len : 0);
	dst->value_len = value ? src->value.len : 0;
	dst->create_revision = src->create_revision;
	dst->mod_revision = src->mod_revision;
	dst->version = src->version;
	dst->lease = src->lease;
	if (!dst->key || !dst->value) {
		free(dst->key);
		free(dst->value);
		dst->key = dst->value = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Append the kvs of one RangeResponse to out (which may hold some). */
static int kvs_append(struct bl_kvs *out, const Etcdserverpb__RangeResponse *r,
		      bool values)
{
	struct bl_kv *v;
	size_t i;
	int rc;

	if (r->n_kvs) {
		v = realloc(out->kvs, (out->n + r->n_kvs) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->kvs = v;
		for (i = 0; i < r->n_kvs; i++) {
			rc = bl__kv_copy(&out->kvs[out->n], r->kvs[i], values);
			if (rc < 0)
				return rc;
			out->n++;
		}
	}
	out->count += r->count;
	out->more = out->more || r->more;
	if (r->header && r->header->revision > out->revision)
		out->revision = r->header->revision;
	return 0;
}

/* Fill a RangeRequest; *end_buf must be freed by the caller. */
static int range_req(Etcdserverpb__RangeRequest *req, const char *key,
		     bool prefix, uint8_t **end_buf)
{
	size_t end_len;
	int rc;

	*end_buf = NULL;
	req->key.data = (uint8_t *)key;
	req->key.len = strlen(key);
	if (prefix) {
		if (!req->key.len) {
			/* Every key: key "\0", range_end "\0". */
			req->key.data = (uint8_t *)"";
			req->key.len = 1;
			rc = bl__prefix_end(NULL, 0, end_buf, &end_len);
		} else {
			rc = bl__prefix_end(req->key.data, req->key.len,
					    end_buf, &end_len);
		}
		if (rc < 0)
			return rc;
		req->range_end.data = *end_buf;
		req->range_end.len = end_len;
	}
	return 0;
}

int bl_etcd_get(struct bl_etcd *e, const char *key, bool prefix,
		int64_t limit, int64_t revision, bool keys_only,
		struct bl_kvs *out)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	uint8_t *end = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = range_req(&req, key, prefix, &end);
	if (rc < 0)
		return rc;
	req.limit = limit;
	req.revision = revision;
	req.keys_only = keys_only;
	rc = bl__unary(e, KV_RANGE, &req.base,
		       &etcdserverpb__range_response__descriptor,
		       (ProtobufCMessage **)&resp);
	free(end);
	if (rc < 0)
		return rc;
	rc = kvs_append(out, resp, !keys_only);
	etcdserverpb__range_response__free_unpacked(resp, NULL);
	if (rc < 0)
		bl_kvs_free(out);
	return rc;
}

int bl_etcd_put(struct bl_etcd *e, const char *key, const void *val,
		size_t len, int64_t lease, int64_t *revision)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__PutResponse *resp = NULL;
	int rc;

	req.key.data = (uint8_t *)key;
	req.key.len = strlen(key);
	req.value.data = (uint8_t *)val;
	req.value.len = len;
	req.lease = lease;
	rc = bl__unary(e, KV_PUT, &req.base, &etcdserverpb__put_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		return rc;
	if (revision)
		*revision = resp->header ? resp->header->revision : 0;
	etcdserverpb__put_response__free_unpacked(resp, NULL);
	return 0;
}

int bl_etcd_delete(struct bl_etcd *e, const char *key, bool prefix,
		   int64_t *deleted, int64_t *revision)
{
	Etcdserverpb__DeleteRangeRequest req = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
	Etcdserverpb__RangeRequest rr = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__DeleteRangeResponse *resp = NULL;
	uint8_t *end = NULL;
	int rc;

	rc = range_req(&rr, key, prefix, &end);
	if (rc < 0)
		return rc;
	req.key = rr.key;
	req.range_end = rr.range_end;
	rc = bl__unary(e, KV_DELETE, &req.base,
		       &etcdserverpb__delete_range_response__descriptor,
		       (ProtobufCMessage **)&resp);
	free(end);
	if (rc < 0)
		return rc;
	if (deleted)
		*deleted = resp->deleted;
	if (revision)
		*revision = resp->header ? resp->header->revision : 0;
	etcdserverpb__delete_range_response__free_unpacked(resp, NULL);
	return 0;
}

int bl_etcd_compact(struct bl_etcd *e, int64_t revision, bool physical)
{
	Etcdserverpb__CompactionRequest req = ETCDSERVERPB__COMPACTION_REQUEST__INIT;
	Etcdserverpb__CompactionResponse *resp = NULL;
	int rc;

	req.revision = revision;
	req.physical = physical;
	rc = bl__unary(e, KV_COMPACT, &req.base,
		       &etcdserverpb__compaction_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		return rc;
	etcdserverpb__compaction_response__free_unpacked(resp, NULL);
	return 0;
}

/* ---- transactions -----------------------------------------------------------*/

/*
 * Everything a TxnRequest points to, allocated in one go so a failure has
 * one thing to free: the Compare and RequestOp structs, their pointer
 * arrays, the per-op inner requests and the prefix range ends.
 */
struct txn_mem {
	Etcdserverpb__Compare *cmp;
	Etcdserverpb__Compare **cmpp;
	Etcdserverpb__RequestOp *ops;
	Etcdserverpb__RequestOp **opp;
	Etcdserverpb__RangeRequest *rr;
	Etcdserverpb__PutRequest *pr;
	Etcdserverpb__DeleteRangeRequest *dr;
	uint8_t **ends;
	size_t nends;
};

static void txn_mem_free(struct txn_mem *m)
{
	size_t i;

	for (i = 0; i < m->nends; i++)
		free(m->ends[i]);
	free(m->ends);
	free(m->cmp);
	free(m->cmpp);
	free(m->ops);
	free(m->opp);
	free(m->rr);
	free(m->pr);
	free(m->dr);
}

static const int cmp_result[] = {
	[BL_CMP_EQ] = ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL,
	[BL_CMP_NE] = ETCDSERVERPB__COMPARE__COMPARE_RESULT__NOT_EQUAL,
	[BL_CMP_LT] = ETCDSERVERPB__COMPARE__COMPARE_RESULT__LESS,
	[BL_CMP_GT] = ETCDSERVERPB__COMPARE__COMPARE_RESULT__GREATER,
};

static int fill_cmp(Etcdserverpb__Compare *c, const struct bl_cmp *b)
{
	Etcdserverpb__Compare init = ETCDSERVERPB__COMPARE__INIT;

	*c = init;
	if ((unsigned)b->result > BL_CMP_GT || !b->key)
		return -EINVAL;
	c->result = cmp_result[b->result];
	c->key.data = (uint8_t *)b->key;
	c->key.len = strlen(b->key);
	switch (b->target) {
	case BL_CMP_MOD:
		c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD;
		c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
		c->mod_revision = b->rev;
		break;
	case BL_CMP_CREATE:
		c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE;
		c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
		c->create_revision = b->rev;
		break;
	case BL_CMP_VERSION:
		c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION;
		c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
		c->version = b->rev;
		break;
	case BL_CMP_VALUE:
		c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE;
		c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
		c->value.data = (uint8_t *)b->value;
		c->value.len = b->value_len;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int fill_op(struct txn_mem *m, size_t i, const struct bl_op *b)
{
	Etcdserverpb__RequestOp oinit = ETCDSERVERPB__REQUEST_OP__INIT;
	Etcdserverpb__RangeRequest rinit = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__PutRequest pinit = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__DeleteRangeRequest dinit = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
	Etcdserverpb__RequestOp *o = &m->ops[i];
	int rc;

	*o = oinit;
	m->opp[i] = o;
	if (!b->key)
		return -EINVAL;
	switch (b->type) {
	case BL_OP_PUT:
		m->pr[i] = pinit;
		m->pr[i].key.data = (uint8_t *)b->key;
		m->pr[i].key.len = strlen(b->key);
		m->pr[i].value.data = (uint8_t *)b->value;
		m->pr[i].value.len = b->value_len;
		m->pr[i].lease = b->lease;
		o->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
		o->request_put = &m->pr[i];
		return 0;
	case BL_OP_GET:
		m->rr[i] = rinit;
		rc = range_req(&m->rr[i], b->key, b->prefix, &m->ends[m->nends]);
		if (m->ends[m->nends])
			m->nends++;
		o->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
		o->request_range = &m->rr[i];
		return rc;
	case BL_OP_DELETE:
		m->rr[i] = rinit;
		rc = range_req(&m->rr[i], b->key, b->prefix, &m->ends[m->nends]);
		if (m->ends[m->nends])
			m->nends++;
		m->dr[i] = dinit;
		m->dr[i].key = m->rr[i].key;
		m->dr[i].range_end = m->rr[i].range_end;
		o->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
		o->request_delete_range = &m->dr[i];
		return rc;
	}
	return -EINVAL;
}

int bl_etcd_txn(struct bl_etcd *e,
		const struct bl_cmp *cmps, size_t ncmp,
		const struct bl_op *success, size_t nsuccess,
		const struct bl_op *failure, size_t nfailure,
		bool *succeeded, struct bl_kvs *gets, int64_t *revision)
{
	Etcdserverpb__TxnRequest req = ETCDSERVERPB__TXN_REQUEST__INIT;
	Etcdserverpb__TxnResponse *resp = NULL;
	struct txn_mem m = { 0 };
	size_t nops = nsuccess + nfailure, i;
	int rc = -ENOMEM;

	if (gets)
		memset(gets, 0, sizeof(*gets));
	m.cmp = calloc(ncmp + 1, sizeof(*m.cmp));
	m.cmpp = calloc(ncmp + 1, sizeof(*m.cmpp));
	m.ops = calloc(nops + 1, sizeof(*m.ops));
	m.opp = calloc(nops + 1, sizeof(*m.opp));
	m.rr = calloc(nops + 1, sizeof(*m.rr));
	m.pr = calloc(nops + 1, sizeof(*m.pr));
	m.dr = calloc(nops + 1, sizeof(*m.dr));
	m.ends = calloc(nops + 1, sizeof(*m.ends));
	if (!m.cmp || !m.cmpp || !m.ops || !m.opp || !m.rr || !m.pr || !m.dr ||
	    !m.ends)
		goto out_free;
	for (i = 0; i < ncmp; i++) {
		rc = fill_cmp(&m.cmp[i], &cmps[i]);
		if (rc < 0) {
			bl__seterr(e, "txn: compare %zu is invalid", i);
			goto out_free;
		}
		m.cmpp[i] = &m.cmp[i];
	}
	for (i = 0; i < nops; i++) {
		rc = fill_op(&m, i, i < nsuccess ? &success[i] : &failure[i - nsuccess]);
		if (rc < 0) {
			bl__seterr(e, "txn: operation %zu is invalid", i);
			goto out_free;
		}
	}
	req.n_compare = ncmp;
	req.compare = m.cmpp;
	req.n_success = nsuccess;
	req.success = m.opp;
	req.n_failure = nfailure;
	req.failure = m.opp + nsuccess;
	rc = bl__unary(e, KV_TXN, &req.base, &etcdserverpb__txn_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		goto out_free;
	if (succeeded)
		*succeeded = resp->succeeded;
	if (revision)
		*revision = resp->header ? resp->header->revision : 0;
	for (i = 0; gets && i < resp->n_responses; i++) {
		const Etcdserverpb__ResponseOp *r = resp->responses[i];
		if (r->response_case != ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE)
			continue;
		rc = kvs_append(gets, r->response_range, true);
		if (rc < 0) {
			bl_kvs_free(gets);
			break;
		}
	}
	if (gets && resp->header && gets->revision < resp->header->revision)
		gets->revision = resp->header->revision;
	etcdserverpb__txn_response__free_unpacked(resp, NULL);
out_free:
	txn_mem_free(&m);
	return rc;
}

/* ---- leases ---------------------------------------------------------------*/

int bl_etcd_lease_grant(struct bl_etcd *e, int64_t ttl_s, int64_t *id)
{
	Etcdserverpb__LeaseGrantRequest req = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
	Etcdserverpb__LeaseGrantResponse *resp = NULL;
	int rc;

	req.ttl = ttl_s;
	rc = bl__unary(e, LEASE_GRANT, &req.base,
		       &etcdserverpb__lease_grant_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		return rc;
	if (resp->error && *resp->error) {
		bl__seterr(e, "lease grant: %s", resp->error);
		rc = BL_E_ETCD;
	} else {
		*id = resp->id;
	}
	etcdserverpb__lease_grant_response__free_unpacked(resp, NULL);
	return rc;
}

/*
 * LeaseKeepAlive is a bidirectional stream. One round trip fits a unary
 * batch: send one request and the half-close, receive one response and the
 * status (etcd answers the request before it sees the close). An unknown
 * or expired lease gets TTL 0, not an error.
 */
int bl_etcd_lease_keepalive(struct bl_etcd *e, int64_t id, int64_t *ttl_s)
{
	Etcdserverpb__LeaseKeepAliveRequest req = ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	Etcdserverpb__LeaseKeepAliveResponse *resp = NULL;
	int rc;

	req.id = id;
	rc = bl__unary(e, LEASE_KA, &req.base,
		       &etcdserverpb__lease_keep_alive_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		return rc;
	if (ttl_s)
		*ttl_s = resp->ttl > 0 ? resp->ttl : 0;
	etcdserverpb__lease_keep_alive_response__free_unpacked(resp, NULL);
	return 0;
}

int bl_etcd_lease_revoke(struct bl_etcd *e, int64_t id)
{
	Etcdserverpb__LeaseRevokeRequest req = ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
	Etcdserverpb__LeaseRevokeResponse *resp = NULL;
	int rc;

	req.id = id;
	rc = bl__unary(e, LEASE_REVOKE, &req.base,
		       &etcdserverpb__lease_revoke_response__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc < 0)
		return rc;
	etcdserverpb__lease_revoke_response__free_unpacked(resp, NULL);
	return 0;
}
