/*
 * plan.h - a reconcile plan as data: ordered, staged actions with
 * dependencies, printable as stable text (golden tests) and JSON.
 *
 * Every reconciler (drbd, pacemaker, and the target reconciler) turns
 * (desired, observed) into a struct bl_plan with a pure function, and only
 * the executor (exec.h) touches the world. This header is generic on
 * purpose: nothing in it knows about DRBD, the CIB or the engine.
 *
 * An action is one step:
 *   stage     where it runs in the fixed stage order (enum bl_stage);
 *             (Pacemaker puts its cluster properties in CONFIG too, so
 *             that they follow the VALIDATE step like everything else)
 *   remove    true for steps that take something away (down, delete, rm);
 *   kind      what sort of thing it acts on: "lv", "drbd-config",
 *             "cib-primitive" ...  (free text, lowercase, no spaces);
 *   object    the name of that thing: "bollard-db";
 *   verb      "create", "write", "adjust", "delete" ...;
 *   desc      one line for humans;
 *   op        what the executor does (enum bl_plan_op) with argv / path /
 *             payload;
 *   deps      actions that must have succeeded before this one runs.
 *
 * Ordering. Removals run first, in reverse stage order (undo what the
 * creation stages did, last stage first); then everything else in stage
 * order. Within a (phase, stage) actions keep the order they were added.
 * bl_plan_sort() applies this once; ids are then the 1-based positions in
 * that order and deps refer to ids. Why removals first: they free names,
 * ports and minors a creation in the same plan may want, and a Pacemaker
 * constraint must go before the resource it names.
 *
 * Conditions are findings that are not actions: "volume still used by a
 * LUN, not deleted", "element bollard-x exists but is not ours". They are
 * part of the plan so the golden tests pin them and the controller can
 * turn them into status conditions.
 *
 * Error convention: 0 or -errno (bl_err.h). Nothing here keeps global
 * state; one plan must not be used from two threads at once.
 */
#ifndef BL_PLAN_H
#define BL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/* Fixed stage order shared by every reconciler. */
enum bl_stage {
	BL_STAGE_VALIDATE = 0, /* validate candidates before anything changes:
	                        * a rejected config leaves no trace      */
	BL_STAGE_PREREQ,     /* storage and prerequisites: lvcreate        */
	BL_STAGE_CONFIG,     /* install configuration: files, CIB
	                      * properties and resources                  */
	BL_STAGE_INIT,       /* one-time initialisation: create-md          */
	BL_STAGE_ACTIVATE,   /* make the live state follow: drbdadm adjust,
	                      * CIB constraints                            */
	BL_STAGE_COUNT,
};

/* What the executor does for an action. */
enum bl_plan_op {
	BL_OP_EXEC = 0,  /* run argv; payload (if any) is fed on stdin      */
	BL_OP_WRITE,     /* write payload to path (created/truncated, 0644) */
	BL_OP_RENAME,    /* rename(path, path2): atomic replace             */
	BL_OP_UNLINK,    /* unlink(path); a missing file counts as success  */
	BL_OP_NOTE,      /* nothing to run; records a decision             */
};

struct bl_action {
	unsigned id;         /* 1-based position after bl_plan_sort()       */
	unsigned seq;        /* insertion order (stable tie-break)          */
	enum bl_stage stage;
	bool remove;
	enum bl_plan_op op;
	char *kind, *object, *verb, *desc;
	char **argv;         /* BL_OP_EXEC: NULL-terminated                 */
	char *path, *path2;  /* BL_OP_WRITE/RENAME/UNLINK                   */
	char *payload;       /* NUL-terminated; may be NULL                 */
	size_t payload_len;
	bool payload_hidden; /* text and JSON forms give only its size: a
	                      * whole would-be CIB, or secrets (CHAP)      */
	unsigned *deps;      /* ids (seq before sorting) of prerequisites   */
	size_t ndeps;
};

struct bl_cond {
	char *object;        /* "Volume/db", "cib/bollard-x"                */
	char *reason;        /* CamelCase: InUse, NotOwned, Pending ...     */
	char *msg;
};

/* Per handle of a bounded plan (see "Windows" below). */
struct bl_plan_handle {
	unsigned id;         /* window: its id in the whole plan            */
	unsigned idx;        /* window: 1 + its index in v; 0: not kept     */
	bool op;             /* counting: an op was set (not a note)        */
};

#define BL_PLAN_RANKS (2 * BL_STAGE_COUNT)

struct bl_plan {
	char *reconciler;    /* "drbd", "pacemaker", ...                    */
	char *node;          /* node the plan was made for (may be NULL)    */
	struct bl_action *v;
	size_t n, cap;
	struct bl_cond *conds;
	size_t nconds, capconds;
	bool sorted;
	/* Windows (bl_plan_limit / bl_plan_window); all zero otherwise. */
	size_t limit;        /* keep at most this many actions; 0: all      */
	bool counting;       /* went over limit: counts, keeps no action    */
	bool windowed;       /* keeps only ids [win_first, win_end)         */
	size_t win_first, win_end;
	size_t total;        /* counting: actions of the whole plan         */
	size_t changes;      /* counting: of which not BL_OP_NOTE           */
	size_t rank_n[BL_PLAN_RANKS];    /* counting: actions per rank      */
	size_t rank_seen[BL_PLAN_RANKS]; /* window: per rank, this run      */
	struct bl_plan_handle *h;        /* counting/window: by handle - 1  */
	size_t nh, caph;
};

/* Initialise; reconciler and node are copied (node may be NULL).
 * Returns 0 or -ENOMEM. */
int bl_plan_init(struct bl_plan *p, const char *reconciler, const char *node);
void bl_plan_free(struct bl_plan *p);

/* Stage names as printed: "validate" "prereq" "config" "init" "activate". */
const char *bl_stage_name(enum bl_stage s);
const char *bl_op_name(enum bl_plan_op op);

/*
 * Add an action. kind, object, verb and desc are copied (desc may be a
 * printf format). Returns the new action's handle (its seq, >= 1), or a
 * negative errno. The op-specific parts are set with the calls below on
 * that handle; deps with bl_plan_dep(). Adding is only allowed before
 * bl_plan_sort().
 */
int bl_plan_add(struct bl_plan *p, enum bl_stage stage, bool remove,
		const char *kind, const char *object, const char *verb,
		const char *desc_fmt, ...) __attribute__((format(printf, 7, 8)));
/* BL_OP_EXEC with argv (NULL-terminated, copied). */
int bl_plan_set_exec(struct bl_plan *p, int h, const char *const *argv);
/* Same, argv given as varargs ending with NULL. */
int bl_plan_set_execl(struct bl_plan *p, int h, ...)
	__attribute__((sentinel));
/* Payload (copied); for EXEC it is stdin, for WRITE the file content. */
int bl_plan_set_payload(struct bl_plan *p, int h, const char *data,
			size_t len);
/* Print only the payload's size in the text form. */
int bl_plan_hide_payload(struct bl_plan *p, int h);
int bl_plan_set_write(struct bl_plan *p, int h, const char *path,
		      const char *data, size_t len);
int bl_plan_set_rename(struct bl_plan *p, int h, const char *from,
		       const char *to);
int bl_plan_set_unlink(struct bl_plan *p, int h, const char *path);
/* Action h needs action dep (both handles from bl_plan_add). dep must run
 * before h in execution order (checked by bl_plan_sort). Returns 0,
 * -EINVAL or -ENOMEM. */
int bl_plan_dep(struct bl_plan *p, int h, int dep);

/* Add a condition. Returns 0 or -ENOMEM. */
int bl_plan_cond(struct bl_plan *p, const char *object, const char *reason,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Put the actions in execution order (see the top of this file), set ids
 * and rewrite deps from handles to ids; sort conditions by (object,
 * reason). Idempotent. Returns 0, or -EINVAL if a dependency would run
 * after its dependent (a reconciler bug: a dep in a later stage).
 */
int bl_plan_sort(struct bl_plan *p);

/* Number of actions that change something (everything but BL_OP_NOTE);
 * of the whole plan for a counted or windowed one. */
size_t bl_plan_changes(const struct bl_plan *p);

/*
 * Windows: a plan too big to hold at once, built and used a part at a time.
 *
 * Why: bollardd's cold start of a 10,000-LUN target plans 10,000 `lun add`
 * command lines, ~7 MB of small strings held at once, the largest part of
 * its peak RSS (issue 6 asks < 30 MB). An executor needs one action at a
 * time, and plan() is pure, so the same plan can be built again and only a
 * window of it kept each time: memory bounded by the window, for the cost
 * of running plan() once more per window (a few ms at 10,000 LUNs).
 *
 * How. Ids are positions in execution order, and that order is a stable
 * sort on (rank, insertion order), rank being (remove, stage). So an
 * action's id is known when it is added, provided the number of actions of
 * every lower rank is known: that is what a first, counting run finds.
 *   bl_plan_limit(p, max)   before plan(): keep at most max actions. A plan
 *                           that stays within it is an ordinary plan (the
 *                           common case costs nothing more); past it, p
 *                           drops its actions and only counts from then on
 *                           (bl_plan_counted; conditions are still kept).
 *   bl_plan_window(p, first, max)
 *                           then, for each window: drop what p holds; the
 *                           next plan() run on the SAME inputs keeps only the
 *                           actions with ids in [first, first + max), with
 *                           their final ids and deps (ids of the whole plan,
 *                           so a dep may name an action of an earlier
 *                           window), and adds no condition (the counting run
 *                           has them). bl_plan_sort() puts them in order.
 * The concatenation of the windows is the whole plan, action for action
 * (tests/golden/plan_windows.sh checks it on every golden case). Text and
 * JSON forms print what p holds; the tools print whole plans. bl_plan_total
 * is the size of the whole plan in both modes.
 */
int bl_plan_limit(struct bl_plan *p, size_t max);
bool bl_plan_counted(const struct bl_plan *p);
int bl_plan_window(struct bl_plan *p, size_t first, size_t max);
size_t bl_plan_total(const struct bl_plan *p);

/*
 * Text form, stable for golden tests (sorts first if needed):
 *   plan drbd node=nodea: 3 actions, 1 condition
 *   [1] prereq lv/vg0/bollard-db create: create LV ... 
 *       $ lvcreate --yes -n bollard-db -L 67108864b vg0
 *       after: 1
 *       | payload line
 *   ! Volume/db InUse: ...
 * Arguments are shell-quoted when needed. Returns 0 or -errno (write).
 */
int bl_plan_print(struct bl_plan *p, FILE *f);

/* The same as a new JSON value: {"reconciler","node","actions":[..],
 * "conditions":[..]}. NULL on -ENOMEM. */
json_t *bl_plan_to_json(struct bl_plan *p);

/* Shell-quote one word into a new string ('...' when needed). NULL: ENOMEM. */
char *bl_shell_quote(const char *s);

#endif
