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
	const struct bl_obj *cur;
	bl_lookup_fn lookup;
	void *arg;
	struct bl_diag *d;
	struct cached *cache;
	size_t ncache, ccache;
	bool dangling;
	int fatal;
};

static int resolve(struct refctx *c, const char *kind, const char *name,
		   const struct bl_obj **out)
{
	struct bl_obj *o = bl_objlist_find(c->list, kind, name);
	struct cached *e;
	size_t i;
	int rc;

	*out = o;
	if (o)
		return 0;
	for (i = 0; i < c->ncache; i++)
		if (!strcmp(c->cache[i].kind, kind) &&
		    !strcmp(c->cache[i].name, name)) {
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
		bl_obj_error(c->d, c->cur, path, "no %s named '%s'%s", kind,
			     name, c->lookup ? "" :
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
			bl_obj_error(c->d, c->cur, path,
				     "Volume '%s' is in cluster '%s', not in "
				     "this Target's cluster '%s'", name, vc,
				     tc);
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
	size_t i, j;
	int rc = 0;

	for (i = 0; i < list->n; i++) {
		const struct bl_obj *o = list->v[i];

		for (j = 0; j < i; j++) {
			const struct bl_obj *p = list->v[j];
			int line = 0, col = 0;

			if (strcmp(o->kind, p->kind) || strcmp(o->name, p->name))
				continue;
			bl_obj_mark(p, "metadata.name", &line, &col);
			bl_obj_error(d, o, "metadata.name",
				     "duplicate %s '%s' (also defined at "
				     "%s:%d:%d)", o->kind, o->name,
				     p->file ? p->file : "<input>", line, col);
			dup = true;
			break;
		}
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
	return rc;
}
