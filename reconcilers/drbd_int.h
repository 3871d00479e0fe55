/*
 * drbd_int.h - the DRBD reconciler's model, shared by drbd.c (desired,
 * observe, plan) and drbd_conf.c (parse/render DRBD's config syntax).
 *
 * As in drbd-utils' `drbdadm adjust`, the desired configuration and the
 * live state (`drbdsetup show`) are parsed into the same struct drbd_res,
 * so "does the kernel match?" is one struct comparison (drbd_res_equal).
 * Defaults count as absent: a protocol not printed by `drbdsetup show` is
 * C, DRBD's default.
 */
#ifndef BL_DRBD_INT_H
#define BL_DRBD_INT_H

#include <stdbool.h>
#include <stddef.h>

#define DRBD_RES_PREFIX   "bollard-"
#define DRBD_DEFAULT_DIR  "/etc/drbd.d"
#define DRBD_HEADER_TAG   "# bollard:"
#define DRBD_HANDLER_DIR  "/usr/lib/drbd"   /* drbd-utils' handler scripts */
/* bollard's own fence-peer handler (deploy/drbd/bollard-fence-peer) */
#define DRBD_BOLLARD_FENCE_PEER "/usr/lib/bollard/bollard-fence-peer"

struct drbd_peer {
	char *name;          /* host name (on <name> / net _name)          */
	int node_id;         /* -1: unknown                                */
	char *addr;          /* "ipv4 10.0.0.2:7789"; NULL unknown          */
};

/* What bollard records about a resource in the .res header comment, so a
 * deleted Volume's policy and backing are still known when it is gone. */
struct drbd_owner {
	char *volume;        /* Volume name                                */
	char *policy;        /* "Retain" | "Delete"                         */
	char *backing;       /* "lvm" | "file" | "device"                   */
	char *vg, *lv;       /* lvm only                                   */
};

struct drbd_res {
	char *name;          /* "bollard-<volume>"                         */
	char protocol;       /* 'A' 'B' 'C'                                */
	int minor;           /* -1: none                                   */
	char *disk;
	char *meta_disk;     /* "internal"                                 */
	int node_id;         /* this host's, -1: unknown                    */
	char *addr;          /* this host's address, NULL: unknown          */
	struct drbd_peer *peers;
	size_t npeers;
	struct drbd_owner own;
	/*
	 * DRBD's fencing policy; NULL is DRBD's default, dont-care (which
	 * `drbdsetup show` does not print). With Pacemaker deciding who is
	 * Primary, desired() sets "resource-and-stonith" and names the
	 * promotable clone (pcmk_clone, desired only, never parsed) that
	 * DRBD's crm-fence-peer handler constrains: see build_res() in drbd.c
	 * for why a two-node pair needs it.
	 */
	char *fencing;
	char *pcmk_clone;
	/*
	 * Which fence-peer handler (desired only): false is bollard's own
	 * (DRBD_BOLLARD_FENCE_PEER), true drbd-utils' crm-fence-peer script,
	 * kept with the rest of the classic stack when the Cluster says
	 * spec.pacemaker.drbdAgent: linbit. The unfence side is drbd-utils'
	 * crm-unfence-peer either way.
	 */
	bool crm_fence_peer;
	/*
	 * How fast DRBD notices a silently dead peer: net ping-int (seconds)
	 * and ping-timeout (tenths of a second). 0 is DRBD's default (10 s,
	 * 5 tenths), which `drbdsetup show` does not print, so a value equal
	 * to the default is stored as 0 on both sides of the comparison.
	 * Why bollard lowers ping-int under Pacemaker: build_res() in drbd.c.
	 */
	int ping_int;
	int ping_timeout;
};

#define DRBD_PING_INT_DEFAULT      10  /* seconds     */
#define DRBD_PING_TIMEOUT_DEFAULT   5  /* 1/10 second */

/*
 * The two dialects. DRBD 9 (the kernel module from LINBIT) and DRBD 8.4
 * (the module in Debian's and most distributions' kernels, driven by
 * drbd-utils 9 through its drbdadm-84/drbdsetup-84) differ, for what we
 * manage, in:
 *   - config: 8.4 has no "node-id" and no "connection-mesh" (drbdadm-84
 *     rejects both: "expected ... but got 'node-id'"), and exactly two
 *     "on" hosts;
 *   - `drbdsetup show`: 8.4 prints the local address in _this_host and
 *     the peer as a _remote_host block (no node id, no peer name) where 9
 *     has connection { path { ... } net { _name ...; } } blocks;
 *   - status: 8.4's drbdsetup has no `status --json`; /proc/drbd carries
 *     the role and disk state per minor ("ro:Primary/Secondary
 *     ds:UpToDate/UpToDate");
 *   - metadata: v08 for 8.4, v09 for 9.
 * Which one runs is the kernel's business: /proc/drbd's first line
 * ("version: 8.4.11 (api:1/proto:86-101)").
 */
enum drbd_dialect { DRBD_V9 = 0, DRBD_V84 };

/* The dialect from /proc/drbd's text; DRBD_V9 unless it says 8.x. */
enum drbd_dialect drbd_dialect_of(const char *proc_drbd);

void drbd_res_free(struct drbd_res *r);
/* Same configuration (owner header ignored). Peers are compared by name,
 * in any order. */
bool drbd_res_equal(const struct drbd_res *a, const struct drbd_res *b);
/* One line naming the first difference (for action descriptions); empty
 * when equal. */
void drbd_res_diff(const struct drbd_res *want, const struct drbd_res *have,
		   char *buf, size_t len);
/* The same for a dialect. Under DRBD_V84 node ids are not compared (8.4
 * has none) and a live peer without a name (8.4's _remote_host) stands
 * for the one wanted peer when both sides have exactly one. */
void drbd_res_diff_d(const struct drbd_res *want, const struct drbd_res *have,
		     enum drbd_dialect d, char *buf, size_t len);

/*
 * Render r as a .res file for host `self` (its "on" block comes from
 * r->node_id/addr, peers from r->peers; hosts sorted by node-id), with
 * the owner header. Returns a new string or NULL (ENOMEM).
 * drbd_render() is the DRBD 9 dialect; drbd_render_d() either (8.4: no
 * node-id, no connection-mesh; only meaningful with one peer).
 */
char *drbd_render(const struct drbd_res *r, const char *self);
char *drbd_render_d(const struct drbd_res *r, const char *self,
		    enum drbd_dialect d);

/*
 * Parse DRBD config text (a .res file) for host self. Fills *out with each
 * resource found (new array). Returns 0, BL_E_PARSE (message in err).
 */
int drbd_parse_conf(const char *text, const char *self,
		    struct drbd_res **out, size_t *n, char *err, size_t errlen);
/* Parse `drbdsetup show` output (any number of resources), either
 * dialect: an 8.4 _remote_host becomes one peer with an empty name and
 * node id -1. */
int drbd_parse_show(const char *text, struct drbd_res **out, size_t *n,
		    char *err, size_t errlen);
void drbd_res_array_free(struct drbd_res *v, size_t n);

/*
 * Live replication state of one resource: observe() reads it for its plan
 * (role, attached disk) and hands it to the Volume status bollardd writes
 * (reconciler.h: ctx->report, "drbd-live"). drbd_live.c.
 * Strings are DRBD's own words; "" when DRBD did not say.
 *   role       "Primary" | "Secondary" | "Unknown"
 *   disk       local disk state: "UpToDate", "Inconsistent", "Diskless"...
 *   conn       connection to the (first not Connected, else first) peer:
 *              DRBD 9 "connection-state" ("Connected", "Connecting",
 *              "StandAlone"...), DRBD 8.4 "cs:" (which is also where 8.4
 *              says "SyncSource"/"SyncTarget")
 *   repl       DRBD 9 "replication-state" of that peer ("Established",
 *              "SyncSource"...); 8.4: "" (it is in conn)
 *   peer_disk  that peer's disk state
 *   sync_pct   while a resync runs (DRBD 9: a peer device whose
 *              replication state is Sync* or PausedSync*, its
 *              "percent-in-sync"; 8.4: the "sync'ed: 12.3%" line under the
 *              minor), the percentage in sync rounded DOWN to a whole
 *              percent (so a status writer changes at most 100 times per
 *              resync); -1 when no resync runs.
 */
struct drbd_live {
	char *name;          /* resource name, "bollard-<volume>"           */
	char role[16], disk[24], conn[24], repl[24], peer_disk[24];
	int sync_pct;
};

/* Parse `drbdsetup status --json` (DRBD 9). Returns 0 (*out: new array,
 * possibly empty), BL_E_PARSE (not a JSON array), -ENOMEM. */
int drbd_live_parse_json(const char *text, size_t len,
			 struct drbd_live **out, size_t *n);
/* Parse DRBD 8.4's /proc/drbd. Minors are named through live (the
 * parsed `drbdsetup show`); a minor no live resource has, or one without
 * "ro:" (Unconfigured), is left out. Returns 0 or -ENOMEM. */
int drbd_live_parse_proc(const char *proc, const struct drbd_res *live,
			 size_t nlive, struct drbd_live **out, size_t *n);
void drbd_live_free(struct drbd_live *v, size_t n);

struct bl_rec_ctx;
/*
 * The live state in dialect d: DRBD 9 runs `drbdsetup status --json`
 * through ctx->io; 8.4 parses proc (/proc/drbd's text) with live (the
 * parsed `drbdsetup show`) naming the minors. Returns 0 with *out (new
 * array), or a negative code with the message in ctx->err.
 */
int drbd_live_status(struct bl_rec_ctx *ctx, enum drbd_dialect d,
		     const char *proc, const struct drbd_res *live,
		     size_t nlive, struct drbd_live **out, size_t *n);
/*
 * Observe the live state of every DRBD resource through ctx->io: read
 * /proc/drbd for the dialect, then `drbdsetup status --json` (9) or
 * `drbdsetup show` + /proc/drbd (8.4). Returns 0 with *out (new array),
 * or a negative code with the message in ctx->err. No /proc/drbd and no
 * drbdsetup (DRBD not installed): -ENOENT.
 */
int drbd_live_observe(struct bl_rec_ctx *ctx, struct drbd_live **out,
		      size_t *n);

/*
 * Whether a DRBD plan (of a round that planned: observe succeeded) leaves
 * Volume volume's resource configured on this node: its .res installed as
 * rendered, its LV and metadata present, nothing blocking it. What this
 * node's Volume status reports as drbd.configured, and what the Pacemaker
 * reconciler waits for on every node before it adds the resource's clone
 * (the ocf:linbit:drbd agent fails "not installed" where the config is
 * missing).
 */
struct bl_plan;
bool drbd_plan_configured(const struct bl_plan *p, const char *volume);

#endif
