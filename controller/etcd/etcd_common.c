/*
 * etcd_common.c - pieces of the etcd client that do not depend on the
 * transport: backoff, prefix ranges, freeing listings, the
 * mapping of etcd's status codes to bollard's, endpoint lists, credentials
 * and the watch bookkeeping (see "watches" below and in etcd_common.h).
 * Linked into both libbl_etcd.a (gRPC) and libbl_etcd_http.a (JSON
 * gateway).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bl_err.h"
#include "etcd_common.h"

void bl__backoff_sleep(int *backoff_ms, int64_t deadline_ms)
{
	int64_t left = deadline_ms - bl__now_ms();
	int64_t ms = *backoff_ms < left ? *backoff_ms : left;
	struct timespec ts;

	if (ms > 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	*backoff_ms *= 2;
	if (*backoff_ms > BL_ETCD_BACKOFF_MAX_MS)
		*backoff_ms = BL_ETCD_BACKOFF_MAX_MS;
}

int bl__prefix_end(const uint8_t *key, size_t len, uint8_t **end,
		   size_t *end_len)
{
	size_t n = len;
	uint8_t *p;

	while (n && key[n - 1] == 0xff)
		n--;
	if (!n) {
		/* No byte can be incremented: the range is open-ended. */
		p = malloc(1);
		if (!p)
			return -ENOMEM;
		p[0] = 0;
		*end = p;
		*end_len = 1;
		return 0;
	}
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	memcpy(p, key, n);
	p[n - 1]++;
	*end = p;
	*end_len = n;
	return 0;
}

void bl_kvs_free(struct bl_kvs *kvs)
{
	size_t i;

	if (!kvs)
		return;
	for (i = 0; i < kvs->n; i++) {
		free(kvs->kvs[i].key);
		free(kvs->kvs[i].value);
	}
	free(kvs->kvs);
	memset(kvs, 0, sizeof(*kvs));
}

/*
 * etcd 3.4 status codes (etcdserver/api/v3rpc/rpctypes): compaction is
 * OutOfRange, a bad user/password is InvalidArgument "authentication
 * failed", an expired token is Unauthenticated "invalid auth token",
 * missing rights are PermissionDenied, "no leader" is Unavailable.
 */
int bl__code_rc(int code, const char *msg)
{
	switch (code) {
	case BL_GRPC_OK:
		return 0;
	case BL_GRPC_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case BL_GRPC_UNAVAILABLE:
		return BL_E_UNAVAILABLE;
	case BL_GRPC_CANCELLED:
		return BL_E_CANCELED;
	case BL_GRPC_UNAUTHENTICATED:
	case BL_GRPC_PERMISSION_DENIED:
		return BL_E_AUTH;
	case BL_GRPC_RESOURCE_EXHAUSTED:
		return BL_E_ETCD;
	case BL_GRPC_NOT_FOUND:
		return -ENOENT;
	case BL_GRPC_OUT_OF_RANGE:
		if (msg && strstr(msg, "compacted"))
			return BL_E_COMPACTED;
		return BL_E_ETCD;
	case BL_GRPC_INVALID_ARGUMENT:
	case BL_GRPC_FAILED_PRECONDITION:
		if (msg && (strstr(msg, "authentication failed") ||
			    strstr(msg, "user name") ||
			    strstr(msg, "authentication is not enabled") ||
			    strstr(msg, "permission denied")))
			return BL_E_AUTH;
		return BL_E_ETCD;
	default:
		return BL_E_ETCD;
	}
}

int bl__parse_endpoints(struct bl_etcd *e, const char *list,
			int (*add)(struct bl_etcd *e, const char *p, size_t len),
			bool *tls)
{
	const char *p = list;
	int scheme = -1, n = 0, rc;    /* scheme: -1 none yet, 0 http, 1 https */

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int s = 0;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= 7 && !strncmp(p, "http://", 7)) {
			p += 7;
			len -= 7;
		} else if (len >= 8 && !strncmp(p, "https://", 8)) {
			p += 8;
			len -= 8;
			s = 1;
		} else if (memmem(p, len, "://", 3)) {
			bl__seterr(e, "endpoint '%.*s': unsupported scheme",
				   (int)len, p);
			return -EINVAL;
		}
		while (len && (p[len - 1] == '/' || p[len - 1] == ' '))
			len--;
		if (len) {
			if (scheme >= 0 && scheme != s) {
				bl__seterr(e, "endpoints mix http:// and https://");
				return -EINVAL;
			}
			scheme = s;
			rc = add(e, p, len);
			if (rc < 0)
				return rc;
			n++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!n) {
		bl__seterr(e, "no etcd endpoints given");
		return -EINVAL;
	}
	*tls = scheme == 1;
	return 0;
}

int bl__creds_copy(const struct bl_etcd_opts *o, char **user, char **password)
{
	*user = *password = NULL;
	if (!o->user || !*o->user)
		return 0;
	*user = strdup(o->user);
	*password = strdup(o->password ? o->password : "");
	return *user && *password ? 0 : -ENOMEM;
}

void bl__creds_free(char *user, char *password, char *token)
{
	free(user);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
}

/* ---- watches -----------------------------------------------------------------
 *
 * Life of a watch, whichever the transport:
 *
 *   start  the transport opens a stream whose create request asks for
 *          progress notifications and starts at next_rev (0: "now").
 *
 *   events each response is split into runs of one mod_revision and handed
 *          to the callback; next_rev becomes that revision + 1. Events
 *          below next_rev were delivered before a resume and are skipped. A
 *          watch from "now" takes next_rev from the created response's
 *          header, and progress notifications move it up on a quiet watch.
 *
 *   failure the stream ends (UNAVAILABLE when etcd dies or the member loses
 *          its leader: both transports ask for "hasleader"; a broken
 *          connection for the gateway). The watch is re-created from
 *          next_rev after a capped backoff (100 ms .. 2 s) on the next
 *          endpoint, so nothing is lost or repeated. The backoff is a
 *          timerfd in the handle's epoll set: the owner's poll loop wakes
 *          for it like for an event.
 *
 *   compaction etcd answers a watch whose start revision is compacted with
 *          created, then canceled + compact_revision. The history is gone:
 *          the resync callback re-lists and returns the listing's revision
 *          R; the watch resumes from R + 1. Without a resync callback the
 *          watch ends with BL_E_COMPACTED.
 *
 *   auth   a watch refused for a stale token arrives as created+canceled
 *          ("permission denied") or as UNAUTHENTICATED: the token is dropped
 *          and fetched again once before the refusal is taken as final
 *          (BL_E_AUTH).
 *
 * A watch cancelled from a callback is only marked; it is freed when the
 * outermost dispatch returns (sweep), so the loops below never walk freed
 * memory.
 */

int bl__watches_init(struct bl_watches *ws, const struct bl_watch_ops *ops,
		     bool auth)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ws->ops = ops;
	ws->auth = auth;
	ws->list = NULL;
	ws->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ws->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ws->tfd < 0 || ws->epfd < 0)
		return -errno;
	ev.data.ptr = NULL;
	if (epoll_ctl(ws->epfd, EPOLL_CTL_ADD, ws->tfd, &ev) < 0)
		return -errno;
	return 0;
}

void bl__watches_fini(struct bl_watches *ws)
{
	if (ws->epfd >= 0)
		close(ws->epfd);
	if (ws->tfd >= 0)
		close(ws->tfd);
	ws->epfd = ws->tfd = -1;
}

static void arm_timer(struct bl_watches *ws)
{
	struct itimerspec its = { 0 };
	int64_t at = 0;
	struct bl_watch *w;

	for (w = ws->list; w; w = w->next) {
		if (w->canceled || w->ended || !w->retry_at)
			continue;
		if (!at || w->retry_at < at)
			at = w->retry_at;
	}
	if (at) {
		/* An absolute time already past fires at once; 0 would disarm. */
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (at % 1000) * 1000000 + 1;
	}
	timerfd_settime(ws->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void schedule_retry(struct bl_watch *w, int delay_ms)
{
	w->retry_at = bl__now_ms() + delay_ms;
	if (!w->retry_at)
		w->retry_at = 1;
	arm_timer(w->ws);
}

void bl__watch_backoff(struct bl_watch *w)
{
	schedule_retry(w, w->backoff_ms);
	w->backoff_ms *= 2;
	if (w->backoff_ms > BL_ETCD_BACKOFF_MAX_MS)
		w->backoff_ms = BL_ETCD_BACKOFF_MAX_MS;
}

/* The watch is over for good: tell the owner once. */
static void watch_end(struct bl_watch *w, int err)
{
	w->ws->ops->detach(w->s);
	w->retry_at = 0;
	if (w->ended || w->canceled)
		return;
	w->ended = true;
	w->cb(w->arg, NULL, 0, 0, err);
	w->ws->ncallbacks++;
}

static bool transient_start_error(int rc)
{
	return rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT || rc == -EIO ||
	       rc == BL_E_CANCELED;
}

static void watch_restart(struct bl_watch *w)
{
	struct bl_watches *ws = w->ws;
	int rc;

	if (w->need_resync) {
		int64_t rev = w->resync(w->arg);
		ws->ncallbacks++;
		if (w->canceled || w->ended)
			return;
		if (rev < 0) {
			bl__watch_backoff(w);
			return;
		}
		w->need_resync = false;
		w->next_rev = rev + 1;
	}
	rc = ws->ops->start(w);
	if (rc == 0)
		return;
	if (transient_start_error(rc))
		bl__watch_backoff(w);
	else
		watch_end(w, rc);
}

static void run_timers(struct bl_watches *ws)
{
	int64_t now = bl__now_ms();
	struct bl_watch *w;
	uint64_t n;

	if (read(ws->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: not expired; we look at the deadlines anyway. */
	}
	for (w = ws->list; w; w = w->next) {
		if (w->canceled || w->ended || !w->retry_at || w->retry_at > now)
			continue;
		w->retry_at = 0;
		watch_restart(w);
	}
	arm_timer(ws);
}

/* Hand the events of one response to the callback, one run of equal
 * mod_revision at a time, skipping what was delivered before a resume. */
static void deliver(struct bl_watch *w, struct bl_wstream *s,
		    struct bl_watch_event *ev, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j) {
		int64_t rev = ev[i].kv.mod_revision;

		for (j = i; j < n && ev[j].kv.mod_revision == rev; j++)
			;
		if (w->canceled || w->ended || w->s != s)
			break;
		if (rev < w->next_rev)
			continue;
		w->next_rev = rev + 1;
		w->cb(w->arg, &ev[i], j - i, rev, 0);
		w->ws->ncallbacks++;
	}
}

static bool auth_reason(const char *r)
{
	return r && (strstr(r, "permission denied") || strstr(r, "auth") ||
		     strstr(r, "token") || strstr(r, "user name"));
}

void bl__watch_response(struct bl_watch *w, struct bl_wstream *s,
			const struct bl_watch_resp *r)
{
	const struct bl_watch_ops *ops = w->ws->ops;
	struct bl_etcd *e = w->e;

	if (r->created && !r->canceled) {
		w->backoff_ms = BL_ETCD_BACKOFF_MIN_MS;
		w->auth_retries = 0;
		if (!w->next_rev && r->rev)
			w->next_rev = r->rev + 1;
	}
	if (r->has_events && r->undecodable) {
		/* Undeliverable: restart the stream from the same revision
		 * rather than skip events. */
		bl__seterr(e, "watch: events could not be decoded");
		ops->detach(s);
		bl__watch_backoff(w);
		return;
	}
	if (r->has_events) {
		deliver(w, s, r->ev, r->nev);
	} else if (!r->created && !r->canceled && r->rev && w->next_rev &&
		   r->rev >= w->next_rev) {
		/* A progress notification: etcd promises every later event
		 * of this stream is above header.revision. Moving the resume
		 * point up means a quiet watch that reconnects after the rest
		 * of the store was compacted resumes instead of re-listing. */
		w->next_rev = r->rev + 1;
	}
	if (w->s != s)
		return;                /* cancelled from a callback */
	if (r->compact_rev > 0) {
		ops->detach(s);
		bl__seterr(e, "watch from revision %lld: compacted at %lld",
			   (long long)w->next_rev, (long long)r->compact_rev);
		if (!w->resync) {
			watch_end(w, BL_E_COMPACTED);
		} else {
			w->need_resync = true;
			schedule_retry(w, 0);
		}
	} else if (r->canceled) {
		const char *why = r->cancel_reason ? r->cancel_reason : "";

		ops->detach(s);
		bl__seterr(e, "watch canceled by etcd: %s", *why ? why : "no reason given");
		if (w->ws->auth && auth_reason(why) && w->auth_retries < 1) {
			w->auth_retries++;
			bl__drop_token(e);
			schedule_retry(w, 0);
		} else {
			watch_end(w, auth_reason(why) ? BL_E_AUTH : BL_E_ETCD);
		}
	}
}

void bl__watch_failed(struct bl_watch *w, size_t ep, int code, const char *msg)
{
	const struct bl_watch_ops *ops = w->ws->ops;

	switch (code) {
	case BL_GRPC_UNAUTHENTICATED:
		if (w->ws->auth && w->auth_retries < 1) {
			w->auth_retries++;
			bl__drop_token(w->e);
			schedule_retry(w, 0);
			return;
		}
		/* fall through */
	case BL_GRPC_PERMISSION_DENIED:
	case BL_GRPC_INVALID_ARGUMENT:
	case BL_GRPC_UNIMPLEMENTED:
	case BL_GRPC_NOT_FOUND:
		watch_end(w, bl__code_rc(code, msg));
		return;
	case BL_GRPC_UNAVAILABLE:
		ops->failover(w->e, ep);
		/* fall through */
	default:
		bl__watch_backoff(w);
		return;
	}
}

static void watch_free(struct bl_watch *w)
{
	free(w->key);
	free(w->end);
	free(w);
}

/* Free the watches cancelled while callbacks were running. */
static void sweep(struct bl_watches *ws)
{
	struct bl_watch **pp = &ws->list;

	while (*pp) {
		struct bl_watch *w = *pp;
		if (w->canceled) {
			*pp = w->next;
			watch_free(w);
		} else {
			pp = &w->next;
		}
	}
}

int bl_etcd_watch(struct bl_etcd *e, const char *key, bool prefix,
		  int64_t start_revision, bl_watch_cb cb, bl_resync_cb resync,
		  void *arg, struct bl_watch **out)
{
	struct bl_watches *ws = bl__watches(e);
	struct bl_watch *w;
	size_t len = strlen(key);
	int rc;

	*out = NULL;
	if (!cb || start_revision < 0)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->e = e;
	w->ws = ws;
	w->cb = cb;
	w->resync = resync;
	w->arg = arg;
	w->next_rev = start_revision;
	w->backoff_ms = BL_ETCD_BACKOFF_MIN_MS;
	if (prefix && !len) {
		/* Every key: "\0" .. "\0". */
		w->key = calloc(1, 1);
		w->key_len = 1;
		rc = w->key ? bl__prefix_end(NULL, 0, &w->end, &w->end_len) : -ENOMEM;
	} else {
		w->key = malloc(len ? len : 1);
		w->key_len = len;
		if (w->key && len)
			memcpy(w->key, key, len);
		rc = !w->key ? -ENOMEM :
		     prefix ? bl__prefix_end(w->key, len, &w->end, &w->end_len) : 0;
	}
	if (rc < 0) {
		watch_free(w);
		return rc;
	}
	rc = ws->ops->start(w);
	if (rc < 0 && !transient_start_error(rc)) {
		watch_free(w);
		return rc;
	}
	w->next = ws->list;
	ws->list = w;
	if (rc < 0)
		bl__watch_backoff(w);  /* etcd unreachable now: keep trying */
	*out = w;
	return 0;
}

void bl_etcd_watch_cancel(struct bl_watch *w)
{
	struct bl_watches *ws;

	if (!w)
		return;
	ws = w->ws;
	w->canceled = true;
	w->retry_at = 0;
	ws->ops->detach(w->s);
	arm_timer(ws);
	if (!ws->in_dispatch)
		sweep(ws);
}

int bl_etcd_fd(struct bl_etcd *e)
{
	return bl__watches(e)->epfd;
}

int bl_etcd_dispatch(struct bl_etcd *e, int timeout_ms)
{
	struct bl_watches *ws = bl__watches(e);
	int64_t deadline = timeout_ms > 0 ? bl__now_ms() + timeout_ms : 0;
	int n;

	ws->in_dispatch++;
	ws->ncallbacks = 0;
	for (;;) {
		struct pollfd p = { .fd = ws->epfd, .events = POLLIN };
		int wait;

		ws->ops->pump(e);
		run_timers(ws);
		if (ws->ncallbacks > 0 || timeout_ms == 0)
			break;
		if (timeout_ms < 0) {
			wait = -1;
		} else {
			int64_t left = deadline - bl__now_ms();
			if (left <= 0)
				break;
			wait = (int)left;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			break;
	}
	n = ws->ncallbacks;
	if (--ws->in_dispatch == 0)
		sweep(ws);
	return n;
}

void bl__watches_cancel_all(struct bl_watches *ws)
{
	struct bl_watch *w;

	for (w = ws->list; w; w = w->next) {
		w->canceled = true;
		ws->ops->detach(w->s);
	}
	sweep(ws);
}
