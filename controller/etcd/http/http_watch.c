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
 * What a watch is (resume points, runs of one revision, progress
 * notifications, compaction and resync, a stale token, the retry timer)
 * is etcd_common.c's, shared with the gRPC transport: each {"result"} line
 * becomes a bl__watch_response() call, an {"error"} line or an HTTP error
 * answer a bl__watch_failed() call. What only this transport has: a
 * broken connection, an EOF or bad framing restarts the stream from
 * next_rev on the next endpoint after the capped backoff. The "hasleader"
 * metadata is sent as the gateway's Grpc-Metadata-Hasleader header so a
 * member that loses its leader ends the stream.
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
#include <unistd.h>

#include "bl_err.h"
#include "http_internal.h"

struct bl_wstream {
	struct bl_etcd *e;
	struct bl_watch *w;            /* NULL once detached                  */
	struct bl_hconn c;
	struct bl_hresp r;
	size_t line_off;               /* r.body[line_off..] is unprocessed   */
	bool busy;                     /* being read: free at the end of it   */
};

/* ---- streams --------------------------------------------------------------*/

static void failover(struct bl_etcd *e, size_t ep)
{
	if (e->cur == ep)
		e->cur = (ep + 1) % e->neps;
}

static void stream_free(struct bl_wstream *s)
{
	bl__hconn_close(&s->c);
	bl__hresp_free(&s->r);
	free(s);
}

/* Detach the stream from its watch and close its connection; the memory
 * goes once the reader (if any) is done with it. */
static void stream_detach(struct bl_wstream *s)
{
	if (!s || !s->w)
		return;
	s->w->s = NULL;
	s->w = NULL;
	if (s->c.fd >= 0)
		epoll_ctl(s->e->ws.epfd, EPOLL_CTL_DEL, s->c.fd, NULL);
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
	struct bl_wstream *s;
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
		if (epoll_ctl(e->ws.epfd, EPOLL_CTL_ADD, s->c.fd, &ev) < 0)
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

/* Decode a response's events for bl__watch_response(); r->undecodable
 * when one could not be. Free them with free_events(r->ev, r->nev). */
static void decode_events(const json_t *events, struct bl_watch_resp *r)
{
	size_t i, total = json_array_size(events);

	r->has_events = total > 0;
	if (!total)
		return;
	r->ev = calloc(total, sizeof(*r->ev));
	if (!r->ev) {
		r->undecodable = true;
		return;
	}
	for (i = 0; i < total; i++) {
		const json_t *src = json_array_get(events, i);
		const json_t *kv = json_object_get(src, "kv");
		const char *type = json_string_value(json_object_get(src, "type"));
		struct bl_watch_event *ev = &r->ev[r->nev];

		if (!kv)
			continue;
		if (bl__jkv(&ev->kv, kv, true) < 0) {
			r->undecodable = true;
			return;
		}
		ev->type = type && !strcmp(type, "DELETE") ? BL_EV_DELETE : BL_EV_PUT;
		r->nev++;
	}
}

/* A gRPC-level failure of the stream (an {"error"} message, or an HTTP
 * error answer before the stream started). */
static void stream_failed(struct bl_wstream *s, int code, const char *msg)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	size_t ep = s->c.ep;

	stream_detach(s);
	bl__seterr(e, "watch on %s ended: %s (grpc status %d)",
		   e->eps[ep].hostport, msg && *msg ? msg : "no details", code);
	bl__watch_failed(w, ep, code, msg);
}

/* The connection ended or broke under a live watch: resume elsewhere. */
static void stream_lost(struct bl_wstream *s, const char *why)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	size_t ep = s->c.ep;

	bl__seterr(e, "watch on %s: %s", e->eps[ep].hostport, why);
	stream_detach(s);
	failover(e, ep);
	bl__watch_backoff(w);
}

static void handle_result(struct bl_wstream *s, const json_t *res)
{
	struct bl_watch_resp r = { 0 };

	r.created = json_is_true(json_object_get(res, "created"));
	r.canceled = json_is_true(json_object_get(res, "canceled"));
	r.cancel_reason = json_string_value(json_object_get(res, "cancel_reason"));
	r.rev = bl__jrev(res);
	r.compact_rev = bl__jint(res, "compact_revision");
	decode_events(json_object_get(res, "events"), &r);
	bl__watch_response(s->w, s, &r);
	free_events(r.ev, r.nev);
}

static void handle_line(struct bl_wstream *s, const char *p, size_t n)
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
static void handle_lines(struct bl_wstream *s)
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
static void stream_read(struct bl_wstream *s)
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
			char lost[256];

			stream_lost(s, rc == 0 ? "connection closed" :
				    bl__hconn_lost(&s->c, s->e->tls_on, lost, sizeof(lost)));
			break;
		}
	}
	s->busy = false;
	if (!s->w)
		stream_free(s);
}

/* ---- public ------------------------------------------------------------------*/

static void read_streams(struct bl_etcd *e)
{
	struct bl_watch *w;

	for (w = e->ws.list; w; w = w->next)
		if (!w->canceled && w->s)
			stream_read(w->s);
}

const struct bl_watch_ops bl__http_watch_ops = {
	.start = stream_start,
	.detach = stream_detach,
	.pump = read_streams,
	.failover = failover,
};
