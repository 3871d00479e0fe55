/* Leader election (controller/daemon/leader.c) against a real etcd:
 * one leader among two candidates, takeover after the leader resigns, loss
 * when the key is deleted, and time-bounded validity for a stalled leader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_etcd.h"
#include "bl_time.h"
#include "daemon/leader.h"
#include "etcd_proc.h"

struct fx {
	struct etcd_proc ep;
	struct bl_etcd *a, *b;
};

static int setup(void **state)
{
	static struct fx f;
	struct bl_etcd_opts o = { 0 };

	memset(&f, 0, sizeof(f));
	if (etcd_proc_start(&f.ep, NULL) < 0)
		return -1;
	o.endpoints = f.ep.url;
	if (bl_etcd_open(&o, &f.a) < 0 || bl_etcd_open(&o, &f.b) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)                       /* setup failed */
		return 0;
	bl_etcd_close(f->a);
	bl_etcd_close(f->b);
	etcd_proc_cleanup(&f->ep);
	return 0;
}

static void test_one_leader_then_takeover(void **state)
{
	struct fx *f = *state;
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c1", "nodea", 2);
	struct bl_leader *lb = bl_leader_new(f->b, "/bollard/v1/leader/c1", "nodeb", 2);
	uint64_t t = bl_now_ms();

	assert_int_equal(bl_leader_tick(la, t), 1);
	assert_int_equal(bl_leader_tick(lb, t), 0);
	assert_true(bl_leader_valid(la, bl_now_ms()));
	assert_false(bl_leader_valid(lb, bl_now_ms()));
	assert_string_equal(bl_leader_holder(lb), "nodea");
	/* nodea resigns (revokes its lease): nodeb takes over on its tick. */
	bl_leader_free(la);
	assert_int_equal(bl_leader_tick(lb, bl_now_ms() + 1000), 1);
	assert_string_equal(bl_leader_holder(lb), "nodeb");
	bl_leader_free(lb);
}

static void test_key_deleted_means_lost(void **state)
{
	struct fx *f = *state;
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c2", "nodea", 3);
	uint64_t t = bl_now_ms();

	assert_int_equal(bl_leader_tick(la, t), 1);
	assert_int_equal(bl_etcd_delete(f->b, "/bollard/v1/leader/c2", false, NULL, NULL), 0);
	/* Next refresh notices the key is gone. */
	assert_int_equal(bl_leader_tick(la, t + 1000), 0);
	assert_false(bl_leader_is_leader(la));
	bl_leader_free(la);
}

static void test_stalled_leader_not_valid(void **state)
{
	struct fx *f = *state;
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c3", "nodea", 2);
	uint64_t t = bl_now_ms();

	assert_int_equal(bl_leader_tick(la, t), 1);
	assert_true(bl_leader_valid(la, t));
	/* No tick for a whole TTL (a stalled loop): no longer valid, even
	 * though nothing told it so yet. */
	assert_true(bl_leader_is_leader(la));
	assert_false(bl_leader_valid(la, t + 2000));
	bl_leader_free(la);
}

/* The lease id bound to key, read through another client. */
static int64_t key_lease(struct bl_etcd *e, const char *key)
{
	struct bl_kvs kvs = { 0 };
	int64_t lease = 0;

	if (bl_etcd_get(e, key, false, 1, 0, false, &kvs) == 0 && kvs.n == 1)
		lease = kvs.kvs[0].lease;
	bl_kvs_free(&kvs);
	return lease;
}

/* With the keepalive thread, a leader whose loop does not tick for three
 * TTLs (a long reconcile) keeps its lease, stays valid, and the other
 * candidate cannot take over. */
static void test_thread_keeps_stalled_leader(void **state)
{
	struct fx *f = *state;
	struct bl_etcd_opts o = { .endpoints = f->ep.url };
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c4", "nodea", 2);
	struct bl_leader *lb = bl_leader_new(f->b, "/bollard/v1/leader/c4", "nodeb", 2);

	assert_int_equal(bl_leader_start_keepalive(la, &o), 0);
	assert_int_equal(bl_leader_tick(la, bl_now_ms()), 1);
	sleep(6);
	assert_true(bl_leader_valid(la, bl_now_ms()));
	assert_int_equal(bl_leader_tick(lb, bl_now_ms()), 0);
	assert_string_equal(bl_leader_holder(lb), "nodea");
	/* The tick still works alongside the thread. */
	assert_int_equal(bl_leader_tick(la, bl_now_ms() + 1000), 1);
	bl_leader_free(la);
	bl_leader_free(lb);
}

/* A real loss under the thread: the lease is revoked behind the leader's
 * back (as when etcd expired it). Without any tick, the thread's next
 * keepalive ends the leadership and bl_leader_valid() refuses leader work;
 * the other candidate then takes over. */
static void test_thread_notices_real_loss(void **state)
{
	struct fx *f = *state;
	struct bl_etcd_opts o = { .endpoints = f->ep.url };
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c5", "nodea", 3);
	struct bl_leader *lb = bl_leader_new(f->b, "/bollard/v1/leader/c5", "nodeb", 3);
	int64_t lease;
	int i;

	assert_int_equal(bl_leader_start_keepalive(la, &o), 0);
	assert_int_equal(bl_leader_tick(la, bl_now_ms()), 1);
	lease = key_lease(f->b, "/bollard/v1/leader/c5");
	assert_true(lease != 0);
	assert_int_equal(bl_etcd_lease_revoke(f->b, lease), 0);
	/* One keepalive period is ttl/3 = 1 s; allow a few. */
	for (i = 0; i < 50 && bl_leader_valid(la, bl_now_ms()); i++)
		usleep(100 * 1000);
	assert_false(bl_leader_valid(la, bl_now_ms()));
	assert_false(bl_leader_is_leader(la));
	assert_int_equal(bl_leader_tick(lb, bl_now_ms()), 1);
	assert_string_equal(bl_leader_holder(lb), "nodeb");
	bl_leader_free(la);
	bl_leader_free(lb);
}

/* etcd stops answering (SIGSTOP) for longer than the TTL: the thread's
 * keepalives get no answer, which alone does not end the leadership, but
 * the time bound does: bl_leader_valid() refuses leader work after the
 * last confirmed expiry. */
static void test_thread_no_answer_time_bound(void **state)
{
	struct fx *f = *state;
	struct bl_etcd_opts o = { .endpoints = f->ep.url, .timeout_ms = 1000 };
	struct bl_leader *la = bl_leader_new(f->a, "/bollard/v1/leader/c6", "nodea", 2);
	int i;

	assert_int_equal(bl_leader_start_keepalive(la, &o), 0);
	assert_int_equal(bl_leader_tick(la, bl_now_ms()), 1);
	assert_int_equal(etcd_proc_pause(&f->ep), 0);
	/* The bound is 2 s TTL minus a 0.4 s margin after the last confirmed
	 * keepalive; without it nothing would ever end the leadership here. */
	for (i = 0; i < 40 && bl_leader_valid(la, bl_now_ms()); i++)
		usleep(100 * 1000);
	assert_false(bl_leader_valid(la, bl_now_ms()));
	assert_int_equal(etcd_proc_resume(&f->ep), 0);
	bl_leader_free(la);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_leader_then_takeover),
		cmocka_unit_test(test_key_deleted_means_lost),
		cmocka_unit_test(test_stalled_leader_not_valid),
		cmocka_unit_test(test_thread_keeps_stalled_leader),
		cmocka_unit_test(test_thread_notices_real_loss),
		cmocka_unit_test(test_thread_no_answer_time_bound),
	};
	return cmocka_run_group_tests_name("leader", tests, setup, teardown);
}
