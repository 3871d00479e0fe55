/* Unit tests for controller/daemon/workqueue.c: dedup, ordering, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/workqueue.h"

static void test_dedup_and_fifo(void **state)
{
	struct bl_wq *q = bl_wq_new(NULL);
	assert_non_null(q);
	assert_int_equal(bl_wq_add(q, "a", 0, 0), 0);
	assert_int_equal(bl_wq_add(q, "b", 0, 0), 0);
	assert_int_equal(bl_wq_add(q, "a", 0, 0), 0);
	assert_int_equal(bl_wq_add(q, "c", 0, 0), 0);
	assert_int_equal(bl_wq_len(q), 3);
	assert_string_equal(bl_wq_get(q, 0, NULL), "a");
	assert_string_equal(bl_wq_get(q, 0, NULL), "b");
	assert_string_equal(bl_wq_get(q, 0, NULL), "c");
	assert_null(bl_wq_get(q, 0, NULL));
	bl_wq_done(q, "a", BL_WQ_OK, 0);
	bl_wq_done(q, "b", BL_WQ_OK, 0);
	bl_wq_done(q, "c", BL_WQ_OK, 0);
	assert_int_equal(bl_wq_len(q), 0);
	bl_wq_free(q);
}

static void test_not_handed_out_twice(void **state)
{
	struct bl_wq *q = bl_wq_new(NULL);
	const char *k;

	bl_wq_add(q, "x", 0, 0);
	k = bl_wq_get(q, 0, NULL);
	assert_string_equal(k, "x");
	/* Events while processing: merged into one re-run after done. */
	bl_wq_add(q, "x", 1, 0);
	bl_wq_add(q, "x", 2, 0);
	assert_null(bl_wq_get(q, 3, NULL));
	assert_int_equal(bl_wq_len(q), 0);
	bl_wq_done(q, "x", BL_WQ_OK, 3);
	assert_int_equal(bl_wq_len(q), 1);
	k = bl_wq_get(q, 3, NULL);
	assert_string_equal(k, "x");
	bl_wq_done(q, "x", BL_WQ_OK, 4);
	assert_null(bl_wq_get(q, 4, NULL));
	bl_wq_free(q);
}

static void test_backoff_doubles_and_caps(void **state)
{
	struct bl_wq_opts o = { .base_delay_ms = 100, .max_delay_ms = 1000 };
	struct bl_wq *q = bl_wq_new(&o);
	uint64_t now = 0, wait;
	uint64_t expect[] = { 100, 200, 400, 800, 1000, 1000 };
	size_t i;

	bl_wq_add(q, "k", now, 0);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		const char *k = bl_wq_get(q, now, NULL);
		assert_non_null(k);
		bl_wq_done(q, "k", BL_WQ_RETRY, now);
		assert_int_equal(bl_wq_failures(q, "k"), i + 1);
		assert_null(bl_wq_get(q, now, &wait));
		assert_int_equal(wait, expect[i]);
		assert_null(bl_wq_get(q, now + wait - 1, NULL));
		now += wait;
	}
	/* Success forgets the failures. */
	assert_non_null(bl_wq_get(q, now, NULL));
	bl_wq_done(q, "k", BL_WQ_OK, now);
	assert_int_equal(bl_wq_failures(q, "k"), 0);
	bl_wq_free(q);
}

static void test_event_during_backoff_runs_sooner(void **state)
{
	struct bl_wq_opts o = { .base_delay_ms = 5000, .max_delay_ms = 60000 };
	struct bl_wq *q = bl_wq_new(&o);
	uint64_t wait;

	bl_wq_add(q, "k", 0, 0);
	bl_wq_get(q, 0, NULL);
	bl_wq_done(q, "k", BL_WQ_RETRY, 0);
	assert_null(bl_wq_get(q, 10, &wait));
	assert_int_equal(wait, 4990);
	/* A new watch event must not wait out the backoff. */
	bl_wq_add(q, "k", 10, 0);
	assert_string_equal(bl_wq_get(q, 10, NULL), "k");
	bl_wq_free(q);
}

static void test_terminal_not_retried(void **state)
{
	struct bl_wq *q = bl_wq_new(NULL);
	uint64_t wait;

	bl_wq_add(q, "bad", 0, 0);
	bl_wq_get(q, 0, NULL);
	bl_wq_done(q, "bad", BL_WQ_TERMINAL, 0);
	assert_null(bl_wq_get(q, 1000000, &wait));
	assert_int_equal(wait, UINT64_MAX);
	assert_int_equal(bl_wq_failures(q, "bad"), 1);
	/* ...until a new event adds it again. */
	bl_wq_add(q, "bad", 5, 0);
	assert_string_equal(bl_wq_get(q, 5, NULL), "bad");
	bl_wq_free(q);
}

static void test_delayed_order(void **state)
{
	struct bl_wq *q = bl_wq_new(NULL);
	uint64_t wait;

	bl_wq_add(q, "late", 0, 300);
	bl_wq_add(q, "soon", 0, 100);
	assert_null(bl_wq_get(q, 50, &wait));
	assert_int_equal(wait, 50);
	assert_string_equal(bl_wq_get(q, 100, NULL), "soon");
	assert_null(bl_wq_get(q, 299, NULL));
	/* An earlier add of a queued key moves it forward. */
	bl_wq_add(q, "late", 100, 0);
	assert_string_equal(bl_wq_get(q, 100, NULL), "late");
	bl_wq_free(q);
}

static void test_many_keys(void **state)
{
	struct bl_wq *q = bl_wq_new(NULL);
	char key[64];
	int i, n = 0;
	const char *k;

	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "/bollard/v1/objects/Volume/v%d", i);
		assert_int_equal(bl_wq_add(q, key, 0, 0), 0);
	}
	for (i = 0; i < 20000; i += 2) {   /* duplicates merge */
		snprintf(key, sizeof(key), "/bollard/v1/objects/Volume/v%d", i);
		bl_wq_add(q, key, 0, 0);
	}
	assert_int_equal(bl_wq_len(q), 20000);
	while ((k = bl_wq_get(q, 0, NULL)) != NULL) {
		snprintf(key, sizeof(key), "/bollard/v1/objects/Volume/v%d", n);
		assert_string_equal(k, key);   /* FIFO */
		bl_wq_done(q, k, BL_WQ_OK, 0);
		n++;
	}
	assert_int_equal(n, 20000);
	bl_wq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup_and_fifo),
		cmocka_unit_test(test_not_handed_out_twice),
		cmocka_unit_test(test_backoff_doubles_and_caps),
		cmocka_unit_test(test_event_during_backoff_runs_sooner),
		cmocka_unit_test(test_terminal_not_retried),
		cmocka_unit_test(test_delayed_order),
		cmocka_unit_test(test_many_keys),
	};
	return cmocka_run_group_tests_name("workqueue", tests, NULL, NULL);
}
