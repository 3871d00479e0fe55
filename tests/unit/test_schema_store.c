/*
 * test_schema_store.c - the canonical stored form (byte identity across
 * key order, formatting, size spelling and defaults), round trips through
 * bl_obj_from_json, equality, server fields, redaction, diff and the YAML
 * printer.
 */
#include <errno.h>

#include "test_schema_util.h"

static const char target_a[] =
	HDR "kind: Target\n"
	"metadata:\n  name: t\n  labels: {env: prod, app: db}\n"
	"spec:\n"
	"  cluster: c\n"
	"  iqn: iqn.2026-11.io.bollard:t\n"
	"  luns:\n"
	"    - lun: 0\n      volume: a\n"
	"    - lun: 1\n      volume: b\n"
	"  acls:\n    - initiator: \"*\"\n";

/* Same meaning: keys reordered, flow style, JSON, defaults written out. */
static const char target_b[] =
	"{\"spec\": {\"port\": 3260, \"acls\": [{\"initiator\": \"*\"}],\n"
	"  \"luns\": [{\"volume\": \"a\", \"lun\": 0},"
	" {\"volume\": \"b\", \"lun\": 1}],\n"
	"  \"features\": {\"unmap\": true},\n"
	"  \"sessions\": {\"maxPerInitiator\": 2},\n"
	"  \"iqn\": \"iqn.2026-11.io.bollard:t\", \"cluster\": \"c\"},\n"
	" \"metadata\": {\"labels\": {\"app\": \"db\", \"env\": \"prod\"},"
	" \"name\": \"t\"},\n"
	" \"kind\": \"Target\", \"apiVersion\": \"bollard.io/v1alpha1\"}\n";

static void t_canonical_identity(void **state)
{
	char *a = canon(target_a), *b = canon(target_b);

	assert_string_equal(a, b);
	assert_string_equal(a,
		"{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Target\","
		"\"metadata\":{\"labels\":{\"app\":\"db\",\"env\":\"prod\"},"
		"\"name\":\"t\"},\"spec\":{\"acls\":[{\"initiator\":\"*\"}],"
		"\"cluster\":\"c\",\"features\":{\"compareAndWrite\":true,"
		"\"extendedCopy\":true,\"persistentReservations\":true,\"unmap\":true,\"writeSame\":true},"
		"\"iqn\":\"iqn.2026-11.io.bollard:t\",\"luns\":[{\"lun\":0,"
		"\"volume\":\"a\"},{\"lun\":1,\"volume\":\"b\"}],\"port\":3260,"
		"\"serviceAddresses\":[],\"sessions\":{\"maxPerInitiator\":2}}}");
	free(a);
	free(b);
}

static void t_canonical_sizes(void **state)
{
	static const char v1[] =
		HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		"  cluster: c\n  size: 1Gi\n"
		"  backing: {type: file, path: v.img}\n  replication: none\n";
	static const char v2[] =
		HDR "kind: Volume\nmetadata: {name: v, labels: {}}\nspec:\n"
		"  replication: none\n  deletionPolicy: Retain\n"
		"  size: 1073741824\n  backing:\n    path: v.img\n"
		"    type: file\n  cluster: c\n";
	static const char v3[] =
		HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		"  cluster: c\n  size: 1024M\n"
		"  backing: {type: file, path: v.img}\n  replication: none\n";
	static const char v4[] =
		HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		"  cluster: c\n  size: 2Gi\n"
		"  backing: {type: file, path: v.img}\n  replication: none\n";
	char *a = canon(v1), *b = canon(v2), *c = canon(v3), *d = canon(v4);

	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_string_not_equal(a, d);
	assert_non_null(strstr(a, "\"size\":1073741824"));
	free(a);
	free(b);
	free(c);
	free(d);
}

static void t_from_json_roundtrip(void **state)
{
	struct bl_objlist l;
	struct bl_obj *o, *back = NULL;
	struct bl_diag d;
	char *s1, *s2;

	expect_ok(target_a, 1, &l);
	o = l.v[0];
	assert_int_equal(bl_obj_init_server_fields(o), 0);
	assert_non_null(o->uid);
	assert_int_equal(strlen(o->uid), 36);
	assert_int_equal(o->generation, 1);
	assert_int_equal(strlen(o->creation_timestamp), 20);
	s1 = bl_obj_to_json(o);
	assert_non_null(s1);
	assert_null(strstr(s1, "resourceVersion"));

	bl_diag_init(&d);
	assert_int_equal(bl_obj_from_json(s1, strlen(s1), &back, &d), 0);
	assert_non_null(back);
	assert_string_equal(back->uid, o->uid);
	assert_int_equal(back->generation, 1);
	assert_string_equal(back->creation_timestamp, o->creation_timestamp);
	assert_null(back->file);
	assert_true(bl_obj_spec_equal(o, back));
	s2 = bl_obj_to_json(back);
	assert_string_equal(s1, s2);
	free(s2);

	/* resourceVersion is output on request and read back, not stored */
	back->resource_version = 42;
	{
		json_t *v = bl_obj_to_value(back, BL_VAL_RESOURCE_VERSION);
		char *txt = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		struct bl_obj *again = NULL;

		assert_non_null(strstr(txt, "\"resourceVersion\":42"));
		assert_int_equal(bl_obj_from_json(txt, strlen(txt), &again,
						  &d), 0);
		assert_int_equal(again->resource_version, 42);
		s2 = bl_obj_to_json(again);
		assert_string_equal(s1, s2);
		free(s2);
		bl_obj_free(again);
		free(txt);
		json_decref(v);
	}

	/* the marks of a dup follow it; an object from JSON has none */
	{
		struct bl_obj *c = bl_obj_dup(o);
		int line, col;

		assert_non_null(c);
		assert_string_equal(c->file, "t.yaml");
		assert_int_equal(bl_obj_mark(c, "spec.luns[1].volume", &line,
					     &col), 0);
		assert_int_equal(line, 13);
		assert_int_equal(bl_obj_mark(back, "spec.luns[1].volume",
					     &line, &col), -ENOENT);
		assert_true(bl_obj_spec_equal(c, o));
		bl_obj_free(c);
	}
	assert_int_equal(bl_diag_count(&d), 0);
	bl_diag_free(&d);
	bl_obj_free(back);
	free(s1);
	bl_objlist_free(&l);
}

static void t_from_json_errors(void **state)
{
	struct bl_obj *o = NULL;
	struct bl_diag d;
	static const char dup[] = "{\"kind\":\"Secret\",\"kind\":\"Secret\"}";
	static const char bad[] =
		"{\"apiVersion\":\"bollard.io/v1alpha1\",\"kind\":\"Secret\","
		"\"metadata\":{\"name\":\"s\",\"generation\":\"x\"},"
		"\"data\":{\"username\":\"u\",\"password\":\"0123456789ab\"}}";

	bl_diag_init(&d);
	assert_int_equal(bl_obj_from_json("{", 1, &o, &d), BL_E_PARSE);
	assert_null(o);
	assert_int_equal(bl_obj_from_json(dup, strlen(dup), &o, &d),
			 BL_E_PARSE);
	assert_int_equal(bl_obj_from_json("[]", 2, &o, &d), BL_E_INVALID);
	/* server fields are type-checked when read from the store */
	assert_int_equal(bl_obj_from_json(bad, strlen(bad), &o, &d),
			 BL_E_INVALID);
	assert_null(o);
	assert_true(bl_diag_count(&d) >= 4);
	bl_diag_free(&d);
	/* diag may be NULL */
	assert_int_equal(bl_obj_from_json("nope", 4, &o, NULL), BL_E_PARSE);
}

static void t_spec_equal(void **state)
{
	struct bl_objlist a, b;

	expect_ok(target_a, 1, &a);
	expect_ok(target_b, 1, &b);
	assert_true(bl_obj_spec_equal(a.v[0], b.v[0]));
	/* server fields do not count */
	assert_int_equal(bl_obj_init_server_fields(a.v[0]), 0);
	a.v[0]->generation = 5;
	assert_true(bl_obj_spec_equal(a.v[0], b.v[0]));
	/* labels do */
	json_object_set_new(b.v[0]->labels, "x", json_string("y"));
	assert_false(bl_obj_spec_equal(a.v[0], b.v[0]));
	json_object_del(b.v[0]->labels, "x");
	assert_true(bl_obj_spec_equal(a.v[0], b.v[0]));
	/* and annotations, and spec */
	json_object_set_new(a.v[0]->annotations, "note", json_string("n"));
	assert_false(bl_obj_spec_equal(a.v[0], b.v[0]));
	json_object_del(a.v[0]->annotations, "note");
	json_object_set_new(a.v[0]->spec, "port", json_integer(3261));
	assert_false(bl_obj_spec_equal(a.v[0], b.v[0]));
	bl_objlist_free(&a);
	bl_objlist_free(&b);
}

static void t_carry_allocated(void **state)
{
	struct bl_objlist n, s;
	json_t *r;

	expect_ok(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		  "  cluster: c\n  size: 1Gi\n  backing: {type: lvm, vg: vg0}\n"
		  "  replication: {protocol: C}\n", 1, &n);
	expect_ok(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		  "  cluster: c\n  size: 1Gi\n  backing: {type: lvm, vg: vg0}\n"
		  "  replication: {minor: 3, port: 7791}\n", 1, &s);
	assert_false(bl_obj_spec_equal(n.v[0], s.v[0]));
	assert_int_equal(bl_obj_carry_allocated(n.v[0], s.v[0]), 2);
	r = json_object_get(n.v[0]->spec, "replication");
	assert_int_equal(json_integer_value(json_object_get(r, "minor")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "port")), 7791);
	assert_true(bl_obj_spec_equal(n.v[0], s.v[0]));
	/* nothing left to carry; an explicit value is never overwritten */
	assert_int_equal(bl_obj_carry_allocated(n.v[0], s.v[0]), 0);
	json_object_set_new(r, "port", json_integer(8000));
	assert_int_equal(bl_obj_carry_allocated(n.v[0], s.v[0]), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "port")), 8000);
	/* other kinds: nothing */
	assert_int_equal(bl_obj_carry_allocated(n.v[0], n.v[0]), 0);
	bl_objlist_free(&n);
	bl_objlist_free(&s);
}

static void t_redact(void **state)
{
	struct bl_objlist l;
	char *s;

	expect_ok(HDR "kind: Secret\nmetadata: {name: s}\n"
		  "data: {username: esx, password: \"supersecret123\"}\n",
		  1, &l);
	assert_int_equal(bl_obj_redact(l.v[0]), 0);
	s = bl_obj_to_json(l.v[0]);
	assert_null(strstr(s, "supersecret123"));
	assert_non_null(strstr(s, "\"password\":\"<redacted>\""));
	free(s);
	bl_objlist_free(&l);
}

struct diffs {
	char buf[1024];
	size_t n;
};

static void collect(void *arg, const char *path, const json_t *o,
		    const json_t *n)
{
	struct diffs *d = arg;

	d->n += (size_t)snprintf(d->buf + d->n, sizeof(d->buf) - d->n,
				 "%s:%s%s;", path, o ? "old" : "",
				 n ? "new" : "");
}

static void t_diff(void **state)
{
	json_t *a = json_loads("{\"spec\":{\"port\":1,\"luns\":[{\"lun\":0}],"
			       "\"z\":true,\"a\":{\"x\":1}}}", 0, NULL);
	json_t *b = json_loads("{\"spec\":{\"port\":2,\"luns\":[{\"lun\":0},"
			       "{\"lun\":1}],\"z\":true,\"b\":1}}", 0, NULL);
	struct diffs d = { .n = 0 };

	assert_int_equal(bl_json_diff(a, b, collect, &d), 4);
	assert_string_equal(d.buf, "spec.a:old;spec.b:new;spec.luns[1]:new;"
			    "spec.port:oldnew;");
	assert_int_equal(bl_json_diff(a, a, NULL, NULL), 0);
	json_decref(a);
	json_decref(b);
}

/* Print as YAML, read back: the same canonical bytes. */
static void t_yaml_print_roundtrip(void **state)
{
	static const char weird[] =
		HDR "kind: Cluster\nmetadata:\n  name: c\n"
		"  annotations:\n"
		"    a: \"yes\"\n    b: \"123\"\n    c: \"\"\n    d: \"x: y\"\n"
		"    e: \"- item\"\n    f: \"#hash\"\n    g: \"null\"\n"
		"    h: \" lead\"\n    i: \"multi\\nline\\ttab\"\n"
		"    j: \"quote\\\" and \\\\ back\"\n    k: \"1e3\"\n"
		"    l: \"true\"\n    m: \"0x1F\"\n    n: \"~\"\n"
		"    o: \"plain text\"\n    p: \"[x]\"\n    q: \"a #b\"\n"
		"    r: \"ünïcødé\"\n    s: \"trail:\"\n    t: \"*star\"\n"
		"    u: \"127.0.0.1\"\n    v: \"2026-11-24T01:02:03Z\"\n"
		"    w: \"1_000\"\n    x: \"1:20\"\n    y: \"10Gi\"\n"
		"    z: \"0b101\"\n"
		"spec:\n  nodes: [{name: a, address: 10.0.0.1}]\n";
	struct bl_objlist l, back;
	json_t *v;
	char *out = NULL, *c1, *c2, *msgs = NULL;
	size_t n;
	FILE *f;

	expect_ok(weird, 1, &l);
	v = bl_obj_to_value(l.v[0], 0);
	f = open_memstream(&out, &n);
	assert_int_equal(bl_json_print_yaml(v, f), 0);
	fclose(f);
	bl_objlist_init(&back);
	if (parse_text(out, &back, &msgs))
		fprintf(stderr, "%s\n%s", out, msgs);
	assert_int_equal(back.n, 1);
	c1 = bl_obj_to_json(l.v[0]);
	c2 = bl_obj_to_json(back.v[0]);
	assert_string_equal(c1, c2);
	/* readable: plain where plain is safe */
	assert_non_null(strstr(out, "\n    o: plain text\n"));
	assert_non_null(strstr(out, "\n    a: \"yes\"\n"));
	assert_non_null(strstr(out, "\n    u: 127.0.0.1\n"));
	assert_non_null(strstr(out, "\n    v: \"2026-11-24T01:02:03Z\"\n"));
	assert_non_null(strstr(out, "\n    w: \"1_000\"\n"));
	assert_non_null(strstr(out, "\n    x: \"1:20\"\n"));
	assert_non_null(strstr(out, "\n    \"y\": 10Gi\n"));
	assert_non_null(strstr(out, "\n    z: \"0b101\"\n"));
	assert_non_null(strstr(out, "\n    k: \"1e3\"\n"));
	assert_non_null(strstr(out, "\n    b: \"123\"\n"));
	assert_non_null(strstr(out, "\n  nodes:\n    - name: a\n"));
	free(c1);
	free(c2);
	free(out);
	free(msgs);
	json_decref(v);
	bl_objlist_free(&l);
	bl_objlist_free(&back);
}

static void t_yaml_print_scalars(void **state)
{
	json_t *v = json_loads("{\"i\":-5,\"f\":1.5,\"g\":2.0,\"t\":true,"
			       "\"n\":null,\"e\":[],\"o\":{},"
			       "\"l\":[[1,2],{\"a\":1,\"b\":[]}]}", 0, NULL);
	char *out = NULL;
	size_t n;
	FILE *f = open_memstream(&out, &n);

	assert_int_equal(bl_json_print_yaml(v, f), 0);
	fclose(f);
	assert_string_equal(out,
		"i: -5\nf: 1.5\ng: 2.0\nt: true\n\"n\": null\ne: []\no: {}\n"
		"l:\n  - - 1\n    - 2\n  - a: 1\n    b: []\n");
	free(out);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_canonical_identity),
		cmocka_unit_test(t_canonical_sizes),
		cmocka_unit_test(t_from_json_roundtrip),
		cmocka_unit_test(t_from_json_errors),
		cmocka_unit_test(t_spec_equal),
		cmocka_unit_test(t_carry_allocated),
		cmocka_unit_test(t_redact),
		cmocka_unit_test(t_diff),
		cmocka_unit_test(t_yaml_print_roundtrip),
		cmocka_unit_test(t_yaml_print_scalars),
	};

	return cmocka_run_group_tests_name("schema_store", tests, NULL, NULL);
}
