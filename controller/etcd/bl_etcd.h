/*
 * bl_etcd.h - etcd v3 client on the gRPC C core (grpc/grpc.h) and protobuf-c.
 *
 * Contract, for every call below:
 *   - returns 0 or a negative code (bl_err.h): -ETIMEDOUT when the deadline
 *     passes, BL_E_UNAVAILABLE when no endpoint answers, BL_E_ETCD when etcd
 *     answered with an error status (message in bl_etcd_errmsg()),
 *     BL_E_COMPACTED for a compacted revision, -ENOMEM.
 *   - unary calls are synchronous, bounded by opts.timeout_ms, and fail over
 *     to the next endpoint on UNAVAILABLE, reconnecting with capped backoff.
 *   - a struct bl_etcd is used from one thread at a time (the owner's);
 *     internally one thread drives the completion queue and wakes the owner
 *     through bl_etcd_fd() for watch delivery.
 *   - no process-wide state except grpc_init(), which is refcounted.
 */
#ifndef BL_ETCD_H
#define BL_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bl_etcd;

struct bl_etcd_opts {
	const char *endpoints;      /* "http://127.0.0.1:2379,http://h2:2379";
	                             * https:// uses TLS with the files below   */
	const char *user;           /* NULL: no auth                          */
	const char *password;
	const char *ca_file;        /* TLS; NULL: system roots                */
	const char *cert_file;      /* client certificate, optional           */
	const char *key_file;
	int timeout_ms;             /* per unary call; 0: 5000                */
};

struct bl_kv {
	char *key;                  /* NUL-terminated copies                  */
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

struct bl_kvs {
	struct bl_kv *kvs;
	size_t n;
	int64_t revision;           /* store revision at the time of the read */
	int64_t count;              /* total matching (may exceed n)          */
	bool more;
};

int  bl_etcd_open(const struct bl_etcd_opts *opts, struct bl_etcd **out);
void bl_etcd_close(struct bl_etcd *e);
/* Last error text for this handle (never NULL). */
const char *bl_etcd_errmsg(const struct bl_etcd *e);

void bl_kvs_free(struct bl_kvs *kvs);

/*
 * Range. With prefix, every key starting with key. limit 0 = no limit;
 * revision 0 = latest. keys_only skips values.
 */
int bl_etcd_get(struct bl_etcd *e, const char *key, bool prefix,
		int64_t limit, int64_t revision, bool keys_only,
		struct bl_kvs *out);

/* Put; lease 0 = none. *revision (may be NULL) gets the new revision. */
int bl_etcd_put(struct bl_etcd *e, const char *key, const void *val,
		size_t len, int64_t lease, int64_t *revision);

/* Delete key (or prefix). *deleted (may be NULL) gets the count. */
int bl_etcd_delete(struct bl_etcd *e, const char *key, bool prefix,
		   int64_t *deleted, int64_t *revision);

/* ---- transactions --------------------------------------------------------*/

enum bl_cmp_target { BL_CMP_MOD, BL_CMP_CREATE, BL_CMP_VERSION, BL_CMP_VALUE };
enum bl_cmp_result { BL_CMP_EQ, BL_CMP_NE, BL_CMP_LT, BL_CMP_GT };

struct bl_cmp {
	const char *key;
	enum bl_cmp_target target;
	enum bl_cmp_result result;
	int64_t rev;                /* MOD/CREATE/VERSION; mod == 0 means
	                             * "key absent"                            */
	const void *value;          /* VALUE                                  */
	size_t value_len;
};

enum bl_op_type { BL_OP_PUT, BL_OP_DELETE, BL_OP_GET };

struct bl_op {
	enum bl_op_type type;
	const char *key;
	bool prefix;                /* DELETE/GET                             */
	const void *value;          /* PUT                                    */
	size_t value_len;
	int64_t lease;
};

/*
 * Txn: if every cmp holds, run success ops, else failure ops. *succeeded tells
 * which. GET results of the branch that ran are appended to *gets (may be
 * NULL if there are none). *revision (may be NULL) gets the header revision.
 * etcd limits a txn to 128 ops by default (--max-txn-ops).
 */
int bl_etcd_txn(struct bl_etcd *e,
		const struct bl_cmp *cmps, size_t ncmp,
		const struct bl_op *success, size_t nsuccess,
		const struct bl_op *failure, size_t nfailure,
		bool *succeeded, struct bl_kvs *gets, int64_t *revision);

/* ---- leases --------------------------------------------------------------*/

int bl_etcd_lease_grant(struct bl_etcd *e, int64_t ttl_s, int64_t *id);
/* One keepalive round trip; *ttl_s gets the remaining TTL (0: expired). */
int bl_etcd_lease_keepalive(struct bl_etcd *e, int64_t id, int64_t *ttl_s);
int bl_etcd_lease_revoke(struct bl_etcd *e, int64_t id);

/* ---- watches -------------------------------------------------------------*/

enum bl_ev_type { BL_EV_PUT, BL_EV_DELETE };

struct bl_watch_event {
	enum bl_ev_type type;
	struct bl_kv kv;            /* for DELETE, value is empty             */
};

/*
 * Called on the owner's thread from bl_etcd_dispatch(). n events of one
 * revision batch. When err != 0 the watch has ended for good (canceled or a
 * terminal error); transient failures are retried internally by re-watching
 * from the last delivered revision + 1, and after a compaction by calling
 * resync (which should re-list) before re-watching from the list's revision.
 */
typedef void (*bl_watch_cb)(void *arg, const struct bl_watch_event *ev,
			    size_t n, int64_t revision, int err);
typedef int64_t (*bl_resync_cb)(void *arg); /* re-list; returns its revision */

struct bl_watch;

/* Watch key (or prefix) from start_revision (0 = now). */
int  bl_etcd_watch(struct bl_etcd *e, const char *key, bool prefix,
		   int64_t start_revision, bl_watch_cb cb, bl_resync_cb resync,
		   void *arg, struct bl_watch **out);
void bl_etcd_watch_cancel(struct bl_watch *w);

/* An fd that becomes readable when watch events are pending (eventfd). */
int bl_etcd_fd(struct bl_etcd *e);
/* Deliver pending watch events; wait at most timeout_ms (0: don't wait,
 * -1: forever). Returns number of callbacks made, or negative. */
int bl_etcd_dispatch(struct bl_etcd *e, int timeout_ms);

#endif
