/*
 * test_schema_files.c - the committed files that come from the schema:
 *   - every example under examples/ validates, without warnings, and its
 *     references resolve within its own directory;
 *   - schema/kinds/<kind>.schema.json and docs/schema.md are exactly what
 *     the field tables generate now (`make schemas` rewrites them).
 * Paths are relative to $TOP (tests/run.sh sets it) or the current
 * directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "test_schema_util.h"
#include "bl_schema_int.h"

static const char *top(void)
{
	const char *t = getenv("TOP");

	return t && *t ? t : ".";
}

static char *slurp(const char *rel)
{
	char path[4096], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", top(), rel);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Parse one example directory; returns the objects. */
static void parse_example(const char *dir, size_t want, struct bl_objlist *l)
{
	char path[4096];
	struct bl_diag d;
	int rc;

	snprintf(path, sizeof(path), "%s/examples/%s", top(), dir);
	bl_objlist_init(l);
	bl_diag_init(&d);
	rc = bl_parse_path(path, l, &d);
	if (rc || d.n)
		bl_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);           /* no warnings either */
	assert_int_equal(l->n, want);
	rc = bl_check_refs(l, NULL, NULL, &d);
	if (rc)
		bl_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	bl_diag_free(&d);
}

static const char *sget(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void t_quickstart(void **state)
{
	struct bl_objlist l;
	const struct bl_obj *c, *v, *t;
	json_t *b, *lun0, *acl0;

	parse_example("quickstart", 3, &l);
	c = bl_objlist_find(&l, "Cluster", "local");
	v = bl_objlist_find(&l, "Volume", "demo");
	t = bl_objlist_find(&l, "Target", "demo");
	assert_non_null(c);
	assert_non_null(v);
	assert_non_null(t);
	assert_string_equal(sget(c->spec, "ha"), "none");
	assert_int_equal(json_array_size(json_object_get(c->spec, "nodes")), 1);
	assert_string_equal(sget(json_array_get(json_object_get(c->spec,
							"nodes"), 0), "name"),
			    "local");
	assert_string_equal(sget(json_array_get(json_object_get(c->spec,
							"nodes"), 0),
				 "address"), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(v->spec, "size")),
			 64 << 20);
	b = json_object_get(v->spec, "backing");
	assert_string_equal(sget(b, "type"), "file");
	assert_string_equal(sget(b, "path"), "volumes/demo.img");
	assert_string_equal(sget(v->spec, "replication"), "none");
	assert_string_equal(sget(t->spec, "iqn"), "iqn.2026-11.io.bollard:demo");
	lun0 = json_array_get(json_object_get(t->spec, "luns"), 0);
	assert_int_equal(json_integer_value(json_object_get(lun0, "lun")), 0);
	assert_string_equal(sget(lun0, "volume"), "demo");
	acl0 = json_array_get(json_object_get(t->spec, "acls"), 0);
	assert_string_equal(sget(acl0, "initiator"), "*");
	bl_objlist_free(&l);
}

static void t_vmware_ha(void **state)
{
	struct bl_objlist l;
	const struct bl_obj *c, *t;
	json_t *feat;
	size_t i, nvol = 0;

	parse_example("vmware-ha", 9, &l);
	c = bl_objlist_find(&l, "Cluster", "vmware-ha");
	assert_non_null(c);
	assert_string_equal(sget(c->spec, "ha"), "pacemaker");
	assert_string_equal(sget(c->spec, "quorum"), "none");
	assert_int_equal(json_array_size(json_object_get(c->spec, "nodes")), 2);
	for (i = 0; i < l.n; i++) {
		json_t *r;

		if (strcmp(l.v[i]->kind, "Volume"))
			continue;
		nvol++;
		r = json_object_get(l.v[i]->spec, "replication");
		assert_true(json_is_object(r));
		assert_string_equal(sget(r, "protocol"), "C");
		assert_string_equal(sget(json_object_get(l.v[i]->spec,
							 "backing"), "type"),
				    "lvm");
	}
	assert_int_equal(nvol, 3);
	t = bl_objlist_find(&l, "Target", "vmware");
	assert_non_null(t);
	assert_true(json_array_size(json_object_get(t->spec,
						    "serviceAddresses")) >= 1);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(t->spec, "sessions"), "maxPerInitiator")), 2);
	feat = json_object_get(t->spec, "features");
	assert_true(json_is_true(json_object_get(feat, "compareAndWrite")));
	assert_true(json_is_true(json_object_get(feat, "extendedCopy")));
	assert_true(json_is_true(json_object_get(feat, "unmap")));
	assert_true(json_is_true(json_object_get(feat, "writeSame")));
	for (i = 0; i < json_array_size(json_object_get(t->spec, "acls"));
	     i++)
		assert_non_null(sget(json_array_get(json_object_get(
			t->spec, "acls"), i), "chapSecretRef"));
	bl_objlist_free(&l);
}

static void t_fleet(void **state)
{
	struct bl_objlist l;
	size_t i, nclusters = 0;

	parse_example("fleet", 5, &l);
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.v[i]->kind, "Cluster"))
			continue;
		nclusters++;
		assert_non_null(sget(l.v[i]->labels, "region"));
		assert_non_null(sget(l.v[i]->labels, "tier"));
		assert_non_null(sget(l.v[i]->labels, "env"));
	}
	assert_true(nclusters >= 3);
	assert_non_null(bl_objlist_find(&l, "Rollout", "datastores-prod"));
	bl_objlist_free(&l);
}

/* Every manifest anywhere under examples/ parses, as one set. */
static void t_all_examples(void **state)
{
	char path[4096];
	struct bl_objlist l;
	struct bl_diag d;
	DIR *dh;
	struct dirent *de;
	size_t dirs = 0;

	snprintf(path, sizeof(path), "%s/examples", top());
	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_path(path, &l, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(l.n >= 17);
	bl_objlist_free(&l);
	bl_diag_free(&d);
	/* and each example directory is self-contained */
	dh = opendir(path);
	assert_non_null(dh);
	while ((de = readdir(dh))) {
		char sub[4096 + 260];
		struct bl_objlist one;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		bl_objlist_init(&one);
		assert_int_equal(bl_parse_path(sub, &one, &d), 0);
		if (bl_check_refs(&one, NULL, NULL, &d))
			bl_diag_print(&d, stderr);
		assert_int_equal(bl_diag_count(&d), 0);
		bl_objlist_free(&one);
		dirs++;
	}
	closedir(dh);
	bl_diag_free(&d);
	assert_true(dirs >= 3);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define SECRET(n) HDR "kind: Secret\nmetadata: {name: " n "}\n" \
	"data: {username: u, password: \"0123456789ab\"}\n"

/* A directory: *.yaml, *.yml, *.json, recursively, sorted; hidden and
 * other files skipped; one bad file fails the whole set, but every file is
 * still read and reported. */
static void t_directory(void **state)
{
	char dir[] = "/tmp/bl-dir-XXXXXX", sub[64], cmd[128];
	struct bl_objlist l;
	struct bl_diag d;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/.git", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(dir, "b.yaml", SECRET("s-b"));
	put(dir, "a/c.yml", SECRET("s-ac"));
	put(dir, "a/a.json",
	    "{\"apiVersion\": \"bollard.io/v1alpha1\", \"kind\": \"Secret\","
	    " \"metadata\": {\"name\": \"s-aa\"}, \"data\": {\"username\":"
	    " \"u\", \"password\": \"0123456789ab\"}}\n");
	put(dir, ".hidden.yaml", "garbage: [\n");
	put(dir, ".git/x.yaml", "garbage: [\n");
	put(dir, "notes.txt", "garbage: [\n");
	put(dir, "c.yaml.orig", "garbage: [\n");

	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_path(dir, &l, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0]->name, "s-aa");   /* a/a.json */
	assert_string_equal(l.v[1]->name, "s-ac");   /* a/c.yml */
	assert_string_equal(l.v[2]->name, "s-b");    /* b.yaml */
	assert_non_null(strstr(l.v[1]->file, "/a/c.yml"));

	/* two bad files: both reported, nothing returned, list untouched */
	put(dir, "a/bad.yaml", "x: [\n");
	put(dir, "z.yaml", SECRET("Bad"));
	assert_int_equal(bl_parse_path(dir, &l, &d), BL_E_PARSE);
	assert_int_equal(l.n, 3);
	assert_int_equal(bl_diag_count(&d), 2);
	assert_non_null(strstr(d.v[0].file, "/a/bad.yaml"));
	assert_non_null(strstr(d.v[1].file, "/z.yaml"));
	bl_diag_free(&d);
	bl_objlist_free(&l);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void t_json_schemas_current(void **state)
{
	const char *const *k;

	for (k = bl_kind_names(); *k; k++) {
		char rel[128], lower[32];
		char *want = bl_schema_text(*k), *have;
		size_t i;

		for (i = 0; (*k)[i]; i++)
			lower[i] = (char)tolower((unsigned char)(*k)[i]);
		lower[i] = 0;
		snprintf(rel, sizeof(rel), "schema/kinds/%s.schema.json", lower);
		have = slurp(rel);
		assert_non_null(want);
		if (!have || strcmp(want, have))
			fprintf(stderr, "%s is stale: run `make schemas`\n",
				rel);
		assert_non_null(have);
		assert_string_equal(have, want);
		/* and it is a JSON Schema of this kind */
		{
			json_t *j = json_loads(have, 0, NULL);

			assert_non_null(j);
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(j,
					"properties"), "kind"), "const")), *k);
			json_decref(j);
		}
		free(want);
		free(have);
	}
	assert_null(bl_kind_json_schema("Pod"));
}

static void t_markdown_current(void **state)
{
	char *want = NULL, *have = slurp("docs/schema.md");
	size_t n;
	FILE *f = open_memstream(&want, &n);

	assert_int_equal(bl_schema_write_markdown(f), 0);
	fclose(f);
	if (!have || strcmp(want, have))
		fprintf(stderr, "docs/schema.md is stale: run `make schemas`\n");
	assert_non_null(have);
	assert_string_equal(have, want);
	/* every field of every kind is documented */
	assert_non_null(strstr(have, "`spec.luns[].lun`"));
	assert_non_null(strstr(have, "`spec.replication.minor`"));
	assert_non_null(strstr(have, "`data.password`"));
	assert_non_null(strstr(have, "`spec.healthGate.stableFor`"));
	free(want);
	free(have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_quickstart),
		cmocka_unit_test(t_vmware_ha),
		cmocka_unit_test(t_fleet),
		cmocka_unit_test(t_all_examples),
		cmocka_unit_test(t_directory),
		cmocka_unit_test(t_json_schemas_current),
		cmocka_unit_test(t_markdown_current),
	};

	return cmocka_run_group_tests_name("schema_files", tests, NULL, NULL);
}
