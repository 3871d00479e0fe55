/*
 * test_cli_plan.c - apply's planner (controller/cli/plan.c) against
 * hand-built snapshots: verbs, generations, uid/creationTimestamp kept,
 * DRBD minor allocation per cluster (carry, lowest free, clashes, ports,
 * guard keys) and prune selection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bl_schema.h"
#include "cli.h"

#define HDR "apiVersion: bollard.io/v1alpha1\n"

static char *vol(const char *name, const char *cluster, const char *repl,
		 const char *labels)
{
	char *s = NULL;

	assert_true(asprintf(&s, "---\n" HDR "kind: Volume\n"
			     "metadata: {name: %s, labels: {%s}}\n"
			     "spec:\n  cluster: %s\n  size: 1Gi\n"
			     "  backing: {type: lvm, vg: vg0}\n"
			     "  replication: %s\n",
			     name, labels ? labels : "", cluster, repl) > 0);
	return s;
}

/* Parse YAML (documents concatenated from parts, NULL-terminated; each
 * part is freed). */
static void parse(struct bl_objlist *l, ...)
{
	va_list ap;
	char *all = strdup(""), *part;
	struct bl_diag d = { 0 };
	int rc;

	bl_objlist_init(l);
	va_start(ap, l);
	while ((part = va_arg(ap, char *))) {
		char *n = NULL;

		assert_true(asprintf(&n, "%s%s", all, part) > 0);
		free(all);
		free(part);
		all = n;
	}
	va_end(ap);
	rc = bl_parse_buf("test.yaml", all, strlen(all), l, &d);
	if (rc)
		bl_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	bl_diag_free(&d);
	free(all);
	bl_objlist_sort_apply(l);
}

/* A snapshot as apply would read it: server fields set, mod revisions. */
static void snapshot(struct store_snap *s, struct bl_objlist *l)
{
	memset(s, 0, sizeof(*s));
	s->v = calloc(l->n + 1, sizeof(*s->v));
	assert_non_null(s->v);
	for (size_t i = 0; i < l->n; i++) {
		assert_int_equal(bl_obj_init_server_fields(l->v[i]), 0);
		l->v[i]->resource_version = 100 + (int64_t)i;
		s->v[s->n++] = l->v[i];
	}
	free(l->v);                 /* objects now belong to the snapshot */
	memset(l, 0, sizeof(*l));
	s->revision = 200;
	store_snap_sort(s);
}

static const struct plan_item *item(const struct plan *p, const char *kind,
				    const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].obj->kind, kind) &&
		    !strcmp(p->v[i].obj->name, name))
			return &p->v[i];
	fail_msg("no plan item %s/%s", kind, name);
	return NULL;
}

static int64_t repl_int(const struct plan_item *it, const char *field)
{
	json_t *r = json_object_get(it->obj->spec, "replication");
	json_t *v = json_object_get(r, field);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static char *cluster_yaml(const char *name)
{
	char *s = NULL;

	assert_true(asprintf(&s, "---\n" HDR "kind: Cluster\n"
			     "metadata: {name: %s}\n"
			     "spec:\n  nodes: [{name: a, address: 10.0.0.1},"
			     " {name: b, address: 10.0.0.2}]\n", name) > 0);
	return s;
}

static void test_new_objects_get_minors_per_cluster(void **state)
{
	struct bl_objlist want;
	struct store_snap snap = { 0 };
	struct bl_diag d = { 0 };
	struct plan p;

	parse(&want, cluster_yaml("a"), cluster_yaml("b"),
	      vol("x", "a", "{protocol: C}", NULL),
	      vol("y", "a", "{protocol: C}", NULL),
	      vol("z", "b", "{protocol: C}", NULL),
	      vol("n", "a", "none", NULL), NULL);
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	assert_int_equal(p.n, 6);
	assert_int_equal(item(&p, "Volume", "x")->act, ACT_CREATED);
	assert_int_equal(repl_int(item(&p, "Volume", "x"), "minor"), 0);
	assert_int_equal(repl_int(item(&p, "Volume", "x"), "port"), 7788);
	assert_int_equal(repl_int(item(&p, "Volume", "y"), "minor"), 1);
	assert_int_equal(repl_int(item(&p, "Volume", "y"), "port"), 7789);
	assert_int_equal(repl_int(item(&p, "Volume", "z"), "minor"), 0);
	/* replication: none gets nothing */
	assert_true(json_is_string(json_object_get(
		item(&p, "Volume", "n")->obj->spec, "replication")));
	/* both clusters allocated: both guards bumped */
	assert_int_equal(p.nguards, 2);
	/* server fields for new objects */
	assert_int_equal(item(&p, "Volume", "x")->obj->generation, 1);
	assert_non_null(item(&p, "Volume", "x")->obj->uid);
	assert_non_null(item(&p, "Volume", "x")->json);
	plan_free(&p);
	bl_objlist_free(&want);
	bl_diag_free(&d);
}

static void test_minors_kept_and_holes_filled(void **state)
{
	struct bl_objlist stored, want;
	struct store_snap snap;
	struct bl_diag d = { 0 };
	struct plan p;
	const struct plan_item *it;

	parse(&stored, cluster_yaml("a"),
	      vol("old0", "a", "{minor: 0}", NULL),
	      vol("old2", "a", "{minor: 2, port: 9000}", NULL),
	      vol("keep5", "a", "{minor: 5}", NULL), NULL);
	snapshot(&snap, &stored);
	/* old2 re-applied without minor/port: keeps 2 and 9000; two new
	 * volumes take the holes 1 and 3; keep5 is not in the files (no
	 * prune) and still holds 5. */
	parse(&want, cluster_yaml("a"),
	      vol("old2", "a", "{protocol: C}", NULL),
	      vol("new1", "a", "{}", NULL),
	      vol("new2", "a", "{}", NULL), NULL);
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	it = item(&p, "Volume", "old2");
	assert_int_equal(repl_int(it, "minor"), 2);
	assert_int_equal(repl_int(it, "port"), 9000);
	assert_int_equal(it->act, ACT_UNCHANGED);
	assert_int_equal(repl_int(item(&p, "Volume", "new1"), "minor"), 1);
	assert_int_equal(repl_int(item(&p, "Volume", "new2"), "minor"), 3);
	assert_int_equal(repl_int(item(&p, "Volume", "new2"), "port"), 7791);
	assert_int_equal(item(&p, "Cluster", "a")->act, ACT_UNCHANGED);
	assert_int_equal(p.nguards, 1);
	assert_string_equal(p.guards[0], "a");
	plan_free(&p);
	bl_objlist_free(&want);
	store_snap_free(&snap);
	bl_diag_free(&d);
}

static void test_no_allocation_no_guard(void **state)
{
	struct bl_objlist stored, want;
	struct store_snap snap;
	struct bl_diag d = { 0 };
	struct plan p;

	parse(&stored, cluster_yaml("a"),
	      vol("v", "a", "{minor: 4, port: 7792}", NULL), NULL);
	snapshot(&snap, &stored);
	parse(&want, cluster_yaml("a"), vol("v", "a", "{}", NULL), NULL);
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	assert_int_equal(p.nguards, 0);
	assert_int_equal(item(&p, "Volume", "v")->act, ACT_UNCHANGED);
	plan_free(&p);
	bl_objlist_free(&want);
	store_snap_free(&snap);
	bl_diag_free(&d);
}

static void test_minor_clashes_are_errors(void **state)
{
	struct bl_objlist stored, want;
	struct store_snap snap;
	struct bl_diag d = { 0 };
	struct plan p;

	parse(&stored, cluster_yaml("a"), vol("s", "a", "{minor: 7}", NULL),
	      NULL);
	snapshot(&snap, &stored);
	parse(&want, cluster_yaml("a"), vol("v", "a", "{minor: 7}", NULL),
	      NULL);
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d),
			 BL_E_INVALID);
	assert_int_equal(bl_diag_count(&d), 1);
	assert_string_equal(d.v[0].path, "spec.replication.minor");
	assert_non_null(strstr(d.v[0].msg, "minor 7"));
	assert_int_equal(d.v[0].line, 15); /* replication: line, 2nd doc */
	bl_diag_free(&d);
	bl_objlist_free(&want);
	/* Same minor in another cluster is fine. */
	parse(&want, cluster_yaml("b"), vol("v", "b", "{minor: 7}", NULL),
	      NULL);
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	plan_free(&p);
	bl_objlist_free(&want);
	store_snap_free(&snap);
	bl_diag_free(&d);
}

static void test_generation_and_server_fields(void **state)
{
	struct bl_objlist stored, want;
	struct store_snap snap;
	struct bl_diag d = { 0 };
	struct plan p;
	const struct plan_item *it;
	char uid[64], ts[64];

	parse(&stored, cluster_yaml("a"),
	      vol("lab", "a", "{minor: 0, port: 7788}", NULL),
	      vol("grow", "a", "{minor: 1, port: 7789}", NULL), NULL);
	snapshot(&snap, &stored);
	snprintf(uid, sizeof(uid), "%s", store_find(&snap, "Volume", "grow")->uid);
	snprintf(ts, sizeof(ts), "%s",
		 store_find(&snap, "Volume", "grow")->creation_timestamp);
	store_find(&snap, "Volume", "grow")->generation = 4;
	store_find(&snap, "Volume", "lab")->generation = 4;
	parse(&want, cluster_yaml("a"),
	      vol("lab", "a", "{}", "team: x"),
	      vol("grow", "a", "{}", NULL), NULL);
	/* grow gets a bigger size */
	json_object_set_new(bl_objlist_find(&want, "Volume", "grow")->spec,
			    "size", json_integer(2LL << 30));
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	it = item(&p, "Volume", "lab");
	assert_int_equal(it->act, ACT_CONFIGURED);
	assert_int_equal(it->obj->generation, 4); /* labels only */
	it = item(&p, "Volume", "grow");
	assert_int_equal(it->act, ACT_CONFIGURED);
	assert_int_equal(it->obj->generation, 5);
	assert_string_equal(it->obj->uid, uid);
	assert_string_equal(it->obj->creation_timestamp, ts);
	assert_non_null(strstr(it->json, uid));
	assert_null(strstr(it->json, "resourceVersion"));
	plan_free(&p);
	bl_objlist_free(&want);
	store_snap_free(&snap);
	bl_diag_free(&d);
}

static void test_prune_selects_labelled_missing_only(void **state)
{
	struct bl_objlist stored, want;
	struct store_snap snap;
	struct bl_diag d = { 0 };
	struct selector sel;
	char err[64];
	struct plan p;
	size_t npruned = 0;

	parse(&stored, cluster_yaml("a"),
	      vol("kept", "a", "none", "app: web"),
	      vol("gone", "a", "none", "app: web"),
	      vol("other", "a", "none", "app: db"),
	      vol("bare", "a", "none", NULL), NULL);
	snapshot(&snap, &stored);
	parse(&want, vol("kept", "a", "none", "app: web"), NULL);
	assert_int_equal(selector_parse("app=web", &sel, err, sizeof(err)), 0);
	assert_int_equal(plan_build(&want, &snap, &sel, &p, &d), 0);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].act == ACT_PRUNED) {
			npruned++;
			assert_string_equal(p.v[i].obj->name, "gone");
			assert_ptr_equal(p.v[i].stored,
					 store_find(&snap, "Volume", "gone"));
		}
	assert_int_equal(npruned, 1);
	plan_free(&p);
	/* Without a selector nothing is pruned. */
	assert_int_equal(plan_build(&want, &snap, NULL, &p, &d), 0);
	assert_int_equal(p.n, 1);
	plan_free(&p);
	selector_free(&sel);
	bl_objlist_free(&want);
	store_snap_free(&snap);
	bl_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_objects_get_minors_per_cluster),
		cmocka_unit_test(test_minors_kept_and_holes_filled),
		cmocka_unit_test(test_no_allocation_no_guard),
		cmocka_unit_test(test_minor_clashes_are_errors),
		cmocka_unit_test(test_generation_and_server_fields),
		cmocka_unit_test(test_prune_selects_labelled_missing_only),
	};

	return cmocka_run_group_tests_name("cli_plan", tests, NULL, NULL);
}
