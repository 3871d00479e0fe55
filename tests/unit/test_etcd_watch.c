/*
 * test_etcd_watch.c - watches against a real etcd: order of puts and
 * deletes, txn batches, etcd killed and restarted under a live watch with
 * writes before, during (they fail) and after (no event lost or repeated),
 * compaction past the watch's resume revision (resync runs, nothing is
 * missed), cancel from inside a callback, and the eventfd waking a poll().
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_err.h"
#include "bl_etcd.h"
#include "etcd_proc.h"

struct fx {
	struct etcd_proc ep;
	struct bl_etcd *e;             /* the watching handle */
	struct bl_etcd *wr;            /* a separate writer   */
	struct etcd_proc ep2;          /* per-test etcd (setup_own_etcd) */
};

#define MAXEV 256

struct rec {
	struct {
		enum bl_ev_type type;
		char key[64];
		char value[64];
		int64_t rev;
		int64_t batch_rev;
		size_t batch_n;
	} ev[MAXEV];
	size_t n;
	int ncb;
	int err;
	int nerr;
	int resyncs;
	/* For resync: the handle to list with and the listing. */
	struct bl_etcd *e;
	const char *prefix;
	char listed[MAXEV][64];
	size_t nlisted;
	int64_t listed_rev;
	/* cancel-from-callback */
	struct bl_watch *self;
	bool cancel_in_cb;
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct rec *r = arg;
	size_t i;

	r->ncb++;
	if (err) {
		r->err = err;
		r->nerr++;
		return;
	}
	for (i = 0; i < n && r->n < MAXEV; i++, r->n++) {
		r->ev[r->n].type = ev[i].type;
		snprintf(r->ev[r->n].key, 64, "%s", ev[i].kv.key);
		snprintf(r->ev[r->n].value, 64, "%s", ev[i].kv.value);
		r->ev[r->n].rev = ev[i].kv.mod_revision;
		r->ev[r->n].batch_rev = rev;
		r->ev[r->n].batch_n = n;
	}
	if (r->cancel_in_cb && r->self) {
		bl_etcd_watch_cancel(r->self);
		r->self = NULL;
	}
}

static int64_t on_resync(void *arg)
{
	struct rec *r = arg;
	struct bl_kvs kvs = { 0 };
	size_t i;

	r->resyncs++;
	if (bl_etcd_get(r->e, r->prefix, true, 0, 0, false, &kvs) < 0)
		return -1;
	r->nlisted = 0;
	for (i = 0; i < kvs.n && i < MAXEV; i++)
		snprintf(r->listed[r->nlisted++], 64, "%s", kvs.kvs[i].key);
	r->listed_rev = kvs.revision;
	bl_kvs_free(&kvs);
	return r->listed_rev;
}

static struct bl_etcd *open_url(const char *url, int timeout_ms)
{
	struct bl_etcd_opts o = { .endpoints = url, .timeout_ms = timeout_ms };
	struct bl_etcd *e = NULL;

	assert_int_equal(bl_etcd_open(&o, &e), 0);
	return e;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int rc;

	rc = etcd_proc_start(&f->ep, NULL);
	if (rc < 0) {
		fprintf(stderr, "cannot start etcd: %s\n", strerror(-rc));
		etcd_proc_cleanup(&f->ep);
		free(f);
		return -1;
	}
	f->e = open_url(f->ep.url, 5000);
	f->wr = open_url(f->ep.url, 5000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)                       /* setup failed */
		return 0;
	bl_etcd_close(f->e);
	bl_etcd_close(f->wr);
	etcd_proc_cleanup(&f->ep);
	free(f);
	return 0;
}

#define OK(h, call) do { \
	int rc_ = (call); \
	if (rc_ != 0) \
		fail_msg("%s = %d %s (%s)", #call, rc_, bl_strerror(rc_), \
			 bl_etcd_errmsg(h)); \
	} while (0)

static int64_t put(struct bl_etcd *e, const char *k, const char *v)
{
	int64_t rev = 0;

	OK(e, bl_etcd_put(e, k, v, strlen(v), 0, &rev));
	return rev;
}

static int64_t cur_rev(struct bl_etcd *e)
{
	struct bl_kvs kvs = { 0 };

	int64_t rev;

	OK(e, bl_etcd_get(e, "/", false, 1, 0, true, &kvs));
	rev = kvs.revision;
	bl_kvs_free(&kvs);
	return rev;
}

/* Dispatch e until r has n events (or an error), at most secs seconds. */
static void wait_on(struct bl_etcd *e, struct rec *r, size_t n, int secs)
{
	time_t end = time(NULL) + secs;

	while (r->n < n && !r->nerr && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
}

static void wait_events(struct fx *f, struct rec *r, size_t n, int secs)
{
	wait_on(f->e, r, n, secs);
}

static void test_watch_order(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_watch *w;
	int64_t start = cur_rev(f->wr) + 1, r1, r2, r3, r4;
	struct bl_op ops[2] = {
		{ .type = BL_OP_PUT, .key = "/w/c", .value = "3", .value_len = 1 },
		{ .type = BL_OP_PUT, .key = "/w/d", .value = "4", .value_len = 1 },
	};

	OK(f->e, bl_etcd_watch(f->e, "/w/", true, start, on_ev, NULL, r, &w));
	r1 = put(f->wr, "/w/a", "1");
	r2 = put(f->wr, "/w/b", "2");
	put(f->wr, "/other", "not watched");
	OK(f->wr, bl_etcd_delete(f->wr, "/w/a", false, NULL, &r3));
	OK(f->wr, bl_etcd_txn(f->wr, NULL, 0, ops, 2, NULL, 0, NULL, NULL, &r4));
	wait_events(f, r, 5, 10);
	assert_int_equal(r->nerr, 0);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->ncb, 4);    /* the txn's two puts come as one batch */
	assert_int_equal(r->ev[0].type, BL_EV_PUT);
	assert_string_equal(r->ev[0].key, "/w/a");
	assert_string_equal(r->ev[0].value, "1");
	assert_int_equal(r->ev[0].rev, r1);
	assert_string_equal(r->ev[1].key, "/w/b");
	assert_int_equal(r->ev[1].rev, r2);
	assert_int_equal(r->ev[2].type, BL_EV_DELETE);
	assert_string_equal(r->ev[2].key, "/w/a");
	assert_int_equal(r->ev[2].rev, r3);
	assert_string_equal(r->ev[3].key, "/w/c");
	assert_string_equal(r->ev[4].key, "/w/d");
	assert_int_equal(r->ev[3].rev, r4);
	assert_int_equal(r->ev[4].rev, r4);
	assert_int_equal(r->ev[4].batch_n, 2);
	assert_int_equal(r->ev[4].batch_rev, r4);

	/* The fd becomes readable for the next event, without dispatching. */
	{
		struct pollfd p = { .fd = bl_etcd_fd(f->e), .events = POLLIN };
		put(f->wr, "/w/e", "5");
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_true(bl_etcd_dispatch(f->e, 0) >= 0);
		wait_events(f, r, 6, 5);
		assert_int_equal(r->n, 6);
	}

	/* A single-key watch sees only that key. */
	{
		struct rec *r2b = calloc(1, sizeof(*r2b));
		struct bl_watch *w2;
		OK(f->e, bl_etcd_watch(f->e, "/w/b", false, cur_rev(f->wr) + 1,
				       on_ev, NULL, r2b, &w2));
		put(f->wr, "/w/bb", "no");
		put(f->wr, "/w/b", "yes");
		wait_events(f, r2b, 1, 5);
		assert_int_equal(r2b->n, 1);
		assert_string_equal(r2b->ev[0].value, "yes");
		bl_etcd_watch_cancel(w2);
		free(r2b);
	}
	bl_etcd_watch_cancel(w);
	free(r);
}

/* Every key i in [0, n) put exactly once, in order, nothing else. */
static void assert_exact(struct rec *r, const char *fmt, int n)
{
	int i;

	assert_int_equal(r->n, n);
	for (i = 0; i < n; i++) {
		char k[64];
		snprintf(k, sizeof(k), fmt, i);
		assert_string_equal(r->ev[i].key, k);
		assert_int_equal(r->ev[i].type, BL_EV_PUT);
		if (i)
			assert_true(r->ev[i].rev > r->ev[i - 1].rev);
	}
}

static void test_watch_survives_restart(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_etcd *quick;
	struct bl_watch *w;
	char k[64];
	int i, rc;

	OK(f->e, bl_etcd_watch(f->e, "/rs/", true, cur_rev(f->wr) + 1, on_ev,
			       NULL, r, &w));
	for (i = 0; i < 5; i++) {
		snprintf(k, sizeof(k), "/rs/%02d", i);
		put(f->wr, k, "before");
	}
	wait_events(f, r, 5, 10);
	assert_int_equal(r->n, 5);

	/* Crash etcd. Writes now fail; the watch notices and retries. */
	assert_int_equal(etcd_proc_kill(&f->ep), 0);
	quick = open_url(f->ep.url, 300);
	rc = bl_etcd_put(quick, "/rs/lost", "during", 6, 0, NULL);
	assert_true(rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT);
	bl_etcd_close(quick);
	bl_etcd_dispatch(f->e, 500);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->nerr, 0);

	/* Back on the same data; write at once, while the watch is still
	 * backing off: these must come through the resumed watch. */
	assert_int_equal(etcd_proc_restart(&f->ep), 0);
	for (i = 5; i < 10; i++) {
		snprintf(k, sizeof(k), "/rs/%02d", i);
		put(f->wr, k, "after");
	}
	wait_events(f, r, 10, 15);
	/* And more once it is surely re-established. */
	for (i = 10; i < 12; i++) {
		snprintf(k, sizeof(k), "/rs/%02d", i);
		put(f->wr, k, "later");
	}
	wait_events(f, r, 12, 10);
	bl_etcd_dispatch(f->e, 300);   /* anything extra would show now */
	assert_int_equal(r->nerr, 0);
	assert_exact(r, "/rs/%02d", 12);
	bl_etcd_watch_cancel(w);
	free(r);
}

/*
 * The watch is cut off (etcd restart), the history it would resume from is
 * compacted meanwhile: the resync callback re-lists, and the listing plus
 * later events give the exact state.
 */
static void test_watch_compaction_resync(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_watch *w;
	struct bl_kvs kvs = { 0 };
	int64_t rev;

	r->e = f->e;
	r->prefix = "/cp/";
	OK(f->e, bl_etcd_watch(f->e, "/cp/", true, cur_rev(f->wr) + 1, on_ev,
			       on_resync, r, &w));
	put(f->wr, "/cp/1", "x");
	put(f->wr, "/cp/2", "x");
	put(f->wr, "/cp/3", "x");
	wait_events(f, r, 3, 10);
	assert_int_equal(r->n, 3);

	/* The owner does not dispatch while etcd restarts and the history
	 * moves on and is compacted. */
	assert_int_equal(etcd_proc_kill(&f->ep), 0);
	assert_int_equal(etcd_proc_restart(&f->ep), 0);
	put(f->wr, "/cp/4", "missed");
	put(f->wr, "/cp/5", "missed");
	OK(f->wr, bl_etcd_delete(f->wr, "/cp/1", false, NULL, NULL));
	rev = put(f->wr, "/unrelated", "x");
	OK(f->wr, bl_etcd_compact(f->wr, rev, true));

	/* Resume fails as compacted -> resync lists -> watch from there. */
	{
		time_t end = time(NULL) + 15;
		while (!r->resyncs && time(NULL) < end)
			bl_etcd_dispatch(f->e, 200);
	}
	assert_int_equal(r->resyncs, 1);
	assert_int_equal(r->nerr, 0);
	assert_int_equal(r->nlisted, 4);
	assert_string_equal(r->listed[0], "/cp/2");
	assert_string_equal(r->listed[3], "/cp/5");
	assert_true(r->listed_rev >= rev);

	put(f->wr, "/cp/6", "after");
	wait_events(f, r, 4, 10);
	assert_int_equal(r->n, 4);
	assert_string_equal(r->ev[3].key, "/cp/6");
	assert_true(r->ev[3].rev > r->listed_rev);
	/* listing + events == etcd */
	OK(f->wr, bl_etcd_get(f->wr, "/cp/", true, 0, 0, true, &kvs));
	assert_int_equal(kvs.n, 5);
	assert_string_equal(kvs.kvs[4].key, "/cp/6");
	bl_kvs_free(&kvs);
	assert_int_equal(r->resyncs, 1);
	bl_etcd_watch_cancel(w);
	free(r);
}

/* Asking for compacted history directly: resync, or BL_E_COMPACTED. */
static void test_watch_from_compacted(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct rec *r2 = calloc(1, sizeof(*r2));
	struct bl_watch *w, *w2;
	int64_t old = put(f->wr, "/fc/a", "1");
	int64_t rev = put(f->wr, "/fc/b", "2");
	time_t end;

	OK(f->wr, bl_etcd_compact(f->wr, rev, true));
	r->e = f->e;
	r->prefix = "/fc/";
	OK(f->e, bl_etcd_watch(f->e, "/fc/", true, old, on_ev, on_resync, r, &w));
	OK(f->e, bl_etcd_watch(f->e, "/fc/", true, old, on_ev, NULL, r2, &w2));
	end = time(NULL) + 10;
	while ((!r->resyncs || !r2->nerr) && time(NULL) < end)
		bl_etcd_dispatch(f->e, 200);
	assert_int_equal(r->resyncs, 1);
	assert_int_equal(r->nlisted, 2);
	assert_int_equal(r2->nerr, 1);
	assert_int_equal(r2->err, BL_E_COMPACTED);
	put(f->wr, "/fc/c", "3");
	wait_events(f, r, 1, 10);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->ev[0].key, "/fc/c");
	assert_int_equal(r2->n, 0);
	bl_etcd_watch_cancel(w);
	bl_etcd_watch_cancel(w2);          /* ended watches are still freed */
	free(r);
	free(r2);
}

static void test_watch_cancel_in_callback(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_watch *w;

	r->cancel_in_cb = true;
	OK(f->e, bl_etcd_watch(f->e, "/cc/", true, cur_rev(f->wr) + 1, on_ev,
			       NULL, r, &w));
	r->self = w;
	put(f->wr, "/cc/1", "x");
	wait_events(f, r, 1, 10);
	put(f->wr, "/cc/2", "x");
	put(f->wr, "/cc/3", "x");
	bl_etcd_dispatch(f->e, 500);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->ncb, 1);
	free(r);
}

/* An etcd of its own for one test, with fast progress notifications. */
static int setup_own_etcd(void **state)
{
	static const char *const fast[] = {
		"--experimental-watch-progress-notify-interval=100ms", NULL };
	struct etcd_proc_opts po = { .extra_args = fast };
	struct fx *f = *state;

	return etcd_proc_start(&f->ep2, &po) < 0 ? -1 : 0;
}

/* Runs even when the test failed half-way: no etcd is left behind. */
static int teardown_own_etcd(void **state)
{
	struct fx *f = *state;

	etcd_proc_cleanup(&f->ep2);
	return 0;
}

/*
 * A quiet watch while the rest of the store moves on and is compacted: with
 * progress notifications the resume point follows the store, so after an
 * etcd restart the watch resumes with no resync and loses nothing. (An
 * etcd of its own, with notifications every 100 ms instead of 10 min.)
 */
static void test_watch_progress(void **state)
{
	struct fx *f = *state;
	struct etcd_proc *ep = &f->ep2;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_etcd *e, *wr;
	struct bl_watch *w;
	int64_t rev = 0;
	time_t end;
	int i;

	e = open_url(ep->url, 3000);
	wr = open_url(ep->url, 3000);
	r->e = e;
	r->prefix = "/quiet/";
	OK(e, bl_etcd_watch(e, "/quiet/", true, cur_rev(wr) + 1, on_ev,
			    on_resync, r, &w));
	for (i = 0; i < 20; i++)
		rev = put(wr, "/busy", "x");
	/* Let a few progress notifications arrive. */
	end = time(NULL) + 2;
	while (time(NULL) < end)
		bl_etcd_dispatch(e, 100);
	assert_int_equal(r->ncb, 0);
	OK(wr, bl_etcd_compact(wr, rev, true));
	assert_int_equal(etcd_proc_kill(ep), 0);
	assert_int_equal(etcd_proc_restart(ep), 0);
	put(wr, "/quiet/1", "x");
	wait_on(e, r, 1, 15);
	assert_int_equal(r->resyncs, 0);
	assert_int_equal(r->nerr, 0);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->ev[0].key, "/quiet/1");
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e);
	bl_etcd_close(wr);
	free(r);
}

/* The first endpoint is dead: the watch settles on the second. */
static void test_watch_failover(void **state)
{
	struct fx *f = *state;
	struct rec *r = calloc(1, sizeof(*r));
	struct bl_etcd *e2;
	struct bl_watch *w;
	char eps[160];
	time_t end;

	snprintf(eps, sizeof(eps), "http://127.0.0.1:1,%s", f->ep.url);
	e2 = open_url(eps, 2000);
	OK(e2, bl_etcd_watch(e2, "/fw/", true, cur_rev(f->wr) + 1, on_ev, NULL,
			     r, &w));
	put(f->wr, "/fw/1", "x");
	put(f->wr, "/fw/2", "x");
	end = time(NULL) + 10;
	while (r->n < 2 && !r->nerr && time(NULL) < end)
		bl_etcd_dispatch(e2, 200);
	assert_int_equal(r->nerr, 0);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->ev[0].key, "/fw/1");
	assert_string_equal(r->ev[1].key, "/fw/2");
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e2);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_order),
		cmocka_unit_test(test_watch_survives_restart),
		cmocka_unit_test(test_watch_compaction_resync),
		cmocka_unit_test(test_watch_from_compacted),
		cmocka_unit_test(test_watch_cancel_in_callback),
		cmocka_unit_test(test_watch_failover),
		cmocka_unit_test_setup_teardown(test_watch_progress,
						setup_own_etcd, teardown_own_etcd),
	};
	return cmocka_run_group_tests_name("etcd_watch", tests, setup, teardown);
}
