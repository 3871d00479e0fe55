/*
 * ctl_status.c - what bollardd writes about its work (controller.h, "Status"):
 * each work item's memory (last status written, events), the status of
 * Targets and Clusters, and the glue between a DRBD or Pacemaker round and
 * the Volume status (volume_status.h). Split from controller.c, whose loop
 * calls it (ctl_int.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "daemon/ctl_int.h"
#include "daemon/volume_status.h"
#include "daemon/workqueue.h"
#include "drbd_int.h"
#include "reconciler.h"

/* ---- work items' memory -----------------------------------------------------*/

void ctl_utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct item *ctl_item_get(struct bl_ctl *c, const char *key)
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

void ctl_add_event(struct item *it, const char *type, const char *reason,
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
	ctl_utc_now(e->time, sizeof(e->time));
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
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
void ctl_write_status(struct bl_ctl *c, struct item *it, const char *kind,
			 const char *name, const struct bl_obj *obj,
			 const struct bl_plan *plan, const struct bl_apply_result *res,
			 int rc, const char *err)
{
	ctl_write_status_hold(c, it, kind, name, obj, plan, res, rc, err, NULL);
}

/*
 * hold: not reconciled on purpose (a rollout has not admitted it yet):
 * Ready False with reason AwaitingAdmission and hold as the message.
 */
void ctl_write_status_hold(struct bl_ctl *c, struct item *it, const char *kind,
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
	ctl_utc_now(ts, sizeof(ts));
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

/* ---- Volume status: DRBD replication state per node ---------------------*/

/*
 * volume_status.h writes it, from what the DRBD reconciler's observe saw
 * (handed over through ctx->report: one look at DRBD per round, not one
 * for the plan and another for the status). While a resync runs, tick()
 * enqueues "drbd-status" every VOLUME_SYNC_POLL_MS: a cheap look at DRBD's
 * state alone (drbd_live_observe: `drbdsetup status --json`, or /proc/drbd
 * and `drbdsetup show` under 8.4), no plan, no LV or metadata probes, so
 * the percentage moves in etcd without waiting for the periodic resync;
 * once in sync, nothing is polled. (From tick, not a self-ctl_enqueue: --once
 * must not wait for a resync.)
 */
#define VOLUME_SYNC_POLL_MS 5000

void ctl_drbd_live_forget(struct bl_ctl *c)
{
	drbd_live_free(c->drbd_live, c->ndrbd_live);
	c->drbd_live = NULL;
	c->ndrbd_live = 0;
	c->drbd_reported = false;
}

void ctl_on_report(void *arg, const char *what, const void *data, size_t n)
{
	struct bl_ctl *c = arg;
	const struct drbd_live *l = data;

	if (strcmp(what, "drbd-live"))
		return;
	ctl_drbd_live_forget(c);
	c->drbd_live = calloc(n + 1, sizeof(*c->drbd_live));
	if (!c->drbd_live)
		return;
	for (size_t i = 0; i < n; i++) {
		c->drbd_live[i] = l[i];
		if (!(c->drbd_live[i].name = strdup(l[i].name))) {
			ctl_drbd_live_forget(c);
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
	c->next_sync_poll_ms = bl_now_ms() + VOLUME_SYNC_POLL_MS;
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
void ctl_after_round(struct bl_ctl *c, const char *key, const char *recname,
			const struct bl_plan *plan, int rc)
{
	if (!strcmp(recname, "drbd"))
		volume_status(c, plan, rc);
	else if (!strcmp(recname, "pacemaker") && !c->o.dry_run &&
		 plan_waits_for_peers(plan))
		bl_wq_add(c->wq, key, bl_now_ms(), PEER_WAIT_POLL_MS);
}

/* A node's status, for the Pacemaker reconciler's gate (ctx->peer_status). */
int ctl_peer_status(void *arg, const char *kind, const char *name,
		       const char *node, char **json)
{
	struct bl_ctl *c = arg;

	return bl_status_read(c->etcd, kind, name, node, json);
}

/* The resync poll: DRBD's state only. */
void ctl_volume_status_poll(struct bl_ctl *c)
{
	struct bl_rec_ctx ctx;

	ctl_rec_ctx(c, &ctx);
	bl_vstatus_refresh(c->vs, &ctx);
	c->next_sync_poll_ms = bl_now_ms() + VOLUME_SYNC_POLL_MS;
}

/* tick(): while a resync runs, its progress every VOLUME_SYNC_POLL_MS. */
void ctl_volume_status_tick(struct bl_ctl *c, uint64_t now)
{
	if (bl_vstatus_syncing(c->vs) && now >= c->next_sync_poll_ms) {
		ctl_enqueue(c, "drbd-status");      /* resync progress, no plan */
		c->next_sync_poll_ms = now + VOLUME_SYNC_POLL_MS;
	}
}
