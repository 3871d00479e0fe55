/*
 * etcd_conn.c - connection side of the etcd v3 client: endpoints, channels,
 * TLS, the completion-queue pump thread, the unary call loop and the
 * mapping of gRPC statuses to bollard error codes.
 *
 * Two completion queues per handle:
 *
 *   ucq (pluck) carries unary calls. The owner thread starts one batch with
 *   all six ops of a unary call and plucks exactly that tag; the call's own
 *   deadline bounds the wait, so a pluck never blocks past it. No thread
 *   switch and no allocation beyond the call itself: this is what makes
 *   1,000 sequential puts take well under a second.
 *
 *   scq (next) carries the long-lived watch streams. One pump thread runs
 *   grpc_completion_queue_next() on it and does nothing else: it links the
 *   completed batch (the tag is a struct bl_batch) into a mutex-protected
 *   list and writes the eventfd when the list goes from empty to non-empty.
 *   Everything else (parsing, callbacks, restarts) runs on the owner thread
 *   in bl_etcd_dispatch(), so the watch state has a single writer and user
 *   callbacks run where the user expects them.
 *
 * Failover: one channel per endpoint, created at open (channels connect
 * lazily). A unary call goes to e->cur; on UNAVAILABLE it moves to the next
 * endpoint, and after a full round of failures it sleeps with capped
 * exponential backoff (100 ms .. 2 s, bounded by the call's deadline). The
 * channels' own reconnect backoff is capped the same way through channel
 * args, so a restarted etcd is found again within ~2 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bl_err.h"
#include "etcd_internal.h"

gpr_timespec bl__deadline(int64_t at_ms)
{
	int64_t left = at_ms - bl__now_ms();

	if (left < 0)
		left = 0;
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			    gpr_time_from_millis(left, GPR_TIMESPAN));
}

void bl__seterr(struct bl_etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof(e->errmsg), fmt, ap);
	va_end(ap);
}

const char *bl_etcd_errmsg(const struct bl_etcd *e)
{
	return e ? e->errmsg : "";
}

int bl__status_rc(grpc_status_code st, const char *msg)
{
	return bl__code_rc((int)st, msg);
}

/* ---- endpoints and channels ---------------------------------------------*/

static char *read_file(const char *path, int *rc)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f) {
		*rc = -errno;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		*rc = -errno;
		goto out_close;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		*rc = -ENOMEM;
		goto out_close;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		*rc = -EIO;
		free(buf);
		buf = NULL;
		goto out_close;
	}
	buf[n] = '\0';
out_close:
	fclose(f);
	return buf;
}

/* One "host:port" of the endpoint list (bl__parse_endpoints) as a target. */
static int add_endpoint(struct bl_etcd *e, const char *p, size_t len)
{
	struct bl_ep *eps = realloc(e->eps, (e->neps + 1) * sizeof(*eps));

	if (!eps)
		return -ENOMEM;
	e->eps = eps;
	eps[e->neps].ch = NULL;
	eps[e->neps].target = strndup(p, len);
	if (!eps[e->neps].target)
		return -ENOMEM;
	e->neps++;
	return 0;
}

static int make_creds(struct bl_etcd *e, const struct bl_etcd_opts *o,
		      bool tls, grpc_channel_credentials **out)
{
	char *ca = NULL, *cert = NULL, *key = NULL;
	grpc_ssl_pem_key_cert_pair pair;
	int rc = 0;

	if (!tls) {
		*out = grpc_insecure_credentials_create();
		return *out ? 0 : -ENOMEM;
	}
	if (o->ca_file && !(ca = read_file(o->ca_file, &rc))) {
		bl__seterr(e, "%s: %s", o->ca_file, strerror(-rc));
		goto out_free;
	}
	if (!!o->cert_file != !!o->key_file) {
		bl__seterr(e, "a client certificate needs both cert_file and key_file");
		rc = -EINVAL;
		goto out_free;
	}
	if (o->cert_file) {
		if (!(cert = read_file(o->cert_file, &rc))) {
			bl__seterr(e, "%s: %s", o->cert_file, strerror(-rc));
			goto out_free;
		}
		if (!(key = read_file(o->key_file, &rc))) {
			bl__seterr(e, "%s: %s", o->key_file, strerror(-rc));
			goto out_free;
		}
		pair.private_key = key;
		pair.cert_chain = cert;
	}
	/* The PEM strings are copied by gRPC. NULL roots: gRPC's defaults. */
	*out = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
	if (!*out) {
		bl__seterr(e, "TLS credentials could not be created");
		rc = -EINVAL;
	}
out_free:
	free(ca);
	free(cert);
	free(key);
	return rc;
}

static int make_channels(struct bl_etcd *e, grpc_channel_credentials *creds)
{
	grpc_arg a[] = {
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		  .value.integer = BL_ETCD_MAX_RECV },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIME_MS,
		  .value.integer = BL_ETCD_KEEPALIVE_MS },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
		  .value.integer = BL_ETCD_KEEPALIVE_TIMEOUT_MS },
		/* etcd's enforcement policy refuses pings without streams. */
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
		  .value.integer = 0 },
		/* A quiet watch must keep being pinged, or a dead peer behind a
		 * silent network is never noticed. */
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA,
		  .value.integer = 0 },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
		  .value.integer = BL_ETCD_BACKOFF_MIN_MS },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
		  .value.integer = BL_ETCD_BACKOFF_MIN_MS },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
		  .value.integer = BL_ETCD_BACKOFF_MAX_MS },
		/* Handles are independent: no sharing of subchannels between
		 * two handles of one process (tests run rival writers). */
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
		  .value.integer = 1 },
		/* We do our own failover; gRPC's transparent retries would
		 * replay a Txn behind our back. */
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES,
		  .value.integer = 0 },
	};
	grpc_channel_args args = { .num_args = sizeof(a) / sizeof(a[0]), .args = a };
	size_t i;

	for (i = 0; i < e->neps; i++) {
		e->eps[i].ch = grpc_channel_create(e->eps[i].target, creds, &args);
		if (!e->eps[i].ch) {
			bl__seterr(e, "%s: channel could not be created",
				   e->eps[i].target);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- the pump thread ------------------------------------------------------*/

void bl__queue_push(struct bl_etcd *e, struct bl_batch *b)
{
	bool was_empty;
	uint64_t one = 1;

	b->next = NULL;
	pthread_mutex_lock(&e->lock);
	was_empty = !e->q_head;
	if (e->q_tail)
		e->q_tail->next = b;
	else
		e->q_head = b;
	e->q_tail = b;
	pthread_mutex_unlock(&e->lock);
	/* The owner reads the eventfd before taking the list, so one write
	 * per empty -> non-empty transition is never lost. */
	if (was_empty && write(e->evfd, &one, sizeof(one)) < 0) {
		/* eventfd counter overflow is impossible at 1 per write;
		 * nothing useful to do on EAGAIN. */
	}
}

struct bl_batch *bl__queue_take(struct bl_etcd *e)
{
	struct bl_batch *b;

	pthread_mutex_lock(&e->lock);
	b = e->q_head;
	e->q_head = e->q_tail = NULL;
	pthread_mutex_unlock(&e->lock);
	return b;
}

static void *pump_main(void *arg)
{
	struct bl_etcd *e = arg;

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(e->scq,
				gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		((struct bl_batch *)ev.tag)->ok = ev.success;
		bl__queue_push(e, ev.tag);
	}
	return NULL;
}

static int start_pump(struct bl_etcd *e)
{
	sigset_t all, old;
	int rc;

	/* The pump must never take the process's signals (SIGCHLD, SIGTERM
	 * handlers of the daemon run on the main thread). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&e->pump, NULL, pump_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		bl__seterr(e, "pthread_create: %s", strerror(rc));
		return -rc;
	}
	e->pump_started = true;
	return 0;
}

static int make_fds(struct bl_etcd *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	e->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->evfd < 0)
		return -errno;
	rc = bl__watches_init(&e->ws, &bl__grpc_watch_ops, e->user != NULL);
	if (rc < 0)
		return rc;
	ev.data.fd = e->evfd;
	if (epoll_ctl(e->ws.epfd, EPOLL_CTL_ADD, e->evfd, &ev) < 0)
		return -errno;
	return 0;
}

struct bl_watches *bl__watches(struct bl_etcd *e)
{
	return &e->ws;
}

/* ---- open / close ----------------------------------------------------------*/

static void free_handle(struct bl_etcd *e)
{
	size_t i;

	if (e->pump_started) {
		grpc_completion_queue_shutdown(e->scq);
		pthread_join(e->pump, NULL);
	}
	if (e->scq) {
		if (!e->pump_started)
			grpc_completion_queue_shutdown(e->scq);
		grpc_completion_queue_destroy(e->scq);
	}
	if (e->ucq) {
		grpc_completion_queue_shutdown(e->ucq);
		/* Every unary batch was plucked; this only sees SHUTDOWN. */
		grpc_completion_queue_pluck(e->ucq, e,
					    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		grpc_completion_queue_destroy(e->ucq);
	}
	for (i = 0; i < e->neps; i++) {
		if (e->eps[i].ch)
			grpc_channel_destroy(e->eps[i].ch);
		free(e->eps[i].target);
	}
	free(e->eps);
	bl__watches_fini(&e->ws);
	if (e->evfd >= 0)
		close(e->evfd);
	pthread_mutex_destroy(&e->lock);
	bl__creds_free(e->user, e->password, e->token);
	free(e);
	grpc_shutdown();
}

int bl_etcd_open(const struct bl_etcd_opts *o, struct bl_etcd **out)
{
	grpc_channel_credentials *creds = NULL;
	struct bl_etcd *e;
	bool tls = false;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->evfd = e->ws.tfd = e->ws.epfd = -1;
	pthread_mutex_init(&e->lock, NULL);
	grpc_init();                   /* refcounted; undone in free_handle */
	e->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;

	rc = bl__parse_endpoints(e, o->endpoints, add_endpoint, &tls);
	if (rc < 0)
		goto out_free;
	rc = bl__creds_copy(o, &e->user, &e->password);
	if (rc < 0)
		goto out_free;
	rc = make_creds(e, o, tls, &creds);
	if (rc < 0)
		goto out_free;
	rc = make_channels(e, creds);
	grpc_channel_credentials_release(creds);
	if (rc < 0)
		goto out_free;
	rc = make_fds(e);
	if (rc < 0) {
		bl__seterr(e, "eventfd/timerfd/epoll: %s", strerror(-rc));
		goto out_free;
	}
	e->ucq = grpc_completion_queue_create_for_pluck(NULL);
	e->scq = grpc_completion_queue_create_for_next(NULL);
	if (!e->ucq || !e->scq) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = start_pump(e);
	if (rc < 0)
		goto out_free;
	*out = e;
	return 0;

out_free:
	/* The caller never gets this handle to ask errmsg of. */
	if (o->errbuf && o->errlen)
		snprintf(o->errbuf, o->errlen, "%s", bl_etcd_errmsg(e));
	free_handle(e);
	return rc;
}

void bl_etcd_close(struct bl_etcd *e)
{
	if (!e)
		return;
	/* Cancel every stream and collect all of its batches first: gRPC
	 * requires each started batch to be seen on the queue before the
	 * queue is shut down. */
	bl__watches_close(e);
	free_handle(e);
}

/* ---- unary calls -----------------------------------------------------------*/

grpc_slice bl__bb_slice(grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader r;
	grpc_slice s;

	if (!grpc_byte_buffer_reader_init(&r, bb))
		return grpc_empty_slice();
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	return s;
}

grpc_byte_buffer *bl__pack(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	grpc_slice s = grpc_slice_malloc(n);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

size_t bl__auth_md(struct bl_etcd *e, grpc_metadata *md)
{
	if (!e->token)
		return 0;
	md->key = grpc_slice_from_static_string("token");
	md->value = grpc_slice_from_copied_string(e->token);
	return 1;
}

void bl__drop_token(struct bl_etcd *e)
{
	free(e->token);
	e->token = NULL;
}

struct call_result {
	grpc_status_code status;
	char details[256];
	grpc_slice body;               /* response message; empty if none */
};

/*
 * One attempt on one endpoint: a single batch with all six ops, plucked.
 * Returns 0 when a status was received (in r), negative when the call
 * could not even be started.
 */
static int call_once(struct bl_etcd *e, size_t ep, const char *method,
		     grpc_byte_buffer *req, int64_t deadline_ms, bool with_token,
		     struct call_result *r)
{
	grpc_metadata md[1];
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *resp = NULL;
	grpc_slice details = grpc_empty_slice();
	grpc_op ops[6];
	grpc_call *call;
	grpc_call_error err;
	grpc_event ev;
	size_t nmd = with_token ? bl__auth_md(e, md) : 0;
	int tag;

	memset(ops, 0, sizeof(ops));
	grpc_metadata_array_init(&init_md);
	grpc_metadata_array_init(&trail_md);
	call = grpc_channel_create_call(e->eps[ep].ch, NULL, GRPC_PROPAGATE_DEFAULTS,
					e->ucq, grpc_slice_from_static_string(method),
					NULL, bl__deadline(deadline_ms), NULL);
	if (!call) {
		bl__seterr(e, "%s: call could not be created", method);
		return -ENOMEM;
	}
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = nmd;
	ops[0].data.send_initial_metadata.metadata = nmd ? md : NULL;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = req;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &resp;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
	ops[5].data.recv_status_on_client.status = &r->status;
	ops[5].data.recv_status_on_client.status_details = &details;
	err = grpc_call_start_batch(call, ops, 6, &tag, NULL);
	if (err != GRPC_CALL_OK) {
		bl__seterr(e, "%s: grpc_call_start_batch: %d", method, (int)err);
		grpc_call_unref(call);
		if (nmd)
			grpc_slice_unref(md[0].value);
		return -EIO;
	}
	/* Bounded by the call's deadline: gRPC completes the batch with
	 * DEADLINE_EXCEEDED at the latest then. */
	ev = grpc_completion_queue_pluck(e->ucq, &tag,
					 gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	(void)ev;
	r->body = resp ? bl__bb_slice(resp) : grpc_empty_slice();
	if (resp)
		grpc_byte_buffer_destroy(resp);
	snprintf(r->details, sizeof(r->details), "%.*s",
		 (int)GRPC_SLICE_LENGTH(details),
		 (const char *)GRPC_SLICE_START_PTR(details));
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&init_md);
	grpc_metadata_array_destroy(&trail_md);
	grpc_call_unref(call);
	if (nmd)
		grpc_slice_unref(md[0].value);
	return 0;
}

/*
 * The retry loop shared by every unary RPC. with_token is false only for
 * Authenticate itself. A status of UNAVAILABLE moves to the next endpoint;
 * UNAUTHENTICATED (token expired, or etcd restarted and forgot it) fetches
 * a new token once.
 */
static int unary_loop(struct bl_etcd *e, const char *method,
		      grpc_slice req, int64_t deadline_ms, bool with_token,
		      const ProtobufCMessageDescriptor *resp_desc,
		      ProtobufCMessage **resp)
{
	int backoff = BL_ETCD_BACKOFF_MIN_MS;
	size_t failed_in_round = 0;
	bool reauthed = false;
	int rc;

	for (;;) {
		struct call_result r = { 0 };
		size_t ep = e->cur;
		grpc_byte_buffer *bb;

		if (with_token && e->user && !e->token) {
			rc = bl__ensure_token(e, deadline_ms);
			if (rc < 0)
				return rc;
		}
		bb = grpc_raw_byte_buffer_create(&req, 1);
		if (!bb)
			return -ENOMEM;
		rc = call_once(e, ep, method, bb, deadline_ms, with_token, &r);
		grpc_byte_buffer_destroy(bb);
		if (rc < 0)
			return rc;
		if (r.status == GRPC_STATUS_OK) {
			*resp = protobuf_c_message_unpack(resp_desc, NULL,
					GRPC_SLICE_LENGTH(r.body),
					GRPC_SLICE_START_PTR(r.body));
			grpc_slice_unref(r.body);
			if (!*resp) {
				bl__seterr(e, "%s: undecodable response", method);
				return BL_E_PROTO;
			}
			return 0;
		}
		grpc_slice_unref(r.body);
		bl__seterr(e, "%s on %s: %s (grpc status %d)", method,
			   e->eps[ep].target, r.details[0] ? r.details : "no details",
			   (int)r.status);
		if (r.status == GRPC_STATUS_UNAUTHENTICATED && e->user &&
		    with_token && !reauthed) {
			reauthed = true;
			bl__drop_token(e);
			continue;
		}
		if (r.status != GRPC_STATUS_UNAVAILABLE)
			return bl__status_rc(r.status, r.details);
		/* UNAVAILABLE: try the next endpoint; after a whole round of
		 * failures, back off (never past the deadline). */
		e->cur = (ep + 1) % e->neps;
		if (++failed_in_round >= e->neps) {
			failed_in_round = 0;
			if (bl__now_ms() >= deadline_ms)
				return BL_E_UNAVAILABLE;
			bl__backoff_sleep(&backoff, deadline_ms);
		}
		if (bl__now_ms() >= deadline_ms)
			return BL_E_UNAVAILABLE;
	}
}

int bl__ensure_token(struct bl_etcd *e, int64_t deadline_ms)
{
	Etcdserverpb__AuthenticateRequest req = ETCDSERVERPB__AUTHENTICATE_REQUEST__INIT;
	Etcdserverpb__AuthenticateResponse *resp = NULL;
	grpc_slice s;
	size_t n;
	int rc;

	if (!e->user || e->token)
		return 0;
	req.name = e->user;
	req.password = e->password;
	n = etcdserverpb__authenticate_request__get_packed_size(&req);
	s = grpc_slice_malloc(n);
	etcdserverpb__authenticate_request__pack(&req, GRPC_SLICE_START_PTR(s));
	rc = unary_loop(e, "/etcdserverpb.Auth/Authenticate", s, deadline_ms,
			false, &etcdserverpb__authenticate_response__descriptor,
			(ProtobufCMessage **)&resp);
	grpc_slice_unref(s);
	if (rc < 0) {
		/* Any refusal of Authenticate itself is an auth failure. */
		if (rc == BL_E_ETCD)
			rc = BL_E_AUTH;
		return rc;
	}
	e->token = strdup(resp->token ? resp->token : "");
	etcdserverpb__authenticate_response__free_unpacked(resp, NULL);
	return e->token ? 0 : -ENOMEM;
}

int bl__unary(struct bl_etcd *e, const char *method,
	      const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *resp_desc,
	      ProtobufCMessage **resp)
{
	size_t n = protobuf_c_message_get_packed_size(req);
	grpc_slice s = grpc_slice_malloc(n);
	int rc;

	*resp = NULL;
	protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(s));
	rc = unary_loop(e, method, s, bl__now_ms() + e->timeout_ms, true,
			resp_desc, resp);
	grpc_slice_unref(s);
	return rc;
}
