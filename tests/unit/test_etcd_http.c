/*
 * test_etcd_http.c - what is specific to the JSON gateway transport
 * (controller/etcd/http/), against a real etcd reached through a small
 * TCP relay this test runs in a thread. The relay forwards bytes
 * unchanged; it can dribble etcd's answers one byte at a time and can be
 * shut (listener and every connection closed), which is how these tests
 * get at what the shared test_etcd_* suites cannot:
 *
 *   - keep-alive: many calls use one TCP connection (the relay counts
 *     accepted connections);
 *   - HTTP framing: Content-Length bodies and the chunked watch stream cut
 *     at every byte boundary, with binary keys/values (base64);
 *   - failover: endpoints "relayA,relayB"; relay A dies under a kept
 *     connection and a live watch; calls and the watch go on through B,
 *     the watch with every event exactly once.
 *
 * The other behaviour (auth tokens, TLS, deadlines, compaction, restarts)
 * is covered by the shared suites, built as test_etcd_*_http.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_err.h"
#include "bl_etcd.h"
#include "etcd_proc.h"

#define RELAY_MAX 16

struct relay {
	int lfd;
	int port;
	int up_port;
	int stop[2];
	bool dribble;                  /* upstream -> client one byte a time */
	pthread_t th;
	bool running;
	pthread_mutex_t lock;
	int accepts;
	int cfd[RELAY_MAX], ufd[RELAY_MAX];
	int n;
};

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Forward what from has to to; false when from is done. */
static bool pump(int from, int to, bool dribble)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf)), i;

	if (n <= 0)
		return false;
	if (!dribble)
		return write(to, buf, (size_t)n) == n;
	for (i = 0; i < n; i++) {
		struct timespec ts = { 0, 50000 };
		if (write(to, buf + i, 1) != 1)
			return false;
		nanosleep(&ts, NULL);  /* one byte per segment */
	}
	return true;
}

static void drop_pair(struct relay *r, int i)
{
	close(r->cfd[i]);
	close(r->ufd[i]);
	r->n--;
	r->cfd[i] = r->cfd[r->n];
	r->ufd[i] = r->ufd[r->n];
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		struct pollfd p[2 + 2 * RELAY_MAX];
		int i, np = 0;

		p[np++] = (struct pollfd){ .fd = r->stop[0], .events = POLLIN };
		p[np++] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
		for (i = 0; i < r->n; i++) {
			p[np++] = (struct pollfd){ .fd = r->cfd[i], .events = POLLIN };
			p[np++] = (struct pollfd){ .fd = r->ufd[i], .events = POLLIN };
		}
		if (poll(p, (nfds_t)np, -1) < 0)
			continue;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			int c = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC), u;
			if (c >= 0) {
				u = connect_port(r->up_port);
				if (u < 0 || r->n >= RELAY_MAX) {
					close(c);
					if (u >= 0)
						close(u);
				} else {
					int one = 1;
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					pthread_mutex_lock(&r->lock);
					r->accepts++;
					pthread_mutex_unlock(&r->lock);
					r->cfd[r->n] = c;
					r->ufd[r->n] = u;
					r->n++;
				}
			}
		}
		/* Pairs were polled in order; a drop moves the last pair into
		 * the hole, so go backwards. */
		for (i = (np - 2) / 2 - 1; i >= 0; i--) {
			short cr = p[2 + 2 * i].revents, ur = p[3 + 2 * i].revents;
			bool ok = true;

			if (i >= r->n)
				continue;
			if (cr)
				ok = pump(r->cfd[i], r->ufd[i], false);
			if (ok && ur)
				ok = pump(r->ufd[i], r->cfd[i], r->dribble);
			if (!ok)
				drop_pair(r, i);
		}
	}
	while (r->n)
		drop_pair(r, 0);
	close(r->lfd);
	r->lfd = -1;
	return NULL;
}

static int relay_start(struct relay *r, int up_port, bool dribble)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->up_port = up_port;
	r->dribble = dribble;
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(r->lfd, 16) < 0 ||
	    getsockname(r->lfd, (struct sockaddr *)&a, &al) < 0 || pipe(r->stop) < 0)
		return -errno;
	r->port = ntohs(a.sin_port);
	if (pthread_create(&r->th, NULL, relay_main, r))
		return -EAGAIN;
	r->running = true;
	return 0;
}

/* Close the listener and every relayed connection (a dead member). */
static void relay_stop(struct relay *r)
{
	if (!r->running)
		return;
	if (write(r->stop[1], "x", 1) != 1)
		fail_msg("relay stop pipe");
	pthread_join(r->th, NULL);
	close(r->stop[0]);
	close(r->stop[1]);
	r->running = false;
}

static int relay_accepts(struct relay *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->accepts;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* ---- fixture ----------------------------------------------------------------*/

struct fx {
	struct etcd_proc ep;
	struct relay a, b;
	bool started;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || etcd_proc_start(&f->ep, NULL) < 0) {
		fprintf(stderr, "cannot start etcd (etcd-server installed?)\n");
		free(f);
		return -1;
	}
	f->started = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	relay_stop(&f->a);
	relay_stop(&f->b);
	if (f->started)
		etcd_proc_cleanup(&f->ep);
	free(f);
	return 0;
}

static struct bl_etcd *open_url(const char *url, int timeout_ms)
{
	struct bl_etcd_opts o = { .endpoints = url, .timeout_ms = timeout_ms };
	struct bl_etcd *e = NULL;
	int rc = bl_etcd_open(&o, &e);

	if (rc)
		fail_msg("open %s: %s", url, bl_strerror(rc));
	return e;
}

#define OK(x) do { int rc_ = (x); if (rc_) fail_msg("%s: %s", #x, bl_strerror(rc_)); } while (0)

/* ---- tests --------------------------------------------------------------------*/

/* Every unary call of a handle shares one kept-alive connection. */
static void test_keepalive(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e;
	char url[64], k[32];
	int i;

	assert_int_equal(relay_start(&f->a, f->ep.client_port, false), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->a.port);
	e = open_url(url, 3000);
	for (i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "/ka/%02d", i);
		OK(bl_etcd_put(e, k, "v", 1, 0, NULL));
		OK(bl_etcd_get(e, k, false, 0, 0, false, &kvs));
		assert_int_equal(kvs.n, 1);
		bl_kvs_free(&kvs);
	}
	assert_int_equal(relay_accepts(&f->a), 1);
	bl_etcd_close(e);
}

struct rec {
	char key[64][32];
	char val[64][300];
	size_t vlen[64];
	int n;
	int err;
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct rec *r = arg;

	if (err) {
		r->err = err;
		return;
	}
	for (size_t i = 0; i < n && r->n < 64; i++, r->n++) {
		snprintf(r->key[r->n], sizeof(r->key[0]), "%s", ev[i].kv.key);
		assert_true(ev[i].kv.value_len < sizeof(r->val[0]));
		memcpy(r->val[r->n], ev[i].kv.value, ev[i].kv.value_len);
		r->vlen[r->n] = ev[i].kv.value_len;
	}
}

static void wait_events(struct bl_etcd *e, struct rec *r, int n)
{
	time_t end = time(NULL) + 20;

	while (r->n < n && !r->err && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
	if (r->err)
		fail_msg("watch ended: %s (%s)", bl_strerror(r->err), bl_etcd_errmsg(e));
	if (r->n != n)
		fail_msg("%d events of %d; last error: %s", r->n, n, bl_etcd_errmsg(e));
}

/* Value i: binary, NUL and 0xff included, 1..255 bytes, with a newline
 * (the stream's message separator) in the middle. */
static size_t make_value(int i, char *buf)
{
	size_t n = (size_t)(i * 37 % 255) + 1, j;

	for (j = 0; j < n; j++)
		buf[j] = (char)((i + (int)j * 7) & 0xff);
	buf[n / 2] = '\n';
	return n;
}

/* Answers cut at every byte: unary bodies and the chunked watch stream. */
static void test_fragmented(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct rec r = { 0 };
	struct bl_watch *w;
	struct bl_etcd *e, *wr;
	char url[64], k[32], v[300];
	int i;

	assert_int_equal(relay_start(&f->a, f->ep.client_port, true), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->a.port);
	e = open_url(url, 10000);
	wr = open_url(f->ep.url, 3000);
	/* From a known revision: under load the relay may register the
	 * watch only after the puts below ("from now" would miss them). */
	OK(bl_etcd_get(wr, "/fr/", true, 0, 0, false, &kvs));
	OK(bl_etcd_watch(e, "/fr/", true, kvs.revision + 1, on_ev, NULL, &r, &w));
	bl_kvs_free(&kvs);
	bl_etcd_dispatch(e, 300);
	for (i = 0; i < 20; i++) {
		size_t n = make_value(i, v);
		snprintf(k, sizeof(k), "/fr/%02d", i);
		OK(bl_etcd_put(wr, k, v, n, 0, NULL));
	}
	wait_events(e, &r, 20);
	for (i = 0; i < 20; i++) {
		size_t n = make_value(i, v);
		snprintf(k, sizeof(k), "/fr/%02d", i);
		assert_string_equal(r.key[i], k);
		assert_int_equal(r.vlen[i], n);
		assert_memory_equal(r.val[i], v, n);
	}
	/* Unary answers through the same dribbling relay. */
	OK(bl_etcd_get(e, "/fr/", true, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 20);
	for (i = 0; i < 20; i++) {
		size_t n = make_value(i, v);
		assert_int_equal(kvs.kvs[i].value_len, n);
		assert_memory_equal(kvs.kvs[i].value, v, n);
	}
	bl_kvs_free(&kvs);
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e);
	bl_etcd_close(wr);
}

/* The first endpoint dies under a kept connection and a live watch. */
static void test_failover_second_endpoint(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct rec r = { 0 };
	struct bl_watch *w;
	struct bl_etcd *e, *wr;
	char url[128], k[32];
	int64_t rev;
	int i;

	assert_int_equal(relay_start(&f->a, f->ep.client_port, false), 0);
	assert_int_equal(relay_start(&f->b, f->ep.client_port, false), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d,http://127.0.0.1:%d",
		 f->a.port, f->b.port);
	e = open_url(url, 5000);
	wr = open_url(f->ep.url, 3000);
	OK(bl_etcd_put(e, "/fo/before", "1", 1, 0, &rev));
	OK(bl_etcd_watch(e, "/fo/", true, rev + 1, on_ev, NULL, &r, &w));
	bl_etcd_dispatch(e, 300);
	assert_int_equal(relay_accepts(&f->a), 2);  /* unary + watch */
	assert_int_equal(relay_accepts(&f->b), 0);
	OK(bl_etcd_put(wr, "/fo/a", "a", 1, 0, NULL));
	wait_events(e, &r, 1);

	relay_stop(&f->a);             /* A is gone: refused from now on */
	/* Written while the watch has no stream: must not be lost. */
	for (i = 0; i < 5; i++) {
		snprintf(k, sizeof(k), "/fo/gap%d", i);
		OK(bl_etcd_put(wr, k, "g", 1, 0, NULL));
	}
	OK(bl_etcd_put(e, "/fo/after", "2", 1, 0, NULL));
	OK(bl_etcd_get(e, "/fo/after", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	bl_kvs_free(&kvs);
	assert_true(relay_accepts(&f->b) >= 1);
	wait_events(e, &r, 7);
	assert_string_equal(r.key[0], "/fo/a");
	for (i = 0; i < 5; i++) {
		snprintf(k, sizeof(k), "/fo/gap%d", i);
		assert_string_equal(r.key[1 + i], k);
	}
	assert_string_equal(r.key[6], "/fo/after");
	/* Nothing delivered twice. */
	bl_etcd_dispatch(e, 300);
	assert_int_equal(r.n, 7);
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e);
	bl_etcd_close(wr);
}

/* A TLS endpoint spoken to as http:// (or anything not the gateway) is an
 * unusable endpoint, never a silent success; an https:// handle never
 * falls back to plaintext: checked in test_etcd_tls_http. Here: an
 * endpoint that answers HTTP but is not etcd moves on to the next one. */
static void test_not_a_gateway(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e;
	char url[160];

	/* etcd's metrics port serves HTTP but not /v3/kv/range. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d,%s", f->ep.metrics_port,
		 f->ep.url);
	e = open_url(url, 3000);
	OK(bl_etcd_put(e, "/ng/x", "1", 1, 0, NULL));
	OK(bl_etcd_get(e, "/ng/x", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	bl_kvs_free(&kvs);
	bl_etcd_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_second_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_gateway, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
