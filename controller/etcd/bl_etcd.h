/*
 * bl_etcd.h - etcd v3 client, in two transports with this one contract:
 * libbl_etcd.a on the gRPC C core (grpc/grpc.h) and protobuf-c, for
 * bollardd; libbl_etcd_http.a on etcd's v3 JSON gateway over HTTP/1.1, for
 * the `bollard` CLI, whose start-up gRPC's ~90 shared libraries made
 * ~50 ms slower (docs/etcd.md). A program links one of them.
 *
 * Contract, for every call below:
 *   - returns 0 or a negative code (bl_err.h): -ETIMEDOUT when the deadline
 *     passes, BL_E_UNAVAILABLE when no endpoint answers, BL_E_ETCD when etcd
 *     answered with an error status (message in bl_etcd_errmsg()),
 *     BL_E_COMPACTED for a compacted revision, -ENOMEM.
 *   - unary calls are synchronous, bounded by opts.timeout_ms, and fail over
 *     to the next endpoint on UNAVAILABLE, reconnecting with capped backoff.
 *   - a struct bl_etcd is used from one thread at a time (the owner's);
 *     gRPC: internally one thread drives the completion queue and wakes the
 *     owner through bl_etcd_fd() for watch delivery; gateway: no thread,
 *     the watch sockets themselves are in bl_etcd_fd()'s epoll set.
 *   - no process-wide state except grpc_init(), which is refcounted (the
 *     gateway client has none; it dlopen()s OpenSSL for https://, and
 *     fails at open with -ENOPROTOOPT and a message if libssl3 is absent).
 *   - also: BL_E_AUTH when the user/password is refused or a call lacks
 *     permission, -ENOENT for an unknown lease (revoke), -EINVAL for a bad
 *     argument (empty endpoint list, mixed http/https, bad txn op).
 *
 * Failover and retries: on UNAVAILABLE a call moves to the next endpoint
 * and, after each full round, backs off 100 ms .. 2 s within its deadline.
 * A Txn whose answer was lost may thus be retried; a CAS txn retried after
 * it applied reports succeeded = false (its compare no longer holds).
 * With user/password, the token is fetched on the first call and again
 * once whenever etcd calls it invalid (etcd restart, token TTL).
 *
 * Link: $(BUILD)/libbl_etcd.a and $(ETCD_LDLIBS), or
 * $(BUILD)/libbl_etcd_http.a and $(ETCD_HTTP_LDLIBS) (controller/etcd/etcd.mk).
 * Design: docs/etcd.md.
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
	char *errbuf;               /* where a failed bl_etcd_open leaves its
	                             * message (it returns no handle to ask);
	                             * NULL: dropped                          */
	size_t errlen;
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

/* Open a handle: parse endpoints, create one (lazily connecting) channel
 * per endpoint and the completion-queue thread. Does not contact etcd, so
 * it succeeds with etcd down; fails on bad options (-EINVAL), unreadable
 * TLS files (-errno), -ENOMEM, and then writes why to opts->errbuf (when
 * given; "" when there is nothing more to say than the code). */
int  bl_etcd_open(const struct bl_etcd_opts *opts, struct bl_etcd **out);
/* Cancel every watch, collect every outstanding gRPC batch, stop the
 * thread and free. Not from inside a callback. NULL is ignored. */
void bl_etcd_close(struct bl_etcd *e);
/* Last error text for this handle (never NULL). */
const char *bl_etcd_errmsg(const struct bl_etcd *e);

/* Free the strings and the array of kvs and zero it. A zeroed struct (and
 * one already freed) is fine. */
void bl_kvs_free(struct bl_kvs *kvs);

/*
 * Range. With prefix, every key starting with key. limit 0 = no limit;
 * revision 0 = latest. keys_only skips values (value = ""). Keys come
 * sorted. *out is overwritten (not freed) first; free it with bl_kvs_free()
 * on success. A key "" with prefix lists every key.
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
 * NULL if there are none); *gets is zeroed first, and its revision is the
 * txn's header revision. *revision (may be NULL) gets the header revision.
 * CREATE == 0 or MOD == 0 with BL_CMP_EQ means "key absent".
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
/* Revoke: keys bound to the lease are deleted. -ENOENT: no such lease. */
int bl_etcd_lease_revoke(struct bl_etcd *e, int64_t id);

/* Compact the history up to revision (watches/reads before it then get
 * BL_E_COMPACTED). physical: wait until the compaction is applied. */
int bl_etcd_compact(struct bl_etcd *e, int64_t revision, bool physical);

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

/*
 * Watch key (or every key under the prefix) from start_revision. 0 means
 * "from when etcd registers the watch", which is after this call returns:
 * to miss nothing, list first and watch from the listing's revision + 1.
 * Events are delivered exactly once, in revision order, across etcd
 * restarts and endpoint failover. The resync callback (may be NULL: the
 * watch then ends with BL_E_COMPACTED) runs from bl_etcd_dispatch() when
 * the resume revision was compacted; a negative return retries it later.
 * If etcd is unreachable now the watch is still created and keeps trying.
 * Fails with BL_E_AUTH when auth is refused, -EINVAL for bad arguments.
 */
int  bl_etcd_watch(struct bl_etcd *e, const char *key, bool prefix,
		   int64_t start_revision, bl_watch_cb cb, bl_resync_cb resync,
		   void *arg, struct bl_watch **out);
/* Stop and free a watch (also one that ended with an error; the handle
 * stays valid until this call or bl_etcd_close()). No callback for w runs
 * after it returns. Safe from inside w's own callback. NULL is ignored. */
void bl_etcd_watch_cancel(struct bl_watch *w);

/*
 * An fd for the owner's poll loop: readable when bl_etcd_dispatch() has
 * work (watch responses queued by the completion-queue thread through an
 * eventfd, or a watch retry timer due through a timerfd; both sit in one
 * epoll fd, which is what this returns). Owned by the handle.
 */
int bl_etcd_fd(struct bl_etcd *e);
/* Deliver pending watch events and run due watch retries; wait at most
 * timeout_ms (0: don't wait, -1: forever) until at least one callback was
 * made. Returns the number of callbacks made (resync calls included).
 * Must not be called from a callback. */
int bl_etcd_dispatch(struct bl_etcd *e, int timeout_ms);

#endif
