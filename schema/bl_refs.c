/*
 * bl_refs.c - references between objects: enumerate them, and check a list
 * about to be applied for duplicates and dangling references.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema_int.h"

static int ref_at(const json_t *parent, const char *member, const char *kind,
		  const char *path, bl_ref_fn cb, void *arg)
{
	const char *name = json_string_value(json_object_get(parent, member));

	if (!name)
		return 0;
	return cb(arg, kind, name, path);
}

int bl_obj_foreach_ref(const struct bl_obj *o, bl_ref_fn cb, void *arg)
{
	json_t *spec = o->spec, *arr, *e, *auth;
	char path[64];
	size_t i;
	int rc;

	if (!spec)
		return 0;
	if (strcmp(o->kind, "Volume") && strcmp(o->kind, "Target"))
		return 0;
	if ((rc = ref_at(spec, "cluster", "Cluster", "spec.cluster", cb, arg)))
		return rc;
	if (strcmp(o->kind, "Target"))
		return 0;
	arr = json_object_get(spec, "luns");
	json_array_foreach(arr, i, e) {
		snprintf(path, sizeof(path), "spec.luns[%zu].volume", i);
		if ((rc = ref_at(e, "volume", "Volume", path, cb, arg)))
			return rc;
	}
	arr = json_object_get(spec, "acls");
	json_array_foreach(arr, i, e) {
		snprintf(path, sizeof(path), "spec.acls[%zu].chapSecretRef", i);
		if ((rc = ref_at(e, "chapSecretRef", "Secret", path, cb, arg)))
			return rc;
	}
	auth = json_object_get(spec, "auth");
	if ((rc = ref_at(auth, "chapSecretRef", "Secret",
			 "spec.auth.chapSecretRef", cb, arg)))
		return rc;
	return ref_at(auth, "mutualChapSecretRef", "Secret",
		      "spec.auth.mutualChapSecretRef", cb, arg);
}

/*
 * Lookups through the callback are cached per (kind, name): a Secret named
 * by forty ACLs costs one etcd read, not forty.
 */
struct cached {
	char *kind, *name;
	int rc;                     /* 0 found, -ENOENT missing               */
	struct bl_obj *obj;         /* may be NULL when found                 */
};

struct refctx {
	const struct bl_objlist *list;
	json_t *index;              /* "Kind/name" -> position in list        */
	const struct bl_obj *cur;
	bl_lookup_fn lookup;
	void *arg;
	struct bl_diag *d;
	struct cached *cache;
	size_t ncache, ccache;
	json_t *cache_index;        /* "Kind/name" -> position in cache       */
	size_t nreported;           /* messages added (capped)                */
	bool dangling;
	int fatal;
};

static int resolve(struct refctx *c, const char *kind, const char *name,
		   const struct bl_obj **out)
{
	struct bl_obj *o = NULL;
	struct cached *e;
	char key[160];
	json_t *pos;
	size_t i;
	int rc;

	snprintf(key, sizeof(key), "%s/%s", kind, name);
	pos = json_object_get(c->index, key);
	if (pos) {
		*out = c->list->v[json_integer_value(pos)];
		return 0;
	}
	*out = NULL;
	pos = json_object_get(c->cache_index, key);
	if (pos) {
		i = (size_t)json_integer_value(pos);
		*out = c->cache[i].obj;
		return c->cache[i].rc;
	}
	if (!c->lookup)
		return -ENOENT;
	o = NULL;
	rc = c->lookup(c->arg, kind, name, &o);
	if (rc && rc != -ENOENT) {
		bl_obj_free(o);
		return rc;
	}
	if (c->ncache == c->ccache) {
		size_t ncap = c->ccache ? c->ccache * 2 : 8;
		struct cached *nv = realloc(c->cache, ncap * sizeof(*nv));

		if (!nv) {
			bl_obj_free(o);
			return -ENOMEM;
		}
		c->cache = nv;
		c->ccache = ncap;
	}
	e = &c->cache[c->ncache];
	e->kind = strdup(kind);
	e->name = strdup(name);
	if (!e->kind || !e->name) {
		free(e->kind);
		free(e->name);
		bl_obj_free(o);
		return -ENOMEM;
	}
	e->rc = rc;
	e->obj = rc ? NULL : o;
	if (rc)
		bl_obj_free(o);
	if (json_object_set_new(c->cache_index, key,
				json_integer((json_int_t)c->ncache))) {
		free(e->kind);
		free(e->name);
		bl_obj_free(e->obj);
		return -ENOMEM;
	}
	c->ncache++;
	*out = e->obj;
	return rc;
}

static int check_one(void *arg, const char *kind, const char *name,
		     const char *path)
{
	struct refctx *c = arg;
	const struct bl_obj *t = NULL;
	int rc = resolve(c, kind, name, &t);

	if (rc == -ENOENT) {
		c->dangling = true;
		if (c->nreported++ < BL_MAX_ERRORS)
			bl_obj_error(c->d, c->cur, path, "no %s named '%s'%s",
				     kind, name, c->lookup ? "" :
				     " among the objects being applied");
		return 0;
	}
	if (rc) {
		c->fatal = rc;
		return rc;
	}
	/* A LUN's Volume must live on the Target's cluster. */
	if (t && !strcmp(kind, "Volume") && t->spec) {
		const char *vc = json_string_value(
			json_object_get(t->spec, "cluster"));
		const char *tc = json_string_value(
			json_object_get(c->cur->spec, "cluster"));

		if (vc && tc && strcmp(vc, tc)) {
			c->dangling = true;
			if (c->nreported++ < BL_MAX_ERRORS)
				bl_obj_error(c->d, c->cur, path,
					     "Volume '%s' is in cluster '%s', "
					     "not in this Target's cluster "
					     "'%s'", name, vc, tc);
		}
	}
	return 0;
}

int bl_check_refs(const struct bl_objlist *list, bl_lookup_fn lookup,
		  void *arg, struct bl_diag *d)
{
	struct refctx c = {
		.list = list, .lookup = lookup, .arg = arg, .d = d,
	};
	bool dup = false;
	size_t i;
	int rc = 0;

	/* One hashed pass finds duplicates and indexes the list for the
	 * reference lookups below. */
	c.index = json_object();
	c.cache_index = json_object();
	if (!c.index || !c.cache_index) {
		json_decref(c.index);
		json_decref(c.cache_index);
		return -ENOMEM;
	}
	for (i = 0; i < list->n; i++) {
		const struct bl_obj *o = list->v[i], *p;
		char key[160];
		json_t *pos;
		int line = 0, col = 0;

		snprintf(key, sizeof(key), "%s/%s", o->kind, o->name);
		pos = json_object_get(c.index, key);
		if (!pos) {
			if (json_object_set_new(c.index, key,
						json_integer((json_int_t)i))) {
				json_decref(c.index);
				json_decref(c.cache_index);
				return -ENOMEM;
			}
			continue;
		}
		p = list->v[json_integer_value(pos)];
		bl_obj_mark(p, "metadata.name", &line, &col);
		bl_obj_error(d, o, "metadata.name",
			     "duplicate %s '%s' (also defined at %s:%d:%d)",
			     o->kind, o->name, p->file ? p->file : "<input>",
			     line, col);
		dup = true;
	}
	for (i = 0; i < list->n && !c.fatal; i++) {
		c.cur = list->v[i];
		bl_obj_foreach_ref(c.cur, check_one, &c);
	}
	if (c.fatal)
		rc = c.fatal;
	else if (dup)
		rc = BL_E_INVALID;
	else if (c.dangling)
		rc = BL_E_REF;
	for (i = 0; i < c.ncache; i++) {
		free(c.cache[i].kind);
		free(c.cache[i].name);
		bl_obj_free(c.cache[i].obj);
	}
	free(c.cache);
	json_decref(c.index);
	json_decref(c.cache_index);
	return rc;
}
