/*
 * etcd_bench.c - measure the etcd client against a real etcd: sequential
 * puts/s, gets/s, one txn per object (what `bollard apply` does), one
 * range of N keys, and watch delivery latency (put -> callback).
 *
 *   build/etcd-bench [N]            starts its own throwaway etcd
 *   build/etcd-bench N URL          uses a running etcd (writes /bench/)
 *
 * This is a benchmark, not a test: it prints figures and checks only that
 * the calls succeed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_err.h"
#include "bl_etcd.h"
#include "etcd_proc.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct lat {
	double sent;
	double *samples;
	size_t n;
	int64_t seen_rev;
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct lat *l = arg;

	(void)ev;
	(void)n;
	if (err)
		return;
	l->samples[l->n++] = now_s() - l->sent;
	l->seen_rev = rev;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define CHECK(rc, what) do { \
	if ((rc) < 0) { \
		fprintf(stderr, "%s: %s (%s)\n", what, bl_strerror(rc), \
			bl_etcd_errmsg(e)); \
		goto out; \
	} } while (0)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	struct etcd_proc ep = { 0 };
	struct bl_etcd_opts o = { 0 };
	struct bl_etcd *e = NULL;
	struct bl_watch *w = NULL;
	struct bl_kvs kvs = { 0 };
	struct lat l = { 0 };
	char key[64], val[256];
	double t0, t;
	int i, rc, ret = 1;

	if (n <= 0)
		n = 1000;
	if (argc > 2) {
		o.endpoints = argv[2];
	} else {
		rc = etcd_proc_start(&ep, NULL);
		if (rc < 0) {
			fprintf(stderr, "etcd: %s\n", strerror(-rc));
			return 1;
		}
		o.endpoints = ep.url;
	}
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	rc = bl_etcd_open(&o, &e);
	if (rc < 0) {
		fprintf(stderr, "open: %s\n", bl_strerror(rc));
		goto out;
	}
	rc = bl_etcd_delete(e, "/bench/", true, NULL, NULL);
	CHECK(rc, "delete");

	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/bench/put/%06d", i);
		rc = bl_etcd_put(e, key, val, strlen(val), 0, NULL);
		CHECK(rc, "put");
	}
	t = now_s() - t0;
	printf("put:   %d sequential puts in %.3f s = %.0f/s\n", n, t, n / t);

	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct bl_cmp c = { .key = key, .target = BL_CMP_MOD,
				    .result = BL_CMP_EQ, .rev = 0 };
		struct bl_op op = { .type = BL_OP_PUT, .key = key,
				    .value = val, .value_len = strlen(val) };
		bool ok;
		snprintf(key, sizeof(key), "/bench/txn/%06d", i);
		rc = bl_etcd_txn(e, &c, 1, &op, 1, NULL, 0, &ok, NULL, NULL);
		CHECK(rc, "txn");
	}
	t = now_s() - t0;
	printf("txn:   %d create-if-absent txns in %.3f s = %.0f/s\n", n, t, n / t);

	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/bench/put/%06d", i);
		rc = bl_etcd_get(e, key, false, 0, 0, false, &kvs);
		CHECK(rc, "get");
		bl_kvs_free(&kvs);
	}
	t = now_s() - t0;
	printf("get:   %d sequential gets in %.3f s = %.0f/s\n", n, t, n / t);

	/* A 10k range: top up to 10,000 keys under /bench/range/. */
	for (i = 0; i < 10000; i += 100) {
		struct bl_op ops[100];
		char keys[100][64];
		int j;
		for (j = 0; j < 100; j++) {
			snprintf(keys[j], sizeof(keys[j]), "/bench/range/%06d", i + j);
			ops[j] = (struct bl_op){ .type = BL_OP_PUT, .key = keys[j],
						 .value = val, .value_len = strlen(val) };
		}
		rc = bl_etcd_txn(e, NULL, 0, ops, 100, NULL, 0, NULL, NULL, NULL);
		CHECK(rc, "fill");
	}
	for (i = 0; i < 3; i++) {
		t0 = now_s();
		rc = bl_etcd_get(e, "/bench/range/", true, 0, 0, false, &kvs);
		CHECK(rc, "range");
		t = now_s() - t0;
		printf("range: %zu keys (%zu B values) in %.1f ms\n", kvs.n,
		       strlen(val), t * 1e3);
		bl_kvs_free(&kvs);
	}

	l.samples = calloc(200, sizeof(double));
	rc = bl_etcd_watch(e, "/bench/watch/", true, 0, on_ev, NULL, &l, &w);
	CHECK(rc, "watch");
	bl_etcd_dispatch(e, 200);      /* let the watch be created */
	for (i = 0; i < 200; i++) {
		size_t before = l.n;
		snprintf(key, sizeof(key), "/bench/watch/%d", i);
		l.sent = now_s();
		rc = bl_etcd_put(e, key, "x", 1, 0, NULL);
		CHECK(rc, "watch put");
		while (l.n == before) {
			rc = bl_etcd_dispatch(e, 2000);
			if (rc <= 0 && l.n == before) {
				fprintf(stderr, "watch: event %d not seen\n", i);
				goto out;
			}
		}
	}
	qsort(l.samples, l.n, sizeof(double), cmp_d);
	printf("watch: %zu events, put-return -> callback median %.3f ms, "
	       "p90 %.3f ms, max %.3f ms\n", l.n, l.samples[l.n / 2] * 1e3,
	       l.samples[l.n * 9 / 10] * 1e3, l.samples[l.n - 1] * 1e3);
	ret = 0;
out:
	free(l.samples);
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e);
	etcd_proc_cleanup(&ep);
	return ret;
}
