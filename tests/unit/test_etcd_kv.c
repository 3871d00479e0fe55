/*
 * test_etcd_kv.c - the etcd client's unary calls against a real etcd
 * started by the test (tests/lib/etcd_proc.h): put/get/prefix/limit/
 * revision, delete, txn (CAS race between two writers, create-if-absent),
 * leases (revoke and expiry), a 10k-key range above gRPC's 4 MiB default,
 * compacted reads, endpoint failover and deadlines.
 */
#include <errno.h>
#include <pthread.h>
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
	struct bl_etcd *e;
};

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
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)                       /* setup failed */
		return 0;
	bl_etcd_close(f->e);
	etcd_proc_cleanup(&f->ep);
	free(f);
	return 0;
}

#define OK(call) do { \
	int rc_ = (call); \
	if (rc_ != 0) \
		fail_msg("%s = %d %s (%s)", #call, rc_, bl_strerror(rc_), \
			 bl_etcd_errmsg(f->e)); \
	} while (0)

static void put_str(struct fx *f, const char *k, const char *v, int64_t *rev)
{
	OK(bl_etcd_put(f->e, k, v, strlen(v), 0, rev));
}

static void test_put_get(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	int64_t r1, r2;

	put_str(f, "/t/a", "1", &r1);
	put_str(f, "/t/b", "2", NULL);
	put_str(f, "/t/c", "3", NULL);
	put_str(f, "/u/x", "outside", NULL);
	assert_true(r1 > 0);

	OK(bl_etcd_get(f->e, "/t/a", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].key, "/t/a");
	assert_string_equal(kvs.kvs[0].value, "1");
	assert_int_equal(kvs.kvs[0].value_len, 1);
	assert_int_equal(kvs.kvs[0].mod_revision, r1);
	assert_int_equal(kvs.kvs[0].create_revision, r1);
	assert_int_equal(kvs.kvs[0].version, 1);
	assert_true(kvs.revision >= r1 + 3);
	bl_kvs_free(&kvs);

	OK(bl_etcd_get(f->e, "/t/", true, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 3);
	assert_string_equal(kvs.kvs[0].key, "/t/a");
	assert_string_equal(kvs.kvs[1].key, "/t/b");
	assert_string_equal(kvs.kvs[2].key, "/t/c");
	assert_int_equal(kvs.count, 3);
	assert_false(kvs.more);
	bl_kvs_free(&kvs);

	/* limit: two of three, with count and more. */
	OK(bl_etcd_get(f->e, "/t/", true, 2, 0, false, &kvs));
	assert_int_equal(kvs.n, 2);
	assert_int_equal(kvs.count, 3);
	assert_true(kvs.more);
	bl_kvs_free(&kvs);

	/* keys only. */
	OK(bl_etcd_get(f->e, "/t/", true, 0, 0, true, &kvs));
	assert_int_equal(kvs.n, 3);
	assert_string_equal(kvs.kvs[2].key, "/t/c");
	assert_int_equal(kvs.kvs[2].value_len, 0);
	assert_string_equal(kvs.kvs[2].value, "");
	bl_kvs_free(&kvs);

	/* An older revision still sees the old value. */
	put_str(f, "/t/a", "1b", &r2);
	assert_true(r2 > r1);
	OK(bl_etcd_get(f->e, "/t/a", false, 0, r1, false, &kvs));
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].value, "1");
	bl_kvs_free(&kvs);
	OK(bl_etcd_get(f->e, "/t/a", false, 0, 0, false, &kvs));
	assert_string_equal(kvs.kvs[0].value, "1b");
	assert_int_equal(kvs.kvs[0].version, 2);
	assert_int_equal(kvs.kvs[0].create_revision, r1);
	bl_kvs_free(&kvs);

	/* Missing key: success with nothing. */
	OK(bl_etcd_get(f->e, "/t/none", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 0);
	bl_kvs_free(&kvs);

	/* Binary values with NULs survive. */
	OK(bl_etcd_put(f->e, "/t/bin", "a\0b", 3, 0, NULL));
	OK(bl_etcd_get(f->e, "/t/bin", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.kvs[0].value_len, 3);
	assert_memory_equal(kvs.kvs[0].value, "a\0b", 3);
	bl_kvs_free(&kvs);
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	int64_t n = -1, rev = 0;

	put_str(f, "/d/1", "x", NULL);
	put_str(f, "/d/2", "x", NULL);
	put_str(f, "/d/3", "x", NULL);
	put_str(f, "/d0", "not under /d/", NULL);

	OK(bl_etcd_delete(f->e, "/d/1", false, &n, &rev));
	assert_int_equal(n, 1);
	assert_true(rev > 0);
	OK(bl_etcd_delete(f->e, "/d/1", false, &n, NULL));
	assert_int_equal(n, 0);
	OK(bl_etcd_delete(f->e, "/d/", true, &n, NULL));
	assert_int_equal(n, 2);
	OK(bl_etcd_get(f->e, "/d", true, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].key, "/d0");
	bl_kvs_free(&kvs);
}

/* ---- txn -------------------------------------------------------------------*/

struct racer {
	const char *url;
	const char *me;
	int64_t seen_rev;
	pthread_barrier_t *bar;
	int rc;
	bool won;
	char loser_saw[32];
};

/* Read-modify-write with CAS on mod_revision, from its own handle. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct bl_etcd_opts o = { .endpoints = r->url };
	struct bl_etcd *e;
	struct bl_cmp c = { .key = "/cas", .target = BL_CMP_MOD,
			    .result = BL_CMP_EQ, .rev = r->seen_rev };
	struct bl_op put = { .type = BL_OP_PUT, .key = "/cas", .value = r->me,
			     .value_len = strlen(r->me) };
	struct bl_op get = { .type = BL_OP_GET, .key = "/cas" };
	struct bl_kvs gets = { 0 };

	r->rc = bl_etcd_open(&o, &e);
	if (r->rc < 0)
		return NULL;
	/* Warm the connection so both txns leave close together. */
	r->rc = bl_etcd_get(e, "/cas", false, 0, 0, true, &gets);
	bl_kvs_free(&gets);
	pthread_barrier_wait(r->bar);
	if (r->rc == 0)
		r->rc = bl_etcd_txn(e, &c, 1, &put, 1, &get, 1, &r->won, &gets, NULL);
	if (r->rc == 0 && !r->won && gets.n == 1)
		snprintf(r->loser_saw, sizeof(r->loser_saw), "%s", gets.kvs[0].value);
	bl_kvs_free(&gets);
	bl_etcd_close(e);
	return NULL;
}

static void test_txn_cas_race(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	pthread_barrier_t bar;
	struct racer r[2] = {
		{ .url = f->ep.url, .me = "writer-A", .bar = &bar },
		{ .url = f->ep.url, .me = "writer-B", .bar = &bar },
	};
	pthread_t t[2];
	int64_t rev;
	int round, i;

	for (round = 0; round < 5; round++) {
		put_str(f, "/cas", "start", &rev);
		pthread_barrier_init(&bar, NULL, 2);
		for (i = 0; i < 2; i++) {
			r[i].seen_rev = rev;
			r[i].won = false;
			r[i].loser_saw[0] = '\0';
			assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
		}
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&bar);
		assert_int_equal(r[0].rc, 0);
		assert_int_equal(r[1].rc, 0);
		/* Exactly one wins; the loser's failure branch saw the
		 * winner's value; etcd holds the winner's value. */
		assert_true(r[0].won != r[1].won);
		i = r[0].won ? 0 : 1;
		assert_string_equal(r[1 - i].loser_saw, r[i].me);
		OK(bl_etcd_get(f->e, "/cas", false, 0, 0, false, &kvs));
		assert_string_equal(kvs.kvs[0].value, r[i].me);
		assert_int_equal(kvs.kvs[0].version >= 2, 1);
		bl_kvs_free(&kvs);
	}
}

static void test_txn_create_if_absent(void **state)
{
	struct fx *f = *state;
	struct bl_cmp absent = { .key = "/cia", .target = BL_CMP_MOD,
				 .result = BL_CMP_EQ, .rev = 0 };
	struct bl_op put1 = { .type = BL_OP_PUT, .key = "/cia", .value = "first",
			      .value_len = 5 };
	struct bl_op put2 = { .type = BL_OP_PUT, .key = "/cia", .value = "second",
			      .value_len = 6 };
	struct bl_op get = { .type = BL_OP_GET, .key = "/cia" };
	struct bl_kvs gets = { 0 };
	int64_t rev = 0;
	bool ok = false;

	OK(bl_etcd_txn(f->e, &absent, 1, &put1, 1, &get, 1, &ok, &gets, &rev));
	assert_true(ok);
	assert_int_equal(gets.n, 0);       /* success branch has no GET */
	assert_true(rev > 0);
	bl_kvs_free(&gets);

	OK(bl_etcd_txn(f->e, &absent, 1, &put2, 1, &get, 1, &ok, &gets, NULL));
	assert_false(ok);
	assert_int_equal(gets.n, 1);
	assert_string_equal(gets.kvs[0].value, "first");
	assert_int_equal(gets.kvs[0].mod_revision, rev);
	bl_kvs_free(&gets);

	/* Value and version compares; multi-op branch with a prefix get. */
	{
		struct bl_cmp c[2] = {
			{ .key = "/cia", .target = BL_CMP_VALUE, .result = BL_CMP_EQ,
			  .value = "first", .value_len = 5 },
			{ .key = "/cia", .target = BL_CMP_VERSION, .result = BL_CMP_EQ,
			  .rev = 1 },
		};
		struct bl_op ops[3] = {
			{ .type = BL_OP_PUT, .key = "/cia2", .value = "x", .value_len = 1 },
			{ .type = BL_OP_DELETE, .key = "/cia" },
			{ .type = BL_OP_GET, .key = "/cia", .prefix = true },
		};
		OK(bl_etcd_txn(f->e, c, 2, ops, 3, NULL, 0, &ok, &gets, NULL));
		assert_true(ok);
		assert_int_equal(gets.n, 1);
		assert_string_equal(gets.kvs[0].key, "/cia2");
		bl_kvs_free(&gets);
		c[1].result = BL_CMP_GT;   /* /cia is gone: version 0 > 1 fails */
		OK(bl_etcd_txn(f->e, c, 2, ops, 1, NULL, 0, &ok, NULL, NULL));
		assert_false(ok);
	}
}

/* ---- leases ------------------------------------------------------------------*/

static size_t count_keys(struct fx *f, const char *key)
{
	struct bl_kvs kvs = { 0 };
	size_t n;

	OK(bl_etcd_get(f->e, key, false, 0, 0, true, &kvs));
	n = kvs.n;
	bl_kvs_free(&kvs);
	return n;
}

static void test_lease_revoke(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	int64_t id = 0, ttl = -1;

	OK(bl_etcd_lease_grant(f->e, 60, &id));
	assert_true(id != 0);
	OK(bl_etcd_put(f->e, "/lease/k", "v", 1, id, NULL));
	OK(bl_etcd_get(f->e, "/lease/k", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	assert_int_equal(kvs.kvs[0].lease, id);
	bl_kvs_free(&kvs);
	OK(bl_etcd_lease_keepalive(f->e, id, &ttl));
	assert_true(ttl > 50 && ttl <= 60);
	OK(bl_etcd_lease_revoke(f->e, id));
	assert_int_equal(count_keys(f, "/lease/k"), 0);
	/* Revoked: keepalive reports TTL 0, revoke again is -ENOENT. */
	OK(bl_etcd_lease_keepalive(f->e, id, &ttl));
	assert_int_equal(ttl, 0);
	assert_int_equal(bl_etcd_lease_revoke(f->e, id), -ENOENT);
}

static void test_lease_expiry(void **state)
{
	struct fx *f = *state;
	int64_t id = 0, ttl = -1;
	int i;

	OK(bl_etcd_lease_grant(f->e, 1, &id));
	OK(bl_etcd_put(f->e, "/lease/exp", "v", 1, id, NULL));
	assert_int_equal(count_keys(f, "/lease/exp"), 1);
	/* Without keepalives the key goes within a few seconds (TTL 1 s,
	 * etcd checks expiry every 500 ms). */
	for (i = 0; i < 100 && count_keys(f, "/lease/exp"); i++)
		usleep(100 * 1000);
	assert_int_equal(count_keys(f, "/lease/exp"), 0);
	OK(bl_etcd_lease_keepalive(f->e, id, &ttl));
	assert_int_equal(ttl, 0);
}

/* ---- big range ----------------------------------------------------------------*/

static void test_large_range(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	static char vals[100][520];
	char keys[100][32];
	struct bl_op ops[100];
	int i, j;

	/* 10,000 keys x 520 B values = ~5.4 MB in one response, above
	 * gRPC's default 4 MiB receive cap. Written 100 per txn. */
	for (i = 0; i < 10000; i += 100) {
		for (j = 0; j < 100; j++) {
			snprintf(keys[j], sizeof(keys[j]), "/big/%05d", i + j);
			memset(vals[j], 'a' + (i + j) % 26, sizeof(vals[j]));
			ops[j] = (struct bl_op){ .type = BL_OP_PUT, .key = keys[j],
						 .value = vals[j],
						 .value_len = sizeof(vals[j]) };
		}
		OK(bl_etcd_txn(f->e, NULL, 0, ops, 100, NULL, 0, NULL, NULL, NULL));
	}
	OK(bl_etcd_get(f->e, "/big/", true, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 10000);
	assert_int_equal(kvs.count, 10000);
	for (i = 0; i < 10000; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/big/%05d", i);
		assert_string_equal(kvs.kvs[i].key, k);
		assert_int_equal(kvs.kvs[i].value_len, 520);
		assert_int_equal(kvs.kvs[i].value[519], 'a' + i % 26);
	}
	bl_kvs_free(&kvs);
	/* Clean up so later tests list less. */
	OK(bl_etcd_delete(f->e, "/big/", true, NULL, NULL));
}

/* ---- compaction -----------------------------------------------------------------*/

static void test_compacted_get(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	int64_t r1, r2;

	put_str(f, "/comp/k", "1", &r1);
	put_str(f, "/comp/k", "2", &r2);
	OK(bl_etcd_compact(f->e, r2, true));
	assert_int_equal(bl_etcd_get(f->e, "/comp/k", false, 0, r1, false, &kvs),
			 BL_E_COMPACTED);
	OK(bl_etcd_get(f->e, "/comp/k", false, 0, r2, false, &kvs));
	assert_string_equal(kvs.kvs[0].value, "2");
	bl_kvs_free(&kvs);
}

/* ---- endpoints, deadlines ---------------------------------------------------------*/

/* Port 1 (tcpmux): nothing listens there on a test machine, so a connect
 * is refused at once. */
static int dead_port(void)
{
	return 1;
}

static void test_failover(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e2;
	char eps[200];
	int i, rc;

	snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,%s", dead_port(), f->ep.url);
	e2 = open_url(eps, 3000);
	for (i = 0; i < 20; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/fo/%d", i);
		rc = bl_etcd_put(e2, k, "v", 1, 0, NULL);
		if (rc)
			fail_msg("put via failover: %s (%s)", bl_strerror(rc),
				 bl_etcd_errmsg(e2));
	}
	rc = bl_etcd_get(e2, "/fo/", true, 0, 0, false, &kvs);
	assert_int_equal(rc, 0);
	assert_int_equal(kvs.n, 20);
	bl_kvs_free(&kvs);
	bl_etcd_close(e2);

	/* Bad option strings are refused up front. */
	{
		struct bl_etcd_opts o = { .endpoints = "" };
		assert_int_equal(bl_etcd_open(&o, &e2), -EINVAL);
		o.endpoints = "http://127.0.0.1:1,https://127.0.0.1:2";
		assert_int_equal(bl_etcd_open(&o, &e2), -EINVAL);
		o.endpoints = "unix://x";
		assert_int_equal(bl_etcd_open(&o, &e2), -EINVAL);
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_deadline(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct timespec t0;
	struct bl_etcd *e2;
	char eps[64];
	int rc;

	/* Nobody listening: UNAVAILABLE (or the deadline) within ~timeout. */
	snprintf(eps, sizeof(eps), "http://127.0.0.1:%d", dead_port());
	e2 = open_url(eps, 700);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = bl_etcd_get(e2, "/x", false, 0, 0, false, &kvs);
	assert_true(rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT);
	assert_true(ms_since(&t0) < 700 + 1000);
	bl_etcd_close(e2);

	/* A stopped (SIGSTOP) etcd accepts TCP but never answers: the call
	 * ends at its deadline with -ETIMEDOUT. */
	e2 = open_url(f->ep.url, 700);
	OK(bl_etcd_put(e2, "/dl", "v", 1, 0, NULL));   /* connected */
	assert_int_equal(etcd_proc_pause(&f->ep), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = bl_etcd_get(e2, "/dl", false, 0, 0, false, &kvs);
	etcd_proc_resume(&f->ep);
	if (rc != -ETIMEDOUT && rc != BL_E_UNAVAILABLE)
		fail_msg("paused etcd: rc %d %s (%s)", rc, bl_strerror(rc),
			 bl_etcd_errmsg(e2));
	assert_true(ms_since(&t0) < 700 + 1000);
	/* And it recovers once etcd runs again. */
	rc = bl_etcd_get(e2, "/dl", false, 0, 0, false, &kvs);
	assert_int_equal(rc, 0);
	assert_int_equal(kvs.n, 1);
	bl_kvs_free(&kvs);
	bl_etcd_close(e2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_txn_cas_race),
		cmocka_unit_test(test_txn_create_if_absent),
		cmocka_unit_test(test_lease_revoke),
		cmocka_unit_test(test_lease_expiry),
		cmocka_unit_test(test_large_range),
		cmocka_unit_test(test_compacted_get),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests_name("etcd_kv", tests, setup, teardown);
}
