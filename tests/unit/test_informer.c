/* Unit tests for controller/daemon/informer.c: the cache and its events,
 * fed directly (the etcd side is covered by the integration tests). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/informer.h"

struct rec {
	int changes;
	int errors;
	char last[256];
};

static void on_change(void *arg, const char *key, const char *kind, const char *name)
{
	struct rec *r = arg;
	r->changes++;
	snprintf(r->last, sizeof(r->last), "%s|%s|%s", key, kind, name);
}

static void on_error(void *arg, const char *key, const char *msg)
{
	struct rec *r = arg;
	r->errors++;
}

static const struct bl_informer_ops ops = { on_change, on_error };

#define CLUSTER(n) "{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Cluster\"," \
	"\"metadata\":{\"name\":\"" n "\",\"uid\":\"u-" n "\",\"generation\":1}," \
	"\"spec\":{\"nodes\":[{\"name\":\"a\",\"address\":\"127.0.0.1\"}]}}"

static void put(struct bl_informer *inf, const char *kind, const char *name,
		const char *json, int64_t rev)
{
	char key[256];
	bl_object_key(key, sizeof(key), kind, name);
	bl_informer_apply(inf, key, json, json ? strlen(json) : 0, rev);
}

static void count_cb(void *arg, const struct bl_obj *obj)
{
	(*(int *)arg)++;
}

static void test_put_get_delete(void **state)
{
	struct rec r = { 0 };
	struct bl_informer *inf = bl_informer_new(&ops, &r);
	const struct bl_obj *o;

	put(inf, "Cluster", "c1", CLUSTER("c1"), 5);
	assert_int_equal(r.changes, 1);
	assert_string_equal(r.last, "/bollard/v1/objects/Cluster/c1|Cluster|c1");
	o = bl_informer_get(inf, "Cluster", "c1");
	assert_non_null(o);
	assert_int_equal(o->resource_version, 5);
	assert_string_equal(o->uid, "u-c1");
	assert_int_equal(bl_informer_revision(inf), 5);

	put(inf, "Cluster", "c1", NULL, 7);
	assert_int_equal(r.changes, 2);
	assert_null(bl_informer_get(inf, "Cluster", "c1"));
	/* Deleting what we never had is not a change. */
	put(inf, "Cluster", "zz", NULL, 8);
	assert_int_equal(r.changes, 2);
	bl_informer_free(inf);
}

static void test_bad_values_dropped(void **state)
{
	struct rec r = { 0 };
	struct bl_informer *inf = bl_informer_new(&ops, &r);

	put(inf, "Cluster", "c1", CLUSTER("c1"), 1);
	/* Corrupt value for a cached key: error reported, object dropped, and
	 * the key still enqueued so the controller sees it gone. */
	put(inf, "Cluster", "c1", "{not json", 2);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.changes, 2);
	assert_null(bl_informer_get(inf, "Cluster", "c1"));
	/* Name in the value must match the key. */
	put(inf, "Cluster", "other", CLUSTER("c1"), 3);
	assert_int_equal(r.errors, 2);
	assert_null(bl_informer_get(inf, "Cluster", "other"));
	/* Not an object key at all. */
	bl_informer_apply(inf, "/bollard/v1/objects/junk", "{}", 2, 4);
	assert_int_equal(r.errors, 3);
	bl_informer_free(inf);
}

static void test_foreach_by_kind(void **state)
{
	struct rec r = { 0 };
	struct bl_informer *inf = bl_informer_new(&ops, &r);
	char name[32], json[512];
	int i, n;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "c%03d", 299 - i);
		snprintf(json, sizeof(json),
			 "{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Cluster\","
			 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"nodes\":"
			 "[{\"name\":\"a\",\"address\":\"127.0.0.1\"}]}}", name);
		put(inf, "Cluster", name, json, i + 1);
	}
	assert_int_equal(bl_informer_count(inf), 300);
	n = 0;
	bl_informer_foreach(inf, "Cluster", count_cb, &n);
	assert_int_equal(n, 300);
	n = 0;
	bl_informer_foreach(inf, "Volume", count_cb, &n);
	assert_int_equal(n, 0);
	n = 0;
	bl_informer_foreach(inf, NULL, count_cb, &n);
	assert_int_equal(n, 300);
	assert_non_null(bl_informer_get(inf, "Cluster", "c150"));
	bl_informer_free(inf);
}

#define VOLUME(n, cl) "{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Volume\"," \
	"\"metadata\":{\"name\":\"" n "\",\"uid\":\"u-" n "\",\"generation\":1}," \
	"\"spec\":{\"cluster\":\"" cl "\",\"size\":1048576,\"backing\":{\"type\":\"file\"," \
	"\"path\":\"/x/" n ".img\"},\"replication\":\"none\"}}"

/* Compact kinds: stored as text, parsed on demand, dropped by trim; the
 * cluster name is known without parsing; other kinds stay parsed. */
static void test_compact(void **state)
{
	static const char *const compact[] = { "Volume", NULL };
	struct rec r = { 0 };
	struct bl_informer *inf = bl_informer_new(&ops, &r);
	const struct bl_obj *o, *again;
	size_t text, parsed;
	int n = 0;

	bl_informer_set_compact(inf, compact);
	put(inf, "Cluster", "c1", CLUSTER("c1"), 2);
	put(inf, "Volume", "v1", VOLUME("v1", "c1"), 3);
	put(inf, "Volume", "v2", VOLUME("v2", "c1"), 4);
	/* a Volume that does not validate is dropped like any other */
	put(inf, "Volume", "bad", "{\"kind\":\"Volume\"}", 5);
	assert_int_equal(r.errors, 1);
	assert_int_equal(bl_informer_count(inf), 3);
	bl_informer_usage(inf, &text, &parsed);
	assert_int_equal(parsed, 1);            /* only the Cluster */
	assert_int_equal(text, 2 * strlen(VOLUME("v1", "c1")));
	assert_string_equal(bl_informer_cluster(inf, "Volume", "v2"), "c1");
	assert_string_equal(bl_informer_cluster(inf, "Cluster", "c1"), "c1");
	assert_null(bl_informer_cluster(inf, "Volume", "nope"));

	o = bl_informer_get(inf, "Volume", "v1");
	assert_non_null(o);
	assert_string_equal(o->uid, "u-v1");
	assert_int_equal(o->resource_version, 3);
	again = bl_informer_get(inf, "Volume", "v1");
	assert_ptr_equal(o, again);             /* cached until trim */
	bl_informer_foreach(inf, "Volume", count_cb, &n);
	assert_int_equal(n, 2);
	bl_informer_usage(inf, &text, &parsed);
	assert_int_equal(parsed, 3);
	assert_int_equal(bl_informer_trim(inf), 2);
	bl_informer_usage(inf, &text, &parsed);
	assert_int_equal(parsed, 1);
	assert_int_equal(bl_informer_trim(inf), 0);
	o = bl_informer_get(inf, "Volume", "v2");
	assert_non_null(o);
	assert_string_equal(o->name, "v2");

	/* load: a fresh copy each time, never cached (nothing to trim) */
	{
		struct bl_obj *l1, *l2;

		assert_int_equal(bl_informer_trim(inf), 1);
		l1 = bl_informer_load(inf, "Volume", "v1");
		l2 = bl_informer_load(inf, "Volume", "v1");
		assert_non_null(l1);
		assert_non_null(l2);
		assert_ptr_not_equal(l1, l2);
		assert_string_equal(l1->uid, "u-v1");
		assert_int_equal(l1->resource_version, 3);
		bl_informer_usage(inf, &text, &parsed);
		assert_int_equal(parsed, 1);        /* only the Cluster */
		bl_obj_free(l1);
		bl_obj_free(l2);
		l1 = bl_informer_load(inf, "Cluster", "c1");   /* not compact: a copy */
		assert_non_null(l1);
		assert_ptr_not_equal(l1, bl_informer_get(inf, "Cluster", "c1"));
		bl_obj_free(l1);
		assert_null(bl_informer_load(inf, "Volume", "nope"));
		o = bl_informer_get(inf, "Volume", "v2");
	}

	/* an update replaces the text; a delete removes it */
	put(inf, "Volume", "v2", VOLUME("v2", "c9"), 6);
	assert_string_equal(bl_informer_cluster(inf, "Volume", "v2"), "c9");
	o = bl_informer_get(inf, "Volume", "v2");
	assert_int_equal(o->resource_version, 6);
	put(inf, "Volume", "v2", NULL, 7);
	assert_null(bl_informer_get(inf, "Volume", "v2"));
	bl_informer_free(inf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_delete),
		cmocka_unit_test(test_bad_values_dropped),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_foreach_by_kind),
	};
	return cmocka_run_group_tests_name("informer", tests, NULL, NULL);
}
