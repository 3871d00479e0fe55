/*
 * test_schema_refs.c - cross references: resolved in the applied list, then
 * through the lookup callback; dangling ones reported at their marks;
 * duplicates; the Volume-in-the-Target's-cluster rule; apply order.
 */
#include <errno.h>

#include "test_schema_util.h"

static const char objs[] =
	HDR "kind: Target\nmetadata: {name: t}\nspec:\n"   /* 1-4 */
	"  cluster: c1\n"                                  /* 5 */
	"  iqn: iqn.2026-11.io.x:t\n"                      /* 6 */
	"  luns:\n"                                        /* 7 */
	"  - {lun: 0, volume: v1}\n"                       /* 8 */
	"  - {lun: 1, volume: ghost}\n"                    /* 9 */
	"  acls:\n"                                        /* 10 */
	"  - {initiator: \"*\", chapSecretRef: nosecret}\n" /* 11 */
	"  auth: {chapSecretRef: s1, mutualChapSecretRef: s2}\n" /* 12 */
	"---\n"                                            /* 13 */
	HDR "kind: Volume\nmetadata: {name: v1}\nspec:\n"  /* 14-17 */
	"  cluster: c1\n  size: 1Mi\n"                     /* 18-19 */
	"  backing: {type: file, path: v1.img}\n"          /* 20 */
	"  replication: none\n"                            /* 21 */
	"---\n"                                            /* 22 */
	HDR "kind: Secret\nmetadata: {name: s1}\n"         /* 23-25 */
	"data: {username: u, password: \"0123456789ab\"}\n" /* 26 */
	"---\n"                                            /* 27 */
	HDR "kind: Cluster\nmetadata: {name: c1}\n"        /* 28-30 */
	"spec: {nodes: [{name: a, address: 10.0.0.1}]}\n"; /* 31 */

static char *check(const struct bl_objlist *l, bl_lookup_fn fn, void *arg,
		   int *rc)
{
	struct bl_diag d;
	char *out = NULL;
	size_t n;
	FILE *f;

	bl_diag_init(&d);
	*rc = bl_check_refs(l, fn, arg, &d);
	f = open_memstream(&out, &n);
	bl_diag_print(&d, f);
	fclose(f);
	bl_diag_free(&d);
	return out;
}

static void t_list_only(void **state)
{
	struct bl_objlist l;
	char *out;
	int rc;

	expect_ok(objs, 4, &l);
	out = check(&l, NULL, NULL, &rc);
	assert_int_equal(rc, BL_E_REF);
	assert_string_equal(out,
		"t.yaml:9:22: spec.luns[1].volume: no Volume named 'ghost' "
		"among the objects being applied\n"
		"t.yaml:11:37: spec.acls[0].chapSecretRef: no Secret named "
		"'nosecret' among the objects being applied\n"
		"t.yaml:12:50: spec.auth.mutualChapSecretRef: no Secret named "
		"'s2' among the objects being applied\n");
	free(out);
	bl_objlist_free(&l);
}

struct store {
	int calls;
	int fail_with;
};

/* A pretend store holding Volume ghost (in cluster c2), Secret s2. */
static int lookup(void *arg, const char *kind, const char *name,
		  struct bl_obj **out)
{
	struct store *s = arg;
	static const char ghost[] =
		"{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Volume\","
		"\"metadata\":{\"name\":\"ghost\",\"uid\":\"u\",\"generation\":1},"
		"\"spec\":{\"cluster\":\"c2\",\"size\":1048576,"
		"\"backing\":{\"type\":\"file\",\"path\":\"g\"},"
		"\"replication\":\"none\"}}";

	s->calls++;
	if (s->fail_with)
		return s->fail_with;
	if (!strcmp(kind, "Volume") && !strcmp(name, "ghost"))
		return bl_obj_from_json(ghost, strlen(ghost), out, NULL);
	if (!strcmp(kind, "Secret") && !strcmp(name, "s2"))
		return 0;               /* exists, object not given */
	return -ENOENT;
}

static void t_with_lookup(void **state)
{
	struct bl_objlist l;
	struct store s = { 0 };
	char *out;
	int rc;

	expect_ok(objs, 4, &l);
	out = check(&l, lookup, &s, &rc);
	assert_int_equal(rc, BL_E_REF);
	assert_string_equal(out,
		"t.yaml:9:22: spec.luns[1].volume: Volume 'ghost' is in "
		"cluster 'c2', not in this Target's cluster 'c1'\n"
		"t.yaml:11:37: spec.acls[0].chapSecretRef: no Secret named "
		"'nosecret'\n");
	/* ghost, nosecret, s2: the list's own objects are not looked up */
	assert_int_equal(s.calls, 3);
	free(out);

	/* a store error aborts with that code */
	s.fail_with = BL_E_UNAVAILABLE;
	out = check(&l, lookup, &s, &rc);
	assert_int_equal(rc, BL_E_UNAVAILABLE);
	free(out);
	bl_objlist_free(&l);
}

static void t_cache(void **state)
{
	struct bl_objlist l;
	struct store s = { 0 };
	char *out;
	int rc;

	/* six references to one missing Secret: one lookup */
	expect_ok(HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		  "  cluster: c1\n  iqn: iqn.2026-11.io.x:t\n  acls:\n"
		  "  - {initiator: \"iqn.2026-11.io.x:a\", chapSecretRef: z}\n"
		  "  - {initiator: \"iqn.2026-11.io.x:b\", chapSecretRef: z}\n"
		  "  - {initiator: \"iqn.2026-11.io.x:c\", chapSecretRef: z}\n"
		  "  - {initiator: \"iqn.2026-11.io.x:d\", chapSecretRef: z}\n"
		  "  - {initiator: \"iqn.2026-11.io.x:e\", chapSecretRef: z}\n"
		  "  auth: {chapSecretRef: z}\n", 1, &l);
	out = check(&l, lookup, &s, &rc);
	assert_int_equal(rc, BL_E_REF);
	assert_int_equal(s.calls, 2);    /* Cluster c1, Secret z */
	free(out);
	bl_objlist_free(&l);
}

static void t_duplicates(void **state)
{
	struct bl_objlist l;
	char *out;
	int rc;

	expect_ok(HDR "kind: Secret\nmetadata: {name: s}\n"
		  "data: {username: u, password: \"0123456789ab\"}\n---\n"
		  HDR "kind: Cluster\nmetadata: {name: s}\n"
		  "spec: {nodes: [{name: a, address: 10.0.0.1}]}\n---\n"
		  HDR "kind: Secret\nmetadata:\n  name: s\n"
		  "data: {username: v, password: \"0123456789ab\"}\n", 3, &l);
	out = check(&l, NULL, NULL, &rc);
	assert_int_equal(rc, BL_E_INVALID);
	assert_string_equal(out, "t.yaml:14:9: metadata.name: duplicate "
			    "Secret 's' (also defined at t.yaml:3:18)\n");
	free(out);
	bl_objlist_free(&l);
}

static void t_all_resolved(void **state)
{
	struct bl_objlist l;
	char *out;
	int rc;

	expect_ok(HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		  "  cluster: c1\n  iqn: iqn.2026-11.io.x:t\n"
		  "  luns: [{lun: 0, volume: v1}]\n---\n"
		  HDR "kind: Volume\nmetadata: {name: v1}\nspec:\n"
		  "  cluster: c1\n  size: 1Mi\n"
		  "  backing: {type: file, path: v1.img}\n"
		  "  replication: none\n---\n"
		  HDR "kind: Rollout\nmetadata: {name: r}\n"
		  "spec: {clusterSelector: {matchLabels: {a: b}}}\n---\n"
		  HDR "kind: Cluster\nmetadata: {name: c1}\n"
		  "spec: {nodes: [{name: a, address: 10.0.0.1}]}\n", 4, &l);
	out = check(&l, NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);

	/* apply order: Cluster, Secret, Volume, Target, Rollout */
	bl_objlist_sort_apply(&l);
	assert_string_equal(l.v[0]->kind, "Cluster");
	assert_string_equal(l.v[1]->kind, "Volume");
	assert_string_equal(l.v[2]->kind, "Target");
	assert_string_equal(l.v[3]->kind, "Rollout");
	assert_non_null(bl_objlist_find(&l, "Volume", "v1"));
	assert_null(bl_objlist_find(&l, "Volume", "c1"));
	bl_objlist_free(&l);
}

struct refs {
	char buf[512];
	size_t n;
	int stop_after;
};

static int collect(void *arg, const char *kind, const char *name,
		   const char *path)
{
	struct refs *r = arg;

	r->n += (size_t)snprintf(r->buf + r->n, sizeof(r->buf) - r->n,
				 "%s/%s@%s;", kind, name, path);
	return --r->stop_after == 0 ? 7 : 0;
}

static void t_foreach_ref(void **state)
{
	struct bl_objlist l;
	struct refs r = { .n = 0, .stop_after = 100 };

	expect_ok(objs, 4, &l);
	assert_int_equal(bl_obj_foreach_ref(l.v[0], collect, &r), 0);
	assert_string_equal(r.buf,
		"Cluster/c1@spec.cluster;Volume/v1@spec.luns[0].volume;"
		"Volume/ghost@spec.luns[1].volume;"
		"Secret/nosecret@spec.acls[0].chapSecretRef;"
		"Secret/s1@spec.auth.chapSecretRef;"
		"Secret/s2@spec.auth.mutualChapSecretRef;");
	r.n = 0;
	r.buf[0] = 0;
	assert_int_equal(bl_obj_foreach_ref(l.v[1], collect, &r), 0);
	assert_string_equal(r.buf, "Cluster/c1@spec.cluster;");
	r.n = 0;
	r.buf[0] = 0;
	assert_int_equal(bl_obj_foreach_ref(l.v[2], collect, &r), 0);
	assert_string_equal(r.buf, "");
	/* the callback's non-zero return stops the walk */
	r.stop_after = 2;
	assert_int_equal(bl_obj_foreach_ref(l.v[0], collect, &r), 7);
	bl_objlist_free(&l);
}

/* Many objects: duplicates and dangling references are found in one
 * hashed pass, messages stop at the cap, apply order stays stable. */
static void t_scale(void **state)
{
	size_t n = 20000, i;
	char *b = malloc(n * 512 + 512), *p = b;
	struct bl_objlist l;
	struct bl_diag d;
	char *out = NULL;
	int rc;

	for (i = 0; i < n; i++) {
		/* every Secret twice; each Target refers to a missing Volume */
		p += sprintf(p, HDR "kind: Target\nmetadata: {name: t%zu}\n"
			     "spec: {cluster: c, iqn: \"iqn.2026-11.io.x:t\","
			     " luns: [{lun: 0, volume: v%zu}]}\n---\n", i, i);
		p += sprintf(p, HDR "kind: Secret\nmetadata: {name: s%zu}\n"
			     "data: {username: u, password: \"0123456789ab\"}"
			     "\n---\n", i % (n / 2));
	}
	p += sprintf(p, HDR "kind: Cluster\nmetadata: {name: c}\n"
		     "spec: {nodes: [{name: a, address: 10.0.0.1}]}\n");
	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_buf("big.yaml", b, (size_t)(p - b), &l, &d),
			 0);
	assert_int_equal(l.n, 2 * n + 1);
	out = check(&l, NULL, NULL, &rc);
	assert_int_equal(rc, BL_E_INVALID);
	assert_non_null(strstr(out, "duplicate Secret 's0'"));
	assert_non_null(strstr(out, "no Volume named 'v0'"));
	free(out);

	bl_objlist_sort_apply(&l);
	assert_string_equal(l.v[0]->kind, "Cluster");
	assert_string_equal(l.v[1]->name, "s0");
	assert_string_equal(l.v[n]->name, "s9999");
	assert_string_equal(l.v[n + 1]->name, "t0");
	assert_string_equal(l.v[2 * n]->name, "t19999");
	bl_diag_free(&d);
	bl_objlist_free(&l);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_list_only),
		cmocka_unit_test(t_with_lookup),
		cmocka_unit_test(t_cache),
		cmocka_unit_test(t_duplicates),
		cmocka_unit_test(t_all_resolved),
		cmocka_unit_test(t_foreach_ref),
		cmocka_unit_test(t_scale),
	};

	return cmocka_run_group_tests_name("schema_refs", tests, NULL, NULL);
}
