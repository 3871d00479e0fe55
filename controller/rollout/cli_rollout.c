/*
 * cli_rollout.c - `bollard rollout ...` (see cli_rollout.h; design in
 * docs/rollouts.md).
 *
 * status reads three things each poll: the Rollout object, every Cluster
 * and Target (to compute the newest revision the same way the fleet
 * controller does), and the rollout's status key. A status whose revision
 * is not the newest one is "waiting for the rollout controller", never a
 * stale "complete". pause/resume/undo change stored objects with the same
 * compare-and-swap on mod_revision that apply uses: generation + 1 when the
 * spec changes, retried a few times on a conflict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "bl_time.h"
#include "cli.h"
#include "rollout/cli_rollout.h"
#include "rollout/rollout.h"

static const char rollout_usage[] =
"Usage: bollard rollout status NAME [--timeout DURATION] [--no-wait]\n"
"       bollard rollout pause|resume NAME\n"
"       bollard rollout undo NAME [--to-revision N]\n"
"       bollard rollout history NAME\n"
"\n"
"status   show the rollout's waves and clusters and wait until it completes\n"
"         (exit 0), halts, fails or rolls back (1), or --timeout passes (2);\n"
"         --no-wait prints once (exit 3 while in progress).\n"
"pause    stop admitting clusters (spec.paused: true); resume undoes it.\n"
"undo     undo every governed Target's last change as a new change, rolled\n"
"         out like any: the spec of its previous generation (or of\n"
"         generation N) as a new generation; without --to-revision also a\n"
"         creation (the Target is deleted) or a deletion (created again).\n"
"history  the generations kept for each governed Target, and where each\n"
"         is admitted.\n";

struct ro_opts {
	uint64_t timeout_ms;
	bool no_wait;
	int64_t to_rev;
};

static int ro_set(void *arg, const char *flag, const char *val)
{
	struct ro_opts *o = arg;
	char *end;

	if (!strcmp(flag, "timeout")) {
		if (bl_parse_duration(val, &o->timeout_ms) < 0) {
			fprintf(stderr, "Error: --timeout: bad duration \"%s\"\n", val);
			return -1;
		}
	} else if (!strcmp(flag, "no-wait")) {
		o->no_wait = true;
	} else if (!strcmp(flag, "to-revision")) {
		o->to_rev = strtoll(val, &end, 10);
		if (*end || o->to_rev < 1) {
			fprintf(stderr, "Error: --to-revision: bad generation \"%s\"\n", val);
			return -1;
		}
	}
	return 0;
}

/* Clusters and Targets of a snapshot (sorted by name: the snapshot is
 * sorted by kind, then name). Borrowed pointers. */
struct kinds {
	struct bl_obj **cl, **tg;
	size_t ncl, ntg;
	struct bl_obj **rev;            /* Targets, Volumes, Secrets: what
	                                 * bl_ro_revision hashes           */
	size_t nrev;
};

static int split(const struct store_snap *s, struct kinds *k)
{
	memset(k, 0, sizeof(*k));
	k->cl = calloc(s->n + 1, sizeof(*k->cl));
	k->tg = calloc(s->n + 1, sizeof(*k->tg));
	k->rev = calloc(s->n + 1, sizeof(*k->rev));
	if (!k->cl || !k->tg || !k->rev)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->v[i]->kind, "Cluster"))
			k->cl[k->ncl++] = s->v[i];
		else if (!strcmp(s->v[i]->kind, "Target"))
			k->tg[k->ntg++] = s->v[i];
	}
	/* The fleet controller's order: Targets, Volumes, Secrets. */
	memcpy(k->rev, k->tg, k->ntg * sizeof(*k->rev));
	k->nrev = k->ntg;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->kind, "Volume"))
			k->rev[k->nrev++] = s->v[i];
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i]->kind, "Secret"))
			k->rev[k->nrev++] = s->v[i];
	return 0;
}

static void kinds_free(struct kinds *k)
{
	free(k->cl);
	free(k->tg);
	free(k->rev);
}

static json_t *get_json(struct bl_etcd *e, const char *key)
{
	struct bl_kvs kvs = { 0 };
	json_t *v = NULL;

	if (bl_etcd_get(e, key, false, 1, 0, false, &kvs) == 0 && kvs.n)
		v = json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL);
	bl_kvs_free(&kvs);
	return v;
}

/* ---- status ----------------------------------------------------------------*/

enum { RO_DONE = 0, RO_FAILED = 1, RO_TIMEOUT = 2, RO_RUNNING = 3 };

static void bar(FILE *f, size_t done, size_t total)
{
	size_t w = 30, fill = total ? done * w / total : w;
	fputc('[', f);
	for (size_t i = 0; i < w; i++)
		fputc(i < fill ? '#' : '.', f);
	fprintf(f, "] %zu/%zu clusters", done, total);
}

/*
 * What a poll keeps between polls: the newest revision computed from the
 * stored objects, and the Rollout's spec (the table's canary label).
 * Reading every stored object is the expensive part of a poll (at 1,000
 * clusters, 2,000 objects every 250 ms), so it is done only when the
 * status does not speak of the revision computed last time (an apply
 * landed, or the controller has not caught up), and once more before a
 * final phase is believed: a status is never trusted for a revision older
 * than the store's, as before.
 */
struct pstate {
	bool have;
	char rev[17];
	json_t *ro_spec;
};

static int recompute(struct cli *c, struct bl_etcd *e, const char *name,
		     struct pstate *ps)
{
	struct store_snap snap;
	struct kinds k;
	struct bl_obj *ro;
	int rc = 0;

	if (store_load(c, e, NULL, &snap, NULL) < 0)
		return -1;
	if (split(&snap, &k) < 0) {
		kinds_free(&k);
		store_snap_free(&snap);
		return -1;
	}
	ro = store_find(&snap, "Rollout", name);
	if (!ro) {
		cli_error(c, "rollouts \"%s\" not found", name);
		rc = -1;
	} else {
		bl_ro_revision(ro, k.cl, k.ncl, k.rev, k.nrev, ps->rev);
		json_decref(ps->ro_spec);
		ps->ro_spec = json_incref(ro->spec);
		ps->have = true;
	}
	kinds_free(&k);
	store_snap_free(&snap);
	return rc;
}

static bool final_phase(const char *phase)
{
	return phase && (!strcmp(phase, "Complete") || !strcmp(phase, "Halted") ||
			 !strcmp(phase, "RolledBack"));
}

/*
 * One poll: print (full table when full, else the one-line summary) and
 * return RO_DONE / RO_FAILED / RO_RUNNING, or -1 on error. *line gets the
 * summary line, to print only changes when not on a terminal. The status
 * summary is read each time, the per-cluster entries only for the table.
 */
static int poll_status(struct cli *c, struct bl_etcd *e, const char *name,
		       bool full, char *line, size_t linelen, struct pstate *ps)
{
	json_t *st = NULL, *cl;
	const char *rev, *phase, *srev;
	int ret = RO_RUNNING, rc;
	size_t i;

	rc = bl_ro_status_read(e, name, full, &st, NULL);
	if (rc < 0) {
		cli_etcd_error(c, e, rc, "reading the rollout status");
		return -1;
	}
	phase = json_string_value(json_object_get(st, "phase"));
	srev = json_string_value(json_object_get(st, "revision"));
	if (!ps->have || !st || !srev || strcmp(srev, ps->rev) || final_phase(phase)) {
		if (recompute(c, e, name, ps) < 0) {
			json_decref(st);
			return -1;
		}
	}
	rev = ps->rev;
	if (!st || !phase || !srev || strcmp(srev, rev)) {
		snprintf(line, linelen, "rollout %s: waiting for the rollout controller "
			 "to see revision %s", name, rev);
		if (full)
			fprintf(c->out, "%s\n", line);
		goto out;
	}
	if (!strcmp(phase, "Complete"))
		ret = RO_DONE;
	else if (!strcmp(phase, "Halted") || !strcmp(phase, "RolledBack"))
		ret = RO_FAILED;
	snprintf(line, linelen, "rollout %s: %s, wave %lld/%zu, %lld/%lld updated: %s",
		 name, phase, (long long)json_integer_value(json_object_get(st, "wave")) +
		 (ret == RO_DONE ? 0 : 1),
		 json_array_size(json_object_get(st, "waves")),
		 (long long)json_integer_value(json_object_get(st, "updated")),
		 (long long)json_integer_value(json_object_get(st, "total")),
		 json_string_value(json_object_get(st, "reason")) ?: "");
	if (!full)
		goto out;
	{
		static const char *const hdr[] = { "CLUSTER", "STATE", "ONLINE", "READY",
			"ADMITTED", "LAST TRANSITION", "REASON" };
		static const char *const whdr[] = { "WAVE", "SIZE", "ADMITTED",
			"IN PROGRESS", "HEALTHY", "FAILED" };
		struct table t, wt;
		json_t *w;

		table_init(&wt, 6, whdr);
		json_array_foreach(json_object_get(st, "waves"), i, w) {
			char cells[6][24];
			const char *row[6];
			json_t *cn = json_object_get(json_object_get(ps->ro_spec, "strategy"), "canary");
			snprintf(cells[0], 24, "%s", i == 0 && json_integer_value(cn) > 0 ?
				 "canary" : "");
			if (!cells[0][0])
				snprintf(cells[0], 24, "%zu", i);
			snprintf(cells[1], 24, "%lld", (long long)json_integer_value(json_object_get(w, "size")));
			snprintf(cells[2], 24, "%lld", (long long)json_integer_value(json_object_get(w, "admitted")));
			snprintf(cells[3], 24, "%lld", (long long)json_integer_value(json_object_get(w, "inProgress")));
			snprintf(cells[4], 24, "%lld", (long long)json_integer_value(json_object_get(w, "healthy")));
			snprintf(cells[5], 24, "%lld", (long long)json_integer_value(json_object_get(w, "failed")));
			for (int j = 0; j < 6; j++)
				row[j] = cells[j];
			table_add(&wt, row);
		}
		table_init(&t, 7, hdr);
		json_array_foreach(json_object_get(st, "clusters"), i, cl) {
			char adm[200] = "", *p = adm;
			const char *ok;
			json_t *g;
			const char *row[7];
			json_object_foreach(json_object_get(cl, "revision"), ok, g) {
				const char *slash = strchr(ok, '/');
				int nw = snprintf(p, sizeof(adm) - (size_t)(p - adm), "%s%s@%lld",
						  p == adm ? "" : ",", slash ? slash + 1 : ok,
						  (long long)json_integer_value(g));
				if (nw < 0 || (size_t)nw >= sizeof(adm) - (size_t)(p - adm))
					break;
				p += nw;
			}
			row[0] = json_string_value(json_object_get(cl, "name"));
			row[1] = json_string_value(json_object_get(cl, "state"));
			row[2] = json_is_true(json_object_get(cl, "online")) ? "yes" : "no";
			row[3] = json_is_true(json_object_get(cl, "ready")) ? "yes" : "no";
			row[4] = adm[0] ? adm : "-";
			row[5] = json_string_value(json_object_get(cl, "lastTransitionTime"));
			row[6] = json_string_value(json_object_get(cl, "reason"));
			if (row[6] && !row[6][0])
				row[6] = "-";
			table_add(&t, row);
		}
		fprintf(c->out, "Rollout %s (revision %s): %s\n", name, rev, phase);
		bar(c->out, (size_t)json_integer_value(json_object_get(st, "updated")),
		    (size_t)json_integer_value(json_object_get(st, "total")));
		fprintf(c->out, "  %s\n\n", json_string_value(json_object_get(st, "reason")) ?: "");
		table_print(&wt, c->out);
		fputc('\n', c->out);
		table_print(&t, c->out);
		table_free(&wt);
		table_free(&t);
	}
out:
	json_decref(st);
	return ret;
}

static int rollout_status(struct cli *c, struct bl_etcd *e, const char *name,
			  const struct ro_opts *o)
{
	bool tty = isatty(fileno(c->out));
	uint64_t end = o->timeout_ms ? bl_now_ms() + o->timeout_ms : 0;
	char line[600], last[600] = "";
	struct pstate ps = { .have = false };
	int r;

	if (o->no_wait) {
		r = poll_status(c, e, name, true, line, sizeof(line), &ps);
		json_decref(ps.ro_spec);
		return r < 0 ? 1 : r;
	}
	for (;;) {
		if (tty)
			fputs("\033[H\033[J", c->out);
		r = poll_status(c, e, name, tty, line, sizeof(line), &ps);
		if (r < 0) {
			json_decref(ps.ro_spec);
			return 1;
		}
		if (!tty && strcmp(line, last)) {
			fprintf(c->out, "%s\n", line);
			snprintf(last, sizeof(last), "%s", line);
		}
		fflush(c->out);
		if (r != RO_RUNNING) {
			if (!tty)   /* the final picture */
				poll_status(c, e, name, true, line, sizeof(line), &ps);
			json_decref(ps.ro_spec);
			return r;
		}
		if (end && bl_now_ms() >= end) {
			fprintf(c->out, "rollout %s: timed out while %s\n", name,
				strstr(line, "waiting") ? "waiting" : "in progress");
			json_decref(ps.ro_spec);
			return RO_TIMEOUT;
		}
		usleep(250 * 1000);
	}
}

/* ---- changing stored objects -------------------------------------------------*/

/*
 * Read kind/name, let edit() change it (returns 1 changed, 0 nothing to do,
 * <0 error), store it with generation + 1 under a CAS on mod_revision.
 * Retries BL_E_CONFLICT up to 5 times. Returns 1 stored, 0 unchanged, <0.
 */
static int cas_update(struct bl_etcd *e, const char *kind, const char *name,
		      int (*edit)(void *arg, struct bl_obj *o), void *arg)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct bl_obj *o = NULL;
		char *key = store_key(kind, name), *body = NULL;
		struct bl_cmp cmp;
		struct bl_op op;
		bool ok = false;
		int rc;

		if (!key)
			return -ENOMEM;
		rc = store_get_one(e, kind, name, &o);
		if (rc < 0)
			goto next;
		rc = edit(arg, o);
		if (rc <= 0)
			goto next;
		o->generation++;
		body = bl_obj_to_json(o);
		if (!body) {
			rc = -ENOMEM;
			goto next;
		}
		cmp = (struct bl_cmp){ .key = key, .target = BL_CMP_MOD,
				       .result = BL_CMP_EQ, .rev = o->resource_version };
		op = (struct bl_op){ .type = BL_OP_PUT, .key = key, .value = body,
				     .value_len = strlen(body) };
		rc = bl_etcd_txn(e, &cmp, 1, &op, 1, NULL, 0, &ok, NULL, NULL);
		if (rc == 0)
			rc = ok ? 1 : BL_E_CONFLICT;
next:
		free(body);
		free(key);
		bl_obj_free(o);
		if (rc != BL_E_CONFLICT)
			return rc;
	}
	return BL_E_CONFLICT;
}

static int edit_paused(void *arg, struct bl_obj *o)
{
	bool want = *(bool *)arg;
	if (json_is_true(json_object_get(o->spec, "paused")) == want)
		return 0;
	return json_object_set_new(o->spec, "paused", json_boolean(want)) ? -ENOMEM : 1;
}

struct undo {
	json_t *spec;                   /* the spec to restore (borrowed) */
};

static int edit_spec(void *arg, struct bl_obj *o)
{
	struct undo *u = arg;
	if (json_equal(o->spec, u->spec))
		return 0;
	json_decref(o->spec);
	o->spec = json_deep_copy(u->spec);
	return o->spec ? 1 : -ENOMEM;
}

/* Generations kept in the history of kind/name, ascending; *n of them. */
static int history_gens(struct bl_etcd *e, const char *kind, const char *name,
			int64_t **gens, size_t *n)
{
	struct bl_kvs kvs = { 0 };
	char prefix[400];
	int rc;

	snprintf(prefix, sizeof(prefix), "%s%s/%s/", BL_RO_KEY_HISTORY, kind, name);
	*gens = NULL;
	*n = 0;
	rc = bl_etcd_get(e, prefix, true, 0, 0, true, &kvs);
	if (rc < 0)
		return rc;
	*gens = calloc(kvs.n + 1, sizeof(**gens));
	if (!*gens) {
		bl_kvs_free(&kvs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < kvs.n; i++) {
		int64_t g = atoll(kvs.kvs[i].key + strlen(prefix)), t;
		size_t j = (*n)++;
		(*gens)[j] = g;
		for (; j > 0 && (*gens)[j - 1] > (*gens)[j]; j--) {
			t = (*gens)[j - 1];
			(*gens)[j - 1] = (*gens)[j];
			(*gens)[j] = t;
		}
	}
	bl_kvs_free(&kvs);
	return 0;
}

/* The governed Targets, then Volumes, of rollout name, from a fresh
 * snapshot. */
static int governed(struct cli *c, struct bl_etcd *e, const char *name,
		    struct store_snap *snap, struct kinds *k, struct bl_obj **ro,
		    struct bl_obj ***out, size_t *nout)
{
	int rc = store_load(c, e, NULL, snap, NULL);
	if (rc < 0)
		return rc;
	rc = split(snap, k);
	if (rc < 0)
		return rc;
	*ro = store_find(snap, "Rollout", name);
	if (!*ro) {
		cli_error(c, "rollouts \"%s\" not found", name);
		return -ENOENT;
	}
	*out = calloc(k->nrev + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*nout = 0;
	for (size_t i = 0; i < k->nrev; i++) {
		const char *cn = json_string_value(json_object_get(k->rev[i]->spec, "cluster"));
		struct bl_obj *cl = cn ? store_find(snap, "Cluster", cn) : NULL;
		if (bl_ro_governs(*ro, cl, k->rev[i]))
			(*out)[(*nout)++] = k->rev[i];
	}
	return 0;
}

/*
 * Existence, for undo (without --to-revision): each governed Target's last
 * change is undone, creation and deletion included, as the admission
 * records tell them. A cluster's record names in "previous" what the
 * cluster ran before its last admission, and in "objects" what it runs:
 *   - a Target that no longer exists but a record names (in "objects":
 *     deletion not admitted yet; in "previous": admitted by the cluster's
 *     last admission) is created again from its kept copy, at the
 *     generation after the newest kept one;
 *   - a governed Target that its cluster's record does not name in
 *     "previous" was created by that cluster's last admission, or is not
 *     admitted yet: it is deleted (the deletion rolls out in waves, and
 *     deleting a Target never deletes its Volumes or their data).
 *     A governed Volume created that way is kept: deleting a Volume can
 *     delete its data (deletionPolicy Delete), which no undo may do; undo
 *     says so, and deleting it is left to the operator;
 *   - a deleted Volume that a record names is created again, like a
 *     Target.
 * Both are compare-and-swap writes, like apply's. *skip (one per tg[])
 * is set for the deleted ones, which the generation undo then leaves.
 */
static int undo_existence(struct cli *c, struct bl_etcd *e, const char *name,
			  const struct store_snap *snap, struct bl_obj **tg,
			  size_t n, bool *skip, size_t *changed)
{
	struct bl_kvs recs = { 0 };
	json_t *done = json_object();
	char prefix[400];
	int rc;

	snprintf(prefix, sizeof(prefix), "%s%s/admitted/", BL_RO_KEY_ROLLOUTS, name);
	rc = done ? bl_etcd_get(e, prefix, true, 0, 0, false, &recs) : -ENOMEM;
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *cn = json_string_value(json_object_get(tg[i]->spec, "cluster"));
		char rkey[600], okey[300], *key;
		json_t *rec = NULL;
		struct bl_cmp cmp;
		struct bl_op op;
		bool ok = false;

		snprintf(rkey, sizeof(rkey), "%s%s", prefix, cn ? cn : "");
		for (size_t r = 0; r < recs.n && !rec; r++)
			if (!strcmp(recs.kvs[r].key, rkey))
				rec = json_loadb(recs.kvs[r].value, recs.kvs[r].value_len, 0, NULL);
		snprintf(okey, sizeof(okey), "%s/%s", tg[i]->kind, tg[i]->name);
		if (!rec || json_object_get(json_object_get(rec, "previous"), okey)) {
			json_decref(rec);
			continue;
		}
		json_decref(rec);
		if (!strcmp(tg[i]->kind, "Volume")) {
			fprintf(c->out, "volume/%s: kept: its creation is not undone "
				"(undo never deletes a Volume: that can delete its data)\n",
				tg[i]->name);
			skip[i] = true;
			continue;
		}
		key = store_key("Target", tg[i]->name);
		if (!key) {
			rc = -ENOMEM;
			goto out;
		}
		cmp = (struct bl_cmp){ .key = key, .target = BL_CMP_MOD,
				       .result = BL_CMP_EQ, .rev = tg[i]->resource_version };
		op = (struct bl_op){ .type = BL_OP_DELETE, .key = key };
		rc = bl_etcd_txn(e, &cmp, 1, &op, 1, NULL, 0, &ok, NULL, NULL);
		free(key);
		if (rc == 0 && !ok)
			rc = BL_E_CONFLICT;
		if (rc < 0) {
			cli_etcd_error(c, e, rc, "deleting the target");
			goto out;
		}
		skip[i] = true;
		(*changed)++;
		fprintf(c->out, "target/%s: deleted (its creation is undone)\n", tg[i]->name);
	}
	for (size_t r = 0; r < recs.n; r++) {
		json_t *rec = json_loadb(recs.kvs[r].value, recs.kvs[r].value_len, 0, NULL);
		const char *sets[2] = { "objects", "previous" }, *k;
		json_t *v;

		for (int s = 0; s < 2; s++) {
			json_object_foreach(json_object_get(rec, sets[s]), k, v) {
				const char *tn = !strncmp(k, "Target/", 7) ||
						 !strncmp(k, "Volume/", 7) ? k + 7 : NULL;
				const char *kind = *k == 'T' ? "Target" : "Volume";
				const char *word = *k == 'T' ? "target" : "volume";
				int64_t *gens = NULL, gen = json_integer_value(v);
				size_t ng = 0;
				struct bl_obj *ho = NULL;
				char hkey[600], *key = NULL, *body = NULL, *dump = NULL;
				json_t *h;
				struct bl_cmp cmp;
				struct bl_op op;
				bool ok = false;

				if (!tn || store_find(snap, kind, tn) || json_object_get(done, k))
					continue;
				json_object_set_new(done, k, json_true());
				snprintf(hkey, sizeof(hkey), "%s%s/%s/%lld", BL_RO_KEY_HISTORY,
					 kind, tn, (long long)gen);
				h = get_json(e, hkey);
				dump = h ? json_dumps(h, JSON_COMPACT) : NULL;
				json_decref(h);
				if (!dump || bl_obj_from_json(dump, strlen(dump), &ho, NULL) < 0 ||
				    history_gens(e, kind, tn, &gens, &ng) < 0) {
					fprintf(c->err, "%s/%s: generation %lld is not in the "
						"history; not created again\n", word, tn, (long long)gen);
					free(dump);
					bl_obj_free(ho);
					continue;
				}
				free(dump);
				/* Generations only grow, across a deletion too. */
				ho->generation = (ng ? gens[ng - 1] : gen) + 1;
				ho->resource_version = 0;
				free(gens);
				key = store_key(kind, tn);
				body = bl_obj_to_json(ho);
				if (key && body) {
					cmp = (struct bl_cmp){ .key = key, .target = BL_CMP_CREATE,
							       .result = BL_CMP_EQ, .rev = 0 };
					op = (struct bl_op){ .type = BL_OP_PUT, .key = key,
							     .value = body, .value_len = strlen(body) };
					rc = bl_etcd_txn(e, &cmp, 1, &op, 1, NULL, 0, &ok, NULL, NULL);
				} else {
					rc = -ENOMEM;
				}
				if (rc == 0 && ok) {
					fprintf(c->out, "%s/%s: created again as generation %lld "
						"with the spec of generation %lld (its deletion is "
						"undone)\n", word, tn, (long long)ho->generation,
						(long long)gen);
					(*changed)++;
				} else if (rc == 0) {
					fprintf(c->out, "%s/%s: exists again already\n", word, tn);
				}
				free(key);
				free(body);
				bl_obj_free(ho);
				if (rc < 0) {
					cli_etcd_error(c, e, rc, *k == 'T' ? "creating the target"
						       : "creating the volume");
					json_decref(rec);
					goto out;
				}
			}
		}
		json_decref(rec);
	}
	rc = 0;
out:
	json_decref(done);
	bl_kvs_free(&recs);
	return rc;
}

static int edit_data(void *arg, struct bl_obj *o)
{
	struct undo *u = arg;
	if (json_equal(o->data, u->spec))
		return 0;
	json_decref(o->data);
	o->data = json_deep_copy(u->spec);
	return o->data ? 1 : -ENOMEM;
}

static int collect_secret(void *arg, const char *kind, const char *name,
			  const char *path)
{
	(void)path;
	if (!strcmp(kind, "Secret"))
		json_object_set_new(arg, name, json_true());
	return 0;
}

/*
 * The Secrets the governed Targets use are governed with them: undo gives
 * each the data of its newest kept generation before the current one, as
 * a new generation (values are never printed).
 */
static int undo_secrets(struct cli *c, struct bl_etcd *e, struct bl_obj **tg,
			size_t n, size_t *changed)
{
	json_t *names = json_object(), *v;
	const char *sn;
	int rc = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		bl_obj_foreach_ref(tg[i], collect_secret, names);
	json_object_foreach(names, sn, v) {
		struct bl_obj *cur = NULL, *ho = NULL;
		int64_t *gens = NULL, to = 0;
		size_t ng = 0;
		char key[400], *dump;
		json_t *h;
		struct undo u;

		if (store_get_one(e, "Secret", sn, &cur) < 0)
			continue;
		rc = history_gens(e, "Secret", sn, &gens, &ng);
		if (rc < 0) {
			bl_obj_free(cur);
			break;
		}
		for (size_t j = 0; j < ng; j++)
			if (gens[j] < cur->generation)
				to = gens[j];
		free(gens);
		if (!to) {
			bl_obj_free(cur);
			continue;       /* never changed under the rollout */
		}
		snprintf(key, sizeof(key), "%sSecret/%s/%lld", BL_RO_KEY_HISTORY, sn,
			 (long long)to);
		h = get_json(e, key);
		dump = h ? json_dumps(h, JSON_COMPACT) : NULL;
		json_decref(h);
		if (!dump || bl_obj_from_json(dump, strlen(dump), &ho, NULL) < 0) {
			fprintf(c->err, "secret/%s: generation %lld is not in the history\n",
				sn, (long long)to);
			free(dump);
			bl_obj_free(cur);
			continue;
		}
		free(dump);
		u.spec = ho->data;
		rc = cas_update(e, "Secret", sn, edit_data, &u);
		if (rc < 0) {
			cli_etcd_error(c, e, rc, "updating the secret");
		} else if (rc > 0) {
			fprintf(c->out, "secret/%s: generation %lld restores the data of generation %lld\n",
				sn, (long long)cur->generation + 1, (long long)to);
			(*changed)++;
		}
		bl_obj_free(ho);
		bl_obj_free(cur);
		if (rc < 0)
			break;
		rc = 0;
	}
	json_decref(names);
	return rc;
}

static int rollout_undo(struct cli *c, struct bl_etcd *e, const char *name,
			const struct ro_opts *o)
{
	struct store_snap snap = { 0 };
	struct kinds k = { 0 };
	struct bl_obj *ro, **tg = NULL;
	size_t n = 0, changed = 0;
	bool *skip = NULL;
	int rc, ret = 1;

	rc = governed(c, e, name, &snap, &k, &ro, &tg, &n);
	if (rc < 0)
		goto out;
	skip = calloc(n + 1, sizeof(*skip));
	if (!skip)
		goto out;
	if (!o->to_rev && undo_existence(c, e, name, &snap, tg, n, skip, &changed) < 0)
		goto out;
	if (!n && !changed) {
		cli_error(c, "rollout %s governs no Target or Volume", name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t *gens = NULL, to = o->to_rev;
		size_t ng = 0;
		char key[400];
		json_t *h;
		struct bl_obj *ho = NULL;
		struct undo u;
		char *dump;

		const char *word = !strcmp(tg[i]->kind, "Volume") ? "volume" : "target";

		if (skip[i])
			continue;
		rc = history_gens(e, tg[i]->kind, tg[i]->name, &gens, &ng);
		if (rc < 0)
			goto out;
		if (!to)   /* the newest kept generation before the current one */
			for (size_t j = 0; j < ng; j++)
				if (gens[j] < tg[i]->generation)
					to = gens[j];
		free(gens);
		if (!to || to >= tg[i]->generation) {
			fprintf(c->err, "%s/%s: no earlier generation in the history\n",
				word, tg[i]->name);
			continue;
		}
		snprintf(key, sizeof(key), "%s%s/%s/%lld", BL_RO_KEY_HISTORY,
			 tg[i]->kind, tg[i]->name, (long long)to);
		h = get_json(e, key);
		dump = h ? json_dumps(h, JSON_COMPACT) : NULL;
		json_decref(h);
		if (!dump || bl_obj_from_json(dump, strlen(dump), &ho, NULL) < 0) {
			fprintf(c->err, "%s/%s: generation %lld is not in the history\n",
				word, tg[i]->name, (long long)to);
			free(dump);
			continue;
		}
		free(dump);
		u.spec = ho->spec;
		rc = cas_update(e, tg[i]->kind, tg[i]->name, edit_spec, &u);
		bl_obj_free(ho);
		if (rc < 0) {
			cli_etcd_error(c, e, rc, *word == 't' ? "updating the target"
				       : "updating the volume");
			goto out;
		}
		if (rc > 0) {
			fprintf(c->out, "%s/%s: generation %lld restores the spec of generation %lld\n",
				word, tg[i]->name, (long long)tg[i]->generation + 1, (long long)to);
			changed++;
		} else {
			fprintf(c->out, "%s/%s: already at the spec of generation %lld\n",
				word, tg[i]->name, (long long)to);
		}
	}
	if (!o->to_rev && undo_secrets(c, e, tg, n, &changed) < 0)
		goto out;
	fprintf(c->out, "rollout %s: %zu object(s) changed back; the change rolls out in waves\n",
		name, changed);
	ret = 0;
out:
	free(skip);
	free(tg);
	kinds_free(&k);
	store_snap_free(&snap);
	return ret;
}

/* The kept generations of kind/name as rows of t: where each is admitted
 * (the records in recs, keys under prefix), "*" at the current one. */
static void history_rows(struct bl_etcd *e, const char *kind, const char *name,
			 int64_t cur, const struct bl_kvs *recs, const char *prefix,
			 struct table *t)
{
	int64_t *gens = NULL;
	size_t ng = 0;
	char okey[300];

	if (history_gens(e, kind, name, &gens, &ng) < 0)
		return;
	snprintf(okey, sizeof(okey), "%s/%s", kind, name);
	for (size_t j = 0; j < ng; j++) {
		char g[24], where[300] = "";
		const char *row[4];
		size_t used = 0;
		for (size_t r = 0; r < recs->n; r++) {
			json_t *rec = json_loadb(recs->kvs[r].value, recs->kvs[r].value_len, 0, NULL);
			json_t *ag = json_object_get(json_object_get(rec, "objects"), okey);
			if (json_integer_value(ag) == gens[j] && used < sizeof(where)) {
				int w = snprintf(where + used, sizeof(where) - used, "%s%s",
						 used ? "," : "", recs->kvs[r].key + strlen(prefix));
				if (w > 0)
					used += (size_t)w;
			}
			json_decref(rec);
		}
		snprintf(g, sizeof(g), "%lld", (long long)gens[j]);
		row[0] = name;
		row[1] = g;
		row[2] = gens[j] == cur ? "*" : "";
		row[3] = where[0] ? where : "-";
		table_add(t, row);
	}
	free(gens);
}

static int rollout_history(struct cli *c, struct bl_etcd *e, const char *name)
{
	static const char *const hdr[] = { "TARGET", "GENERATION", "CURRENT", "ADMITTED TO" };
	static const char *const shdr[] = { "SECRET", "GENERATION", "CURRENT", "ADMITTED TO" };
	static const char *const vhdr[] = { "VOLUME", "GENERATION", "CURRENT", "ADMITTED TO" };
	size_t nt = 0;
	struct store_snap snap = { 0 };
	struct kinds k = { 0 };
	struct bl_obj *ro, **tg = NULL;
	struct bl_kvs recs = { 0 };
	struct table t;
	json_t *secrets = NULL, *v;
	const char *sn;
	size_t n = 0;
	char prefix[400];
	int rc, ret = 1;

	rc = governed(c, e, name, &snap, &k, &ro, &tg, &n);
	if (rc < 0)
		goto out;
	snprintf(prefix, sizeof(prefix), "%s%s/admitted/", BL_RO_KEY_ROLLOUTS, name);
	if ((rc = bl_etcd_get(e, prefix, true, 0, 0, false, &recs)) < 0) {
		cli_etcd_error(c, e, rc, "reading admissions");
		goto out;
	}
	table_init(&t, 4, hdr);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tg[i]->kind, "Target")) {
			history_rows(e, "Target", tg[i]->name, tg[i]->generation, &recs, prefix, &t);
			nt++;
		}
	table_print(&t, c->out);
	table_free(&t);
	if (nt < n) {   /* governed Volumes */
		table_init(&t, 4, vhdr);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(tg[i]->kind, "Volume"))
				history_rows(e, "Volume", tg[i]->name, tg[i]->generation,
					     &recs, prefix, &t);
		fputc('\n', c->out);
		table_print(&t, c->out);
		table_free(&t);
	}
	/* The Secrets governed with those Targets (values never shown). */
	secrets = json_object();
	for (size_t i = 0; secrets && i < n; i++)
		bl_obj_foreach_ref(tg[i], collect_secret, secrets);
	if (json_object_size(secrets)) {
		table_init(&t, 4, shdr);
		json_object_foreach(secrets, sn, v) {
			const struct bl_obj *so = store_find(&snap, "Secret", sn);
			history_rows(e, "Secret", sn, so ? so->generation : 0, &recs, prefix, &t);
		}
		fputc('\n', c->out);
		table_print(&t, c->out);
		table_free(&t);
	}
	ret = 0;
out:
	json_decref(secrets);
	bl_kvs_free(&recs);
	free(tg);
	kinds_free(&k);
	store_snap_free(&snap);
	return ret;
}

int cmd_rollout(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "timeout", 0, CLI_ARG, ro_set },
		{ "no-wait", 0, CLI_NOARG, ro_set },
		{ "to-revision", 0, CLI_ARG, ro_set },
		{ 0 },
	};
	struct ro_opts o = { 0 };
	struct bl_etcd *e = NULL;
	const char *sub, *name;
	int n, ret = 1, rc;

	n = cli_parse(c, argc, argv, flags, &o, rollout_usage);
	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n != 2) {
		fputs(rollout_usage, c->err);
		return 1;
	}
	sub = argv[1];
	name = argv[2];
	if (strcmp(sub, "status") && strcmp(sub, "pause") && strcmp(sub, "resume") &&
	    strcmp(sub, "undo") && strcmp(sub, "history")) {
		cli_error(c, "unknown rollout command \"%s\"", sub);
		fputs(rollout_usage, c->err);
		return 1;
	}
	if (cli_connect(c, &e) < 0)
		return 1;
	if (!strcmp(sub, "status")) {
		ret = rollout_status(c, e, name, &o);
	} else if (!strcmp(sub, "pause") || !strcmp(sub, "resume")) {
		bool want = !strcmp(sub, "pause");
		rc = cas_update(e, "Rollout", name, edit_paused, &want);
		if (rc == -ENOENT)
			cli_error(c, "rollouts \"%s\" not found", name);
		else if (rc < 0)
			cli_etcd_error(c, e, rc, "updating the rollout");
		else
			fprintf(c->out, "rollout.bollard.io/%s %s%s\n", name,
				want ? "paused" : "resumed", rc ? "" : " (already)");
		ret = rc < 0;
	} else if (!strcmp(sub, "undo")) {
		ret = rollout_undo(c, e, name, &o);
	} else {
		ret = rollout_history(c, e, name);
	}
	bl_etcd_close(e);
	return ret;
}
