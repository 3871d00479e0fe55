/*
 * test_schema_hostile.c - hostile and broken input: every case must come
 * back as an error with a clear message (BL_E_PARSE unless the input is
 * well-formed), never a crash, a hang or a silently accepted object.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test_schema_util.h"

#define BL_MAX_ERRORS_TEST 1000     /* BL_MAX_ERRORS in bl_schema_int.h */

/* Parse len bytes; expect rc and a message containing `needle`. */
static void expect_fail(const char *buf, size_t len, int rc_want,
			const char *needle)
{
	struct bl_objlist l;
	struct bl_diag d;
	char *out = NULL;
	size_t n;
	FILE *f;
	int rc;

	bl_objlist_init(&l);
	bl_diag_init(&d);
	rc = bl_parse_buf("h.yaml", buf, len, &l, &d);
	f = open_memstream(&out, &n);
	bl_diag_print(&d, f);
	fclose(f);
	if (rc != rc_want || !strstr(out, needle))
		fprintf(stderr, "rc %d want %d, want \"%s\" in:\n%s", rc,
			rc_want, needle, out);
	assert_int_equal(rc, rc_want);
	assert_non_null(strstr(out, needle));
	assert_int_equal(l.n, 0);
	assert_true(bl_diag_count(&d) > 0);
	free(out);
	bl_diag_free(&d);
	bl_objlist_free(&l);
}

#define FAIL_STR(s, rc, needle) expect_fail(s, strlen(s), rc, needle)

static void t_empty(void **state)
{
	expect_fail("", 0, BL_E_PARSE, "h.yaml: no objects\n");
	FAIL_STR("# just a comment\n", BL_E_PARSE, "no objects");
	FAIL_STR("---\n---\n...\n", BL_E_PARSE, "no objects");
	FAIL_STR("   \n\n", BL_E_PARSE, "no objects");
}

static void t_garbage(void **state)
{
	static const unsigned char bin[] = {
		0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe, 0x80, 0x81,
		0, 0, 0, 3, 0, 0x3e, 0xc3, 0x28,
	};
	unsigned char buf[4096];
	unsigned int seed = 12345;
	size_t i;

	expect_fail((const char *)bin, sizeof(bin), BL_E_PARSE, "h.yaml:1:");
	FAIL_STR("a: \xff\xfe\n", BL_E_PARSE, "UTF-8");
	expect_fail("a: b\0c\n", 7, BL_E_PARSE, "control characters");
	/* pseudo-random bytes: an error, whatever it says */
	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	expect_fail((const char *)buf, sizeof(buf), BL_E_PARSE, "h.yaml");
	FAIL_STR("{{{{", BL_E_PARSE, "h.yaml:");
	FAIL_STR("a: 'unterminated\n", BL_E_PARSE, "h.yaml:");
	FAIL_STR("key: [1, 2\n", BL_E_PARSE, "h.yaml:");
	FAIL_STR("a:\n  b: 1\n c: 2\n", BL_E_PARSE, "h.yaml:3:");
}

static void t_tabs(void **state)
{
	FAIL_STR(HDR "kind: Cluster\nmetadata:\n\tname: a\n", BL_E_PARSE,
		 "h.yaml:4:1: found character that cannot start any token "
		 "(while scanning for the next token at line 4) (tab "
		 "characters cannot indent YAML; use spaces)");
}

static void t_duplicate_keys(void **state)
{
	FAIL_STR(HDR "kind: Secret\nmetadata: {name: a}\n"
		 "data:\n  username: u\n  password: \"0123456789ab\"\n"
		 "  username: v\n",
		 BL_E_PARSE,
		 "h.yaml:7:3: data.username: duplicate key \"username\" "
		 "(first defined at line 5)\n");
	/* every duplicate is reported, in every document */
	{
		static const char two[] =
			"a: 1\na: 2\n---\nb: {x: 1, x: 2}\n";
		struct bl_objlist l;
		struct bl_diag d;

		bl_objlist_init(&l);
		bl_diag_init(&d);
		assert_int_equal(bl_parse_buf("h.yaml", two, strlen(two), &l,
					      &d), BL_E_PARSE);
		assert_int_equal(bl_diag_count(&d), 2);
		bl_diag_free(&d);
	}
	/* JSON too */
	FAIL_STR("{\"kind\": \"Secret\", \"kind\": \"Secret\"}", BL_E_PARSE,
		 "h.yaml:1:20: kind: duplicate key \"kind\"");
}

static void t_numbers(void **state)
{
	FAIL_STR("a: 99999999999999999999\n", BL_E_PARSE,
		 "h.yaml:1:4: a: number 99999999999999999999 is out of range");
	FAIL_STR("a: -9223372036854775809\n", BL_E_PARSE, "out of range");
	FAIL_STR("a: 0xffffffffffffffffff\n", BL_E_PARSE, "out of range");
	FAIL_STR("a: 1e999\n", BL_E_PARSE, "h.yaml:1:4: a: number 1e999 is "
		 "out of range");
	FAIL_STR("a: !!int 12x\n", BL_E_PARSE, "'12x' is not a number");
	/* the limits themselves are fine (and then fail validation) */
	FAIL_STR("a: -9223372036854775808\n", BL_E_INVALID, "");
	FAIL_STR("a: 9223372036854775807\n", BL_E_INVALID, "");
	/* a port that big is well-formed but invalid */
	FAIL_STR(HDR "kind: Target\nmetadata: {name: t}\n"
		 "spec: {cluster: c, iqn: \"iqn.2026-11.io.x:t\", "
		 "port: 9223372036854775807}\n", BL_E_INVALID,
		 "9223372036854775807 is out of range 1..65535");
}

static void t_deep(void **state)
{
	size_t n = 100000, i;
	char *b = malloc(n * 2 + 8);

	/* flow: [[[[... */
	memcpy(b, "a: ", 3);
	for (i = 0; i < n; i++)
		b[3 + i] = '[';
	expect_fail(b, n + 3, BL_E_PARSE, "nesting deeper than 64 levels");
	/* block: a:\n b:\n  c: ... 100 levels */
	{
		char *p = b;

		for (i = 0; i < 100; i++)
			p += sprintf(p, "%*sk:\n", (int)i, "");
		expect_fail(b, (size_t)(p - b), BL_E_PARSE,
			    "nesting deeper than 64 levels");
	}
	free(b);
}

static void t_aliases(void **state)
{
	static const char bomb[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

	FAIL_STR(bomb, BL_E_PARSE, "aliases expand to more than 10000 nodes");
	FAIL_STR("a: &a [*a]\n", BL_E_PARSE,
		 "h.yaml:1:8: a: alias *a refers to no complete anchor "
		 "before it");
	FAIL_STR("a: *nope\n", BL_E_PARSE, "alias *nope");
	FAIL_STR("*a : 1\n", BL_E_PARSE, "h.yaml:1:1");
	FAIL_STR("&k a: 1\n*k : 2\n", BL_E_PARSE,
		 "an alias cannot be a mapping key");
	/* anchors are per document */
	FAIL_STR("a: &x 1\n---\nb: *x\n", BL_E_PARSE, "alias *x");
}

/* Many anchors and aliases: hashed, so it stays linear; the aliases stop
 * at the expansion cap. */
static void t_anchor_flood(void **state)
{
	size_t n = 200000, i;
	char *b = malloc(n * 32 + 64), *p = b;

	p += sprintf(p, "a: [");
	for (i = 0; i < n; i++)
		p += sprintf(p, "&a%zu x, ", i);
	for (i = 0; i < 20000; i++)
		p += sprintf(p, "*a%zu, ", i);
	p += sprintf(p, "z]\n");
	expect_fail(b, (size_t)(p - b), BL_E_PARSE,
		    "aliases expand to more than 10000 nodes");
	free(b);
}

static void t_aliases_ok(void **state)
{
	struct bl_objlist l;
	json_t *acls;

	/* sensible use: one ACL block reused, each copy independent */
	expect_ok(HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		  "  cluster: c\n  iqn: iqn.2026-11.io.x:t\n"
		  "  features: &f {unmap: false}\n"
		  "  acls:\n  - &acl {initiator: \"iqn.1998-01.com.vmware:a\","
		  " chapSecretRef: s}\n"
		  "---\n" HDR "kind: Target\nmetadata: {name: u}\nspec:\n"
		  "  cluster: c\n  iqn: iqn.2026-11.io.x:u\n"
		  "  features: &f {}\n", 2, &l);
	acls = json_object_get(l.v[0]->spec, "acls");
	assert_int_equal(json_array_size(acls), 1);
	bl_objlist_free(&l);
}

static void t_unsupported(void **state)
{
	FAIL_STR("a: !!python/object:os.system x\n", BL_E_PARSE,
		 "unsupported tag");
	FAIL_STR("a: !custom x\n", BL_E_PARSE, "unsupported tag '!custom'");
	FAIL_STR("? [a, b]\n: c\n", BL_E_PARSE,
		 "complex mapping keys (a mapping or list as a key) are not "
		 "supported");
	FAIL_STR("base: &b {x: 1}\nd:\n  <<: *b\n", BL_E_PARSE,
		 "h.yaml:3:3: d: merge keys (<<) are not supported");
	FAIL_STR("a: \"\\0\"\n", BL_E_PARSE, "NUL characters");
	FAIL_STR("%YAML 9.9\n---\na: 1\n", BL_E_PARSE, "h.yaml:1:");
}

static void t_not_objects(void **state)
{
	FAIL_STR("hello\n", BL_E_INVALID, "a document must be a mapping");
	FAIL_STR("[1, 2]\n", BL_E_INVALID, "a document must be a mapping");
	FAIL_STR("42\n", BL_E_INVALID, "a document must be a mapping");
	FAIL_STR("kind: Pod\n", BL_E_INVALID,
		 "unknown kind \"Pod\" (one of Cluster, Secret, Volume, "
		 "Target, Rollout)");
}

static void t_too_big(void **state)
{
	size_t len = BL_MAX_FILE_SIZE + 1;
	char *b = malloc(len), path[] = "/tmp/bl-hostile-XXXXXX";
	struct bl_objlist l;
	struct bl_diag d;
	int fd;

	memset(b, ' ', len);
	expect_fail(b, len, BL_E_PARSE, "h.yaml: larger than 16 MiB");
	/* the same through a file */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_path(path, &l, &d), BL_E_PARSE);
	assert_non_null(strstr(d.v[0].msg, "larger than 16 MiB"));
	bl_diag_free(&d);
	unlink(path);
	free(b);
}

static void t_too_many_nodes(void **state)
{
	/* 1.5 million list items in 3 MB: the node cap stops it */
	size_t n = 1500000, i;
	char *b = malloc(n * 2 + 16), *p = b;

	p += sprintf(p, "a: [");
	for (i = 0; i < n; i++) {
		*p++ = '0';
		*p++ = ',';
	}
	*p++ = ']';
	expect_fail(b, (size_t)(p - b), BL_E_PARSE,
		    "document has more than 1000000 nodes");
	free(b);
}

static bool has_msg(const struct bl_diag *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			return true;
	return false;
}

/* Input built to produce huge numbers of errors: the messages stop at a
 * cap and the work stays linear. */
static void t_error_floods(void **state)
{
	size_t n = 200000, i;
	char *b = malloc(n * 24 + 256), *p = b;
	struct bl_objlist l;
	struct bl_diag d;

	/* 200000 unknown fields in one object */
	p += sprintf(p, HDR "kind: Secret\nmetadata: {name: s}\ndata:\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  f%zu: x\n", i);
	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_buf("h.yaml", b, (size_t)(p - b), &l, &d),
			 BL_E_INVALID);
	assert_true(d.n <= 110);
	assert_true(has_msg(&d, "199902 more errors in this document not "
			    "shown"));
	bl_diag_free(&d);

	/* 200000 duplicate keys */
	p = b;
	for (i = 0; i < n; i++)
		p += sprintf(p, "k: v\n");
	assert_int_equal(bl_parse_buf("h.yaml", b, (size_t)(p - b), &l, &d),
			 BL_E_PARSE);
	assert_true(d.n <= 110);
	bl_diag_free(&d);

	/* 200000 bad documents */
	p = b;
	for (i = 0; i < n; i++)
		p += sprintf(p, "x\n---\n");
	assert_int_equal(bl_parse_buf("h.yaml", b, (size_t)(p - b), &l, &d),
			 BL_E_INVALID);
	assert_true(d.n <= BL_MAX_ERRORS_TEST + 10);
	assert_true(has_msg(&d, "more than 1000 errors; stopped checking"));
	bl_diag_free(&d);

	/* 200000 documents with bad scalars */
	p = b;
	for (i = 0; i < n; i++)
		p += sprintf(p, "a: !!bool x\n---\n");
	assert_int_equal(bl_parse_buf("h.yaml", b, (size_t)(p - b), &l, &d),
			 BL_E_PARSE);
	assert_true(d.n <= BL_MAX_ERRORS_TEST + 10);
	assert_true(has_msg(&d, "more than 1000 errors; stopped reading"));
	bl_diag_free(&d);

	/* 16384 LUNs, all duplicates of LUN 0: capped messages */
	p = b;
	p += sprintf(p, HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		     "  cluster: c\n  iqn: iqn.2026-11.io.x:t\n  luns:\n");
	for (i = 0; i < 16384; i++)
		p += sprintf(p, "  - {lun: 0, volume: v%zu}\n", i);
	assert_int_equal(bl_parse_buf("h.yaml", b, (size_t)(p - b), &l, &d),
			 BL_E_INVALID);
	assert_true(d.n <= 110);
	assert_true(has_msg(&d, "duplicate lun 0 (also in luns[0])"));
	assert_true(has_msg(&d, "16283 more errors in this document not "
			    "shown"));
	bl_diag_free(&d);
	assert_int_equal(l.n, 0);
	free(b);
}

static void t_many_documents(void **state)
{
	/* 200000 empty documents: no objects, no trouble */
	size_t n = 200000, i;
	char *b = malloc(n * 4 + 1), *p = b;

	for (i = 0; i < n; i++)
		p += sprintf(p, "---\n");
	expect_fail(b, (size_t)(p - b), BL_E_PARSE, "no objects");
	free(b);
}

static void t_paths(void **state)
{
	struct bl_objlist l;
	struct bl_diag d;

	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_path("/nonexistent/bollard.yaml", &l, &d),
			 -ENOENT);
	assert_string_equal(d.v[0].file, "/nonexistent/bollard.yaml");
	bl_diag_free(&d);
	{
		char dir[] = "/tmp/bl-empty-XXXXXX";

		assert_non_null(mkdtemp(dir));
		assert_int_equal(bl_parse_path(dir, &l, &d), BL_E_PARSE);
		assert_non_null(strstr(d.v[0].msg, "no *.yaml"));
		rmdir(dir);
	}
	bl_diag_free(&d);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_empty),
		cmocka_unit_test(t_garbage),
		cmocka_unit_test(t_tabs),
		cmocka_unit_test(t_duplicate_keys),
		cmocka_unit_test(t_numbers),
		cmocka_unit_test(t_deep),
		cmocka_unit_test(t_aliases),
		cmocka_unit_test(t_anchor_flood),
		cmocka_unit_test(t_aliases_ok),
		cmocka_unit_test(t_unsupported),
		cmocka_unit_test(t_not_objects),
		cmocka_unit_test(t_too_big),
		cmocka_unit_test(t_too_many_nodes),
		cmocka_unit_test(t_error_floods),
		cmocka_unit_test(t_many_documents),
		cmocka_unit_test(t_paths),
	};

	return cmocka_run_group_tests_name("schema_hostile", tests, NULL, NULL);
}
