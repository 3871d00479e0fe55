/*
 * effective.c - the admitted view bollardd reconciles (rollout.h).
 *
 * Why read etcd here instead of caching the admission records: a handler
 * reconciles one Target; two small gets per reconcile of a governed Target
 * are cheap next to the engine dump it does anyway, and reading them
 * fresh means a rollback is honoured on the very next reconcile, without a
 * second watch to keep consistent with the informer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "daemon/informer.h"
#include "rollout/rollout.h"

struct find {
	const struct bl_obj *cl, *obj;
	const struct bl_obj *ro;        /* first governing rollout, by name */
};

static void find_rollout(void *arg, const struct bl_obj *ro)
{
	struct find *f = arg;
	if (!f->ro && bl_ro_governs(ro, f->cl, f->obj))
		f->ro = ro;
}

/* The record at key: from cache (a JSON object, key -> record or null)
 * when it holds it, else read (and kept there). New reference or NULL. */
static int record_get(struct bl_etcd *e, const char *key, json_t *cache, json_t **rec)
{
	struct bl_kvs kvs = { 0 };
	json_t *c = cache ? json_object_get(cache, key) : NULL;
	int rc;

	*rec = NULL;
	if (c) {
		*rec = json_is_null(c) ? NULL : json_incref(c);
		return 0;
	}
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		return rc;
	if (kvs.n)
		*rec = json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL);
	bl_kvs_free(&kvs);
	if (cache)
		json_object_set(cache, key, *rec ? *rec : json_null());
	return 0;
}

int bl_rollout_effective(struct bl_etcd *e, const struct bl_informer *inf,
			 const struct bl_obj *obj, struct bl_obj **out)
{
	return bl_rollout_effective_cached(e, inf, obj, NULL, out);
}

int bl_rollout_effective_cached(struct bl_etcd *e, const struct bl_informer *inf,
				const struct bl_obj *obj, json_t *cache,
				struct bl_obj **out)
{
	struct find f = { 0 };
	struct bl_kvs kvs = { 0 };
	const char *cl;
	char key[600], okey[200];
	json_t *rec = NULL, *g;
	int64_t gen;
	int rc;

	*out = NULL;
	if (!obj || !obj->spec || !bl_ro_gated_kind(obj->kind))
		return 0;
	cl = json_string_value(json_object_get(obj->spec, "cluster"));
	f.cl = cl ? bl_informer_get(inf, "Cluster", cl) : NULL;
	f.obj = obj;
	if (!f.cl)
		return 0;
	bl_informer_foreach(inf, "Rollout", find_rollout, &f);
	if (!f.ro)
		return 0;
	snprintf(key, sizeof(key), "%s%s/admitted/%s", BL_RO_KEY_ROLLOUTS, f.ro->name, cl);
	rc = record_get(e, key, cache, &rec);
	if (rc < 0)
		return rc;
	snprintf(okey, sizeof(okey), "%s/%s", obj->kind, obj->name);
	g = json_object_get(json_object_get(rec, "objects"), okey);
	if (!g && json_object_get(json_object_get(rec, "absent"), okey)) {
		/* Its admitted creation was rolled back on this cluster. */
		json_decref(rec);
		return BL_RO_ABSENT;
	}
	if (!g && json_is_object(json_object_get(rec, "objects"))) {
		/* Governed, the cluster has a record, and the record does not
		 * name it: created (or relabelled into scope) since the last
		 * admission. Not admitted yet: left as it is. */
		json_decref(rec);
		return BL_RO_NOT_ADMITTED;
	}
	if (!json_is_integer(g) || json_integer_value(g) == obj->generation) {
		json_decref(rec);
		return 0;
	}
	gen = json_integer_value(g);
	json_decref(rec);
	snprintf(key, sizeof(key), "%s%s/%s/%lld", BL_RO_KEY_HISTORY, obj->kind,
		 obj->name, (long long)gen);
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		return rc;
	if (!kvs.n) {
		bl_kvs_free(&kvs);
		return -ENOENT;
	}
	rc = bl_obj_from_json(kvs.kvs[0].value, kvs.kvs[0].value_len, out, NULL);
	bl_kvs_free(&kvs);
	if (rc < 0)
		return rc;
	(*out)->resource_version = obj->resource_version;
	return 0;
}

/* ---- records of this node's clusters ---------------------------------------*/

struct pend;
typedef void (*rec_fn)(struct pend *p, const struct bl_obj *ro,
		       const struct bl_obj *cl, json_t *rec);

struct pend {
	const struct bl_informer *inf;
	struct bl_etcd *e;
	const char *node, *kind, *name;  /* name NULL: any object gone      */
	int rc;                          /* 1 found (stops), <0 error       */
	const struct bl_obj *ro;
	rec_fn fn;                       /* per record                      */
	struct bl_objlist *list, *owned; /* effective_list's                */
	struct bl_obj *found;            /* bl_rollout_recorded's           */
	json_t *map;                     /* secret_gens': "Secret/x" -> gen */
};

/* One (rollout, cluster of this node): its record to p->fn. */
static void pend_cluster(void *arg, const struct bl_obj *cl)
{
	struct pend *p = arg;
	struct bl_kvs kvs = { 0 };
	json_t *rec;
	char key[600];
	int rc;

	if (p->rc || !bl_cluster_has_node(cl, p->node) ||
	    !bl_ro_selector_match(json_object_get(p->ro->spec, "clusterSelector"), cl->labels))
		return;
	snprintf(key, sizeof(key), "%s%s/admitted/%s", BL_RO_KEY_ROLLOUTS, p->ro->name, cl->name);
	rc = bl_etcd_get(p->e, key, false, 1, 0, false, &kvs);
	if (rc < 0) {
		p->rc = rc;
		return;
	}
	rec = kvs.n ? json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL) : NULL;
	bl_kvs_free(&kvs);
	if (rec)
		p->fn(p, p->ro, cl, rec);
	json_decref(rec);
}

static void pend_rollout(void *arg, const struct bl_obj *ro)
{
	struct pend *p = arg;

	if (p->rc)
		return;
	p->ro = ro;
	bl_informer_foreach(p->inf, "Cluster", pend_cluster, p);
}

static int foreach_record(struct pend *p)
{
	bl_informer_foreach(p->inf, "Rollout", pend_rollout, p);
	return p->rc;
}

/* "Kind/name" into kind (len) and a pointer to name; false if malformed. */
static bool split_key(const char *k, char *kind, size_t len, const char **name)
{
	const char *slash = strchr(k, '/');

	if (!slash || (size_t)(slash - k) >= len)
		return false;
	memcpy(kind, k, (size_t)(slash - k));
	kind[slash - k] = '\0';
	*name = slash + 1;
	return true;
}

/* The kept copy of kind/name at gen (history key), resource_version 0. */
static int history_load(struct bl_etcd *e, const char *kind, const char *name,
			int64_t gen, struct bl_obj **out)
{
	struct bl_kvs kvs = { 0 };
	char key[600];
	int rc;

	*out = NULL;
	snprintf(key, sizeof(key), "%s%s/%s/%lld", BL_RO_KEY_HISTORY, kind, name,
		 (long long)gen);
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		return rc;
	if (!kvs.n) {
		bl_kvs_free(&kvs);
		return -ENOENT;
	}
	rc = bl_obj_from_json(kvs.kvs[0].value, kvs.kvs[0].value_len, out, NULL);
	bl_kvs_free(&kvs);
	return rc < 0 ? rc : 0;
}

/* Records naming objects gone from the store: their kept copies, once. */
static void recorded_one(struct pend *p, const struct bl_obj *ro,
			 const struct bl_obj *cl, json_t *rec)
{
	json_t *v;
	const char *k, *nm;
	char kind[64];

	(void)ro; (void)cl;
	json_object_foreach(json_object_get(rec, "objects"), k, v) {
		struct bl_obj *o = NULL;
		int rc;

		if (p->rc < 0 || !split_key(k, kind, sizeof(kind), &nm) ||
		    bl_informer_get(p->inf, kind, nm) || !json_is_integer(v))
			continue;
		if (p->name && (strcmp(kind, p->kind) || strcmp(nm, p->name)))
			continue;
		if (p->list && bl_objlist_find(p->list, kind, nm))
			continue;       /* named by two records: once */
		rc = history_load(p->e, kind, nm, json_integer_value(v), &o);
		if (rc < 0) {
			p->rc = rc;
			return;
		}
		if (!p->list) {         /* bl_rollout_recorded: the first */
			p->found = o;
			p->rc = 1;
			return;
		}
		if (bl_objlist_push(p->owned, o) < 0) {
			bl_obj_free(o);
			p->rc = -ENOMEM;
			return;
		}
		if (bl_objlist_push(p->list, o) < 0) {
			p->rc = -ENOMEM;
			return;
		}
	}
}

int bl_rollout_recorded(struct bl_etcd *e, const struct bl_informer *inf,
			const char *node, const char *kind, const char *name,
			struct bl_obj **out)
{
	struct pend p = { .inf = inf, .e = e, .node = node, .kind = kind,
			  .name = name, .fn = recorded_one };
	int rc = foreach_record(&p);

	*out = rc > 0 ? p.found : NULL;
	if (rc <= 0)
		bl_obj_free(p.found);
	return rc;
}

int bl_rollout_effective_list(struct bl_etcd *e, const struct bl_informer *inf,
			      const char *node, struct bl_objlist *list,
			      struct bl_objlist *owned)
{
	struct pend p = { .inf = inf, .e = e, .node = node, .fn = recorded_one,
			  .list = list, .owned = owned };
	int held = 0, rc;
	size_t keep = 0;

	for (size_t i = 0; i < list->n; i++) {
		struct bl_obj *adm = NULL;
		rc = bl_rollout_effective(e, inf, list->v[i], &adm);
		if (rc < 0)
			return rc;
		if (rc == BL_RO_NOT_ADMITTED)
			held = BL_RO_NOT_ADMITTED;
		if (rc == BL_RO_ABSENT)
			continue;       /* its creation was rolled back here */
		if (adm) {
			rc = bl_objlist_push(owned, adm);
			if (rc < 0) {
				bl_obj_free(adm);
				return rc;
			}
		}
		list->v[keep++] = adm ? adm : list->v[i];
	}
	list->n = keep;
	/* Deleted, and the deletion not admitted here (or rolled back). */
	if (node && foreach_record(&p) < 0)
		return p.rc;
	/* Secrets at the generation this node's clusters admit. */
	rc = bl_rollout_effective_secrets(e, inf, node, list, owned, NULL);
	return rc < 0 ? rc : held;
}

/* ---- Secrets -------------------------------------------------------------*/

static void secret_gens(struct pend *p, const struct bl_obj *ro,
			const struct bl_obj *cl, json_t *rec)
{
	json_t *map = p->map, *v;
	const char *k;

	(void)ro; (void)cl;
	json_object_foreach(json_object_get(rec, "objects"), k, v)
		if (!strncmp(k, "Secret/", 7) && json_is_integer(v) && !json_object_get(map, k))
			json_object_set(map, k, v);
}

int bl_rollout_effective_secrets(struct bl_etcd *e, const struct bl_informer *inf,
				 const char *node, struct bl_objlist *list,
				 struct bl_objlist *owned, json_t **refs)
{
	struct pend p = { .inf = inf, .e = e, .node = node, .fn = secret_gens };
	json_t *map = NULL;
	bool any = false;
	int rc = 0;

	if (refs)
		*refs = NULL;
	for (size_t i = 0; i < list->n && !any; i++)
		any = !strcmp(list->v[i]->kind, "Secret");
	if (!any || !node)
		return 0;
	map = json_object();
	if (!map)
		return -ENOMEM;
	p.map = map;
	rc = foreach_record(&p);
	if (rc < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < list->n; i++) {
		struct bl_obj *o = list->v[i], *adm = NULL;
		char k[300];
		json_t *g;

		if (strcmp(o->kind, "Secret"))
			continue;
		snprintf(k, sizeof(k), "Secret/%s", o->name);
		if (!(g = json_object_get(map, k)))
			continue;       /* governed on none of node's clusters */
		if (refs) {
			if (!*refs && !(*refs = json_object())) {
				rc = -ENOMEM;
				goto out;
			}
			json_object_set(*refs, k, g);
		}
		if (json_integer_value(g) == o->generation)
			continue;
		rc = history_load(e, "Secret", o->name, json_integer_value(g), &adm);
		if (rc < 0)
			goto out;
		rc = bl_objlist_push(owned, adm);
		if (rc < 0) {
			bl_obj_free(adm);
			goto out;
		}
		adm->resource_version = o->resource_version;
		list->v[i] = adm;
	}
out:
	if (rc < 0 && refs) {
		json_decref(*refs);
		*refs = NULL;
	}
	json_decref(map);
	return rc;
}
