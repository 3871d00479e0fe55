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
#include "daemon/hb_lease.h"
#include "daemon/informer.h"
#include "daemon/leader.h"
#include "daemon/memlog.h"
#include "daemon/spawn.h"
#include "daemon/target_exec.h"
#include "daemon/volume_status.h"
#include "drbd_int.h"
#include "daemon/workqueue.h"
#include "reconciler.h"
#include "rollout/rollout.h"

#define MAX_EVENTS 10

struct ev {
	char time[32];
	char type[8];               /* Normal | Warning                       */
	char reason[32];
	char msg[256];
};

/* Per work item memory: remembered IQN, last status written, events. */
struct item {
	char *key;
	char *iqn;                  /* Target items: last IQN seen            */
	char *last_status;          /* last status JSON written (no times)    */
	struct ev events[MAX_EVENTS];
	unsigned nevents;
	char ready_since[32];
};

struct bl_ctl {
	struct bl_ctl_opts o;
	FILE *log;
	struct bl_etcd *etcd;
	struct bl_informer *inf;
	struct bl_wq *wq;
	struct bl_target_runner runner;
	struct bl_executor *ex;
	struct item *items;
	size_t nitems, capitems;
	struct bl_leader **leaders; /* one per pacemaker cluster we are in   */
	char **leader_cluster;
	size_t nleaders;
	int64_t hb_lease;
	struct bl_hb_lease *hbk;    /* keeps hb_lease alive (hb_lease.h)      */
	uint64_t hb_changes;        /* hbk's lease count seen so far          */
	uint64_t next_resync_ms, next_hb_ms;
	struct bl_ctl_stats st;
	bool failed_once;           /* for --once                             */
	char **pending_refs;        /* "Kind/name" of changed Volumes, Secrets
	                             * and Clusters whose referring Targets
	                             * the next "refscan" item enqueues       */
	size_t npending, cappending;
	const char *guard_cluster;  /* leader-only work: re-check the lease of
	                             * this cluster right before applying    */
	struct bl_fleet *fleet;     /* the fleet rollout role (candidate)     */
	struct bl_ro_admit_watch *admit_watch; /* rollout admissions         */
	json_t *obs_refs;           /* handle_target -> its status: the Secret
	                             * generations a rollout admitted and this
	                             * reconcile used ({"Secret/x": gen})    */
	struct bl_vstatus *vs;      /* Volume status (volume_status.h)        */
	uint64_t next_sync_poll_ms; /* while a resync runs: next DRBD look    */
	struct drbd_live *drbd_live;/* what the DRBD reconciler's observe saw */
	size_t ndrbd_live;          /* in this round (ctx->report)            */
	bool drbd_reported;
	bool drbd_status_done;      /* this round's Volume status written     */
	int load_err;               /* load_obj: an admitted Volume could not
	                             * be had: the round must not apply      */
	bool memlog, memlog_reset;  /* BOLLARD_MEMLOG (memlog.h)              */
	size_t plan_window;         /* actions per window (run_one)           */
	json_t *load_recs;          /* load_obj's admission records, for one
	                             * desired() (run_one)                   */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct bl_etcd_opts bl_ctl_etcd_opts(const struct bl_ctl_opts *o)
{
	return (struct bl_etcd_opts){
		.endpoints = o->etcd, .user = o->etcd_user,
		.password = o->etcd_password, .ca_file = o->etcd_ca,
		.cert_file = o->etcd_cert, .key_file = o->etcd_key,
	};
}

static void logf_(struct bl_ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct bl_ctl *c, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	utc_now(ts, sizeof(ts));
	fprintf(c->log, "%s bollardd[%s]: ", ts, c->o.node);
	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
	fflush(c->log);
}

static struct item *item_get(struct bl_ctl *c, const char *key)
{
	size_t i;
	for (i = 0; i < c->nitems; i++)
		if (!strcmp(c->items[i].key, key))
			return &c->items[i];
	if (c->nitems == c->capitems) {
		size_t cap = c->capitems ? c->capitems * 2 : 64;
		struct item *v = realloc(c->items, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->items = v;
		c->capitems = cap;
	}
	memset(&c->items[c->nitems], 0, sizeof(struct item));
	c->items[c->nitems].key = strdup(key);
	if (!c->items[c->nitems].key)
		return NULL;
	return &c->items[c->nitems++];
}

static void add_event(struct item *it, const char *type, const char *reason,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_event(struct item *it, const char *type, const char *reason,
		      const char *fmt, ...)
{
	struct ev *e;
	va_list ap;

	if (!it)
		return;
	if (it->nevents == MAX_EVENTS) {
		memmove(&it->events[0], &it->events[1], sizeof(it->events[0]) * (MAX_EVENTS - 1));
		it->nevents--;
	}
	e = &it->events[it->nevents++];
	utc_now(e->time, sizeof(e->time));
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* BOLLARD_MEMLOG: memory at the phases of a round (memlog.h). */
static void memlog(struct bl_ctl *c, const char *what)
{
	char line[256];

	if (c->memlog && bl_memlog_line(what, c->memlog_reset, line, sizeof(line)) == 0)
		logf_(c, "%s", line);
}

static void enqueue(struct bl_ctl *c, const char *key)
{
	bl_wq_add(c->wq, key, now_ms(), 0);
}

/* ---- event mapping ---------------------------------------------------------*/

static void enqueue_pacemaker(struct bl_ctl *c, const char *cluster)
{
	char key[300];
	if (!cluster)
		return;
	snprintf(key, sizeof(key), "pacemaker/%s", cluster);
	enqueue(c, key);
}

/*
 * Which Targets refer to a changed Volume, Secret or Cluster: collected,
 * then found in one pass over every Target's references by the "refscan"
 * work item. Scanning all Targets per event would be quadratic when many
 * objects change at once (a directory of 10,000 Volumes applied, or the
 * initial listing): one scan per batch is linear.
 */
static void pending_ref_add(struct bl_ctl *c, const char *kind, const char *name)
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
	enqueue(c, "refscan");
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
		enqueue(s->c, key);
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
		enqueue(c, k);
		enqueue_pacemaker(c, cluster);
	} else if (!strcmp(kind, "Volume") || !strcmp(kind, "Secret") ||
		   !strcmp(kind, "Cluster")) {
		pending_ref_add(c, kind, name);
		if (strcmp(kind, "Secret"))
			enqueue(c, "drbd");
		if (!strcmp(kind, "Cluster"))
			enqueue_pacemaker(c, name);
		else
			enqueue_pacemaker(c, cluster);
		/* A node leaving a cluster: its targets must go. */
		if (!strcmp(kind, "Cluster"))
			enqueue(c, "sweep");
	}
}

static void on_error(void *arg, const char *key, const char *msg)
{
	struct bl_ctl *c = arg;
	logf_(c, "watch: %s: %s", key, msg);
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

/* ---- status -----------------------------------------------------------------*/

static json_t *cond(const char *type, bool status, const char *reason, const char *msg)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status",
			 status ? "True" : "False", "reason", reason, "message",
			 msg ? msg : "");
}

/*
 * Write status for kind/name unless it is unchanged. ready: converged with
 * no problem; progressing: this round changed something; degraded: a
 * failure or a condition.
 */
static void write_status_hold(struct bl_ctl *c, struct item *it, const char *kind,
			      const char *name, const struct bl_obj *obj,
			      const struct bl_plan *plan, const struct bl_apply_result *res,
			      int rc, const char *err, const char *hold);

static void write_status(struct bl_ctl *c, struct item *it, const char *kind,
			 const char *name, const struct bl_obj *obj,
			 const struct bl_plan *plan, const struct bl_apply_result *res,
			 int rc, const char *err)
{
	write_status_hold(c, it, kind, name, obj, plan, res, rc, err, NULL);
}

/*
 * hold: not reconciled on purpose (a rollout has not admitted it yet):
 * Ready False with reason AwaitingAdmission and hold as the message.
 */
static void write_status_hold(struct bl_ctl *c, struct item *it, const char *kind,
			      const char *name, const struct bl_obj *obj,
			      const struct bl_plan *plan, const struct bl_apply_result *res,
			      int rc, const char *err, const char *hold)
{
	json_t *st, *conds, *summary, *events;
	char key[512], *body, *cmp, ts[32];
	bool degraded = !hold && (rc < 0 || (plan && plan->nconds > 0));
	bool progressing = !hold && rc == 0 && res && res->done > 0;
	bool ready = !hold && rc == 0 && !degraded && !progressing;
	const char *dreason = hold ? "AwaitingAdmission" : rc < 0 ? "ReconcileFailed" :
			      (plan && plan->nconds ? plan->conds[0].reason : "AsExpected");
	char dmsg[600];
	size_t i;

	if (hold)
		snprintf(dmsg, sizeof(dmsg), "%s", hold);
	else if (rc < 0)
		snprintf(dmsg, sizeof(dmsg), "%s", err && err[0] ? err : bl_strerror(rc));
	else if (plan && plan->nconds)
		snprintf(dmsg, sizeof(dmsg), "%s", plan->conds[0].msg ? plan->conds[0].msg : "");
	else
		dmsg[0] = '\0';

	conds = json_array();
	json_array_append_new(conds, cond("Ready", ready, ready ? "Converged" :
					  progressing ? "Applying" : dreason,
					  ready ? "live state matches the spec" : dmsg));
	json_array_append_new(conds, cond("Progressing", progressing,
					  progressing ? "Applied" : "Idle",
					  progressing ? "changes applied; verifying" : ""));
	json_array_append_new(conds, cond("Degraded", degraded, degraded ? dreason : "AsExpected",
					  degraded ? dmsg : ""));
	summary = json_array();
	for (i = 0; plan && i < plan->n && i < 20; i++)
		json_array_append_new(summary, json_sprintf("%s %s/%s: %s",
					plan->v[i].verb, plan->v[i].kind,
					plan->v[i].object, plan->v[i].desc));
	st = json_pack("{s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:o}, s:{s:I}}",
		       "node", c->o.node,
		       "observedGeneration", (json_int_t)(obj ? obj->generation : 0),
		       "observedResourceVersion", (json_int_t)(obj ? obj->resource_version : 0),
		       "conditions", conds,
		       "lastPlan",
		       "actions", (json_int_t)(plan ? bl_plan_total(plan) : 0),
		       "applied", (json_int_t)(res ? res->done : 0),
		       "failed", (json_int_t)(res ? res->failed : 0),
		       "skipped", (json_int_t)(res ? res->skipped : 0),
		       "summary", summary,
		       "counters", "engineOps", (json_int_t)c->runner.ops);
	if (!st)
		return;
	if (c->obs_refs && !hold)
		json_object_set(st, "observedRefs", c->obs_refs);
	/* Compare without events and times: write only real changes. */
	cmp = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (cmp && it->last_status && !strcmp(cmp, it->last_status)) {
		free(cmp);
		json_decref(st);
		return;
	}
	free(it->last_status);
	it->last_status = cmp;
	events = json_array();
	for (i = 0; i < it->nevents; i++)
		json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:s}",
				"time", it->events[i].time, "type", it->events[i].type,
				"reason", it->events[i].reason, "message", it->events[i].msg));
	json_object_set_new(st, "events", events);
	utc_now(ts, sizeof(ts));
	json_object_set_new(st, "updated", json_string(ts));
	body = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	if (!body)
		return;
	snprintf(key, sizeof(key), "/bollard/v1/status/%s/%s/%s", kind, name, c->o.node);
	if (!c->o.dry_run && bl_etcd_put(c->etcd, key, body, strlen(body), 0, NULL) == 0)
		c->st.status_writes++;
	free(body);
}

/* ---- reconciling ------------------------------------------------------------*/

static void on_report(void *arg, const char *what, const void *data, size_t n);
static int peer_status(void *arg, const char *kind, const char *name,
		       const char *node, char **json);

static void rec_ctx(struct bl_ctl *c, struct bl_rec_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->node = c->o.node;
	ctx->drbd_dir = c->o.drbd_dir;
	ctx->state_dir = c->o.state_dir;
	bl_rec_io_real(&ctx->io);
	ctx->io.run = bl_target_run;
	ctx->io.arg = &c->runner;
	ctx->report = on_report;
	ctx->report_arg = c;
	ctx->peer_status = peer_status;
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
static bool is_leader_of(struct bl_ctl *c, const char *cluster);

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
	if (c->guard_cluster && !is_leader_of(c, c->guard_cluster)) {
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
	struct item *it = item_get(c, key);
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
		logf_(c, "%s: admitted generation: %s", key, bl_strerror(rc));
		return rc;
	}
	/* Creation and deletion are gated too: a governed Target that is new
	 * to its cluster's admission record, or deleted while the record still
	 * names it, is left as it is live until its admission. */
	if (rc == BL_RO_NOT_ADMITTED) {
		logf_(c, "%s: not admitted to its cluster by its rollout yet; left as it is", key);
		write_status_hold(c, it, "Target", name, t, NULL, NULL, 0, NULL,
				  "created or relabelled into a rollout's scope: waits for "
				  "the rollout to admit it to its cluster");
		return 0;
	}
	/* Its admitted creation rolled back on this cluster: the export goes
	 * (as for a deleted Target: LUN data and Volumes are kept). */
	if (rc == BL_RO_ABSENT) {
		const char *tiqn = json_string_value(json_object_get(t->spec, "iqn"));
		logf_(c, "%s: creation rolled back by its rollout; not served", key);
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
			logf_(c, "%s: admission records: %s", key, bl_strerror(rc));
			return rc;
		}
		if (rc > 0)
			logf_(c, "%s: deleted, deletion not admitted by its rollout "
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
			logf_(c, "%s: admitted Secrets: %s", key, bl_strerror(rc));
			free(b.l.v);
			bl_obj_free(admitted);
			bl_objlist_free(&sec_owned);
			return rc;
		}
		/* The IQN may have changed: the old one must go too. */
		if (it->iqn && iqn && strcmp(it->iqn, iqn)) {
			rec_ctx(c, &ctx);
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
	rec_ctx(c, &ctx);
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
		add_event(it, "Warning", "ReconcileFailed", "%s", err);
		logf_(c, "%s: %s", key, err);
	} else if (res.done) {
		add_event(it, "Normal", "Applied", "%zu action(s) applied to the engine", res.done);
		logf_(c, "%s: applied %zu action(s)", key, res.done);
	}
	if (t)
		write_status(c, it, "Target", name, t, &plan, &res, rc, err);
	else if (absent && rc == 0)
		write_status_hold(c, it, "Target", name, absent, NULL, NULL, 0, NULL,
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
		bl_wq_add(c->wq, key, now_ms(), 0);
	return rc;
}

static void after_round(struct bl_ctl *c, const char *key, const char *recname,
			const struct bl_plan *plan, int rc);

/* Every object: drbd and the target sweep run over the whole node. */
static int handle_all(struct bl_ctl *c, const char *key, const char *recname,
		      const char *cluster)
{
	const struct bl_reconciler_ops *ops = bl_reconciler_find(recname);
	struct item *it = item_get(c, key);
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
		logf_(c, "%s: admitted generations: %s", key, bl_strerror(rc));
		bl_objlist_free(&admitted);
		free(b.l.v);
		return rc;
	}
	if (rc > 0) {
		logf_(c, "%s: held: a governed Target's creation waits "
		      "for its admission", key);
		bl_objlist_free(&admitted);
		free(b.l.v);
		return 0;
	}
	rec_ctx(c, &ctx);
	/* The target sweep: its Targets are only read by desired(). */
	rc = run_one(c, ops, &ctx, &b.l, !strcmp(recname, "target"), &plan, &res,
		     err, sizeof(err));
	if (rc < 0) {
		add_event(it, "Warning", "ReconcileFailed", "%s", err);
		logf_(c, "%s: %s", key, err);
	} else if (res.done) {
		logf_(c, "%s: applied %zu action(s)", key, res.done);
	}
	if (cluster) {
		const struct bl_obj *cl = bl_informer_get(c->inf, "Cluster", cluster);
		if (cl)
			write_status(c, it, "Cluster", cluster, cl, &plan, &res, rc, err);
	}
	after_round(c, key, recname, &plan, rc);
	bl_plan_free(&plan);
	free(b.l.v);
	bl_objlist_free(&admitted);
	if (rc == 0 && res.done)
		bl_wq_add(c->wq, key, now_ms(), 0);
	return rc;
}

static void volume_status_poll(struct bl_ctl *c);
static void drbd_live_forget(struct bl_ctl *c);

static bool is_leader_of(struct bl_ctl *c, const char *cluster)
{
	size_t i;
	for (i = 0; i < c->nleaders; i++)
		if (!strcmp(c->leader_cluster[i], cluster))
			return bl_leader_valid(c->leaders[i], now_ms());
	return false;
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
			drbd_live_forget(c);
			c->drbd_status_done = false;
			rc = handle_all(c, key, "drbd", NULL);
			/* No round (held by a rollout, or it failed before
			 * it planned): the status from a look of its own */
			if (!c->drbd_status_done)
				volume_status_poll(c);
			drbd_live_forget(c);
		}
	} else if (!strcmp(key, "drbd-status")) {
		if (!c->o.only || !strcmp(c->o.only, "drbd"))
			volume_status_poll(c);
	} else if (!strncmp(key, "pacemaker/", 10)) {
		const char *cl = key + 10;
		const struct bl_obj *o = bl_informer_get(c->inf, "Cluster", cl);
		const char *ha = o ? json_string_value(json_object_get(o->spec, "ha")) : NULL;
		if ((!c->o.only || !strcmp(c->o.only, "pacemaker")) && ha &&
		    !strcmp(ha, "pacemaker") && is_leader_of(c, cl)) {
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

/* ---- elections and heartbeats -------------------------------------------------*/

static bool node_in(const struct bl_obj *cl, const char *node)
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

/* ---- Volume status: DRBD replication state per node ---------------------*/

/*
 * volume_status.h writes it, from what the DRBD reconciler's observe saw
 * (handed over through ctx->report: one look at DRBD per round, not one
 * for the plan and another for the status). While a resync runs, tick()
 * enqueues "drbd-status" every VOLUME_SYNC_POLL_MS: a cheap look at DRBD's
 * state alone (drbd_live_observe: `drbdsetup status --json`, or /proc/drbd
 * and `drbdsetup show` under 8.4), no plan, no LV or metadata probes, so
 * the percentage moves in etcd without waiting for the periodic resync;
 * once in sync, nothing is polled. (From tick, not a self-enqueue: --once
 * must not wait for a resync.)
 */
#define VOLUME_SYNC_POLL_MS 5000

static void drbd_live_forget(struct bl_ctl *c)
{
	drbd_live_free(c->drbd_live, c->ndrbd_live);
	c->drbd_live = NULL;
	c->ndrbd_live = 0;
	c->drbd_reported = false;
}

static void on_report(void *arg, const char *what, const void *data, size_t n)
{
	struct bl_ctl *c = arg;
	const struct drbd_live *l = data;

	if (strcmp(what, "drbd-live"))
		return;
	drbd_live_forget(c);
	c->drbd_live = calloc(n + 1, sizeof(*c->drbd_live));
	if (!c->drbd_live)
		return;
	for (size_t i = 0; i < n; i++) {
		c->drbd_live[i] = l[i];
		if (!(c->drbd_live[i].name = strdup(l[i].name))) {
			drbd_live_forget(c);
			return;
		}
		c->ndrbd_live = i + 1;
	}
	c->drbd_reported = true;
}

/*
 * After a DRBD round: the status from its observation, and "configured"
 * from its plan when it planned (observe succeeded: a plan failed at
 * apply still lists what it did not finish). A round that planned without
 * asking DRBD (nothing replicated is wanted here) only removes status; one
 * that failed before it asked leaves the status to handle() (a look of its
 * own).
 */
static void volume_status(struct bl_ctl *c, const struct bl_plan *plan, int rc)
{
	bool planned = rc == 0 || plan->n > 0 || plan->nconds > 0;

	if (c->drbd_reported)
		bl_vstatus_write(c->vs, c->drbd_live, c->ndrbd_live,
				 planned ? plan : NULL);
	else if (planned)
		bl_vstatus_prune(c->vs);  /* observe did not ask DRBD: nothing
					   * replicated is wanted here */
	c->drbd_status_done = c->drbd_reported || planned;
	c->next_sync_poll_ms = now_ms() + VOLUME_SYNC_POLL_MS;
}

/*
 * The Pacemaker reconciler holds a DRBD clone back until every node
 * reports its DRBD config rendered (WaitingForPeers, pacemaker_plan.c).
 * Peers' status is not watched here, so a waiting round looks again after
 * PEER_WAIT_POLL_MS, for as long as it waits.
 */
#define PEER_WAIT_POLL_MS 3000

static bool plan_waits_for_peers(const struct bl_plan *plan)
{
	for (size_t i = 0; i < plan->nconds; i++)
		if (!strcmp(plan->conds[i].reason, "WaitingForPeers"))
			return true;
	return false;
}

/* A node-wide round (handle_all) ended: what its plan means beyond it. */
static void after_round(struct bl_ctl *c, const char *key, const char *recname,
			const struct bl_plan *plan, int rc)
{
	if (!strcmp(recname, "drbd"))
		volume_status(c, plan, rc);
	else if (!strcmp(recname, "pacemaker") && !c->o.dry_run &&
		 plan_waits_for_peers(plan))
		bl_wq_add(c->wq, key, now_ms(), PEER_WAIT_POLL_MS);
}

/* A node's status, for the Pacemaker reconciler's gate (ctx->peer_status). */
static int peer_status(void *arg, const char *kind, const char *name,
		       const char *node, char **json)
{
	struct bl_ctl *c = arg;

	return bl_status_read(c->etcd, kind, name, node, json);
}

/* The resync poll: DRBD's state only. */
static void volume_status_poll(struct bl_ctl *c)
{
	struct bl_rec_ctx ctx;

	rec_ctx(c, &ctx);
	bl_vstatus_refresh(c->vs, &ctx);
	c->next_sync_poll_ms = now_ms() + VOLUME_SYNC_POLL_MS;
}

struct clscan {
	struct bl_ctl *c;
	uint64_t now;
	bool hb_due;                /* put the heartbeat keys this tick       */
};

static void heartbeat_and_elect(void *arg, const struct bl_obj *cl)
{
	struct clscan *s = arg;
	struct bl_ctl *c = s->c;
	const char *ha = json_string_value(json_object_get(cl->spec, "ha"));
	char key[400];
	size_t i;

	if (!node_in(cl, c->o.node))
		return;
	/* The key lives as long as its lease: putting it again each tick
	 * (every 250 ms) only cost etcd writes. Put once per lease period
	 * third, which also restores it under a new lease. */
	if (c->hb_lease && s->hb_due) {
		char val[256];
		snprintf(key, sizeof(key), "/bollard/v1/nodes/%s/%s", cl->name, c->o.node);
		snprintf(val, sizeof(val), "{\"node\":\"%s\",\"version\":\"%s\"}",
			 c->o.node, "v1");
		bl_etcd_put(c->etcd, key, val, strlen(val), c->hb_lease, NULL);
	}
	if (!ha || strcmp(ha, "pacemaker"))
		return;
	for (i = 0; i < c->nleaders; i++)
		if (!strcmp(c->leader_cluster[i], cl->name))
			break;
	if (i == c->nleaders) {
		void *l = realloc(c->leaders, (c->nleaders + 1) * sizeof(*c->leaders));
		void *n = l ? realloc(c->leader_cluster, (c->nleaders + 1) * sizeof(char *)) : NULL;
		if (l)
			c->leaders = l;
		if (!n)
			return;
		c->leader_cluster = n;
		snprintf(key, sizeof(key), "/bollard/v1/leader/%s", cl->name);
		c->leaders[i] = bl_leader_new(c->etcd, key, c->o.node, c->o.lease_ttl_s);
		c->leader_cluster[i] = strdup(cl->name);
		if (!c->leaders[i] || !c->leader_cluster[i])
			return;
		/* The lease is kept alive from a thread of its own, so a
		 * reconcile longer than the TTL (a slow node, 10,000 LUNs)
		 * does not cost the leadership; without the thread the
		 * election still works, driven by the loop's ticks. */
		struct bl_etcd_opts eo = bl_ctl_etcd_opts(&c->o);

		if (bl_leader_start_keepalive(c->leaders[i], &eo) < 0)
			fprintf(c->log, "bollardd: cluster %s: no keepalive thread; "
				"the lease is renewed from the loop only\n", cl->name);
		c->nleaders++;
	}
	bool was = bl_leader_is_leader(c->leaders[i]);
	bl_leader_tick(c->leaders[i], s->now);
	if (!was && bl_leader_is_leader(c->leaders[i])) {
		logf_(c, "leader of cluster %s", cl->name);
		enqueue_pacemaker(c, cl->name);
	} else if (was && !bl_leader_is_leader(c->leaders[i])) {
		logf_(c, "lost leadership of cluster %s", cl->name);
	}
}

/* Names only (bl_informer_foreach_name): enqueuing parses nothing. */
static void enqueue_target(void *arg, const char *name)
{
	struct bl_ctl *c = arg;
	char key[300];
	snprintf(key, sizeof(key), "Target/%s", name);
	enqueue(c, key);
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
		pending_ref_add(c, "Cluster", cluster);
	else
		bl_informer_foreach_name(c->inf, "Target", enqueue_target, c);
	for (size_t i = 0; i < c->nitems; i++)
		if (!strncmp(c->items[i].key, "Target/", 7) &&
		    !bl_informer_cluster(c->inf, "Target", c->items[i].key + 7))
			enqueue(c, c->items[i].key);
	enqueue(c, "drbd");
	enqueue(c, "sweep");
	for (size_t i = 0; i < c->nleaders; i++)
		enqueue_pacemaker(c, c->leader_cluster[i]);
}

static void tick(struct bl_ctl *c, uint64_t now)
{
	struct clscan s = { c, now, now >= c->next_hb_ms };
	int64_t ttl;

	if (c->hbk) {
		/* The thread renews it; a new lease means every key bound to
		 * the old one is gone: put them again now. */
		uint64_t ch;

		c->hb_lease = bl_hb_lease_get(c->hbk, &ch);
		if (ch != c->hb_changes) {
			c->hb_changes = ch;
			s.hb_due = true;
		}
		if (s.hb_due) {
			bl_vstatus_set_lease(c->vs, c->hb_lease, true);
			c->next_hb_ms = now + c->o.lease_ttl_s * 1000 / 3;
		}
	} else if (s.hb_due) {
		/* No thread (it could not start): renewed from the loop. */
		if (c->hb_lease && (bl_etcd_lease_keepalive(c->etcd, c->hb_lease, &ttl) < 0 ||
				    ttl <= 0))
			c->hb_lease = 0;
		if (!c->hb_lease)
			bl_etcd_lease_grant(c->etcd, c->o.lease_ttl_s, &c->hb_lease);
		/* Volume status lives with the heartbeat (volume_status.h). */
		bl_vstatus_set_lease(c->vs, c->hb_lease, true);
		c->next_hb_ms = now + c->o.lease_ttl_s * 1000 / 3;
	}
	bl_informer_foreach(c->inf, "Cluster", heartbeat_and_elect, &s);
	if (c->fleet)
		bl_fleet_tick(c->fleet, now);   /* controller/rollout/ */
	if (bl_vstatus_syncing(c->vs) && now >= c->next_sync_poll_ms) {
		enqueue(c, "drbd-status");      /* resync progress, no plan */
		c->next_sync_poll_ms = now + VOLUME_SYNC_POLL_MS;
	}
	if (now >= c->next_resync_ms) {
		/* Periodic resync: every item again (drift, missed events). */
		bl_informer_foreach_name(c->inf, "Target", enqueue_target, c);
		for (size_t i = 0; i < c->nitems; i++)
			if (!strncmp(c->items[i].key, "Target/", 7))
				enqueue(c, c->items[i].key);
		enqueue(c, "drbd");
		enqueue(c, "sweep");
		for (size_t i = 0; i < c->nleaders; i++)
			enqueue_pacemaker(c, c->leader_cluster[i]);
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
		logf_(c, "BOLLARD_FAULT=%s: malformed", o->fault);
		goto fail;
	}
	eo = bl_ctl_etcd_opts(o);
	eo.errbuf = why;
	eo.errlen = sizeof(why);
	rc = bl_etcd_open(&eo, &c->etcd);
	if (rc < 0) {
		logf_(c, "etcd %s: %s%s%s", o->etcd, bl_strerror(rc),
		      *why ? ": " : "", why);
		goto fail;
	}
	memlog(c, "before list");
	rc = bl_informer_start(c->inf, c->etcd);
	memlog(c, "listed");
	if (rc < 0) {
		logf_(c, "etcd %s: list/watch: %s: %s", o->etcd, bl_strerror(rc),
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
	enqueue(c, "drbd");
	enqueue(c, "sweep");
	c->next_resync_ms = now_ms() + (uint64_t)c->o.resync_s * 1000;
	logf_(c, "watching %s (revision %lld, %zu objects)", o->etcd,
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
	drbd_live_forget(c);
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
			logf_(c, "heartbeat lease: no keepalive thread (%s); renewed "
			      "from the loop", bl_strerror(rc));
	}
	while (!*stop) {
		uint64_t now = now_ms(), wait = UINT64_MAX;
		const char *key;
		bool worked = false;
		int timeout;

		bl_etcd_dispatch(c->etcd, 0);
		if (!once)
			tick(c, now);
		/* Drain what is ready; the watch is checked between items so a
		 * burst of changes keeps merging in the queue. */
		while (!*stop && (key = bl_wq_get(c->wq, now_ms(), &wait)) != NULL) {
			char *k = strdup(key);
			memlog(c, k);
			enum bl_wq_result r = handle(c, k);
			memlog(c, "handled");
			worked = true;
			bl_wq_done(c->wq, k, r, now_ms());
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
