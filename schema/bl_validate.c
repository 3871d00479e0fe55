/*
 * bl_validate.c - the table-driven validator: walks a composed document
 * against a kind's field table (bl_kinds.c), reports every problem at its
 * source mark, applies defaults in place, and builds the struct bl_obj.
 *
 * The validator never stops at the first error: every field is checked so
 * that one `bollard apply` shows the operator everything to fix. A null
 * value counts as absent (YAML's "key:" with nothing after it), so an
 * explicit null and an omitted field default the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema_int.h"

static void vreport(struct bl_vctx *v, enum bl_severity sev,
		    const char *path, bool key, const char *fmt, va_list ap)
{
	const struct bl_mark *m;
	int line = v->line, col = v->col;
	char *msg = NULL;

	if (sev == BL_SEV_ERROR && v->nerr >= BL_MAX_DOC_ERRORS) {
		v->nerr++;              /* counted, not reported */
		return;
	}
	m = bl_src_find(v->src, path, key);
	if (m) {
		bool exact = !strcmp(m->path, path);

		if (key && exact && m->kline > 0) {
			line = m->kline;
			col = m->kcol;
		} else if (!exact && m->kline > 0 && m->path[0]) {
			/* A missing field: point at its parent's key. */
			line = m->kline;
			col = m->kcol;
		} else {
			line = m->line;
			col = m->col;
		}
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (sev == BL_SEV_ERROR) {
		v->nerr++;
		bl_diag_add(v->d, v->file, line, col, path, "%s",
			    msg ? msg : "out of memory");
	} else {
		bl_diag_warn(v->d, v->file, line, col, path, "%s",
			     msg ? msg : "out of memory");
	}
	free(msg);
}

void bl_verr(struct bl_vctx *v, const char *path, bool key, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(v, BL_SEV_ERROR, path, key, fmt, ap);
	va_end(ap);
}

void bl_vwarn(struct bl_vctx *v, const char *path, bool key,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(v, BL_SEV_WARNING, path, key, fmt, ap);
	va_end(ap);
}

#define HERE(v) bl_path_str(&(v)->path)

/* "a string \"yes\"", "an integer (5)", ... for "expected X, got Y". */
static const char *describe(const json_t *j, char *buf, size_t len)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:  return "a mapping";
	case JSON_ARRAY:   return "a list";
	case JSON_STRING:
		snprintf(buf, len, "the string \"%.40s\"", json_string_value(j));
		return buf;
	case JSON_INTEGER:
		snprintf(buf, len, "the integer %lld",
			 (long long)json_integer_value(j));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "the number %g", json_real_value(j));
		return buf;
	case JSON_TRUE:    return "true";
	case JSON_FALSE:   return "false";
	case JSON_NULL:    return "null";
	}
	return "?";
}

/* A scalar as written: 0, "x". */
static const char *compact(const json_t *j, char *buf, size_t len)
{
	if (json_is_string(j))
		snprintf(buf, len, "\"%.60s\"", json_string_value(j));
	else if (json_is_integer(j))
		snprintf(buf, len, "%lld", (long long)json_integer_value(j));
	else
		return describe(j, buf, len);
	return buf;
}

/* The type only, for values that must not be echoed (Secret data). */
static const char *describe_type(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:  return "a mapping";
	case JSON_ARRAY:   return "a list";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a number";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "?";
}

static void expected(struct bl_vctx *v, const char *what, const json_t *got)
{
	char buf[96];

	bl_verr(v, HERE(v), false, "expected %s, got %s", what,
		v->redact ? describe_type(got) :
		describe(got, buf, sizeof(buf)));
}

/* Edit distance, capped: only to suggest a field name for a typo. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = (a[i - 1] | 32) == (b[j - 1] | 32) ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static const struct bl_field *find_field(const struct bl_field *fields,
					 const char *name)
{
	for (; fields->name; fields++)
		if (!strcmp(fields->name, name))
			return fields;
	return NULL;
}

static void unknown_field(struct bl_vctx *v, const struct bl_field *fields,
			  const char *key)
{
	const struct bl_field *f, *best = NULL;
	size_t bd = 3, dist;

	for (f = fields; f->name; f++) {
		dist = edit_distance(key, f->name);
		if (dist < bd) {
			bd = dist;
			best = f;
		}
	}
	if (best)
		bl_verr(v, HERE(v), true, "unknown field \"%s\" (did you mean "
			"\"%s\"?)", key, best->name);
	else
		bl_verr(v, HERE(v), true, "unknown field \"%s\"", key);
}

static void list_enums(const char *const *e, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (; *e && n < len; e++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      n ? ", " : "", *e);
}

static bool in_enum(const char *const *e, const char *s)
{
	for (; *e; e++)
		if (!strcmp(*e, s))
			return true;
	return false;
}

static void check_string(struct bl_vctx *v, const struct bl_field *f,
			 json_t *val)
{
	const char *s;
	size_t n;
	char buf[256];

	if (!json_is_string(val)) {
		expected(v, "a string", val);
		return;
	}
	s = json_string_value(val);
	n = json_string_length(val);
	if (f->enums && !in_enum(f->enums, s)) {
		list_enums(f->enums, buf, sizeof(buf));
		bl_verr(v, HERE(v), false, "\"%.60s\" is not one of: %s", s,
			buf);
		return;
	}
	if (f->minlen && n < f->minlen) {
		bl_verr(v, HERE(v), false,
			"must be at least %zu characters (has %zu)", f->minlen,
			n);
		return;
	}
	if (f->maxlen && n > f->maxlen) {
		bl_verr(v, HERE(v), false,
			"must be at most %zu characters (has %zu)", f->maxlen,
			n);
		return;
	}
	if (f->fmt && !f->fmt->ok(s))
		bl_verr(v, HERE(v), false, "\"%.80s\" is not %s", s,
			f->fmt->what);
}

static void check_int(struct bl_vctx *v, const struct bl_field *f,
		      json_t *val)
{
	json_int_t i;

	if (!json_is_integer(val)) {
		expected(v, json_is_real(val) ? "a whole number" :
			 "an integer", val);
		return;
	}
	i = json_integer_value(val);
	if (f->min < f->max && (i < f->min || i > f->max))
		bl_verr(v, HERE(v), false, "%lld is out of range %lld..%lld",
			(long long)i, (long long)f->min, (long long)f->max);
}

/* Returns the normalised value (integer bytes) to store, or NULL. */
static json_t *check_size(struct bl_vctx *v, json_t *val)
{
	uint64_t bytes;
	int rc;

	if (json_is_integer(val)) {
		if (json_integer_value(val) <= 0)
			bl_verr(v, HERE(v), false,
				"size must be positive, got %lld",
				(long long)json_integer_value(val));
		return NULL;
	}
	if (!json_is_string(val)) {
		expected(v, "a size (\"10Gi\" or a number of bytes)", val);
		return NULL;
	}
	rc = bl_parse_size(json_string_value(val), &bytes);
	if (rc == -ERANGE || (!rc && bytes > (uint64_t)INT64_MAX)) {
		bl_verr(v, HERE(v), false, "size \"%.40s\" is out of range",
			json_string_value(val));
		return NULL;
	}
	if (rc) {
		bl_verr(v, HERE(v), false, "\"%.40s\" is not a size (a number "
			"of bytes, or with K/M/G/T/P or Ki/Mi/Gi/Ti/Pi: 64Mi, "
			"10Gi)", json_string_value(val));
		return NULL;
	}
	if (bytes == 0) {
		bl_verr(v, HERE(v), false, "size must be positive");
		return NULL;
	}
	return json_integer((json_int_t)bytes);
}

static void check_intpct(struct bl_vctx *v, const struct bl_field *f,
			 json_t *val)
{
	if (json_is_string(val)) {
		if (!bl_valid_percent(json_string_value(val), NULL))
			bl_verr(v, HERE(v), false, "\"%.40s\" is not a "
				"percentage (\"1%%\" to \"100%%\")",
				json_string_value(val));
		return;
	}
	if (!json_is_integer(val)) {
		expected(v, "an integer or a percentage (\"25%\")", val);
		return;
	}
	check_int(v, f, val);
}

static void check_strmap(struct bl_vctx *v, const struct bl_field *f,
			 json_t *val)
{
	const char *k;
	json_t *e;
	size_t old;

	if (!json_is_object(val)) {
		expected(v, "a mapping of strings", val);
		return;
	}
	json_object_foreach(val, k, e) {
		old = bl_path_key(&v->path, k);
		if (!bl_fmt_label_key.ok(k))
			bl_verr(v, HERE(v), true, "\"%.80s\" is not %s", k,
				bl_fmt_label_key.what);
		else if (!json_is_string(e))
			expected(v, "a string (quote numbers and booleans)", e);
		else if (f->fmt && !f->fmt->ok(json_string_value(e)))
			bl_verr(v, HERE(v), false, "\"%.80s\" is not %s",
				json_string_value(e), f->fmt->what);
		bl_path_pop(&v->path, old);
	}
}

static json_t *check_value(struct bl_vctx *v, const struct bl_field *f,
			   json_t *val);

/*
 * Items unique by a member (luns by "lun") or as a whole (scalar items).
 * A set keyed by the value's compact JSON text keeps this linear: a list
 * of 16384 LUNs must not cost 134 million comparisons.
 */
static void check_unique(struct bl_vctx *v, const struct bl_field *f,
			 json_t *arr)
{
	json_t *seen = json_object(), *e, *key;
	char buf[96];
	size_t i, old;

	if (!seen)
		return;
	json_array_foreach(arr, i, e) {
		json_t *prev;
		char *txt;

		key = f->unique ? json_object_get(e, f->unique) : e;
		if (!key || json_is_null(key) || json_is_object(key) ||
		    json_is_array(key))
			continue;
		txt = json_dumps(key, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!txt)
			break;
		prev = json_object_get(seen, txt);
		if (!prev) {
			json_object_set_new(seen, txt, json_integer((json_int_t)i));
			free(txt);
			continue;
		}
		free(txt);
		old = bl_path_index(&v->path, i);
		if (f->unique) {
			size_t o2 = bl_path_key(&v->path, f->unique);

			bl_verr(v, HERE(v), false, "duplicate %s %s (also in "
				"%s[%lld])", f->unique,
				compact(key, buf, sizeof(buf)), f->name,
				(long long)json_integer_value(prev));
			bl_path_pop(&v->path, o2);
		} else {
			bl_verr(v, HERE(v), false, "duplicate item %s (also "
				"%s[%lld])", compact(key, buf, sizeof(buf)),
				f->name, (long long)json_integer_value(prev));
		}
		bl_path_pop(&v->path, old);
	}
	json_decref(seen);
}

static void check_array(struct bl_vctx *v, const struct bl_field *f,
			json_t *val)
{
	size_t i, n, old;
	json_t *e, *rep;

	if (!json_is_array(val)) {
		expected(v, "a list", val);
		return;
	}
	n = json_array_size(val);
	if (f->min > 0 && n < (size_t)f->min) {
		bl_verr(v, HERE(v), false, "needs at least %lld item%s",
			(long long)f->min, f->min == 1 ? "" : "s");
	}
	if (f->max > 0 && n > (size_t)f->max) {
		bl_verr(v, HERE(v), false, "has %zu items, at most %lld allowed",
			n, (long long)f->max);
		return;
	}
	json_array_foreach(val, i, e) {
		old = bl_path_index(&v->path, i);
		if (json_is_null(e)) {
			bl_verr(v, HERE(v), false, "empty list item");
		} else {
			rep = check_value(v, f->sub, e);
			if (rep)
				json_array_set_new(val, i, rep);
		}
		bl_path_pop(&v->path, old);
	}
	if (f->unique || (f->flags & BL_FF_UNIQUE))
		check_unique(v, f, val);
}

/* Validate one value; returns a replacement to store, or NULL to keep. */
static json_t *check_value(struct bl_vctx *v, const struct bl_field *f,
			   json_t *val)
{
	char buf[256];
	uint64_t ms;

	switch (f->type) {
	case BL_F_STRING:
		check_string(v, f, val);
		break;
	case BL_F_INT:
		check_int(v, f, val);
		break;
	case BL_F_BOOL:
		if (!json_is_boolean(val))
			expected(v, "true or false", val);
		break;
	case BL_F_SIZE:
		return check_size(v, val);
	case BL_F_DURATION:
		if (!json_is_string(val))
			expected(v, "a duration (\"30s\", \"10m\", \"1h\")", val);
		else if (bl_parse_duration(json_string_value(val), &ms))
			bl_verr(v, HERE(v), false, "\"%.40s\" is not a duration "
				"(a number with ms, s, m or h: \"30s\", "
				"\"1h30m\")", json_string_value(val));
		break;
	case BL_F_INTPCT:
		check_intpct(v, f, val);
		break;
	case BL_F_OBJECT:
		if (!json_is_object(val))
			expected(v, "a mapping", val);
		else
			bl_validate_object(v, f->sub, val);
		break;
	case BL_F_ARRAY:
		check_array(v, f, val);
		break;
	case BL_F_STRMAP:
		check_strmap(v, f, val);
		break;
	case BL_F_STR_OR_OBJ:
		if (json_is_object(val)) {
			bl_validate_object(v, f->sub, val);
		} else if (json_is_string(val)) {
			if (!in_enum(f->enums, json_string_value(val))) {
				list_enums(f->enums, buf, sizeof(buf));
				bl_verr(v, HERE(v), false, "\"%.60s\" is not "
					"%s or a mapping of settings",
					json_string_value(val), buf);
			}
		} else {
			list_enums(f->enums, buf, sizeof(buf));
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 " or a mapping");
			expected(v, buf, val);
		}
		break;
	case BL_F_ANY:
		break;
	}
	return NULL;
}

/* Server-owned fields are checked (and kept) only for stored objects. */
static bool keep_server_fields(const struct bl_vctx *v)
{
	return v->src == NULL;
}

void bl_validate_object(struct bl_vctx *v, const struct bl_field *fields,
			json_t *body)
{
	const struct bl_field *f;
	const char *k;
	json_t *e, *rep;
	void *tmp;
	size_t old;

	/* Unknown keys first, in document order. */
	json_object_foreach_safe(body, tmp, k, e) {
		f = find_field(fields, k);
		if (!f) {
			old = bl_path_key(&v->path, k);
			unknown_field(v, fields, k);
			bl_path_pop(&v->path, old);
		} else if ((f->flags & BL_FF_SERVER) && !keep_server_fields(v)) {
			json_object_del(body, k);   /* accepted, ignored */
		} else if (json_is_null(e)) {
			json_object_del(body, k);   /* null = absent */
		}
	}
	for (f = fields; f->name; f++) {
		e = json_object_get(body, f->name);
		old = bl_path_key(&v->path, f->name);
		if (!e) {
			if (f->flags & BL_FF_REQUIRED) {
				bl_verr(v, HERE(v), false,
					"missing required field \"%s\"",
					f->name);
			} else if (f->def) {
				json_t *d = json_loads(f->def,
						       JSON_DECODE_ANY, NULL);

				if (d)
					json_object_set_new(body, f->name, d);
			} else if ((f->flags & BL_FF_FILL) &&
				   f->type == BL_F_OBJECT) {
				json_t *d = json_object();

				if (d && !json_object_set_new(body, f->name, d))
					bl_validate_object(v, f->sub, d);
			}
		} else {
			rep = check_value(v, f, e);
			if (rep)
				json_object_set_new(body, f->name, rep);
		}
		bl_path_pop(&v->path, old);
	}
}

/* ---- whole documents -----------------------------------------------------*/

static const char *const top_keys[] = {
	"apiVersion", "kind", "metadata", "spec", "data", "status", NULL,
};

static char *dup_str(json_t *j)
{
	const char *s = json_string_value(j);

	return s ? strdup(s) : NULL;
}

static int fill_obj(struct bl_obj *o, const struct bl_kind *k, json_t *root,
		    bool keep_server)
{
	json_t *meta = json_object_get(root, "metadata");
	json_t *body = json_object_get(root, k->body);
	json_t *j;

	o->api_version = strdup(BL_API_VERSION);
	o->kind = strdup(k->kind);
	o->name = dup_str(json_object_get(meta, "name"));
	j = json_object_get(meta, "labels");
	o->labels = j ? json_incref(j) : json_object();
	j = json_object_get(meta, "annotations");
	o->annotations = j ? json_incref(j) : json_object();
	if (!strcmp(k->body, "data"))
		o->data = json_incref(body);
	else
		o->spec = json_incref(body);
	if (!o->api_version || !o->kind || !o->name || !o->labels ||
	    !o->annotations)
		return -ENOMEM;
	if (keep_server) {
		if ((j = json_object_get(meta, "uid")) && !(o->uid = dup_str(j)))
			return -ENOMEM;
		o->generation = json_integer_value(
			json_object_get(meta, "generation"));
		o->resource_version = json_integer_value(
			json_object_get(meta, "resourceVersion"));
		if ((j = json_object_get(meta, "creationTimestamp")) &&
		    !(o->creation_timestamp = dup_str(j)))
			return -ENOMEM;
	}
	return 0;
}

int bl_build_obj(json_t *root, struct bl_src *src, const char *file,
		 int line, int col, bool keep_server, struct bl_diag *d,
		 struct bl_obj **out)
{
	struct bl_vctx v = {
		.d = d, .src = keep_server ? NULL : src, .file = file,
		.line = line, .col = col,
	};
	const struct bl_kind *k = NULL;
	const char *key, *kind, *av;
	json_t *e, *meta, *body;
	struct bl_obj *o;
	size_t old, i;
	int rc;

	*out = NULL;
	if (!json_is_object(root)) {
		bl_verr(&v, "", false, "a document must be a mapping with "
			"apiVersion, kind, metadata and spec");
		rc = BL_E_INVALID;
		goto out_free_src;
	}
	json_object_foreach(root, key, e) {
		for (i = 0; top_keys[i] && strcmp(top_keys[i], key); i++)
			;
		if (!top_keys[i]) {
			old = bl_path_key(&v.path, key);
			bl_verr(&v, HERE(&v), true, "unknown field \"%s\"", key);
			bl_path_pop(&v.path, old);
		}
	}
	json_object_del(root, "status");   /* server-owned, ignored */

	av = json_string_value(json_object_get(root, "apiVersion"));
	if (!json_object_get(root, "apiVersion"))
		bl_verr(&v, "apiVersion", false,
			"missing required field \"apiVersion\"");
	else if (!av || strcmp(av, BL_API_VERSION))
		bl_verr(&v, "apiVersion", false, "apiVersion must be \"%s\"",
			BL_API_VERSION);

	kind = json_string_value(json_object_get(root, "kind"));
	if (!json_object_get(root, "kind")) {
		bl_verr(&v, "kind", false, "missing required field \"kind\"");
	} else if (!kind) {
		bl_verr(&v, "kind", false, "kind must be a string");
	} else if (!(k = bl_kind_get(kind))) {
		const char *c = bl_kind_lookup(kind);

		if (c)
			bl_verr(&v, "kind", false, "unknown kind \"%.40s\" "
				"(did you mean \"%s\"?)", kind, c);
		else
			bl_verr(&v, "kind", false, "unknown kind \"%.40s\" (one "
				"of Cluster, Secret, Volume, Target, Rollout)",
				kind);
	}

	meta = json_object_get(root, "metadata");
	old = bl_path_key(&v.path, "metadata");
	if (!meta || json_is_null(meta))
		bl_verr(&v, "metadata", false,
			"missing required field \"metadata\"");
	else if (!json_is_object(meta))
		expected(&v, "a mapping", meta);
	else
		bl_validate_object(&v, bl_metadata_fields, meta);
	bl_path_pop(&v.path, old);

	if (k) {
		const char *other = strcmp(k->body, "spec") ? "spec" : "data";

		if (json_object_get(root, other))
			bl_verr(&v, other, true, "%s has no \"%s\" (use \"%s\")",
				k->kind, other, k->body);
		body = json_object_get(root, k->body);
		old = bl_path_key(&v.path, k->body);
		if (!body || json_is_null(body)) {
			bl_verr(&v, k->body, false,
				"missing required field \"%s\"", k->body);
		} else if (!json_is_object(body)) {
			expected(&v, "a mapping", body);
		} else {
			size_t before = v.nerr;

			v.redact = !strcmp(k->body, "data");
			bl_validate_object(&v, k->fields, body);
			v.redact = false;
			/* Cross-field rules assume well-typed fields. */
			if (k->finish && v.nerr == before)
				k->finish(&v, body);
		}
		bl_path_pop(&v.path, old);
	}
	if (v.nerr > BL_MAX_DOC_ERRORS)
		bl_diag_add(d, file, line, col, NULL, "%zu more errors in this "
			    "document not shown", v.nerr - BL_MAX_DOC_ERRORS);
	if (v.nerr || !k) {
		rc = BL_E_INVALID;
		goto out_free_path;
	}

	o = calloc(1, sizeof(*o));
	if (!o) {
		rc = -ENOMEM;
		goto out_free_path;
	}
	rc = fill_obj(o, k, root, keep_server);
	if (rc) {
		bl_obj_free(o);
		goto out_free_path;
	}
	o->src = src;
	o->file = src ? src->file : NULL;
	o->line = line;
	o->col = col;
	bl_path_free(&v.path);
	*out = o;
	return 0;

out_free_path:
	bl_path_free(&v.path);
out_free_src:
	bl_src_free(src);
	return rc;
}
