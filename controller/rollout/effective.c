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
	for (size_t i = 0; i < list->n; i++) {
		struct bl_obj *adm = NULL;
		int rc = bl_rollout_effective(e, inf, list->v[i], &adm);
		if (rc < 0)
			return rc;
		if (!adm)
			continue;
		rc = bl_objlist_push(owned, adm);
		if (rc < 0) {
			bl_obj_free(adm);
			return rc;
		}
		list->v[i] = adm;
	}
	return 0;
}
