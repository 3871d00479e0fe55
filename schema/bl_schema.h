/*
 * bl_schema.h - bollard's resource schema: parse YAML/JSON into validated
 * objects, report every problem with file:line:col and a field path, check
 * cross references, and give each object one canonical stored form.
 *
 * Kinds (apiVersion bollard.io/v1alpha1): Cluster, Volume, Target, Secret,
 * Rollout. The field reference is docs/schema.md; the JSON Schemas are
 * schema/kinds/<kind>.schema.json. Both are generated from the same C field
 * tables the validator runs on (bl_kind_json_schema), so they cannot drift.
 *
 * Conventions for every call below:
 *   - int returns are 0 or a negative code from bl_err.h: -ENOMEM, -errno
 *     from the file system, BL_E_PARSE (malformed or hostile input),
 *     BL_E_INVALID (well-formed, fails validation), BL_E_REF (dangling
 *     reference). The detailed messages go to the struct bl_diag passed in,
 *     all of them, not just the first.
 *   - JSON values are jansson's json_t. A json_t returned "new" is a new
 *     reference the caller must json_decref(); one returned "borrowed" is
 *     owned by the object it came from.
 *   - No process-wide state. Everything is reentrant; a single bl_obj or
 *     bl_diag must not be used from two threads at once.
 *   - Strings returned "new" are malloc()ed and freed with free().
 */
#ifndef BL_SCHEMA_H
#define BL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "bl_err.h"

#define BL_API_VERSION      "bollard.io/v1alpha1"

/* Hostile-input caps (each exceeded cap is a BL_E_PARSE with a message). */
#define BL_MAX_FILE_SIZE    (16u << 20) /* bytes per file or buffer        */
#define BL_MAX_DEPTH        64          /* nesting of mappings/sequences   */
#define BL_MAX_ALIAS_NODES  10000       /* nodes expanded through aliases,
                                         * per document                    */
#define BL_MAX_DOC_NODES    1000000     /* nodes per document              */
#define BL_MAX_NAME_LEN     63          /* metadata.name                   */

/* ---- diagnostics ---------------------------------------------------------*/

enum bl_severity { BL_SEV_ERROR = 0, BL_SEV_WARNING = 1 };

struct bl_diag_entry {
	enum bl_severity sev;
	char *file;                 /* may be NULL ("<input>" when printed)   */
	int line, col;              /* 1-based; 0 when unknown                */
	char *path;                 /* "spec.luns[1].volume"; NULL: none      */
	char *msg;
};

struct bl_diag {
	struct bl_diag_entry *v;
	size_t n, cap;
	size_t nerr;                /* entries with sev == BL_SEV_ERROR       */
};

/* Zero-initialise (or use `struct bl_diag d = {0}`). */
void bl_diag_init(struct bl_diag *d);
/* Free every entry; d can be reused after. */
void bl_diag_free(struct bl_diag *d);
/*
 * Append an error. file/path may be NULL; line/col 0 when unknown. The
 * strings are copied. On allocation failure the entry is dropped but nerr
 * is still counted, so a caller never mistakes a failure for success.
 */
void bl_diag_add(struct bl_diag *d, const char *file, int line, int col,
		 const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void bl_diag_warn(struct bl_diag *d, const char *file, int line, int col,
		  const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Number of errors (warnings not counted). */
size_t bl_diag_count(const struct bl_diag *d);
/*
 * Print every entry, one per line, in the order added:
 *   file:line:col: spec.luns[1].volume: message
 *   file:line:col: warning: spec.x: message
 * Parts that are unknown are left out ("file: message" when no position).
 */
void bl_diag_print(const struct bl_diag *d, FILE *f);

/* ---- objects -------------------------------------------------------------*/

struct bl_src;                      /* private: source marks of one object */

struct bl_obj {
	char *api_version;          /* always BL_API_VERSION once valid       */
	char *kind;                 /* canonical: "Target"                    */
	char *name;                 /* metadata.name                          */
	json_t *labels;             /* object of string -> string, never NULL */
	json_t *annotations;        /* object of string -> string, never NULL */
	json_t *spec;               /* validated, defaults applied; NULL for
	                             * Secret                                 */
	json_t *data;               /* Secret only: {username, password}      */
	/* Server-owned (ignored on input from YAML, kept by from_json): */
	char *uid;                  /* NULL until assigned by apply           */
	int64_t generation;         /* 0 until assigned                       */
	int64_t resource_version;   /* etcd mod revision; never stored, set by
	                             * the reader after bl_obj_from_json      */
	char *creation_timestamp;   /* RFC 3339 UTC "2026-11-24T01:02:03Z"    */
	/* Where it came from (NULL/0 for objects from bl_obj_from_json): */
	const char *file;           /* owned by the object's private src      */
	int line, col;              /* start of the document's mapping        */
	struct bl_src *src;         /* private                                */
};

struct bl_objlist {
	struct bl_obj **v;
	size_t n, cap;
};

void bl_objlist_init(struct bl_objlist *l);
/* Free every object and the array. */
void bl_objlist_free(struct bl_objlist *l);
/* Append; the list takes ownership of obj on success only. */
int  bl_objlist_push(struct bl_objlist *l, struct bl_obj *obj);
/* First object of (canonical kind, name), or NULL. Borrowed. */
struct bl_obj *bl_objlist_find(const struct bl_objlist *l, const char *kind,
			       const char *name);
/* Whether a Cluster object's spec.nodes names node (false for NULL). */
bool bl_cluster_has_node(const struct bl_obj *cluster, const char *node);
/*
 * Stable sort into dependency (apply) order: Cluster, Secret, Volume,
 * Target, Rollout; within a kind the input order is kept. Deletes should
 * walk the result backwards.
 */
void bl_objlist_sort_apply(struct bl_objlist *l);

void bl_obj_free(struct bl_obj *obj);
/* Deep copy (source marks included). NULL on -ENOMEM. */
struct bl_obj *bl_obj_dup(const struct bl_obj *obj);

/*
 * Parse a buffer holding one or more YAML documents ("---" separated) or
 * JSON. fname is used for messages and kept in each object (copied). Every
 * document must be one object (a mapping); empty documents are skipped but
 * a buffer with no objects at all is an error ("no objects").
 *
 * Returns 0 and appends the objects, in input order, to list; or
 *   BL_E_PARSE    syntax errors or hostile input (caps above, tabs, binary,
 *                 duplicate keys, numbers out of range, aliases over the cap,
 *                 no objects)
 *   BL_E_INVALID  well-formed but fails validation (unknown fields, wrong
 *                 types, bad sizes/IQNs/CIDRs, duplicate LUNs, ...)
 *   -ENOMEM
 * On any error list is left exactly as it was and diag has every problem
 * found (all documents are still checked after the first bad one, unless the
 * YAML syntax itself breaks, after which nothing more can be read).
 * Duplicate (kind, name) and references are NOT checked here: see
 * bl_check_refs.
 */
int bl_parse_buf(const char *fname, const char *buf, size_t len,
		 struct bl_objlist *list, struct bl_diag *diag);

/*
 * Parse a file, "-" (standard input, named "<stdin>" in messages), or a
 * directory: every *.yaml, *.yml and *.json file under it, recursively, in
 * sorted path order (hidden entries, names starting with '.', are skipped).
 * Same returns as bl_parse_buf, plus -errno for unreadable paths (also
 * reported in diag), BL_E_PARSE for files over BL_MAX_FILE_SIZE and for a
 * directory holding no manifest at all. Every file is parsed even after one
 * fails; list is unchanged on error. When several files fail, the return is
 * the worst: -errno, then BL_E_PARSE, then BL_E_INVALID.
 */
int bl_parse_path(const char *path, struct bl_objlist *list,
		  struct bl_diag *diag);

/*
 * Source position of a field for messages found after parsing (cross
 * references, apply-time conflicts). path is in the form used in messages:
 * "spec.luns[1].volume", "metadata.name", "data.password". When the exact
 * field has no mark (it came from a default or through an alias), the
 * nearest enclosing field that has one is used.
 * Returns 0 with *line and *col set, or -ENOENT (no marks: object from JSON;
 * *line and *col are then set to obj->line/col, which may be 0).
 */
int bl_obj_mark(const struct bl_obj *obj, const char *path, int *line,
		int *col);

/*
 * Append an error about obj at path to diag, with the mark of that path:
 *   bl_obj_error(d, obj, "spec.luns[1].volume", "no Volume named '%s'", n)
 */
void bl_obj_error(struct bl_diag *d, const struct bl_obj *obj,
		  const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- cross references ----------------------------------------------------*/

/*
 * Look an object up outside the list being checked (the CLI backs this with
 * etcd). Returns 0 when it exists, with *out set to a new object the checker
 * frees (or left NULL if only existence is known), -ENOENT when it does not
 * exist, or another negative code, which aborts bl_check_refs with that code.
 */
typedef int (*bl_lookup_fn)(void *arg, const char *kind, const char *name,
			    struct bl_obj **out);

/*
 * Check a list about to be applied:
 *   - duplicate (kind, name) within the list (BL_E_INVALID);
 *   - Volume.spec.cluster and Target.spec.cluster -> Cluster;
 *   - Target.spec.luns[].volume -> Volume, which must be in the Target's
 *     cluster when that Volume's spec is known;
 *   - Target.spec.acls[].chapSecretRef, spec.auth.chapSecretRef and
 *     spec.auth.mutualChapSecretRef -> Secret.
 * Each reference is resolved in list first, then through lookup (may be
 * NULL: list only). Returns 0, BL_E_INVALID if any duplicate, else BL_E_REF
 * if any reference dangles or a LUN's Volume is in another cluster (every
 * one reported in diag with its mark), or the lookup's own error code.
 * Lookups are cached per (kind, name) for the duration of the call.
 * Warnings found while parsing are not repeated here.
 */
int bl_check_refs(const struct bl_objlist *list, bl_lookup_fn lookup,
		  void *arg, struct bl_diag *diag);

/*
 * Call cb for every reference obj makes: (kind, name, path) e.g. ("Volume",
 * "db", "spec.luns[0].volume"). Stops at and returns cb's first non-zero
 * return; else 0. Used by delete to find who still refers to an object.
 */
typedef int (*bl_ref_fn)(void *arg, const char *kind, const char *name,
			 const char *path);
int bl_obj_foreach_ref(const struct bl_obj *obj, bl_ref_fn cb, void *arg);

/* ---- canonical stored form -----------------------------------------------*/

/*
 * The stored form: compact JSON, keys sorted at every level, no whitespace:
 *   {"apiVersion":..,"data"|"spec":..,"kind":..,"metadata":{"annotations",
 *    "creationTimestamp","generation","labels","name","uid"}}
 * Empty labels/annotations are left out, as are unset server fields (uid
 * NULL, generation 0, creationTimestamp NULL). Sizes are stored as integer
 * bytes, so "1Gi" and 1073741824 store the same. resourceVersion is never
 * stored. Equal objects give byte-identical output.
 * Returns a new NUL-terminated string, or NULL on -ENOMEM.
 */
char *bl_obj_to_json(const struct bl_obj *obj);

/* Flags for bl_obj_to_value. */
#define BL_VAL_RESOURCE_VERSION 0x1 /* add metadata.resourceVersion (if >0) */

/* The same object as a new json_t (for `get -o json|yaml`). NULL: ENOMEM. */
json_t *bl_obj_to_value(const struct bl_obj *obj, unsigned flags);

/*
 * Parse a stored form (or any JSON object of a known kind) and validate it
 * with the same rules as YAML input, keeping server-owned metadata (uid,
 * generation, creationTimestamp; resourceVersion too if present). Returns 0
 * and a new *out, BL_E_PARSE, BL_E_INVALID or -ENOMEM. diag may be NULL.
 */
int bl_obj_from_json(const char *buf, size_t len, struct bl_obj **out,
		     struct bl_diag *diag);

/*
 * Whether two objects of the same kind and name say the same thing: spec
 * (or data), labels and annotations equal, server fields ignored. This is
 * what decides "unchanged" in apply. Both specs have defaults applied, so an
 * explicit default equals an omitted one.
 */
bool bl_obj_spec_equal(const struct bl_obj *a, const struct bl_obj *b);

/*
 * Carry server-allocated spec fields from the stored object to a freshly
 * parsed one where the new one leaves them out: Volume
 * spec.replication.minor and spec.replication.port. Call before
 * bl_obj_spec_equal in apply. Returns the number of fields carried (>= 0)
 * or -ENOMEM.
 */
int bl_obj_carry_allocated(struct bl_obj *dst, const struct bl_obj *stored);

/*
 * Set server-owned metadata for a new object: a fresh uid, generation 1,
 * creationTimestamp now (UTC). Returns 0, -errno from getrandom/clock.
 */
int bl_obj_init_server_fields(struct bl_obj *obj);

/*
 * Replace every Secret data value with "<redacted>" (get/describe never
 * print secret values). No-op for other kinds. Returns 0 or -ENOMEM.
 */
int bl_obj_redact(struct bl_obj *obj);

/*
 * Structural diff of two JSON values for `bollard diff`: cb is called for
 * every changed leaf path in sorted key order ("spec.luns[2]" when an array
 * element was added: old NULL; removed: new NULL; changed: both set).
 * Arrays are compared index by index. Returns the number of differences.
 */
typedef void (*bl_diff_fn)(void *arg, const char *path, const json_t *old,
			   const json_t *new_);
size_t bl_json_diff(const json_t *old, const json_t *new_, bl_diff_fn cb,
		    void *arg);

/* ---- kinds ---------------------------------------------------------------*/

/*
 * Canonical kind for a user-typed name, case-insensitive: "target",
 * "targets", "Target", "tgt" -> "Target". Short names: cl, vol, tgt, sec,
 * ro. NULL when unknown. The result is a static string.
 */
const char *bl_kind_lookup(const char *name);
/* NULL-terminated static array of the canonical kinds, in apply order. */
const char *const *bl_kind_names(void);
/* Position in apply order (0 = Cluster), or -1 for an unknown kind. */
int bl_kind_rank(const char *kind);

/*
 * A JSON Schema (draft 2020-12) for one kind's whole object, generated from
 * the validator's field tables. New reference, or NULL for an unknown kind
 * or ENOMEM. Checks the schema language cannot say (unique LUN numbers,
 * cross-field requirements) are stated in the descriptions.
 */
json_t *bl_kind_json_schema(const char *kind);

/*
 * The field reference of every kind as Markdown (docs/schema.md), from the
 * same tables. Returns 0 or -errno from writing.
 */
int bl_schema_write_markdown(FILE *f);

/* ---- output helpers ------------------------------------------------------*/

/*
 * Print a JSON value as block YAML, keys in the value's own order (jansson
 * keeps insertion order: bl_obj_to_value gives apiVersion, kind, metadata,
 * then spec fields as first written with defaults after them; objects from
 * bl_obj_from_json come sorted), two-space indent, strings quoted only when
 * a YAML 1.2 or 1.1 reader would otherwise read something else (numbers,
 * booleans including yes/no/on/off/y/n, null, timestamps, leading/trailing
 * space, indicators, control characters, empty). Ends with a newline.
 * Reading the output back (bl_parse_buf, or PyYAML) gives the same value.
 * Returns 0 or -errno from writing.
 */
int bl_json_print_yaml(const json_t *v, FILE *f);

/* ---- value helpers (also used by the controller) -------------------------*/

/*
 * "10G", "10Gi", "512M", "4096", "1T", "64Ki": K M G T (with or without a
 * trailing 'i') are powers of 1024; a plain number is bytes. No spaces,
 * no fractions, no overflow. Returns 0 or -EINVAL / -ERANGE.
 */
int bl_parse_size(const char *s, uint64_t *bytes);
/* Largest exact unit: 67108864 -> "64Mi", 1000 -> "1000". */
void bl_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * iqn.YYYY-MM.reversed.domain[:anything], eui.<16 hex>, naa.<16|32 hex>.
 * Max 223 bytes, ASCII, iqn part lowercase (RFC 3720 / 7143).
 */
bool bl_valid_iqn(const char *s);

struct bl_cidr {
	int family;                 /* AF_INET or AF_INET6                    */
	unsigned char addr[16];     /* network order; first 4 for IPv4        */
	int prefix;                 /* 0..32 or 0..128                        */
};
/*
 * "192.0.2.10/24", "2001:db8::5/64"; a bare address means a host prefix
 * (/32, /128). Host bits may be set (a service address with its netmask).
 * Returns 0 or -EINVAL.
 */
int bl_parse_cidr(const char *s, struct bl_cidr *out);

/*
 * "30s", "10m", "1h", "1h30m", "500ms" -> milliseconds. Units ms s m h;
 * at least one; no sign. Returns 0 or -EINVAL / -ERANGE.
 */
int bl_parse_duration(const char *s, uint64_t *ms);

/* Random UUIDv4 from getrandom(2), lowercase, NUL-terminated in out.
 * Returns 0 or -errno. */
int bl_uid_new(char out[37]);

/* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
bool bl_valid_name(const char *s);

#endif
