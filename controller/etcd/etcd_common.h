/*
 * etcd_common.h - the transport-neutral pieces shared by the two etcd
 * clients behind bl_etcd.h: the gRPC one (controller/etcd/etcd_*.c, for
 * bollardd) and the HTTP/1.1 JSON gateway one (controller/etcd/http/, for
 * the `bollard` CLI). Not a public header; see docs/etcd.md.
 */
#ifndef BL_ETCD_COMMON_H
#define BL_ETCD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_etcd.h"
#include "bl_time.h"

/* Reconnect backoff of the unary retry loop and the watch restarts. */
#define BL_ETCD_BACKOFF_MIN_MS 100
#define BL_ETCD_BACKOFF_MAX_MS 2000

/* bl_now_ms() (bl_time.h) as the signed milliseconds of the deadline
 * arithmetic here, where "deadline - now" goes negative once it passed. */
static inline int64_t bl__now_ms(void)
{
	return (int64_t)bl_now_ms();
}
/* Sleep min(*backoff_ms, time left to deadline_ms), then double the backoff
 * (capped at BL_ETCD_BACKOFF_MAX_MS). */
void bl__backoff_sleep(int *backoff_ms, int64_t deadline_ms);
/* [key, end) for a prefix: end is key with the last non-0xff byte + 1, or
 * "\0" (every key >= key) when there is none. *end is malloc'ed. */
int bl__prefix_end(const uint8_t *key, size_t len, uint8_t **end,
		   size_t *end_len);
/*
 * Map a non-OK gRPC status code (the numeric canonical codes: the gRPC
 * client gets them from the call, the gateway puts them in its error
 * body's "code") and etcd's message to a bollard code.
 */
int bl__code_rc(int code, const char *msg);

struct bl_etcd;
/* Each transport has these (its internal header declares them too): set
 * e's error text (bl_etcd_errmsg); forget e's auth token (the next call
 * or stream start fetches a new one). */
void bl__seterr(struct bl_etcd *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bl__drop_token(struct bl_etcd *e);
/*
 * Split an endpoint list "http://a:1,https://b:2" for either transport:
 * blanks and trailing '/' are dropped, a bare "host:port" is http, any
 * other "scheme://" is refused, and all endpoints must share one scheme
 * (one set of credentials). add(e, hostport, len) is called per endpoint.
 * *tls is set for https. 0, the add callback's error, or -EINVAL with the
 * reason in e's error text (bl__seterr).
 */
int bl__parse_endpoints(struct bl_etcd *e, const char *list,
			int (*add)(struct bl_etcd *e, const char *p, size_t len),
			bool *tls);

/* ---- watches ---------------------------------------------------------------
 *
 * The watch bookkeeping is the same in both transports and lives in
 * etcd_common.c: the list of watches, resume points, the retry timer and
 * its capped backoff, what a WatchResponse means (created, events in runs
 * of one revision, progress notifications, compaction, cancellation, a
 * stale token), what a stream's end status means, and dispatch. A
 * transport only carries streams: it opens one for a watch, ends one, and
 * turns what arrives into bl__watch_response() / bl__watch_failed() calls.
 * Its handle embeds a struct bl_watches and hands the watch code its
 * stream operations through struct bl_watch_ops.
 */
struct bl_wstream;                     /* a transport's watch stream      */
struct bl_watch;

struct bl_watch_ops {
	/* Open a stream for w from w->next_rev on the current endpoint and
	 * set w->s. 0, or BL_E_UNAVAILABLE / -ETIMEDOUT / -EIO / BL_E_CANCELED
	 * (retried after a backoff), or any other error (the watch ends). */
	int (*start)(struct bl_watch *w);
	/* Separate s from its watch (s's watch->s = NULL) and end it; s may
	 * be NULL or already detached. */
	void (*detach)(struct bl_wstream *s);
	/* Handle whatever the transport has for the watches (queued
	 * completions, readable sockets), without blocking. */
	void (*pump)(struct bl_etcd *e);
	/* A watch on endpoint ep failed in a way that says the endpoint is
	 * gone: if ep is the current endpoint, the next one becomes it. */
	void (*failover)(struct bl_etcd *e, size_t ep);
};

/* The watch state of a handle (a member of each transport's bl_etcd). */
struct bl_watches {
	const struct bl_watch_ops *ops;
	struct bl_watch *list;
	bool auth;                     /* the handle has credentials          */
	int tfd;                       /* retry timer                         */
	int epfd;                      /* bl_etcd_fd(): tfd + the transport's */
	int in_dispatch;
	int ncallbacks;
};

struct bl_watch {
	struct bl_etcd *e;
	struct bl_watches *ws;
	struct bl_watch *next;         /* bl_watches.list                     */
	uint8_t *key;
	size_t key_len;
	uint8_t *end;                  /* range end; NULL: single key         */
	size_t end_len;
	bl_watch_cb cb;
	bl_resync_cb resync;
	void *arg;
	int64_t next_rev;              /* resume point; 0: "now"              */
	struct bl_wstream *s;          /* current stream; NULL when waiting   */
	int64_t retry_at;              /* monotonic ms; 0: no retry pending   */
	int backoff_ms;
	bool need_resync;              /* compacted: re-list before re-watch  */
	bool ended;                    /* terminal error delivered            */
	bool canceled;                 /* bl_etcd_watch_cancel() was called   */
	int auth_retries;
};

/* One WatchResponse as a transport decoded it. */
struct bl_watch_resp {
	bool created;
	bool canceled;
	const char *cancel_reason;     /* NULL: none                          */
	int64_t rev;                   /* header.revision; 0: no header       */
	int64_t compact_rev;           /* compact_revision; 0: none           */
	bool has_events;               /* the message carried events          */
	bool undecodable;              /* ... which could not be decoded      */
	struct bl_watch_event *ev;     /* the decoded ones, in order          */
	size_t nev;
};

/* Create the timer and the epoll set (with the timer in it); 0 or -errno.
 * The transport adds its own fds to ws->epfd. auth: the handle has
 * credentials (a refusal for a stale token is then retried once). */
int bl__watches_init(struct bl_watches *ws, const struct bl_watch_ops *ops,
		     bool auth);
/* Cancel and free every watch (streams detached), then close the fds. The
 * transport collects its detached streams in between if it must: call
 * bl__watches_cancel_all() first, then bl__watches_fini(). */
void bl__watches_cancel_all(struct bl_watches *ws);
void bl__watches_fini(struct bl_watches *ws);
/* A handle's watches (each transport has it; bl_etcd_watch(),
 * bl_etcd_dispatch() and bl_etcd_fd() are etcd_common.c's). */
struct bl_watches *bl__watches(struct bl_etcd *e);
/* Act on one response of s, w's current stream. */
void bl__watch_response(struct bl_watch *w, struct bl_wstream *s,
			const struct bl_watch_resp *r);
/* w's stream on endpoint ep ended with gRPC status code and message msg
 * (already detached, the error text already set): retry, re-authenticate
 * once, or end the watch. */
void bl__watch_failed(struct bl_watch *w, size_t ep, int code, const char *msg);
/* Restart w's stream after the capped backoff (w's stream is detached). */
void bl__watch_backoff(struct bl_watch *w);

/* Copy o's user and password (none when o->user is empty): 0 or -ENOMEM. */
int bl__creds_copy(const struct bl_etcd_opts *o, char **user, char **password);
/* Free them and the token, the password and token wiped first. */
void bl__creds_free(char *user, char *password, char *token);

/* Canonical gRPC status codes the clients look at by number. */
enum {
	BL_GRPC_OK = 0, BL_GRPC_CANCELLED = 1, BL_GRPC_INVALID_ARGUMENT = 3,
	BL_GRPC_DEADLINE_EXCEEDED = 4, BL_GRPC_NOT_FOUND = 5,
	BL_GRPC_PERMISSION_DENIED = 7, BL_GRPC_RESOURCE_EXHAUSTED = 8,
	BL_GRPC_FAILED_PRECONDITION = 9, BL_GRPC_OUT_OF_RANGE = 11,
	BL_GRPC_UNIMPLEMENTED = 12, BL_GRPC_UNAVAILABLE = 14,
	BL_GRPC_UNAUTHENTICATED = 16,
};

#endif
