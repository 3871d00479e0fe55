/*
 * wait.c - `bollard apply --wait`: after the transaction, wait until the
 * controllers report the applied objects converged.
 *
 * What is waited for: every applied (created, configured or unchanged)
 * object that bollardd reports on per node under
 * /bollard/v1/status/<Kind>/<name>/<node>: Targets always, and Volumes
 * with a replication object (DRBD; bollardd writes no Volume status
 * otherwise). Clusters, Secrets and Rollouts have no per-node status and
 * are not waited for (`bollard rollout status` waits for a Rollout).
 *
 * An object is converged when at least one node reports it and every node
 * that reports it says Ready=True at observedGeneration >= the generation
 * apply stored. A node that has not written status for the object yet does
 * not count (`bollard get` shows READY against the Cluster's node list).
 * Degraded=True at that generation on any node ends the wait at once with
 * the node's reason and message: bollardd retries with backoff, but a
 * script that asked to wait wants to know now.
 *
 * How: one read of the whole status prefix, then a watch from the read's
 * revision + 1 that keeps a key -> status map current; every change
 * re-evaluates. No polling: the wait ends within one watch round trip of
 * the status write that completes it.
 *
 * Exit: 0 all converged; 1 Degraded, timeout (with what each object still
 * lacks) or an etcd error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "bl_time.h"
#include "cli.h"

struct wobj {
	const struct bl_obj *obj;
	char prefix[512];            /* status/<Kind>/<name>/                  */
	size_t plen;
	bool done;
	size_t last_ready, last_total; /* last progress printed               */
};

struct wstate {
	struct cli *c;
	FILE *out;
	json_t *map;                 /* status key -> parsed status           */
	bool changed;
	int err;                     /* watch ended                           */
};

static bool waits_for(const struct bl_obj *o)
{
	if (!strcmp(o->kind, "Target"))
		return true;
	return !strcmp(o->kind, "Volume") &&
	       json_is_object(json_object_get(o->spec, "replication"));
}

static void map_set(struct wstate *s, const struct bl_kv *kv, bool del)
{
	json_t *st;

	if (del) {
		json_object_del(s->map, kv->key);
		return;
	}
	st = json_loadb(kv->value, kv->value_len, 0, NULL);
	if (st)
		json_object_set_new(s->map, kv->key, st);
	else
		json_object_del(s->map, kv->key);
}

static void on_events(void *arg, const struct bl_watch_event *ev, size_t n,
		      int64_t revision, int err)
{
	struct wstate *s = arg;

	if (err) {
		s->err = err;
		return;
	}
	for (size_t i = 0; i < n; i++)
		map_set(s, &ev[i].kv, ev[i].type == BL_EV_DELETE);
	s->changed = true;
}

static const json_t *condition(const json_t *st, const char *type)
{
	size_t i;
	json_t *cd;

	json_array_foreach(json_object_get(st, "conditions"), i, cd)
		if (!strcmp(json_string_value(json_object_get(cd, "type")) ?: "", type))
			return cd;
	return NULL;
}

static bool cond_true(const json_t *cd)
{
	return cd && !strcmp(json_string_value(json_object_get(cd, "status")) ?: "", "True");
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

/*
 * Look at every node's status of w. Returns 1 converged, 0 not yet,
 * -1 Degraded (message printed). why (may be NULL) gets what is missing.
 */
static int evaluate(struct wstate *s, struct wobj *w, char *why, size_t whylen)
{
	size_t total = 0, ready = 0, off = 0;
	const char *key;
	json_t *st;
	char kb[32];

	if (why)
		why[0] = '\0';
	json_object_foreach(s->map, key, st) {
		const char *node = key + w->plen;
		json_int_t og = json_integer_value(json_object_get(st, "observedGeneration"));
		const json_t *rd = condition(st, "Ready"), *dg = condition(st, "Degraded");

		if (strncmp(key, w->prefix, w->plen) || strchr(node, '/'))
			continue;
		total++;
		if (og >= w->obj->generation && cond_true(dg)) {
			cli_error(s->c, "%s/%s is Degraded on node %s at generation %lld: "
				  "%s: %s", kind_lower(w->obj->kind, kb, sizeof(kb)),
				  w->obj->name, node, (long long)og, jstr(dg, "reason"),
				  jstr(dg, "message"));
			return -1;
		}
		if (og >= w->obj->generation && cond_true(rd)) {
			ready++;
			continue;
		}
		if (why && off < whylen)
			off += (size_t)snprintf(why + off, whylen - off, "%snode %s: %s",
				off ? "; " : "", node,
				og < w->obj->generation ? "has not observed this generation yet"
							: jstr(rd, "message"));
	}
	if (why && !total)
		snprintf(why, whylen, "no node has reported status yet");
	if (total != w->last_total || ready != w->last_ready) {
		w->last_total = total;
		w->last_ready = ready;
		if (total)
			fprintf(s->out, "%s/%s: %zu/%zu nodes ready (generation %lld)\n",
				kind_lower(w->obj->kind, kb, sizeof(kb)), w->obj->name,
				ready, total, (long long)w->obj->generation);
		else
			fprintf(s->out, "%s/%s: waiting for a node to report "
				"(generation %lld)\n",
				kind_lower(w->obj->kind, kb, sizeof(kb)), w->obj->name,
				(long long)w->obj->generation);
		fflush(s->out);
	}
	return total && ready == total ? 1 : 0;
}

/* Evaluate every pending object: 1 all done, 0 not yet, -1 Degraded. */
static int evaluate_all(struct wstate *s, struct wobj *w, size_t n)
{
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		int r;

		if (w[i].done)
			continue;
		r = evaluate(s, &w[i], NULL, 0);
		if (r < 0)
			return -1;
		w[i].done = r == 1;
		all = all && w[i].done;
	}
	return all ? 1 : 0;
}

int apply_wait(struct cli *c, struct bl_etcd *e, const struct plan *p,
	       uint64_t timeout_ms, FILE *out)
{
	struct wstate s = { .c = c, .out = out };
	struct bl_kvs kvs = { 0 };
	struct bl_watch *watch = NULL;
	struct wobj *w;
	size_t n = 0;
	int64_t deadline = (int64_t)bl_now_ms() + (int64_t)timeout_ms;
	int rc, ret = 1;

	w = calloc(p->n + 1, sizeof(*w));
	s.map = json_object();
	if (!w || !s.map) {
		cli_error(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_obj *o = p->v[i].obj;

		if (p->v[i].act == ACT_PRUNED || !waits_for(o))
			continue;
		w[n].obj = o;
		w[n].plen = (size_t)snprintf(w[n].prefix, sizeof(w[n].prefix), "%s%s/%s/",
					     CLI_KEY_STATUS, o->kind, o->name);
		w[n].last_total = w[n].last_ready = (size_t)-1;
		n++;
	}
	if (!n) {
		ret = 0;
		goto out;
	}
	rc = bl_etcd_get(e, CLI_KEY_STATUS, true, 0, 0, false, &kvs);
	if (rc < 0) {
		cli_etcd_error(c, e, rc, "reading status");
		goto out;
	}
	for (size_t i = 0; i < kvs.n; i++)
		map_set(&s, &kvs.kvs[i], false);
	rc = bl_etcd_watch(e, CLI_KEY_STATUS, true, kvs.revision + 1, on_events,
			   NULL, &s, &watch);
	if (rc < 0) {
		cli_etcd_error(c, e, rc, "watching status");
		goto out;
	}
	for (;;) {
		int64_t left;

		rc = evaluate_all(&s, w, n);
		if (rc != 0) {
			ret = rc == 1 ? 0 : 1;
			break;
		}
		if (s.err) {
			cli_etcd_error(c, e, s.err, "watching status");
			break;
		}
		left = deadline - (int64_t)bl_now_ms();
		if (left <= 0) {
			char why[1024], kb[32];

			for (size_t i = 0; i < n; i++) {
				if (w[i].done)
					continue;
				evaluate(&s, &w[i], why, sizeof(why));
				cli_error(c, "timed out after %.1fs waiting for %s/%s "
					  "(generation %lld) to be Ready: %s",
					  (double)timeout_ms / 1000,
					  kind_lower(w[i].obj->kind, kb, sizeof(kb)),
					  w[i].obj->name, (long long)w[i].obj->generation, why);
			}
			break;
		}
		s.changed = false;
		bl_etcd_dispatch(e, (int)(left < 1000 ? left : 1000));
	}
out:
	bl_etcd_watch_cancel(watch);
	bl_kvs_free(&kvs);
	json_decref(s.map);
	free(w);
	return ret;
}
