/*
 * etcd_internal.h - shared between the files of the etcd client; not a
 * public header. See bl_etcd.h for the contract and docs/etcd.md for the
 * design (threads, eventfd, reconnect, watch resume).
 *
 *   etcd_conn.c   open/close, endpoints and channels, TLS, the completion
 *                 queue pump thread, the unary call loop (failover, backoff,
 *                 auth), gRPC status -> bollard error mapping
 *   etcd_kv.c     Range, Put, DeleteRange, Txn, Compact, leases
 *   etcd_watch.c  watch streams over gRPC (the watch bookkeeping they
 *                 feed is etcd_common.c's)
 */
#ifndef BL_ETCD_INTERNAL_H
#define BL_ETCD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "etcd/etcdserver/etcdserverpb/rpc.pb-c.h"
#include "bl_etcd.h"
#include "etcd_common.h"

/* The channels' own reconnect uses BL_ETCD_BACKOFF_* (etcd_common.h) too. */
/* Ping an otherwise silent connection; etcd refuses pings closer than 5 s
 * (--grpc-keepalive-min-time) and drops the client. */
#define BL_ETCD_KEEPALIVE_MS   10000
#define BL_ETCD_KEEPALIVE_TIMEOUT_MS 5000
/* A 10k-object listing is a few MiB; gRPC's default cap is 4 MiB. */
#define BL_ETCD_MAX_RECV       (256 * 1024 * 1024)

struct bl_ep {
	char *target;                  /* "host:port" for grpc_channel_create */
	grpc_channel *ch;
};

enum bl_batch_kind { BL_B_SEND, BL_B_RECV, BL_B_STATUS };

/*
 * One started batch on the stream queue. Its address is the gRPC tag; the
 * pump thread links it into bl_etcd.q_* and the owner handles it in
 * bl_etcd_dispatch() (or while closing).
 */
struct bl_batch {
	struct bl_batch *next;
	struct bl_wstream *s;
	enum bl_batch_kind kind;
	int ok;
};

/* One Watch RPC carrying exactly one etcd watcher. */
struct bl_wstream {
	struct bl_etcd *e;
	struct bl_watch *w;            /* NULL once detached                  */
	struct bl_wstream *next;       /* bl_etcd.streams                     */
	grpc_call *call;
	int pending;                   /* batches started, not yet handled    */
	size_t ep;
	struct bl_batch b_send, b_recv, b_status;
	grpc_metadata md[2];
	size_t nmd;
	grpc_byte_buffer *send_buf;
	grpc_byte_buffer *recv_buf;
	grpc_metadata_array init_md;
	grpc_metadata_array trail_md;
	grpc_status_code status;
	grpc_slice details;
};

struct bl_etcd {
	struct bl_ep *eps;
	size_t neps;
	size_t cur;                    /* endpoint tried first                */
	char *user;
	char *password;
	char *token;                   /* auth token; NULL: none yet          */
	int timeout_ms;

	grpc_completion_queue *ucq;    /* pluck: unary calls, owner thread    */
	grpc_completion_queue *scq;    /* next: streams, drained by the pump  */
	pthread_t pump;
	bool pump_started;
	pthread_mutex_t lock;          /* guards q_head/q_tail                */
	struct bl_batch *q_head, *q_tail;
	int evfd;                      /* pump -> owner: completions queued,
	                                * in ws.epfd next to the retry timer */

	struct bl_watches ws;
	struct bl_wstream *streams;    /* every stream with pending batches   */

	char errmsg[512];
};

/* ---- etcd_conn.c -------------------------------------------------------*/
gpr_timespec bl__deadline(int64_t at_ms);
void bl__seterr(struct bl_etcd *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Map a non-OK gRPC status (and etcd's message) to a bollard code. */
int bl__status_rc(grpc_status_code st, const char *msg);
/* Token metadata for a call; returns the number of entries filled (0..1). */
size_t bl__auth_md(struct bl_etcd *e, grpc_metadata *md);
/* Fetch a token if auth is configured and there is none. */
int bl__ensure_token(struct bl_etcd *e, int64_t deadline_ms);
void bl__drop_token(struct bl_etcd *e);
/*
 * One unary RPC with failover and re-auth, bounded by e->timeout_ms.
 * method is "/etcdserverpb.KV/Range"; *resp is unpacked with resp_desc and
 * must be freed with protobuf_c_message_free_unpacked(*resp, NULL).
 */
int bl__unary(struct bl_etcd *e, const char *method,
	      const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *resp_desc,
	      ProtobufCMessage **resp);
/* Hand a completed stream batch to the owner (pump thread side). */
void bl__queue_push(struct bl_etcd *e, struct bl_batch *b);
/* Take every queued batch (owner side), oldest first. */
struct bl_batch *bl__queue_take(struct bl_etcd *e);
/* Turn a grpc_byte_buffer into one contiguous slice. */
grpc_slice bl__bb_slice(grpc_byte_buffer *bb);
/* Pack a message into a new byte buffer; NULL on ENOMEM. */
grpc_byte_buffer *bl__pack(const ProtobufCMessage *m);

/* ---- etcd_kv.c ---------------------------------------------------------*/
int bl__kv_copy(struct bl_kv *dst, const Mvccpb__KeyValue *src, bool value);

/* ---- etcd_watch.c ------------------------------------------------------*/
extern const struct bl_watch_ops bl__grpc_watch_ops;
void bl__batch_done(struct bl_etcd *e, struct bl_batch *b);
/* Cancel every watch and collect every outstanding batch. */
void bl__watches_close(struct bl_etcd *e);

#endif
