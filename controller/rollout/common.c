/* common.c - helpers shared by the fleet controller, bollardd and the CLI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rollout/rollout.h"

bool bl_ro_selector_match(const json_t *selector, const json_t *labels)
{
	json_t *ml = json_object_get(selector, "matchLabels"), *v;
	const char *k;

	json_object_foreach(ml, k, v) {
		const char *have = json_string_value(json_object_get(labels, k));
		if (!have || !json_string_value(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	return true;
}

bool bl_ro_gated_kind(const char *kind)
{
	return kind && (!strcmp(kind, "Target") || !strcmp(kind, "Volume"));
}

bool bl_ro_governs(const struct bl_obj *ro, const struct bl_obj *cl,
		   const struct bl_obj *obj)
{
	const char *name;

	if (!ro || !cl || !obj || !ro->spec || !bl_ro_gated_kind(obj->kind))
		return false;
	name = json_string_value(json_object_get(obj->spec, "cluster"));
	if (!name || strcmp(name, cl->name))
		return false;
	return bl_ro_selector_match(json_object_get(ro->spec, "clusterSelector"), cl->labels) &&
	       bl_ro_selector_match(json_object_get(ro->spec, "objectSelector"), obj->labels);
}

static int amount(const json_t *v, struct bl_ro_amount *a)
{
	const char *s = json_string_value(v);
	char *end;
	long long x;

	if (json_is_integer(v)) {
		a->value = json_integer_value(v);
		a->pct = false;
		return a->value >= 0 ? 0 : -EINVAL;
	}
	if (!s)
		return -EINVAL;
	x = strtoll(s, &end, 10);
	if (end == s || strcmp(end, "%") || x < 1 || x > 100)
		return -EINVAL;
	a->value = x;
	a->pct = true;
	return 0;
}

static int duration(const json_t *v, int64_t def, int64_t *ms)
{
	uint64_t x;
	if (!v) {
		*ms = def;
		return 0;
	}
	if (!json_string_value(v) || bl_parse_duration(json_string_value(v), &x) < 0)
		return -EINVAL;
	*ms = (int64_t)x;
	return 0;
}

int bl_ro_params_from_spec(const json_t *spec, struct bl_ro_params *p)
{
	json_t *st = json_object_get(spec, "strategy");
	json_t *gate = json_object_get(spec, "healthGate");
	json_t *w, *mu = json_object_get(st, "maxUnavailable");
	const char *of = json_string_value(json_object_get(spec, "onFailure"));
	size_t i;

	memset(p, 0, sizeof(*p));
	p->canary = json_is_integer(json_object_get(st, "canary")) ?
		    json_integer_value(json_object_get(st, "canary")) : 1;
	p->max_unavailable = (struct bl_ro_amount){ 1, false };
	if (mu && amount(mu, &p->max_unavailable) < 0)
		return -EINVAL;
	json_array_foreach(json_object_get(st, "waves"), i, w) {
		if (p->nwaves >= BL_RO_MAX_WAVES - 2)
			return -EINVAL;
		if (amount(w, &p->waves[p->nwaves++]) < 0)
			return -EINVAL;
	}
	if (duration(json_object_get(gate, "stableFor"), 30000, &p->stable_ms) < 0 ||
	    duration(json_object_get(gate, "timeout"), 600000, &p->timeout_ms) < 0)
		return -EINVAL;
	p->rollback = of && !strcmp(of, "rollback");
	p->paused = json_is_true(json_object_get(spec, "paused"));
	return 0;
}

int64_t bl_ro_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bl_ro_format_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/*
 * The revision hashes "Kind/name=gen;" of every governed object, cluster
 * by cluster in clusters[] order, each cluster's objects in targets[]
 * order, each object followed by the Secrets it uses, in reference order.
 * That order is the format: a stored status carries the hash, and a
 * controller that computed it differently after an upgrade would see a
 * "new revision" and restart every rollout at its canary. The nested loop
 * that defined it (every cluster against every object) cost a million
 * bl_ro_governs calls per round at 1,000 clusters, so the same order is
 * now built with sorted indexes: objects grouped by their cluster's
 * position (stable), Secrets found by bisection.
 */
struct named {
	const char *name;
	size_t pos;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static int cmp_named_pos(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

struct revref {
	const struct named *sec;        /* Secrets of targets[], by name   */
	size_t nsec;
	struct bl_obj *const *objs;
	uint64_t *h;
};

static int rev_secret(void *arg, const char *kind, const char *name, const char *path)
{
	struct revref *r = arg;
	struct named key = { name, 0 }, *hit;
	char buf[300];

	(void)path;
	if (strcmp(kind, "Secret"))
		return 0;
	hit = bsearch(&key, r->sec, r->nsec, sizeof(*r->sec), cmp_named);
	if (!hit)
		return 0;
	snprintf(buf, sizeof(buf), "Secret/%s=%lld;", name,
		 (long long)r->objs[hit->pos]->generation);
	*r->h = fnv(*r->h, buf);
	return 0;
}

struct member {
	size_t cl, obj;                 /* positions in clusters[], targets[] */
};

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->cl != y->cl)
		return x->cl < y->cl ? -1 : 1;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

void bl_ro_revision(const struct bl_obj *ro, struct bl_obj *const *clusters,
		    size_t ncl, struct bl_obj *const *targets, size_t nt,
		    char out[17])
{
	uint64_t h = 1469598103934665603ull;
	char buf[300];
	struct named *cls = calloc(ncl + 1, sizeof(*cls));
	struct named *sec = calloc(nt + 1, sizeof(*sec));
	struct member *m = calloc(nt + 1, sizeof(*m));
	struct revref r = { sec, 0, targets, &h };
	size_t nm = 0, ns = 0;

	if (!cls || !sec || !m) {
		/* out of memory: a revision no status can match ("waiting") */
		snprintf(out, 17, "%016llx", 0ull);
		goto out;
	}
	for (size_t i = 0; i < ncl; i++)
		cls[i] = (struct named){ clusters[i]->name, i };
	qsort(cls, ncl, sizeof(*cls), cmp_named);
	for (size_t j = 0; j < nt; j++) {
		const char *cn;
		struct named key, *hit;

		if (!strcmp(targets[j]->kind, "Secret")) {
			/* the first of a name wins, as a scan in order would */
			sec[ns++] = (struct named){ targets[j]->name, j };
			continue;
		}
		cn = json_string_value(json_object_get(targets[j]->spec, "cluster"));
		if (!cn)
			continue;
		key.name = cn;
		hit = bsearch(&key, cls, ncl, sizeof(*cls), cmp_named);
		if (hit && bl_ro_governs(ro, clusters[hit->pos], targets[j]))
			m[nm++] = (struct member){ hit->pos, j };
	}
	qsort(m, nm, sizeof(*m), cmp_member);
	/* By name, then position; of equal names the first in targets[] is
	 * kept, as the scan in order found it. */
	qsort(sec, ns, sizeof(*sec), cmp_named_pos);
	for (size_t i = 0; i < ns; i++)
		if (!r.nsec || strcmp(sec[r.nsec - 1].name, sec[i].name))
			sec[r.nsec++] = sec[i];
	for (size_t i = 0; i < nm; i++) {
		const struct bl_obj *t = targets[m[i].obj];
		snprintf(buf, sizeof(buf), "%s/%s=%lld;", t->kind, t->name,
			 (long long)t->generation);
		h = fnv(h, buf);
		/* the Secrets it uses: governed with it (rollout.h) */
		bl_obj_foreach_ref(t, rev_secret, &r);
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
out:
	free(cls);
	free(sec);
	free(m);
}

static const struct bl_obj *cluster_of(struct bl_obj *const *clusters, size_t ncl,
				       const struct bl_obj *t)
{
	const char *cn = json_string_value(json_object_get(t->spec, "cluster"));
	for (size_t i = 0; cn && i < ncl; i++)
		if (!strcmp(clusters[i]->name, cn))
			return clusters[i];
	return NULL;
}

/* "target" / "volume": how the CLI names a kind in messages. */
static const char *kind_word(const char *kind)
{
	return !strcmp(kind, "Volume") ? "volume" : "target";
}

/*
 * One use of a Secret by a governed Target on one node: two uses of one
 * (secret, node) by Targets of two different rollouts conflict. A node's
 * bollardd uses one generation of a Secret for all its Targets (the
 * generation its clusters' admission records name), and with two
 * rollouts there would be two records, each admitting its own generation
 * at its own pace: whichever record was read first would decide. So apply
 * refuses it, as it refuses two rollouts governing one object.
 */
struct secuse {
	const char *secret, *node;
	size_t ro;                      /* index into rollouts[]           */
	const struct bl_obj *target;
};

struct secscan {
	struct secuse *v;
	size_t n, cap;
	const struct bl_obj *cl, *t;
	size_t ro;
	int err;
};

static int sec_ref(void *arg, const char *kind, const char *name, const char *path)
{
	struct secscan *s = arg;
	json_t *n;
	size_t i;

	(void)path;
	if (strcmp(kind, "Secret"))
		return 0;
	json_array_foreach(json_object_get(s->cl->spec, "nodes"), i, n) {
		const char *nm = json_string_value(json_object_get(n, "name"));
		if (!nm)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct secuse *v = realloc(s->v, cap * sizeof(*v));
			if (!v) {
				s->err = -ENOMEM;
				return -ENOMEM;
			}
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = (struct secuse){ name, nm, s->ro, s->t };
	}
	return 0;
}

static int cmp_secuse(const void *a, const void *b)
{
	const struct secuse *x = a, *y = b;
	int c = strcmp(x->secret, y->secret);

	if (!c)
		c = strcmp(x->node, y->node);
	if (!c)
		c = x->ro < y->ro ? -1 : x->ro > y->ro;
	return c;
}

int bl_ro_check_overlap(struct bl_obj *const *rollouts, size_t nro,
			struct bl_obj *const *clusters, size_t ncl,
			struct bl_obj *const *targets, size_t nt,
			struct bl_diag *d)
{
	struct secscan ss = { 0 };
	int rc = 0;

	for (size_t t = 0; t < nt; t++) {
		const struct bl_obj *cl = cluster_of(clusters, ncl, targets[t]);
		const struct bl_obj *first = NULL;
		for (size_t r = 0; cl && r < nro; r++) {
			if (!bl_ro_governs(rollouts[r], cl, targets[t]))
				continue;
			if (!first) {
				first = rollouts[r];
				if (!strcmp(targets[t]->kind, "Target")) {
					ss.cl = cl;
					ss.t = targets[t];
					ss.ro = r;
					bl_obj_foreach_ref(targets[t], sec_ref, &ss);
				}
				continue;
			}
			bl_obj_error(d, rollouts[r], "spec.objectSelector",
				     "%s/%s is already governed by rollout %s; "
				     "two rollouts cannot govern one object",
				     kind_word(targets[t]->kind), targets[t]->name,
				     first->name);
			rc = BL_E_INVALID;
		}
	}
	if (ss.err) {
		free(ss.v);
		return ss.err;
	}
	/* Sorted by (secret, node, rollout): a conflict is a run with two
	 * rollouts; its last entry is the later rollout (the applied one). */
	if (ss.n)
		qsort(ss.v, ss.n, sizeof(*ss.v), cmp_secuse);
	for (size_t i = 0; i < ss.n;) {
		size_t j = i + 1;
		while (j < ss.n && !strcmp(ss.v[j].secret, ss.v[i].secret) &&
		       !strcmp(ss.v[j].node, ss.v[i].node))
			j++;
		if (ss.v[j - 1].ro != ss.v[i].ro) {
			const struct secuse *a = &ss.v[i], *b = &ss.v[j - 1];
			bl_obj_error(d, rollouts[b->ro], "spec.objectSelector",
				     "secret/%s is used on node %s by target/%s "
				     "(rollout %s) and by target/%s (rollout %s); a "
				     "node uses one generation of a Secret, so the "
				     "Targets that share it on a node must be "
				     "governed by one rollout", a->secret, a->node,
				     a->target->name, rollouts[a->ro]->name,
				     b->target->name, rollouts[b->ro]->name);
			rc = BL_E_INVALID;
			/* once per Secret: its other nodes say the same */
			while (j < ss.n && !strcmp(ss.v[j].secret, a->secret))
				j++;
		}
		i = j;
	}
	free(ss.v);
	return rc;
}
