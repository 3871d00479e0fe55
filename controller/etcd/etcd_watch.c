/*
 * etcd_watch.c - watches: one Watch RPC (stream) per bl_watch, driven from
 * the owner thread in bl_etcd_dispatch().
 *
 * What a watch is (resume points, runs of one revision, progress
 * notifications, compaction and resync, a stale token, the retry timer)
 * is etcd_common.c's, shared with the gateway transport. This file opens
 * and ends the streams and turns what comes back into
 * bl__watch_response() and bl__watch_failed() calls:
 *
 *   start  a stream is opened with three batches: RECV_STATUS_ON_CLIENT
 *          (completes when the call ends), SEND_INITIAL_METADATA together
 *          with the create request (etcd sends its headers only with its
 *          first reply, so waiting for headers before sending would hang),
 *          and RECV_INITIAL_METADATA + RECV_MESSAGE. After each message a
 *          new RECV_MESSAGE batch is started. "hasleader: true" makes a
 *          member that loses its leader end the stream (UNAVAILABLE).
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

/* ---- streams ------------------------------------------------------------*/

static void stream_free(struct bl_etcd *e, struct bl_wstream *s)
{
	struct bl_wstream **pp;
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
static void stream_detach(struct bl_wstream *s)
{
	if (!s || !s->w)
		return;
	s->w->s = NULL;
	s->w = NULL;
	grpc_call_cancel(s->call, NULL);
}

static int start_recv(struct bl_wstream *s, bool first)
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
	struct bl_wstream *s;
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

/* ---- responses ------------------------------------------------------------*/

/*
 * Decode a response's events for bl__watch_response(): keys and values are
 * copied NUL-terminated into one buffer that lives for the duration of the
 * callbacks. *buf NULL with events present: out of memory.
 */
static void decode_events(const Etcdserverpb__WatchResponse *resp,
			  struct bl_watch_resp *r, char **buf)
{
	struct bl_watch_event *ev;
	size_t i, n = 0, bytes = 0;
	char *p;

	*buf = NULL;
	r->has_events = resp->n_events > 0;
	for (i = 0; i < resp->n_events; i++) {
		const Mvccpb__KeyValue *kv = resp->events[i]->kv;
		if (!kv)
			continue;
		bytes += kv->key.len + kv->value.len + 2;
		n++;
	}
	if (!n)
		return;
	ev = calloc(n, sizeof(*ev));
	p = *buf = malloc(bytes);
	if (!ev || !p) {
		free(ev);
		free(p);
		*buf = NULL;
		r->undecodable = true;
		return;
	}
	for (i = 0, n = 0; i < resp->n_events; i++) {
		const Mvccpb__Event *src = resp->events[i];
		const Mvccpb__KeyValue *kv = src->kv;
		struct bl_kv *d;

		if (!kv)
			continue;
		d = &ev[n].kv;
		ev[n].type = src->type == MVCCPB__EVENT__EVENT_TYPE__DELETE ?
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
		n++;
	}
	r->ev = ev;
	r->nev = n;
}

static void handle_msg(struct bl_wstream *s, grpc_byte_buffer *bb)
{
	struct bl_watch_resp r = { 0 };
	Etcdserverpb__WatchResponse *resp;
	grpc_slice sl = bl__bb_slice(bb);
	char *buf;

	resp = etcdserverpb__watch_response__unpack(NULL, GRPC_SLICE_LENGTH(sl),
						    GRPC_SLICE_START_PTR(sl));
	grpc_slice_unref(sl);
	if (!resp) {
		struct bl_watch *w = s->w;

		bl__seterr(s->e, "watch: undecodable response");
		stream_detach(s);
		bl__watch_backoff(w);
		return;
	}
	r.created = resp->created;
	r.canceled = resp->canceled;
	r.cancel_reason = resp->cancel_reason;
	r.rev = resp->header ? resp->header->revision : 0;
	r.compact_rev = resp->compact_revision;
	decode_events(resp, &r, &buf);
	bl__watch_response(s->w, s, &r);
	free(r.ev);
	free(buf);
	etcdserverpb__watch_response__free_unpacked(resp, NULL);
}

/* The call ended while still attached to its watch. */
static void stream_ended(struct bl_wstream *s)
{
	struct bl_watch *w = s->w;
	struct bl_etcd *e = s->e;
	char msg[256];

	snprintf(msg, sizeof(msg), "%.*s", (int)GRPC_SLICE_LENGTH(s->details),
		 (const char *)GRPC_SLICE_START_PTR(s->details));
	stream_detach(s);
	bl__seterr(e, "watch on %s ended: %s (grpc status %d)",
		   e->eps[s->ep].target, msg[0] ? msg : "no details", (int)s->status);
	bl__watch_failed(w, s->ep, (int)s->status, msg);
}

void bl__batch_done(struct bl_etcd *e, struct bl_batch *b)
{
	struct bl_wstream *s = b->s;
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
			bl__watch_backoff(w);
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

static void failover(struct bl_etcd *e, size_t ep)
{
	if (e->cur == ep)
		e->cur = (ep + 1) % e->neps;
}

const struct bl_watch_ops bl__grpc_watch_ops = {
	.start = stream_start,
	.detach = stream_detach,
	.pump = drain_queue,
	.failover = failover,
};

void bl__watches_close(struct bl_etcd *e)
{
	bl__watches_cancel_all(&e->ws);
	/* Collect every outstanding batch: detached streams free themselves
	 * when their last batch comes back. Cancelled calls complete
	 * promptly, so this does not wait on the network. */
	while (e->streams) {
		struct pollfd p = { .fd = e->evfd, .events = POLLIN };
		poll(&p, 1, 1000);
		drain_queue(e);
	}
}
