/*
 * bl_schema_int.h - internals shared by the schema library's files. Not a
 * public interface: only the schema sources and its unit tests include it.
 */
#ifndef BL_SCHEMA_INT_H
#define BL_SCHEMA_INT_H

#include "bl_schema.h"

/* ---- source marks --------------------------------------------------------*/

/*
 * One mark per YAML node: the node's path in message form and where its key
 * (for mapping members) and its value start. Looked up by path only when a
 * message is printed, so a plain array with a linear search is enough.
 */
struct bl_mark {
	char *path;
	int kline, kcol;            /* key position; 0 when not a member      */
	int line, col;              /* value position                         */
};

struct bl_src {
	char *file;
	struct bl_mark *v;
	size_t n, cap;
	/* Hash index over v by path (open addressing, entries are index+1,
	 * 0 = empty), built once the marks are complete: with a million
	 * nodes a linear search per message would make error reporting
	 * quadratic. NULL: search linearly. */
	uint32_t *idx;
	size_t idx_size;            /* a power of two                         */
};

/* Errors reported per document before the rest are only counted, and per
 * buffer before parsing stops (hostile input must not turn into a
 * gigabyte of messages). */
#define BL_MAX_DOC_ERRORS 100
#define BL_MAX_ERRORS     1000

struct bl_src *bl_src_new(const char *file);
void bl_src_free(struct bl_src *s);
struct bl_src *bl_src_dup(const struct bl_src *s);
int bl_src_add(struct bl_src *s, const char *path, int kline, int kcol,
	       int line, int col);
/* Build the hash index (after the last bl_src_add). -ENOMEM leaves the
 * source usable with linear search. */
int bl_src_index(struct bl_src *s);
/* Exact path, else nearest enclosing one. key: prefer the key position. */
const struct bl_mark *bl_src_find(const struct bl_src *s, const char *path,
				  bool key);

/* ---- path building -------------------------------------------------------*/

struct bl_path {
	char *buf;
	size_t len, cap;
};
/* Append ".key" (or "key" at the start, or ["key"] when the key has
 * characters other than [A-Za-z0-9_-]); returns the old length to restore
 * with bl_path_pop, or (size_t)-1 on ENOMEM. */
size_t bl_path_key(struct bl_path *p, const char *key);
size_t bl_path_index(struct bl_path *p, size_t i);
void bl_path_pop(struct bl_path *p, size_t old);
void bl_path_free(struct bl_path *p);
static inline const char *bl_path_str(const struct bl_path *p)
{
	return p->buf ? p->buf : "";
}

/* ---- YAML composer (bl_yaml.c) -------------------------------------------*/

/* One composed document. */
struct bl_doc {
	json_t *root;               /* NULL for an empty document             */
	struct bl_src *src;
	int line, col;
	bool bad;                   /* errors were reported for this document */
};

struct bl_docs {
	struct bl_doc *v;
	size_t n, cap;
};

/*
 * Compose every document of buf. Returns 0 (some documents may still be
 * bad: see bl_doc.bad), BL_E_PARSE when the stream itself could not be read
 * to its end (the documents before the failure are still in docs), -ENOMEM.
 */
int bl_yaml_compose(const char *fname, const char *buf, size_t len,
		    struct bl_docs *docs, struct bl_diag *d);
void bl_docs_free(struct bl_docs *docs);

/* ---- field tables (bl_fields.c) ------------------------------------------*/

enum bl_ftype {
	BL_F_STRING,                /* fmt / enums optional                   */
	BL_F_INT,                   /* min..max                               */
	BL_F_BOOL,
	BL_F_SIZE,                  /* size string or integer bytes -> bytes  */
	BL_F_DURATION,              /* "30s" ...                              */
	BL_F_INTPCT,                /* integer min..max, or "N%" 1..100       */
	BL_F_OBJECT,                /* sub: fields, NULL-name terminated      */
	BL_F_ARRAY,                 /* sub: one item descriptor               */
	BL_F_STRMAP,                /* object of string -> string             */
	BL_F_STR_OR_OBJ,            /* a string from enums, or object (sub)   */
	BL_F_ANY,                   /* not checked (server-owned status)      */
};

#define BL_FF_REQUIRED  0x1
#define BL_FF_SERVER    0x2         /* server-owned: ignored on user input */
#define BL_FF_FILL      0x4         /* absent object: create it, so the
                                     * defaults of its fields are applied  */
#define BL_FF_UNIQUE    0x8         /* array of scalars: items unique      */

struct bl_format {
	const char *name;           /* "iqn", for JSON Schema "format"        */
	bool (*ok)(const char *s);
	const char *what;           /* "an IQN (iqn.YYYY-MM.domain[:x])"      */
	const char *pattern;        /* JSON Schema pattern, or NULL           */
};

struct bl_field {
	const char *name;
	enum bl_ftype type;
	unsigned flags;
	const char *def;            /* default as JSON text, or NULL          */
	const char *def_doc;        /* describes a computed default           */
	int64_t min, max;           /* INT / INTPCT (when min < max)          */
	const char *const *enums;   /* STRING / STR_OR_OBJ                    */
	const struct bl_field *sub;
	const char *unique;         /* ARRAY of OBJECT: member that must be
	                             * unique across items                    */
	const struct bl_format *fmt;
	size_t maxlen;              /* STRING: max bytes, 0 none              */
	size_t minlen;              /* STRING: min bytes                      */
	const char *doc;
};

struct bl_vctx;

struct bl_kind {
	const char *kind;           /* "Target"                               */
	const char *plural;         /* "targets"                              */
	const char *shortname;      /* "tgt"                                  */
	const char *body;           /* "spec" or "data"                       */
	const struct bl_field *fields;  /* of the body                        */
	/* Cross-field checks and computed defaults, after the table pass. */
	void (*finish)(struct bl_vctx *v, json_t *body);
	const char *doc;
};

extern const struct bl_field bl_metadata_fields[];
const struct bl_kind *bl_kind_get(const char *canonical);
const struct bl_kind *const *bl_kinds(void);

/* ---- validator (bl_validate.c) -------------------------------------------*/

struct bl_vctx {
	struct bl_diag *d;
	const struct bl_src *src;   /* may be NULL                            */
	const char *file;
	int line, col;              /* fallback position                      */
	struct bl_path path;
	size_t nerr;
	bool redact;                /* Secret data: never echo values         */
};

/* Report at the value (key=false) or key (key=true) mark of the path. */
void bl_verr(struct bl_vctx *v, const char *path, bool key,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void bl_vwarn(struct bl_vctx *v, const char *path, bool key,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Validate and default an object body in place against fields; *pathp is
 * the path of body. */
void bl_validate_object(struct bl_vctx *v, const struct bl_field *fields,
			json_t *body);

/*
 * Whole-document pipeline shared by YAML and JSON input: check apiVersion,
 * kind, metadata, body; build the object. keep_server: take uid,
 * generation, creationTimestamp, resourceVersion from metadata (JSON from
 * etcd) instead of ignoring them. Takes ownership of src (freed on error).
 * Returns 0, BL_E_INVALID, -ENOMEM.
 */
int bl_build_obj(json_t *root, struct bl_src *src, const char *file,
		 int line, int col, bool keep_server, struct bl_diag *d,
		 struct bl_obj **out);

/* ---- generated files (bl_docgen.c) ---------------------------------------*/

/* The exact text of schema/kinds/<lowercase kind>.schema.json (indented
 * JSON and a final newline). New string, NULL for unknown kind / ENOMEM. */
char *bl_schema_text(const char *kind);

/* ---- formats (bl_values.c) -----------------------------------------------*/

extern const struct bl_format bl_fmt_name, bl_fmt_iqn, bl_fmt_initiator,
	bl_fmt_cidr, bl_fmt_host, bl_fmt_label_key, bl_fmt_label_value,
	bl_fmt_nodename;
bool bl_valid_percent(const char *s, int64_t *pct);

#endif
