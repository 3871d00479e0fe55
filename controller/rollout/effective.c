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

int bl_rollout_effective(struct bl_etcd *e, const struct bl_informer *inf,
			 const struct bl_obj *obj, struct bl_obj **out)
{
	struct find f = { 0 };
	struct bl_kvs kvs = { 0 };
	const char *cl;
	char key[600], okey[200];
	json_t *rec = NULL, *g;
	int64_t gen;
	int rc;

	*out = NULL;
	if (!obj || !obj->spec || strcmp(obj->kind, "Target"))
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
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		return rc;
	if (kvs.n)
		rec = json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL);
	bl_kvs_free(&kvs);
	snprintf(okey, sizeof(okey), "%s/%s", obj->kind, obj->name);
	g = json_object_get(json_object_get(rec, "objects"), okey);
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

int bl_rollout_effective_list(struct bl_etcd *e, const struct bl_informer *inf,
			      struct bl_objlist *list, struct bl_objlist *owned)
{
	int held = 0;

	for (size_t i = 0; i < list->n; i++) {
		struct bl_obj *adm = NULL;
		int rc = bl_rollout_effective(e, inf, list->v[i], &adm);
		if (rc < 0)
			return rc;
		if (rc == BL_RO_NOT_ADMITTED)
			held = BL_RO_NOT_ADMITTED;
		if (!adm)
			continue;
		rc = bl_objlist_push(owned, adm);
		if (rc < 0) {
			bl_obj_free(adm);
			return rc;
		}
		list->v[i] = adm;
	}
	return held;
}

/* ---- pending deletions ---------------------------------------------------*/

struct pend {
	const struct bl_informer *inf;
	struct bl_etcd *e;
	const char *node, *kind, *name;  /* name NULL: any object gone      */
	int rc;                          /* 1 found, <0 error               */
	const struct bl_obj *ro;
};

static bool has_node(const struct bl_obj *cl, const char *node)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(cl->spec, "nodes"), i, n) {
		const char *nm = json_string_value(json_object_get(n, "name"));
		if (nm && !strcmp(nm, node))
			return true;
	}
	return false;
}

/* One (rollout, cluster of this node): does its record name a match? */
static void pend_cluster(void *arg, const struct bl_obj *cl)
{
	struct pend *p = arg;
	struct bl_kvs kvs = { 0 };
	json_t *rec, *v;
	const char *k;
	char key[600];
	int rc;

	if (p->rc || !has_node(cl, p->node) ||
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
	json_object_foreach(json_object_get(rec, "objects"), k, v) {
		const char *slash = strchr(k, '/');
		char kind[64];

		if (!slash || (size_t)(slash - k) >= sizeof(kind))
			continue;
		memcpy(kind, k, (size_t)(slash - k));
		kind[slash - k] = '\0';
		if (p->name ? (!strcmp(kind, p->kind) && !strcmp(slash + 1, p->name))
			    : !bl_informer_get(p->inf, kind, slash + 1)) {
			p->rc = 1;
			break;
		}
	}
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

int bl_rollout_deletion_pending(struct bl_etcd *e, const struct bl_informer *inf,
				const char *node, const char *kind, const char *name)
{
	struct pend p = { inf, e, node, kind, name, 0, NULL };

	bl_informer_foreach(inf, "Rollout", pend_rollout, &p);
	return p.rc;
}
