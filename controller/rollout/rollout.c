/*
 * rollout.c - the fleet controller: one per fleet, elected on
 * /bollard/v1/leader/-fleet- (leader.h), driving every Rollout.
 *
 * Why polling rounds rather than watches: a round reads four prefixes
 * (objects come from the informer; node heartbeats, Target status, the
 * rollout's records) and decides from them alone, level-triggered like the
 * reconcilers. The whole decision state is persisted in the rollout's
 * status key, and admissions are written before the status, so a new
 * leader or a restarted controller resumes exactly where the last round
 * left off: a cluster whose admission was written but whose status was
 * not is recognised (Pending, yet its record already equals the newest)
 * and carried on as Progressing from the record's "since", never admitted
 * twice. With a few hundred clusters a round is a few hundred kB of reads
 * every period (250 ms by default): the Target status and the records; its
 * own status is read back only when another writer moved it
 * (status_load).
 *
 * Status JSON, built whole here, stored split by status_store.c (the
 * summary at /bollard/v1/rollouts/<name>/status, each "clusters" entry at
 * .../clusters/<cluster>), each key written only when it changes:
 *   {"observedGeneration":g, "revision":"<hex of newest generations>",
 *    "phase":"Progressing|Paused|Complete|Halted|RolledBack", "reason":..,
 *    "wave":k, "total":n, "updated":healthy,
 *    "waves":[{"size","admitted","inProgress","healthy","failed"}],
 *    "clusters":[{"name","state","inPlan","online","ready","reason",
 *                 "admittedAt","readySince","lastTransition" (ms),
 *                 "lastTransitionTime" (RFC 3339),"revision":{obj:gen}}]}
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_time.h"
#include "daemon/informer.h"
#include "daemon/leader.h"
#include "rollout/rollout.h"

struct hist {
	char *key;                      /* "Kind/name"                    */
	int64_t gen;                    /* last generation written        */
	uint64_t seen;                  /* the last round that found it
	                                 * governed (history_gc)          */
};

/* The status this leader last wrote for one rollout (status_store.c). */
struct stcache {
	char *name;
	int64_t rev;                    /* the summary's mod_revision      */
	json_t *st;                     /* with "clusters"                 */
};

struct bl_fleet {
	struct bl_fleet_opts o;
	FILE *log;
	struct bl_leader *leader;
	bool leading;
	uint64_t next_round_ms;
	struct hist *h;
	size_t nh, caph;
	uint64_t round;                 /* rounds run, for hist.seen       */
	struct stcache *sc;
	size_t nsc;
	uint64_t ro_names;              /* hash of the Rollouts' names     */
	uint64_t next_gc_deleted_ms;    /* gc_deleted's next pass          */
	uint64_t next_gc_ms;            /* history_gc's next pass          */
};

/* Sorted string sets/maps for one round's observations. */
struct strv {
	char **k;
	json_t **v;                     /* NULL for sets                  */
	size_t n;
};

struct round {
	struct bl_fleet *f;
	struct strv nodes;              /* "cluster/node"                 */
	struct strv status;             /* "target/node" -> status JSON   */
	struct strv vstatus;            /* "volume/node" -> status JSON,
	                                 * read only when a rollout governs
	                                 * a replicated Volume            */
	bool volumes;                   /* history_one saw one            */
	int64_t now;
};

static void logf_(struct bl_fleet *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct bl_fleet *f, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	bl_ro_format_time(bl_ro_wall_ms(), ts, sizeof(ts));
	fprintf(f->log, "%s fleet[%s]: ", ts, f->o.id);
	va_start(ap, fmt);
	vfprintf(f->log, fmt, ap);
	va_end(ap);
	fputc('\n', f->log);
	fflush(f->log);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->k[i]);
		if (s->v)
			json_decref(s->v[i]);
	}
	free(s->k);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static ssize_t strv_find(const struct strv *s, const char *k)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->k[mid], k);
		if (!c)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Keys under prefix (suffixes; etcd returns them sorted), optionally
 * with parsed values. */
static int strv_load(struct bl_etcd *e, const char *prefix, bool values,
		     struct strv *s)
{
	struct bl_kvs kvs = { 0 };
	size_t plen = strlen(prefix);
	int rc = bl_etcd_get(e, prefix, true, 0, 0, !values, &kvs);

	memset(s, 0, sizeof(*s));
	if (rc < 0)
		return rc;
	s->k = calloc(kvs.n + 1, sizeof(*s->k));
	s->v = values ? calloc(kvs.n + 1, sizeof(*s->v)) : NULL;
	if (!s->k || (values && !s->v)) {
		bl_kvs_free(&kvs);
		strv_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < kvs.n; i++) {
		s->k[s->n] = strdup(kvs.kvs[i].key + plen);
		if (!s->k[s->n])
			break;
		if (values)
			s->v[s->n] = json_loadb(kvs.kvs[i].value, kvs.kvs[i].value_len, 0, NULL);
		s->n++;
	}
	bl_kvs_free(&kvs);
	/* etcd sorts bytewise, as strcmp does */
	return 0;
}

/* ---- history -------------------------------------------------------------*/

static struct hist *hist_get(struct bl_fleet *f, const char *key)
{
	for (size_t i = 0; i < f->nh; i++)
		if (!strcmp(f->h[i].key, key))
			return &f->h[i];
	if (f->nh == f->caph) {
		size_t cap = f->caph ? f->caph * 2 : 64;
		struct hist *v = realloc(f->h, cap * sizeof(*v));
		if (!v)
			return NULL;
		f->h = v;
		f->caph = cap;
	}
	f->h[f->nh].key = strdup(key);
	f->h[f->nh].gen = 0;
	f->h[f->nh].seen = 0;
	return f->h[f->nh].key ? &f->h[f->nh++] : NULL;
}

struct govscan {
	const struct bl_informer *inf;
	const struct bl_obj *cl, *obj;
	bool governed;
};

static void gov_one(void *arg, const struct bl_obj *ro)
{
	struct govscan *g = arg;
	g->governed = g->governed || bl_ro_governs(ro, g->cl, g->obj);
}

/* Write o's generation to the history once, and prune what is older than
 * the last BL_RO_HISTORY_KEEP generations. */
static void history_put(struct bl_fleet *f, const struct bl_obj *o)
{
	char key[300], hkey[600];
	struct hist *h;
	char *body;
	struct bl_kvs kvs = { 0 };

	snprintf(key, sizeof(key), "%s/%s", o->kind, o->name);
	h = hist_get(f, key);
	if (h)
		h->seen = f->round;
	if (!h || h->gen == o->generation || o->generation <= 0)
		return;
	body = bl_obj_to_json(o);
	if (!body)
		return;
	snprintf(hkey, sizeof(hkey), "%s%s/%s/%lld", BL_RO_KEY_HISTORY, o->kind,
		 o->name, (long long)o->generation);
	if (bl_etcd_put(f->o.etcd, hkey, body, strlen(body), 0, NULL) == 0)
		h->gen = o->generation;
	free(body);
	/* Bound it: drop generations older than the last KEEP. */
	snprintf(hkey, sizeof(hkey), "%s%s/%s/", BL_RO_KEY_HISTORY, o->kind, o->name);
	if (bl_etcd_get(f->o.etcd, hkey, true, 0, 0, true, &kvs) < 0)
		return;
	for (size_t i = 0; i < kvs.n; i++) {
		long long hg = atoll(kvs.kvs[i].key + strlen(hkey));
		if (hg <= o->generation - BL_RO_HISTORY_KEEP)
			bl_etcd_delete(f->o.etcd, kvs.kvs[i].key, false, NULL, NULL);
	}
	bl_kvs_free(&kvs);
}

/*
 * What the history holds, learnt in one keys-only range at the start of a
 * term: per object, the newest generation kept. Only a generation newer
 * than that is written (instead of every governed object's current one
 * again: a leader that lost its lease for a moment under load rewrote
 * 2 requests per object, 2,000 for 1,000 Targets, at each new term). On an
 * error everything is written again, as a fresh controller would.
 */
static void history_learn(struct bl_fleet *f)
{
	struct bl_kvs kvs = { 0 };
	const size_t plen = strlen(BL_RO_KEY_HISTORY);

	for (size_t i = 0; i < f->nh; i++)
		f->h[i].gen = 0;
	if (bl_etcd_get(f->o.etcd, BL_RO_KEY_HISTORY, true, 0, 0, true, &kvs) < 0)
		return;
	for (size_t i = 0; i < kvs.n; i++) {
		const char *k = kvs.kvs[i].key + plen, *last = strrchr(k, '/');
		char obj[300];
		struct hist *h;
		long long g;

		if (!last || (size_t)(last - k) >= sizeof(obj))
			continue;
		memcpy(obj, k, (size_t)(last - k));
		obj[last - k] = '\0';
		g = atoll(last + 1);
		if ((h = hist_get(f, obj)) && g > h->gen)
			h->gen = g;
	}
	bl_kvs_free(&kvs);
}

static int history_secret(void *arg, const char *kind, const char *name,
			  const char *path)
{
	struct bl_fleet *f = arg;
	const struct bl_obj *sec;

	(void)path;
	if (!strcmp(kind, "Secret") && (sec = bl_informer_get(f->o.inf, "Secret", name)))
		history_put(f, sec);
	return 0;
}

/* History is kept for governed objects only (and the Secrets they use):
 * nothing is written for a fleet without rollouts. The baseline generation
 * is written in the first round that sees the Rollout, before any newer
 * one can be admitted. */
static void history_one(void *arg, const struct bl_obj *o)
{
	struct round *r = arg;
	struct bl_fleet *f = r->f;
	const char *cn = json_string_value(json_object_get(o->spec, "cluster"));
	struct govscan g = { f->o.inf, NULL, o, false };

	g.cl = cn ? bl_informer_get(f->o.inf, "Cluster", cn) : NULL;
	if (!g.cl)
		return;
	bl_informer_foreach(f->o.inf, "Rollout", gov_one, &g);
	if (!g.governed)
		return;
	if (!strcmp(o->kind, "Volume") &&
	    json_is_object(json_object_get(o->spec, "replication")))
		r->volumes = true;
	history_put(f, o);
	bl_obj_foreach_ref(o, history_secret, f);
}

/*
 * Pruning the history of objects no rollout can return to.
 *
 * history_put bounds every object it sees governed to its last
 * BL_RO_HISTORY_KEEP generations. An object it no longer sees governed (it
 * was deleted, relabelled out of scope, or its Rollout went) is not pruned
 * there, and while some admission record names it, it must not be: a
 * deletion not admitted yet is served from its kept copy, a record's
 * "previous" is what a rollback or an undo returns to, and "absent" is
 * what undo re-creates from. Once no record of any Rollout names it
 * (objects, previous or absent), nothing can return to it: its whole
 * history goes. If it becomes governed again, the round that sees it
 * writes its current generation again, as for a new object.
 *
 * The candidates are the objects of f->h (every object this leader wrote
 * or found in the history at the start of its term) that the last round
 * did not see governed: none in a steady fleet, and then nothing is read.
 * With candidates, the records are read once per Rollout (one range each)
 * at most every HISTORY_GC_MS. Names only: the history key of a Kind/name
 * is a prefix delete.
 */
#define HISTORY_GC_MS 5000

static void record_names(json_t *names, json_t *rec)
{
	static const char *const sets[] = { "objects", "previous", "absent" };
	json_t *v;
	const char *k;

	for (size_t i = 0; i < 3; i++)
		json_object_foreach(json_object_get(rec, sets[i]), k, v)
			json_object_set_new(names, k, json_true());
}

struct gcscan {
	struct bl_fleet *f;
	json_t *names;
	int rc;
};

static void gc_records(void *arg, const struct bl_obj *ro)
{
	struct gcscan *g = arg;
	struct bl_kvs kvs = { 0 };
	char prefix[400];

	if (g->rc < 0)
		return;
	snprintf(prefix, sizeof(prefix), "%s%s/admitted/", BL_RO_KEY_ROLLOUTS, ro->name);
	g->rc = bl_etcd_get(g->f->o.etcd, prefix, true, 0, 0, false, &kvs);
	for (size_t i = 0; g->rc == 0 && i < kvs.n; i++) {
		json_t *rec = json_loadb(kvs.kvs[i].value, kvs.kvs[i].value_len, 0, NULL);
		record_names(g->names, rec);
		json_decref(rec);
	}
	bl_kvs_free(&kvs);
}

static void history_gc(struct bl_fleet *f, uint64_t now_ms)
{
	struct gcscan g = { .f = f };
	size_t cand = 0;

	for (size_t i = 0; i < f->nh; i++)
		cand += f->h[i].seen != f->round;
	if (!cand || now_ms < f->next_gc_ms)
		return;
	f->next_gc_ms = now_ms + HISTORY_GC_MS;
	g.names = json_object();
	if (!g.names)
		return;
	bl_informer_foreach(f->o.inf, "Rollout", gc_records, &g);
	if (g.rc < 0) {
		json_decref(g.names);
		return;         /* a record unread: keep everything */
	}
	for (size_t i = 0; i < f->nh;) {
		struct hist *h = &f->h[i];
		char prefix[600];

		if (h->seen == f->round || json_object_get(g.names, h->key)) {
			i++;
			continue;
		}
		snprintf(prefix, sizeof(prefix), "%s%s/", BL_RO_KEY_HISTORY, h->key);
		if (bl_etcd_delete(f->o.etcd, prefix, true, NULL, NULL) < 0) {
			i++;    /* tried again at the next pass */
			continue;
		}
		logf_(f, "history of %s removed: no rollout governs it or can "
		      "return to it", h->key);
		free(h->key);
		f->h[i] = f->h[--f->nh];
	}
	json_decref(g.names);
}

/* ---- one rollout -----------------------------------------------------------*/

struct cl {
	const struct bl_obj *obj;
	json_t *desired;                /* {"Target/x": gen} governed now  */
	json_t *users;                  /* {"Secret/s": ["t1",..]}: the
	                                 * governed Targets using it here  */
	json_t *rec;                    /* admission record (owned)        */
	json_t *rec_raw_objects;        /* borrowed from rec               */
};

struct gather {
	const struct bl_obj *ro;
	struct cl *cl;
	size_t n, cap;
	const struct bl_informer *inf;
	const struct bl_obj *t;         /* earlier_one's arguments         */
	const struct cl *c;
	bool earlier;
};

static void earlier_one(void *arg, const struct bl_obj *ro)
{
	struct gather *g = arg;
	if (strcmp(ro->name, g->ro->name) < 0 && bl_ro_governs(ro, g->c->obj, g->t))
		g->earlier = true;
}

static void gather_cluster(void *arg, const struct bl_obj *o)
{
	struct gather *g = arg;
	if (!bl_ro_selector_match(json_object_get(g->ro->spec, "clusterSelector"), o->labels))
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct cl *v = realloc(g->cl, cap * sizeof(*v));
		if (!v)
			return;
		g->cl = v;
		g->cap = cap;
	}
	memset(&g->cl[g->n], 0, sizeof(g->cl[0]));
	g->cl[g->n].obj = o;
	g->cl[g->n].desired = json_object();
	g->cl[g->n].users = json_object();
	g->n++;
}

static int cmp_cl(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cl *)elem)->obj->name);
}

/* A Secret a governed Target uses is governed with it on its cluster. */
static int gather_secret(void *arg, const char *kind, const char *name,
			 const char *path)
{
	struct gather *g = arg;
	const struct bl_obj *sec;
	struct cl *c = (struct cl *)g->c;
	json_t *u;
	char k[300];

	(void)path;
	if (strcmp(kind, "Secret") || !(sec = bl_informer_get(g->inf, "Secret", name)))
		return 0;
	snprintf(k, sizeof(k), "Secret/%s", name);
	json_object_set_new(c->desired, k, json_integer(sec->generation));
	u = json_object_get(c->users, k);
	if (!u) {
		u = json_array();
		json_object_set_new(c->users, k, u);
	}
	json_array_append_new(u, json_string(g->t->name));
	return 0;
}

/* A governed Target or Volume: its newest generation is what the cluster
 * should run. */
static void gather_target(void *arg, const struct bl_obj *t)
{
	struct gather *g = arg;
	const char *cn = json_string_value(json_object_get(t->spec, "cluster"));
	struct cl *c;
	char k[300];

	if (!cn || !(c = bsearch(cn, g->cl, g->n, sizeof(*g->cl), cmp_cl)))
		return;
	if (!bl_ro_governs(g->ro, c->obj, t))
		return;
	/* Governed by an earlier rollout (by name) too: that one has it, as
	 * in bl_rollout_effective. apply should refuse the overlap. */
	g->t = t;
	g->c = c;
	g->earlier = false;
	bl_informer_foreach(g->inf, "Rollout", earlier_one, g);
	if (g->earlier)
		return;
	snprintf(k, sizeof(k), "%s/%s", t->kind, t->name);
	json_object_set_new(c->desired, k, json_integer(t->generation));
	g->t = t;
	g->c = c;
	bl_obj_foreach_ref(t, gather_secret, g);
}

struct ptrs {
	struct bl_obj **v;
	size_t n, cap;
};

static void ptrs_add(void *arg, const struct bl_obj *o)
{
	struct ptrs *p = arg;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bl_obj **v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct bl_obj *)o;
}

static bool cluster_online(const struct round *r, const struct bl_obj *cl)
{
	json_t *nodes = json_object_get(cl->spec, "nodes"), *n;
	char k[300];
	size_t i;

	if (!json_array_size(nodes))
		return false;
	json_array_foreach(nodes, i, n) {
		snprintf(k, sizeof(k), "%s/%s", cl->name,
			 json_string_value(json_object_get(n, "name")));
		if (strv_find(&r->nodes, k) < 0)
			return false;
	}
	return true;
}

/*
 * A Secret's health on a cluster: every governed Target of the cluster
 * that uses it reports, on every node, that it was reconciled with the
 * admitted generation (status observedRefs, written by bollardd) and the
 * Target loop below requires those Targets Ready.
 */
static bool secret_ready(const struct round *r, const struct cl *c,
			 const char *okey, int64_t want)
{
	json_t *nodes = json_object_get(c->obj->spec, "nodes"), *n, *u;
	size_t i, j;

	json_array_foreach(json_object_get(c->users, okey), j, u) {
		json_array_foreach(nodes, i, n) {
			char k[400];
			json_t *st;
			snprintf(k, sizeof(k), "%s/%s", json_string_value(u),
				 json_string_value(json_object_get(n, "name")));
			ssize_t at = strv_find(&r->status, k);
			if (at < 0 || !(st = r->status.v[at]))
				return false;
			if (json_integer_value(json_object_get(json_object_get(st,
					"observedRefs"), okey)) != want)
				return false;
		}
	}
	return true;
}

/* Every node of `nodes` has a status for object `name` in st (keys
 * "<name>/<node>") at generation want, with Ready True. */
static bool nodes_ready(const struct strv *st, json_t *nodes, const char *name,
			int64_t want)
{
	json_t *n, *cond;
	size_t i, j;

	json_array_foreach(nodes, i, n) {
		char k[400];
		json_t *v;
		bool ok = false;
		ssize_t at;

		snprintf(k, sizeof(k), "%s/%s", name,
			 json_string_value(json_object_get(n, "name")));
		at = strv_find(st, k);
		if (at < 0 || !(v = st->v[at]))
			return false;
		if (json_integer_value(json_object_get(v, "observedGeneration")) != want)
			return false;
		json_array_foreach(json_object_get(v, "conditions"), j, cond) {
			const char *ty = json_string_value(json_object_get(cond, "type"));
			const char *sv = json_string_value(json_object_get(cond, "status"));

			if (ty && sv && !strcmp(ty, "Ready") && !strcmp(sv, "True"))
				ok = true;
		}
		if (!ok)
			return false;
	}
	return true;
}

/*
 * A Volume's health on a cluster: a replicated Volume reports, on every
 * node, the generation that node's DRBD round reconciled (the admitted
 * copy: volume_status.c) and Ready (DRBD connected, both disks UpToDate).
 * A Volume with replication none has no per-node status: the Targets that
 * export it are its signal (a LUN whose backing cannot be opened leaves
 * its Target not Ready).
 */
static bool volume_ready(const struct round *r, const struct cl *c,
			 const char *name, int64_t want)
{
	json_t *nodes = json_object_get(c->obj->spec, "nodes");
	const struct bl_obj *vol = bl_informer_get(r->f->o.inf, "Volume", name);

	if (!vol || !json_is_object(json_object_get(vol->spec, "replication")))
		return true;
	return nodes_ready(&r->vstatus, nodes, name, want);
}

/* Every governed object Ready at its admitted generation on every node. */
static bool cluster_ready(const struct round *r, const struct cl *c)
{
	json_t *nodes = json_object_get(c->obj->spec, "nodes"), *g;
	json_t *adm = json_object_get(c->rec, "objects");
	const char *okey;

	json_object_foreach(c->desired, okey, g) {
		json_t *ag = json_object_get(adm, okey);
		int64_t want = json_integer_value(ag ? ag : g);
		const char *tname = strchr(okey, '/') + 1;
		/* Created since the cluster's last admission: not expected to
		 * exist there yet (bollardd leaves it alone until admitted). */
		if (!ag && json_is_object(adm))
			continue;
		if (!strncmp(okey, "Secret/", 7)) {
			if (!secret_ready(r, c, okey, want))
				return false;
			continue;
		}
		if (!strncmp(okey, "Volume/", 7)) {
			if (!volume_ready(r, c, tname, want))
				return false;
			continue;
		}
		if (!nodes_ready(&r->status, nodes, tname, want))
			return false;
	}
	return true;
}

static json_t *make_record(json_t *objects, json_t *previous, int64_t now,
			   const char *revision)
{
	/* deep copies: the record is edited in place (sync_membership) */
	return json_pack("{s:o, s:o, s:I, s:s}", "objects", json_deep_copy(objects),
			 "previous", json_deep_copy(previous ? previous : objects),
			 "since", (json_int_t)now, "revision", revision);
}

/*
 * Objects that joined or left the rollout's scope (created, deleted,
 * relabelled) are gated like changes: the record keeps what was admitted,
 * so the difference makes the cluster "need" an admission, and it gets one
 * in its wave. Meanwhile bollardd leaves a new object alone (the record
 * does not name it: BL_RO_NOT_ADMITTED) and keeps serving a deleted one
 * (the record still names it: bl_rollout_recorded). An object
 * relabelled out of scope is no longer governed: bollardd reconciles its
 * newest generation at once; its name leaves the record at the next
 * admission. Only an old record without "previous" is completed here.
 */
static void sync_membership(struct cl *c)
{
	json_t *objs = json_object_get(c->rec, "objects");

	if (!json_is_object(json_object_get(c->rec, "previous")))
		json_object_set_new(c->rec, "previous", json_deep_copy(objs));
}

/*
 * The record a rollback writes: what the cluster ran before this
 * revision's admission ("previous"), so changed objects go back to their
 * generation there, and an object whose deletion was admitted is named
 * again (bollardd serves it from its kept copy, bl_rollout_recorded).
 * Objects the admission created (named now, not before) are listed in
 * "absent": bollardd removes their export from the cluster again
 * (BL_RO_ABSENT). Removing a Target keeps its Volumes and LUN data.
 *
 * Volumes are different: a Volume the cluster stopped running is one the
 * DRBD reconciler takes down, and with deletionPolicy Delete it removes
 * the LV, the data. So a Volume whose creation was admitted is never
 * taken back: the rollback record keeps it at its admitted generation, in
 * "objects" and in "previous" (an undo or a later rollback must not drop
 * it either), and never lists it in "absent". A rollback never deletes
 * data. (A changed Volume goes back to its previous generation like a
 * Target: DRBD settings change, sizes are never shrunk by the DRBD
 * reconciler.) The next admission of the cluster writes a record without
 * "absent".
 */
static json_t *rollback_record(json_t *rec, int64_t now)
{
	json_t *objs = json_object_get(rec, "objects");
	json_t *prev = json_object_get(rec, "previous");
	json_t *nrec = make_record(prev, prev, now, "rollback");
	json_t *absent = json_object(), *v;
	const char *k;

	if (!nrec || !absent) {
		json_decref(nrec);
		json_decref(absent);
		return NULL;
	}
	/* Targets only: a Secret first used by an admitted Target goes with
	 * that Target's export, and the node keeps no other use for it. */
	json_object_foreach(objs, k, v) {
		if (json_object_get(prev, k))
			continue;
		if (!strncmp(k, "Target/", 7))
			json_object_set(absent, k, v);
		else if (!strncmp(k, "Volume/", 7)) {
			json_object_set(json_object_get(nrec, "objects"), k, v);
			json_object_set(json_object_get(nrec, "previous"), k, v);
		}
	}
	json_object_set_new(nrec, "absent", absent);
	return nrec;
}

static int put_json(struct bl_etcd *e, const char *key, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;
	if (!s)
		return -ENOMEM;
	rc = bl_etcd_put(e, key, s, strlen(s), 0, NULL);
	free(s);
	return rc;
}

static void restore(struct bl_ro_cluster *rc, json_t *st, const struct cl *c)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(st, "clusters"), i, e) {
		const char *nm = json_string_value(json_object_get(e, "name"));
		int s;
		if (!nm || strcmp(nm, rc->name))
			continue;
		s = bl_ro_cstate_parse(json_string_value(json_object_get(e, "state")));
		rc->state = s < 0 ? BL_RO_PENDING : (enum bl_ro_cstate)s;
		rc->in_plan = json_is_true(json_object_get(e, "inPlan"));
		rc->admitted_ms = json_integer_value(json_object_get(e, "admittedAt"));
		rc->ready_since_ms = json_integer_value(json_object_get(e, "readySince"));
		rc->transition_ms = json_integer_value(json_object_get(e, "lastTransition"));
		snprintf(rc->reason, sizeof(rc->reason), "%s",
			 json_string_value(json_object_get(e, "reason")) ?: "");
		/* admitted, then the controller stopped before writing status */
		if (rc->state == BL_RO_PENDING && !rc->needs) {
			rc->state = BL_RO_PROGRESSING;
			rc->admitted_ms = json_integer_value(json_object_get(c->rec, "since"));
			snprintf(rc->reason, sizeof(rc->reason), "admitted");
		}
		return;
	}
	rc->in_plan = rc->needs;
	rc->state = rc->needs ? BL_RO_PENDING : BL_RO_UPTODATE;
}

static json_t *status_json(const struct bl_obj *ro, const struct bl_ro_state *s,
			   const struct bl_ro_cluster *rc, const struct cl *c,
			   size_t n, const char *rev)
{
	json_t *st, *waves = json_array(), *cls = json_array();
	size_t i, w, pos, total = 0, healthy = 0;
	char ts[32];

	for (w = 0; w < s->nwaves; w++) {
		size_t start = w ? s->wave_end[w - 1] : 0, end = s->wave_end[w];
		size_t adm = 0, prog = 0, ok = 0, bad = 0;
		for (i = 0, pos = 0; i < n; i++) {
			if (!rc[i].in_plan)
				continue;
			if (pos >= start && pos < end) {
				adm += rc[i].state >= BL_RO_PROGRESSING;
				prog += rc[i].state == BL_RO_PROGRESSING;
				ok += rc[i].state == BL_RO_HEALTHY;
				bad += rc[i].state == BL_RO_FAILED ||
				       rc[i].state == BL_RO_ROLLEDBACK;
			}
			pos++;
		}
		json_array_append_new(waves, json_pack("{s:I, s:I, s:I, s:I, s:I}",
			"size", (json_int_t)(end - start), "admitted", (json_int_t)adm,
			"inProgress", (json_int_t)prog, "healthy", (json_int_t)ok,
			"failed", (json_int_t)bad));
	}
	for (i = 0; i < n; i++) {
		total += rc[i].in_plan;
		healthy += rc[i].in_plan && rc[i].state == BL_RO_HEALTHY;
		bl_ro_format_time(rc[i].transition_ms, ts, sizeof(ts));
		json_array_append_new(cls, json_pack(
			"{s:s, s:s, s:b, s:b, s:b, s:s, s:I, s:I, s:I, s:s, s:O}",
			"name", rc[i].name, "state", bl_ro_cstate_name(rc[i].state),
			"inPlan", rc[i].in_plan, "online", rc[i].online,
			"ready", rc[i].ready, "reason", rc[i].reason,
			"admittedAt", (json_int_t)rc[i].admitted_ms,
			"readySince", (json_int_t)rc[i].ready_since_ms,
			"lastTransition", (json_int_t)rc[i].transition_ms,
			"lastTransitionTime", ts,
			"revision", json_object_get(c[i].rec, "objects")));
	}
	st = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o}",
		       "observedGeneration", (json_int_t)ro->generation,
		       "revision", rev, "phase", bl_ro_phase_name(s->phase),
		       "reason", s->reason, "wave", (json_int_t)s->wave,
		       "total", (json_int_t)total, "updated", (json_int_t)healthy,
		       "waves", waves, "clusters", cls);
	return st;
}

static struct stcache *stcache_get(struct bl_fleet *f, const char *name)
{
	struct stcache *v;

	for (size_t i = 0; i < f->nsc; i++)
		if (!strcmp(f->sc[i].name, name))
			return &f->sc[i];
	v = realloc(f->sc, (f->nsc + 1) * sizeof(*v));
	if (!v)
		return NULL;
	f->sc = v;
	v[f->nsc] = (struct stcache){ strdup(name), 0, NULL };
	if (!v[f->nsc].name)
		return NULL;
	return &v[f->nsc++];
}

static void stcache_clear(struct bl_fleet *f)
{
	for (size_t i = 0; i < f->nsc; i++) {
		free(f->sc[i].name);
		json_decref(f->sc[i].st);
	}
	free(f->sc);
	f->sc = NULL;
	f->nsc = 0;
}

/*
 * The rollout's persisted state: what this leader wrote last, when the
 * summary's mod_revision says nobody wrote since (one keys-only get),
 * else read back whole (status_store.c). *out NULL: no status yet.
 */
static int status_load(struct bl_fleet *f, const char *ro, json_t **out)
{
	struct stcache *c = stcache_get(f, ro);
	struct bl_kvs kvs = { 0 };
	char key[400];
	int64_t rev = 0;
	int rc;

	*out = NULL;
	snprintf(key, sizeof(key), "%s%s/status", BL_RO_KEY_ROLLOUTS, ro);
	rc = bl_etcd_get(f->o.etcd, key, false, 1, 0, true, &kvs);
	if (rc < 0)
		return rc;
	if (kvs.n && c && c->st && c->rev == kvs.kvs[0].mod_revision) {
		bl_kvs_free(&kvs);
		*out = json_incref(c->st);
		return 0;
	}
	if (!kvs.n) {
		bl_kvs_free(&kvs);
		return 0;
	}
	bl_kvs_free(&kvs);
	rc = bl_ro_status_read(f->o.etcd, ro, true, out, &rev);
	if (rc == 0 && c && *out) {
		json_decref(c->st);
		c->st = json_incref(*out);
		c->rev = rev;
	}
	return rc;
}

static void round_rollout(void *arg, const struct bl_obj *ro)
{
	struct round *r = arg;
	struct bl_fleet *f = r->f;
	struct gather g = { .ro = ro, .inf = f->o.inf };
	struct bl_ro_params p;
	struct bl_ro_state s = { 0 };
	struct bl_ro_cluster *rc = NULL;
	struct strv recs = { 0 };
	json_t *st = NULL, *nst = NULL;
	char key[600], rev[17];
	struct ptrs pc = { 0 }, pt = { 0 };
	size_t i;

	if (bl_ro_params_from_spec(ro->spec, &p) < 0) {
		logf_(f, "rollout %s: spec has values out of range; skipped", ro->name);
		return;
	}
	bl_informer_foreach(f->o.inf, "Cluster", gather_cluster, &g);
	bl_informer_foreach(f->o.inf, "Target", gather_target, &g);
	bl_informer_foreach(f->o.inf, "Volume", gather_target, &g);
	bl_informer_foreach(f->o.inf, "Cluster", ptrs_add, &pc);
	bl_informer_foreach(f->o.inf, "Target", ptrs_add, &pt);
	bl_informer_foreach(f->o.inf, "Volume", ptrs_add, &pt);
	bl_informer_foreach(f->o.inf, "Secret", ptrs_add, &pt);
	bl_ro_revision(ro, pc.v, pc.n, pt.v, pt.n, rev);
	free(pc.v);
	free(pt.v);

	snprintf(key, sizeof(key), "%s%s/admitted/", BL_RO_KEY_ROLLOUTS, ro->name);
	if (strv_load(f->o.etcd, key, true, &recs) < 0)
		goto out_free;
	if (status_load(f, ro->name, &st) < 0)
		goto out_free;

	rc = calloc(g.n + 1, sizeof(*rc));
	if (!rc)
		goto out_free;
	for (i = 0; i < g.n; i++) {
		struct cl *c = &g.cl[i];
		ssize_t at = strv_find(&recs, c->obj->name);
		if (at >= 0 && recs.v[at] && json_is_object(json_object_get(recs.v[at], "objects"))) {
			c->rec = json_incref(recs.v[at]);
		} else {
			/* First sight of this cluster: what it runs now is the
			 * baseline; only later generations are gated. */
			c->rec = make_record(c->desired, NULL, r->now, "baseline");
			snprintf(key, sizeof(key), "%s%s/admitted/%s", BL_RO_KEY_ROLLOUTS,
				 ro->name, c->obj->name);
			if (!c->rec || put_json(f->o.etcd, key, c->rec) < 0)
				goto out_free;
		}
		sync_membership(c);
		snprintf(rc[i].name, sizeof(rc[i].name), "%s", c->obj->name);
		rc[i].online = cluster_online(r, c->obj);
		rc[i].ready = rc[i].online && cluster_ready(r, c);
		rc[i].needs = !json_equal(json_object_get(c->rec, "objects"), c->desired);
	}

	/* The persisted state, also when the revision changed: a cluster
	 * still in its health gate keeps it across the restart (wave.h). */
	for (i = 0; st && i < g.n; i++)
		restore(&rc[i], st, &g.cl[i]);
	if (st && !strcmp(json_string_value(json_object_get(st, "revision")) ?: "", rev)) {
		int ph = bl_ro_phase_parse(json_string_value(json_object_get(st, "phase")));
		s.phase = ph < 0 ? BL_RO_PROGRESS : (enum bl_ro_phase)ph;
		snprintf(s.reason, sizeof(s.reason), "%s",
			 json_string_value(json_object_get(st, "reason")) ?: "");
		bl_ro_cut_waves(&p, &s, rc, g.n);
	} else {
		bl_ro_restart(&p, &s, rc, g.n, r->now);
		if (st)
			logf_(f, "rollout %s: new revision %s: restarting at the canary",
			      ro->name, rev);
	}

	/* A leader that stalled in this round (slow etcd) may have lost the
	 * role meanwhile: decide nothing then (leader.h). */
	if (!bl_leader_valid(f->leader, bl_now_ms()))
		goto out_free;
	if (bl_ro_step(&p, &s, rc, g.n, r->now)) {
		for (i = 0; i < g.n; i++) {
			struct cl *c = &g.cl[i];
			json_t *nrec = NULL;
			if (rc[i].action == BL_RO_ADMIT)
				nrec = make_record(c->desired, json_object_get(c->rec, "objects"),
						   r->now, rev);
			else if (rc[i].action == BL_RO_ROLLBACK)
				nrec = rollback_record(c->rec, r->now);
			else
				continue;
			snprintf(key, sizeof(key), "%s%s/admitted/%s", BL_RO_KEY_ROLLOUTS,
				 ro->name, c->obj->name);
			if (!nrec || put_json(f->o.etcd, key, nrec) < 0) {
				/* Not written: the status must not claim it. */
				json_decref(nrec);
				logf_(f, "rollout %s: cluster %s: writing the admission failed",
				      ro->name, rc[i].name);
				goto out_free;
			}
			logf_(f, "rollout %s: cluster %s: %s (wave %zu)", ro->name, rc[i].name,
			      rc[i].action == BL_RO_ADMIT ? "admitted" : "rolled back", s.wave);
			json_decref(c->rec);
			c->rec = nrec;
		}
	}
	nst = status_json(ro, &s, rc, g.cl, g.n, rev);
	if (nst) {
		const char *was = json_string_value(json_object_get(st, "phase"));
		struct stcache *c = stcache_get(f, ro->name);
		int64_t srev = 0;
		int w = bl_ro_status_write(f->o.etcd, ro->name, st, nst, &srev);

		if (w > 0 && c) {
			json_decref(c->st);
			c->st = json_incref(nst);
			c->rev = srev;
		} else if (w < 0 && c) {
			json_decref(c->st);     /* read it back next round */
			c->st = NULL;
		}
		if (w > 0 && (!was || strcmp(was, bl_ro_phase_name(s.phase))))
			logf_(f, "rollout %s: %s: %s", ro->name, bl_ro_phase_name(s.phase), s.reason);
	}
out_free:
	json_decref(nst);
	json_decref(st);
	free(rc);
	strv_free(&recs);
	for (i = 0; i < g.n; i++) {
		json_decref(g.cl[i].desired);
		json_decref(g.cl[i].users);
		json_decref(g.cl[i].rec);
	}
	free(g.cl);
}

static void count_one(void *arg, const struct bl_obj *o)
{
	(void)o;
	(*(size_t *)arg)++;
}

static void hash_name(void *arg, const struct bl_obj *o)
{
	uint64_t *h = arg;

	for (const char *p = o->name; *p; p++) {
		*h ^= (unsigned char)*p;
		*h *= 1099511628211ull;
	}
	*h ^= '/';
	*h *= 1099511628211ull;
}

/*
 * Records and status of deleted Rollouts: gone, so that a Rollout created
 * later under the same name starts from fresh baselines. Finding them
 * takes a keys-only range over every rollout's keys (two per cluster per
 * Rollout), so it runs when the set of Rollout names changed, at the
 * first round of a term, and every GC_DELETED_MS in case a deletion was
 * missed (a write that failed), not every round.
 */
#define GC_DELETED_MS 30000

static void gc_deleted(struct bl_fleet *f, uint64_t now_ms)
{
	struct bl_kvs kvs = { 0 };
	const size_t plen = strlen(BL_RO_KEY_ROLLOUTS);
	char last[256] = "";
	uint64_t h = 1469598103934665603ull;

	bl_informer_foreach(f->o.inf, "Rollout", hash_name, &h);
	if (h == f->ro_names && now_ms < f->next_gc_deleted_ms)
		return;
	if (bl_etcd_get(f->o.etcd, BL_RO_KEY_ROLLOUTS, true, 0, 0, true, &kvs) < 0)
		return;
	f->ro_names = h;
	f->next_gc_deleted_ms = now_ms + GC_DELETED_MS;
	for (size_t i = 0; i < kvs.n; i++) {
		const char *nm = kvs.kvs[i].key + plen, *slash = strchr(nm, '/');
		char name[256], prefix[300];
		size_t l = slash ? (size_t)(slash - nm) : strlen(nm);

		if (!l || l >= sizeof(name))
			continue;
		memcpy(name, nm, l);
		name[l] = '\0';
		if (!strcmp(name, last) || bl_informer_get(f->o.inf, "Rollout", name))
			continue;
		snprintf(last, sizeof(last), "%s", name);
		snprintf(prefix, sizeof(prefix), "%s%s/", BL_RO_KEY_ROLLOUTS, name);
		if (bl_etcd_delete(f->o.etcd, prefix, true, NULL, NULL) == 0)
			logf_(f, "rollout %s: deleted; its records are removed", name);
	}
	bl_kvs_free(&kvs);
}

static void round_all(struct bl_fleet *f, uint64_t now_ms)
{
	struct round r = { .f = f, .now = bl_ro_wall_ms() };
	size_t nro = 0;

	f->round++;
	gc_deleted(f, now_ms);
	/* No Rollout: nothing to read or write (a fleet without rollouts
	 * pays only the election and one keys-only read), but the history
	 * left by deleted Rollouts goes. */
	bl_informer_foreach(f->o.inf, "Rollout", count_one, &nro);
	if (!nro) {
		history_gc(f, now_ms);
		return;
	}
	bl_informer_foreach(f->o.inf, "Target", history_one, &r);
	bl_informer_foreach(f->o.inf, "Volume", history_one, &r);
	history_gc(f, now_ms);
	if (strv_load(f->o.etcd, BL_RO_KEY_NODES, false, &r.nodes) < 0)
		return;
	if (strv_load(f->o.etcd, BL_RO_KEY_STATUS "Target/", true, &r.status) < 0)
		goto out_nodes;
	if (r.volumes &&
	    strv_load(f->o.etcd, BL_RO_KEY_STATUS "Volume/", true, &r.vstatus) < 0)
		goto out_status;
	bl_informer_foreach(f->o.inf, "Rollout", round_rollout, &r);
	strv_free(&r.vstatus);
out_status:
	strv_free(&r.status);
out_nodes:
	strv_free(&r.nodes);
}

/* ---- lifetime --------------------------------------------------------------*/

int bl_fleet_new(const struct bl_fleet_opts *o, struct bl_fleet **out)
{
	struct bl_fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->o = *o;
	if (!f->o.lease_ttl_s)
		f->o.lease_ttl_s = 5;
	if (!f->o.period_ms)
		f->o.period_ms = 250;
	f->log = o->log ? o->log : stderr;
	f->leader = bl_leader_new(o->etcd, BL_RO_FLEET_LEADER, o->id, f->o.lease_ttl_s);
	if (!f->leader) {
		free(f);
		return -ENOMEM;
	}
	if (o->keepalive && bl_leader_start_keepalive(f->leader, o->keepalive) < 0)
		fprintf(f->log, "fleet: no keepalive thread; the lease is renewed "
			"from the rounds only\n");
	f->o.keepalive = NULL;
	*out = f;
	return 0;
}

void bl_fleet_free(struct bl_fleet *f)
{
	if (!f)
		return;
	bl_leader_free(f->leader);
	stcache_clear(f);
	for (size_t i = 0; i < f->nh; i++)
		free(f->h[i].key);
	free(f->h);
	free(f);
}

int bl_fleet_tick(struct bl_fleet *f, uint64_t now_ms)
{
	int rc = bl_leader_tick(f->leader, now_ms);
	bool lead = bl_leader_valid(f->leader, now_ms);

	if (lead != f->leading) {
		logf_(f, lead ? "leading the fleet role" : "lost the fleet role");
		f->leading = lead;
		/* A new term trusts only what is in etcd: another leader may
		 * have pruned or missed some generations. */
		if (lead)
			history_learn(f);
		stcache_clear(f);
		f->next_gc_deleted_ms = 0;
	}
	if (!lead)
		return rc < 0 ? rc : 0;
	if (now_ms >= f->next_round_ms) {
		round_all(f, now_ms);
		f->next_round_ms = now_ms + f->o.period_ms;
	}
	return 1;
}
