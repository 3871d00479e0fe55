/*
 * etcd_watch.c - watches: one Watch RPC (stream) per bl_watch, driven from
 * the owner thread in bl_etcd_dispatch().
 *
 * Life of a watch:
 *
 *   start  a stream is opened with three batches: RECV_STATUS_ON_CLIENT
 *          (completes when the call ends), SEND_INITIAL_METADATA together
 *          with the create request (etcd sends its headers only with its
 *          first reply, so waiting for headers before sending would hang),
 *          and RECV_INITIAL_METADATA + RECV_MESSAGE. After each message a
 *          new RECV_MESSAGE batch is started.
 *
 *   events each response is split into runs of one mod_revision and handed
 *          to the callback; next_rev becomes that revision + 1. A watch
 *          from "now" takes next_rev from the created response's header,
 *          and progress notifications (requested) move it up on a quiet
 *          watch.
 *
 *   failure the status batch completes (UNAVAILABLE when etcd dies, or the
 *          member loses its leader: we send "hasleader: true"). The watch is
 *          re-created from next_rev after a capped backoff (100 ms .. 2 s)
 *          on the next endpoint, so nothing is lost or repeated. The backoff
 *          is a timerfd in the handle's epoll set: the owner's poll loop
 *          wakes for it like for an event.
 *
 *   compaction etcd answers a watch whose start revision is compacted with
 *          created, then canceled + compact_revision. The history is gone:
 *          the resync callback re-lists and returns the listing's revision
 *          R; the watch resumes from R + 1. Without a resync callback the
 *          watch ends with BL_E_COMPACTED.
 *
 *   auth   a watch refused for a stale token arrives as created+canceled
 *          ("permission denied"): the token is dropped and fetched again
 *          once before the refusal is taken as final (BL_E_AUTH).
 *
 * Streams outlive their watch when needed: cancelling a watch detaches its
 * stream and cancels the call; the stream is freed only when all of its
 * batches have come back through the queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bl_err.h"
#include "etcd_internal.h"

#define WATCH_METHOD "/etcdserverpb.Watch/Watch"

static void schedule_retry(struct bl_watch *w, int delay_ms);

/* ---- streams ------------------------------------------------------------*/

static void stream_free(struct bl_etcd *e, struct bl_stream *s)
{
	struct bl_stream **pp;
	size_t i;

	for (pp = &e->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->call)
		grpc_call_unref(s->call);
	if (s->send_buf)
		grpc_byte_buffer_destroy(s->send_buf);
	if (s->recv_buf)
		grpc_byte_buffer_destroy(s->recv_buf);
	grpc_metadata_array_destroy(&s->init_md);
	grpc_metadata_array_destroy(&s->trail_md);
	grpc_slice_unref(s->details);
	for (i = 0; i < s->nmd; i++)
		grpc_slice_unref(s->md[i].value);
	free(s);
}

/* Separate a stream from its watch and end the call. */
static void stream_detach(struct bl_stream *s)
{
	if (!s || !s->w)
		return;
	s->w->s = NULL;
	s->w = NULL;
	grpc_call_cancel(s->call, NULL);
}

static int start_recv(struct bl_stream *s, bool first)
{
	grpc_op ops[2];
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	if (first) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n].data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
		n++;
	}
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n].data.recv_message.recv_message = &s->recv_buf;
	n++;
	if (grpc_call_start_batch(s->call, ops, n, &s->b_recv, NULL) != GRPC_CALL_OK)
		return -EIO;
	s->pending++;
	return 0;
}

static int stream_start(struct bl_watch *w)
{
	Etcdserverpb__WatchCreateRequest c = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	Etcdserverpb__WatchRequest r = ETCDSERVERPB__WATCH_REQUEST__INIT;
	struct bl_etcd *e = w->e;
	struct bl_stream *s;
	grpc_op ops[2];
	int64_t auth_deadline;
	int rc;

	/* Bounded short: this runs in the owner's event loop. */
	auth_deadline = bl__now_ms() + (e->timeout_ms < 1000 ? e->timeout_ms : 1000);
	rc = bl__ensure_token(e, auth_deadline);
	if (rc < 0)
		return rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->e = e;
	s->ep = e->cur;
	s->details = grpc_empty_slice();
	grpc_metadata_array_init(&s->init_md);
	grpc_metadata_array_init(&s->trail_md);
	s->b_send = (struct bl_batch){ .s = s, .kind = BL_B_SEND };
	s->b_recv = (struct bl_batch){ .s = s, .kind = BL_B_RECV };
	s->b_status = (struct bl_batch){ .s = s, .kind = BL_B_STATUS };
	s->call = grpc_channel_create_call(e->eps[s->ep].ch, NULL,
			GRPC_PROPAGATE_DEFAULTS, e->scq,
			grpc_slice_from_static_string(WATCH_METHOD), NULL,
			gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (!s->call) {
		stream_free(e, s);
		return -ENOMEM;
	}

	c.key.data = w->key;
	c.key.len = w->key_len;
	if (w->end) {
		c.range_end.data = w->end;
		c.range_end.len = w->end_len;
	}
	c.start_revision = w->next_rev;
	/* Ask for progress notifications (etcd sends them every 10 min by
	 * default on a quiet watch); see handle_msg(). */
	c.progress_notify = 1;
	r.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	r.create_request = &c;
	s->send_buf = bl__pack(&r.base);
	if (!s->send_buf) {
		stream_free(e, s);
		return -ENOMEM;
	}
	s->nmd = bl__auth_md(e, s->md);
	/* Make the member end the stream when it loses its leader, instead of
	 * leaving us on a partitioned node that will never send events. */
	s->md[s->nmd].key = grpc_slice_from_static_string("hasleader");
	s->md[s->nmd].value = grpc_slice_from_static_string("true");
	s->nmd++;

	s->next = e->streams;
	e->streams = s;
	s->w = w;
	w->s = s;

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &s->trail_md;
	ops[0].data.recv_status_on_client.status = &s->status;
	ops[0].data.recv_status_on_client.status_details = &s->details;
	if (grpc_call_start_batch(s->call, ops, 1, &s->b_status, NULL) != GRPC_CALL_OK)
		goto out_fail;
	s->pending++;

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = s->nmd;
	ops[0].data.send_initial_metadata.metadata = s->md;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = s->send_buf;
	if (grpc_call_start_batch(s->call, ops, 2, &s->b_send, NULL) != GRPC_CALL_OK)
		goto out_fail;
	s->pending++;

	if (start_recv(s, true) < 0)
		goto out_fail;
	return 0;

out_fail:
	bl__seterr(e, "watch: grpc_call_start_batch failed");
	stream_detach(s);
	if (!s->pending)
		stream_free(e, s);
	return -EIO;
}

/* ---- timers -------------------------------------------------------------*/

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

/* The watch is over for good: tell the owner once. */
static void watch_end(struct bl_watch *w, int err)
{
	struct bl_etcd *e = w->e;

	stream_detach(w->s);
	w->retry_at = 0;
	if (w->ended || w->canceled)
		return;
	w->ended = true;
	w->cb(w->arg, NULL, 0, 0, err);
	e->ncallbacks++;
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

/* ---- responses ------------------------------------------------------------*/

/*
 * Hand the events of one response to the callback, one run of equal
 * mod_revision at a time. Keys and values are copied NUL-terminated into
 * one buffer that lives for the duration of the callbacks.
 */
static void deliver(struct bl_watch *w, struct bl_stream *s,
		    const Etcdserverpb__WatchResponse *resp)
{
	struct bl_etcd *e = w->e;
	struct bl_watch_event *ev;
	size_t i, j, n = 0, bytes = 0;
	char *buf, *p;

	for (i = 0; i < resp->n_events; i++) {
		const Mvccpb__KeyValue *kv = resp->events[i]->kv;
		if (!kv || kv->mod_revision < w->next_rev)
			continue;      /* already delivered before a resume */
		bytes += kv->key.len + kv->value.len + 2;
		n++;
	}
	if (!n)
		return;
	ev = calloc(n, sizeof(*ev));
	buf = malloc(bytes);
	if (!ev || !buf) {
		free(ev);
		free(buf);
		/* Undeliverable: restart the stream from the same revision
		 * rather than skip events. */
		stream_detach(s);
		backoff_retry(w);
		return;
	}
	p = buf;
	for (i = 0, j = 0; i < resp->n_events; i++) {
		const Mvccpb__Event *src = resp->events[i];
		const Mvccpb__KeyValue *kv = src->kv;
		struct bl_kv *d;

		if (!kv || kv->mod_revision < w->next_rev)
			continue;
		d = &ev[j].kv;
		ev[j].type = src->type == MVCCPB__EVENT__EVENT_TYPE__DELETE ?
			     BL_EV_DELETE : BL_EV_PUT;
		d->key = p;
		memcpy(p, kv->key.data, kv->key.len);
		p[kv->key.len] = '\0';
		d->key_len = kv->key.len;
		p += kv->key.len + 1;
		d->value = p;
		if (kv->value.len)
			memcpy(p, kv->value.data, kv->value.len);
		p[kv->value.len] = '\0';
		d->value_len = kv->value.len;
		p += kv->value.len + 1;
		d->create_revision = kv->create_revision;
		d->mod_revision = kv->mod_revision;
		d->version = kv->version;
		d->lease = kv->lease;
		j++;
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
	free(ev);
	free(buf);
}

static bool auth_reason(const char *r)
{
	return r && (strstr(r, "permission denied") || strstr(r, "auth") ||
		     strstr(r, "token") || strstr(r, "user name"));
}

static void handle_msg(struct bl_stream *s, grpc_byte_buffer *bb)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	Etcdserverpb__WatchResponse *resp;
	grpc_slice sl = bl__bb_slice(bb);

	resp = etcdserverpb__watch_response__unpack(NULL, GRPC_SLICE_LENGTH(sl),
						    GRPC_SLICE_START_PTR(sl));
	grpc_slice_unref(sl);
	if (!resp) {
		bl__seterr(e, "watch: undecodable response");
		stream_detach(s);
		backoff_retry(w);
		return;
	}
	if (resp->created && !resp->canceled) {
		w->backoff_ms = BL_ETCD_BACKOFF_MIN_MS;
		w->auth_retries = 0;
		if (!w->next_rev && resp->header)
			w->next_rev = resp->header->revision + 1;
	}
	if (resp->n_events) {
		deliver(w, s, resp);
	} else if (!resp->created && !resp->canceled && resp->header &&
		   w->next_rev && resp->header->revision >= w->next_rev) {
		/* A progress notification: etcd promises every later event
		 * of this stream is above header.revision. Moving the resume
		 * point up means a quiet watch that reconnects after the rest
		 * of the store was compacted resumes instead of re-listing. */
		w->next_rev = resp->header->revision + 1;
	}
	if (w->s != s)
		goto out_free;         /* cancelled from a callback */
	if (resp->compact_revision > 0) {
		stream_detach(s);
		bl__seterr(e, "watch from revision %lld: compacted at %lld",
			   (long long)w->next_rev, (long long)resp->compact_revision);
		if (!w->resync) {
			watch_end(w, BL_E_COMPACTED);
		} else {
			w->need_resync = true;
			schedule_retry(w, 0);
		}
	} else if (resp->canceled) {
		const char *why = resp->cancel_reason ? resp->cancel_reason : "";

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
out_free:
	etcdserverpb__watch_response__free_unpacked(resp, NULL);
}

/* The call ended while still attached to its watch. */
static void stream_ended(struct bl_stream *s)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	char msg[256];

	snprintf(msg, sizeof(msg), "%.*s", (int)GRPC_SLICE_LENGTH(s->details),
		 (const char *)GRPC_SLICE_START_PTR(s->details));
	stream_detach(s);
	bl__seterr(e, "watch on %s ended: %s (grpc status %d)",
		   e->eps[s->ep].target, msg[0] ? msg : "no details", (int)s->status);
	switch (s->status) {
	case GRPC_STATUS_UNAUTHENTICATED:
		if (e->user && w->auth_retries < 1) {
			w->auth_retries++;
			bl__drop_token(e);
			schedule_retry(w, 0);
			return;
		}
		/* fall through */
	case GRPC_STATUS_PERMISSION_DENIED:
	case GRPC_STATUS_INVALID_ARGUMENT:
	case GRPC_STATUS_UNIMPLEMENTED:
	case GRPC_STATUS_NOT_FOUND:
		watch_end(w, bl__status_rc(s->status, msg));
		return;
	case GRPC_STATUS_UNAVAILABLE:
		if (e->cur == s->ep)
			e->cur = (s->ep + 1) % e->neps;
		/* fall through */
	default:
		backoff_retry(w);
		return;
	}
}

void bl__batch_done(struct bl_etcd *e, struct bl_batch *b)
{
	struct bl_stream *s = b->s;
	grpc_byte_buffer *bb;

	s->pending--;
	switch (b->kind) {
	case BL_B_SEND:
		grpc_byte_buffer_destroy(s->send_buf);
		s->send_buf = NULL;
		break;
	case BL_B_RECV:
		bb = s->recv_buf;
		s->recv_buf = NULL;
		if (!bb)
			break;         /* end of stream; the status follows */
		if (s->w)
			handle_msg(s, bb);
		grpc_byte_buffer_destroy(bb);
		if (s->w && start_recv(s, false) < 0) {
			struct bl_watch *w = s->w;
			stream_detach(s);
			backoff_retry(w);
		}
		break;
	case BL_B_STATUS:
		if (s->w)
			stream_ended(s);
		break;
	}
	if (!s->pending)
		stream_free(e, s);
}

/* ---- public ---------------------------------------------------------------*/

static void watch_free(struct bl_watch *w)
{
	free(w->key);
	free(w->end);
	free(w);
}

/* Free the watches cancelled while callbacks were running. */
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
	rc = stream_start(w);
	if (rc < 0 && !transient_start_error(rc)) {
		watch_free(w);
		return rc;
	}
	w->next = e->watches;
	e->watches = w;
	if (rc < 0)
		backoff_retry(w);  /* etcd unreachable now: keep trying */
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

/* Handle every queued completion; the batch may free its stream. */
static void drain_queue(struct bl_etcd *e)
{
	struct bl_batch *b, *next;
	uint64_t n;

	if (read(e->evfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled; the list may still hold some. */
	}
	for (b = bl__queue_take(e); b; b = next) {
		next = b->next;
		bl__batch_done(e, b);
	}
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

		drain_queue(e);
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
	/* Collect every outstanding batch: detached streams free themselves
	 * when their last batch comes back. Cancelled calls complete
	 * promptly, so this does not wait on the network. */
	while (e->streams) {
		struct pollfd p = { .fd = e->evfd, .events = POLLIN };
		poll(&p, 1, 1000);
		drain_queue(e);
	}
}
