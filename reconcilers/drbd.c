/*
 * drbd.c - the DRBD reconciler (model: drbd-utils `drbdadm adjust`).
 *
 * desired  one resource "bollard-<volume>" per Volume with replication
 *          whose Cluster has this node, rendered as a .res file;
 * observe  our .res files, /proc/drbd (which DRBD the kernel runs: 9 or
 *          8.4, see drbd_int.h), `drbdsetup show` (parsed into the same
 *          struct as the config), the role and disk state (DRBD 9:
 *          `drbdsetup status --json`; 8.4: /proc/drbd's line per minor),
 *          `lvs`, and a metadata probe (`drbdmeta ... dump-md`, v09 or
 *          v08) for a disk that is not attached;
 * plan     lvcreate a missing LV; write the config only if the text
 *          differs (write a temp file, validate it with drbdadm sh-nop as
 *          this node, rename it into place); create-md only where the
 *          probe said "No valid meta data found" or on an LV we create;
 *          drbdadm adjust only where the live state differs. Removal: down,
 *          remove the config, and lvremove only for deletionPolicy Delete,
 *          never while a Target LUN still names the volume.
 *
 * The config is rendered in the kernel's dialect: desired() renders both
 * (it does not know the kernel), plan() picks the one observe() found.
 *
 * Why the .res file carries a "# bollard:" header: when a Volume is
 * deleted its spec is gone, yet the deletion policy and backing decide
 * what removal means. The header is also our ownership marker: a
 * bollard-*.res file without it is reported, never touched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drbd_int.h"
#include "reconciler.h"

enum md_state { MD_NOT_PROBED = 0, MD_PRESENT, MD_ABSENT, MD_UNKNOWN };

struct drbd_cond {
	char *object, *reason, *msg;
};

struct drbd_lv {
	char *vg, *lv;
	unsigned long long size;
};

/* One struct for both sides; each side fills its part. */
struct drbd_model {
	/* desired: wanted resources; observed: our .res files */
	struct drbd_res *res;
	char **text;             /* rendered / file text, parallel to res  */
	char **text84;           /* desired only: the DRBD 8.4 rendering   */
	unsigned long long *size;/* desired only: bytes                     */
	size_t nres;
	/* desired only */
	char **volumes;          /* every Volume name in the desired set    */
	size_t nvolumes;
	char **used;             /* Volume names named by a Target LUN      */
	size_t nused;
	char **hold;             /* desired: replicated here but not
	                          * renderable yet; observed: bollard-*.res
	                          * files that are not ours (never touched) */
	size_t nhold;
	struct drbd_cond *conds;
	size_t nconds;
	/* observed only */
	enum drbd_dialect dialect;
	struct drbd_res *live;
	size_t nlive;
	struct drbd_live *st;    /* DRBD's live state per resource (also
	                          * handed to ctx->report: reconciler.h)  */
	size_t nst;
	struct drbd_lv *lvs;
	size_t nlvs;
	bool lvs_probed;
	enum md_state *md;       /* parallel to the desired res array      */
	size_t nmd;
};

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void drbd_free_model(void *m_)
{
	struct drbd_model *m = m_;

	if (!m)
		return;
	drbd_res_array_free(m->res, m->nres);
	free_strv(m->text, m->nres);
	if (m->text84)
		free_strv(m->text84, m->nres);
	free(m->size);
	free_strv(m->volumes, m->nvolumes);
	free_strv(m->used, m->nused);
	free_strv(m->hold, m->nhold);
	for (size_t i = 0; i < m->nconds; i++) {
		free(m->conds[i].object);
		free(m->conds[i].reason);
		free(m->conds[i].msg);
	}
	free(m->conds);
	drbd_res_array_free(m->live, m->nlive);
	drbd_live_free(m->st, m->nst);
	for (size_t i = 0; i < m->nlvs; i++) {
		free(m->lvs[i].vg);
		free(m->lvs[i].lv);
	}
	free(m->lvs);
	free(m->md);
	free(m);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static int add_cond(struct drbd_model *m, const char *object,
		    const char *reason, const char *msg)
{
	struct drbd_cond *c = realloc(m->conds, (m->nconds + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	m->conds = c;
	c = &c[m->nconds];
	c->object = strdup(object);
	c->reason = strdup(reason);
	c->msg = strdup(msg);
	if (!c->object || !c->reason || !c->msg) {
		free(c->object);
		free(c->reason);
		free(c->msg);
		return -ENOMEM;
	}
	m->nconds++;
	return 0;
}

/* ---- desired -------------------------------------------------------------*/

/* "ipv4 10.0.0.1:7789" / "ipv6 [2001:db8::1]:7789"; a "/prefix" is
 * dropped. */
static char *format_addr(const char *ip, long long port)
{
	char host[128], *s = NULL;
	size_t l = strcspn(ip, "/");

	if (l >= sizeof(host))
		return NULL;
	memcpy(host, ip, l);
	host[l] = '\0';
	if (strchr(host, ':')) {
		if (asprintf(&s, "ipv6 [%s]:%lld", host, port) < 0)
			return NULL;
	} else if (asprintf(&s, "ipv4 %s:%lld", host, port) < 0) {
		return NULL;
	}
	return s;
}

static const json_t *cluster_node(const json_t *cspec, const char *node,
				  int *index)
{
	const json_t *nodes = json_object_get(cspec, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n) {
		if (!strcmp(bl_rec_str(n, "name") ? bl_rec_str(n, "name") : "",
			    node)) {
			*index = (int)i;
			return n;
		}
	}
	return NULL;
}

static const char *repl_addr(const json_t *n)
{
	const char *a = bl_rec_str(n, "replicationAddress");

	return a && *a ? a : bl_rec_str(n, "address");
}

/* Build the wanted resource of Volume v; 1 when it is not ready (a
 * condition says why), 0 built, <0 error. */
static int build_res(struct drbd_model *m, const struct bl_rec_ctx *ctx,
		     const struct bl_obj *vol, const json_t *cspec,
		     int self_idx, struct drbd_res *r, unsigned long long *size)
{
	const json_t *spec = vol->spec, *repl = json_object_get(spec, "replication");
	const json_t *backing = json_object_get(spec, "backing");
	const json_t *nodes = json_object_get(cspec, "nodes"), *n;
	const char *type = bl_rec_str(backing, "type"), *proto;
	char obj[128], msg[256];
	long long port, minor;
	size_t i;
	int rc;

	snprintf(obj, sizeof(obj), "Volume/%s", vol->name);
	port = bl_rec_int(repl, "port", -1);
	minor = bl_rec_int(repl, "minor", -1);
	if (port <= 0 || minor < 0) {
		snprintf(msg, sizeof(msg),
			 "spec.replication.%s not allocated yet; nothing done",
			 port <= 0 ? "port" : "minor");
		return add_cond(m, obj, "Pending", msg) ?: 1;
	}
	if (bl_rec_size(json_object_get(spec, "size"), size))
		*size = 0;
	proto = bl_rec_str(repl, "protocol");
	memset(r, 0, sizeof(*r));
	r->protocol = proto && proto[0] ? proto[0] : 'C';
	r->minor = (int)minor;
	r->node_id = self_idx;
	if (asprintf(&r->name, DRBD_RES_PREFIX "%s", vol->name) < 0) {
		r->name = NULL;
		return -ENOMEM;
	}
	r->meta_disk = strdup("internal");
	r->own.volume = strdup(vol->name);
	r->own.policy = strdup(bl_rec_str(spec, "deletionPolicy")
			       ? bl_rec_str(spec, "deletionPolicy") : "Retain");
	r->own.backing = strdup(type ? type : "lvm");
	if (!r->meta_disk || !r->own.volume || !r->own.policy || !r->own.backing)
		return -ENOMEM;
	if (!type || !strcmp(type, "lvm")) {
		const char *vg = bl_rec_str(backing, "vg");

		if (!vg)
			return add_cond(m, obj, "Invalid",
					"spec.backing.vg missing") ?: 1;
		r->own.vg = strdup(vg);
		if (asprintf(&r->own.lv, "%s", r->name) < 0)
			r->own.lv = NULL;
		if (asprintf(&r->disk, "/dev/%s/%s", vg, r->name) < 0)
			r->disk = NULL;
		if (!r->own.vg || !r->own.lv || !r->disk)
			return -ENOMEM;
	} else {
		const char *path = bl_rec_str(backing, "path");

		if (!path)
			return add_cond(m, obj, "Invalid",
					"spec.backing.path missing") ?: 1;
		if (!(r->disk = strdup(path)))
			return -ENOMEM;
		if (!strcmp(type, "file")) {
			snprintf(msg, sizeof(msg),
				 "DRBD needs a block device: attach %s to a "
				 "loop device (losetup) before the resource "
				 "can attach", path);
			if ((rc = add_cond(m, obj, "FileBacking", msg)))
				return rc;
		}
	}
	r->addr = format_addr(repl_addr(json_array_get(nodes, (size_t)self_idx)),
			      port);
	if (!r->addr)
		return -ENOMEM;
	/*
	 * Fencing. Where Pacemaker promotes, DRBD must not let it promote a
	 * disk that missed writes. The case: the replication link fails
	 * (it is often a dedicated back-to-back cable, not corosync's path),
	 * both nodes live on, the Primary keeps acknowledging writes that
	 * only it has; then the Primary dies, and Pacemaker would promote
	 * the peer's stale disk. Every acknowledged write since the link
	 * failed would be gone. With "resource-and-stonith", the Primary
	 * that loses its peer freezes I/O and runs the fence-peer handler,
	 * which bans promotion everywhere but on itself before I/O resumes;
	 * a node that wants to become Primary without its peer runs it too,
	 * and the handler (bollard-fence-peer; drbd-utils' crm-fence-peer
	 * with drbdAgent: linbit) lets that go ahead only when Pacemaker has
	 * fenced the peer (or the peer is outdated). The ban is lifted
	 * on the peer once it has resynced. Without Pacemaker (ha: none)
	 * nobody promotes automatically, and there is nothing to fence.
	 */
	if (!strcmp(bl_rec_str(cspec, "ha") ? bl_rec_str(cspec, "ha") : "",
		    "pacemaker")) {
		r->fencing = strdup("resource-and-stonith");
		if (asprintf(&r->pcmk_clone, BL_PCMK_DRBD_CLONE_ID, vol->name) < 0)
			r->pcmk_clone = NULL;
		/*
		 * The fence-peer handler goes with the clone's agent: the
		 * Cluster's spec.pacemaker.drbdAgent is read here directly
		 * (the DRBD reconciler already has the Cluster's spec), as
		 * the Pacemaker reconciler does. linbit keeps drbd-utils'
		 * whole classic stack, crm-fence-peer included.
		 */
		r->crm_fence_peer = !strcmp(bl_rec_str(json_object_get(cspec,
					"pacemaker"), "drbdAgent") ?: "", "linbit");
		if (!r->fencing || !r->pcmk_clone)
			return -ENOMEM;
	}
	/*
	 * Peer liveness. DRBD notices a peer that died without a word only
	 * when a ping goes unanswered, and an idle connection (a Secondary
	 * receives; it sends nothing that would time out) pings every
	 * ping-int: 10 s by default. Until then the survivor still sees a
	 * Primary peer and refuses to be promoted, even after Pacemaker has
	 * fenced that peer: in tests/ha DRBD dropped the dead Primary 10.2 s
	 * after the kill, 1.6 s after Pacemaker had fenced it, and the
	 * promotion waited for it. With Pacemaker deciding, the default is
	 * therefore 2 s, below corosync's detection plus fencing. A ping is
	 * a few bytes; what decides false alarms is ping-timeout (how long
	 * an answer may take), which stays DRBD's unless the Volume says.
	 */
	{
		long long pi = bl_rec_int(repl, "pingInterval", 0);
		long long pt = bl_rec_int(repl, "pingTimeout", 0);

		if (!pi && r->fencing)
			pi = 2;
		r->ping_int = pi == DRBD_PING_INT_DEFAULT ? 0 : (int)pi;
		pt = (pt + 99) / 100;
		r->ping_timeout = pt == DRBD_PING_TIMEOUT_DEFAULT ? 0 : (int)pt;
	}
	json_array_foreach(nodes, i, n) {
		const char *name = bl_rec_str(n, "name");
		struct drbd_peer *p;

		if ((int)i == self_idx || !name)
			continue;
		p = realloc(r->peers, (r->npeers + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->peers = p;
		p = &p[r->npeers++];
		p->name = strdup(name);
		p->node_id = (int)i;
		p->addr = format_addr(repl_addr(n) ? repl_addr(n) : "0.0.0.0",
				      port);
		if (!p->name || !p->addr)
			return -ENOMEM;
	}
	(void)ctx;
	return 0;
}

static int push_model_res(struct drbd_model *m, struct drbd_res *r,
			  char *text, char *text84, unsigned long long size)
{
	struct drbd_res *nr = realloc(m->res, (m->nres + 1) * sizeof(*nr));
	char **nt, **n84;
	unsigned long long *ns;

	if (!nr)
		return -ENOMEM;
	m->res = nr;
	nt = realloc(m->text, (m->nres + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	m->text = nt;
	n84 = realloc(m->text84, (m->nres + 1) * sizeof(*n84));
	if (!n84)
		return -ENOMEM;
	m->text84 = n84;
	ns = realloc(m->size, (m->nres + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	m->size = ns;
	m->res[m->nres] = *r;
	m->text[m->nres] = text;
	m->text84[m->nres] = text84;
	m->size[m->nres] = size;
	m->nres++;
	return 0;
}

static int drbd_desired(struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
			void **out)
{
	struct drbd_model *m = calloc(1, sizeof(*m));
	int rc = 0;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < objs->n && !rc; i++) {
		const struct bl_obj *o = objs->v[i];
		const json_t *luns, *l;
		size_t j;

		if (strcmp(o->kind, "Target"))
			continue;
		luns = json_object_get(o->spec, "luns");
		json_array_foreach(luns, j, l) {
			const char *v = bl_rec_str(l, "volume");

			if (v && !strv_has(m->used, m->nused, v) &&
			    (rc = strv_push(&m->used, &m->nused, v)))
				break;
		}
	}
	for (size_t i = 0; i < objs->n && !rc; i++) {
		const struct bl_obj *vol = objs->v[i];
		const struct bl_obj *cl;
		const json_t *repl;
		struct drbd_res r;
		unsigned long long size = 0;
		int self = -1;
		char *text, *text84;

		if (strcmp(vol->kind, "Volume"))
			continue;
		if ((rc = strv_push(&m->volumes, &m->nvolumes, vol->name)))
			break;
		repl = json_object_get(vol->spec, "replication");
		if (!json_is_object(repl))
			continue; /* "none" */
		cl = bl_objlist_find(objs, "Cluster",
				     bl_rec_str(vol->spec, "cluster")
				     ? bl_rec_str(vol->spec, "cluster") : "");
		if (!cl || !cluster_node(cl->spec, ctx->node, &self))
			continue;
		memset(&r, 0, sizeof(r));
		rc = build_res(m, ctx, vol, cl->spec, self, &r, &size);
		if (rc) {
			drbd_res_free(&r);
			if (rc == 1) {
				char name[128];

				snprintf(name, sizeof(name),
					 DRBD_RES_PREFIX "%s", vol->name);
				rc = strv_push(&m->hold, &m->nhold, name);
			}
			continue;
		}
		text = drbd_render_d(&r, ctx->node, DRBD_V9);
		text84 = drbd_render_d(&r, ctx->node, DRBD_V84);
		if (!text || !text84 ||
		    (rc = push_model_res(m, &r, text, text84, size))) {
			free(text);
			free(text84);
			drbd_res_free(&r);
			rc = -ENOMEM;
		}
	}
	if (rc) {
		drbd_free_model(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- observe -------------------------------------------------------------*/

static int run_cmd(struct bl_rec_ctx *ctx, const char *const *argv,
		   struct bl_run_out *o)
{
	int rc = ctx->io.run(ctx->io.arg, argv, NULL, 0, o);

	if (rc)
		snprintf(ctx->err, sizeof(ctx->err), "%s: %s", argv[0],
			 bl_strerror(rc));
	return rc;
}

static int observe_files(struct bl_rec_ctx *ctx, struct drbd_model *m,
			 const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	rc = ctx->io.list_dir(ctx->io.arg, dir, &names, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(ctx->err, sizeof(ctx->err), "%s: %s", dir,
			 bl_strerror(rc));
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		size_t l = strlen(names[i]), len, nr = 0;
		struct drbd_res *rs = NULL;
		char path[512], *text = NULL, err[256];

		if (strncmp(names[i], DRBD_RES_PREFIX, strlen(DRBD_RES_PREFIX)) ||
		    l < 5 || strcmp(names[i] + l - 4, ".res"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = ctx->io.read_file(ctx->io.arg, path, &text, &len);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc) {
			snprintf(ctx->err, sizeof(ctx->err), "%.300s: %s",
				 path, bl_strerror(rc));
			break;
		}
		rc = drbd_parse_conf(text, ctx->node, &rs, &nr, err, sizeof(err));
		if (rc || nr != 1 || !rs[0].own.volume) {
			char msg[800];

			snprintf(msg, sizeof(msg), "%.300s: %.256s; left alone", path,
				 rc ? err : nr != 1 ? "not exactly one resource"
				    : "no '# bollard:' header, not ours");
			rc = add_cond(m, names[i], "NotOwned", msg);
			if (!rc) {
				/* the resource name is the file name */
				names[i][l - 4] = '\0';
				rc = strv_push(&m->hold, &m->nhold, names[i]);
			}
			drbd_res_array_free(rs, nr);
			free(text);
			continue;
		}
		rc = push_model_res(m, &rs[0], text, NULL, 0);
		if (rc) {
			drbd_res_array_free(rs, nr);
			free(text);
		} else {
			free(rs);
		}
	}
	bl_rec_free_names(names, n);
	return rc;
}

static int observe_lvs(struct bl_rec_ctx *ctx, struct drbd_model *m)
{
	static const char *const argv[] = {
		"lvs", "--noheadings", "--separator", "|", "--units", "b",
		"--nosuffix", "-o", "vg_name,lv_name,lv_size", NULL };
	struct bl_run_out o = {0};
	char *line, *save = NULL;
	int rc;

	if ((rc = run_cmd(ctx, argv, &o)))
		return rc;
	if (o.status) {
		snprintf(ctx->err, sizeof(ctx->err), "lvs exited %d: %.200s",
			 o.status, o.err);
		bl_run_out_free(&o);
		return -EIO;
	}
	for (line = strtok_r(o.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char vg[128], lv[128];
		unsigned long long size;
		struct drbd_lv *v;

		while (*line == ' ')
			line++;
		if (sscanf(line, "%127[^|]|%127[^|]|%llu", vg, lv, &size) != 3)
			continue;
		v = realloc(m->lvs, (m->nlvs + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		m->lvs = v;
		v = &v[m->nlvs];
		v->vg = strdup(vg);
		v->lv = strdup(lv);
		v->size = size;
		if (!v->vg || !v->lv) {
			free(v->vg);
			free(v->lv);
			rc = -ENOMEM;
			break;
		}
		m->nlvs++;
	}
	bl_run_out_free(&o);
	m->lvs_probed = !rc;
	return rc;
}

static const struct drbd_lv *find_lv(const struct drbd_model *m,
				     const char *vg, const char *lv)
{
	for (size_t i = 0; i < m->nlvs; i++)
		if (!strcmp(m->lvs[i].vg, vg) && !strcmp(m->lvs[i].lv, lv))
			return &m->lvs[i];
	return NULL;
}

static const struct drbd_live *find_status(const struct drbd_model *m,
					     const char *name)
{
	for (size_t i = 0; i < m->nst; i++)
		if (!strcmp(m->st[i].name, name))
			return &m->st[i];
	return NULL;
}

/* A device without a disk state (DRBD did not say) counts as Diskless. */
static bool attached(const struct drbd_live *s)
{
	return s && s->disk[0] && strcmp(s->disk, "Diskless") &&
	       strcmp(s->disk, "Detaching");
}

/*
 * Metadata probe: `drbdmeta <minor> v09 <disk> internal dump-md` (v08
 * under DRBD 8.4) exits 0
 * when there is valid metadata and prints "No valid meta data found" (rc 1)
 * when there is none. "Found meta data is "unclean", please apply-al
 * first" (a node that died as Primary, found by tests/ha) is present:
 * `drbdadm adjust` applies the activity log before attaching. Anything
 * else (missing device, busy, I/O error) is "unknown", and unknown never
 * leads to create-md.
 */
static enum md_state probe_md(struct bl_rec_ctx *ctx, const struct drbd_res *r,
			      enum drbd_dialect d)
{
	char minor[16];
	const char *argv[] = { "drbdmeta", minor,
			       d == DRBD_V84 ? "v08" : "v09", r->disk,
			       "internal", "dump-md", NULL };
	struct bl_run_out o = {0};
	enum md_state st;

	snprintf(minor, sizeof(minor), "%d", r->minor);
	if (run_cmd(ctx, argv, &o))
		return MD_UNKNOWN;
	/* "unclean" metadata (the node crashed as Primary: its activity log
	 * must be applied first, which `drbdadm adjust` does) is metadata. */
	if (o.status == 0 || strstr(o.out, "unclean") || strstr(o.err, "unclean"))
		st = MD_PRESENT;
	else if (strstr(o.out, "No valid meta data found") ||
		 strstr(o.err, "No valid meta data found"))
		st = MD_ABSENT;
	else
		st = MD_UNKNOWN;
	bl_run_out_free(&o);
	return st;
}

static int drbd_observe(struct bl_rec_ctx *ctx, const void *want_,
			void **out)
{
	static const char *const show[] = { "drbdsetup", "show", NULL };
	const struct drbd_model *want = want_;
	const char *dir = ctx->drbd_dir ? ctx->drbd_dir : DRBD_DEFAULT_DIR;
	struct drbd_model *m = calloc(1, sizeof(*m));
	struct bl_run_out o = {0};
	char *proc = NULL;
	size_t plen = 0;
	bool need_lvs = false;
	int rc;

	if (!m)
		return -ENOMEM;
	if ((rc = observe_files(ctx, m, dir)))
		goto out_free;
	/*
	 * Nothing replicated is wanted here and no resource file of ours
	 * exists: there is nothing DRBD could tell us that we may act on (a
	 * live resource without our file is not ours). Do not ask the kernel,
	 * which on a single node without DRBD (the embedded default) fails.
	 */
	if (want->nres == 0 && want->nhold == 0 && m->nres == 0) {
		*out = m;
		return 0;
	}
	/* Which DRBD the kernel runs. No /proc/drbd (module not loaded):
	 * DRBD 9 tools then answer, as before. */
	rc = ctx->io.read_file(ctx->io.arg, "/proc/drbd", &proc, &plen);
	if (rc && rc != -ENOENT) {
		snprintf(ctx->err, sizeof(ctx->err), "/proc/drbd: %s",
			 bl_strerror(rc));
		goto out_free;
	}
	m->dialect = drbd_dialect_of(proc);
	if ((rc = run_cmd(ctx, show, &o)))
		goto out_free;
	if (o.status) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "drbdsetup show exited %d: %.200s", o.status, o.err);
		rc = -EIO;
		goto out_free_out;
	}
	rc = drbd_parse_show(o.out, &m->live, &m->nlive, ctx->err,
			     sizeof(ctx->err));
	if (rc)
		goto out_free_out;
	bl_run_out_free(&o);
	rc = drbd_live_status(ctx, m->dialect, proc, m->live, m->nlive,
			      &m->st, &m->nst);
	if (rc)
		goto out_free;
	/* The Volume status wants this too: one look at DRBD, not two. Handed
	 * over before the LV and metadata probes, which may fail on their own
	 * without making this state any less true. */
	if (ctx->report)
		ctx->report(ctx->report_arg, "drbd-live", m->st, m->nst);
	for (size_t i = 0; i < want->nres; i++)
		need_lvs |= want->res[i].own.vg != NULL;
	for (size_t i = 0; i < m->nres; i++)
		need_lvs |= m->res[i].own.vg != NULL;
	if (need_lvs && (rc = observe_lvs(ctx, m)))
		goto out_free;
	m->md = calloc(want->nres + 1, sizeof(*m->md));
	if (!m->md) {
		rc = -ENOMEM;
		goto out_free;
	}
	m->nmd = want->nres;
	for (size_t i = 0; i < want->nres; i++) {
		const struct drbd_res *r = &want->res[i];

		if (attached(find_status(m, r->name)))
			m->md[i] = MD_PRESENT;
		else if (r->own.vg && !find_lv(m, r->own.vg, r->own.lv))
			m->md[i] = MD_NOT_PROBED; /* LV to be created */
		else
			m->md[i] = probe_md(ctx, r, m->dialect);
	}
	free(proc);
	*out = m;
	return 0;

out_free_out:
	bl_run_out_free(&o);
out_free:
	free(proc);
	drbd_free_model(m);
	return rc;
}

/* ---- plan ----------------------------------------------------------------*/

static const struct drbd_res *find_res(const struct drbd_res *v, size_t n,
				       const char *name, size_t *idx)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name)) {
			if (idx)
				*idx = i;
			return &v[i];
		}
	return NULL;
}

#define CHECK(x) do { int rc_ = (x); if (rc_ < 0) return rc_; } while (0)

static int plan_one(const struct bl_rec_ctx *ctx, const struct drbd_model *want,
		    const struct drbd_model *have, size_t i, struct bl_plan *p)
{
	const struct drbd_res *r = &want->res[i], *live, *cf;
	const char *dir = ctx->drbd_dir ? ctx->drbd_dir : DRBD_DEFAULT_DIR;
	char path[512], tmp[512], obj[160], diff[256];
	int h_lv = 0, h_w, h_v, h_r = 0, h_md = 0, h;
	size_t ci = 0;
	enum md_state md = have->md[i];
	const char *text = have->dialect == DRBD_V84 ? want->text84[i]
						      : want->text[i];

	snprintf(path, sizeof(path), "%s/%s.res", dir, r->name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.res.tmp", dir, r->name);
	snprintf(obj, sizeof(obj), "Volume/%s", r->own.volume);
	/* A foreign file already holds this name (reported by observe). */
	if (strv_has(have->hold, have->nhold, r->name))
		return bl_plan_cond(p, obj, "NotOwned",
				    "%s.res exists and is not bollard's: "
				    "volume not configured", r->name);
	if (have->dialect == DRBD_V84 && r->npeers != 1)
		return bl_plan_cond(p, obj, "Unsupported",
				    "the kernel runs DRBD 8.4, which mirrors "
				    "between exactly two nodes; the Cluster "
				    "has %zu: %s not configured",
				    r->npeers + 1, r->name);
	cf = find_res(have->res, have->nres, r->name, &ci);
	live = find_res(have->live, have->nlive, r->name, NULL);

	if (r->own.vg) {
		const struct drbd_lv *lv = find_lv(have, r->own.vg, r->own.lv);
		char size[32];

		if (!lv) {
			snprintf(size, sizeof(size), "%llub", want->size[i]);
			h_lv = bl_plan_add(p, BL_STAGE_PREREQ, false, "lv",
					   r->own.lv, "create",
					   "create logical volume %s/%s",
					   r->own.vg, r->own.lv);
			CHECK(h_lv);
			CHECK(bl_plan_set_execl(p, h_lv, "lvcreate", "--yes",
						"--wipesignatures", "y", "-n",
						r->own.lv, "-L", size,
						r->own.vg, NULL));
			md = MD_ABSENT; /* a fresh LV of ours */
		} else if (lv->size < want->size[i]) {
			CHECK(bl_plan_cond(p, obj, "ResizeNotDone",
					   "LV %s/%s is %llu bytes, spec.size "
					   "%llu: growing is not done here",
					   r->own.vg, r->own.lv, lv->size,
					   want->size[i]));
		}
	}

	if (!cf || strcmp(have->text[ci], text)) {
		h_w = bl_plan_add(p, BL_STAGE_VALIDATE, false, "drbd-config",
				  r->name, "stage", "write candidate %s",
				  cf ? "(config changed)" : "(new resource)");
		CHECK(h_w);
		CHECK(bl_plan_set_write(p, h_w, tmp, text, strlen(text)));
		h_v = bl_plan_add(p, BL_STAGE_VALIDATE, false, "drbd-config",
				  r->name, "validate",
				  "drbdadm sh-nop on the candidate as host %s",
				  ctx->node);
		CHECK(h_v);
		CHECK(bl_plan_set_execl(p, h_v, "unshare", "--uts", "sh", "-c",
					"hostname \"$1\" && exec drbdadm -c \"$2\" sh-nop",
					"bollard-validate", ctx->node, tmp, NULL));
		CHECK(bl_plan_dep(p, h_v, h_w));
		h_r = bl_plan_add(p, BL_STAGE_CONFIG, false, "drbd-config",
				  r->name, "install",
				  "atomically replace %s.res", r->name);
		CHECK(h_r);
		CHECK(bl_plan_set_rename(p, h_r, tmp, path));
		CHECK(bl_plan_dep(p, h_r, h_v));
	}

	if (md == MD_ABSENT) {
		h_md = bl_plan_add(p, BL_STAGE_INIT, false, "drbd-md", r->name,
				   "create", "create metadata on %s (%s)",
				   r->disk, h_lv ? "new LV"
				   : "probe found no metadata");
		CHECK(h_md);
		CHECK(bl_plan_set_execl(p, h_md, "drbdadm", "create-md",
					r->name, NULL));
		if (h_lv)
			CHECK(bl_plan_dep(p, h_md, h_lv));
		if (h_r)
			CHECK(bl_plan_dep(p, h_md, h_r));
	} else if (md == MD_UNKNOWN) {
		return bl_plan_cond(p, obj, "MetadataUnknown",
				    "could not tell whether %s has DRBD "
				    "metadata; not creating it and not "
				    "adjusting %s", r->disk, r->name);
	}

	if (live)
		drbd_res_diff_d(r, live, have->dialect, diff, sizeof(diff));
	else
		snprintf(diff, sizeof(diff), "not up");
	if (!diff[0])
		return 0;
	h = bl_plan_add(p, BL_STAGE_ACTIVATE, false, "drbd-resource", r->name,
			"adjust", "live state differs: %s", diff);
	CHECK(h);
	CHECK(bl_plan_set_execl(p, h, "drbdadm", "adjust", r->name, NULL));
	if (h_r)
		CHECK(bl_plan_dep(p, h, h_r));
	if (h_md)
		CHECK(bl_plan_dep(p, h, h_md));
	if (h_lv)
		CHECK(bl_plan_dep(p, h, h_lv));
	return 0;
}

static int plan_remove(const struct bl_rec_ctx *ctx,
		       const struct drbd_model *want,
		       const struct drbd_model *have, const char *name,
		       struct bl_plan *p)
{
	const char *dir = ctx->drbd_dir ? ctx->drbd_dir : DRBD_DEFAULT_DIR;
	const struct drbd_res *cf = find_res(have->res, have->nres, name, NULL);
	const struct drbd_res *live = find_res(have->live, have->nlive, name, NULL);
	const struct drbd_live *st = find_status(have, name);
	const char *vol = cf ? cf->own.volume : name + strlen(DRBD_RES_PREFIX);
	const char *policy = cf && cf->own.policy ? cf->own.policy : "Retain";
	bool exists = strv_has(want->volumes, want->nvolumes, vol);
	char obj[160], path[512];
	int h_down = 0, h_rm = 0, h;

	snprintf(obj, sizeof(obj), "Volume/%s", vol);
	snprintf(path, sizeof(path), "%s/%s.res", dir, name);
	if (strv_has(want->used, want->nused, vol))
		return bl_plan_cond(p, obj, "InUse",
				    "%s is no longer wanted here but a Target "
				    "LUN still uses volume %s: not removed",
				    name, vol);
	if (st && !strcmp(st->role, "Primary"))
		return bl_plan_cond(p, obj, "Primary",
				    "%s is Primary on this node: not taken "
				    "down", name);
	if (live) {
		h_down = bl_plan_add(p, BL_STAGE_ACTIVATE, true,
				     "drbd-resource", name, "down",
				     "take down %s", name);
		CHECK(h_down);
		if (cf)
			CHECK(bl_plan_set_execl(p, h_down, "drbdadm", "down",
						name, NULL));
		else
			CHECK(bl_plan_set_execl(p, h_down, "drbdsetup", "down",
						name, NULL));
	}
	if (cf) {
		h_rm = bl_plan_add(p, BL_STAGE_CONFIG, true, "drbd-config",
				   name, "delete", "remove %s.res", name);
		CHECK(h_rm);
		CHECK(bl_plan_set_unlink(p, h_rm, path));
		if (h_down)
			CHECK(bl_plan_dep(p, h_rm, h_down));
	}
	if (cf && cf->own.vg && cf->own.lv && find_lv(have, cf->own.vg, cf->own.lv)) {
		if (exists || strcmp(policy, "Delete"))
			return bl_plan_cond(p, obj, "Retained",
					    "LV %s/%s kept (%s)", cf->own.vg,
					    cf->own.lv, exists
					    ? "the Volume still exists"
					    : "deletionPolicy Retain");
		h = bl_plan_add(p, BL_STAGE_PREREQ, true, "lv", cf->own.lv,
				"delete",
				"remove logical volume %s/%s (deletionPolicy Delete)",
				cf->own.vg, cf->own.lv);
		CHECK(h);
		{
			char vglv[300];

			snprintf(vglv, sizeof(vglv), "%s/%s", cf->own.vg,
				 cf->own.lv);
			CHECK(bl_plan_set_execl(p, h, "lvremove", "--yes",
						vglv, NULL));
		}
		if (h_rm)
			CHECK(bl_plan_dep(p, h, h_rm));
		if (h_down)
			CHECK(bl_plan_dep(p, h, h_down));
	}
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int drbd_plan(const struct bl_rec_ctx *ctx, const void *want_,
		     const void *have_, struct bl_plan *p)
{
	const struct drbd_model *want = want_, *have = have_;
	const char **order, **gone;
	size_t ng = 0;
	int rc = 0;

	for (size_t i = 0; i < want->nconds; i++)
		CHECK(bl_plan_cond(p, want->conds[i].object,
				   want->conds[i].reason, "%s",
				   want->conds[i].msg));
	for (size_t i = 0; i < have->nconds; i++)
		CHECK(bl_plan_cond(p, have->conds[i].object,
				   have->conds[i].reason, "%s",
				   have->conds[i].msg));
	/* Resources in name order, so the plan does not depend on the order
	 * of objects in etcd. */
	order = calloc(want->nres + 1, sizeof(*order));
	gone = calloc(have->nres + have->nlive + 1, sizeof(*gone));
	if (!order || !gone) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < want->nres; i++)
		order[i] = want->res[i].name;
	qsort(order, want->nres, sizeof(*order), cmp_cstr);
	for (size_t k = 0; k < want->nres && !rc; k++) {
		size_t i = 0;

		find_res(want->res, want->nres, order[k], &i);
		rc = plan_one(ctx, want, have, i, p);
	}
	for (size_t i = 0; i < have->nres + have->nlive; i++) {
		const char *n = i < have->nres ? have->res[i].name
			      : have->live[i - have->nres].name;
		bool dup = false;

		if (strncmp(n, DRBD_RES_PREFIX, strlen(DRBD_RES_PREFIX)) ||
		    find_res(want->res, want->nres, n, NULL) ||
		    strv_has(want->hold, want->nhold, n) ||
		    strv_has(have->hold, have->nhold, n))
			continue;
		for (size_t j = 0; j < ng; j++)
			dup |= !strcmp(gone[j], n);
		if (!dup)
			gone[ng++] = n;
	}
	qsort(gone, ng, sizeof(*gone), cmp_cstr);
	for (size_t k = 0; k < ng && !rc; k++)
		rc = plan_remove(ctx, want, have, gone[k], p);
out_free:
	free(order);
	free(gone);
	return rc;
}

/*
 * Configured here: the plan neither writes the resource's config, nor
 * creates its LV or metadata, and no condition keeps it from being
 * configured (a foreign file, 8.4 with more than two nodes, metadata that
 * could not be probed, a port or minor not allocated yet). FileBacking and
 * ResizeNotDone only inform. Pure: the plan is all it reads.
 */
bool drbd_plan_configured(const struct bl_plan *p, const char *volume)
{
	char res[300], obj[300];

	snprintf(res, sizeof(res), DRBD_RES_PREFIX "%s", volume);
	snprintf(obj, sizeof(obj), "Volume/%s", volume);
	for (size_t i = 0; i < p->n; i++) {
		const struct bl_action *a = &p->v[i];

		if (!a->remove && !strcmp(a->object, res) &&
		    (!strcmp(a->kind, "drbd-config") || !strcmp(a->kind, "drbd-md") ||
		     !strcmp(a->kind, "lv")))
			return false;
	}
	for (size_t i = 0; i < p->nconds; i++) {
		const struct bl_cond *c = &p->conds[i];

		if ((!strcmp(c->object, obj) || !strcmp(c->object, res)) &&
		    strcmp(c->reason, "FileBacking") && strcmp(c->reason, "ResizeNotDone"))
			return false;
	}
	return true;
}

static int drbd_apply(struct bl_rec_ctx *ctx, struct bl_plan *plan,
		      struct bl_executor *ex, struct bl_apply_result *res)
{
	int rc = bl_plan_apply(plan, ex, res);

	if (rc)
		snprintf(ctx->err, sizeof(ctx->err), "%s", ex->last_error);
	return rc;
}

const struct bl_reconciler_ops bl_drbd_reconciler = {
	.name = "drbd",
	.desired = drbd_desired,
	.observe = drbd_observe,
	.plan = drbd_plan,
	.apply = drbd_apply,
	.free_model = drbd_free_model,
};
