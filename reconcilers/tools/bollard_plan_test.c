/*
 * bollard-plan-test - run one reconciler's desired -> observe -> plan on a
 * golden case directory and print the plan (the golden tier's driver).
 *
 *   bollard-plan-test [options] drbd|pacemaker CASEDIR
 *     --json            print the plan as JSON instead of text
 *     --node NAME       this node (default: CASEDIR/node, else "nodea")
 *     --payload K/O/V   print only the payload of the action with kind K,
 *                       object O and verb V (exit 3 if there is none)
 *     --live            observe the real system (real commands and files)
 *                       instead of CASEDIR/observed.rec
 *     --apply           after planning, apply with the real executor
 *                       (BOLLARD_FAULT=apply:N[:die] wraps it in the fault
 *                       executor) and print the counts
 *     --agent PATH      our OCF agent, for ocf:bollard:target meta-data
 *                       (and ocf:bollard:TYPE: bollard-TYPE beside it)
 *     --window N        build the plan N actions at a time (plan.h,
 *                       "Windows": a counting run, then one plan() run per
 *                       window) and print the windows end to end, which
 *                       must be the whole plan (tests/golden/plan_windows.sh)
 *
 * CASEDIR holds desired.yaml or desired.json (read with the schema
 * library, so defaults apply as in the controller) and observed.rec, a
 * recording of what observe() reads:
 *   >>> drbdsetup show              a command's stdout follows; a line
 *   >>> lvs ... => 5                "=> N" sets its exit status (default 0)
 *   >>> file /etc/drbd.d/x.res      a file's content follows
 *   >>> status Volume/db/nodeb      the status node nodeb reported for
 *                                   Volume db (ctx->peer_status; absent:
 *                                   it reported none)
 *   @include ../_shared/x.rec       more sections from another file
 * A command that is not recorded fails the run (exit status 127 with "not
 * recorded" on stderr), so a recording is always complete. Directories
 * are listed from the recorded files under them.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reconciler.h"

struct section {
	char *key;     /* "drbdsetup show" or "file /path" */
	char *body;
	int status;
};

struct rec {
	struct section *v;
	size_t n;
};

static int rec_load(struct rec *r, const char *path, int depth);

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int rec_push(struct rec *r, const char *key, size_t keylen,
		    const char *body, size_t bodylen, int status)
{
	struct section *v = realloc(r->v, (r->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->v = v;
	v = &v[r->n];
	v->key = strndup(key, keylen);
	v->body = strndup(body, bodylen);
	v->status = status;
	if (!v->key || !v->body)
		return -ENOMEM;
	r->n++;
	return 0;
}

static int rec_load(struct rec *r, const char *path, int depth)
{
	char *text = slurp(path, NULL), *line, *next;
	const char *key = NULL, *body = NULL;
	size_t keylen = 0;
	int status = 0, rc = 0;

	if (!text) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (depth > 4) {
		free(text);
		return -ELOOP;
	}
	for (line = text; line && *line && !rc; line = next) {
		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : NULL;
		if (strncmp(line, ">>> ", 4) && strncmp(line, "@include ", 9))
			continue;
		if (key)
			rc = rec_push(r, key, keylen, body,
				      (size_t)(line - body), status);
		key = NULL;
		if (rc)
			break;
		if (!strncmp(line, "@include ", 9)) {
			char inc[PATH_MAX], dir[PATH_MAX];
			size_t l = (nl ? (size_t)(nl - line) : strlen(line)) - 9;

			snprintf(dir, sizeof(dir), "%s", path);
			snprintf(inc, sizeof(inc), "%s/%.*s", dirname(dir),
				 (int)l, line + 9);
			rc = rec_load(r, inc, depth + 1);
			continue;
		}
		{
			const char *k = line + 4;
			size_t l = nl ? (size_t)(nl - k) : strlen(k);
			const char *arrow = NULL;

			for (size_t i = 0; i + 3 < l; i++)
				if (!strncmp(k + i, " => ", 4))
					arrow = k + i;
			status = 0;
			if (arrow) {
				status = atoi(arrow + 4);
				l = (size_t)(arrow - k);
			}
			key = k;
			keylen = l;
			body = next ? next : k + strlen(k);
		}
	}
	if (key && !rc)
		rc = rec_push(r, key, keylen, body, strlen(body), status);
	free(text);
	return rc;
}

static const struct section *rec_find(const struct rec *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].key, key))
			return &r->v[i];
	return NULL;
}

static int rec_run(void *arg, const char *const *argv, const char *in,
		   size_t in_len, struct bl_run_out *o)
{
	const struct rec *r = arg;
	const struct section *s;
	char key[4096];
	size_t n = 0;

	(void)in;
	(void)in_len;
	key[0] = '\0';
	for (size_t i = 0; argv[i]; i++)
		n += (size_t)snprintf(key + n, sizeof(key) - n < 2 ? 0 : sizeof(key) - n,
				      "%s%s", i ? " " : "", argv[i]);
	s = rec_find(r, key);
	memset(o, 0, sizeof(*o));
	if (s) {
		o->out = strdup(s->body);
		o->out_len = strlen(s->body);
		o->err = strdup("");
		o->status = s->status;
	} else {
		fprintf(stderr, "bollard-plan-test: not recorded: %s\n", key);
		o->out = strdup("");
		if (asprintf(&o->err, "not recorded: %s", key) < 0)
			o->err = NULL;
		o->status = 127;
	}
	if (!o->out || !o->err) {
		bl_run_out_free(o);
		return -ENOMEM;
	}
	return 0;
}

static int rec_read_file(void *arg, const char *path, char **buf, size_t *len)
{
	char key[PATH_MAX + 8];
	const struct section *s;

	snprintf(key, sizeof(key), "file %s", path);
	s = rec_find(arg, key);
	if (!s)
		return -ENOENT;
	*buf = strdup(s->body);
	*len = strlen(s->body);
	return *buf ? 0 : -ENOMEM;
}

static int rec_peer_status(void *arg, const char *kind, const char *name,
			   const char *node, char **json)
{
	char key[600];
	const struct section *s;

	snprintf(key, sizeof(key), "status %s/%s/%s", kind, name, node);
	s = rec_find(arg, key);
	if (!s)
		return -ENOENT;
	*json = strdup(s->body);
	return *json ? 0 : -ENOMEM;
}

static int rec_list_dir(void *arg, const char *dir, char ***names, size_t *n)
{
	const struct rec *r = arg;
	char prefix[PATH_MAX + 8];
	size_t pl, cnt = 0;
	char **v = calloc(r->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	pl = (size_t)snprintf(prefix, sizeof(prefix), "file %s/", dir);
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->v[i].key, prefix, pl) &&
		    !strchr(r->v[i].key + pl, '/'))
			if (!(v[cnt++] = strdup(r->v[i].key + pl))) {
				bl_rec_free_names(v, cnt);
				return -ENOMEM;
			}
	*names = v;
	*n = cnt;
	return 0;
}

static int load_desired(const char *dir, struct bl_objlist *objs)
{
	struct bl_diag d = {0};
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/desired.yaml", dir);
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "%s/desired.json", dir);
	rc = bl_parse_path(path, objs, &d);
	if (rc) {
		bl_diag_print(&d, stderr);
		fprintf(stderr, "%s: %s\n", path, bl_strerror(rc));
	}
	bl_diag_free(&d);
	return rc;
}

/*
 * --window: the plan built w actions at a time, the windows moved end to
 * end into out (conditions from the counting run). A window that is not
 * the next w ids of the plan is an error, not a plan that merely differs.
 */
static int plan_in_windows(const struct bl_reconciler_ops *ops, struct bl_rec_ctx *ctx,
			   const struct bl_objlist *objs, struct bl_plan *out, size_t w)
{
	struct bl_rec_run r;
	struct bl_plan p = {0};
	size_t total, first;
	int rc;

	rc = bl_rec_run_desired(&r, ops, ctx, objs);
	if (rc == 0)
		rc = bl_rec_run_plan(&r, &p, w);
	if (rc || !bl_plan_counted(&p)) {   /* within one window: as it is */
		*out = p;
		if (!out->reconciler)
			(void)bl_plan_init(out, ops->name, ctx->node);
		bl_rec_run_free(&r);
		return rc;
	}
	total = bl_plan_total(&p);
	rc = bl_plan_init(out, ops->name, ctx->node);
	if (rc)
		goto out;
	out->conds = p.conds;
	out->nconds = p.nconds;
	out->capconds = p.capconds;
	p.conds = NULL;
	p.nconds = p.capconds = 0;
	out->v = calloc(total + 1, sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto out;
	}
	out->cap = total + 1;
	for (first = 1; first <= total; first += w) {
		size_t want = total - first + 1 < w ? total - first + 1 : w;

		rc = bl_rec_run_window(&r, &p, first, w);
		if (rc)
			goto out;
		if (p.n != want) {
			fprintf(stderr, "window at %zu: %zu actions, expected %zu\n",
				first, p.n, want);
			rc = -EPROTO;
			goto out;
		}
		for (size_t i = 0; i < p.n; i++) {
			if (p.v[i].id != first + i) {
				fprintf(stderr, "window at %zu: action %zu has id %u\n",
					first, i, p.v[i].id);
				rc = -EPROTO;
				goto out;
			}
			out->v[out->n++] = p.v[i];
		}
		p.n = 0;   /* moved to out */
	}
	out->sorted = true;
out:
	bl_plan_free(&p);
	bl_rec_run_free(&r);
	return rc;
}

static void usage(void)
{
	fputs("usage: bollard-plan-test [--json] [--node N] [--payload K/O/V] "
	      "[--live] [--apply] [--agent PATH] [--window N] drbd|pacemaker CASEDIR\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "node", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' },
		{ "live", no_argument, NULL, 'l' },
		{ "apply", no_argument, NULL, 'a' },
		{ "agent", required_argument, NULL, 'g' },
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const struct bl_reconciler_ops *ops;
	struct bl_rec_ctx ctx = {0};
	struct bl_objlist objs;
	struct bl_plan plan;
	struct rec rec = {0};
	const char *payload = NULL, *node = NULL, *dir;
	char node_buf[128] = "nodea", path[PATH_MAX];
	bool json = false, live = false, apply = false;
	size_t window = 0;
	int c, rc, ret = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'n': node = optarg; break;
		case 'p': payload = optarg; break;
		case 'l': live = true; break;
		case 'a': apply = true; break;
		case 'g': ctx.bollard_agent = optarg; break;
		case 'w': window = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	ops = bl_reconciler_find(argv[optind]);
	dir = argv[optind + 1];
	if (!ops) {
		fprintf(stderr, "unknown reconciler %s\n", argv[optind]);
		return 2;
	}
	if (!node) {
		char *t;

		snprintf(path, sizeof(path), "%s/node", dir);
		if ((t = slurp(path, NULL))) {
			snprintf(node_buf, sizeof(node_buf), "%.*s",
				 (int)strcspn(t, " \n"), t);
			free(t);
		}
		node = node_buf;
	}
	ctx.node = node;
	/* Relative file backings (the quickstart's volumes/demo.img) resolve
	 * under a fixed state dir, so golden plans do not depend on $PWD. */
	ctx.state_dir = getenv("BOLLARD_STATE_DIR") ? getenv("BOLLARD_STATE_DIR")
						    : "/var/lib/bollard";
	if (live) {
		bl_rec_io_real(&ctx.io);
		ctx.drbd_dir = getenv("BOLLARD_DRBD_DIR");
	} else {
		snprintf(path, sizeof(path), "%s/observed.rec", dir);
		if (rec_load(&rec, path, 0))
			return 1;
		ctx.io = (struct bl_rec_io){ rec_run, rec_read_file,
					     rec_list_dir, &rec };
		ctx.peer_status = rec_peer_status;
		ctx.peer_status_arg = &rec;
	}
	bl_objlist_init(&objs);
	if (load_desired(dir, &objs))
		goto out_free_rec;
	if (window)
		rc = plan_in_windows(ops, &ctx, &objs, &plan, window);
	else
		rc = bl_reconcile_plan(ops, &ctx, &objs, &plan);
	if (rc) {
		fprintf(stderr, "%s: %s%s%s\n", ops->name, bl_strerror(rc),
			ctx.err[0] ? ": " : "", ctx.err);
		goto out_free_plan;
	}
	if (payload) {
		ret = 3;
		for (size_t i = 0; i < plan.n; i++) {
			const struct bl_action *a = &plan.v[i];
			char key[512];

			snprintf(key, sizeof(key), "%s/%s/%s", a->kind,
				 a->object, a->verb);
			if (!strcmp(key, payload) && a->payload) {
				fwrite(a->payload, 1, a->payload_len, stdout);
				ret = 0;
				break;
			}
		}
		goto out_free_plan;
	}
	if (json) {
		json_t *j = bl_plan_to_json(&plan);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
			goto out_free_plan;
		putchar('\n');
		json_decref(j);
	} else if (bl_plan_print(&plan, stdout)) {
		goto out_free_plan;
	}
	ret = 0;
	if (apply) {
		struct bl_executor *ex = bl_exec_real_new(NULL, NULL, NULL);
		struct bl_apply_result res;
		unsigned after;
		int die;

		if (ex && !bl_exec_fault_parse(getenv("BOLLARD_FAULT"), &after, &die))
			ex = bl_exec_fault_new(ex, after, die);
		if (!ex)
			goto out_free_plan;
		fflush(stdout);
		rc = ops->apply(&ctx, &plan, ex, &res);
		printf("apply: %zu done, %zu failed, %zu skipped\n", res.done,
		       res.failed, res.skipped);
		if (rc) {
			printf("apply: action %u: %s: %s\n", res.first_failed_id,
			       bl_exec_strerror(rc), ctx.err);
			ret = 4;
		}
		bl_exec_free(ex);
	}
out_free_plan:
	bl_plan_free(&plan);
	bl_objlist_free(&objs);
out_free_rec:
	for (size_t i = 0; i < rec.n; i++) {
		free(rec.v[i].key);
		free(rec.v[i].body);
	}
	free(rec.v);
	return ret;
}
