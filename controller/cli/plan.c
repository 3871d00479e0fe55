/*
 * plan.c - what `apply` would store, decided against one snapshot.
 *
 * This is the pure middle of apply: it reads a validated object list and a
 * snapshot of etcd and writes nothing. apply.c turns the plan into
 * compare-and-swap transactions, and throws the plan away and builds a new
 * one from a fresh snapshot when a compare fails.
 *
 * Server-owned fields:
 *   metadata.uid, creationTimestamp   set once at creation, then kept;
 *   metadata.generation               1 at creation, +1 whenever the spec
 *                                     (or a Secret's data) changes, so a
 *                                     labels-only change is "configured"
 *                                     with the same generation;
 *   Volume spec.replication.minor     kept from the stored object when the
 *                                     applied spec leaves it out, else the
 *                                     lowest minor no other Volume of the
 *                                     same Cluster uses (then stable);
 *   Volume spec.replication.port      7788 + minor when left out.
 *
 * Minor allocation is the one decision that depends on objects other than
 * the one written, so per-key compare-and-swap is not enough: two applies
 * creating different Volumes could pick the same free minor. Every apply
 * that allocates a minor in a Cluster therefore also compares and bumps a
 * guard key, /bollard/v1/meta/minors/<cluster>, read at the snapshot's
 * revision; the second of two racing allocators fails its compare, re-reads
 * and picks another minor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema.h"
#include "cli.h"

/* ---- Volume field access ------------------------------------------------*/

static const char *vol_cluster(const struct bl_obj *o)
{
	json_t *c = o->spec ? json_object_get(o->spec, "cluster") : NULL;

	return json_is_string(c) ? json_string_value(c) : "";
}

static json_t *vol_repl(const struct bl_obj *o)
{
	json_t *r = o->spec ? json_object_get(o->spec, "replication") : NULL;

	return json_is_object(r) ? r : NULL;
}

/* Minor of a Volume, or -1 when it has none. */
static int64_t vol_minor(const struct bl_obj *o)
{
	json_t *r = vol_repl(o);
	json_t *m = r ? json_object_get(r, "minor") : NULL;

	return json_is_integer(m) ? json_integer_value(m) : -1;
}

static bool is_volume(const struct bl_obj *o)
{
	return !strcmp(o->kind, "Volume");
}

static int add_guard(struct plan *p, const char *cluster)
{
	char **g;

	for (size_t i = 0; i < p->nguards; i++)
		if (!strcmp(p->guards[i], cluster))
			return 0;
	g = realloc(p->guards, (p->nguards + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	p->guards = g;
	g[p->nguards] = strdup(cluster);
	if (!g[p->nguards])
		return -ENOMEM;
	p->nguards++;
	return 0;
}

struct use {
	int64_t minor;
	size_t item;                /* index in p->v, or SIZE_MAX: stored    */
};

static int use_cmp(const void *a, const void *b)
{
	const struct use *x = a, *y = b;

	return x->minor < y->minor ? -1 : x->minor > y->minor;
}

/*
 * Minors of one cluster: the applied Volumes' (explicit or carried) and
 * the stored Volumes' that this apply does not replace. Clashes are
 * reported; the Volumes without a minor then get the lowest free ones, in
 * apply order. Linear in the number of Volumes per cluster (plus a sort),
 * so 1,000 objects plan in well under a millisecond.
 */
static int plan_cluster_minors(struct plan *p, const struct store_snap *snap,
			       const bool *replaced, const char *cl,
			       struct bl_diag *diag)
{
	struct use *u = malloc((p->n + snap->n + 1) * sizeof(*u));
	size_t nu = 0, k;
	int64_t next = 0;
	int rc = 0;

	if (!u)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_obj *x = p->v[i].obj;
		int64_t m;

		if (p->v[i].act == ACT_PRUNED || !is_volume(x) ||
		    !vol_repl(x) || strcmp(vol_cluster(x), cl))
			continue;
		if ((m = vol_minor(x)) >= 0)
			u[nu++] = (struct use){ m, i };
	}
	for (size_t j = 0; j < snap->n; j++) {
		const struct bl_obj *x = snap->v[j];
		int64_t m;

		if (replaced[j] || !is_volume(x) || strcmp(vol_cluster(x), cl))
			continue;
		if ((m = vol_minor(x)) >= 0)
			u[nu++] = (struct use){ m, SIZE_MAX };
	}
	qsort(u, nu, sizeof(*u), use_cmp);
	for (k = 0; k + 1 < nu; k++) {
		if (u[k].minor != u[k + 1].minor)
			continue;
		/* Report on the applied object(s) of the clash. */
		for (size_t j = k; j < k + 2; j++)
			if (u[j].item != SIZE_MAX)
				bl_obj_error(diag, p->v[u[j].item].obj,
					     "spec.replication.minor",
					     "minor %lld is already used by "
					     "another Volume of cluster '%s'",
					     (long long)u[j].minor, cl);
		rc = BL_E_INVALID;
	}
	/* Allocate: walk the sorted used minors once. */
	k = 0;
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		struct bl_obj *o = p->v[i].obj;
		json_t *r;

		if (p->v[i].act == ACT_PRUNED || !is_volume(o) ||
		    !(r = vol_repl(o)) || strcmp(vol_cluster(o), cl))
			continue;
		if (vol_minor(o) < 0) {
			while (k < nu && u[k].minor <= next) {
				if (u[k].minor == next)
					next++;
				k++;
			}
			if (next > 1048575) {
				bl_obj_error(diag, o, "spec.replication.minor",
					     "no free DRBD minor in cluster "
					     "'%s'", cl);
				rc = BL_E_INVALID;
				break;
			}
			if (json_object_set_new(r, "minor",
						json_integer(next)) ||
			    add_guard(p, cl)) {
				rc = -ENOMEM;
				break;
			}
			next++;
		}
		if (!json_object_get(r, "port") &&
		    json_object_set_new(r, "port", json_integer(
				CLI_MINOR_PORT_BASE + vol_minor(o)))) {
			rc = -ENOMEM;
			break;
		}
	}
	free(u);
	return rc;
}

/*
 * Give every replicated Volume in p (objects already carrying what the
 * stored copy had) a minor and a port, cluster by cluster.
 */
static int plan_minors(struct plan *p, const struct store_snap *snap,
		       struct bl_diag *diag)
{
	bool *replaced = calloc(snap->n + 1, sizeof(*replaced));
	const char **done = calloc(p->n + 1, sizeof(*done));
	size_t ndone = 0;
	int rc = 0, first = 0;

	if (!replaced || !done) {
		rc = -ENOMEM;
		goto out;
	}
	/* Snapshot slots that this apply replaces (their minors are the
	 * applied objects' now). snap->v is sorted: find by pointer. */
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_obj *s = p->v[i].stored;
		size_t lo = 0, hi = snap->n;

		if (!s || p->v[i].act == ACT_PRUNED)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = strcmp(s->kind, snap->v[mid]->kind);

			if (!r)
				r = strcmp(s->name, snap->v[mid]->name);
			if (!r) {
				replaced[mid] = true;
				break;
			}
			if (r < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_obj *o = p->v[i].obj;
		const char *cl;
		bool seen = false;

		if (p->v[i].act == ACT_PRUNED || !is_volume(o) || !vol_repl(o))
			continue;
		cl = vol_cluster(o);
		for (size_t j = 0; j < ndone && !seen; j++)
			seen = !strcmp(done[j], cl);
		if (seen)
			continue;
		done[ndone++] = cl;
		rc = plan_cluster_minors(p, snap, replaced, cl, diag);
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0 && !first)
			first = rc;
	}
	rc = first;
out:
	free(replaced);
	free(done);
	return rc;
}

static bool body_equal(const struct bl_obj *a, const struct bl_obj *b)
{
	const json_t *x = a->spec ? a->spec : a->data;
	const json_t *y = b->spec ? b->spec : b->data;

	if (!x || !y)
		return x == y;
	return json_equal((json_t *)x, (json_t *)y);
}

static int copy_str(char **dst, const char *src)
{
	char *d = src ? strdup(src) : NULL;

	if (src && !d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int plan_build(const struct bl_objlist *want, const struct store_snap *snap,
	       const struct selector *prune, struct plan *p,
	       struct bl_diag *diag)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->v = calloc(want->n + snap->n + 1, sizeof(*p->v));
	if (!p->v)
		return -ENOMEM;
	/* 1. Copies, with what the stored copies allocated carried over. */
	for (size_t i = 0; i < want->n; i++) {
		struct plan_item *it = &p->v[p->n];

		it->obj = bl_obj_dup(want->v[i]);
		if (!it->obj) {
			rc = -ENOMEM;
			goto err;
		}
		p->n++;
		it->stored = store_find(snap, want->v[i]->kind,
					want->v[i]->name);
		it->act = it->stored ? ACT_CONFIGURED : ACT_CREATED;
		if (it->stored &&
		    (rc = bl_obj_carry_allocated(it->obj, it->stored)) < 0)
			goto err;
	}
	/* 2. New minors. */
	rc = plan_minors(p, snap, diag);
	if (rc < 0)
		goto err;
	/* 3. Server fields and the verdict. */
	for (size_t i = 0; i < p->n; i++) {
		struct plan_item *it = &p->v[i];
		const struct bl_obj *s = it->stored;
		struct bl_obj *o = it->obj;

		if (!s) {
			rc = bl_obj_init_server_fields(o);
			if (rc < 0)
				goto err;
		} else {
			if (copy_str(&o->uid, s->uid) ||
			    copy_str(&o->creation_timestamp,
				     s->creation_timestamp)) {
				rc = -ENOMEM;
				goto err;
			}
			o->generation = s->generation;
			o->resource_version = s->resource_version;
			if (!o->uid || !o->creation_timestamp ||
			    o->generation < 1) {
				/* Written by something else: complete it. */
				struct bl_obj tmp = { 0 };

				rc = bl_obj_init_server_fields(&tmp);
				if (rc < 0)
					goto err;
				if (!o->uid) {
					o->uid = tmp.uid;
					tmp.uid = NULL;
				}
				if (!o->creation_timestamp) {
					o->creation_timestamp =
						tmp.creation_timestamp;
					tmp.creation_timestamp = NULL;
				}
				if (o->generation < 1)
					o->generation = 1;
				free(tmp.uid);
				free(tmp.creation_timestamp);
			}
			if (bl_obj_spec_equal(o, s) &&
			    o->generation == s->generation &&
			    !strcmp(o->uid, s->uid ? s->uid : "") &&
			    !strcmp(o->creation_timestamp,
				    s->creation_timestamp ?
				    s->creation_timestamp : "")) {
				it->act = ACT_UNCHANGED;
				continue;
			}
			if (!body_equal(o, s) && s->generation >= 1)
				o->generation = s->generation + 1;
		}
		it->json = bl_obj_to_json(o);
		if (!it->json) {
			rc = -ENOMEM;
			goto err;
		}
	}
	/* 4. Prunes: labelled stored objects the files no longer have. */
	for (size_t i = 0; prune && i < snap->n; i++) {
		const struct bl_obj *s = snap->v[i];
		struct plan_item *it;

		if (!selector_match(prune, s->labels) ||
		    bl_objlist_find(want, s->kind, s->name))
			continue;
		it = &p->v[p->n];
		it->obj = bl_obj_dup(s);
		if (!it->obj) {
			rc = -ENOMEM;
			goto err;
		}
		it->obj->resource_version = s->resource_version;
		it->stored = s;
		it->act = ACT_PRUNED;
		p->n++;
	}
	if (bl_diag_count(diag))
		return BL_E_INVALID;
	return 0;
err:
	plan_free(p);
	return rc;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		bl_obj_free(p->v[i].obj);
		free(p->v[i].json);
	}
	free(p->v);
	for (size_t i = 0; i < p->nguards; i++)
		free(p->guards[i]);
	free(p->guards);
	free(p->guard_mod);
	memset(p, 0, sizeof(*p));
}
