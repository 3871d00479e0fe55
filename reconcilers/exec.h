/*
 * exec.h - executors that carry out a plan (plan.h), swappable like
 * Pacemaker's injected executors:
 *
 *   real     runs BL_OP_EXEC through an injected runner (bl_run_fn; the
 *            default bl_run_process forks and execs) and does file ops
 *            with plain syscalls, optionally under a root prefix;
 *   dry-run  records what it would do (prints it to a FILE *) and succeeds;
 *   fault    wraps another executor and fails, or kills the process,
 *            after N actions: the test hook for "the controller crashed
 *            half way through apply" (BOLLARD_FAULT=apply:N[:die]).
 *
 * bl_plan_apply() walks a sorted plan. Policy (why: the next reconcile
 * re-observes everything, so stopping early is always safe, while going on
 * after a failure risks building on a half-made prerequisite):
 *   - an action whose deps did not all succeed is skipped;
 *   - after a failure, the rest of that stage still runs (independent
 *     actions, e.g. another volume), but no later stage starts.
 * The counts say what changed (like scstadmin).
 *
 * Error convention: 0 or -errno / BL_E_* (bl_err.h). No globals.
 */
#ifndef BL_EXEC_H
#define BL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plan.h"

/* Output of one command. Buffers are malloc()ed, NUL-terminated, owned by
 * the caller after the call (bl_run_out_free). */
struct bl_run_out {
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
	int status;          /* exit code; 128+N when killed by signal N   */
};
void bl_run_out_free(struct bl_run_out *o);

/*
 * Run argv (argv[0] looked up in PATH), feeding in[0..in_len) on stdin
 * (in may be NULL), capture stdout and stderr. Returns 0 when the command
 * ran (whatever its exit status, see o->status), or -errno when it could
 * not be started (-ENOENT: no such program). o is filled on 0 only.
 */
typedef int (*bl_run_fn)(void *arg, const char *const *argv, const char *in,
			 size_t in_len, struct bl_run_out *o);

/* The default runner: fork + execvp, pipes, no shell. arg is unused. */
int bl_run_process(void *arg, const char *const *argv, const char *in,
		   size_t in_len, struct bl_run_out *o);

struct bl_executor;

struct bl_exec_ops {
	const char *name;
	/* Carry out one action. Returns 0 or a negative code; a failed
	 * command is BL_E_EXEC_FAILED (see below) with its stderr in the
	 * executor's last_error. */
	int (*run)(struct bl_executor *ex, const struct bl_action *a);
	void (*destroy)(struct bl_executor *ex);
};

/* A command ran and exited non-zero. In the bl_err.h range reserved for
 * reconcilers (-1050..-1099), so it never collides with schema codes. */
#define BL_E_EXEC_FAILED  (-1050)
/* The fault executor's injected failure. */
#define BL_E_FAULT        (-1051)

/* Text for BL_E_EXEC_FAILED / BL_E_FAULT, else bl_strerror(rc). */
const char *bl_exec_strerror(int rc);

struct bl_executor {
	const struct bl_exec_ops *ops;
	char last_error[512];    /* message of the last failure             */
};

/* Real executor. run may be NULL (bl_run_process). root, if not NULL,
 * is prefixed to every file path (tests apply into a temp dir). */
struct bl_executor *bl_exec_real_new(bl_run_fn run, void *run_arg,
				     const char *root);
/* Dry-run executor: prints "would: <action line>" for each action to out
 * (may be NULL: silent) and succeeds. */
struct bl_executor *bl_exec_dry_new(FILE *out);
/*
 * Fault executor around inner (which it takes ownership of): the first
 * `after` actions go to inner; action after+1 fails with BL_E_FAULT, or,
 * with die, the process is killed with SIGKILL before running it (no
 * cleanup, like a crash).
 */
struct bl_executor *bl_exec_fault_new(struct bl_executor *inner,
				      unsigned after, int die);
/*
 * Parse a BOLLARD_FAULT value: "apply:N" or "apply:N:die". Returns 0 with
 * *after and *die set, -ENOENT if spec is NULL/empty or names another
 * fault point, -EINVAL if malformed. The caller reads the environment.
 */
int bl_exec_fault_parse(const char *spec, unsigned *after, int *die);

void bl_exec_free(struct bl_executor *ex);

struct bl_apply_result {
	size_t done;         /* actions that succeeded                    */
	size_t failed;       /* actions that failed                       */
	size_t skipped;      /* not run: deps failed or a stage failed    */
	int first_error;     /* code of the first failure, 0 if none      */
	unsigned first_failed_id;
};

/* Run a plan (sorted first) through ex. Returns 0 when every action
 * succeeded, else the first failure's code; res (may be NULL) gets counts. */
int bl_plan_apply(struct bl_plan *p, struct bl_executor *ex,
		  struct bl_apply_result *res);

/*
 * The same, a window at a time (plan.h, "Windows"): the policy above holds
 * across windows because what it needs (which ids succeeded, whether and in
 * which rank a failure happened, the counts) lives in the state:
 *   bl_apply_begin(&st, bl_plan_total(p));
 *   for each window: bl_plan_window(p, ...), plan() again, then
 *       bl_apply_run(&st, p, ex);        (sorts p first)
 *   rc = bl_apply_end(&st, &res);        (the first failure's code)
 * bl_plan_apply is begin + run + end on a whole plan.
 */
struct bl_apply_state {
	unsigned char *ok;   /* by id: that action succeeded                */
	size_t n;            /* ids 1..n                                    */
	bool stage_failed;
	int rank_failed;
	struct bl_apply_result r;
};
int bl_apply_begin(struct bl_apply_state *st, size_t total);
int bl_apply_run(struct bl_apply_state *st, struct bl_plan *p,
		 struct bl_executor *ex);
int bl_apply_end(struct bl_apply_state *st, struct bl_apply_result *res);

#endif
