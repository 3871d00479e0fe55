/*
 * reconciler.h - the reconciler interface: observe -> plan -> apply.
 *
 * For one node, each reconciler
 *   desired()  turns the desired objects (Cluster, Volume, Target, Secret
 *              as struct bl_obj, defaults applied) into its own model;
 *   observe()  reads the live state through the seams in struct bl_rec_io
 *              (commands and files; tests feed recorded text) and parses
 *              it into the SAME model (drbdadm adjust does this: config and
 *              `drbdsetup show` parse into one struct);
 *   plan()     compares the two. Pure: no I/O, no clock, no environment;
 *              same inputs, same plan, byte for byte;
 *   apply()    hands the plan to an executor (exec.h).
 * The controller runs this for every reconciler in bl_reconcilers[], in
 * table order, for the whole state every time (never per event).
 *
 * Models are opaque to callers (void *), each freed with the reconciler's
 * free_model(). All calls return 0 or a negative code (bl_err.h); the
 * message of an observe failure goes to ctx->err (not a global).
 */
#ifndef BL_RECONCILER_H
#define BL_RECONCILER_H

#include <stdbool.h>
#include <stddef.h>

#include "bl_schema.h"
#include "exec.h"
#include "plan.h"

/*
 * Seams to the live system, used by observe() only.
 *   run        run a command, capture output (exec.h). The real one is
 *              bl_run_process; the golden driver answers from a recording.
 *   read_file  read a whole file into a new NUL-terminated buffer;
 *              -ENOENT when it does not exist.
 *   list_dir   names in dir (new array of new strings, sorted),
 *              -ENOENT when dir does not exist.
 * bl_rec_io_real() fills the real ones.
 */
struct bl_rec_io {
	bl_run_fn run;
	int (*read_file)(void *arg, const char *path, char **buf, size_t *len);
	int (*list_dir)(void *arg, const char *dir, char ***names, size_t *n);
	void *arg;
};
void bl_rec_io_real(struct bl_rec_io *io);
void bl_rec_free_names(char **names, size_t n);

struct bl_rec_ctx {
	const char *node;       /* this node: Cluster.spec.nodes[].name       */
	const char *drbd_dir;   /* where .res files live; NULL: /etc/drbd.d   */
	const char *bollard_agent; /* path of our OCF agent (deploy/ocf/
	                         * bollard-target) whose meta-data checks the
	                         * ocf:bollard:target params, and the other
	                         * ocf:bollard:TYPE agents' (bollard-TYPE in
	                         * the same directory); NULL: ask
	                         * crm_resource (installed agent), and skip
	                         * that check with a condition if it fails   */
	const char *target_scope; /* IQN: the target reconciler observes and
	                         * plans only this target (a per-Target work
	                         * item); NULL: every target (a sweep)        */
	const char *state_dir;  /* relative file backings resolve here; NULL:
	                         * paths are used as given                   */
	struct bl_rec_io io;
	/*
	 * Optional: observe() hands live state it read to the caller as well,
	 * so a caller that needs it (bollardd's Volume status) does not ask
	 * the system a second time. what names the data: "drbd-live", an
	 * array of n struct drbd_live (drbd_int.h). Borrowed for the call
	 * only. NULL: nothing is reported.
	 */
	void (*report)(void *arg, const char *what, const void *data, size_t n);
	void *report_arg;
	/*
	 * Optional: the status a node reported for kind/name (the JSON under
	 * /bollard/v1/status/<kind>/<name>/<node>) as a new string, -ENOENT
	 * when it reported none. The Pacemaker reconciler reads every node's
	 * Volume status before it adds a DRBD clone (pacemaker.c). NULL: the
	 * caller cannot read status (the offline tools); nothing is gated.
	 */
	int (*peer_status)(void *arg, const char *kind, const char *name,
			   const char *node, char **json);
	void *peer_status_arg;
	/*
	 * Optional: objects the caller left out of objs, fetched one at a
	 * time. bollardd leaves Volumes out of a target reconcile: they come
	 * by the thousand and a parsed one is a few kB of jansson tree, so
	 * 10,000 parsed at once cost ~25 MB where one at a time costs
	 * nothing. Returns a new object (free it with bl_obj_free) or NULL
	 * when there is none (or on ENOMEM). NULL load: objs is everything.
	 */
	struct bl_obj *(*load)(void *arg, const char *kind, const char *name);
	void *load_arg;
	char err[512];          /* message of the last failure                */
};

struct bl_reconciler_ops {
	const char *name;
	int (*desired)(struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
		       void **model);
	/* desired is passed so observe can probe only what matters (e.g. the
	 * metadata of a disk we are about to use). */
	int (*observe)(struct bl_rec_ctx *ctx, const void *desired,
		       void **model);
	int (*plan)(const struct bl_rec_ctx *ctx, const void *desired,
		    const void *observed, struct bl_plan *plan);
	int (*apply)(struct bl_rec_ctx *ctx, struct bl_plan *plan,
		     struct bl_executor *ex, struct bl_apply_result *res);
	void (*free_model)(void *model);
};

extern const struct bl_reconciler_ops bl_drbd_reconciler;
extern const struct bl_reconciler_ops bl_pacemaker_reconciler;
extern const struct bl_reconciler_ops bl_target_reconciler;

/* Every reconciler, in the order the controller runs them; NULL-ended. */
extern const struct bl_reconciler_ops *const bl_reconcilers[];
/* By name, or NULL. */
const struct bl_reconciler_ops *bl_reconciler_find(const char *name);

/*
 * Convenience: desired -> observe -> plan for one reconciler into plan
 * (initialised here; free it with bl_plan_free even on error). No apply.
 */
int bl_reconcile_plan(const struct bl_reconciler_ops *ops,
		      struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
		      struct bl_plan *plan);

/*
 * The same in steps, for a caller that wants the objects gone before the
 * live state is read, or the plan in windows (plan.h, "Windows"):
 *   bl_rec_run_desired(&r, ops, ctx, objs)   desired(); objs may go after
 *                                             (models copy what they keep)
 *   bl_rec_run_plan(&r, plan, limit)          observe() + plan() into plan
 *                                             (initialised here) keeping at
 *                                             most limit actions (0: all)
 *   bl_rec_run_window(&r, plan, first, max)   plan() again on the same
 *                                             models: one window of a plan
 *                                             that went over the limit
 *   bl_rec_run_free(&r)                       the models
 * Free plan with bl_plan_free even on error. bl_reconcile_plan is these
 * with no limit.
 */
struct bl_rec_run {
	const struct bl_reconciler_ops *ops;
	struct bl_rec_ctx *ctx;
	void *want, *have;
};
int bl_rec_run_desired(struct bl_rec_run *r, const struct bl_reconciler_ops *ops,
		       struct bl_rec_ctx *ctx, const struct bl_objlist *objs);
int bl_rec_run_plan(struct bl_rec_run *r, struct bl_plan *plan, size_t limit);
int bl_rec_run_window(struct bl_rec_run *r, struct bl_plan *plan, size_t first,
		      size_t max);
void bl_rec_run_free(struct bl_rec_run *r);

/* ---- helpers shared by the reconcilers (reconcilers.c) ------------------*/

/* spec member as a string, or NULL. */
const char *bl_rec_str(const json_t *obj, const char *key);
/* spec member as an integer (JSON integer or decimal string); def if
 * absent or not a number. */
long long bl_rec_int(const json_t *obj, const char *key, long long def);
/* Size field: JSON integer bytes or a string for bl_parse_size. */
int bl_rec_size(const json_t *v, unsigned long long *bytes);


/*
 * A replicated Volume's DRBD resource in Pacemaker: the primitive
 * "bollard-drbd-<volume>" and its promotable clone
 * "bollard-drbd-<volume>-clone" (printf formats, the Volume's name their
 * one argument). The Pacemaker reconciler puts the clone in the CIB; the
 * DRBD reconciler names it to its fence-peer handler (--master-id), which
 * constrains the clone Pacemaker runs. One definition for both, so they
 * cannot drift apart (tests/unit/test_plan_names.c checks the two
 * reconcilers' plans agree). BL_PCMK_PREFIX is the mark of every CIB
 * element bollard owns (pcmk_int.h: PCMK_PREFIX).
 */
#define BL_PCMK_PREFIX          "bollard-"
#define BL_PCMK_DRBD_ID         BL_PCMK_PREFIX "drbd-%s"
#define BL_PCMK_DRBD_CLONE_ID   BL_PCMK_DRBD_ID "-clone"

#endif
