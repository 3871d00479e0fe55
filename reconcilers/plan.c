/*
 * plan.c - plan construction, ordering and rendering (see plan.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static const char *const stage_names[BL_STAGE_COUNT] = {
	[BL_STAGE_PREREQ] = "prereq",
	[BL_STAGE_VALIDATE] = "validate",
	[BL_STAGE_CONFIG] = "config",
	[BL_STAGE_INIT] = "init",
	[BL_STAGE_ACTIVATE] = "activate",
};

const char *bl_stage_name(enum bl_stage s)
{
	return (unsigned)s < BL_STAGE_COUNT ? stage_names[s] : "?";
}

const char *bl_op_name(enum bl_plan_op op)
{
	switch (op) {
	case BL_OP_EXEC: return "exec";
	case BL_OP_WRITE: return "write";
	case BL_OP_RENAME: return "rename";
	case BL_OP_UNLINK: return "unlink";
	case BL_OP_NOTE: return "note";
	}
	return "?";
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int bl_plan_init(struct bl_plan *p, const char *reconciler, const char *node)
{
	memset(p, 0, sizeof(*p));
	p->reconciler = xstrdup(reconciler ? reconciler : "?");
	p->node = xstrdup(node);
	if (!p->reconciler || (node && !p->node)) {
		bl_plan_free(p);
		return -ENOMEM;
	}
	return 0;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static void action_free(struct bl_action *a)
{
	free(a->kind);
	free(a->object);
	free(a->verb);
	free(a->desc);
	free_argv(a->argv);
	free(a->path);
	free(a->path2);
	free(a->payload);
	free(a->deps);
}

void bl_plan_free(struct bl_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		action_free(&p->v[i]);
	free(p->v);
	for (size_t i = 0; i < p->nconds; i++) {
		free(p->conds[i].object);
		free(p->conds[i].reason);
		free(p->conds[i].msg);
	}
	free(p->conds);
	free(p->reconciler);
	free(p->node);
	free(p->h);
	memset(p, 0, sizeof(*p));
}

/* Sort key: removals first in reverse stage order, then the rest in stage
 * order; insertion order breaks ties. */
static int rank_of(bool remove, enum bl_stage stage)
{
	return remove ? (int)(BL_STAGE_COUNT - 1 - stage) : (int)(BL_STAGE_COUNT + stage);
}

/* Drop the kept actions (windows and the switch to counting). */
static void drop_actions(struct bl_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		action_free(&p->v[i]);
	p->n = 0;
}

/* One more handle of a counting or windowed run. */
static struct bl_plan_handle *new_handle(struct bl_plan *p)
{
	if (p->nh == p->caph) {
		size_t cap = p->caph ? p->caph * 2 : 64;
		struct bl_plan_handle *v = realloc(p->h, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->h = v;
		p->caph = cap;
	}
	memset(&p->h[p->nh], 0, sizeof(p->h[0]));
	return &p->h[p->nh++];
}

/*
 * The (limit + 1)th action: from here p only counts. The kept actions
 * become counts and handles (a later dep or setter may still name them).
 */
static int start_counting(struct bl_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct bl_plan_handle *h = new_handle(p);

		if (!h)
			return -ENOMEM;
		h->op = p->v[i].op != BL_OP_NOTE;
		p->rank_n[rank_of(p->v[i].remove, p->v[i].stage)]++;
		p->changes += h->op;
	}
	p->total = p->n;
	drop_actions(p);
	p->counting = true;
	return 0;
}

int bl_plan_limit(struct bl_plan *p, size_t max)
{
	if (p->n || p->nh || p->sorted || p->windowed)
		return -EINVAL;
	p->limit = max;
	return 0;
}

bool bl_plan_counted(const struct bl_plan *p)
{
	return p->counting || p->windowed;
}

int bl_plan_window(struct bl_plan *p, size_t first, size_t max)
{
	if (!bl_plan_counted(p) || first < 1 || !max)
		return -EINVAL;
	drop_actions(p);
	p->counting = false;
	p->windowed = true;
	p->sorted = false;
	p->win_first = first;
	p->win_end = first + max;
	p->nh = 0;
	memset(p->rank_seen, 0, sizeof(p->rank_seen));
	return 0;
}

size_t bl_plan_total(const struct bl_plan *p)
{
	return bl_plan_counted(p) ? p->total : p->n;
}

/* Id in the whole plan of the next action of rank r (window runs). */
static unsigned window_id(struct bl_plan *p, int r)
{
	size_t id = ++p->rank_seen[r];

	for (int i = 0; i < r; i++)
		id += p->rank_n[i];
	return (unsigned)id;
}

int bl_plan_add(struct bl_plan *p, enum bl_stage stage, bool remove,
		const char *kind, const char *object, const char *verb,
		const char *desc_fmt, ...)
{
	struct bl_action *a;
	va_list ap;
	int rc;

	if (p->sorted || (unsigned)stage >= BL_STAGE_COUNT)
		return -EINVAL;
	if (!p->counting && !p->windowed && p->limit && p->n == p->limit &&
	    start_counting(p) < 0)
		return -ENOMEM;
	if (p->counting || p->windowed) {
		struct bl_plan_handle *hd = new_handle(p);
		int r = rank_of(remove, stage);

		if (!hd)
			return -ENOMEM;
		if (p->counting) {
			p->rank_n[r]++;
			p->total++;
			return (int)p->nh;
		}
		hd->id = window_id(p, r);
		if (hd->id < p->win_first || hd->id >= p->win_end)
			return (int)p->nh;   /* another window's */
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct bl_action *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	a = &p->v[p->n];
	memset(a, 0, sizeof(*a));
	a->seq = (unsigned)p->n + 1;
	if (p->windowed)   /* sorts as in the whole plan; deps are ids */
		a->seq = a->id = p->h[p->nh - 1].id;
	a->stage = stage;
	a->remove = remove;
	a->op = BL_OP_NOTE;
	a->kind = xstrdup(kind);
	a->object = xstrdup(object);
	a->verb = xstrdup(verb);
	va_start(ap, desc_fmt);
	rc = vasprintf(&a->desc, desc_fmt, ap);
	va_end(ap);
	if (rc < 0)
		a->desc = NULL;
	if (!a->kind || !a->object || !a->verb || !a->desc) {
		action_free(a);
		return -ENOMEM;
	}
	p->n++;
	if (p->windowed) {
		p->h[p->nh - 1].idx = (unsigned)p->n;
		return (int)p->nh;
	}
	return (int)a->seq;
}

/*
 * The action of handle h: 0 with *a set, or with *a NULL when p does not
 * keep it (counting, or another window's: setters then do nothing), or
 * -EINVAL for a handle p never gave out.
 */
static int lookup(struct bl_plan *p, int h, struct bl_action **a)
{
	*a = NULL;
	if (p->sorted || h < 1)
		return -EINVAL;
	if (p->counting || p->windowed) {
		if ((size_t)h > p->nh)
			return -EINVAL;
		if (p->h[h - 1].idx)
			*a = &p->v[p->h[h - 1].idx - 1];
		return 0;
	}
	if ((size_t)h > p->n)
		return -EINVAL;
	*a = &p->v[h - 1];
	return 0;
}

/* A setter gave handle h an op: counted for bl_plan_changes. */
static void count_op(struct bl_plan *p, int h)
{
	if (p->counting && !p->h[h - 1].op) {
		p->h[h - 1].op = true;
		p->changes++;
	}
}

int bl_plan_set_exec(struct bl_plan *p, int h, const char *const *argv)
{
	struct bl_action *a;
	size_t n = 0;
	char **v;

	if (lookup(p, h, &a) < 0 || !argv || !argv[0])
		return -EINVAL;
	if (!a) {
		count_op(p, h);
		return 0;
	}
	while (argv[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(argv[i]);
		if (!v[i]) {
			free_argv(v);
			return -ENOMEM;
		}
	}
	free_argv(a->argv);
	a->argv = v;
	a->op = BL_OP_EXEC;
	return 0;
}

int bl_plan_set_execl(struct bl_plan *p, int h, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;
	const char *s;

	va_start(ap, h);
	while ((s = va_arg(ap, const char *)) != NULL) {
		if (n == 63) {
			va_end(ap);
			return -E2BIG;
		}
		argv[n++] = s;
	}
	va_end(ap);
	argv[n] = NULL;
	return bl_plan_set_exec(p, h, argv);
}

int bl_plan_set_payload(struct bl_plan *p, int h, const char *data,
			size_t len)
{
	struct bl_action *a;
	char *c;

	if (lookup(p, h, &a) < 0)
		return -EINVAL;
	if (!a)
		return 0;
	c = malloc(len + 1);
	if (!c)
		return -ENOMEM;
	if (len)
		memcpy(c, data, len);
	c[len] = '\0';
	free(a->payload);
	a->payload = c;
	a->payload_len = len;
	return 0;
}

int bl_plan_hide_payload(struct bl_plan *p, int h)
{
	struct bl_action *a;

	if (lookup(p, h, &a) < 0)
		return -EINVAL;
	if (!a)
		return 0;
	a->payload_hidden = true;
	return 0;
}

static int set_paths(struct bl_plan *p, int h, enum bl_plan_op op,
		     const char *path, const char *path2)
{
	struct bl_action *a;
	char *c1, *c2 = NULL;

	if (lookup(p, h, &a) < 0 || !path)
		return -EINVAL;
	if (!a) {
		count_op(p, h);
		return 0;
	}
	c1 = strdup(path);
	if (path2)
		c2 = strdup(path2);
	if (!c1 || (path2 && !c2)) {
		free(c1);
		free(c2);
		return -ENOMEM;
	}
	free(a->path);
	free(a->path2);
	a->path = c1;
	a->path2 = c2;
	a->op = op;
	return 0;
}

int bl_plan_set_write(struct bl_plan *p, int h, const char *path,
		      const char *data, size_t len)
{
	int rc = set_paths(p, h, BL_OP_WRITE, path, NULL);

	return rc ? rc : bl_plan_set_payload(p, h, data, len);
}

int bl_plan_set_rename(struct bl_plan *p, int h, const char *from,
		       const char *to)
{
	if (!to)
		return -EINVAL;
	return set_paths(p, h, BL_OP_RENAME, from, to);
}

int bl_plan_set_unlink(struct bl_plan *p, int h, const char *path)
{
	return set_paths(p, h, BL_OP_UNLINK, path, NULL);
}

int bl_plan_dep(struct bl_plan *p, int h, int dep)
{
	struct bl_action *a;
	unsigned *d;

	if (lookup(p, h, &a) < 0 || dep < 1 || dep == h ||
	    (size_t)dep > (p->counting || p->windowed ? p->nh : p->n))
		return -EINVAL;
	if (!a)
		return 0;
	if (p->windowed)   /* deps of a window are ids already */
		dep = (int)p->h[dep - 1].id;
	for (size_t i = 0; i < a->ndeps; i++)
		if (a->deps[i] == (unsigned)dep)
			return 0;
	d = realloc(a->deps, (a->ndeps + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	a->deps = d;
	a->deps[a->ndeps++] = (unsigned)dep;
	return 0;
}

int bl_plan_cond(struct bl_plan *p, const char *object, const char *reason,
		 const char *fmt, ...)
{
	struct bl_cond *c;
	va_list ap;
	int rc;

	if (p->windowed)
		return 0;   /* the counting run kept them */
	if (p->nconds == p->capconds) {
		size_t cap = p->capconds ? p->capconds * 2 : 4;
		struct bl_cond *v = realloc(p->conds, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->conds = v;
		p->capconds = cap;
	}
	c = &p->conds[p->nconds];
	c->object = xstrdup(object);
	c->reason = xstrdup(reason);
	va_start(ap, fmt);
	rc = vasprintf(&c->msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		c->msg = NULL;
	if (!c->object || !c->reason || !c->msg) {
		free(c->object);
		free(c->reason);
		free(c->msg);
		return -ENOMEM;
	}
	p->nconds++;
	return 0;
}

static int action_rank(const struct bl_action *a)
{
	return rank_of(a->remove, a->stage);
}

static int cmp_action(const void *x, const void *y)
{
	const struct bl_action *a = x, *b = y;
	int ra = action_rank(a), rb = action_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_cond(const void *x, const void *y)
{
	const struct bl_cond *a = x, *b = y;
	int c = cmp_str(a->object, b->object);

	if (!c)
		c = cmp_str(a->reason, b->reason);
	if (!c)
		c = cmp_str(a->msg, b->msg);
	return c;
}

int bl_plan_sort(struct bl_plan *p)
{
	unsigned *pos;

	if (p->sorted)
		return 0;
	qsort(p->v, p->n, sizeof(*p->v), cmp_action);
	if (p->windowed) {   /* ids and deps set when added */
		if (p->nh != p->total)
			return -EINVAL;   /* not the counted plan: plan() is not pure */
		for (size_t i = 0; i < p->n; i++)
			for (size_t j = 0; j < p->v[i].ndeps; j++)
				if (p->v[i].deps[j] >= p->v[i].id)
					return -EINVAL;
		p->sorted = true;
		return 0;
	}
	if (p->counting) {
		if (p->nconds)
			qsort(p->conds, p->nconds, sizeof(*p->conds), cmp_cond);
		p->sorted = true;
		return 0;
	}
	pos = calloc(p->n + 1, sizeof(*pos));
	if (!pos)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		p->v[i].id = (unsigned)i + 1;
		pos[p->v[i].seq] = (unsigned)i + 1;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct bl_action *a = &p->v[i];

		for (size_t j = 0; j < a->ndeps; j++) {
			a->deps[j] = pos[a->deps[j]];
			if (a->deps[j] >= a->id) {
				free(pos);
				return -EINVAL;
			}
		}
	}
	free(pos);
	if (p->nconds)
		qsort(p->conds, p->nconds, sizeof(*p->conds), cmp_cond);
	p->sorted = true;
	return 0;
}

size_t bl_plan_changes(const struct bl_plan *p)
{
	size_t n = 0;

	if (bl_plan_counted(p))
		return p->changes;
	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].op != BL_OP_NOTE;
	return n;
}

char *bl_shell_quote(const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789@%+=:,./-_";
	size_t n = 0, len = strlen(s);
	char *out, *o;

	if (len && strspn(s, safe) == len)
		return strdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	out = malloc(n + 3);
	if (!out)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

static int print_quoted(FILE *f, const char *s)
{
	char *q = bl_shell_quote(s);

	if (!q)
		return -ENOMEM;
	fputs(q, f);
	free(q);
	return 0;
}

/* Payload lines prefixed with "      | " so the text stays line-based. */
static void print_payload(FILE *f, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (data + i)) : len - i;

		fprintf(f, "      | %.*s\n", (int)l, data + i);
		i += l + 1;
	}
	if (len && data[len - 1] != '\n')
		fputs("      \\ (no newline at end)\n", f);
}

int bl_plan_print(struct bl_plan *p, FILE *f)
{
	int rc = bl_plan_sort(p);

	if (rc)
		return rc;
	fprintf(f, "plan %s", p->reconciler);
	if (p->node)
		fprintf(f, " node=%s", p->node);
	fprintf(f, ": %zu action%s, %zu condition%s\n", p->n,
		p->n == 1 ? "" : "s", p->nconds, p->nconds == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_action *a = &p->v[i];

		fprintf(f, "[%u] %s%s %s/%s %s: %s\n", a->id,
			a->remove ? "-" : "", bl_stage_name(a->stage),
			a->kind, a->object, a->verb, a->desc);
		switch (a->op) {
		case BL_OP_EXEC:
			fputs("      $", f);
			for (char **s = a->argv; *s; s++) {
				fputc(' ', f);
				if ((rc = print_quoted(f, *s)))
					return rc;
			}
			fputc('\n', f);
			break;
		case BL_OP_WRITE:
			fprintf(f, "      write %s (%zu bytes)\n", a->path,
				a->payload_len);
			break;
		case BL_OP_RENAME:
			fprintf(f, "      rename %s -> %s\n", a->path, a->path2);
			break;
		case BL_OP_UNLINK:
			fprintf(f, "      unlink %s\n", a->path);
			break;
		case BL_OP_NOTE:
			break;
		}
		if (a->ndeps) {
			fputs("      after:", f);
			for (size_t j = 0; j < a->ndeps; j++)
				fprintf(f, " %u", a->deps[j]);
			fputc('\n', f);
		}
		if (a->payload && a->payload_hidden)
			fputs("      (stdin not shown)\n", f);
		else if (a->payload)
			print_payload(f, a->payload, a->payload_len);
	}
	for (size_t i = 0; i < p->nconds; i++)
		fprintf(f, "! %s %s: %s\n", p->conds[i].object,
			p->conds[i].reason, p->conds[i].msg);
	return ferror(f) ? -EIO : 0;
}

static int jset(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

json_t *bl_plan_to_json(struct bl_plan *p)
{
	json_t *root = NULL, *acts, *conds;

	if (bl_plan_sort(p))
		return NULL;
	root = json_object();
	acts = json_array();
	conds = json_array();
	if (!root || !acts || !conds)
		goto out_free;
	if (json_object_set_new(root, "actions", acts)) {
		json_decref(conds);
		goto out_free_root;
	}
	if (json_object_set_new(root, "conditions", conds))
		goto out_free_root;
	if (jset(root, "reconciler", json_string(p->reconciler)) ||
	    jset(root, "node", p->node ? json_string(p->node) : json_null()))
		goto out_free_root;
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_action *a = &p->v[i];
		json_t *o = json_object(), *deps = json_array();

		if (!o || !deps || json_array_append_new(acts, o)) {
			json_decref(o);
			json_decref(deps);
			goto out_free_root;
		}
		if (json_object_set_new(o, "deps", deps))
			goto out_free_root;
		for (size_t j = 0; j < a->ndeps; j++)
			if (json_array_append_new(deps, json_integer(a->deps[j])))
				goto out_free_root;
		if (jset(o, "id", json_integer(a->id)) ||
		    jset(o, "stage", json_string(bl_stage_name(a->stage))) ||
		    jset(o, "remove", json_boolean(a->remove)) ||
		    jset(o, "kind", json_string(a->kind)) ||
		    jset(o, "object", json_string(a->object)) ||
		    jset(o, "verb", json_string(a->verb)) ||
		    jset(o, "description", json_string(a->desc)) ||
		    jset(o, "op", json_string(bl_op_name(a->op))))
			goto out_free_root;
		if (a->argv) {
			json_t *av = json_array();

			if (jset(o, "argv", av))
				goto out_free_root;
			for (char **s = a->argv; *s; s++)
				if (json_array_append_new(av, json_string(*s)))
					goto out_free_root;
		}
		if (a->path && jset(o, "path", json_string(a->path)))
			goto out_free_root;
		if (a->path2 && jset(o, "path2", json_string(a->path2)))
			goto out_free_root;
		/* A hidden payload may hold secrets (CHAP): JSON output goes to
		 * terminals and logs too, so it gets the size only. */
		if (a->payload && a->payload_hidden) {
			if (jset(o, "payloadHidden", json_true()) ||
			    jset(o, "payloadBytes", json_integer((json_int_t)a->payload_len)))
				goto out_free_root;
		} else if (a->payload &&
			   jset(o, "payload", json_stringn(a->payload, a->payload_len)))
			goto out_free_root;
	}
	for (size_t i = 0; i < p->nconds; i++) {
		json_t *o = json_object();

		if (!o || json_array_append_new(conds, o))
			goto out_free_root;
		if (jset(o, "object", json_string(p->conds[i].object)) ||
		    jset(o, "reason", json_string(p->conds[i].reason)) ||
		    jset(o, "message", json_string(p->conds[i].msg)))
			goto out_free_root;
	}
	return root;

out_free:
	json_decref(acts);
	json_decref(conds);
out_free_root:
	json_decref(root);
	return NULL;
}
