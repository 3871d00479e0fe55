/*
 * test_schema_util.h - helpers shared by the schema unit tests
 * (tests/unit/test_schema*.c). Static functions only: each test binary
 * includes it once.
 */
#ifndef TEST_SCHEMA_UTIL_H
#define TEST_SCHEMA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bl_schema.h"

/* Parse text as file "t.yaml"; the printed diagnostics go to *out. */
static int __attribute__((unused))
parse_text(const char *text, struct bl_objlist *l, char **out)
{
	struct bl_diag d;
	size_t n = 0;
	FILE *f;
	int rc;

	bl_diag_init(&d);
	rc = bl_parse_buf("t.yaml", text, strlen(text), l, &d);
	f = open_memstream(out, &n);
	assert_non_null(f);
	bl_diag_print(&d, f);
	fclose(f);
	if (rc == 0)
		assert_int_equal(bl_diag_count(&d), 0);
	else
		assert_true(bl_diag_count(&d) > 0);
	bl_diag_free(&d);
	return rc;
}

/* Expect text to fail with rc and print exactly `want` (all lines). */
static void __attribute__((unused))
expect_errors(const char *text, int rc_want, const char *want)
{
	struct bl_objlist l;
	char *out = NULL;
	int rc;

	bl_objlist_init(&l);
	rc = parse_text(text, &l, &out);
	if (rc != rc_want || strcmp(out, want))
		fprintf(stderr, "rc %d (want %d)\n--- got:\n%s--- want:\n%s",
			rc, rc_want, out, want);
	assert_int_equal(rc, rc_want);
	assert_string_equal(out, want);
	assert_int_equal(l.n, 0);
	free(out);
	bl_objlist_free(&l);
}

/* Expect text to parse into exactly n objects; returns the list. */
static void __attribute__((unused))
expect_ok(const char *text, size_t n, struct bl_objlist *l)
{
	char *out = NULL;
	int rc;

	bl_objlist_init(l);
	rc = parse_text(text, l, &out);
	if (rc)
		fprintf(stderr, "unexpected errors:\n%s", out);
	assert_int_equal(rc, 0);
	assert_int_equal(l->n, n);
	free(out);
}

/* Canonical JSON of the only object in text. */
static __attribute__((unused)) char *canon(const char *text)
{
	struct bl_objlist l;
	char *s;

	expect_ok(text, 1, &l);
	s = bl_obj_to_json(l.v[0]);
	assert_non_null(s);
	bl_objlist_free(&l);
	return s;
}

#define HDR "apiVersion: bollard.io/v1alpha1\n"

#endif
