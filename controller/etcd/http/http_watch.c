/*
 * http_watch.c - watches over the JSON gateway: one streaming
 * POST /v3/watch per bl_watch, read by the owner in bl_etcd_dispatch().
 *
 * Through the gateway, a watch is an HTTP/1.1 request whose body is one
 * WatchRequest (the create request) and whose answer never ends: a chunked
 * body carrying one JSON object per line, {"result": WatchResponse} or, at
 * the end of a failed stream, {"error": {...}}. Each stream has its own
 * TCP (or TLS) connection; its socket sits in the handle's epoll set, so
 * the owner's poll loop wakes on bl_etcd_fd() when there is something to
 * read, and dispatch reads every stream without blocking. No threads.
 *
 * The resume logic is the gRPC client's (etcd_watch.c), message for
 * message: next_rev advances with each delivered revision and with
 * progress notifications; a broken connection, an EOF or an UNAVAILABLE
 * error restarts the stream from next_rev on the next endpoint after a
 * capped backoff (a timerfd in the same epoll set); a compacted resume
 * point calls resync (re-list) or ends the watch with BL_E_COMPACTED; a
 * refusal for a stale token is retried once with a fresh token. The
 * "hasleader" metadata is sent as the gateway's Grpc-Metadata-Hasleader
 * header so a member that loses its leader ends the stream.
 *
 * Stream (re)starts connect and send synchronously, bounded by
 * BL_HTTP_WATCH_START_MS, like the gRPC client's token fetch there.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bl_err.h"
#include "http_internal.h"

struct bl_hstream {
	struct bl_etcd *e;
	struct bl_watch *w;            /* NULL once detached                  */
	struct bl_hconn c;
	struct bl_hresp r;
	size_t line_off;               /* r.body[line_off..] is unprocessed   */
	bool busy;                     /* being read: free at the end of it   */
};

static void schedule_retry(struct bl_watch *w, int delay_ms);

/* ---- streams --------------------------------------------------------------*/

static void stream_free(struct bl_hstream *s)
{
	bl__hconn_close(&s->c);
	bl__hresp_free(&s->r);
	free(s);
}

/* Detach the stream from its watch and close its connection; the memory
 * goes once the reader (if any) is done with it. */
static void stream_detach(struct bl_hstream *s)
{
	if (!s || !s->w)
		return;
	s->w->s = NULL;
	s->w = NULL;
	if (s->c.fd >= 0)
		epoll_ctl(s->e->epfd, EPOLL_CTL_DEL, s->c.fd, NULL);
	bl__hconn_close(&s->c);
	if (!s->busy)
		stream_free(s);
}

static int stream_start(struct bl_watch *w)
{
	struct bl_etcd *e = w->e;
	int64_t dl = bl__now_ms() + (e->timeout_ms < BL_HTTP_WATCH_START_MS ?
				     e->timeout_ms : BL_HTTP_WATCH_START_MS);
	struct epoll_event ev = { .events = EPOLLIN };
	json_t *c, *req;
	struct bl_hstream *s;
	char *body;
	int rc;

	rc = bl__ensure_token(e, dl);
	if (rc < 0)
		return rc;
	c = json_pack("{s:o, s:b}", "key", bl__jb64(w->key, w->key_len),
		      "progress_notify", 1);
	if (c && w->end)
		json_object_set_new(c, "range_end", bl__jb64(w->end, w->end_len));
	if (c && w->next_rev)
		json_object_set_new(c, "start_revision", bl__jint_new(w->next_rev));
	req = c ? json_pack("{s:o}", "create_request", c) : NULL;
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	s = body ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		free(body);
		return -ENOMEM;
	}
	s->e = e;
	bl__hconn_init(&s->c);
	bl__hresp_init(&s->r);
	rc = bl__hconn_open(e, &s->c, e->cur, dl);
	if (rc == 0) {
		rc = bl__hconn_post(e, &s->c, "/v3/watch", body, strlen(body),
				    "Grpc-Metadata-Hasleader: true\r\n", dl);
		if (rc < 0) {
			bl__seterr(e, "watch on %s: request could not be sent: %s",
				   e->eps[e->cur].hostport, strerror(-rc));
			rc = -EIO;
		}
	}
	free(body);
	if (rc == 0) {
		ev.data.ptr = s;
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s->c.fd, &ev) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		/* This endpoint did not take the watch: the next try goes to
		 * the next one. */
		if (rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT || rc == -EIO)
			e->cur = (s->c.ep + 1) % e->neps;
		stream_free(s);
		return rc;
	}
	s->w = w;
	w->s = s;
	return 0;
}

/* ---- timers ----------------------------------------------------------------*/

static void arm_timer(struct bl_etcd *e)
{
	struct itimerspec its = { 0 };
	int64_t at = 0;
	struct bl_watch *w;

	for (w = e->watches; w; w = w->next) {
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
	timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void schedule_retry(struct bl_watch *w, int delay_ms)
{
	w->retry_at = bl__now_ms() + delay_ms;
	if (!w->retry_at)
		w->retry_at = 1;
	arm_timer(w->e);
}

static void backoff_retry(struct bl_watch *w)
{
	schedule_retry(w, w->backoff_ms);
	w->backoff_ms *= 2;
	if (w->backoff_ms > BL_ETCD_BACKOFF_MAX_MS)
		w->backoff_ms = BL_ETCD_BACKOFF_MAX_MS;
}

static void watch_end(struct bl_watch *w, int err)
{
	stream_detach(w->s);
	w->retry_at = 0;
	if (w->ended || w->canceled)
		return;
	w->ended = true;
	w->cb(w->arg, NULL, 0, 0, err);
	w->e->ncallbacks++;
}

static bool transient_start_error(int rc)
{
	return rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT || rc == -EIO ||
	       rc == BL_E_CANCELED;
}

static void watch_restart(struct bl_watch *w)
{
	struct bl_etcd *e = w->e;
	int rc;

	if (w->need_resync) {
		int64_t rev = w->resync(w->arg);
		e->ncallbacks++;
		if (w->canceled || w->ended)
			return;
		if (rev < 0) {
			backoff_retry(w);
			return;
		}
		w->need_resync = false;
		w->next_rev = rev + 1;
	}
	rc = stream_start(w);
	if (rc == 0)
		return;
	if (transient_start_error(rc))
		backoff_retry(w);
	else
		watch_end(w, rc);
}

static void run_timers(struct bl_etcd *e)
{
	int64_t now = bl__now_ms();
	struct bl_watch *w;
	uint64_t n;

	if (read(e->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: not expired; we look at the deadlines anyway. */
	}
	for (w = e->watches; w; w = w->next) {
		if (w->canceled || w->ended || !w->retry_at || w->retry_at > now)
			continue;
		w->retry_at = 0;
		watch_restart(w);
	}
	arm_timer(e);
}

/* ---- responses ---------------------------------------------------------------*/

static void free_events(struct bl_watch_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(ev[i].kv.key);
		free(ev[i].kv.value);
	}
	free(ev);
}

/* Hand the events of one response to the callback, one run of equal
 * mod_revision at a time; events below next_rev were delivered before a
 * resume and are skipped. */
static void deliver(struct bl_watch *w, struct bl_hstream *s, const json_t *events)
{
	struct bl_etcd *e = w->e;
	size_t i, j, n = 0, total = json_array_size(events);
	struct bl_watch_event *ev = calloc(total ? total : 1, sizeof(*ev));

	if (!ev)
		goto out_retry;
	for (i = 0; i < total; i++) {
		const json_t *src = json_array_get(events, i);
		const json_t *kv = json_object_get(src, "kv");
		const char *type = json_string_value(json_object_get(src, "type"));

		if (!kv || bl__jint(kv, "mod_revision") < w->next_rev)
			continue;
		if (bl__jkv(&ev[n].kv, kv, true) < 0)
			goto out_retry;
		ev[n].type = type && !strcmp(type, "DELETE") ? BL_EV_DELETE : BL_EV_PUT;
		n++;
	}
	for (i = 0; i < n; i = j) {
		int64_t rev = ev[i].kv.mod_revision;

		for (j = i; j < n && ev[j].kv.mod_revision == rev; j++)
			;
		if (w->canceled || w->ended || w->s != s)
			break;
		if (rev >= w->next_rev)
			w->next_rev = rev + 1;
		w->cb(w->arg, &ev[i], j - i, rev, 0);
		e->ncallbacks++;
	}
	free_events(ev, n);
	return;

out_retry:
	/* Undeliverable: restart from the same revision, never skip. */
	if (ev)
		free_events(ev, n);
	bl__seterr(e, "watch: events could not be decoded");
	stream_detach(s);
	backoff_retry(w);
}

static bool auth_reason(const char *r)
{
	return r && (strstr(r, "permission denied") || strstr(r, "auth") ||
		     strstr(r, "token") || strstr(r, "user name"));
}

/* A gRPC-level failure of the stream (an {"error"} message, or an HTTP
 * error answer before the stream started). */
static void stream_failed(struct bl_hstream *s, int code, const char *msg)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	size_t ep = s->c.ep;

	stream_detach(s);
	bl__seterr(e, "watch on %s ended: %s (grpc status %d)",
		   e->eps[ep].hostport, msg && *msg ? msg : "no details", code);
	switch (code) {
	case BL_GRPC_UNAUTHENTICATED:
		if (e->user && w->auth_retries < 1) {
			w->auth_retries++;
			bl__drop_token(e);
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
		if (e->cur == ep)
			e->cur = (ep + 1) % e->neps;
		/* fall through */
	default:
		backoff_retry(w);
		return;
	}
}

/* The connection ended or broke under a live watch: resume elsewhere. */
static void stream_lost(struct bl_hstream *s, const char *why)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	size_t ep = s->c.ep;

	bl__seterr(e, "watch on %s: %s", e->eps[ep].hostport, why);
	stream_detach(s);
	if (e->cur == ep)
		e->cur = (ep + 1) % e->neps;
	backoff_retry(w);
}

static void handle_result(struct bl_hstream *s, const json_t *res)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	const json_t *events = json_object_get(res, "events");
	bool created = json_is_true(json_object_get(res, "created"));
	bool canceled = json_is_true(json_object_get(res, "canceled"));
	int64_t rev = bl__jrev(res), compact = bl__jint(res, "compact_revision");

	if (created && !canceled) {
		w->backoff_ms = BL_ETCD_BACKOFF_MIN_MS;
		w->auth_retries = 0;
		if (!w->next_rev && rev)
			w->next_rev = rev + 1;
	}
	if (json_array_size(events)) {
		deliver(w, s, events);
	} else if (!created && !canceled && rev && w->next_rev && rev >= w->next_rev) {
		/* A progress notification: every later event of this stream is
		 * above rev (see etcd_watch.c). */
		w->next_rev = rev + 1;
	}
	if (w->s != s)
		return;                /* cancelled from a callback */
	if (compact > 0) {
		stream_detach(s);
		bl__seterr(e, "watch from revision %lld: compacted at %lld",
			   (long long)w->next_rev, (long long)compact);
		if (!w->resync) {
			watch_end(w, BL_E_COMPACTED);
		} else {
			w->need_resync = true;
			schedule_retry(w, 0);
		}
	} else if (canceled) {
		const char *why = json_string_value(json_object_get(res, "cancel_reason"));

		why = why ? why : "";
		stream_detach(s);
		bl__seterr(e, "watch canceled by etcd: %s", *why ? why : "no reason given");
		if (e->user && auth_reason(why) && w->auth_retries < 1) {
			w->auth_retries++;
			bl__drop_token(e);
			schedule_retry(w, 0);
		} else {
			watch_end(w, auth_reason(why) ? BL_E_AUTH : BL_E_ETCD);
		}
	}
}

static void handle_line(struct bl_hstream *s, const char *p, size_t n)
{
	json_t *msg = json_loadb(p, n, 0, NULL);
	const json_t *res;
	char why[256];
	int code;

	if (!msg) {
		bl__seterr(s->e, "watch: undecodable message '%.60s'", p);
		stream_lost(s, "undecodable message");
		return;
	}
	if ((res = json_object_get(msg, "result")))
		handle_result(s, res);
	else if ((code = bl__jerror(msg, why, sizeof(why))) >= 0)
		stream_failed(s, code, why);
	json_decref(msg);
}

/* Run every complete line of the body (a 200 stream). */
static void handle_lines(struct bl_hstream *s)
{
	while (s->w && s->r.body) {
		char *p = s->r.body + s->line_off;
		char *nl = memchr(p, '\n', s->r.body_len - s->line_off);
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - p);
		s->line_off += n + 1;
		if (n)
			handle_line(s, p, n);
	}
	if (s->w && s->line_off) {
		memmove(s->r.body, s->r.body + s->line_off, s->r.body_len - s->line_off);
		s->r.body_len -= s->line_off;
		s->r.body[s->r.body_len] = '\0';
		s->line_off = 0;
	}
}

/* Read whatever the stream has, without blocking, and act on it. */
static void stream_read(struct bl_hstream *s)
{
	int rc = 0, frc;

	s->busy = true;
	while (s->w) {
		rc = bl__hconn_fill(s->e, &s->c, -1);
		if (rc == -EAGAIN)
			break;
		frc = bl__hresp_feed(s->e, &s->r, &s->c);
		if (frc < 0) {
			stream_lost(s, "bad HTTP framing");
			break;
		}
		if (s->r.st != HR_HEAD && s->r.status == 200)
			handle_lines(s);
		if (!s->w)
			break;
		if (s->r.st != HR_HEAD && s->r.status != 200 &&
		    (frc == 1 || rc <= 0)) {
			/* Refused before streaming: one error body. */
			char why[256] = "";
			json_t *j = json_loadb(s->r.body ? s->r.body : "", s->r.body_len,
					       0, NULL);
			int code = j ? bl__jerror(j, why, sizeof(why)) : -1;

			json_decref(j);
			if (code < 0) {
				snprintf(why, sizeof(why), "HTTP %d", s->r.status);
				code = s->r.status == 503 ? BL_GRPC_UNAVAILABLE : 2;
			}
			stream_failed(s, code, why);
			break;
		}
		if (frc == 1) {
			stream_lost(s, "stream ended");
			break;
		}
		if (rc <= 0) {
			stream_lost(s, rc == 0 ? "connection closed" : "connection lost");
			break;
		}
	}
	s->busy = false;
	if (!s->w)
		stream_free(s);
}

/* ---- public ------------------------------------------------------------------*/

static void watch_free(struct bl_watch *w)
{
	free(w->key);
	free(w->end);
	free(w);
}

static void sweep(struct bl_etcd *e)
{
	struct bl_watch **pp = &e->watches;

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
	w->cb = cb;
	w->resync = resync;
	w->arg = arg;
	w->next_rev = start_revision;
	w->backoff_ms = BL_ETCD_BACKOFF_MIN_MS;
	if (prefix && !len) {
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
	rc = stream_start(w);
	if (rc < 0 && !transient_start_error(rc)) {
		watch_free(w);
		return rc;
	}
	w->next = e->watches;
	e->watches = w;
	if (rc < 0)
		backoff_retry(w);      /* etcd unreachable now: keep trying */
	*out = w;
	return 0;
}

void bl_etcd_watch_cancel(struct bl_watch *w)
{
	struct bl_etcd *e;

	if (!w)
		return;
	e = w->e;
	w->canceled = true;
	w->retry_at = 0;
	stream_detach(w->s);
	arm_timer(e);
	if (!e->in_dispatch)
		sweep(e);
}

static void read_streams(struct bl_etcd *e)
{
	struct bl_watch *w;

	for (w = e->watches; w; w = w->next)
		if (!w->canceled && w->s)
			stream_read(w->s);
}

int bl_etcd_dispatch(struct bl_etcd *e, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? bl__now_ms() + timeout_ms : 0;
	int n;

	e->in_dispatch++;
	e->ncallbacks = 0;
	for (;;) {
		struct pollfd p = { .fd = e->epfd, .events = POLLIN };
		int wait;

		read_streams(e);
		run_timers(e);
		if (e->ncallbacks > 0 || timeout_ms == 0)
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
	n = e->ncallbacks;
	if (--e->in_dispatch == 0)
		sweep(e);
	return n;
}

void bl__watches_close(struct bl_etcd *e)
{
	struct bl_watch *w;

	for (w = e->watches; w; w = w->next) {
		w->canceled = true;
		stream_detach(w->s);
	}
	sweep(e);
}
