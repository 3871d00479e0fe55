/*
 * delete.c - `bollard delete KIND NAME...`, `delete KIND -l SEL`,
 * `delete -f FILE|DIR`.
 *
 * Deletes are compare-and-swap on the mod_revision read, in reverse apply
 * order (Targets before their Volumes), one transaction when they fit.
 * An object still referred to by an object that stays is not deleted: the
 * command fails before writing anything and names the referrer, because a
 * Target whose Volume vanished is something bollardd could only tear down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli.h"

#define DELETE_ATTEMPTS 10

struct delete_opts {
	struct cli *c;
	const char **files;
	size_t nfiles;
	bool ignore_not_found;
	bool dry_run;
	const char *selector;
};

static int delete_set(void *arg, const char *flag, const char *val)
{
	struct delete_opts *o = arg;

	if (!strcmp(flag, "filename")) {
		const char **f = realloc(o->files,
					 (o->nfiles + 1) * sizeof(*f));

		if (!f)
			return -1;
		o->files = f;
		f[o->nfiles++] = val;
	} else if (!strcmp(flag, "ignore-not-found"))
		o->ignore_not_found = true;
	else if (!strcmp(flag, "dry-run"))
		o->dry_run = true;
	else if (!strcmp(flag, "selector"))
		o->selector = val;
	return 0;
}

static const char delete_usage[] =
"Usage: bollard delete KIND NAME... [flags]\n"
"       bollard delete KIND/NAME... [flags]\n"
"       bollard delete KIND -l SELECTOR [flags]\n"
"       bollard delete -f FILE|DIR|URL|- [flags]\n"
"\n"
"Delete objects. An object another object still refers to is refused.\n"
"\n"
"Flags:\n"
"  -f, --filename SRC       delete the objects these files define\n"
"  -l, --selector SEL       delete every object of KIND with these labels\n"
"      --ignore-not-found   a missing object is not an error\n"
"      --dry-run            print what would be deleted, delete nothing\n";

struct victim {
	char *kind;                 /* canonical, static from bl_kind_lookup  */
	char *name;
};

struct victims {
	struct victim *v;
	size_t n, cap;
};

static int victims_add(struct victims *vs, const char *kind,
		       const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].kind, kind) &&
		    !strcmp(vs->v[i].name, name))
			return 0;
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 16;
		struct victim *v = realloc(vs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vs->v = v;
		vs->cap = cap;
	}
	vs->v[vs->n].kind = strdup(kind);
	vs->v[vs->n].name = strdup(name);
	if (!vs->v[vs->n].kind || !vs->v[vs->n].name) {
		free(vs->v[vs->n].kind);
		free(vs->v[vs->n].name);
		return -ENOMEM;
	}
	vs->n++;
	return 0;
}

static void victims_free(struct victims *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].kind);
		free(vs->v[i].name);
	}
	free(vs->v);
}

static bool victims_has(const struct victims *vs, const char *kind,
			const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].kind, kind) &&
		    !strcmp(vs->v[i].name, name))
			return true;
	return false;
}

/* Reverse apply order: Rollouts, Targets, Volumes, Secrets, Clusters. */
static int victim_cmp(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return bl_kind_rank(y->kind) - bl_kind_rank(x->kind);
}

struct inuse_ctx {
	struct cli *c;
	const struct victims *vs;
	const struct bl_obj *from;
	int bad;
};

static int inuse_cb(void *arg, const char *kind, const char *name,
		    const char *path)
{
	struct inuse_ctx *r = arg;
	char kb[32], kb2[32];

	if (victims_has(r->vs, kind, name)) {
		cli_error(r->c, "cannot delete %s/%s: %s/%s still refers to "
			  "it (%s)", kind_lower(kind, kb, sizeof(kb)), name,
			  kind_lower(r->from->kind, kb2, sizeof(kb2)),
			  r->from->name, path);
		r->bad++;
	}
	return 0;
}

/* One attempt: 0 done, BL_E_CONFLICT retry, else error (printed). */
/*
 * gone collects what committed chunks deleted, across attempts: a retry
 * after a conflict in a later chunk must not call those "not found".
 */
static int delete_once(struct delete_opts *o, struct bl_etcd *e,
		       const struct victims *want, struct victims *gone,
		       bool print)
{
	struct cli *c = o->c;
	struct store_snap snap;
	struct victims vs = { 0 };
	struct inuse_ctx r = { .c = c, .vs = &vs };
	struct bl_cmp *cmps = NULL;
	struct bl_op *ops = NULL;
	char **keys = NULL;
	char kb[32];
	int rc, missing = 0;

	rc = store_load(c, e, NULL, &snap, NULL);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < want->n; i++) {
		if (victims_has(gone, want->v[i].kind, want->v[i].name))
			continue;
		if (!store_find(&snap, want->v[i].kind, want->v[i].name)) {
			if (!o->ignore_not_found && print) {
				cli_error(c, "%s \"%s\" not found",
					  kind_lower(want->v[i].kind, kb,
						     sizeof(kb)),
					  want->v[i].name);
			}
			if (!o->ignore_not_found)
				missing++;
			continue;
		}
		rc = victims_add(&vs, want->v[i].kind, want->v[i].name);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < snap.n; i++) {
		if (victims_has(&vs, snap.v[i]->kind, snap.v[i]->name))
			continue;
		r.from = snap.v[i];
		bl_obj_foreach_ref(snap.v[i], inuse_cb, &r);
	}
	if (r.bad) {
		rc = BL_E_IN_USE;
		goto out;
	}
	qsort(vs.v, vs.n, sizeof(*vs.v), victim_cmp);
	cmps = calloc(CLI_MAX_TXN_OPS, sizeof(*cmps));
	ops = calloc(CLI_MAX_TXN_OPS, sizeof(*ops));
	keys = calloc(vs.n + 1, sizeof(*keys));
	if (!cmps || !ops || !keys) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; !o->dry_run && i < vs.n;) {
		size_t n = 0, first = i;
		bool ok = false;

		for (; i < vs.n && n < CLI_MAX_TXN_OPS; i++, n++) {
			const struct bl_obj *s = store_find(&snap, vs.v[i].kind,
							    vs.v[i].name);

			keys[i] = store_key(s->kind, s->name);
			if (!keys[i]) {
				rc = -ENOMEM;
				goto out;
			}
			cmps[n] = (struct bl_cmp){ .key = keys[i],
				.target = BL_CMP_MOD, .result = BL_CMP_EQ,
				.rev = s->resource_version };
			ops[n] = (struct bl_op){ .type = BL_OP_DELETE,
				.key = keys[i] };
		}
		rc = bl_etcd_txn(e, cmps, n, ops, n, NULL, 0, &ok, NULL, NULL);
		if (rc < 0) {
			cli_etcd_error(c, e, rc, "delete transaction");
			goto out;
		}
		if (!ok) {
			rc = BL_E_CONFLICT;
			goto out;
		}
		for (size_t k = first; k < i; k++)
			if ((rc = victims_add(gone, vs.v[k].kind,
					      vs.v[k].name)) < 0)
				goto out;
	}
	for (size_t i = 0; o->dry_run && i < vs.n; i++)
		if ((rc = victims_add(gone, vs.v[i].kind, vs.v[i].name)) < 0)
			goto out;
	rc = missing ? -ENOENT : 0;
out:
	for (size_t i = 0; keys && i < vs.n; i++)
		free(keys[i]);
	free(keys);
	free(cmps);
	free(ops);
	victims_free(&vs);
	store_snap_free(&snap);
	return rc;
}

int cmd_delete(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "filename", 'f', CLI_ARG, delete_set },
		{ "ignore-not-found", 0, CLI_NOARG, delete_set },
		{ "dry-run", 0, CLI_NOARG, delete_set },
		{ "selector", 'l', CLI_ARG, delete_set },
		{ 0 },
	};
	struct delete_opts o = { .c = c };
	struct victims want = { 0 }, gone = { 0 };
	struct bl_objlist list;
	struct selector sel = { 0 };
	struct bl_etcd *e = NULL;
	char errbuf[256], buf[128], kb[32];
	int n, rc, ret = 1;

	bl_objlist_init(&list);
	n = cli_parse(c, argc, argv, flags, &o, delete_usage);
	if (n < 0) {
		ret = n == -2 ? 0 : 1;
		goto out;
	}
	if (o.nfiles) {
		struct bl_diag d = { 0 };

		if (n > 0) {
			cli_error(c, "use either -f or KIND NAME, not both");
			goto out;
		}
		rc = input_load(o.files, o.nfiles, &list, &d);
		bl_diag_print(&d, c->err);
		bl_diag_free(&d);
		if (rc < 0)
			goto out;
		for (size_t i = 0; i < list.n; i++)
			if (victims_add(&want, list.v[i]->kind,
					list.v[i]->name) < 0)
				goto out;
	} else {
		const char *kind = NULL;

		if (n == 0) {
			cli_error(c, "you must specify KIND NAME... or -f\n"
				  "See 'bollard delete --help'.");
			goto out;
		}
		for (int i = 1; i <= n; i++) {
			char *slash;
			const char *k;

			snprintf(buf, sizeof(buf), "%s", argv[i]);
			slash = strchr(buf, '/');
			if (slash)
				*slash = 0;
			if (slash || i == 1) {
				k = bl_kind_lookup(buf);
				if (!k) {
					cli_error(c, "the server doesn't have a "
						  "resource type \"%s\"", buf);
					goto out;
				}
				if (!slash) {
					kind = k;
					continue;
				}
				if (victims_add(&want, k, slash + 1) < 0)
					goto out;
				continue;
			}
			if (victims_add(&want, kind, argv[i]) < 0)
				goto out;
		}
		if (o.selector) {
			if (!kind || n != 1) {
				cli_error(c, "-l takes exactly one KIND and no "
					  "names");
				goto out;
			}
			if (selector_parse(o.selector, &sel, errbuf,
					   sizeof(errbuf)) < 0) {
				cli_error(c, "invalid selector \"%s\": %s",
					  o.selector, errbuf);
				goto out;
			}
		} else if (!want.n) {
			cli_error(c, "resource(s) were provided, but no name "
				  "was specified");
			goto out;
		}
		if (cli_connect(c, &e) < 0)
			goto out;
		if (o.selector) {
			struct store_snap snap;

			if (store_load(c, e, kind, &snap, NULL) < 0)
				goto out;
			for (size_t i = 0; i < snap.n; i++)
				if (selector_match(&sel, snap.v[i]->labels) &&
				    victims_add(&want, snap.v[i]->kind,
						snap.v[i]->name) < 0) {
					store_snap_free(&snap);
					goto out;
				}
			store_snap_free(&snap);
			if (!want.n) {
				fprintf(c->err, "No resources found\n");
				ret = 0;
				goto out;
			}
		}
	}
	if (!e && cli_connect(c, &e) < 0)
		goto out;
	for (int attempt = 0;; attempt++) {
		rc = delete_once(&o, e, &want, &gone, attempt == 0);
		if (rc == BL_E_CONFLICT && attempt + 1 < DELETE_ATTEMPTS) {
			usleep(2000u * (unsigned)(attempt + 1));
			continue;
		}
		break;
	}
	for (size_t i = 0; i < gone.n; i++)
		fprintf(c->out, "%s/%s deleted%s\n",
			kind_lower(gone.v[i].kind, kb, sizeof(kb)),
			gone.v[i].name, o.dry_run ? " (dry run)" : "");
	if (rc == BL_E_CONFLICT)
		cli_error(c, "objects kept changing; %s", gone.n ?
			  "the rest was not deleted" : "nothing deleted");
	ret = rc == 0 ? 0 : 1;
out:
	if (o.selector)
		selector_free(&sel);
	victims_free(&want);
	victims_free(&gone);
	bl_objlist_free(&list);
	if (e)
		bl_etcd_close(e);
	free(o.files);
	return ret;
}
