/*
 * http_internal.h - the etcd client over etcd's v3 JSON gateway (HTTP/1.1),
 * shared between its files; not a public header. The contract is
 * bl_etcd.h's; docs/etcd.md says why there are two transports.
 *
 *   http_conn.c    open/close, endpoints, TCP and TLS (OpenSSL), the
 *                  HTTP/1.1 request writer and incremental response reader,
 *                  the unary call loop (failover, backoff, auth)
 *   http_json.c    base64, int64-as-string, kv decoding, error bodies
 *   http_kv.c      range, put, deleterange, txn, compaction, leases
 *   http_watch.c   watch streams: one streaming POST /v3/watch per watch
 *                  (the watch bookkeeping they feed is etcd_common.c's)
 *   http_tls.c     OpenSSL loaded at run time (https:// only)
 *
 * No threads: a watch is a non-blocking socket in the handle's epoll set
 * (bl_etcd_fd()), read by the owner in bl_etcd_dispatch().
 */
#ifndef BL_ETCD_HTTP_INTERNAL_H
#define BL_ETCD_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http_tls.h"

#include "bl_etcd.h"
#include "etcd_common.h"

/* A connect to one endpoint gives up after this (or the call's deadline),
 * so a black-holed first endpoint does not eat the whole deadline. */
#define BL_HTTP_CONNECT_MS 1000
/* A watch stream is (re)started from the owner's loop: bounded short. */
#define BL_HTTP_WATCH_START_MS 1000
/* A response header block larger than this is refused. */
#define BL_HTTP_MAX_HEADER (64 * 1024)

struct bl_hep {
	char *host;                    /* "127.0.0.1", "::1", "etcd.example"  */
	char *port;                    /* "2379"                              */
	char *hostport;                /* Host: header, messages              */
};

/* One TCP (maybe TLS) connection and its read buffer. */
struct bl_hconn {
	int fd;                        /* -1: not connected                   */
	SSL *ssl;
	const struct bl_tls *tls;      /* the handle's OpenSSL, for ssl       */
	size_t ep;
	char *buf;                     /* unread bytes are buf[off, len)      */
	size_t off, len, cap;
	/* Why the last TLS read failed, as OpenSSL says it ("" if it did not
	 * or was no TLS error): etcd refusing a client certificate shows up
	 * here, as an alert after the handshake (TLS 1.3). */
	char tls_err[160];
	uint64_t nread;                /* bytes read since connected          */
};

enum bl_hresp_state { HR_HEAD, HR_BODY_LEN, HR_CHUNK_SIZE, HR_CHUNK_DATA,
		      HR_CHUNK_CRLF, HR_TRAILER, HR_DONE };

/* An HTTP/1.1 response being read (incrementally: a watch feeds it). */
struct bl_hresp {
	enum bl_hresp_state st;
	int status;                    /* 200, 400, ...                       */
	bool chunked;
	bool close;                    /* Connection: close                   */
	uint64_t left;                 /* Content-Length / chunk bytes left   */
	char *body;                    /* decoded body so far, NUL-terminated */
	size_t body_len, body_cap;
};

struct bl_etcd {
	struct bl_hep *eps;
	size_t neps;
	size_t cur;                    /* endpoint tried first                */
	bool tls_on;                   /* https:// endpoints                  */
	struct bl_tls *tls;            /* OpenSSL, dlopen()ed for https://    */
	SSL_CTX *ssl_ctx;              /* NULL for http://                    */
	char *user;
	char *password;
	char *token;
	int timeout_ms;
	struct bl_hconn uc;            /* the keep-alive unary connection     */

	struct bl_watches ws;          /* ws.epfd: retry timer, watch sockets */

	char errmsg[512];
};

/* ---- http_conn.c --------------------------------------------------------*/
void bl__seterr(struct bl_etcd *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bl__hconn_init(struct bl_hconn *c);
void bl__hconn_close(struct bl_hconn *c);
/* "connection lost" for messages, with why if known: c->tls_err's reason,
 * or for a TLS connection that broke before its first byte (etcd closes
 * a session whose client certificate it refuses, and the alert saying so
 * is lost when the close races our request), that it may be that. */
const char *bl__hconn_lost(const struct bl_hconn *c, bool tls, char *buf,
			   size_t len);
/* Connect c to endpoint ep (TCP, then TLS if configured). 0 or
 * BL_E_UNAVAILABLE / -ETIMEDOUT with the reason in errmsg. */
int bl__hconn_open(struct bl_etcd *e, struct bl_hconn *c, size_t ep,
		   int64_t deadline_ms);
/* Write a whole POST request for path with body (and the auth token
 * header, and extra header lines "K: V\r\n" if given). */
int bl__hconn_post(struct bl_etcd *e, struct bl_hconn *c, const char *path,
		   const char *body, size_t len, const char *extra,
		   int64_t deadline_ms);
/* Read what is there (non-blocking when deadline_ms < 0, else wait up to
 * it): >0 bytes appended to c->buf, 0 EOF, -EAGAIN, -ETIMEDOUT, -EIO
 * (c->tls_err says why when TLS failed). */
int bl__hconn_fill(struct bl_etcd *e, struct bl_hconn *c, int64_t deadline_ms);
void bl__hresp_init(struct bl_hresp *r);
void bl__hresp_free(struct bl_hresp *r);
/* Parse what c->buf holds into r: 1 when the response is complete, 0 when
 * more bytes are needed, BL_E_PROTO on garbage. */
int bl__hresp_feed(struct bl_etcd *e, struct bl_hresp *r, struct bl_hconn *c);
/*
 * One JSON RPC (POST path with the JSON body req) with failover, backoff,
 * re-auth and the handle's deadline. *resp is the decoded answer (a 200),
 * json_decref() it. A non-200 answer maps the gateway's error body to a
 * code; errmsg has etcd's message.
 */
int bl__hcall(struct bl_etcd *e, const char *path, json_t *req, json_t **resp);
int bl__ensure_token(struct bl_etcd *e, int64_t deadline_ms);
void bl__drop_token(struct bl_etcd *e);

/* ---- http_json.c --------------------------------------------------------*/
/* Base64 (standard alphabet, padded) of n bytes; NULL on ENOMEM. */
char *bl__b64(const void *p, size_t n);
json_t *bl__jb64(const void *p, size_t n);
/* Decode base64 into a malloc'ed NUL-terminated buffer; -EINVAL/-ENOMEM. */
int bl__unb64(const char *s, char **out, size_t *n);
/* int64 fields come as JSON strings ("12"); missing: 0. */
int64_t bl__jint(const json_t *o, const char *name);
json_t *bl__jint_new(int64_t v);
/* Copy a mvccpb.KeyValue JSON object into dst (value only if asked). */
int bl__jkv(struct bl_kv *dst, const json_t *kv, bool value);
/* Revision of a response's "header" (0 if absent). */
int64_t bl__jrev(const json_t *resp);
/*
 * The gateway's error body: {"error":"...","message":"...","code":N} for
 * unary calls, {"error":{"grpc_code":N,"message":"..."}} inside streams.
 * Returns the gRPC code (BL_GRPC_UNAVAILABLE... ) or -1 when body is none
 * of these, with the message copied into msg.
 */
int bl__jerror(const json_t *body, char *msg, size_t msglen);

/* ---- http_watch.c -------------------------------------------------------*/
extern const struct bl_watch_ops bl__http_watch_ops;

#endif
