/*
 * apply.c - `bollard apply` and `bollard diff`.
 *
 * apply: parse every -f source (all errors, then exit 1 before touching
 * etcd), read one snapshot of the stored objects the applied ones can depend
 * on (all of them with --prune; store_load_for), check references against
 * the applied set plus the snapshot, build a plan (plan.c), and commit it as
 * compare-and-swap transactions: each written key is compared on its
 * mod_revision as read (0 = must not exist), each pruned key likewise. When
 * any compare fails someone else wrote in between: throw the plan away,
 * re-read and re-plan, up to APPLY_ATTEMPTS times. Nothing changed means no
 * transaction at all, so a repeated apply leaves etcd's revision alone.
 *
 * Atomicity: the whole plan is one transaction when it fits etcd's
 * --max-txn-ops (128 by default). Larger plans are split into transactions
 * of up to 128 operations, committed in apply order (Clusters, Secrets,
 * Volumes, Targets, Rollouts), so a reader may see a prefix of the change,
 * never a Target before its Volumes. A conflict in a later chunk re-plans;
 * what earlier chunks wrote then reads back as unchanged and is reported
 * with the verb it got when written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli.h"
#include "rollout/rollout.h"

#define APPLY_ATTEMPTS 20
#define APPLY_WAIT_DEFAULT_MS 60000

enum out_fmt { OUT_DEFAULT, OUT_NAME, OUT_YAML, OUT_JSON, OUT_WIDE };

struct apply_opts {
	struct cli *c;
	const char **files;
	size_t nfiles;
	bool dry_run;
	bool prune;
	const char *selector;
	enum out_fmt out;
	bool is_diff;
	bool wait;                  /* --wait                                 */
	uint64_t wait_ms;           /* 0: default                             */
	const char *timeout;        /* --timeout (the wait's, with --wait)    */
};

static int apply_set(void *arg, const char *flag, const char *val)
{
	struct apply_opts *o = arg;

	if (!strcmp(flag, "filename")) {
		const char **f = realloc(o->files,
					 (o->nfiles + 1) * sizeof(*f));

		if (!f) {
			cli_error(o->c, "out of memory");
			return -1;
		}
		o->files = f;
		f[o->nfiles++] = val;
	} else if (!strcmp(flag, "dry-run")) {
		o->dry_run = true;
	} else if (!strcmp(flag, "prune")) {
		o->prune = true;
	} else if (!strcmp(flag, "selector")) {
		o->selector = val;
	} else if (!strcmp(flag, "wait")) {
		o->wait = true;
	} else if (!strcmp(flag, "timeout")) {
		o->timeout = val;
	} else if (!strcmp(flag, "output")) {
		if (!strcmp(val, "name"))
			o->out = OUT_NAME;
		else if (!strcmp(val, "yaml"))
			o->out = OUT_YAML;
		else if (!strcmp(val, "json"))
			o->out = OUT_JSON;
		else {
			cli_error(o->c, "unsupported output format \"%s\" "
				  "(name, yaml, json)", val);
			return -1;
		}
	}
	return 0;
}

static const char apply_usage[] =
"Usage: bollard apply -f FILE|DIR|URL|- [-f ...] [flags]\n"
"\n"
"Create or update objects from YAML/JSON. Directories are read recursively\n"
"(*.yaml, *.yml, *.json). Prints one line per object: created, configured\n"
"or unchanged. Applying the same files twice writes nothing.\n"
"\n"
"Flags:\n"
"  -f, --filename SRC   file, directory, http(s):// URL, or - for stdin\n"
"      --dry-run        show what would happen, write nothing\n"
"      --prune          delete stored objects matching -l that the files\n"
"                       no longer contain (requires -l)\n"
"  -l, --selector SEL   only apply objects with these labels (k=v,k2!=v2)\n"
"  -o, --output FMT     name | yaml | json (the objects as stored)\n"
"      --wait           after writing, wait until every applied Target (and\n"
"                       replicated Volume) reports Ready at the applied\n"
"                       generation on every node that reports it; prints\n"
"                       progress; exit 1 on Degraded or timeout\n"
"      --timeout D      with --wait: how long to wait (default 60s);\n"
"                       without: the global per-etcd-request timeout\n";

static const char diff_usage[] =
"Usage: bollard diff -f FILE|DIR|URL|- [-f ...]\n"
"\n"
"Unified diff of each stored object against what apply would store (new\n"
"objects against nothing). Secret values are never shown.\n"
"Exit status: 0 no differences, 1 differences, 2 error.\n"
"\n"
"Flags:\n"
"  -f, --filename SRC   file, directory, http(s):// URL, or - for stdin\n"
"  -l, --selector SEL   only diff objects with these labels\n"
"      --prune          also show labelled objects apply --prune would delete\n";

static const struct cli_flag apply_flags[] = {
	{ "filename", 'f', CLI_ARG, apply_set },
	{ "dry-run", 0, CLI_NOARG, apply_set },
	{ "prune", 0, CLI_NOARG, apply_set },
	{ "selector", 'l', CLI_ARG, apply_set },
	{ "output", 'o', CLI_ARG, apply_set },
	{ "wait", 0, CLI_NOARG, apply_set },
	{ "timeout", 0, CLI_ARG, apply_set },
	{ 0 },
};

/* Parse sources, keep objects matching -l, and print every diagnostic.
 * Returns 0 or the error code (messages printed). */
static int load_inputs(struct apply_opts *o, const struct selector *sel,
		       struct bl_objlist *list)
{
	struct bl_diag d = { 0 };
	int rc;

	rc = input_load(o->files, o->nfiles, list, &d);
	bl_diag_print(&d, o->c->err);
	if (rc == 0 && bl_diag_count(&d))
		rc = BL_E_INVALID;
	bl_diag_free(&d);
	if (rc < 0) {
		if (rc == -ENOMEM)
			cli_error(o->c, "out of memory");
		return rc;
	}
	if (sel) {
		size_t k = 0;

		for (size_t i = 0; i < list->n; i++) {
			if (selector_match(sel, list->v[i]->labels))
				list->v[k++] = list->v[i];
			else
				bl_obj_free(list->v[i]);
		}
		list->n = k;
	}
	bl_objlist_sort_apply(list);
	return 0;
}

/* ---- reference checks for deletes ---------------------------------------*/

struct ref_ctx {
	const struct plan *p;
	const char *from;           /* "target/x" of the referrer             */
	struct cli *c;
	int bad;
};

static bool plan_prunes(const struct plan *p, const char *kind,
			const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].act == ACT_PRUNED &&
		    !strcmp(p->v[i].obj->kind, kind) &&
		    !strcmp(p->v[i].obj->name, name))
			return true;
	return false;
}

static int ref_cb(void *arg, const char *kind, const char *name,
		  const char *path)
{
	struct ref_ctx *r = arg;
	char kb[32];

	if (plan_prunes(r->p, kind, name)) {
		cli_error(r->c, "cannot prune %s/%s: %s still refers to it "
			  "(%s)", kind_lower(kind, kb, sizeof(kb)), name,
			  r->from, path);
		r->bad++;
	}
	return 0;
}

/* An object that stays must not refer to a pruned one. */
static int check_prune_refs(struct cli *c, const struct plan *p,
			    const struct store_snap *snap)
{
	struct ref_ctx r = { .p = p, .c = c };
	char from[160], kb[32];

	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].act == ACT_PRUNED)
			continue;
		snprintf(from, sizeof(from), "%s/%s",
			 kind_lower(p->v[i].obj->kind, kb, sizeof(kb)),
			 p->v[i].obj->name);
		r.from = from;
		bl_obj_foreach_ref(p->v[i].obj, ref_cb, &r);
	}
	for (size_t i = 0; i < snap->n; i++) {
		const struct bl_obj *s = snap->v[i];
		bool kept = !plan_prunes(p, s->kind, s->name);

		for (size_t j = 0; kept && j < p->n; j++)
			if (p->v[j].stored == s)
				kept = false; /* its new version was checked */
		if (!kept)
			continue;
		snprintf(from, sizeof(from), "%s/%s",
			 kind_lower(s->kind, kb, sizeof(kb)), s->name);
		r.from = from;
		bl_obj_foreach_ref(s, ref_cb, &r);
	}
	return r.bad ? BL_E_IN_USE : 0;
}

/* ---- committing ----------------------------------------------------------*/

/* Verbs of objects written by an earlier chunk of a failed attempt. */
struct done_list {
	char **key;
	enum plan_act *act;
	size_t n;
};

static int done_add(struct done_list *dl, const char *key, enum plan_act a)
{
	char **k = realloc(dl->key, (dl->n + 1) * sizeof(*k));
	enum plan_act *v;

	if (!k)
		return -ENOMEM;
	dl->key = k;
	v = realloc(dl->act, (dl->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	dl->act = v;
	k[dl->n] = strdup(key);
	if (!k[dl->n])
		return -ENOMEM;
	v[dl->n++] = a;
	return 0;
}

static int done_find(const struct done_list *dl, const char *key)
{
	for (size_t i = dl->n; i-- > 0;)
		if (!strcmp(dl->key[i], key))
			return (int)dl->act[i];
	return -1;
}

static void done_free(struct done_list *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		free(dl->key[i]);
	free(dl->key);
	free(dl->act);
}

static char *guard_key(const char *cluster)
{
	char *k = NULL;

	if (asprintf(&k, "%s%s", CLI_KEY_MINORS, cluster) < 0)
		return NULL;
	return k;
}

/* Read the guards at the snapshot's revision (see plan.c). */
static int read_guards(struct cli *c, struct bl_etcd *e, struct plan *p,
		       int64_t revision)
{
	p->guard_mod = calloc(p->nguards + 1, sizeof(*p->guard_mod));
	if (!p->guard_mod)
		return -ENOMEM;
	for (size_t i = 0; i < p->nguards; i++) {
		struct bl_kvs kvs = { 0 };
		char *k = guard_key(p->guards[i]);
		int rc;

		if (!k)
			return -ENOMEM;
		rc = bl_etcd_get(e, k, false, 1, revision, true, &kvs);
		free(k);
		if (rc < 0) {
			cli_etcd_error(c, e, rc, "reading minor guard");
			return rc;
		}
		p->guard_mod[i] = kvs.n ? kvs.kvs[0].mod_revision : 0;
		bl_kvs_free(&kvs);
	}
	return 0;
}

/*
 * Commit p's changes in chunks. Returns 0, BL_E_CONFLICT (some compare
 * failed: re-plan), or another error (printed). Items committed are marked
 * done and recorded in dl.
 */
static int commit_plan(struct cli *c, struct bl_etcd *e, struct plan *p,
		       struct done_list *dl, size_t *ntxn)
{
	size_t nchg = 0, per, i = 0;
	struct bl_cmp *cmps = NULL;
	struct bl_op *ops = NULL;
	char **keys = NULL;
	char **gkeys = NULL;
	int rc = 0;

	for (size_t k = 0; k < p->n; k++)
		if (p->v[k].act != ACT_UNCHANGED)
			nchg++;
	if (nchg == 0)
		return 0;
	if (p->nguards >= CLI_MAX_TXN_OPS / 2) {
		cli_error(c, "too many clusters allocate minors in one apply "
			  "(%zu); split the files", p->nguards);
		return -E2BIG;
	}
	per = CLI_MAX_TXN_OPS - p->nguards;
	cmps = calloc(CLI_MAX_TXN_OPS, sizeof(*cmps));
	ops = calloc(CLI_MAX_TXN_OPS, sizeof(*ops));
	keys = calloc(p->n + 1, sizeof(*keys));
	gkeys = calloc(p->nguards + 1, sizeof(*gkeys));
	if (!cmps || !ops || !keys || !gkeys) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t g = 0; g < p->nguards; g++)
		if (!(gkeys[g] = guard_key(p->guards[g]))) {
			rc = -ENOMEM;
			goto out;
		}
	while (i < p->n) {
		size_t n = 0, first = i;
		bool ok = false;
		int64_t rev = 0;

		for (; i < p->n && n < per; i++) {
			struct plan_item *it = &p->v[i];

			if (it->act == ACT_UNCHANGED)
				continue;
			keys[i] = store_key(it->obj->kind, it->obj->name);
			if (!keys[i]) {
				rc = -ENOMEM;
				goto out;
			}
			cmps[n] = (struct bl_cmp){
				.key = keys[i], .target = BL_CMP_MOD,
				.result = BL_CMP_EQ,
				.rev = it->stored ?
					it->stored->resource_version : 0,
			};
			if (it->act == ACT_PRUNED)
				ops[n] = (struct bl_op){
					.type = BL_OP_DELETE, .key = keys[i] };
			else
				ops[n] = (struct bl_op){
					.type = BL_OP_PUT, .key = keys[i],
					.value = it->json,
					.value_len = strlen(it->json) };
			n++;
		}
		if (n == 0)
			break;
		for (size_t g = 0; g < p->nguards; g++) {
			cmps[n] = (struct bl_cmp){
				.key = gkeys[g], .target = BL_CMP_MOD,
				.result = BL_CMP_EQ, .rev = p->guard_mod[g] };
			ops[n] = (struct bl_op){
				.type = BL_OP_PUT, .key = gkeys[g],
				.value = p->guards[g],
				.value_len = strlen(p->guards[g]) };
			n++;
		}
		rc = bl_etcd_txn(e, cmps, n, ops, n, NULL, 0, &ok, NULL, &rev);
		if (rc < 0) {
			cli_etcd_error(c, e, rc, "apply transaction");
			goto out;
		}
		(*ntxn)++;
		if (!ok) {
			rc = BL_E_CONFLICT;
			goto out;
		}
		for (size_t g = 0; g < p->nguards; g++)
			p->guard_mod[g] = rev;
		for (size_t k = first; k < i; k++) {
			if (p->v[k].act == ACT_UNCHANGED)
				continue;
			p->v[k].done = true;
			if (done_add(dl, keys[k], p->v[k].act) < 0) {
				rc = -ENOMEM;
				goto out;
			}
		}
	}
out:
	for (size_t k = 0; keys && k < p->n; k++)
		free(keys[k]);
	for (size_t g = 0; gkeys && g < p->nguards; g++)
		free(gkeys[g]);
	free(keys);
	free(gkeys);
	free(cmps);
	free(ops);
	return rc;
}

/* ---- output --------------------------------------------------------------*/

static const char *act_verb(enum plan_act a)
{
	switch (a) {
	case ACT_CREATED:    return "created";
	case ACT_CONFIGURED: return "configured";
	case ACT_PRUNED:     return "pruned";
	default:             return "unchanged";
	}
}

/*
 * The object as it would read back from etcd: through the canonical JSON,
 * so keys come out sorted like a stored object's (a freshly parsed object
 * keeps the file's key order, which would make every diff noisy).
 */
static json_t *obj_value_redacted(const struct bl_obj *o, unsigned flags)
{
	char *js = bl_obj_to_json(o);
	struct bl_obj *d = NULL;
	json_t *v;

	if (!js)
		return NULL;
	if (bl_obj_from_json(js, strlen(js), &d, NULL) < 0)
		d = NULL;
	free(js);
	if (!d)
		return NULL;
	d->resource_version = o->resource_version;
	if (bl_obj_redact(d) < 0) {
		bl_obj_free(d);
		return NULL;
	}
	v = bl_obj_to_value(d, flags);
	bl_obj_free(d);
	return v;
}

static void print_results(struct apply_opts *o, const struct plan *p,
			  const struct done_list *dl)
{
	FILE *f = o->c->out;
	json_t *items = NULL;

	if (o->out == OUT_YAML || o->out == OUT_JSON)
		items = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_item *it = &p->v[i];
		enum plan_act a = it->act;

		if (a == ACT_UNCHANGED) {
			char *k = store_key(it->obj->kind, it->obj->name);
			int prev = k ? done_find(dl, k) : -1;

			free(k);
			if (prev >= 0)
				a = (enum plan_act)prev;
		}
		if (items) {
			if (a != ACT_PRUNED)
				json_array_append_new(items,
					obj_value_redacted(it->obj, 0));
			continue;
		}
		print_kind_name(f, it->obj);
		if (o->out == OUT_NAME)
			fputc('\n', f);
		else
			fprintf(f, " %s%s\n", act_verb(a),
				o->dry_run ? " (dry run)" : "");
	}
	/* Prunes an earlier chunk of a retried apply already committed are
	 * gone from the final plan's snapshot: report them from dl. */
	for (size_t i = 0; !items && i < dl->n; i++) {
		const char *k = dl->key[i] + strlen(CLI_KEY_OBJECTS);
		const char *slash = strchr(k, '/');
		bool listed = false;
		char kb[32];

		if (dl->act[i] != ACT_PRUNED || !slash)
			continue;
		for (size_t j = 0; j < p->n && !listed; j++)
			listed = p->v[j].act == ACT_PRUNED &&
				 !strncmp(p->v[j].obj->kind, k,
					  (size_t)(slash - k)) &&
				 !p->v[j].obj->kind[slash - k] &&
				 !strcmp(p->v[j].obj->name, slash + 1);
		if (listed)
			continue;
		snprintf(kb, sizeof(kb), "%.*s", (int)(slash - k), k);
		kind_lower(kb, kb, sizeof(kb));
		if (o->out == OUT_NAME)
			fprintf(f, "%s/%s\n", kb, slash + 1);
		else
			fprintf(f, "%s/%s pruned\n", kb, slash + 1);
	}
	if (!items)
		return;
	if (o->out == OUT_JSON) {
		json_t *v = json_array_size(items) == 1 ?
			json_incref(json_array_get(items, 0)) :
			json_pack("{s:s,s:s,s:O}", "apiVersion",
				  BL_API_VERSION, "kind", "List", "items",
				  items);

		json_dumpf(v, f, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', f);
		json_decref(v);
	} else {
		for (size_t i = 0; i < json_array_size(items); i++) {
			if (i)
				fputs("---\n", f);
			bl_json_print_yaml(json_array_get(items, i), f);
		}
	}
	json_decref(items);
}

/* ---- the shared front half ----------------------------------------------*/

struct prepared {
	struct bl_objlist list;
	struct selector sel;        /* -l                                     */
	bool have_sel;
	struct bl_etcd *e;
};

static int prepare(struct apply_opts *o, int argc, char **argv,
		   const char *usage, struct prepared *pr)
{
	char errbuf[256];
	int n;

	memset(pr, 0, sizeof(*pr));
	bl_objlist_init(&pr->list);
	n = cli_parse(o->c, argc, argv, apply_flags, o, usage);
	if (n < 0)
		return n;
	if (n > 0) {
		cli_error(o->c, "unexpected argument \"%s\" (use -f)", argv[1]);
		return -1;
	}
	if (o->timeout) {
		uint64_t ms;
		char *end;
		unsigned long sec = strtoul(o->timeout, &end, 10);

		if (*o->timeout && !*end)
			ms = (uint64_t)sec * 1000;
		else if (bl_parse_duration(o->timeout, &ms) < 0) {
			cli_error(o->c, "invalid --timeout %s (e.g. 60s, 2m)", o->timeout);
			return -1;
		}
		if (ms == 0 || ms > 24u * 3600 * 1000) {
			cli_error(o->c, "--timeout must be between 1ms and 24h");
			return -1;
		}
		if (o->wait)
			o->wait_ms = ms;
		else if (ms > 3600u * 1000) {
			cli_error(o->c, "--timeout must be between 1ms and 1h");
			return -1;
		} else
			o->c->timeout_ms = (int)ms;
	}
	if (!o->nfiles) {
		cli_error(o->c, "must specify -f FILE|DIR|URL|-\n"
			  "See 'bollard %s --help'.", argv[0]);
		return -1;
	}
	if (o->prune && !o->selector) {
		cli_error(o->c, "--prune requires a selector (-l key=value): "
			  "it only ever deletes objects carrying that label");
		return -1;
	}
	if (o->selector) {
		if (selector_parse(o->selector, &pr->sel, errbuf,
				   sizeof(errbuf)) < 0) {
			cli_error(o->c, "invalid selector \"%s\": %s",
				  o->selector, errbuf);
			return -1;
		}
		pr->have_sel = true;
	}
	if (load_inputs(o, pr->have_sel ? &pr->sel : NULL, &pr->list) < 0)
		return -1;
	if (cli_connect(o->c, &pr->e) < 0)
		return -1;
	return 0;
}

static void prepared_free(struct prepared *pr)
{
	bl_objlist_free(&pr->list);
	if (pr->have_sel)
		selector_free(&pr->sel);
	if (pr->e)
		bl_etcd_close(pr->e);
}

/*
 * Two Rollouts must never govern the same object (a Target or a Volume),
 * nor Targets sharing a Secret on one node: the stored objects,
 * overlaid by the ones being applied (applied Rollouts last, so the
 * message blames the new one), go through the fleet controller's own check.
 */
static int check_rollout_overlap(const struct bl_objlist *list,
				 const struct store_snap *snap, struct bl_diag *d)
{
	struct bl_obj **ro, **cl, **tg;
	size_t nro = 0, ncl = 0, nt = 0, cap = snap->n + list->n + 1;
	bool any = false;
	int rc;

	for (size_t i = 0; i < list->n && !any; i++)
		any = !strcmp(list->v[i]->kind, "Rollout") ||
		      !strcmp(list->v[i]->kind, "Target") ||
		      !strcmp(list->v[i]->kind, "Volume") ||
		      !strcmp(list->v[i]->kind, "Cluster");
	if (!any)
		return 0;
	ro = calloc(cap, sizeof(*ro));
	cl = calloc(cap, sizeof(*cl));
	tg = calloc(cap, sizeof(*tg));
	if (!ro || !cl || !tg) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < snap->n; i++) {
		struct bl_obj *o = snap->v[i];
		if (bl_objlist_find(list, o->kind, o->name))
			continue;   /* replaced by the applied copy */
		if (!strcmp(o->kind, "Rollout")) ro[nro++] = o;
		else if (!strcmp(o->kind, "Cluster")) cl[ncl++] = o;
		else if (bl_ro_gated_kind(o->kind)) tg[nt++] = o;
	}
	for (size_t i = 0; i < list->n; i++) {
		struct bl_obj *o = list->v[i];
		if (!strcmp(o->kind, "Rollout")) ro[nro++] = o;
		else if (!strcmp(o->kind, "Cluster")) cl[ncl++] = o;
		else if (bl_ro_gated_kind(o->kind)) tg[nt++] = o;
	}
	rc = nro > 1 ? bl_ro_check_overlap(ro, nro, cl, ncl, tg, nt, d) : 0;
out:
	free(ro);
	free(cl);
	free(tg);
	return rc;
}

/*
 * Snapshot, reference check, plan. Returns 0, or an error (printed).
 */
static int snapshot_and_plan(struct apply_opts *o, struct prepared *pr,
			     struct store_snap *snap, struct plan *p)
{
	struct bl_diag d = { 0 };
	int rc;

	memset(p, 0, sizeof(*p));
	/* --prune looks at every object; otherwise only what the applied
	 * objects can depend on is read (store_load_for). */
	rc = o->prune ? store_load(o->c, pr->e, NULL, snap, NULL)
		      : store_load_for(o->c, pr->e, &pr->list, snap);
	if (rc < 0)
		return rc;
	rc = bl_check_refs(&pr->list, snap_lookup, snap, &d);
	if (rc == 0)
		rc = check_rollout_overlap(&pr->list, snap, &d);
	if (rc == 0)
		rc = plan_build(&pr->list, snap,
				o->prune ? &pr->sel : NULL, p, &d);
	bl_diag_print(&d, o->c->err);
	bl_diag_free(&d);
	if (rc == -ENOMEM)
		cli_error(o->c, "out of memory");
	if (rc == 0 && o->prune)
		rc = check_prune_refs(o->c, p, snap);
	if (rc < 0) {
		plan_free(p);
		store_snap_free(snap);
	}
	return rc;
}

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct apply_opts o = { .c = c };
	struct prepared pr;
	struct done_list dl = { 0 };
	int rc, ret = 1, pause_ms;
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	const char *s;

	rc = prepare(&o, argc, argv, apply_usage, &pr);
	if (rc < 0) {
		ret = rc == -2 ? 0 : 1;
		goto out;
	}
	/* Fault injection for tests: widen the read-compare-write window so
	 * concurrent applies really overlap (tests/integration/
	 * cli_concurrent.sh). Never set in production. */
	s = getenv("BOLLARD_TEST_APPLY_PAUSE_MS");
	pause_ms = s ? atoi(s) : 0;
	for (int attempt = 0;; attempt++) {
		struct store_snap snap;
		struct plan p;
		size_t ntxn = 0;

		if (snapshot_and_plan(&o, &pr, &snap, &p) < 0)
			goto out;
		rc = 0;
		if (pause_ms > 0)
			usleep(1000u * (unsigned)pause_ms);
		if (!o.dry_run) {
			rc = p.nguards ? read_guards(c, pr.e, &p,
						     snap.revision) : 0;
			if (rc == 0)
				rc = commit_plan(c, pr.e, &p, &dl, &ntxn);
		}
		if (rc == BL_E_CONFLICT && attempt + 1 < APPLY_ATTEMPTS) {
			plan_free(&p);
			store_snap_free(&snap);
			/* Randomised backoff: 1..(2^attempt) ms, capped. */
			usleep(1000u * (1 + rand_r(&seed) %
				       (1u << (attempt < 7 ? attempt : 7))));
			continue;
		}
		if (rc == BL_E_CONFLICT)
			cli_error(c, "objects kept changing under apply "
				  "(%d attempts); nothing more was written",
				  APPLY_ATTEMPTS);
		else if (rc == -ENOMEM)
			cli_error(c, "out of memory");
		if (ntxn > 1)
			fprintf(c->err, "note: applied in %zu transactions "
				"(etcd allows %d operations per transaction)\n",
				ntxn, CLI_MAX_TXN_OPS);
		if (rc == 0)
			print_results(&o, &p, &dl);
		ret = rc == 0 ? 0 : 1;
		if (rc == 0 && o.wait && !o.dry_run) {
			fflush(c->out);
			ret = apply_wait(c, pr.e, &p, o.wait_ms ? o.wait_ms :
					 APPLY_WAIT_DEFAULT_MS,
					 o.out == OUT_DEFAULT ? c->out : c->err);
		}
		plan_free(&p);
		store_snap_free(&snap);
		break;
	}
out:
	done_free(&dl);
	prepared_free(&pr);
	free(o.files);
	return ret;
}

/* ---- diff ----------------------------------------------------------------*/

static char *yaml_text(const json_t *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (v && bl_json_print_yaml(v, f) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Secrets: both sides redacted, but a changed value must still show as a
 * change, so the new side says so instead of repeating "<redacted>".
 */
static void mark_secret_changes(json_t *oldv, json_t *newv,
				const struct bl_obj *oldo,
				const struct bl_obj *newo)
{
	json_t *od, *nd;
	const char *k;
	json_t *val;

	if (!oldo || !newo->data || !oldo->data)
		return;
	od = json_object_get(oldv, "data");
	nd = json_object_get(newv, "data");
	if (!od || !nd)
		return;
	json_object_foreach(newo->data, k, val) {
		json_t *ov = json_object_get(oldo->data, k);

		if (ov && !json_equal(ov, val) && json_object_get(nd, k))
			json_object_set_new(nd, k,
					    json_string("<redacted: changed>"));
	}
}

static int diff_item(struct cli *c, const struct plan_item *it)
{
	json_t *oldv = it->stored ? obj_value_redacted(it->stored, 0) : NULL;
	json_t *newv = it->act == ACT_PRUNED ? NULL :
		       obj_value_redacted(it->obj, 0);
	char *ot = NULL, *nt = NULL, *on = NULL, *nn = NULL;
	char kb[32];
	int rc = -ENOMEM;

	if ((it->stored && !oldv) || (it->act != ACT_PRUNED && !newv))
		goto out;
	if (oldv && newv)
		mark_secret_changes(oldv, newv, it->stored, it->obj);
	ot = yaml_text(oldv);
	nt = yaml_text(newv);
	kind_lower(it->obj->kind, kb, sizeof(kb));
	if (!ot || !nt ||
	    asprintf(&on, "live/%s/%s", kb, it->obj->name) < 0 ||
	    asprintf(&nn, "merged/%s/%s", kb, it->obj->name) < 0)
		goto out;
	rc = udiff(ot, nt, on, nn, c->out);
out:
	json_decref(oldv);
	json_decref(newv);
	free(ot);
	free(nt);
	free(on);
	free(nn);
	return rc;
}

int cmd_diff(struct cli *c, int argc, char **argv)
{
	struct apply_opts o = { .c = c, .is_diff = true };
	struct prepared pr;
	struct store_snap snap;
	struct plan p;
	int rc, ret = 2;
	bool differs = false;

	rc = prepare(&o, argc, argv, diff_usage, &pr);
	if (rc < 0) {
		ret = rc == -2 ? 0 : 2;
		goto out;
	}
	if (snapshot_and_plan(&o, &pr, &snap, &p) < 0)
		goto out;
	ret = 0;
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].act == ACT_UNCHANGED)
			continue;
		rc = diff_item(c, &p.v[i]);
		if (rc < 0) {
			cli_error(c, "diff: %s", bl_strerror(rc));
			ret = 2;
			break;
		}
		if (rc > 0)
			differs = true;
	}
	if (ret == 0 && differs)
		ret = 1;
	plan_free(&p);
	store_snap_free(&snap);
out:
	prepared_free(&pr);
	free(o.files);
	return ret;
}
