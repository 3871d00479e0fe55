/*
 * fuzz_yaml.c - libFuzzer target over the YAML -> objects path.
 *
 * Besides "no crash, no leak, no hang", it checks the invariants the rest of
 * bollard relies on, for every input that parses:
 *   - bl_obj_from_json(bl_obj_to_json(o)) succeeds and gives the same bytes
 *     (the stored form is a fixed point);
 *   - printing the object as YAML and parsing that back gives the same
 *     canonical bytes (get -o yaml | apply is a no-op);
 *   - bl_obj_spec_equal holds between the object and its copies;
 *   - bl_check_refs and the diag printer run without trouble.
 * Any broken invariant aborts, which libFuzzer reports as a crash.
 *
 *   make fuzz && build/fuzz/fuzz_yaml -max_total_time=60 corpus/
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema.h"

static void check_obj(const struct bl_obj *o)
{
	struct bl_obj *back = NULL, *dup;
	struct bl_objlist l2;
	struct bl_diag d;
	char *s1, *s2, *yaml = NULL;
	size_t ylen = 0;
	json_t *v;
	FILE *f;

	s1 = bl_obj_to_json(o);
	if (!s1)
		abort();
	bl_diag_init(&d);
	if (bl_obj_from_json(s1, strlen(s1), &back, &d))
		abort();
	s2 = bl_obj_to_json(back);
	if (!s2 || strcmp(s1, s2))
		abort();
	if (!bl_obj_spec_equal(o, back))
		abort();
	free(s2);

	dup = bl_obj_dup(o);
	if (!dup || !bl_obj_spec_equal(o, dup))
		abort();
	bl_obj_redact(dup);
	bl_obj_free(dup);

	v = bl_obj_to_value(o, BL_VAL_RESOURCE_VERSION);
	f = open_memstream(&yaml, &ylen);
	if (!v || !f || bl_json_print_yaml(v, f))
		abort();
	fclose(f);
	bl_objlist_init(&l2);
	if (bl_parse_buf("roundtrip.yaml", yaml, ylen, &l2, &d) || l2.n != 1)
		abort();
	s2 = bl_obj_to_json(l2.v[0]);
	if (!s2 || strcmp(s1, s2))
		abort();
	bl_json_diff(v, v, NULL, NULL);
	free(s2);
	bl_objlist_free(&l2);
	json_decref(v);
	free(yaml);
	free(s1);
	bl_obj_free(back);
	bl_diag_free(&d);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bl_objlist l;
	struct bl_diag d;
	FILE *devnull;
	size_t i;
	int rc;

	bl_objlist_init(&l);
	bl_diag_init(&d);
	rc = bl_parse_buf("fuzz.yaml", (const char *)data, size, &l, &d);
	if (rc && (l.n || !bl_diag_count(&d)))
		abort();                /* errors must be reported, list kept */
	if (!rc) {
		for (i = 0; i < l.n; i++)
			check_obj(l.v[i]);
		bl_check_refs(&l, NULL, NULL, &d);
	}
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		bl_diag_print(&d, devnull);
		fclose(devnull);
	}
	bl_diag_free(&d);
	bl_objlist_free(&l);
	return 0;
}
