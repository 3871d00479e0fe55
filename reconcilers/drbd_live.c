/*
 * drbd_live.c - DRBD's live replication state (role, disk, connection,
 * resync progress) per resource: the parsers of `drbdsetup status --json`
 * (DRBD 9) and /proc/drbd (8.4), used by the DRBD reconciler's observe()
 * and, through drbd_live_observe(), by bollardd's resync poll of the
 * Volume status (see drbd_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drbd_int.h"
#include "reconciler.h"

static int run_cmd(struct bl_rec_ctx *ctx, const char *const *argv,
		   struct bl_run_out *o)
{
	int rc = ctx->io.run(ctx->io.arg, argv, NULL, 0, o);

	if (rc)
		snprintf(ctx->err, sizeof(ctx->err), "%s: %s", argv[0],
			 bl_strerror(rc));
	return rc;
}

/* ---- live state for the Volume status (drbd_int.h) -----------------------*/

void drbd_live_free(struct drbd_live *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

static struct drbd_live *live_push(struct drbd_live **v, size_t *n,
				   const char *name)
{
	struct drbd_live *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return NULL;
	*v = nv;
	nv = &nv[*n];
	memset(nv, 0, sizeof(*nv));
	nv->sync_pct = -1;
	if (!(nv->name = strdup(name)))
		return NULL;
	(*n)++;
	return nv;
}

static void copy_word(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static bool resyncing(const char *repl)
{
	return repl && (!strncmp(repl, "Sync", 4) ||
			!strncmp(repl, "PausedSync", 10));
}

/* Whole percent, rounded down, clamped to 0..100. */
static int whole_pct(double p)
{
	if (!(p > 0))
		return 0;
	return p >= 100 ? 100 : (int)p;
}

/*
 * DRBD 9's status document, per resource:
 *   {"name":..., "role":..., "devices":[{"disk-state":...}],
 *    "connections":[{"name":..., "connection-state":...,
 *      "peer_devices":[{"replication-state":..., "peer-disk-state":...,
 *                       "percent-in-sync":42.17}]}]}
 * The reported peer is the first one not Connected (what an operator
 * must see), else the first; the sync percent is the lowest over peer
 * devices that are resyncing.
 */
int drbd_live_parse_json(const char *text, size_t len,
			 struct drbd_live **out, size_t *n)
{
	json_t *root = json_loadb(text, len, 0, NULL), *r;
	struct drbd_live *v = NULL;
	size_t nv = 0, i;

	if (!json_is_array(root)) {
		json_decref(root);
		return BL_E_PARSE;
	}
	json_array_foreach(root, i, r) {
		const json_t *dev = json_array_get(json_object_get(r, "devices"), 0);
		const json_t *conns = json_object_get(r, "connections"), *cn;
		const json_t *pick = NULL;
		struct drbd_live *l;
		size_t j;

		if (!bl_rec_str(r, "name"))
			continue;
		if (!(l = live_push(&v, &nv, bl_rec_str(r, "name")))) {
			json_decref(root);
			drbd_live_free(v, nv);
			return -ENOMEM;
		}
		copy_word(l->role, sizeof(l->role), bl_rec_str(r, "role"));
		copy_word(l->disk, sizeof(l->disk), bl_rec_str(dev, "disk-state"));
		json_array_foreach(conns, j, cn) {
			const json_t *pd;
			size_t k;

			if (!pick || (!strcmp(bl_rec_str(pick, "connection-state") ?: "",
					      "Connected") &&
				      strcmp(bl_rec_str(cn, "connection-state") ?: "",
					     "Connected")))
				pick = cn;
			json_array_foreach(json_object_get(cn, "peer_devices"), k, pd) {
				const json_t *pct = json_object_get(pd, "percent-in-sync");
				int p;

				if (!resyncing(bl_rec_str(pd, "replication-state")) ||
				    !json_is_number(pct))
					continue;
				p = whole_pct(json_number_value(pct));
				if (l->sync_pct < 0 || p < l->sync_pct)
					l->sync_pct = p;
			}
		}
		if (pick) {
			const json_t *pd = json_array_get(json_object_get(pick, "peer_devices"), 0);

			copy_word(l->conn, sizeof(l->conn),
				  bl_rec_str(pick, "connection-state"));
			copy_word(l->repl, sizeof(l->repl),
				  bl_rec_str(pd, "replication-state"));
			copy_word(l->peer_disk, sizeof(l->peer_disk),
				  bl_rec_str(pd, "peer-disk-state"));
		}
	}
	json_decref(root);
	*out = v;
	*n = nv;
	return 0;
}

/*
 * DRBD 8.4's /proc/drbd: a line per minor, then its detail lines,
 * indented, up to the next minor's line:
 *    2: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
 *       ns:... oos:...
 *  	[===>................] sync'ed: 21.4% (824/1020)M
 *  	finish: 0:00:07 speed: 28,000 (28,000) K/sec
 */
int drbd_live_parse_proc(const char *proc, const struct drbd_res *live,
			 size_t nlive, struct drbd_live **out, size_t *n)
{
	struct drbd_live *v = NULL, *cur = NULL;
	size_t nv = 0;

	for (const char *line = proc; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *eol = strchr(line, '\n'), *p;
		size_t ll = eol ? (size_t)(eol - line) : strlen(line);
		char buf[512], cs[24] = "", role[16] = "", disk[24] = "",
		     pdisk[24] = "";
		const char *rname = NULL;
		double pct;
		int minor;

		snprintf(buf, sizeof(buf), "%.*s", (int)ll, line);
		if (sscanf(buf, " %d:", &minor) != 1) {
			if (cur && (p = strstr(buf, "sync'ed:")) &&
			    sscanf(p, "sync'ed: %lf%%", &pct) == 1)
				cur->sync_pct = whole_pct(pct);
			continue;
		}
		cur = NULL;
		if (!(p = strstr(buf, " ro:")) ||
		    sscanf(p, " ro:%15[^/ ]", role) != 1)
			continue;
		if ((p = strstr(buf, " cs:")))
			sscanf(p, " cs:%23s", cs);
		if ((p = strstr(buf, " ds:")))
			sscanf(p, " ds:%23[^/ ]/%23s", disk, pdisk);
		for (size_t i = 0; i < nlive && !rname; i++)
			if (live[i].minor == minor)
				rname = live[i].name;
		if (!rname)
			continue;
		if (!(cur = live_push(&v, &nv, rname))) {
			drbd_live_free(v, nv);
			return -ENOMEM;
		}
		copy_word(cur->role, sizeof(cur->role), role);
		copy_word(cur->disk, sizeof(cur->disk), disk);
		copy_word(cur->conn, sizeof(cur->conn), cs);
		copy_word(cur->peer_disk, sizeof(cur->peer_disk), pdisk);
	}
	*out = v;
	*n = nv;
	return 0;
}

int drbd_live_status(struct bl_rec_ctx *ctx, enum drbd_dialect d,
		     const char *proc, const struct drbd_res *live, size_t nlive,
		     struct drbd_live **out, size_t *n)
{
	static const char *const status[] = { "drbdsetup", "status", "--json", NULL };
	struct bl_run_out o = {0};
	int rc;

	if (d == DRBD_V84)
		return drbd_live_parse_proc(proc, live, nlive, out, n);
	if ((rc = run_cmd(ctx, status, &o)))
		return rc;
	if (o.status) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "drbdsetup status exited %d: %.200s", o.status, o.err);
		bl_run_out_free(&o);
		return -EIO;
	}
	rc = drbd_live_parse_json(o.out, o.out_len, out, n);
	if (rc == BL_E_PARSE)
		snprintf(ctx->err, sizeof(ctx->err),
			 "drbdsetup status --json: not a JSON array");
	bl_run_out_free(&o);
	return rc;
}

int drbd_live_observe(struct bl_rec_ctx *ctx, struct drbd_live **out,
		      size_t *n)
{
	static const char *const show[] = { "drbdsetup", "show", NULL };
	struct bl_run_out o = {0};
	struct drbd_res *live = NULL;
	size_t nlive = 0, plen = 0;
	char *proc = NULL;
	int rc;

	rc = ctx->io.read_file(ctx->io.arg, "/proc/drbd", &proc, &plen);
	if (rc && rc != -ENOENT) {
		snprintf(ctx->err, sizeof(ctx->err), "/proc/drbd: %s",
			 bl_strerror(rc));
		return rc;
	}
	/* DRBD 9: the status names its resources. 8.4: /proc/drbd has
	 * minors only, which `drbdsetup show` names. */
	if (drbd_dialect_of(proc) == DRBD_V9) {
		free(proc);
		return drbd_live_status(ctx, DRBD_V9, NULL, NULL, 0, out, n);
	}
	if ((rc = run_cmd(ctx, show, &o)))
		goto out_proc;
	if (o.status) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "drbdsetup show exited %d: %.200s", o.status, o.err);
		rc = -EIO;
		goto out_run;
	}
	rc = drbd_parse_show(o.out, &live, &nlive, ctx->err, sizeof(ctx->err));
	if (rc == 0) {
		rc = drbd_live_status(ctx, DRBD_V84, proc, live, nlive, out, n);
		drbd_res_array_free(live, nlive);
	}
out_run:
	bl_run_out_free(&o);
out_proc:
	free(proc);
	return rc;
}
