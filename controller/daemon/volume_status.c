/*
 * volume_status.c - per-node Volume status (see volume_status.h).
 *
 * Memory per Volume: the status last wanted (compact JSON without the
 * "updated" time, so equal states compare equal), whether it is in etcd,
 * and under which lease. "Unchanged" is then a string comparison and an
 * unchanged state costs no etcd write, however often DRBD is looked at.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "daemon/informer.h"
#include "daemon/volume_status.h"
#include "drbd_int.h"
#include "reconciler.h"

struct vs_entry {
	char *name;                 /* Volume name                            */
	char *cur;                  /* last status wanted (no time), or NULL  */
	bool written;               /* cur is in etcd ...                     */
	int64_t lease;              /* ... under this lease                   */
	int configured;             /* drbd_plan_configured of the last DRBD
	                             * round that planned; -1: none yet      */
};

struct bl_vstatus {
	struct bl_vstatus_opts o;
	struct vs_entry *v;
	size_t n, cap;
	int64_t lease;
	bool lease_required;
	bool syncing;
	struct bl_vstatus_stats st;
};

static void vs_log(struct bl_vstatus *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void vs_log(struct bl_vstatus *v, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(v->o.log, "%s bollardd[%s]: volume status: ", ts, v->o.node);
	va_start(ap, fmt);
	vfprintf(v->o.log, fmt, ap);
	va_end(ap);
	fputc('\n', v->o.log);
	fflush(v->o.log);
}

int bl_vstatus_new(const struct bl_vstatus_opts *o, struct bl_vstatus **out)
{
	struct bl_vstatus *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->o = *o;
	if (!v->o.log)
		v->o.log = stderr;
	v->lease_required = true;
	*out = v;
	return 0;
}

void bl_vstatus_free(struct bl_vstatus *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].name);
		free(v->v[i].cur);
	}
	free(v->v);
	free(v);
}

static struct vs_entry *entry_get(struct bl_vstatus *v, const char *name)
{
	struct vs_entry *e;

	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i].name, name))
			return &v->v[i];
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct vs_entry *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	e = &v->v[v->n];
	memset(e, 0, sizeof(*e));
	e->configured = -1;
	if (!(e->name = strdup(name)))
		return NULL;
	v->n++;
	return e;
}

static void status_key(const struct bl_vstatus *v, const char *name,
		       char *key, size_t len)
{
	snprintf(key, len, "/bollard/v1/status/Volume/%s/%s", name, v->o.node);
}

/* Put e->cur (plus the time) under the current lease. */
static int entry_put(struct bl_vstatus *v, struct vs_entry *e)
{
	char key[512], ts[32], *body;
	time_t t = time(NULL);
	struct tm tm;
	json_t *st;
	int rc;

	if (v->o.dry_run || (v->lease_required && !v->lease))
		return -EAGAIN;         /* written once there is a lease */
	st = json_loads(e->cur, 0, NULL);
	if (!st)
		return -ENOMEM;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(st, "updated", json_string(ts));
	body = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	if (!body)
		return -ENOMEM;
	status_key(v, e->name, key, sizeof(key));
	rc = bl_etcd_put(v->o.etcd, key, body, strlen(body), v->lease, NULL);
	free(body);
	if (rc == 0) {
		e->written = true;
		e->lease = v->lease;
		v->st.writes++;
	}
	return rc;
}

void bl_vstatus_set_lease(struct bl_vstatus *v, int64_t lease, bool required)
{
	bool changed = lease != v->lease || required != v->lease_required;

	v->lease = lease;
	v->lease_required = required;
	if (!changed || (required && !lease))
		return;
	/* Keys under the old lease went with it: put them again. */
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].cur && (!v->v[i].written || v->v[i].lease != lease))
			entry_put(v, &v->v[i]);
}

/* Replicated, and its Cluster has this node. */
static bool replicated_here(const struct bl_vstatus *v, const struct bl_obj *vol)
{
	const struct bl_obj *cl;

	if (!vol || !json_is_object(json_object_get(vol->spec, "replication")))
		return false;
	cl = bl_informer_get(v->o.inf, "Cluster",
			     json_string_value(json_object_get(vol->spec, "cluster")) ?: "");
	return cl && bl_cluster_has_node(cl, v->o.node);
}

static json_t *cond(const char *type, bool status, const char *reason,
		    const char *msg)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status",
			 status ? "True" : "False", "reason", reason, "message",
			 msg ? msg : "");
}

/* hold: a rollout has not admitted the Volume to its cluster yet. */
static json_t *volume_drbd_status(const struct bl_vstatus *v,
				  const struct bl_obj *vol,
				  const struct drbd_live *l, int configured,
				  bool hold)
{
	bool syncing = l && l->sync_pct >= 0;
	bool conn_ok = l && (!l->conn[0] || !strcmp(l->conn, "Connected"));
	bool ready = l && !syncing && conn_ok && !strcmp(l->disk, "UpToDate") &&
		     (!l->peer_disk[0] || !strcmp(l->peer_disk, "UpToDate"));
	const char *reason = ready ? "Converged" : !l ? "NotConfigured" :
			     syncing ? "Resyncing" : !conn_ok ? "Disconnected" :
			     strcmp(l->disk, "UpToDate") ? "DiskNotUpToDate" :
			     "PeerDiskNotUpToDate";
	char msg[256];
	json_t *conds, *d;

	if (!l)
		snprintf(msg, sizeof(msg), "no live DRBD resource " DRBD_RES_PREFIX "%s",
			 vol->name);
	else if (syncing)
		snprintf(msg, sizeof(msg), "resync %s: %d%% in sync",
			 l->repl[0] ? l->repl : l->conn, l->sync_pct);
	else
		snprintf(msg, sizeof(msg), "%s, disk %s, peer disk %s",
			 l->conn[0] ? l->conn : "no peer", l->disk,
			 l->peer_disk[0] ? l->peer_disk : "-");
	if (hold) {
		ready = false;
		reason = "AwaitingAdmission";
		snprintf(msg, sizeof(msg), "created or relabelled into a rollout's "
			 "scope: waits for the rollout to admit it to its cluster");
	}
	conds = json_array();
	json_array_append_new(conds, cond("Ready", ready, reason, msg));
	json_array_append_new(conds, cond("Progressing", syncing,
					  syncing ? "Resyncing" : "Idle",
					  syncing ? msg : ""));
	json_array_append_new(conds, cond("Degraded", !ready && !syncing,
					  ready || syncing ? "AsExpected" : reason,
					  ready || syncing ? "" : msg));
	d = json_object();
	if (l) {
		json_object_set_new(d, "role", json_string(l->role));
		json_object_set_new(d, "diskState", json_string(l->disk));
		if (l->conn[0])
			json_object_set_new(d, "connectionState", json_string(l->conn));
		if (l->repl[0])
			json_object_set_new(d, "replicationState", json_string(l->repl));
		if (l->peer_disk[0])
			json_object_set_new(d, "peerDiskState", json_string(l->peer_disk));
		if (syncing)
			json_object_set_new(d, "syncPercent", json_integer(l->sync_pct));
	} else {
		json_object_set_new(d, "diskState", json_string("Unconfigured"));
	}
	/* What the Pacemaker reconciler waits for on every node before it
	 * adds this Volume's DRBD clone (pacemaker.c). */
	if (configured >= 0)
		json_object_set_new(d, "configured", json_boolean(configured));
	return json_pack("{s:s, s:I, s:I, s:o, s:o}", "node", v->o.node,
			 "observedGeneration", (json_int_t)(hold ? 0 : vol->generation),
			 "observedResourceVersion", (json_int_t)vol->resource_version,
			 "conditions", conds, "drbd", d);
}

/* Remember st (consumed) for name and put it unless it is what etcd has. */
static void volume_put(struct bl_vstatus *v, const char *name, json_t *st)
{
	struct vs_entry *e = st ? entry_get(v, name) : NULL;
	char *cmp;

	if (!e) {
		json_decref(st);
		return;
	}
	cmp = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	if (!cmp)
		return;
	if (e->cur && !strcmp(cmp, e->cur) && e->written && e->lease == v->lease) {
		free(cmp);
		return;
	}
	free(e->cur);
	e->cur = cmp;
	e->written = false;
	entry_put(v, e);
}

struct vlist {
	const struct bl_obj **v;
	size_t n, cap;
};

static void vlist_add(void *arg, const struct bl_obj *o)
{
	struct vlist *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		const struct bl_obj **nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = o;
}

/* This node's status of Volumes no longer replicated here goes. */
static void remove_gone(struct bl_vstatus *v)
{
	for (size_t i = 0; i < v->n;) {
		struct vs_entry *e = &v->v[i];
		char key[512];

		if (replicated_here(v, bl_informer_get(v->o.inf, "Volume", e->name))) {
			i++;
			continue;
		}
		status_key(v, e->name, key, sizeof(key));
		if (!v->o.dry_run && e->written &&
		    bl_etcd_delete(v->o.etcd, key, false, NULL, NULL) < 0) {
			i++;        /* tried again next time */
			continue;
		}
		if (e->written)
			v->st.writes++;
		free(e->name);
		free(e->cur);
		v->v[i] = v->v[--v->n];
	}
}

/* The replicated Volumes of this node, borrowed from the cache. */
static void mine(struct bl_vstatus *v, struct vlist *l)
{
	size_t k = 0;

	bl_informer_foreach(v->o.inf, "Volume", vlist_add, l);
	for (size_t i = 0; i < l->n; i++)
		if (replicated_here(v, l->v[i]))
			l->v[k++] = l->v[i];
	l->n = k;
}

void bl_vstatus_write(struct bl_vstatus *v, const struct drbd_live *live,
		      size_t nlive, const struct bl_plan *plan)
{
	struct vlist l = { 0 };
	bool syncing = false;

	if (v->o.dry_run)
		return;
	remove_gone(v);
	mine(v, &l);
	for (size_t i = 0; i < l.n; i++) {
		const struct bl_obj *vol = l.v[i];
		const struct drbd_live *d = NULL;
		struct bl_obj *adm = NULL;
		char rname[300];
		int arc = v->o.admitted ? v->o.admitted(v->o.etcd, v->o.inf, vol, &adm) : 0;

		if (arc < 0) {
			vs_log(v, "%s: admitted generation: %s; status left as it was",
			       vol->name, bl_strerror(arc));
			continue;
		}

		snprintf(rname, sizeof(rname), DRBD_RES_PREFIX "%s", vol->name);
		for (size_t j = 0; j < nlive && !d; j++)
			if (!strcmp(live[j].name, rname))
				d = &live[j];
		struct vs_entry *e = entry_get(v, vol->name);

		if (!e) {
			bl_obj_free(adm);
			continue;
		}
		if (plan)
			e->configured = drbd_plan_configured(plan, vol->name);
		syncing |= d && d->sync_pct >= 0;
		/* The generation the DRBD round reconciled: the admitted one. */
		volume_put(v, vol->name, volume_drbd_status(v, adm ? adm : vol, d,
							    e->configured, arc > 0));
		bl_obj_free(adm);
	}
	v->syncing = syncing;
	free(l.v);
}

void bl_vstatus_prune(struct bl_vstatus *v)
{
	if (!v->o.dry_run)
		remove_gone(v);
}

int bl_vstatus_refresh(struct bl_vstatus *v, struct bl_rec_ctx *ctx)
{
	struct drbd_live *live = NULL;
	struct vlist l = { 0 };
	size_t nlive = 0;
	int rc;

	if (v->o.dry_run)
		return 0;
	v->st.refreshes++;
	mine(v, &l);
	free(l.v);
	if (l.n == 0) {             /* nothing replicated here: no DRBD to ask */
		remove_gone(v);
		v->syncing = false;
		return 0;
	}
	rc = drbd_live_observe(ctx, &live, &nlive);
	if (rc < 0) {
		vs_log(v, "%s%s%s", bl_strerror(rc), ctx->err[0] ? ": " : "",
		       ctx->err);
		v->syncing = false;
		return rc;
	}
	bl_vstatus_write(v, live, nlive, NULL);
	drbd_live_free(live, nlive);
	return 0;
}

int bl_status_read(void *etcd, const char *kind, const char *name,
		   const char *node, char **json)
{
	struct bl_kvs kvs = { 0 };
	char key[600];
	int rc;

	snprintf(key, sizeof(key), "/bollard/v1/status/%s/%s/%s", kind, name, node);
	rc = bl_etcd_get(etcd, key, false, 1, 0, false, &kvs);
	if (rc == 0 && kvs.n == 0)
		rc = -ENOENT;
	if (rc == 0 && !(*json = strndup(kvs.kvs[0].value, kvs.kvs[0].value_len)))
		rc = -ENOMEM;
	bl_kvs_free(&kvs);
	return rc;
}

bool bl_vstatus_syncing(const struct bl_vstatus *v)
{
	return v->syncing;
}

void bl_vstatus_stats(const struct bl_vstatus *v, struct bl_vstatus_stats *s)
{
	*s = v->st;
}
