/*
 * controller.c - bollardd's loop: see controller.h for the shape.
 *
 * Why per-Target work items for the target reconciler, and one item for
 * DRBD: the engine can dump one target at a time, so a change to one Target
 * costs one target's dump and one target's plan whatever the size of the
 * node (10,000 LUNs on other targets cost nothing). DRBD resources are few
 * and drbdadm works per resource anyway, so one item for all keeps it
 * simple.
 *
 * Why a remembered name -> IQN map: when a Target object is deleted the
 * cache no longer knows its IQN, yet its work item must remove exactly that
 * target from the engine.
 *
 * Failure policy: a work item whose observe or apply fails is retried with
 * capped exponential backoff (workqueue.h) and reports Degraded; nothing is
 * ever undone on failure, because the next reconcile re-observes and plans
 * from what is really there. With etcd unreachable the informer keeps its
 * last cache: the controller goes on serving what it knew, and the watch
 * resumes from the last revision when etcd is back. An empty listing never
 * arrives as "everything was deleted" from an outage, since a failed list
 * returns an error instead of an empty result.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "bt_engine.h"
#include "daemon/controller.h"
#include "daemon/ctl_int.h"
#include "daemon/hb_lease.h"
#include "daemon/informer.h"
#include "daemon/leader.h"
#include "daemon/memlog.h"
#include "daemon/spawn.h"
#include "daemon/target_exec.h"
#include "daemon/volume_status.h"
#include "daemon/workqueue.h"
#include "reconciler.h"
#include "rollout/rollout.h"

struct bl_etcd_opts bl_ctl_etcd_opts(const struct bl_ctl_opts *o)
{
	return (struct bl_etcd_opts){
		.endpoints = o->etcd, .user = o->etcd_user,
		.password = o->etcd_password, .ca_file = o->etcd_ca,
		.cert_file = o->etcd_cert, .key_file = o->etcd_key,
	};
}

void ctl_logf(struct bl_ctl *c, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	ctl_utc_now(ts, sizeof(ts));
	fprintf(c->log, "%s bollardd[%s]: ", ts, c->o.node);
	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
	fflush(c->log);
}

/* BOLLARD_MEMLOG: memory at the phases of a round (memlog.h). */
static void memlog(struct bl_ctl *c, const char *what)
{
	char line[256];

	if (c->memlog && bl_memlog_line(what, c->memlog_reset, line, sizeof(line)) == 0)
		ctl_logf(c, "%s", line);
}

void ctl_enqueue(struct bl_ctl *c, const char *key)
{
	bl_wq_add(c->wq, key, bl_now_ms(), 0);
}

/* ---- event mapping ---------------------------------------------------------*/

void ctl_enqueue_pacemaker(struct bl_ctl *c, const char *cluster)
{
	char key[300];
	if (!cluster)
		return;
	snprintf(key, sizeof(key), "pacemaker/%s", cluster);
	ctl_enqueue(c, key);
}

/*
 * Which Targets refer to a changed Volume, Secret or Cluster: collected,
 * then found in one pass over every Target's references by the "refscan"
 * work item. Scanning all Targets per event would be quadratic when many
 * objects change at once (a directory of 10,000 Volumes applied, or the
 * initial listing): one scan per batch is linear.
 */
void ctl_pending_ref_add(struct bl_ctl *c, const char *kind, const char *name)
{
	char *k = NULL;

	if (c->npending == c->cappending) {
		size_t cap = c->cappending ? c->cappending * 2 : 64;
		char **v = realloc(c->pending_refs, cap * sizeof(*v));
		if (!v)
			return;
		c->pending_refs = v;
		c->cappending = cap;
	}
	if (asprintf(&k, "%s/%s", kind, name) < 0)
		return;
	c->pending_refs[c->npending++] = k;
	ctl_enqueue(c, "refscan");
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct pendscan {
	struct bl_ctl *c;
	char **v;
	size_t n;
};

static int ref_pending(void *arg, const char *kind, const char *name, const char *path)
{
	struct pendscan *s = arg;
	char key[600];
	const char *kp = key;
	(void)path;
	snprintf(key, sizeof(key), "%s/%s", kind, name);
	return bsearch(&kp, s->v, s->n, sizeof(char *), cmp_strp) != NULL;
}

static void enqueue_if_pending(void *arg, const struct bl_obj *t)
{
	struct pendscan *s = arg;
	char key[300];

	if (bl_obj_foreach_ref(t, ref_pending, s) > 0) {
		snprintf(key, sizeof(key), "Target/%s", t->name);
		ctl_enqueue(s->c, key);
	}
}

static void refscan(struct bl_ctl *c)
{
	struct pendscan s = { c, c->pending_refs, c->npending };

	qsort(s.v, s.n, sizeof(char *), cmp_strp);
	/* Each Target parsed for the scan only: a cached parse would be held
	 * through the reconciles that follow (informer.h). */
	if (s.n)
		bl_informer_foreach_copy(c->inf, "Target", enqueue_if_pending, &s);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	c->npending = 0;
}

static void on_change(void *arg, const char *key, const char *kind, const char *name)
{
	struct bl_ctl *c = arg;
	char k[300];
	/* Not the object: Volumes and Targets are stored compact (see
	 * bl_ctl_new) and parsing each one here would undo that. */
	const char *cluster = bl_informer_cluster(c->inf, kind, name);

	(void)key;
	if (!strcmp(kind, "Target")) {
		snprintf(k, sizeof(k), "Target/%s", name);
		ctl_enqueue(c, k);
		ctl_enqueue_pacemaker(c, cluster);
	} else if (!strcmp(kind, "Volume") || !strcmp(kind, "Secret") ||
		   !strcmp(kind, "Cluster")) {
		ctl_pending_ref_add(c, kind, name);
		if (strcmp(kind, "Secret"))
			ctl_enqueue(c, "drbd");
		if (!strcmp(kind, "Cluster"))
			ctl_enqueue_pacemaker(c, name);
		else
			ctl_enqueue_pacemaker(c, cluster);
		/* A node leaving a cluster: its targets must go. */
		if (!strcmp(kind, "Cluster"))
			ctl_enqueue(c, "sweep");
	}
}

static void on_error(void *arg, const char *key, const char *msg)
{
	struct bl_ctl *c = arg;
	ctl_logf(c, "watch: %s: %s", key, msg);
}

/* ---- object lists -----------------------------------------------------------*/

/* A borrowed list: points into the cache; free only the array. */
struct blist {
	struct bl_objlist l;
};

static void blist_add(void *arg, const struct bl_obj *o)
{
	struct blist *b = arg;
	if (b->l.n == b->l.cap) {
		size_t cap = b->l.cap ? b->l.cap * 2 : 64;
		struct bl_obj **v = realloc(b->l.v, cap * sizeof(*v));
		if (!v)
			return;
		b->l.v = v;
		b->l.cap = cap;
	}
	b->l.v[b->l.n++] = (struct bl_obj *)o;
}

static void blist_add_named(struct bl_ctl *c, struct blist *b, const char *kind,
			    const char *name)
{
	const struct bl_obj *o;
	size_t i;

	if (!name)
		return;
	/* Volumes: a target refers to each once (LUN numbers are unique and a
	 * duplicate would be harmless); skip the scan that would make a
	 * 10,000-LUN target quadratic. Secrets and the Cluster are few. */
	for (i = 0; strcmp(kind, "Volume") && i < b->l.n; i++)
		if (!strcmp(b->l.v[i]->kind, kind) && !strcmp(b->l.v[i]->name, name))
			return;
	o = bl_informer_get(c->inf, kind, name);
	if (o)
		blist_add(b, o);
}

/* A Target's references but its Volumes: the target reconciler loads
 * those one at a time (load_volume). */
static int add_ref(void *arg, const char *kind, const char *name, const char *path)
{
	void **a = arg;
	(void)path;
	if (strcmp(kind, "Volume"))
		blist_add_named(a[0], a[1], kind, name);
	return 0;
}

/*
 * bl_rec_ctx.load for the target reconciler: one Volume parsed from the
 * informer's text, not cached. A 10,000-LUN target's Volumes parsed and
 * held at once were the largest part of bollardd's peak (~25 MB of the
 * ~75 MB VmHWM of bench/controller.sh).
 */
static struct bl_obj *load_obj(void *arg, const char *kind, const char *name)
{
	struct bl_ctl *c = arg;
	struct bl_obj *o = bl_informer_load(c->inf, kind, name), *adm = NULL;
	int rc;

	/* Rollouts: a governed Volume at the generation admitted to its
	 * cluster; a deleted one whose deletion is not admitted from its kept
	 * copy. When that cannot be had (not admitted yet, an etcd error) the
	 * LUN must not be built from the newest nor dropped: the round fails
	 * and is retried (run_one checks load_err). */
	rc = o ? bl_rollout_effective_cached(c->etcd, c->inf, o, c->load_recs, &adm)
	       : bl_rollout_recorded(c->etcd, c->inf, c->o.node, kind, name, &adm);
	if (!o && rc > 0)
		return adm;
	if (rc < 0 || (o && rc > 0)) {
		c->load_err = rc < 0 ? rc : -EAGAIN;
		bl_obj_free(o);
		return NULL;
	}
	if (adm) {
		bl_obj_free(o);
		return adm;
	}
	return o;
}

/* Every cached object but the Volumes (see load_obj). */
static void blist_all_but_volumes(struct bl_ctl *c, struct blist *b)
{
	const char *const *k;

	for (k = bl_kind_names(); *k; k++)
		if (strcmp(*k, "Volume"))
			bl_informer_foreach(c->inf, *k, blist_add, b);
}

/* ---- reconciling ------------------------------------------------------------*/

void ctl_rec_ctx(struct bl_ctl *c, struct bl_rec_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->node = c->o.node;
	ctx->drbd_dir = c->o.drbd_dir;
	ctx->state_dir = c->o.state_dir;
	bl_rec_io_real(&ctx->io);
	ctx->io.run = bl_target_run;
	ctx->io.arg = &c->runner;
	ctx->report = ctl_on_report;
	ctx->report_arg = c;
	ctx->peer_status = ctl_peer_status;
	ctx->peer_status_arg = c;
	ctx->load = load_obj;
	ctx->load_arg = c;
}

/*
 * Plans are built and applied at most PLAN_WINDOW actions at a time
 * (reconcilers/plan.h, "Windows"). A cold start of a 10,000-LUN target is
 * a 10,000-action plan, ~7 MB of command lines held at once, the largest
 * part of bollardd's peak RSS; in windows it holds ~0.7 MB and runs plan()
 * 11 times more (a few ms each). Plans of up to a window, every plan of a
 * running node, are built once as before. The actions, their order, deps
 * and the failure policy are those of the whole plan (the golden tier's
 * plan_windows.sh and test_plan check it); what goes to status is the
 * whole plan's count and its first actions. --dry-run prints whole plans.
 */
#define PLAN_WINDOW 1024   /* default of bl_ctl_opts.plan_window */

static int apply_windows(struct bl_ctl *c, struct bl_rec_run *r, struct bl_plan *plan,
			 struct bl_apply_result *res)
{
	size_t total = bl_plan_total(plan), first;
	struct bl_apply_state st;
	int rc = bl_apply_begin(&st, total);

	for (first = 1; rc == 0 && first <= total; first += c->plan_window) {
		rc = bl_rec_run_window(r, plan, first, c->plan_window);
		if (rc == 0)
			rc = bl_apply_run(&st, plan, c->ex);
	}
	if (rc) {   /* could not build or walk a window: not an action's failure */
		bl_apply_end(&st, res);
		return rc;
	}
	rc = bl_apply_end(&st, res);
	/* What status shows: the whole count and the first actions. */
	if (total > c->plan_window)
		bl_rec_run_window(r, plan, 1, c->plan_window);
	return rc;
}

/*
 * desired -> observe -> plan -> apply for one reconciler over objs.
 * drop_parsed: objs are only read by desired() and nothing else holds a
 * parsed compact object, so the informer's parsed copies are dropped
 * before the live state is read (a 10,000-LUN Target parsed is ~4.5 MB
 * of jansson tree; its desired model keeps what it needs in ~2 MB).
 * Returns 0 when converged or applied cleanly, <0 on failure.
 */
static int run_one(struct bl_ctl *c, const struct bl_reconciler_ops *ops,
		   struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
		   bool drop_parsed, struct bl_plan *plan,
		   struct bl_apply_result *res, char *err, size_t errlen)
{
	uint64_t ops_before = c->runner.ops;
	struct bl_rec_run r;
	int rc;

	memset(res, 0, sizeof(*res));
	c->load_err = 0;
	memlog(c, "run_one: before plan");
	c->load_recs = json_object();   /* NULL: no cache, a get per Volume */
	rc = bl_rec_run_desired(&r, ops, ctx, objs);
	json_decref(c->load_recs);
	c->load_recs = NULL;
	if (rc == 0 && drop_parsed)
		bl_informer_trim(c->inf);
	memlog(c, "run_one: desired");
	/* Volumes are loaded by desired() (ctx->load, load_obj). */
	if (rc == 0 && c->load_err) {
		rc = c->load_err;
		snprintf(err, errlen, "%s: a Volume at the generation its rollout "
			 "admitted could not be read (%s): not applied", ops->name,
			 rc == -EAGAIN ? "not admitted yet" : bl_strerror(rc));
		(void)bl_plan_init(plan, ops->name, ctx->node);   /* freed by the caller */
		goto out;
	}
	if (rc == 0)
		rc = bl_rec_run_plan(&r, plan, c->o.dry_run ? 0 : c->plan_window);
	else   /* the caller frees plan whatever happened */
		(void)bl_plan_init(plan, ops->name, ctx->node);
	memlog(c, "run_one: planned");
	if (rc < 0) {
		snprintf(err, errlen, "%s: plan: %s%s%s", ops->name, bl_strerror(rc),
			 ctx->err[0] ? ": " : "", ctx->err);
		goto out;
	}
	if (c->o.dry_run) {
		bl_plan_print(plan, c->log);
		goto out;
	}
	if (bl_plan_changes(plan) == 0)
		goto out;
	/* Observing and planning took time: a stalled leader must not write
	 * a CIB after its lease may have passed to another node. */
	if (c->guard_cluster && !ctl_is_leader_of(c, c->guard_cluster)) {
		snprintf(err, errlen, "%s: no longer the leader of cluster %s; "
			 "plan not applied", ops->name, c->guard_cluster);
		rc = BL_E_CANCELED;
		goto out;
	}
	if (bl_plan_counted(plan))
		rc = apply_windows(c, &r, plan, res);
	else
		rc = bl_plan_apply(plan, c->ex, res);
	memlog(c, "run_one: applied");
	c->st.actions_applied += res->done;
	c->st.actions_failed += res->failed;
	c->st.engine_ops += c->runner.ops - ops_before;
	if (rc < 0)
		snprintf(err, errlen, "%s: apply: %s", ops->name,
			 c->ex->last_error[0] ? c->ex->last_error : bl_exec_strerror(rc));
out:
	bl_rec_run_free(&r);
	return rc;
}

static int handle_target(struct bl_ctl *c, const char *key, const char *name)
{
	const struct bl_reconciler_ops *ops = bl_reconciler_find("target");
	const struct bl_obj *t = bl_informer_get(c->inf, "Target", name);
	struct bl_obj *admitted = NULL, tstub = { 0 }, astub = { 0 };
	const struct bl_obj *absent = NULL;
	struct bl_objlist sec_owned = { 0 };
	struct item *it = ctl_item_get(c, key);
	struct blist b = { 0 };
	struct bl_rec_ctx ctx;
	struct bl_plan plan;
	struct bl_apply_result res;
	char err[600] = "";
	const char *iqn = NULL;
	int rc;

	if (!it)
		return -ENOMEM;
	/* Rollouts (controller/rollout/): a governed Target is reconciled at
	 * the generation admitted to its cluster, never the newest before. */
	rc = t ? bl_rollout_effective(c->etcd, c->inf, t, &admitted) : 0;
	if (rc < 0) {
		ctl_logf(c, "%s: admitted generation: %s", key, bl_strerror(rc));
		return rc;
	}
	/* Creation and deletion are gated too: a governed Target that is new
	 * to its cluster's admission record, or deleted while the record still
	 * names it, is left as it is live until its admission. */
	if (rc == BL_RO_NOT_ADMITTED) {
		ctl_logf(c, "%s: not admitted to its cluster by its rollout yet; left as it is", key);
		ctl_write_status_hold(c, it, "Target", name, t, NULL, NULL, 0, NULL,
				  "created or relabelled into a rollout's scope: waits for "
				  "the rollout to admit it to its cluster");
		return 0;
	}
	/* Its admitted creation rolled back on this cluster: the export goes
	 * (as for a deleted Target: LUN data and Volumes are kept). */
	if (rc == BL_RO_ABSENT) {
		const char *tiqn = json_string_value(json_object_get(t->spec, "iqn"));
		ctl_logf(c, "%s: creation rolled back by its rollout; not served", key);
		if (tiqn && (!it->iqn || strcmp(it->iqn, tiqn))) {
			free(it->iqn);
			it->iqn = strdup(tiqn);
		}
		absent = t;
		t = NULL;
	} else if (!t) {
		/* Deleted, and a record of its cluster still names it: the
		 * deletion is not admitted yet (still served), or a rollback
		 * gave it back (served again): from its kept copy. */
		rc = bl_rollout_recorded(c->etcd, c->inf, c->o.node, "Target", name, &admitted);
		if (rc < 0) {
			ctl_logf(c, "%s: admission records: %s", key, bl_strerror(rc));
			return rc;
		}
		if (rc > 0)
			ctl_logf(c, "%s: deleted, deletion not admitted by its rollout "
			      "(or rolled back); served at generation %lld", key,
			      (long long)admitted->generation);
	}
	if (admitted)
		t = admitted;
	if (t) {
		void *a[2] = { c, &b };
		const char *cl = json_string_value(json_object_get(t->spec, "cluster"));
		iqn = json_string_value(json_object_get(t->spec, "iqn"));
		blist_add(&b, t);
		blist_add_named(c, &b, "Cluster", cl);
		bl_obj_foreach_ref(t, add_ref, a);
		/* Rollouts: Secrets at the generation admitted to this node's
		 * cluster, reported as observedRefs (the health signal). */
		rc = bl_rollout_effective_secrets(c->etcd, c->inf, c->o.node, &b.l,
						  &sec_owned, &c->obs_refs);
		if (rc < 0) {
			ctl_logf(c, "%s: admitted Secrets: %s", key, bl_strerror(rc));
			free(b.l.v);
			bl_obj_free(admitted);
			bl_objlist_free(&sec_owned);
			return rc;
		}
		/* The IQN may have changed: the old one must go too. */
		if (it->iqn && iqn && strcmp(it->iqn, iqn)) {
			ctl_rec_ctx(c, &ctx);
			ctx.target_scope = it->iqn;
			struct bl_objlist none = { 0 };
			run_one(c, ops, &ctx, &none, false, &plan, &res, err, sizeof(err));
			bl_plan_free(&plan);
		}
		if (iqn && (!it->iqn || strcmp(it->iqn, iqn))) {
			free(it->iqn);
			it->iqn = strdup(iqn);
		}
	}
	/* From here the IQN is it->iqn: a copy (the parsed Target may go). */
	iqn = it->iqn;
	if (!iqn) {
		free(b.l.v);
		bl_obj_free(admitted);
		json_decref(c->obs_refs);
		c->obs_refs = NULL;
		bl_objlist_free(&sec_owned);
		return 0;   /* never seen, nothing to remove */
	}
	ctl_rec_ctx(c, &ctx);
	ctx.target_scope = iqn;
	/* What status needs of t once its parse is dropped (run_one). */
	if (t) {
		tstub.generation = t->generation;
		tstub.resource_version = t->resource_version;
		t = &tstub;
	}
	if (absent) {
		astub.generation = absent->generation;
		astub.resource_version = absent->resource_version;
		absent = &astub;
	}
	rc = run_one(c, ops, &ctx, &b.l, true, &plan, &res, err, sizeof(err));
	if (rc < 0) {
		ctl_add_event(it, "Warning", "ReconcileFailed", "%s", err);
		ctl_logf(c, "%s: %s", key, err);
	} else if (res.done) {
		ctl_add_event(it, "Normal", "Applied", "%zu action(s) applied to the engine", res.done);
		ctl_logf(c, "%s: applied %zu action(s)", key, res.done);
	}
	if (t)
		ctl_write_status(c, it, "Target", name, t, &plan, &res, rc, err);
	else if (absent && rc == 0)
		ctl_write_status_hold(c, it, "Target", name, absent, NULL, NULL, 0, NULL,
				  "its creation was rolled back by its rollout on this "
				  "cluster: waits for the rollout to admit it again");
	else if (!c->o.dry_run) {
		char skey[512];
		snprintf(skey, sizeof(skey), "/bollard/v1/status/Target/%s/%s", name, c->o.node);
		bl_etcd_delete(c->etcd, skey, false, NULL, NULL);
	}
	bl_plan_free(&plan);
	free(b.l.v);
	bl_obj_free(admitted);
	json_decref(c->obs_refs);
	c->obs_refs = NULL;
	bl_objlist_free(&sec_owned);
	/* Something changed: look again, so "converged" is observed, not assumed. */
	if (rc == 0 && res.done)
		bl_wq_add(c->wq, key, bl_now_ms(), 0);
	return rc;
}

/* Every object: drbd and the target sweep run over the whole node. */
static int handle_all(struct bl_ctl *c, const char *key, const char *recname,
		      const char *cluster)
{
	const struct bl_reconciler_ops *ops = bl_reconciler_find(recname);
	struct item *it = ctl_item_get(c, key);
	struct blist b = { 0 };
	struct bl_objlist admitted = { 0 };
	struct bl_rec_ctx ctx;
	struct bl_plan plan;
	struct bl_apply_result res;
	char err[600] = "";
	int rc;

	if (!ops || !it)
		return -ENOENT;
	/* The target sweep loads Volumes one at a time (load_obj); the other
	 * reconcilers read them all. */
	if (!strcmp(recname, "target"))
		blist_all_but_volumes(c, &b);
	else
		bl_informer_foreach(c->inf, NULL, blist_add, &b);
	/* Rollouts: governed objects at their admitted generation, rolled
	 * back creations left out, deletions not admitted (or rolled back)
	 * kept from their history copies. A node-wide reconcile would create
	 * a governed Target that is not admitted yet: held until the
	 * admission (which enqueues this item again: on_admission). */
	rc = bl_rollout_effective_list(c->etcd, c->inf, c->o.node, &b.l, &admitted);
	if (rc < 0) {
		ctl_logf(c, "%s: admitted generations: %s", key, bl_strerror(rc));
		bl_objlist_free(&admitted);
		free(b.l.v);
		return rc;
	}
	if (rc > 0) {
		ctl_logf(c, "%s: held: a governed Target's creation waits "
		      "for its admission", key);
		bl_objlist_free(&admitted);
		free(b.l.v);
		return 0;
	}
	ctl_rec_ctx(c, &ctx);
	/* The target sweep: its Targets are only read by desired(). */
	rc = run_one(c, ops, &ctx, &b.l, !strcmp(recname, "target"), &plan, &res,
		     err, sizeof(err));
	if (rc < 0) {
		ctl_add_event(it, "Warning", "ReconcileFailed", "%s", err);
		ctl_logf(c, "%s: %s", key, err);
	} else if (res.done) {
		ctl_logf(c, "%s: applied %zu action(s)", key, res.done);
	}
	if (cluster) {
		const struct bl_obj *cl = bl_informer_get(c->inf, "Cluster", cluster);
		if (cl)
			ctl_write_status(c, it, "Cluster", cluster, cl, &plan, &res, rc, err);
	}
	ctl_after_round(c, key, recname, &plan, rc);
	bl_plan_free(&plan);
	free(b.l.v);
	bl_objlist_free(&admitted);
	if (rc == 0 && res.done)
		bl_wq_add(c->wq, key, bl_now_ms(), 0);
	return rc;
}

static enum bl_wq_result handle(struct bl_ctl *c, const char *key)
{
	int rc = 0;

	c->st.reconciles++;
	if (!strcmp(key, "refscan")) {
		refscan(c);
		return BL_WQ_OK;
	}
	if (!strncmp(key, "Target/", 7)) {
		if (!c->o.only || !strcmp(c->o.only, "target"))
			rc = handle_target(c, key, key + 7);
	} else if (!strcmp(key, "sweep")) {
		if (!c->o.only || !strcmp(c->o.only, "target"))
			rc = handle_all(c, key, "target", NULL);
	} else if (!strcmp(key, "drbd")) {
		if (!c->o.only || !strcmp(c->o.only, "drbd")) {
			ctl_drbd_live_forget(c);
			c->drbd_status_done = false;
			rc = handle_all(c, key, "drbd", NULL);
			/* No round (held by a rollout, or it failed before
			 * it planned): the status from a look of its own */
			if (!c->drbd_status_done)
				ctl_volume_status_poll(c);
			ctl_drbd_live_forget(c);
		}
	} else if (!strcmp(key, "drbd-status")) {
		if (!c->o.only || !strcmp(c->o.only, "drbd"))
			ctl_volume_status_poll(c);
	} else if (!strncmp(key, "pacemaker/", 10)) {
		const char *cl = key + 10;
		const struct bl_obj *o = bl_informer_get(c->inf, "Cluster", cl);
		const char *ha = o ? json_string_value(json_object_get(o->spec, "ha")) : NULL;
		if ((!c->o.only || !strcmp(c->o.only, "pacemaker")) && ha &&
		    !strcmp(ha, "pacemaker") && ctl_is_leader_of(c, cl)) {
			c->guard_cluster = cl;
			rc = handle_all(c, key, "pacemaker", cl);
			c->guard_cluster = NULL;
		}
	}
	if (rc < 0) {
		c->failed_once = true;
		return BL_WQ_RETRY;
	}
	return BL_WQ_OK;
}

/* Names only (bl_informer_foreach_name): enqueuing parses nothing. */
static void enqueue_target(void *arg, const char *name)
{
	struct bl_ctl *c = arg;
	char key[300];
	snprintf(key, sizeof(key), "Target/%s", name);
	ctl_enqueue(c, key);
}

/*
 * A rollout admitted something to cluster (NULL: any): its Targets again,
 * the Targets we served whose objects are gone (an admitted deletion), and
 * the node-wide items, which hold while a creation or deletion waits.
 */
static void on_admission(void *arg, const char *cluster)
{
	struct bl_ctl *c = arg;

	/* The cluster's Targets through the batched reference scan (one pass
	 * per batch of events, like a Cluster change). */
	if (cluster)
		ctl_pending_ref_add(c, "Cluster", cluster);
	else
		bl_informer_foreach_name(c->inf, "Target", enqueue_target, c);
	for (size_t i = 0; i < c->nitems; i++)
		if (!strncmp(c->items[i].key, "Target/", 7) &&
		    !bl_informer_cluster(c->inf, "Target", c->items[i].key + 7))
			ctl_enqueue(c, c->items[i].key);
	ctl_enqueue(c, "drbd");
	ctl_enqueue(c, "sweep");
	for (size_t i = 0; i < c->nleaders; i++)
		ctl_enqueue_pacemaker(c, c->leader_cluster[i]);
}

static void tick(struct bl_ctl *c, uint64_t now)
{
	ctl_heartbeat(c, now);
	if (c->fleet)
		bl_fleet_tick(c->fleet, now);   /* controller/rollout/ */
	ctl_volume_status_tick(c, now);
	if (now >= c->next_resync_ms) {
		/* Periodic resync: every item again (drift, missed events). */
		bl_informer_foreach_name(c->inf, "Target", enqueue_target, c);
		for (size_t i = 0; i < c->nitems; i++)
			if (!strncmp(c->items[i].key, "Target/", 7))
				ctl_enqueue(c, c->items[i].key);
		ctl_enqueue(c, "drbd");
		ctl_enqueue(c, "sweep");
		for (size_t i = 0; i < c->nleaders; i++)
			ctl_enqueue_pacemaker(c, c->leader_cluster[i]);
		c->next_resync_ms = now + (uint64_t)c->o.resync_s * 1000;
	}
}

/* ---- lifetime ---------------------------------------------------------------*/

/*
 * Kinds the informer keeps as text (informer.h): the ones that come by the
 * thousand. A reconcile parses the ones it needs, and the parsed copies are
 * dropped when the queue has drained (bl_ctl_run), so the resident size is
 * that of the texts plus one reconcile's working set, not of every object
 * as a jansson tree (10,000 Volumes: ~3 MB instead of ~25 MB).
 */
static const char *const compact_kinds[] = { "Volume", "Target", NULL };

int bl_ctl_new(const struct bl_ctl_opts *o, struct bl_ctl **out)
{
	static const struct bl_informer_ops iops = { on_change, on_error };
	struct bl_etcd_opts eo = { 0 };
	char why[256] = "";
	struct bl_ctl *c = calloc(1, sizeof(*c));
	unsigned after = 0;
	int die = 0, rc;

	if (!c)
		return -ENOMEM;
	c->o = *o;
	if (!c->o.resync_s)
		c->o.resync_s = 60;
	if (!c->o.lease_ttl_s)
		c->o.lease_ttl_s = 5;
	c->log = o->log ? o->log : stderr;
	c->plan_window = o->plan_window ? o->plan_window : PLAN_WINDOW;
	c->memlog = o->memlog && *o->memlog;
	c->memlog_reset = c->memlog && !strcmp(o->memlog, "reset");
	c->runner.socket = o->target_socket;
	c->wq = bl_wq_new(NULL);
	c->inf = bl_informer_new(&iops, c);
	if (c->inf)
		bl_informer_set_compact(c->inf, compact_kinds);
	c->ex = o->dry_run ? bl_exec_dry_new(NULL) : bl_exec_real_new(bl_target_run, &c->runner, NULL);
	if (!c->wq || !c->inf || !c->ex) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = bl_exec_fault_parse(o->fault, &after, &die);
	if (rc == 0) {
		struct bl_executor *f = bl_exec_fault_new(c->ex, after, die);
		if (!f) {
			rc = -ENOMEM;
			goto fail;
		}
		c->ex = f;
	} else if (rc != -ENOENT) {
		ctl_logf(c, "BOLLARD_FAULT=%s: malformed", o->fault);
		goto fail;
	}
	eo = bl_ctl_etcd_opts(o);
	eo.errbuf = why;
	eo.errlen = sizeof(why);
	rc = bl_etcd_open(&eo, &c->etcd);
	if (rc < 0) {
		ctl_logf(c, "etcd %s: %s%s%s", o->etcd, bl_strerror(rc),
		      *why ? ": " : "", why);
		goto fail;
	}
	memlog(c, "before list");
	rc = bl_informer_start(c->inf, c->etcd);
	memlog(c, "listed");
	if (rc < 0) {
		ctl_logf(c, "etcd %s: list/watch: %s: %s", o->etcd, bl_strerror(rc),
		      bl_etcd_errmsg(c->etcd));
		goto fail;
	}
	/* The listing's transient copies (gRPC message, protobuf, key list)
	 * left ~10 MB of free heap among the cached texts at 10,000 objects:
	 * give those pages back now rather than carry them as RSS. */
	malloc_trim(0);
	memlog(c, "listed+trim");
	{
		struct bl_vstatus_opts vo = { .etcd = c->etcd, .inf = c->inf,
			.node = c->o.node, .log = c->log, .dry_run = o->dry_run,
			.admitted = bl_rollout_effective };
		rc = bl_vstatus_new(&vo, &c->vs);
		if (rc < 0)
			goto fail;
	}
	/* Every bollardd is a candidate for the fleet rollout role. */
	if (!o->dry_run && !o->only) {
		struct bl_fleet_opts fo = { .etcd = c->etcd, .inf = c->inf,
			.id = o->node, .lease_ttl_s = c->o.lease_ttl_s, .log = c->log,
			.keepalive = &eo };
		rc = bl_fleet_new(&fo, &c->fleet);
		if (rc < 0)
			goto fail;
	}
	/* Admissions change what a governed Target should be: reconcile at
	 * once (without the watch, the periodic resync still would). */
	c->admit_watch = bl_ro_admit_watch_new(c->etcd, on_admission, c);
	/* Everything once at start, then the sweep. */
	bl_informer_foreach_name(c->inf, "Target", enqueue_target, c);
	ctl_enqueue(c, "drbd");
	ctl_enqueue(c, "sweep");
	c->next_resync_ms = bl_now_ms() + (uint64_t)c->o.resync_s * 1000;
	ctl_logf(c, "watching %s (revision %lld, %zu objects)", o->etcd,
	      (long long)bl_informer_revision(c->inf), bl_informer_count(c->inf));
	*out = c;
	return 0;
fail:
	bl_ctl_free(c);
	return rc;
}

void bl_ctl_free(struct bl_ctl *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nleaders; i++) {
		bl_leader_free(c->leaders[i]);
		free(c->leader_cluster[i]);
	}
	free(c->leaders);
	free(c->leader_cluster);
	bl_fleet_free(c->fleet);
	bl_ro_admit_watch_free(c->admit_watch);
	bl_vstatus_free(c->vs);
	ctl_drbd_live_forget(c);
	if (c->hbk)
		bl_hb_lease_stop(c->hbk, true);
	else if (c->hb_lease && c->etcd)
		bl_etcd_lease_revoke(c->etcd, c->hb_lease);
	bl_informer_free(c->inf);
	bl_etcd_close(c->etcd);
	bl_wq_free(c->wq);
	if (c->ex)
		bl_exec_free(c->ex);
	bl_target_runner_close(&c->runner);
	for (i = 0; i < c->nitems; i++) {
		free(c->items[i].key);
		free(c->items[i].iqn);
		free(c->items[i].last_status);
	}
	free(c->items);
	for (i = 0; i < c->npending; i++)
		free(c->pending_refs[i]);
	free(c->pending_refs);
	free(c);
}

int bl_ctl_run(struct bl_ctl *c, volatile int *stop, bool once)
{
	/* One shot: no heartbeat, so Volume status is written without a
	 * lease; a daemon writes it once tick() has the heartbeat's lease. */
	if (once)
		bl_vstatus_set_lease(c->vs, 0, false);
	if (!once && !c->hbk) {
		struct bl_etcd_opts eo = bl_ctl_etcd_opts(&c->o);
		int rc = bl_hb_lease_start(&eo, c->o.lease_ttl_s, &c->hbk);

		if (rc < 0)
			ctl_logf(c, "heartbeat lease: no keepalive thread (%s); renewed "
			      "from the loop", bl_strerror(rc));
	}
	while (!*stop) {
		uint64_t now = bl_now_ms(), wait = UINT64_MAX;
		const char *key;
		bool worked = false;
		int timeout;

		bl_etcd_dispatch(c->etcd, 0);
		if (!once)
			tick(c, now);
		/* Drain what is ready; the watch is checked between items so a
		 * burst of changes keeps merging in the queue. */
		while (!*stop && (key = bl_wq_get(c->wq, bl_now_ms(), &wait)) != NULL) {
			char *k = strdup(key);
			memlog(c, k);
			enum bl_wq_result r = handle(c, k);
			memlog(c, "handled");
			worked = true;
			bl_wq_done(c->wq, k, r, bl_now_ms());
			free(k);
			bl_etcd_dispatch(c->etcd, 0);
		}
		/* Nothing borrowed from the cache is held now: drop the parsed
		 * copies of compact objects, and give the freed heap back
		 * after any work (a full reconcile of a 10,000-LUN target
		 * frees ~10 MB that glibc would otherwise keep resident; its
		 * parsed Target is already gone, see run_one). The trim comes
		 * after the status writes, so no figure of bench/controller.sh
		 * waits for it. */
		if (bl_informer_trim(c->inf) || worked) {
			memlog(c, "drained");
			malloc_trim(0);
			memlog(c, "trimmed");
		}
		if (once && (wait == UINT64_MAX || c->failed_once))
			return c->failed_once ? 1 : 0;
		if (once && wait > 0) {
			/* a retry is pending: --once does not wait for it */
			return 1;
		}
		timeout = wait > 250 ? 250 : (int)wait;
		bl_etcd_dispatch(c->etcd, timeout);
	}
	return 0;
}

void bl_ctl_stats(const struct bl_ctl *c, struct bl_ctl_stats *s)
{
	struct bl_vstatus_stats vs;

	*s = c->st;
	s->engine_ops = c->runner.ops;
	bl_vstatus_stats(c->vs, &vs);
	s->status_writes += vs.writes;
}
