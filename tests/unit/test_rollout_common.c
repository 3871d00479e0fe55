/*
 * test_rollout_common.c - controller/rollout/common.c: selectors, which
 * Targets and Volumes a Rollout governs, spec -> wave parameters, the
 * revision hash and the overlap checks apply runs (one object, one Secret
 * on one node). Objects come from YAML through
 * the real schema parser (defaults applied), no etcd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bl_schema.h"
#include "rollout/rollout.h"

static const char fleet[] =
"apiVersion: bollard.io/v1alpha1\n"
"kind: Cluster\n"
"metadata: {name: a, labels: {env: prod}}\n"
"spec: {ha: none, nodes: [{name: a1, address: 192.0.2.1}]}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Cluster\n"
"metadata: {name: b, labels: {env: lab}}\n"
"spec: {ha: none, nodes: [{name: b1, address: 192.0.2.2}]}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Target\n"
"metadata: {name: ta, labels: {app: ds}}\n"
"spec: {cluster: a, iqn: 'iqn.2026-11.io.bollard:ta'}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Target\n"
"metadata: {name: tb, labels: {app: ds}}\n"
"spec: {cluster: b, iqn: 'iqn.2026-11.io.bollard:tb'}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Target\n"
"metadata: {name: tc}\n"
"spec: {cluster: a, iqn: 'iqn.2026-11.io.bollard:tc'}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Rollout\n"
"metadata: {name: prod}\n"
"spec:\n"
"  clusterSelector: {matchLabels: {env: prod}}\n"
"  objectSelector: {matchLabels: {app: ds}}\n"
"---\n"
"apiVersion: bollard.io/v1alpha1\n"
"kind: Rollout\n"
"metadata: {name: all}\n"
"spec:\n"
"  clusterSelector: {}\n"
"  strategy: {canary: 0, waves: [2, \"50%\"], maxUnavailable: \"10%\"}\n"
"  healthGate: {stableFor: 1s, timeout: 5s}\n"
"  onFailure: rollback\n"
"  paused: true\n";

struct fx {
	struct bl_objlist l;
	struct bl_obj *cl[2], *tg[3], *ro[2];
};

static int setup(void **st)
{
	static struct fx f;
	struct bl_diag d = { 0 };
	memset(&f, 0, sizeof(f));
	bl_objlist_init(&f.l);
	if (bl_parse_buf("fleet.yaml", fleet, sizeof(fleet) - 1, &f.l, &d) < 0) {
		bl_diag_print(&d, stderr);
		return -1;
	}
	bl_diag_free(&d);
	f.cl[0] = bl_objlist_find(&f.l, "Cluster", "a");
	f.cl[1] = bl_objlist_find(&f.l, "Cluster", "b");
	f.tg[0] = bl_objlist_find(&f.l, "Target", "ta");
	f.tg[1] = bl_objlist_find(&f.l, "Target", "tb");
	f.tg[2] = bl_objlist_find(&f.l, "Target", "tc");
	f.ro[0] = bl_objlist_find(&f.l, "Rollout", "prod");
	f.ro[1] = bl_objlist_find(&f.l, "Rollout", "all");
	for (int i = 0; i < 3; i++)
		f.tg[i]->generation = 1;
	*st = &f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	bl_objlist_free(&f->l);
	return 0;
}

static void governs(void **st)
{
	struct fx *f = *st;
	assert_true(bl_ro_governs(f->ro[0], f->cl[0], f->tg[0]));
	assert_false(bl_ro_governs(f->ro[0], f->cl[1], f->tg[1]));  /* lab */
	assert_false(bl_ro_governs(f->ro[0], f->cl[0], f->tg[2]));  /* no label */
	assert_false(bl_ro_governs(f->ro[0], f->cl[1], f->tg[0]));  /* wrong cluster */
	/* no objectSelector, empty clusterSelector: everything */
	assert_true(bl_ro_governs(f->ro[1], f->cl[1], f->tg[1]));
	assert_true(bl_ro_governs(f->ro[1], f->cl[0], f->tg[2]));
	assert_false(bl_ro_governs(f->ro[1], f->cl[0], f->cl[0]));  /* not a Target */
}

static void params(void **st)
{
	struct fx *f = *st;
	struct bl_ro_params p;

	assert_int_equal(bl_ro_params_from_spec(f->ro[0]->spec, &p), 0);
	assert_int_equal(p.canary, 1);              /* schema defaults */
	assert_int_equal(p.nwaves, 0);
	assert_int_equal(p.max_unavailable.value, 1);
	assert_false(p.max_unavailable.pct);
	assert_int_equal(p.stable_ms, 30000);
	assert_int_equal(p.timeout_ms, 600000);
	assert_false(p.rollback);
	assert_false(p.paused);
	assert_int_equal(bl_ro_params_from_spec(f->ro[1]->spec, &p), 0);
	assert_int_equal(p.canary, 0);
	assert_int_equal(p.nwaves, 2);
	assert_int_equal(p.waves[0].value, 2);
	assert_false(p.waves[0].pct);
	assert_int_equal(p.waves[1].value, 50);
	assert_true(p.waves[1].pct);
	assert_int_equal(p.max_unavailable.value, 10);
	assert_true(p.max_unavailable.pct);
	assert_int_equal(p.stable_ms, 1000);
	assert_int_equal(p.timeout_ms, 5000);
	assert_true(p.rollback);
	assert_true(p.paused);
}

static void revision(void **st)
{
	struct fx *f = *st;
	char r1[17], r2[17], r3[17];

	bl_ro_revision(f->ro[0], f->cl, 2, f->tg, 3, r1);
	bl_ro_revision(f->ro[0], f->cl, 2, f->tg, 3, r2);
	assert_string_equal(r1, r2);
	f->tg[2]->generation = 2;                    /* not governed by prod */
	bl_ro_revision(f->ro[0], f->cl, 2, f->tg, 3, r2);
	assert_string_equal(r1, r2);
	f->tg[0]->generation = 2;                    /* governed */
	bl_ro_revision(f->ro[0], f->cl, 2, f->tg, 3, r3);
	assert_string_not_equal(r1, r3);
	assert_int_equal(strlen(r3), 16);
	f->tg[0]->generation = 1;
	f->tg[2]->generation = 1;
}

/* The Secrets governed Targets use are part of the revision; the ones only
 * ungoverned Targets use are not. */
static void revision_secrets(void **st)
{
	static const char y[] =
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Cluster\n"
	"metadata: {name: a, labels: {env: prod}}\n"
	"spec: {ha: none, nodes: [{name: a1, address: 192.0.2.1}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Secret\n"
	"metadata: {name: used}\n"
	"data: {username: u, password: first-pass-0001}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Secret\n"
	"metadata: {name: other}\n"
	"data: {username: u, password: first-pass-0001}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Target\n"
	"metadata: {name: ta, labels: {app: ds}}\n"
	"spec: {cluster: a, iqn: 'iqn.2026-11.io.bollard:ta',\n"
	"       acls: [{initiator: 'iqn.1998-01.com.vmware:e1', chapSecretRef: used}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Target\n"
	"metadata: {name: tc}\n"
	"spec: {cluster: a, iqn: 'iqn.2026-11.io.bollard:tc', auth: {chapSecretRef: other}}\n";
	struct fx *f = *st;
	struct bl_objlist l;
	struct bl_diag d = { 0 };
	struct bl_obj *objs[4], *cl, *used, *other;
	char r1[17], r2[17];

	bl_objlist_init(&l);
	assert_int_equal(bl_parse_buf("secrets.yaml", y, sizeof(y) - 1, &l, &d), 0);
	bl_diag_free(&d);
	cl = bl_objlist_find(&l, "Cluster", "a");
	objs[0] = bl_objlist_find(&l, "Target", "ta");
	objs[1] = bl_objlist_find(&l, "Target", "tc");
	objs[2] = used = bl_objlist_find(&l, "Secret", "used");
	objs[3] = other = bl_objlist_find(&l, "Secret", "other");
	assert_non_null(cl);
	for (int i = 0; i < 4; i++) {
		assert_non_null(objs[i]);
		objs[i]->generation = 1;
	}
	bl_ro_revision(f->ro[0], &cl, 1, objs, 4, r1);
	other->generation = 2;                       /* ungoverned Target's */
	bl_ro_revision(f->ro[0], &cl, 1, objs, 4, r2);
	assert_string_equal(r1, r2);
	used->generation = 2;                        /* governed Target's */
	bl_ro_revision(f->ro[0], &cl, 1, objs, 4, r2);
	assert_string_not_equal(r1, r2);
	bl_objlist_free(&l);
}

static void overlap(void **st)
{
	struct fx *f = *st;
	struct bl_diag d = { 0 };

	assert_int_equal(bl_ro_check_overlap(f->ro, 1, f->cl, 2, f->tg, 3, &d), 0);
	assert_int_equal(bl_diag_count(&d), 0);
	/* "all" governs ta, which "prod" has already */
	assert_int_equal(bl_ro_check_overlap(f->ro, 2, f->cl, 2, f->tg, 3, &d), BL_E_INVALID);
	assert_int_equal(bl_diag_count(&d), 1);
	assert_non_null(strstr(d.v[0].msg, "target/ta is already governed by rollout prod"));
	assert_string_equal(d.v[0].path, "spec.objectSelector");
	bl_diag_free(&d);
}

/* Volumes are governed like Targets (labels + their cluster), are part of
 * the revision, and two rollouts cannot govern one. */
static void volumes(void **st)
{
	static const char y[] =
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Cluster\n"
	"metadata: {name: a, labels: {env: prod}}\n"
	"spec: {ha: none, nodes: [{name: a1, address: 192.0.2.1}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Volume\n"
	"metadata: {name: va, labels: {app: ds}}\n"
	"spec: {cluster: a, size: 16Mi, backing: {type: file, path: va.img}, replication: none}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Volume\n"
	"metadata: {name: vb}\n"
	"spec: {cluster: a, size: 16Mi, backing: {type: file, path: vb.img}, replication: none}\n";
	struct fx *f = *st;
	struct bl_objlist l;
	struct bl_diag d = { 0 };
	struct bl_obj *objs[2], *cl, *ro[2] = { f->ro[0], f->ro[1] };
	char r1[17], r2[17];

	bl_objlist_init(&l);
	assert_int_equal(bl_parse_buf("volumes.yaml", y, sizeof(y) - 1, &l, &d), 0);
	bl_diag_free(&d);
	cl = bl_objlist_find(&l, "Cluster", "a");
	objs[0] = bl_objlist_find(&l, "Volume", "va");
	objs[1] = bl_objlist_find(&l, "Volume", "vb");
	assert_non_null(cl);
	assert_non_null(objs[0]);
	assert_non_null(objs[1]);
	objs[0]->generation = objs[1]->generation = 1;
	assert_true(bl_ro_gated_kind("Volume"));
	assert_false(bl_ro_gated_kind("Secret"));
	assert_true(bl_ro_governs(f->ro[0], cl, objs[0]));
	assert_false(bl_ro_governs(f->ro[0], cl, objs[1]));   /* no label */
	bl_ro_revision(f->ro[0], &cl, 1, objs, 2, r1);
	objs[1]->generation = 2;                               /* ungoverned */
	bl_ro_revision(f->ro[0], &cl, 1, objs, 2, r2);
	assert_string_equal(r1, r2);
	objs[0]->generation = 2;                               /* governed */
	bl_ro_revision(f->ro[0], &cl, 1, objs, 2, r2);
	assert_string_not_equal(r1, r2);
	/* "all" governs va too */
	assert_int_equal(bl_ro_check_overlap(ro, 2, &cl, 1, objs, 2, &d), BL_E_INVALID);
	assert_int_equal(bl_diag_count(&d), 1);
	assert_non_null(strstr(d.v[0].msg, "volume/va is already governed by rollout prod"));
	bl_diag_free(&d);
	bl_objlist_free(&l);
}

/*
 * Targets of two rollouts sharing a Secret: refused when they share a node
 * (the node would use one generation for both), allowed on disjoint nodes
 * (each cluster's record admits its own generation).
 */
static void shared_secret(void **st)
{
	static const char y[] =
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Cluster\n"
	"metadata: {name: a, labels: {env: prod}}\n"
	"spec: {ha: none, nodes: [{name: n1, address: 192.0.2.1}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Cluster\n"
	"metadata: {name: b, labels: {env: prod}}\n"
	"spec: {ha: none, nodes: [{name: n2, address: 192.0.2.2}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Secret\n"
	"metadata: {name: chap}\n"
	"data: {username: u, password: first-pass-0001}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Target\n"
	"metadata: {name: t1, labels: {app: one}}\n"
	"spec: {cluster: a, iqn: 'iqn.2026-11.io.bollard:t1', auth: {chapSecretRef: chap}}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Target\n"
	"metadata: {name: t2, labels: {app: two}}\n"
	"spec: {cluster: b, iqn: 'iqn.2026-11.io.bollard:t2',\n"
	"       acls: [{initiator: 'iqn.1998-01.com.vmware:e1', chapSecretRef: chap}]}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Rollout\n"
	"metadata: {name: one}\n"
	"spec: {clusterSelector: {}, objectSelector: {matchLabels: {app: one}}}\n"
	"---\n"
	"apiVersion: bollard.io/v1alpha1\n"
	"kind: Rollout\n"
	"metadata: {name: two}\n"
	"spec: {clusterSelector: {}, objectSelector: {matchLabels: {app: two}}}\n";
	struct bl_objlist l;
	struct bl_diag d = { 0 };
	struct bl_obj *cl[2], *tg[2], *ro[2];
	json_t *n;

	(void)st;
	bl_objlist_init(&l);
	if (bl_parse_buf("shared.yaml", y, sizeof(y) - 1, &l, &d) < 0)
		bl_diag_print(&d, stderr);
	assert_int_equal(bl_diag_count(&d), 0);
	bl_diag_free(&d);
	cl[0] = bl_objlist_find(&l, "Cluster", "a");
	cl[1] = bl_objlist_find(&l, "Cluster", "b");
	tg[0] = bl_objlist_find(&l, "Target", "t1");
	tg[1] = bl_objlist_find(&l, "Target", "t2");
	ro[0] = bl_objlist_find(&l, "Rollout", "one");
	ro[1] = bl_objlist_find(&l, "Rollout", "two");
	/* different nodes: each cluster has its own record, no conflict */
	assert_int_equal(bl_ro_check_overlap(ro, 2, cl, 2, tg, 2, &d), 0);
	assert_int_equal(bl_diag_count(&d), 0);
	/* cluster b on node n1 as well: n1 serves t1 and t2 */
	n = json_pack("{s:s, s:s}", "name", "n1", "address", "192.0.2.1");
	json_array_append_new(json_object_get(cl[1]->spec, "nodes"), n);
	assert_int_equal(bl_ro_check_overlap(ro, 2, cl, 2, tg, 2, &d), BL_E_INVALID);
	assert_int_equal(bl_diag_count(&d), 1);
	assert_non_null(strstr(d.v[0].msg, "secret/chap is used on node n1 by target/t1 "
				"(rollout one) and by target/t2 (rollout two)"));
	assert_string_equal(d.v[0].path, "spec.objectSelector");
	bl_diag_free(&d);
	/* one rollout governing both: fine */
	assert_int_equal(bl_ro_check_overlap(ro, 1, cl, 2, tg, 2, &d), 0);
	bl_diag_free(&d);
	bl_objlist_free(&l);
}

/*
 * The revision's order is a format (a stored status carries the hash):
 * bl_ro_revision, built on sorted indexes, must give what the definition
 * gives: every cluster in array order against every object in array order
 * (the nested loop it replaced, kept here as the reference), over a fleet
 * whose objects are listed out of cluster order, with Secrets between
 * them, ungoverned ones, and Targets of unknown clusters.
 */
static uint64_t ref_fnv(uint64_t h, const char *p)
{
	for (; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ull;
	}
	return h;
}

struct ref_ctx {
	struct bl_obj *const *objs;
	size_t n;
	uint64_t *h;
};

static int ref_secret(void *arg, const char *kind, const char *name, const char *path)
{
	struct ref_ctx *r = arg;
	char buf[300];

	(void)path;
	if (strcmp(kind, "Secret"))
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->objs[i]->kind, "Secret") || strcmp(r->objs[i]->name, name))
			continue;
		snprintf(buf, sizeof(buf), "Secret/%s=%lld;", name,
			 (long long)r->objs[i]->generation);
		*r->h = ref_fnv(*r->h, buf);
		break;
	}
	return 0;
}

static void ref_revision(const struct bl_obj *ro, struct bl_obj *const *cl, size_t ncl,
			 struct bl_obj *const *t, size_t nt, char out[17])
{
	uint64_t h = 1469598103934665603ull;
	struct ref_ctx r = { t, nt, &h };
	char buf[300];

	for (size_t i = 0; i < ncl; i++) {
		if (!bl_ro_selector_match(json_object_get(ro->spec, "clusterSelector"),
					  cl[i]->labels))
			continue;
		for (size_t j = 0; j < nt; j++) {
			if (!bl_ro_governs(ro, cl[i], t[j]))
				continue;
			snprintf(buf, sizeof(buf), "%s/%s=%lld;", t[j]->kind, t[j]->name,
				 (long long)t[j]->generation);
			h = ref_fnv(h, buf);
			bl_obj_foreach_ref(t[j], ref_secret, &r);
		}
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void revision_order(void **st)
{
	struct fx *f = *st;
	static char y[200000];
	size_t len = 0;
	struct bl_objlist l;
	struct bl_diag d = { 0 };
	struct bl_obj *cl[40], *obj[400];
	size_t ncl = 0, no = 0;
	char r1[17], r2[17];

#define Y(...) (len += (size_t)snprintf(y + len, sizeof(y) - len, __VA_ARGS__))
	for (int i = 0; i < 30; i++)
		Y("---\napiVersion: bollard.io/v1alpha1\nkind: Cluster\n"
		  "metadata: {name: c%02d, labels: {env: %s}}\n"
		  "spec: {ha: none, nodes: [{name: n%02d, address: 192.0.2.%d}]}\n",
		  (i * 7) % 30, i % 4 ? "prod" : "lab", i, i + 1);
	for (int i = 0; i < 12; i++)
		Y("---\napiVersion: bollard.io/v1alpha1\nkind: Secret\nmetadata: {name: s%02d}\n"
		  "data: {username: u, password: first-pass-%04d}\n", i, i);
	for (int i = 0; i < 120; i++) {
		Y("---\napiVersion: bollard.io/v1alpha1\nkind: %s\n"
		  "metadata: {name: o%03d, labels: {app: %s}}\n", i % 3 ? "Target" : "Volume",
		  (i * 37) % 120, i % 5 ? "ds" : "other");
		if (i % 3)
			Y("spec: {cluster: c%02d, iqn: 'iqn.2026-11.io.bollard:o%03d'%s%02d%s}\n",
			  (i * 11) % 32, (i * 37) % 120,
			  i % 2 ? ", auth: {chapSecretRef: s" : ", acls: [{initiator: 'iqn.1998-01.com.vmware:e', chapSecretRef: s",
			  i % 12, i % 2 ? "}" : "}]");
		else
			Y("spec: {cluster: c%02d, size: 1Mi, backing: {type: file, path: v.img}, "
			  "replication: none}\n", (i * 11) % 32);
	}
#undef Y
	bl_objlist_init(&l);
	/* Targets of c30/c31 name clusters that do not exist: no reference
	 * check here (bl_parse_buf validates each object alone). */
	if (bl_parse_buf("order.yaml", y, len, &l, &d) < 0)
		bl_diag_print(&d, stderr);
	assert_int_equal(bl_diag_count(&d), 0);
	bl_diag_free(&d);
	/* the store's order is kind then name; mix them: objects interleaved
	 * with Secrets, in the YAML's order */
	for (size_t i = 0; i < l.n; i++) {
		struct bl_obj *o = l.v[i];
		o->generation = (int64_t)(i % 7) + 1;
		if (!strcmp(o->kind, "Cluster"))
			cl[ncl++] = o;
		else
			obj[no++] = o;
	}
	assert_int_equal(ncl, 30);
	assert_int_equal(no, 132);
	ref_revision(f->ro[0], cl, ncl, obj, no, r1);
	bl_ro_revision(f->ro[0], cl, ncl, obj, no, r2);
	assert_string_equal(r1, r2);
	ref_revision(f->ro[1], cl, ncl, obj, no, r1);
	bl_ro_revision(f->ro[1], cl, ncl, obj, no, r2);
	assert_string_equal(r1, r2);
	/* and it moves with the generation of a Secret a governed Target uses
	 * (s01: o037, o013.. use it) */
	for (size_t i = 0; i < no; i++)
		if (!strcmp(obj[i]->kind, "Secret") && !strcmp(obj[i]->name, "s01")) {
			obj[i]->generation += 10;
			break;
		}
	bl_ro_revision(f->ro[1], cl, ncl, obj, no, r1);
	assert_string_not_equal(r1, r2);
	ref_revision(f->ro[1], cl, ncl, obj, no, r2);
	assert_string_equal(r1, r2);
	bl_objlist_free(&l);
}

static void selector(void **st)
{
	json_t *sel = json_pack("{s:{s:s}}", "matchLabels", "a", "1");
	json_t *l1 = json_pack("{s:s, s:s}", "a", "1", "b", "2");
	json_t *l2 = json_pack("{s:s}", "a", "2");
	(void)st;
	assert_true(bl_ro_selector_match(sel, l1));
	assert_false(bl_ro_selector_match(sel, l2));
	assert_true(bl_ro_selector_match(NULL, l2));
	assert_false(bl_ro_selector_match(sel, NULL));
	json_decref(sel);
	json_decref(l1);
	json_decref(l2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(governs),
		cmocka_unit_test(params),
		cmocka_unit_test(revision),
		cmocka_unit_test(revision_secrets),
		cmocka_unit_test(revision_order),
		cmocka_unit_test(overlap),
		cmocka_unit_test(volumes),
		cmocka_unit_test(shared_secret),
		cmocka_unit_test(selector),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
