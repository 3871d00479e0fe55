/*
 * cli.h - internals of the `bollard` command line tool (build/bollard).
 *
 * The tool is kubectl-shaped: `bollard COMMAND [ARGS] [FLAGS]`. Every
 * command is an `int cmd_x(struct cli *c, int argc, char **argv)` that
 * returns the process exit status (0 ok, 1 error; `diff` also 1 for "there
 * is a difference" and 2 for errors, like kubectl diff). argv[0] is the
 * command name. Errors go to c->err as "Error: ...".
 *
 * Files, one concern each:
 *   main.c      dispatch, global flags, help, version
 *   conn.c      endpoint resolution (--etcd, BOLLARD_ETCD, `bollard up`'s
 *               state file) and connecting
 *   store.c     key layout and reading objects out of etcd
 *   snap.c      sorted snapshots of stored objects (no etcd)
 *   input.c     -f FILE|DIR|-|URL into a validated object list (libcurl)
 *   plan.c      what apply would do: server fields, minors, generations
 *   apply.c     apply / diff commands (CAS transactions, chunking, prune)
 *   get.c       get / describe
 *   delete.c    delete
 *   table.c     column-aligned tables (pure)
 *   selector.c  label selectors (pure)
 *   udiff.c     unified line diff (pure)
 *   minor.c     lowest free DRBD minor (pure)
 *   up.c        `bollard up`; supervisor.c the child-process list it uses
 */
#ifndef BOLLARD_CLI_H
#define BOLLARD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "bl_err.h"

struct bl_etcd;
struct bl_obj;
struct bl_objlist;
struct bl_diag;

#define CLI_KEY_OBJECTS "/bollard/v1/objects/"
#define CLI_KEY_STATUS  "/bollard/v1/status/"
/* Guard key bumped by every apply that allocates a DRBD minor in a cluster,
 * so two concurrent allocations in one cluster cannot both commit. */
#define CLI_KEY_MINORS  "/bollard/v1/meta/minors/"
/* etcd's default --max-txn-ops. Applies above it are split (not atomic). */
#define CLI_MAX_TXN_OPS 128
#define CLI_MINOR_PORT_BASE 7788

/* Global flags, shared by every command that talks to etcd. */
struct cli {
	const char *etcd;           /* --etcd URL[,URL]                       */
	const char *user;           /* --etcd-user                            */
	const char *password;       /* --etcd-password                        */
	const char *cacert, *cert, *key;
	int timeout_ms;             /* --timeout; 0 = default (5 s)           */
	const char *state_dir;      /* where `bollard up` keeps etcd.url      */
	const char *argv0;          /* path the binary was started as         */
	FILE *out, *err;
};

/* Implemented in controller/targetctl/ when linked in. */
int cmd_target(int argc, char **argv) __attribute__((weak));
/* `bollard plan`, in controller/daemon/live_plan.c (links the reconcilers). */
int cmd_live_plan(struct cli *c, int argc, char **argv) __attribute__((weak));

int cmd_apply(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_get(struct cli *c, int argc, char **argv);
int cmd_describe(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_up(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);
int cmd_completion(struct cli *c, int argc, char **argv);

/* "Error: <fmt>\n" on c->err. */
void cli_error(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- option parsing (main.c) --------------------------------------------
 * Each command lists its own flags; the global flags (--etcd ...) are
 * accepted by every command too. Flags may come before or after operands.
 * "--" ends flags. Returns the number of operands moved to the front of
 * argv after argv[0] (so operands are argv[1..n]), or -1 after printing an
 * error, or -2 when --help was given (help already printed).
 */
enum cli_arg { CLI_NOARG = 0, CLI_ARG = 1 };
struct cli_flag {
	const char *lng;            /* "dry-run"                              */
	char shrt;                  /* 'f' or 0                               */
	enum cli_arg arg;
	/* Called for each occurrence; val is NULL for CLI_NOARG. Returns 0 or
	 * -1 after printing an error. */
	int (*set)(void *arg, const char *flag, const char *val);
};
int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_flag *flags, void *arg, const char *usage);

/* ---- connection (conn.c) -------------------------------------------------*/

/* The state dir `bollard up` uses: $BOLLARD_STATE_DIR, else
 * $XDG_STATE_HOME/bollard, else ~/.local/state/bollard. New string. */
char *cli_state_dir(const char *override);
/*
 * Endpoint to use: --etcd, else $BOLLARD_ETCD, else the URL `bollard up`
 * wrote to <state dir>/etcd.url. New string, or NULL (error printed).
 */
char *cli_endpoint(struct cli *c);
/* Resolve and open. Returns 0 or a negative code (error printed). */
int cli_connect(struct cli *c, struct bl_etcd **out);
/* Print an etcd error as "Error: <what>: <reason>". */
void cli_etcd_error(struct cli *c, struct bl_etcd *e, int rc,
		    const char *what);

/* ---- store (store.c) -----------------------------------------------------*/

/* "/bollard/v1/objects/<Kind>/<name>" (name NULL: the kind's prefix with
 * trailing '/'; kind NULL too: every object). New string or NULL. */
char *store_key(const char *kind, const char *name);
/* Lowercase kind for messages: "Target" -> "target" (static buffer in
 * *buf of at least 32 bytes). */
const char *kind_lower(const char *kind, char *buf, size_t len);

/*
 * A snapshot of stored objects at one etcd revision. Objects have
 * resource_version set to their mod revision, and are sorted by (kind,
 * name) for store_find.
 */
struct store_snap {
	struct bl_obj **v;
	size_t n;
	int64_t revision;
};
/* Read every object of kind (NULL: every kind). Unparseable stored values
 * are reported on c->err and skipped (never fatal for a reader), but counted
 * in *nbad when nbad is not NULL. */
int  store_load(struct cli *c, struct bl_etcd *e, const char *kind,
		struct store_snap *s, size_t *nbad);
/*
 * The part of the store that applying list can depend on, read at one
 * revision (the first read's): each listed object's stored copy, every
 * object a listed one refers to (bl_obj_foreach_ref), every Rollout when a
 * Rollout, Target or Cluster is listed (and every Cluster and Target too
 * when that makes more than one Rollout), every Volume when a replicated
 * Volume is listed (minor allocation looks at its cluster's Volumes).
 * Everything else is left out, so applying one Target next to 10,000
 * Volumes reads a handful of keys. With more than a few dozen keys to
 * read one by one it reads everything instead (store_load), which is then
 * cheaper. Not for --prune, which needs every object. Same reporting of
 * unparseable values as store_load.
 */
int  store_load_for(struct cli *c, struct bl_etcd *e,
		    const struct bl_objlist *list, struct store_snap *s);
/* Sort s->v by (kind, name); store_load does it, tests building a
 * snapshot by hand call it (snap.c, like store_find and snap_lookup). */
void store_snap_sort(struct store_snap *s);
/* Borrowed object or NULL. */
struct bl_obj *store_find(const struct store_snap *s, const char *kind,
			  const char *name);
void store_snap_free(struct store_snap *s);
/* Read one object: 0 and *out (new), -ENOENT, or a negative code. */
int  store_get_one(struct bl_etcd *e, const char *kind, const char *name,
		   struct bl_obj **out);

/* ---- input (input.c) -----------------------------------------------------*/

/* Whether s is an http(s):// URL. */
bool input_is_url(const char *s);
/*
 * Parse each of paths (file, directory, "-", URL) into list. Every source
 * is read even after one fails; diag collects every message. Returns 0, or
 * the first error code (list may then hold objects of the good sources).
 */
int input_load(const char *const *paths, size_t n, struct bl_objlist *list,
	       struct bl_diag *diag);
/* GET url into a new buffer (NUL-terminated, *len without the NUL). The
 * TLS files may be NULL. Returns 0, -ENOMEM, or BL_E_UNAVAILABLE with the
 * reason in errbuf. */
int input_fetch_url(const char *url, const char *cacert, const char *cert,
		    const char *key, long timeout_ms, char **buf, size_t *len,
		    char *errbuf, size_t errlen);

/* ---- label selectors (selector.c, pure) ----------------------------------*/

struct sel_req {
	char *key;
	char *val;                  /* NULL: key exists (any value)           */
	bool neg;                   /* key!=val, or !key                      */
};
struct selector {
	struct sel_req *v;
	size_t n;
};
/*
 * "k=v", "k==v", "k!=v", "k", "!k", comma-separated (all must hold).
 * Returns 0, -EINVAL (message in errbuf), or -ENOMEM.
 */
int  selector_parse(const char *s, struct selector *out, char *errbuf,
		    size_t errlen);
/* labels: JSON object of string -> string (or NULL: no labels). */
bool selector_match(const struct selector *sel, const json_t *labels);
void selector_free(struct selector *sel);

/* ---- tables (table.c, pure) ----------------------------------------------*/

struct table {
	size_t ncol;
	size_t nrow;                /* rows including the header              */
	size_t cap;
	char **cells;               /* nrow * ncol, row-major, owned          */
};
/* Header cells; ncol of them. Returns 0 or -ENOMEM. */
int  table_init(struct table *t, size_t ncol, const char *const *header);
/* One row of ncol cells (NULL cell prints "<none>"). 0 or -ENOMEM. */
int  table_add(struct table *t, const char *const *cells);
/* kubectl style: columns left-aligned, separated by three spaces, no
 * trailing spaces. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);
/* "5s", "12m", "3h", "4d", "2y" from a creation timestamp (RFC 3339) and
 * now (seconds since epoch). "<unknown>" when unparsable. */
void format_age(const char *ts, int64_t now, char *buf, size_t len);

/* ---- minors (minor.c, pure) ------------------------------------------*/

/* Lowest minor >= 0 not in used[0..n) (any order, duplicates allowed).
 * -ENOSPC past 1048575 (DRBD's limit). */
int minor_lowest_free(const int64_t *used, size_t n, int64_t *out);

/* ---- unified diff (udiff.c, pure) ----------------------------------------*/

/*
 * Print a unified diff (3 lines of context) of two texts to f, with
 * "--- <old_name>" / "+++ <new_name>" headers. Prints nothing and returns 0
 * when the texts are equal; returns 1 when they differ, -ENOMEM on failure.
 */
int udiff(const char *old_text, const char *new_text, const char *old_name,
	  const char *new_name, FILE *f);

/* ---- apply plan (plan.c) -------------------------------------------------*/

enum plan_act { ACT_UNCHANGED, ACT_CREATED, ACT_CONFIGURED, ACT_PRUNED };

struct plan_item {
	struct bl_obj *obj;         /* what would be stored (owned); for a
	                             * prune, the stored object               */
	const struct bl_obj *stored; /* borrowed from the snapshot, or NULL   */
	enum plan_act act;
	char *json;                 /* canonical stored form (PUT only)       */
	bool done;                  /* written by an earlier chunk            */
};

struct plan {
	struct plan_item *v;
	size_t n;
	char **guards;              /* clusters whose minor guard is bumped   */
	size_t nguards;
	int64_t *guard_mod;         /* mod revision read for each guard       */
};

/*
 * Decide, for each object of want (already validated and ref-checked),
 * what apply stores, against the snapshot: keep uid/creationTimestamp,
 * carry allocated minor/port, allocate new minors, bump generation on spec
 * or data change. With prune, add a delete for every stored object matching
 * prune that want does not contain. Errors (minor clashes) go to diag.
 * Returns 0, BL_E_INVALID, or -ENOMEM.
 */
int  plan_build(const struct bl_objlist *want, const struct store_snap *snap,
		const struct selector *prune, struct plan *p,
		struct bl_diag *diag);
void plan_free(struct plan *p);

/* Reference check lookup backed by a snapshot (arg: struct store_snap *). */
int  snap_lookup(void *arg, const char *kind, const char *name,
		 struct bl_obj **out);

/*
 * apply --wait (wait.c): wait until every applied object with per-node
 * status reports Ready at its applied generation on every reporting node.
 * Progress lines go to out. Returns the exit status: 0, or 1 (printed).
 */
int apply_wait(struct cli *c, struct bl_etcd *e, const struct plan *p,
	       uint64_t timeout_ms, FILE *out);

/* Print "kind/name" and a verb. */
void print_kind_name(FILE *f, const struct bl_obj *o);

#endif
