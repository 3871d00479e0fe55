/*
 * bl_store.c - the canonical stored form of an object and what apply
 * compares: to/from JSON, spec equality, server fields, redaction, diff.
 *
 * Why one canonical byte form: apply decides "unchanged" cheaply and
 * reliably, and etcd's value history only moves when something really
 * changed. Sorted keys at every level, no whitespace, integers for sizes and
 * defaults already applied make two manifests that mean the same thing
 * store the same bytes, whatever their key order, formatting or spelling of
 * sizes ("1Gi" vs 1073741824) and defaults (written out or omitted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_schema_int.h"

static int set_copy(json_t *obj, const char *key, const json_t *v)
{
	json_t *c = json_deep_copy(v);

	if (!c)
		return -ENOMEM;
	return json_object_set_new(obj, key, c) ? -ENOMEM : 0;
}

static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *j = json_string(s);

	if (!j)
		return -ENOMEM;
	return json_object_set_new(obj, key, j) ? -ENOMEM : 0;
}

static int set_int(json_t *obj, const char *key, int64_t i)
{
	json_t *j = json_integer(i);

	if (!j)
		return -ENOMEM;
	return json_object_set_new(obj, key, j) ? -ENOMEM : 0;
}

json_t *bl_obj_to_value(const struct bl_obj *o, unsigned flags)
{
	json_t *root = json_object(), *meta = json_object();
	int rc = 0;

	if (!root || !meta)
		goto out_free;
	rc |= set_str(root, "apiVersion", o->api_version ? o->api_version :
		      BL_API_VERSION);
	rc |= set_str(root, "kind", o->kind);
	rc |= set_str(meta, "name", o->name);
	if (o->uid)
		rc |= set_str(meta, "uid", o->uid);
	if (o->generation > 0)
		rc |= set_int(meta, "generation", o->generation);
	if ((flags & BL_VAL_RESOURCE_VERSION) && o->resource_version > 0)
		rc |= set_int(meta, "resourceVersion", o->resource_version);
	if (o->creation_timestamp)
		rc |= set_str(meta, "creationTimestamp", o->creation_timestamp);
	if (o->labels && json_object_size(o->labels))
		rc |= set_copy(meta, "labels", o->labels);
	if (o->annotations && json_object_size(o->annotations))
		rc |= set_copy(meta, "annotations", o->annotations);
	if (json_object_set(root, "metadata", meta))
		rc = -ENOMEM;
	if (o->data)
		rc |= set_copy(root, "data", o->data);
	else if (o->spec)
		rc |= set_copy(root, "spec", o->spec);
	if (rc)
		goto out_free;
	json_decref(meta);
	return root;

out_free:
	json_decref(meta);
	json_decref(root);
	return NULL;
}

char *bl_obj_to_json(const struct bl_obj *o)
{
	json_t *v = bl_obj_to_value(o, 0);
	char *s;

	if (!v)
		return NULL;
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	return s;
}

int bl_obj_from_json(const char *buf, size_t len, struct bl_obj **out,
		     struct bl_diag *d)
{
	json_error_t err;
	json_t *root;
	int rc;

	*out = NULL;
	if (len > BL_MAX_FILE_SIZE) {
		bl_diag_add(d, NULL, 0, 0, NULL, "larger than %u MiB",
			    BL_MAX_FILE_SIZE >> 20);
		return BL_E_PARSE;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		bl_diag_add(d, NULL, err.line, err.column, NULL, "%s",
			    err.text);
		return BL_E_PARSE;
	}
	rc = bl_build_obj(root, NULL, NULL, 0, 0, true, d, out);
	json_decref(root);
	return rc;
}

static bool json_equal_or_null(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal((json_t *)a, (json_t *)b);
}

static bool map_equal(const json_t *a, const json_t *b)
{
	/* NULL and {} are the same: no labels. */
	if (!a || !json_object_size(a))
		return !b || !json_object_size(b);
	return json_equal_or_null(a, b);
}

bool bl_obj_spec_equal(const struct bl_obj *a, const struct bl_obj *b)
{
	if (strcmp(a->kind, b->kind) || strcmp(a->name, b->name))
		return false;
	return json_equal_or_null(a->spec, b->spec) &&
	       json_equal_or_null(a->data, b->data) &&
	       map_equal(a->labels, b->labels) &&
	       map_equal(a->annotations, b->annotations);
}

int bl_obj_carry_allocated(struct bl_obj *dst, const struct bl_obj *stored)
{
	static const char *const fields[] = { "minor", "port", NULL };
	json_t *dr, *sr;
	int n = 0;
	size_t i;

	if (strcmp(dst->kind, "Volume") || strcmp(stored->kind, "Volume"))
		return 0;
	dr = json_object_get(dst->spec, "replication");
	sr = json_object_get(stored->spec, "replication");
	if (!json_is_object(dr) || !json_is_object(sr))
		return 0;
	for (i = 0; fields[i]; i++) {
		json_t *v = json_object_get(sr, fields[i]);

		if (!v || json_object_get(dr, fields[i]))
			continue;
		if (set_copy(dr, fields[i], v))
			return -ENOMEM;
		n++;
	}
	return n;
}

int bl_obj_init_server_fields(struct bl_obj *o)
{
	char uid[37], ts[32];
	struct timespec now;
	struct tm tm;
	char *u, *t;
	int rc;

	if ((rc = bl_uid_new(uid)))
		return rc;
	if (clock_gettime(CLOCK_REALTIME, &now))
		return -errno;
	if (!gmtime_r(&now.tv_sec, &tm))
		return -EOVERFLOW;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	u = strdup(uid);
	t = strdup(ts);
	if (!u || !t) {
		free(u);
		free(t);
		return -ENOMEM;
	}
	free(o->uid);
	free(o->creation_timestamp);
	o->uid = u;
	o->creation_timestamp = t;
	o->generation = 1;
	return 0;
}

int bl_obj_redact(struct bl_obj *o)
{
	const char *k;
	json_t *v;

	if (!o->data)
		return 0;
	json_object_foreach(o->data, k, v) {
		if (json_object_set_new(o->data, k, json_string("<redacted>")))
			return -ENOMEM;
	}
	return 0;
}

/* ---- diff ----------------------------------------------------------------*/

struct diff_ctx {
	struct bl_path path;
	bl_diff_fn cb;
	void *arg;
	size_t n;
};

static void diff_leaf(struct diff_ctx *c, const json_t *a, const json_t *b)
{
	c->n++;
	if (c->cb)
		c->cb(c->arg, bl_path_str(&c->path), a, b);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void diff_rec(struct diff_ctx *c, const json_t *a, const json_t *b);

static void diff_objects(struct diff_ctx *c, const json_t *a,
			 const json_t *b)
{
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i, old;

	keys = malloc((json_object_size(a) + json_object_size(b) + 1) *
		      sizeof(*keys));
	if (!keys)
		return;
	json_object_foreach((json_t *)a, k, v)
		keys[n++] = k;
	json_object_foreach((json_t *)b, k, v)
		if (!json_object_get(a, k))
			keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 0; i < n; i++) {
		old = bl_path_key(&c->path, keys[i]);
		diff_rec(c, json_object_get(a, keys[i]),
			 json_object_get(b, keys[i]));
		bl_path_pop(&c->path, old);
	}
	free(keys);
}

static void diff_rec(struct diff_ctx *c, const json_t *a, const json_t *b)
{
	size_t i, na, nb, old;

	if (a && b && json_equal((json_t *)a, (json_t *)b))
		return;
	if (json_is_object(a) && json_is_object(b)) {
		diff_objects(c, a, b);
		return;
	}
	if (json_is_array(a) && json_is_array(b)) {
		na = json_array_size(a);
		nb = json_array_size(b);
		for (i = 0; i < na || i < nb; i++) {
			old = bl_path_index(&c->path, i);
			diff_rec(c, json_array_get(a, i), json_array_get(b, i));
			bl_path_pop(&c->path, old);
		}
		return;
	}
	if (!a && !b)
		return;
	diff_leaf(c, a, b);
}

size_t bl_json_diff(const json_t *old, const json_t *new_, bl_diff_fn cb,
		    void *arg)
{
	struct diff_ctx c = { .cb = cb, .arg = arg };

	diff_rec(&c, old, new_);
	bl_path_free(&c.path);
	return c.n;
}
