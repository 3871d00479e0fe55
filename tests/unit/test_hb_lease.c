/* The heartbeat lease's keeper thread (controller/daemon/hb_lease.c)
 * against a real etcd: a key bound to the lease outlives several TTLs
 * while nobody but the thread does anything (the main loop stalled in a
 * long round); a lease revoked under it is replaced, and the change is
 * visible to the caller; stopping with revoke takes the keys with it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_etcd.h"
#include "daemon/hb_lease.h"
#include "etcd_proc.h"

struct fx {
	struct etcd_proc ep;
	struct bl_etcd_opts o;
	struct bl_etcd *e;
};

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (etcd_proc_start(&f.ep, NULL) < 0)
		return -1;
	f.o.endpoints = f.ep.url;
	if (bl_etcd_open(&f.o, &f.e) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	bl_etcd_close(f->e);
	etcd_proc_cleanup(&f->ep);
	return 0;
}

static bool key_exists(struct bl_etcd *e, const char *key)
{
	struct bl_kvs kv;
	bool there;

	assert_int_equal(bl_etcd_get(e, key, false, 0, 0, true, &kv), 0);
	there = kv.n == 1;
	bl_kvs_free(&kv);
	return there;
}

/* Poll (10 s at most) until the keeper has a lease whose change count
 * differs from *changes; returns it. */
static int64_t wait_lease(struct bl_hb_lease *k, uint64_t *changes)
{
	for (int i = 0; i < 200; i++) {
		uint64_t ch;
		int64_t id = bl_hb_lease_get(k, &ch);

		if (id && ch != *changes) {
			*changes = ch;
			return id;
		}
		usleep(50 * 1000);
	}
	fail_msg("no new heartbeat lease within 10 s");
	return 0;
}

static void test_kept_while_loop_stalls(void **state)
{
	struct fx *f = *state;
	struct bl_hb_lease *k = NULL;
	uint64_t changes = 0;
	int64_t id;

	assert_int_equal(bl_hb_lease_start(&f->o, 2, &k), 0);
	id = wait_lease(k, &changes);
	assert_int_equal(bl_etcd_put(f->e, "/t/hb/a", "x", 1, id, NULL), 0);
	/* 3 TTLs with no caller activity: only the thread renews. */
	sleep(6);
	assert_true(key_exists(f->e, "/t/hb/a"));
	assert_int_equal(bl_hb_lease_get(k, NULL), id);
	/* Stopping with revoke takes the bound key at once. */
	bl_hb_lease_stop(k, true);
	assert_false(key_exists(f->e, "/t/hb/a"));
}

static void test_lost_lease_replaced(void **state)
{
	struct fx *f = *state;
	struct bl_hb_lease *k = NULL;
	uint64_t changes = 0, before;
	int64_t id, id2;

	assert_int_equal(bl_hb_lease_start(&f->o, 2, &k), 0);
	id = wait_lease(k, &changes);
	assert_int_equal(bl_etcd_put(f->e, "/t/hb/b", "x", 1, id, NULL), 0);
	/* etcd drops the lease (as when it expired): the key goes, the
	 * thread gets a new lease and the caller sees the change. */
	before = changes;
	assert_int_equal(bl_etcd_lease_revoke(f->e, id), 0);
	assert_false(key_exists(f->e, "/t/hb/b"));
	id2 = wait_lease(k, &changes);
	assert_true(changes > before);
	assert_int_not_equal(id2, id);
	/* the new one works: a key bound to it is kept */
	assert_int_equal(bl_etcd_put(f->e, "/t/hb/b", "y", 1, id2, NULL), 0);
	sleep(3);
	assert_true(key_exists(f->e, "/t/hb/b"));
	bl_hb_lease_stop(k, false);
	/* without revoke the lease stays until its TTL */
	assert_true(key_exists(f->e, "/t/hb/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_while_loop_stalls),
		cmocka_unit_test(test_lost_lease_replaced),
	};

	return cmocka_run_group_tests_name("hb_lease", tests, setup, teardown);
}
