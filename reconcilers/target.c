/*
 * target.c - the target reconciler: make the local engine (bollard-target
 * or bollard_target.ko) serve this node's Targets.
 *
 * Model. desired() and observe() both produce a struct tmodel: targets with
 * their portals, LUNs (path, identity uid, features), ACLs and CHAP users,
 * the owner tag and the managed attributes. desired() builds it from the
 * Targets, Volumes, Secrets and Clusters that concern this node; observe()
 * parses `bollard target show -o json` (the engine's dump) into the same
 * struct. The command goes through the io.run seam: bollardd answers it
 * in-process over the management socket or generic netlink; the golden
 * tests answer it from a recorded dump.
 *
 * Plan. Each action is a `bollard target ...` command line (BL_OP_EXEC), so
 * a dry run reads like what an admin would type and bollardd executes the
 * same words in-process (controller/daemon/target_exec.c). Secrets never
 * appear in argv: the command names an environment variable
 * (--chap-secret-env BOLLARD_CHAP_SECRET) and the value travels in the
 * action's hidden payload as VAR=value lines.
 *
 * Rules, in the order a reader needs them:
 *   - Ownership: bollard only touches targets whose owner attribute is
 *     BT_OWNER_BOLLARD, which it sets right after creating one. A desired
 *     IQN that exists without the tag gets a NotOwned condition and no
 *     actions; an untagged target that nobody desires is left alone.
 *   - Minimal change: only differences produce actions; a reconcile with
 *     nothing to change has zero actions, and adding one LUN to a target
 *     with 10,000 LUNs is exactly one action (LUN lookups are bisections
 *     over LUN-sorted arrays).
 *   - Create-only attributes: a LUN's path and identity uid cannot change
 *     on a live LUN without the initiator seeing a different disk. Drift is
 *     reported (CreateOnlyDrift), never "fixed" by recreating the LUN.
 *   - Enabling: with Cluster.spec.ha none the controller enables targets
 *     itself; with pacemaker, the OCF agent ocf:bollard:target does, and
 *     this reconciler never touches the enabled state.
 *   - Removal: a target that is no longer desired is disabled (which drops
 *     its sessions) and deleted; a LUN removed from the spec is deleted with
 *     --force (the operator declared it; the initiator gets REPORTED LUNS
 *     DATA HAS CHANGED, and the backing data is kept).
 *   - Backing files of Volumes with replication none and file backing are
 *     created (sparse, full size) when missing; an existing file is never
 *     truncated, recreated or removed here.
 *
 * Secret values. The engine never reveals a CHAP secret; its dump carries
 * a salted, slow digest of each secret it holds instead ("chapDigest" in
 * an ACL, "chapDigest" / "mutualDigest" in "auth": kernel/core/
 * chap_digest.h says why that form). observe() reads them into the same
 * t_acl that desired() fills with the Secret's password, and plan()
 * checks the desired password against the live digest with the engine's
 * own code (bt_chap_digest_check): a Secret whose password changed under
 * the same user, or a password set by hand with `bollard target`, shows
 * as a difference, in `bollard plan` too. It is re-applied: ACL delete +
 * add (the engine has no in-place ACL update), `auth set` for the
 * target-wide pair. A dump without digests (an engine that predates them,
 * or a recorded dump) means nothing is known and nothing is re-applied; a
 * digest in a form this code does not know counts as different. Neither
 * the password nor the digest appears in argv, plan text or JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_engine.h"
#include "chap_digest.h"
#include "reconciler.h"

/* ---- model ----------------------------------------------------------------*/

struct t_lun {
	unsigned long long lun;
	char *path;
	char *uid;
	unsigned features;          /* BT_FEAT_*; observed: 0 when unknown    */
	char *volume;               /* desired only: for messages             */
	unsigned long long size;    /* desired only: backing file size        */
	bool create_file;           /* desired only: replication none + file  */
};

struct t_acl {
	char *initiator;
	char *user;                 /* NULL: no per-ACL CHAP                  */
	char *secret;               /* desired only                           */
	char *digest;               /* observed only: the engine's digest of
	                             * the secret it holds (NULL: not
	                             * reported, see the top)                 */
};

struct t_target {
	char *iqn;
	char *name;                 /* desired only: Target object name       */
	int enable;                 /* desired: 1 enable, -1 leave alone;
	                             * observed: 0 / 1                        */
	unsigned long long owner;
	unsigned long long max_per_initiator;
	char **portals;
	size_t nportals;
	struct t_lun *luns;         /* sorted by lun                          */
	size_t nluns, capluns;      /* capluns: observed only (pages append)  */
	bool more_luns;             /* observed: the dump page stopped short, */
	unsigned long long next_lun; /* the rest starts at this LUN          */
	struct t_acl *acls;         /* sorted by initiator                    */
	size_t nacls;
	struct t_acl chap, mutual;  /* target-wide CHAP; initiator = NULL     */
	unsigned nsessions;
	bool blocked;               /* desired: a referenced Secret is missing.
	                             * Fail closed: no actions at all, rather
	                             * than admitting initiators without CHAP */
};

struct tmodel {
	struct t_target *v;         /* sorted by iqn                          */
	size_t n;
	bool observed;
	/* desired only: findings made while building the model */
	struct { char *object, *reason, *msg; } *conds;
	size_t nconds;
	/* observed only: the desired backing files that exist, sorted (a cold
	 * start of 10,000 LUNs asks for 10,000: a bisection each, not a scan) */
	char **files;
	size_t nfiles, capfiles;
};

static void free_acl(struct t_acl *a)
{
	free(a->initiator);
	free(a->user);
	free(a->digest);
	if (a->secret) {
		explicit_bzero(a->secret, strlen(a->secret));
		free(a->secret);
	}
}

static void free_target(struct t_target *t)
{
	size_t i;

	free(t->iqn);
	free(t->name);
	for (i = 0; i < t->nportals; i++)
		free(t->portals[i]);
	free(t->portals);
	for (i = 0; i < t->nluns; i++) {
		free(t->luns[i].path);
		free(t->luns[i].uid);
		free(t->luns[i].volume);
	}
	free(t->luns);
	for (i = 0; i < t->nacls; i++)
		free_acl(&t->acls[i]);
	free(t->acls);
	free_acl(&t->chap);
	free_acl(&t->mutual);
}

static void tmodel_free(void *p)
{
	struct tmodel *m = p;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free_target(&m->v[i]);
	free(m->v);
	for (i = 0; i < m->nconds; i++) {
		free(m->conds[i].object);
		free(m->conds[i].reason);
		free(m->conds[i].msg);
	}
	free(m->conds);
	for (i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	free(m);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int add_cond(struct tmodel *m, const char *object, const char *reason,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int add_cond(struct tmodel *m, const char *object, const char *reason,
		    const char *fmt, ...)
{
	void *v = realloc(m->conds, (m->nconds + 1) * sizeof(*m->conds));
	va_list ap;
	char *msg = NULL;

	if (!v)
		return -ENOMEM;
	m->conds = v;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	m->conds[m->nconds].object = strdup(object);
	m->conds[m->nconds].reason = strdup(reason);
	m->conds[m->nconds].msg = msg;
	m->nconds++;
	return 0;
}

static int cmp_lun(const void *a, const void *b)
{
	const struct t_lun *x = a, *y = b;
	return x->lun < y->lun ? -1 : x->lun > y->lun;
}

static int cmp_acl(const void *a, const void *b)
{
	return strcmp(((const struct t_acl *)a)->initiator,
		      ((const struct t_acl *)b)->initiator);
}

static int cmp_target(const void *a, const void *b)
{
	return strcmp(((const struct t_target *)a)->iqn,
		      ((const struct t_target *)b)->iqn);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_target(struct t_target *t)
{
	qsort(t->luns, t->nluns, sizeof(*t->luns), cmp_lun);
	qsort(t->acls, t->nacls, sizeof(*t->acls), cmp_acl);
	qsort(t->portals, t->nportals, sizeof(*t->portals), cmp_str);
}

static const struct t_lun *find_lun(const struct t_target *t,
				    unsigned long long lun)
{
	size_t lo = 0, hi = t->nluns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->luns[mid].lun == lun)
			return &t->luns[mid];
		if (t->luns[mid].lun < lun)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct t_acl *find_acl(const struct t_target *t, const char *ini)
{
	size_t lo = 0, hi = t->nacls;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->acls[mid].initiator, ini);
		if (!c)
			return &t->acls[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct t_target *find_target(const struct tmodel *m, const char *iqn)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->v[mid].iqn, iqn);
		if (!c)
			return &m->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool has_portal(const struct t_target *t, const char *p)
{
	return bsearch(&p, t->portals, t->nportals, sizeof(*t->portals), cmp_str) != NULL;
}

/* ---- desired ---------------------------------------------------------------*/

static bool cluster_has_node(const struct bl_obj *cl, const char *node)
{
	json_t *nodes = json_object_get(cl->spec, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n) {
		const char *name = bl_rec_str(n, "name");
		if (name && node && !strcmp(name, node))
			return true;
	}
	return false;
}

static const char *node_address(const struct bl_obj *cl, const char *node)
{
	json_t *nodes = json_object_get(cl->spec, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n) {
		const char *name = bl_rec_str(n, "name");
		if (name && node && !strcmp(name, node))
			return bl_rec_str(n, "address");
	}
	return NULL;
}

/* "192.0.2.10/24" -> "192.0.2.10:3260"; "2001:db8::5/64" -> "[2001:db8::5]:3260" */
static char *portal_of(const char *cidr, long long port)
{
	char addr[128], *slash, *out = NULL;

	snprintf(addr, sizeof(addr), "%s", cidr);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&out, strchr(addr, ':') ? "[%s]:%lld" : "%s:%lld", addr, port) < 0)
		return NULL;
	return out;
}

/* Secret (username, password) by name. */
static int secret_of(const struct bl_objlist *objs, const char *name,
		     char **user, char **pass)
{
	const struct bl_obj *s = bl_objlist_find(objs, "Secret", name);

	if (!s || !s->data)
		return -ENOENT;
	*user = xstrdup(bl_rec_str(s->data, "username"));
	*pass = xstrdup(bl_rec_str(s->data, "password"));
	if (!*user || !*pass) {
		free(*user);
		free(*pass);
		*user = *pass = NULL;
		return -ENOENT;
	}
	return 0;
}

static unsigned features_of(const json_t *spec)
{
	const json_t *f = json_object_get(spec, "features");
	unsigned v = 0;

#define FEAT(key, bit) \
	if (!json_is_false(json_object_get(f, key))) v |= bit
	FEAT("compareAndWrite", BT_FEAT_CAW);
	FEAT("extendedCopy", BT_FEAT_XCOPY);
	FEAT("unmap", BT_FEAT_UNMAP);
	FEAT("writeSame", BT_FEAT_WRITE_SAME);
	FEAT("persistentReservations", BT_FEAT_PR_STORE);
#undef FEAT
	return v;
}

/*
 * Where the engine opens a Volume on this node: the DRBD device for a
 * replicated volume, else the backing itself. Returns a new string, or
 * NULL with a condition added.
 */
static char *volume_path(struct tmodel *m, const struct bl_rec_ctx *ctx,
			 const struct bl_obj *vol, bool *is_file)
{
	const json_t *spec = vol->spec;
	const json_t *repl = json_object_get(spec, "replication");
	const json_t *backing = json_object_get(spec, "backing");
	const char *type = bl_rec_str(backing, "type");
	const char *path = bl_rec_str(backing, "path");
	char obj[300], *out = NULL;

	*is_file = false;
	snprintf(obj, sizeof(obj), "Volume/%s", vol->name);
	if (!json_is_string(repl) || strcmp(json_string_value(repl), "none")) {
		long long minor = bl_rec_int(repl, "minor", -1);
		if (minor < 0) {
			add_cond(m, obj, "Pending", "no DRBD minor allocated yet");
			return NULL;
		}
		if (asprintf(&out, "/dev/drbd%lld", minor) < 0)
			return NULL;
		return out;
	}
	if (!type || !strcmp(type, "lvm")) {
		const char *vg = bl_rec_str(backing, "vg");
		if (!vg) {
			add_cond(m, obj, "Invalid", "spec.backing.vg missing");
			return NULL;
		}
		if (asprintf(&out, "/dev/%s/bollard-%s", vg, vol->name) < 0)
			return NULL;
		return out;
	}
	if (!path) {
		add_cond(m, obj, "Invalid", "spec.backing.path missing");
		return NULL;
	}
	*is_file = !strcmp(type, "file");
	if (path[0] != '/' && ctx->state_dir) {
		if (asprintf(&out, "%s/%s", ctx->state_dir, path) < 0)
			return NULL;
		return out;
	}
	return strdup(path);
}

struct dctx {
	struct bl_rec_ctx *ctx;
	const struct bl_objlist *objs;
	struct tmodel *m;
	const struct bl_obj **vols;   /* Volumes sorted by name: a target may
	                               * map 10,000 of them, so no linear scans */
	size_t nvols;
};

static int cmp_obj_name(const void *a, const void *b)
{
	return strcmp((*(const struct bl_obj *const *)a)->name,
		      (*(const struct bl_obj *const *)b)->name);
}

/*
 * Volume by name: from objs, else through ctx->load (then *loaded is the
 * caller's to free, as soon as the LUN is built: see reconciler.h).
 */
static const struct bl_obj *find_volume(const struct dctx *d, const char *name,
					struct bl_obj **loaded)
{
	struct bl_obj key = { .name = (char *)name };
	const struct bl_obj *kp = &key, **hit;

	hit = bsearch(&kp, d->vols, d->nvols, sizeof(*d->vols), cmp_obj_name);
	if (hit)
		return *hit;
	if (d->ctx->load)
		*loaded = d->ctx->load(d->ctx->load_arg, "Volume", name);
	return *loaded;
}

/*
 * The next LUN of t from spec.luns[] entry x and its Volume vol (what the
 * LUN keeps of the Volume is copied: vol may be freed right after).
 * Returns 0, 1 when vol is missing (the caller reports it), -ENOMEM.
 */
static int lun_of(struct dctx *d, struct t_target *t, const json_t *x,
		  const struct bl_obj *vol, unsigned feats)
{
	struct t_lun *l = &t->luns[t->nluns];
	unsigned long long size = 0;

	if (!vol || !vol->spec)
		return 1;
	l->lun = (unsigned long long)bl_rec_int(x, "lun", 0);
	l->path = volume_path(d->m, d->ctx, vol, &l->create_file);
	if (!l->path)
		return 0;   /* condition recorded (or ENOMEM: a LUN less) */
	t->nluns++;     /* from here free_target owns the strings */
	l->uid = strdup(vol->uid ? vol->uid : vol->name);
	l->volume = strdup(vol->name);
	if (!l->uid || !l->volume)
		return -ENOMEM;
	bl_rec_size(json_object_get(vol->spec, "size"), &size);
	l->size = size;
	l->features = feats;
	return 0;
}

static int build_target(struct dctx *d, const struct bl_obj *tobj,
			const struct bl_obj *cl)
{
	const json_t *spec = tobj->spec, *luns, *acls, *auth, *sa, *x;
	struct t_target *t = &d->m->v[d->m->n];
	long long port = bl_rec_int(spec, "port", 3260);
	const char *ha = bl_rec_str(cl->spec, "ha");
	char obj[300];
	unsigned feats = features_of(spec);
	size_t i;

	snprintf(obj, sizeof(obj), "Target/%s", tobj->name);
	memset(t, 0, sizeof(*t));
	t->iqn = xstrdup(bl_rec_str(spec, "iqn"));
	t->name = strdup(tobj->name);
	if (!t->iqn || !t->name)
		goto enomem;
	d->m->n++;
	t->owner = BT_OWNER_BOLLARD;
	t->enable = (!ha || !strcmp(ha, "none")) ? 1 : -1;
	t->max_per_initiator = (unsigned long long)bl_rec_int(
		json_object_get(spec, "sessions"), "maxPerInitiator", 2);

	/* Portals: the service addresses, else this node's own address. */
	sa = json_object_get(spec, "serviceAddresses");
	if (json_array_size(sa)) {
		t->portals = calloc(json_array_size(sa), sizeof(char *));
		if (!t->portals)
			goto enomem;
		json_array_foreach(sa, i, x) {
			t->portals[t->nportals] = portal_of(json_string_value(x), port);
			if (!t->portals[t->nportals])
				goto enomem;
			t->nportals++;
		}
	} else if (node_address(cl, d->ctx->node)) {
		t->portals = calloc(1, sizeof(char *));
		if (!t->portals)
			goto enomem;
		t->portals[0] = portal_of(node_address(cl, d->ctx->node), port);
		if (!t->portals[0])
			goto enomem;
		t->nportals = 1;
	}

	luns = json_object_get(spec, "luns");
	t->luns = calloc(json_array_size(luns) + 1, sizeof(*t->luns));
	if (!t->luns)
		goto enomem;
	json_array_foreach(luns, i, x) {
		const char *vname = bl_rec_str(x, "volume");
		struct bl_obj *loaded = NULL;
		int rc;

		rc = vname ? lun_of(d, t, x, find_volume(d, vname, &loaded), feats) : 1;
		bl_obj_free(loaded);
		if (rc < 0)
			goto enomem;
		if (rc > 0 && add_cond(d->m, obj, "VolumeMissing",
				       "spec.luns[%zu]: no Volume named '%s'", i,
				       vname ? vname : "") < 0)
			goto enomem;
	}

	acls = json_object_get(spec, "acls");
	t->acls = calloc(json_array_size(acls) + 1, sizeof(*t->acls));
	if (!t->acls)
		goto enomem;
	json_array_foreach(acls, i, x) {
		struct t_acl *a = &t->acls[t->nacls];
		const char *ref = bl_rec_str(x, "chapSecretRef");

		a->initiator = xstrdup(bl_rec_str(x, "initiator"));
		if (!a->initiator)
			continue;
		t->nacls++;
		if (ref && secret_of(d->objs, ref, &a->user, &a->secret) < 0) {
			t->blocked = true;
			if (add_cond(d->m, obj, "SecretMissing",
				     "spec.acls[%zu].chapSecretRef: no Secret '%s'; "
				     "target left as it is", i, ref) < 0)
				goto enomem;
		}
	}

	auth = json_object_get(spec, "auth");
	if (auth) {
		const char *ref = bl_rec_str(auth, "chapSecretRef");
		if (ref && secret_of(d->objs, ref, &t->chap.user, &t->chap.secret) < 0) {
			t->blocked = true;
			if (add_cond(d->m, obj, "SecretMissing",
				     "spec.auth.chapSecretRef: no Secret '%s'; target left "
				     "as it is", ref) < 0)
				goto enomem;
		}
		ref = bl_rec_str(auth, "mutualChapSecretRef");
		if (ref && secret_of(d->objs, ref, &t->mutual.user, &t->mutual.secret) < 0) {
			t->blocked = true;
			if (add_cond(d->m, obj, "SecretMissing",
				     "spec.auth.mutualChapSecretRef: no Secret '%s'; target "
				     "left as it is", ref) < 0)
				goto enomem;
		}
	}
	sort_target(t);
	/* Duplicate LUN numbers are rejected by the schema; a duplicate
	 * initiator is not, and would make two identical ACL adds. */
	for (i = 1; i < t->nacls; i++)
		if (!strcmp(t->acls[i - 1].initiator, t->acls[i].initiator) &&
		    add_cond(d->m, obj, "Invalid", "initiator %s listed twice",
			     t->acls[i].initiator) < 0)
			goto enomem;
	return 0;
enomem:
	return -ENOMEM;
}

static int target_desired(struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
			  void **model)
{
	struct tmodel *m = calloc(1, sizeof(*m));
	struct dctx d = { ctx, objs, m };
	size_t i, ntargets = 0;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	for (i = 0; i < objs->n; i++)
		if (!strcmp(objs->v[i]->kind, "Target"))
			ntargets++;
	m->v = calloc(ntargets + 1, sizeof(*m->v));
	d.vols = calloc(objs->n + 1, sizeof(*d.vols));
	if (!m->v || !d.vols) {
		free(d.vols);
		tmodel_free(m);
		return -ENOMEM;
	}
	for (i = 0; i < objs->n; i++)
		if (!strcmp(objs->v[i]->kind, "Volume") && objs->v[i]->spec)
			d.vols[d.nvols++] = objs->v[i];
	qsort(d.vols, d.nvols, sizeof(*d.vols), cmp_obj_name);
	for (i = 0; i < objs->n && rc == 0; i++) {
		const struct bl_obj *o = objs->v[i], *cl;
		const char *cname, *iqn;

		if (strcmp(o->kind, "Target") || !o->spec)
			continue;
		cname = bl_rec_str(o->spec, "cluster");
		cl = cname ? bl_objlist_find(objs, "Cluster", cname) : NULL;
		if (!cl || !cl->spec || !cluster_has_node(cl, ctx->node))
			continue;   /* not served by this node */
		iqn = bl_rec_str(o->spec, "iqn");
		if (iqn && find_target(m, iqn)) {
			char obj[300];
			snprintf(obj, sizeof(obj), "Target/%s", o->name);
			rc = add_cond(m, obj, "Invalid", "IQN %s is used by two Targets", iqn);
			continue;
		}
		rc = build_target(&d, o, cl);
		/* keep m->v sorted as we go: insertion step */
		if (rc == 0 && m->n > 1)
			qsort(m->v, m->n, sizeof(*m->v), cmp_target);
	}
	free(d.vols);
	if (rc < 0) {
		tmodel_free(m);
		return rc;
	}
	*model = m;
	return 0;
}

/* ---- observe ---------------------------------------------------------------*/

/*
 * The engine dump is read a page of LUNs at a time: `show [IQN] -o json
 * --max-luns DUMP_PAGE` for the targets with their first DUMP_PAGE LUNs,
 * then `show IQN -o json --from-lun N --max-luns DUMP_PAGE` for the rest
 * of each target that has more ("nextLun": N) and is desired (a target
 * nobody wants is only deleted, whatever its LUNs). Why: a dump is parsed
 * as a jansson tree, ~1.7 kB per LUN, so 10,000 LUNs at once cost ~17 MB
 * on top of the dump's text (bollardd's peak, bench/controller.sh); a page
 * costs a tenth of that, and only the compact model is kept. A recorded or
 * older engine's dump without "nextLun" is complete as it is.
 */
#define DUMP_PAGE 1024
#define DUMP_PAGE_STR "1024"

/* Append the LUN entries of arr to x (x->capluns grows by doubling). */
static int parse_luns(const json_t *arr, struct t_target *x)
{
	const json_t *e;
	size_t j;

	if (x->nluns + json_array_size(arr) > x->capluns) {
		size_t cap = x->capluns ? x->capluns : 16;
		void *v;

		while (cap < x->nluns + json_array_size(arr))
			cap *= 2;
		v = realloc(x->luns, cap * sizeof(*x->luns));
		if (!v)
			return -ENOMEM;
		x->luns = v;
		x->capluns = cap;
	}
	json_array_foreach(arr, j, e) {
		struct t_lun *l = &x->luns[x->nluns++];

		memset(l, 0, sizeof(*l));
		l->lun = (unsigned long long)bl_rec_int(e, "lun", 0);
		l->path = xstrdup(bl_rec_str(e, "path"));
		l->uid = xstrdup(bl_rec_str(e, "uid"));
		l->features = (unsigned)bl_rec_int(e, "features", 0);
		if ((bl_rec_str(e, "path") && !l->path) || (bl_rec_str(e, "uid") && !l->uid))
			return -ENOMEM;
	}
	return 0;
}

/* "nextLun" of a dumped target: more LUNs from there (a page). */
static void parse_next(const json_t *t, struct t_target *x)
{
	x->next_lun = (unsigned long long)bl_rec_int(t, "nextLun", -1);
	x->more_luns = json_is_integer(json_object_get(t, "nextLun"));
}

static json_t *load_dump(const char *buf, size_t len, char *err, size_t errlen,
			 json_t **targets)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, 0, &je);

	if (!root) {
		snprintf(err, errlen, "engine dump: %s (line %d)", je.text, je.line);
		return NULL;
	}
	*targets = json_object_get(root, "targets");
	if (!json_is_array(*targets)) {
		json_decref(root);
		snprintf(err, errlen, "engine dump: no \"targets\" array");
		return NULL;
	}
	return root;
}

/*
 * Parse the engine dump (`bollard target show -o json`, first page) into
 * the model. Exposed for tests through the reconciler's observe with a
 * recorded dump.
 */
static int parse_dump(const char *buf, size_t len, struct tmodel *m, char *err,
		      size_t errlen)
{
	json_t *targets, *t;
	json_t *root = load_dump(buf, len, err, errlen, &targets);
	size_t i;

	if (!root)
		return BL_E_PROTO;
	m->v = calloc(json_array_size(targets) + 1, sizeof(*m->v));
	if (!m->v)
		goto enomem;
	json_array_foreach(targets, i, t) {
		struct t_target *x = &m->v[m->n];
		json_t *attrs = json_object_get(t, "attributes"), *arr, *e;
		size_t j;

		if (!bl_rec_str(t, "iqn"))
			continue;
		x->iqn = strdup(bl_rec_str(t, "iqn"));
		if (!x->iqn)
			goto enomem;
		m->n++;
		x->enable = json_is_true(json_object_get(t, "enabled"));
		x->nsessions = (unsigned)bl_rec_int(t, "sessions", 0);
		x->owner = (unsigned long long)bl_rec_int(attrs, "owner", 0);
		x->max_per_initiator = (unsigned long long)bl_rec_int(attrs,
						"maxSessionsPerInitiator", 2);
		arr = json_object_get(t, "portals");
		x->portals = calloc(json_array_size(arr) + 1, sizeof(char *));
		if (!x->portals)
			goto enomem;
		json_array_foreach(arr, j, e)
			if (json_is_string(e) &&
			    !(x->portals[x->nportals++] = strdup(json_string_value(e))))
				goto enomem;
		if (parse_luns(json_object_get(t, "luns"), x) < 0)
			goto enomem;
		parse_next(t, x);
		arr = json_object_get(t, "acls");
		x->acls = calloc(json_array_size(arr) + 1, sizeof(*x->acls));
		if (!x->acls)
			goto enomem;
		json_array_foreach(arr, j, e) {
			struct t_acl *a = &x->acls[x->nacls];
			if (!bl_rec_str(e, "initiator"))
				continue;
			a->initiator = strdup(bl_rec_str(e, "initiator"));
			a->user = xstrdup(bl_rec_str(e, "chapUser"));
			a->digest = xstrdup(bl_rec_str(e, "chapDigest"));
			x->nacls++;
			if (!a->initiator)
				goto enomem;
		}
		e = json_object_get(t, "auth");
		x->chap.user = xstrdup(bl_rec_str(e, "chapUser"));
		x->mutual.user = xstrdup(bl_rec_str(e, "mutualUser"));
		x->chap.digest = xstrdup(bl_rec_str(e, "chapDigest"));
		x->mutual.digest = xstrdup(bl_rec_str(e, "mutualDigest"));
	}
	qsort(m->v, m->n, sizeof(*m->v), cmp_target);
	json_decref(root);
	return 0;
enomem:
	json_decref(root);
	return -ENOMEM;
}

/* A later page of x's LUNs: only its "luns" and "nextLun" are read. */
static int parse_page(const char *buf, size_t len, struct t_target *x, char *err,
		      size_t errlen)
{
	json_t *targets, *t;
	json_t *root = load_dump(buf, len, err, errlen, &targets);
	unsigned long long from = x->next_lun;
	size_t i;
	int rc = 0;

	if (!root)
		return BL_E_PROTO;
	x->more_luns = false;   /* a target gone meanwhile: nothing more */
	json_array_foreach(targets, i, t)
		if (bl_rec_str(t, "iqn") && !strcmp(bl_rec_str(t, "iqn"), x->iqn)) {
			rc = parse_luns(json_object_get(t, "luns"), x);
			parse_next(t, x);
			break;
		}
	json_decref(root);
	/* An engine must move on, or this would never end. */
	if (rc == 0 && x->more_luns && x->next_lun <= from) {
		snprintf(err, errlen, "engine dump: %s: page from LUN %llu does not move on",
			 x->iqn, from);
		rc = BL_E_PROTO;
	}
	return rc;
}

/* Run one dump command; its output in *o (free with bl_run_out_free). */
static int run_dump(struct bl_rec_ctx *ctx, const char *const *argv,
		    struct bl_run_out *o)
{
	int rc = ctx->io.run(ctx->io.arg, argv, NULL, 0, o);

	if (rc < 0) {
		snprintf(ctx->err, sizeof(ctx->err), "engine dump: %s", bl_strerror(rc));
		return rc;
	}
	if (o->status != 0) {
		snprintf(ctx->err, sizeof(ctx->err), "engine dump: %s",
			 o->err && o->err[0] ? o->err : "failed");
		return BL_E_EXEC_FAILED;
	}
	return 0;
}

/* The rest of the LUNs of every observed target that is desired. */
static int observe_pages(struct bl_rec_ctx *ctx, const struct tmodel *d,
			 struct tmodel *m)
{
	const char *argv[] = { "bollard", "target", "show", NULL, "-o", "json",
			       "--from-lun", NULL, "--max-luns", DUMP_PAGE_STR, NULL };
	char from[32];
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		struct t_target *x = &m->v[i];

		while (x->more_luns && d && find_target(d, x->iqn)) {
			struct bl_run_out o = { 0 };

			snprintf(from, sizeof(from), "%llu", x->next_lun);
			argv[3] = x->iqn;
			argv[7] = from;
			rc = run_dump(ctx, argv, &o);
			if (rc == 0)
				rc = parse_page(o.out, o.out_len, x, ctx->err, sizeof(ctx->err));
			bl_run_out_free(&o);
			if (rc < 0)
				return rc;
		}
		sort_target(x);
	}
	return 0;
}

/*
 * Which desired backing files exist (only missing ones get a create).
 * Directory listings are cached for one observe: 10,000 volumes in one
 * directory cost one listing, not 10,000.
 */
struct dircache {
	char dir[1024];
	char **names;               /* sorted                                 */
	size_t n;
	bool valid;
};

static bool file_exists(struct bl_rec_ctx *ctx, struct dircache *dc, const char *path)
{
	const char *slash = strrchr(path, '/'), *base;
	char dir[1024];

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return false;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		strcpy(dir, "/");
	base = slash + 1;
	if (!dc->valid || strcmp(dc->dir, dir)) {
		bl_rec_free_names(dc->names, dc->n);
		dc->names = NULL;
		dc->n = 0;
		snprintf(dc->dir, sizeof(dc->dir), "%s", dir);
		dc->valid = true;
		if (!ctx->io.list_dir ||
		    ctx->io.list_dir(ctx->io.arg, dir, &dc->names, &dc->n) < 0) {
			dc->names = NULL;
			dc->n = 0;
		}
		qsort(dc->names, dc->n, sizeof(char *), cmp_str);
	}
	return bsearch(&base, dc->names, dc->n, sizeof(char *), cmp_str) != NULL;
}

/* Note that path exists (observed model; sorted once observe is done). */
static int add_file(struct tmodel *m, const char *path)
{
	if (m->nfiles == m->capfiles) {
		size_t cap = m->capfiles ? m->capfiles * 2 : 64;
		char **v = realloc(m->files, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->files = v;
		m->capfiles = cap;
	}
	if (!(m->files[m->nfiles] = strdup(path)))
		return -ENOMEM;
	m->nfiles++;
	return 0;
}

static int target_observe(struct bl_rec_ctx *ctx, const void *desired, void **model)
{
	const char *argv[] = { "bollard", "target", "show", "-o", "json", "--max-luns",
			       DUMP_PAGE_STR, NULL, NULL };
	const struct tmodel *d = desired;
	struct tmodel *m = calloc(1, sizeof(*m));
	struct bl_run_out o = { 0 };
	struct dircache dc = { 0 };
	size_t i, j;
	int rc;

	if (!m)
		return -ENOMEM;
	m->observed = true;
	if (ctx->target_scope) {   /* show IQN -o json --max-luns N */
		memmove(&argv[4], &argv[3], 4 * sizeof(*argv));
		argv[3] = ctx->target_scope;
	}
	rc = run_dump(ctx, argv, &o);
	if (rc < 0)
		goto fail;
	rc = parse_dump(o.out, o.out_len, m, ctx->err, sizeof(ctx->err));
	bl_run_out_free(&o);
	if (rc == 0)
		rc = observe_pages(ctx, d, m);
	if (rc < 0)
		goto fail;
	/* Backing files of desired file-backed LUNs: which exist (m->files). */
	for (i = 0; d && i < d->n; i++)
		for (j = 0; j < d->v[i].nluns; j++) {
			const struct t_lun *l = &d->v[i].luns[j];
			const struct t_target *ot = find_target(m, d->v[i].iqn);
			/* A LUN already live has its file: no need to look. */
			if (!l->create_file || (ot && find_lun(ot, l->lun)))
				continue;
			if (file_exists(ctx, &dc, l->path) && add_file(m, l->path) < 0) {
				rc = -ENOMEM;
				goto fail;
			}
		}
	qsort(m->files, m->nfiles, sizeof(*m->files), cmp_str);
	bl_rec_free_names(dc.names, dc.n);
	dc.names = NULL;
	*model = m;
	return 0;
fail:
	bl_rec_free_names(dc.names, dc.n);
	bl_run_out_free(&o);
	tmodel_free(m);
	return rc;
}

/* ---- plan ------------------------------------------------------------------*/

static bool file_present(const struct tmodel *obs, const char *path)
{
	return bsearch(&path, obs->files, obs->nfiles, sizeof(*obs->files), cmp_str) != NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/*
 * The live secret of o is the desired one of d, as far as the engine lets
 * us know: no digest reported, nothing known (same); a digest this code
 * cannot read counts as different (see the top comment).
 */
static bool secret_same(const struct t_acl *d, const struct t_acl *o)
{
	return !o->user || !o->digest ||
	       (d->secret && bt_chap_digest_check(d->secret, o->digest) == 1);
}

/* Same ACL live as desired: same CHAP user, same secret. */
static bool acl_same(const struct t_acl *d, const struct t_acl *o)
{
	return str_eq(d->user, o->user) && secret_same(d, o);
}

static int exec_action(struct bl_plan *p, enum bl_stage stage, bool remove,
		       const char *kind, const char *object, const char *verb,
		       const char *desc, const char *const *argv)
{
	int h = bl_plan_add(p, stage, remove, kind, object, verb, "%s", desc);
	if (h < 0)
		return h;
	return bl_plan_set_exec(p, h, argv) < 0 ? -ENOMEM : h;
}

static const char *feature_list(unsigned f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 f & BT_FEAT_CAW ? "caw," : "", f & BT_FEAT_XCOPY ? "xcopy," : "",
		 f & BT_FEAT_UNMAP ? "unmap," : "", f & BT_FEAT_WRITE_SAME ? "writesame," : "",
		 f & BT_FEAT_PR_STORE ? "prstore," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "none");
	return buf;
}

/* acl add / auth set carry secrets in a hidden payload of VAR=value lines. */
static int add_secret_payload(struct bl_plan *p, int h, const char *chap,
			      const char *mutual)
{
	char *pl = NULL;
	int n, rc;

	n = asprintf(&pl, "%s%s%s%s%s%s", chap ? "BOLLARD_CHAP_SECRET=" : "",
		     chap ? chap : "", chap ? "\n" : "",
		     mutual ? "BOLLARD_MUTUAL_SECRET=" : "", mutual ? mutual : "",
		     mutual ? "\n" : "");
	if (n < 0)
		return -ENOMEM;
	rc = bl_plan_set_payload(p, h, pl, (size_t)n);
	if (rc == 0)
		rc = bl_plan_hide_payload(p, h);
	explicit_bzero(pl, (size_t)n);
	free(pl);
	return rc;
}

static int plan_acl_add(struct bl_plan *p, const struct t_target *t,
			const struct t_acl *a, int dep)
{
	const char *argv[12];
	int n = 0, h;
	char desc[600];

	argv[n++] = "bollard"; argv[n++] = "target"; argv[n++] = "acl";
	argv[n++] = "add"; argv[n++] = t->iqn; argv[n++] = a->initiator;
	if (a->user && a->secret) {
		argv[n++] = "--chap-user"; argv[n++] = a->user;
		argv[n++] = "--chap-secret-env"; argv[n++] = "BOLLARD_CHAP_SECRET";
	}
	argv[n] = NULL;
	snprintf(desc, sizeof(desc), "admit %s%s%s", a->initiator,
		 a->user ? " with CHAP user " : "", a->user ? a->user : "");
	h = exec_action(p, BL_STAGE_CONFIG, false, "acl", t->iqn, "add", desc, argv);
	if (h < 0)
		return h;
	if (a->user && a->secret &&
	    add_secret_payload(p, h, a->secret, NULL) < 0)
		return -ENOMEM;
	if (dep > 0 && bl_plan_dep(p, h, dep) < 0)
		return -ENOMEM;
	return h;
}

static int plan_target(struct bl_plan *p, const struct t_target *d,
		       const struct t_target *o, const struct tmodel *obs)
{
	const char *argv[16];
	char buf[64], buf2[64], desc[700], obj[300];
	int create = 0, config_dep, h, last_config = 0;
	size_t i;

	snprintf(obj, sizeof(obj), "Target/%s", d->name);
	if (d->blocked)
		return 0;   /* its SecretMissing condition says why */
	if (o && o->owner != BT_OWNER_BOLLARD)
		return bl_plan_cond(p, obj, "NotOwned",
				    "target %s exists in the engine but was not created by "
				    "bollard; leaving it alone", d->iqn);

	/* Backing files first (prereq), so the LUN add can open them. */
	for (i = 0; i < d->nluns; i++) {
		const struct t_lun *l = &d->luns[i];
		if (!l->create_file || file_present(obs, l->path) ||
		    (o && find_lun(o, l->lun)))
			continue;
		char *dir = strdup(l->path), *slash;
		if (!dir)
			return -ENOMEM;
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		snprintf(buf, sizeof(buf), "%llu", l->size);
		snprintf(desc, sizeof(desc), "create sparse backing file for Volume %s (%s bytes)",
			 l->volume, buf);
		h = bl_plan_add(p, BL_STAGE_PREREQ, false, "backing-file", l->path, "create",
				"%s", desc);
		if (h < 0 || bl_plan_set_execl(p, h, "sh", "-c",
					       "mkdir -p \"$1\" && [ ! -e \"$2\" ] && truncate -s \"$3\" \"$2\"",
					       "sh", dir, l->path, buf, NULL) < 0) {
			free(dir);
			return -ENOMEM;
		}
		free(dir);
	}

	/*
	 * Create with the owner tag and attributes in the same engine call:
	 * a crash between "create" and "tag" would otherwise leave a target
	 * that bollard no longer considers its own.
	 */
	snprintf(buf, sizeof(buf), "owner=%llu", (unsigned long long)BT_OWNER_BOLLARD);
	snprintf(buf2, sizeof(buf2), "maxSessionsPerInitiator=%llu", d->max_per_initiator);
	if (!o) {
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "create";
		argv[3] = d->iqn; argv[4] = buf; argv[5] = buf2; argv[6] = NULL;
		snprintf(desc, sizeof(desc), "create target (disabled), owned by bollard, up to "
			 "%llu sessions per initiator", d->max_per_initiator);
		create = exec_action(p, BL_STAGE_PREREQ, false, "target", d->iqn, "create",
				     desc, argv);
		if (create < 0)
			return create;
	}
	config_dep = create;

	if (o && o->max_per_initiator != d->max_per_initiator) {
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "set"; argv[3] = d->iqn;
		argv[4] = buf2; argv[5] = NULL;
		snprintf(desc, sizeof(desc), "up to %llu sessions per initiator",
			 d->max_per_initiator);
		h = exec_action(p, BL_STAGE_CONFIG, false, "target-attrs", d->iqn, "set",
				desc, argv);
		if (h < 0)
			return -ENOMEM;
	}

	/* Portals. */
	for (i = 0; o && i < o->nportals; i++)
		if (!has_portal(d, o->portals[i])) {
			argv[0] = "bollard"; argv[1] = "target"; argv[2] = "portal";
			argv[3] = "del"; argv[4] = d->iqn; argv[5] = o->portals[i]; argv[6] = NULL;
			snprintf(desc, sizeof(desc), "stop advertising %s", o->portals[i]);
			if (exec_action(p, BL_STAGE_CONFIG, true, "portal", d->iqn, "delete",
					desc, argv) < 0)
				return -ENOMEM;
		}
	for (i = 0; i < d->nportals; i++)
		if (!o || !has_portal(o, d->portals[i])) {
			argv[0] = "bollard"; argv[1] = "target"; argv[2] = "portal";
			argv[3] = "add"; argv[4] = d->iqn; argv[5] = d->portals[i]; argv[6] = NULL;
			snprintf(desc, sizeof(desc), "advertise %s", d->portals[i]);
			h = exec_action(p, BL_STAGE_CONFIG, false, "portal", d->iqn, "add", desc, argv);
			if (h < 0 || (config_dep > 0 && bl_plan_dep(p, h, config_dep) < 0))
				return -ENOMEM;
			last_config = h;
		}

	/* LUNs: removals, then additions; drift of create-only fields is a
	 * condition. Both arrays are sorted by LUN: one merge pass. */
	for (i = 0; o && i < o->nluns; i++) {
		const struct t_lun *ol = &o->luns[i], *dl = find_lun(d, ol->lun);
		if (!dl) {
			snprintf(buf, sizeof(buf), "%llu", ol->lun);
			argv[0] = "bollard"; argv[1] = "target"; argv[2] = "lun"; argv[3] = "del";
			argv[4] = d->iqn; argv[5] = buf; argv[6] = "--force"; argv[7] = NULL;
			snprintf(desc, sizeof(desc), "remove LUN %llu (%s); its data is kept",
				 ol->lun, ol->path ? ol->path : "?");
			if (exec_action(p, BL_STAGE_CONFIG, true, "lun", d->iqn, "delete",
					desc, argv) < 0)
				return -ENOMEM;
		} else if (!str_eq(ol->path, dl->path) || !str_eq(ol->uid, dl->uid)) {
			if (bl_plan_cond(p, obj, "CreateOnlyDrift",
					 "LUN %llu is live as %s (uid %s) but Volume %s wants %s "
					 "(uid %s); not recreated: remove and re-add the LUN to "
					 "change it", ol->lun, ol->path ? ol->path : "?",
					 ol->uid ? ol->uid : "?", dl->volume, dl->path, dl->uid) < 0)
				return -ENOMEM;
		} else if (ol->features &&
			   ((ol->features ^ dl->features) & BT_FEAT_PR_STORE)) {
			/* The PR store moves the LU's capacity and claims the
			 * backing's last MiB: never flipped on a live LUN. */
			if (bl_plan_cond(p, obj, "CreateOnlyDrift",
					 "LUN %llu is live with persistentReservations %s but "
					 "the Target wants %s; not recreated: remove and re-add "
					 "the LUN to change it", ol->lun,
					 ol->features & BT_FEAT_PR_STORE ? "on" : "off",
					 dl->features & BT_FEAT_PR_STORE ? "on" : "off") < 0)
				return -ENOMEM;
		}
	}
	for (i = 0; i < d->nluns; i++) {
		const struct t_lun *dl = &d->luns[i];
		if (o && find_lun(o, dl->lun))
			continue;
		snprintf(buf, sizeof(buf), "%llu", dl->lun);
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "lun"; argv[3] = "add";
		argv[4] = d->iqn; argv[5] = buf; argv[6] = dl->path; argv[7] = "--uid";
		argv[8] = dl->uid; argv[9] = "--features";
		argv[10] = feature_list(dl->features, buf2, sizeof(buf2)); argv[11] = NULL;
		snprintf(desc, sizeof(desc), "map Volume %s as LUN %llu", dl->volume, dl->lun);
		h = exec_action(p, BL_STAGE_CONFIG, false, "lun", d->iqn, "add", desc, argv);
		if (h < 0 || (config_dep > 0 && bl_plan_dep(p, h, config_dep) < 0))
			return -ENOMEM;
		last_config = h;
	}

	/* ACLs: a changed CHAP user or secret is a delete + add. */
	for (i = 0; o && i < o->nacls; i++) {
		const struct t_acl *oa = &o->acls[i], *da = find_acl(d, oa->initiator);
		if (da && acl_same(da, oa))
			continue;
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "acl"; argv[3] = "del";
		argv[4] = d->iqn; argv[5] = oa->initiator; argv[6] = NULL;
		snprintf(desc, sizeof(desc), "%s %s", !da ? "stop admitting" :
			 str_eq(da->user, oa->user) ? "replace CHAP secret of" :
			 "replace CHAP user of", oa->initiator);
		if (exec_action(p, BL_STAGE_CONFIG, true, "acl", d->iqn, "delete", desc, argv) < 0)
			return -ENOMEM;
	}
	for (i = 0; i < d->nacls; i++) {
		const struct t_acl *da = &d->acls[i], *oa = o ? find_acl(o, da->initiator) : NULL;
		if (oa && acl_same(da, oa))
			continue;
		if (i > 0 && !strcmp(d->acls[i - 1].initiator, da->initiator))
			continue;   /* duplicate: reported as a condition */
		h = plan_acl_add(p, d, da, config_dep);
		if (h < 0)
			return h;
		last_config = h;
	}

	/* Target-wide CHAP: changed users, or changed secrets when known. */
	if (!str_eq(d->chap.user, o ? o->chap.user : NULL) ||
	    !str_eq(d->mutual.user, o ? o->mutual.user : NULL) ||
	    (o && (!secret_same(&d->chap, &o->chap) || !secret_same(&d->mutual, &o->mutual)))) {
		int n = 0;
		argv[n++] = "bollard"; argv[n++] = "target"; argv[n++] = "auth";
		argv[n++] = "set"; argv[n++] = d->iqn;
		if (d->chap.user && d->chap.secret) {
			argv[n++] = "--chap-user"; argv[n++] = d->chap.user;
			argv[n++] = "--chap-secret-env"; argv[n++] = "BOLLARD_CHAP_SECRET";
		}
		if (d->mutual.user && d->mutual.secret) {
			argv[n++] = "--mutual-user"; argv[n++] = d->mutual.user;
			argv[n++] = "--mutual-secret-env"; argv[n++] = "BOLLARD_MUTUAL_SECRET";
		}
		argv[n] = NULL;
		snprintf(desc, sizeof(desc), "CHAP user %s, mutual CHAP user %s",
			 d->chap.user ? d->chap.user : "(none)",
			 d->mutual.user ? d->mutual.user : "(none)");
		h = exec_action(p, BL_STAGE_CONFIG, false, "auth", d->iqn, "set", desc, argv);
		if (h < 0 || add_secret_payload(p, h, d->chap.user ? d->chap.secret : NULL,
						d->mutual.user ? d->mutual.secret : NULL) < 0 ||
		    (config_dep > 0 && bl_plan_dep(p, h, config_dep) < 0))
			return -ENOMEM;
		last_config = h;
	}

	/* Enable last, when this controller owns the enabled state. */
	if (d->enable == 1 && !(o && o->enable == 1)) {
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "enable";
		argv[3] = d->iqn; argv[4] = NULL;
		h = exec_action(p, BL_STAGE_ACTIVATE, false, "target", d->iqn, "enable",
				"admit logins (Cluster ha: none)", argv);
		if (h < 0 || (config_dep > 0 && bl_plan_dep(p, h, config_dep) < 0))
			return -ENOMEM;
		(void)last_config;
	}
	return 0;
}

static int target_plan(const struct bl_rec_ctx *ctx, const void *desired,
		       const void *observed, struct bl_plan *p)
{
	const struct tmodel *d = desired, *o = observed;
	size_t i;
	int rc;

	for (i = 0; i < d->nconds; i++)
		if (bl_plan_cond(p, d->conds[i].object, d->conds[i].reason, "%s",
				 d->conds[i].msg ? d->conds[i].msg : "") < 0)
			return -ENOMEM;
	for (i = 0; i < d->n; i++) {
		rc = plan_target(p, &d->v[i], find_target(o, d->v[i].iqn), o);
		if (rc < 0)
			return rc;
	}
	/* Owned targets nobody wants any more: disable (drops sessions), then
	 * delete. Unowned ones are not ours to remove. */
	for (i = 0; i < o->n; i++) {
		const struct t_target *t = &o->v[i];
		const char *argv[6];
		int dis = 0, del;

		if (t->owner != BT_OWNER_BOLLARD || find_target(d, t->iqn))
			continue;
		if (t->enable == 1) {
			argv[0] = "bollard"; argv[1] = "target"; argv[2] = "disable";
			argv[3] = t->iqn; argv[4] = NULL;
			dis = exec_action(p, BL_STAGE_ACTIVATE, true, "target", t->iqn, "disable",
					  t->nsessions ? "refuse logins and drop its sessions"
						       : "refuse logins", argv);
			if (dis < 0)
				return dis;
		}
		argv[0] = "bollard"; argv[1] = "target"; argv[2] = "delete";
		argv[3] = t->iqn; argv[4] = "--force"; argv[5] = NULL;
		del = exec_action(p, BL_STAGE_PREREQ, true, "target", t->iqn, "delete",
				  "remove target and its LUN maps; backing data is kept", argv);
		if (del < 0 || (dis > 0 && bl_plan_dep(p, del, dis) < 0))
			return -ENOMEM;
	}
	return 0;
}

static int target_apply(struct bl_rec_ctx *ctx, struct bl_plan *plan,
			struct bl_executor *ex, struct bl_apply_result *res)
{
	int rc = bl_plan_apply(plan, ex, res);
	if (rc < 0)
		snprintf(ctx->err, sizeof(ctx->err), "%s", ex->last_error);
	return rc;
}

const struct bl_reconciler_ops bl_target_reconciler = {
	.name = "target",
	.desired = target_desired,
	.observe = target_observe,
	.plan = target_plan,
	.apply = target_apply,
	.free_model = tmodel_free,
};
