/*
 * test_cli.c - the pure pieces of the bollard CLI: label selectors, tables,
 * ages, minor allocation, unified diff.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

/* ---- selectors -----------------------------------------------------------*/

static json_t *labels(const char *json)
{
	json_t *v = json_loads(json, 0, NULL);

	assert_non_null(v);
	return v;
}

static void test_selector_equality(void **state)
{
	struct selector s;
	char err[128];
	json_t *a = labels("{\"env\":\"prod\",\"tier\":\"db\"}");
	json_t *b = labels("{\"env\":\"dev\"}");

	assert_int_equal(selector_parse("env=prod", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_true(selector_match(&s, a));
	assert_false(selector_match(&s, b));
	assert_false(selector_match(&s, NULL));
	selector_free(&s);

	assert_int_equal(selector_parse("env==prod, tier=db", &s, err,
					 sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[1].key, "tier");
	assert_string_equal(s.v[1].val, "db");
	assert_true(selector_match(&s, a));
	assert_false(selector_match(&s, b));
	selector_free(&s);
	json_decref(a);
	json_decref(b);
}

static void test_selector_negation_and_existence(void **state)
{
	struct selector s;
	char err[128];
	json_t *a = labels("{\"env\":\"prod\",\"managed\":\"\"}");
	json_t *b = labels("{\"env\":\"dev\"}");
	json_t *none = labels("{}");

	assert_int_equal(selector_parse("env!=prod", &s, err, sizeof(err)), 0);
	assert_true(s.v[0].neg);
	assert_false(selector_match(&s, a));
	assert_true(selector_match(&s, b));
	assert_true(selector_match(&s, none)); /* absent != prod */
	selector_free(&s);

	assert_int_equal(selector_parse("managed", &s, err, sizeof(err)), 0);
	assert_null(s.v[0].val);
	assert_true(selector_match(&s, a));
	assert_false(selector_match(&s, b));
	selector_free(&s);

	assert_int_equal(selector_parse("!managed,env", &s, err, sizeof(err)),
			 0);
	assert_false(selector_match(&s, a));
	assert_true(selector_match(&s, b));
	assert_false(selector_match(&s, none));
	selector_free(&s);
	json_decref(a);
	json_decref(b);
	json_decref(none);
}

static void test_selector_errors(void **state)
{
	struct selector s;
	char err[128];

	assert_int_equal(selector_parse("", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(selector_parse("a=b,", &s, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(selector_parse("a b=c", &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "key"));
	assert_int_equal(selector_parse("a=b c", &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "value"));
	assert_int_equal(selector_parse("=x", &s, err, sizeof(err)), -EINVAL);
	/* An empty value is a valid label value. */
	assert_int_equal(selector_parse("a=", &s, err, sizeof(err)), 0);
	assert_string_equal(s.v[0].val, "");
	selector_free(&s);
}

/* ---- tables --------------------------------------------------------------*/

static char *print_to_string(const struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	table_print(t, f);
	fclose(f);
	return buf;
}

static void test_table_alignment(void **state)
{
	static const char *const hdr[] = { "NAME", "IQN", "LUNS" };
	static const char *const r1[] = { "db", "iqn.2026-01.io.x:db", "2" };
	static const char *const r2[] = { "archive-long", NULL, "10" };
	struct table t;
	char *out;

	assert_int_equal(table_init(&t, 3, hdr), 0);
	assert_int_equal(table_add(&t, r1), 0);
	assert_int_equal(table_add(&t, r2), 0);
	out = print_to_string(&t);
	assert_string_equal(out,
		"NAME           IQN                   LUNS\n"
		"db             iqn.2026-01.io.x:db   2\n"
		"archive-long   <none>                10\n");
	free(out);
	table_free(&t);
}

static void test_table_many_rows(void **state)
{
	static const char *const hdr[] = { "N" };
	struct table t;
	char name[16], *out;
	const char *row[1] = { name };

	assert_int_equal(table_init(&t, 1, hdr), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(table_add(&t, row), 0);
	}
	assert_int_equal(t.nrow, 1001);
	out = print_to_string(&t);
	/* No trailing spaces on a one-column table. */
	assert_null(strstr(out, " \n"));
	assert_non_null(strstr(out, "\nv999\n"));
	free(out);
	table_free(&t);
}

static void test_format_age(void **state)
{
	char b[32];
	/* 2026-11-24T00:00:00Z */
	int64_t base = 1795478400;

	format_age("2026-11-24T00:00:00Z", base + 5, b, sizeof(b));
	assert_string_equal(b, "5s");
	format_age("2026-11-24T00:00:00Z", base + 150, b, sizeof(b));
	assert_string_equal(b, "2m30s");
	format_age("2026-11-24T00:00:00Z", base + 3600, b, sizeof(b));
	assert_string_equal(b, "60m");
	format_age("2026-11-24T00:00:00Z", base + 5 * 3600 + 60, b, sizeof(b));
	assert_string_equal(b, "5h1m");
	format_age("2026-11-24T00:00:00Z", base + 3 * 86400, b, sizeof(b));
	assert_string_equal(b, "3d");
	format_age("2026-11-24T00:00:00Z", base + 800LL * 86400, b, sizeof(b));
	assert_string_equal(b, "2y");
	format_age("2026-11-24T00:00:00Z", base - 10, b, sizeof(b));
	assert_string_equal(b, "0s");
	format_age("yesterday", base, b, sizeof(b));
	assert_string_equal(b, "<unknown>");
	format_age(NULL, base, b, sizeof(b));
	assert_string_equal(b, "<unknown>");
}

/* ---- minors --------------------------------------------------------------*/

static void test_minor_lowest_free(void **state)
{
	int64_t m = -1;
	int64_t used1[] = { 0, 1, 2 };
	int64_t used2[] = { 3, 0, 1, 1, 5 };
	int64_t used3[] = { 1, 2 };

	assert_int_equal(minor_lowest_free(NULL, 0, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(minor_lowest_free(used1, 3, &m), 0);
	assert_int_equal(m, 3);
	assert_int_equal(minor_lowest_free(used2, 5, &m), 0);
	assert_int_equal(m, 2);
	assert_int_equal(minor_lowest_free(used3, 2, &m), 0);
	assert_int_equal(m, 0);
}

static void test_minor_exhausted(void **state)
{
	size_t n = 1048576;
	int64_t *used = malloc(n * sizeof(*used));
	int64_t m = -1;

	assert_non_null(used);
	for (size_t i = 0; i < n; i++)
		used[i] = (int64_t)(n - 1 - i);
	assert_int_equal(minor_lowest_free(used, n, &m), -ENOSPC);
	used[7] = 99999999; /* frees minor n-8 */
	assert_int_equal(minor_lowest_free(used, n, &m), 0);
	assert_int_equal(m, (int64_t)n - 8);
	free(used);
}

/* ---- unified diff --------------------------------------------------------*/

static int diff_to_string(const char *a, const char *b, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int rc;

	assert_non_null(f);
	rc = udiff(a, b, "live/x", "merged/x", f);
	fclose(f);
	return rc;
}

static void test_udiff_equal(void **state)
{
	char *out;

	assert_int_equal(diff_to_string("a\nb\n", "a\nb\n", &out), 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_udiff_change_in_middle(void **state)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
	const char *b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
	char *out;

	assert_int_equal(diff_to_string(a, b, &out), 1);
	assert_string_equal(out,
		"--- live/x\n+++ merged/x\n"
		"@@ -2,7 +2,7 @@\n"
		" 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	free(out);
}

static void test_udiff_from_empty(void **state)
{
	char *out;

	assert_int_equal(diff_to_string("", "a: 1\nb: 2\n", &out), 1);
	assert_string_equal(out,
		"--- live/x\n+++ merged/x\n"
		"@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n");
	free(out);
}

static void test_udiff_two_hunks(void **state)
{
	const char *a = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n";
	const char *b = "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nN\nO\n";
	char *out;

	assert_int_equal(diff_to_string(a, b, &out), 1);
	assert_string_equal(out,
		"--- live/x\n+++ merged/x\n"
		"@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n"
		"@@ -11,4 +11,5 @@\n k\n l\n m\n-n\n+N\n+O\n");
	free(out);
}

static void test_udiff_insert_delete(void **state)
{
	const char *a = "x\ny\nz\n";
	const char *b = "x\nnew\nz\n";
	char *out;

	assert_int_equal(diff_to_string(a, b, &out), 1);
	assert_string_equal(out,
		"--- live/x\n+++ merged/x\n"
		"@@ -1,3 +1,3 @@\n x\n-y\n+new\n z\n");
	free(out);
	assert_int_equal(diff_to_string("x\ny\n", "", &out), 1);
	assert_string_equal(out,
		"--- live/x\n+++ merged/x\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_equality),
		cmocka_unit_test(test_selector_negation_and_existence),
		cmocka_unit_test(test_selector_errors),
		cmocka_unit_test(test_table_alignment),
		cmocka_unit_test(test_table_many_rows),
		cmocka_unit_test(test_format_age),
		cmocka_unit_test(test_minor_lowest_free),
		cmocka_unit_test(test_minor_exhausted),
		cmocka_unit_test(test_udiff_equal),
		cmocka_unit_test(test_udiff_change_in_middle),
		cmocka_unit_test(test_udiff_from_empty),
		cmocka_unit_test(test_udiff_two_hunks),
		cmocka_unit_test(test_udiff_insert_delete),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
