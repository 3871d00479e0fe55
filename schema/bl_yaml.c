/*
 * bl_yaml.c - compose YAML (and JSON, which libyaml reads as flow YAML) into
 * jansson values, recording a source mark for every node.
 *
 * Why our own composer on libyaml's event API rather than yaml_parser_load:
 * hostile input has to be stopped early. The event API lets us refuse the
 * 65th nesting level the moment it opens (libyaml itself has no depth limit
 * and would keep growing its stacks for a file of sixteen million '['), count
 * nodes expanded through aliases before copying them (a "billion laughs"
 * document stops at BL_MAX_ALIAS_NODES), register anchors only when their
 * node is complete (so an alias can never refer to its own ancestor and
 * build a cycle), and catch duplicate keys with both positions.
 *
 * Scalars follow the YAML 1.2 core schema, narrowed so that a value reads
 * the same to a person and to us: null (~, null, empty), booleans only
 * true/false (yes/no/on/off stay strings: no "Norway problem"), decimal,
 * 0x and 0o integers, decimal floats. Anything quoted is a string. A number
 * that does not fit in int64 (or a float that overflows) is an error, not a
 * silently rounded value.
 *
 * Errors are of two weights. A bad scalar, a duplicate key or a merge key
 * marks the document bad and composing goes on, so one run reports them all.
 * A libyaml syntax error or an exceeded cap ends the stream: nothing after it
 * can be trusted to be read the way the author meant.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bl_schema_int.h"

struct frame {
	json_t *node;               /* the container                          */
	bool is_map;
	bool owned;                 /* not attached: decref at its end        */
	size_t path_old;            /* path length before this node           */
	size_t index;               /* next sequence index                    */
	char *key;                  /* pending mapping key, NULL: want a key  */
	bool discard;               /* pending key was bad: drop its value    */
	int kline, kcol;
	char *anchor;
	size_t nodes_at_start;
};

struct anchor {
	char *name;
	json_t *node;
	size_t cost;                /* nodes in the anchored subtree          */
};

struct composer {
	yaml_parser_t p;
	const char *fname;
	const char *buf;
	size_t len;
	struct bl_diag *d;
	struct frame st[BL_MAX_DEPTH + 1];
	int depth;
	struct bl_path path;
	/* current document */
	struct bl_src *src;
	json_t *root;
	int dline, dcol;
	bool bad;
	struct anchor *an;
	size_t nan, can;
	json_t *an_index;           /* name -> index of latest definition     */
	size_t nodes, alias_nodes;
	size_t nerr;                /* errors reported in this document       */
	size_t total_err;           /* in the whole stream                    */
};

static void cerr(struct composer *c, const yaml_mark_t *m, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static void cerr(struct composer *c, const yaml_mark_t *m, const char *fmt,
		 ...)
{
	va_list ap;
	char *msg = NULL;

	c->bad = true;
	c->total_err++;
	if (++c->nerr > BL_MAX_DOC_ERRORS) {
		if (c->nerr == BL_MAX_DOC_ERRORS + 1)
			bl_diag_add(c->d, c->fname, m ? (int)m->line + 1 : 0,
				    m ? (int)m->column + 1 : 0, NULL,
				    "too many errors in this document; "
				    "stopped reporting them");
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	bl_diag_add(c->d, c->fname, m ? (int)m->line + 1 : 0,
		    m ? (int)m->column + 1 : 0, bl_path_str(&c->path), "%s",
		    msg ? msg : "out of memory");
	free(msg);
}

/*
 * A scalar as it may appear in a message: never under a Secret's data, so
 * a mistyped password does not end up in CI logs.
 */
static const char *shown(const struct composer *c, const char *s)
{
	const char *p = bl_path_str(&c->path);

	if (!strncmp(p, "data", 4) && (p[4] == 0 || p[4] == '.' || p[4] == '['))
		return "(value hidden)";
	return s;
}

static void anchors_clear(struct composer *c)
{
	size_t i;

	for (i = 0; i < c->nan; i++) {
		free(c->an[i].name);
		json_decref(c->an[i].node);
	}
	c->nan = 0;
	json_decref(c->an_index);
	c->an_index = NULL;
}

static int anchor_add(struct composer *c, const char *name, json_t *node,
		      size_t cost)
{
	struct anchor *a;

	if (c->nan == c->can) {
		size_t ncap = c->can ? c->can * 2 : 8;
		struct anchor *nv = realloc(c->an, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->an = nv;
		c->can = ncap;
	}
	if (!c->an_index && !(c->an_index = json_object()))
		return -ENOMEM;
	a = &c->an[c->nan];
	if (!(a->name = strdup(name)))
		return -ENOMEM;
	/* a later definition of the same name wins */
	if (json_object_set_new(c->an_index, name,
				json_integer((json_int_t)c->nan))) {
		free(a->name);
		return -ENOMEM;
	}
	a->node = json_incref(node);
	a->cost = cost;
	c->nan++;
	return 0;
}

/* Hashed: a document with a million anchors and ten thousand aliases must
 * not cost ten billion string compares. */
static const struct anchor *anchor_find(const struct composer *c,
					const char *name)
{
	json_t *i = c->an_index ? json_object_get(c->an_index, name) : NULL;

	return i ? &c->an[json_integer_value(i)] : NULL;
}

/* ---- scalars -------------------------------------------------------------*/

#define TAG_PREFIX "tag:yaml.org,2002:"

static bool is_null_word(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int bool_word(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

/* 1: integer in *v; 0: not integer syntax; -ERANGE: integer, too big. */
static int int_word(const char *s, int64_t *v)
{
	const char *p = s;
	bool neg = false;
	unsigned base = 10;
	uint64_t acc = 0, lim;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		return 0;           /* 0123: neither decimal nor octal here */
	}
	if (!*p)
		return 0;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		unsigned dg;

		if (*p >= '0' && *p <= '9')
			dg = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dg = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dg = (unsigned)(*p - 'A' + 10);
		else
			return 0;
		if (dg >= base)
			return 0;
		if (acc > (lim - dg) / base) {
			/* keep scanning: "123abc" is a string, not an overflow */
			for (p++; *p; p++)
				if (!((*p >= '0' && *p <= '9') ||
				      (base == 16 && ((*p >= 'a' && *p <= 'f') ||
						      (*p >= 'A' && *p <= 'F')))))
					return 0;
			return -ERANGE;
		}
		acc = acc * base + dg;
	}
	if (neg)
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*v = (int64_t)acc;
	return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_word(const char *s)
{
	const char *p = s;
	bool digits = false;

	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return !*p;
}

static json_t *make_string(struct composer *c, const yaml_mark_t *m,
			   const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);

	if (!j)
		cerr(c, m, "string is not valid UTF-8");
	return j;
}

static json_t *make_number(struct composer *c, const yaml_mark_t *m,
			   const char *s, bool must)
{
	int64_t iv;
	int r = int_word(s, &iv);

	if (r == 1)
		return json_integer(iv);
	if (r == -ERANGE) {
		cerr(c, m, "number %.40s is out of range (64-bit integers only)",
		     shown(c, s));
		return NULL;
	}
	if (float_word(s)) {
		double dv = strtod(s, NULL);

		if (!isfinite(dv)) {
			cerr(c, m, "number %.40s is out of range", shown(c, s));
			return NULL;
		}
		return json_real(dv);
	}
	if (must)
		cerr(c, m, "'%.40s' is not a number", shown(c, s));
	return NULL;
}

/*
 * Returns the value, or NULL after reporting (the caller substitutes null
 * so composing can go on) or on ENOMEM (also reported).
 */
static json_t *resolve_scalar(struct composer *c, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const yaml_mark_t *m = &ev->start_mark;
	int b;

	if (memchr(s, 0, n)) {
		cerr(c, m, "NUL characters are not allowed in strings");
		return NULL;
	}
	if (tag && strcmp(tag, "!") && strcmp(tag, "?")) {
		if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX))) {
			cerr(c, m, "unsupported tag '%.60s'", tag);
			return NULL;
		}
		tag += strlen(TAG_PREFIX);
		if (!strcmp(tag, "str"))
			return make_string(c, m, s, n);
		if (!strcmp(tag, "null")) {
			if (is_null_word(s))
				return json_null();
			cerr(c, m, "'%.40s' is not null", shown(c, s));
			return NULL;
		}
		if (!strcmp(tag, "bool")) {
			if ((b = bool_word(s)) >= 0)
				return json_boolean(b);
			cerr(c, m, "'%.40s' is not a boolean", shown(c, s));
			return NULL;
		}
		if (!strcmp(tag, "int") || !strcmp(tag, "float")) {
			json_t *j = make_number(c, m, s, true);

			if (j && !strcmp(tag, "int") && !json_is_integer(j)) {
				json_decref(j);
				cerr(c, m, "'%.40s' is not an integer",
				     shown(c, s));
				return NULL;
			}
			return j;
		}
		cerr(c, m, "unsupported tag '!!%.60s'", tag);
		return NULL;
	}
	if (tag && !strcmp(tag, "!"))       /* non-specific: a string */
		return make_string(c, m, s, n);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return make_string(c, m, s, n);
	if (is_null_word(s))
		return json_null();
	if ((b = bool_word(s)) >= 0)
		return json_boolean(b);
	if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.') {
		json_t *j;
		size_t before = c->d ? c->d->nerr : 0;

		j = make_number(c, m, s, false);
		if (j)
			return j;
		if (c->d && c->d->nerr != before)
			return NULL;        /* out of range: reported */
	}
	return make_string(c, m, s, n);
}

/* ---- tree building -------------------------------------------------------*/

static int mark_node(struct composer *c, int kline, int kcol,
		     const yaml_mark_t *m)
{
	if (++c->nodes > BL_MAX_DOC_NODES)
		return BL_E_PARSE;
	return bl_src_add(c->src, bl_path_str(&c->path), kline, kcol,
			  (int)m->line + 1, (int)m->column + 1);
}

/*
 * Make room in the path for a new node under the top frame and work out
 * where it goes. *attach is false when the value is to be dropped (bad key).
 * Returns the old path length (restore with bl_path_pop), (size_t)-1 on
 * ENOMEM.
 */
static size_t enter_child(struct composer *c, bool *attach, int *kline,
			  int *kcol)
{
	struct frame *f;

	*kline = *kcol = 0;
	*attach = true;
	if (c->depth == 0)
		return c->path.len;
	f = &c->st[c->depth - 1];
	if (f->is_map) {
		*kline = f->kline;
		*kcol = f->kcol;
		*attach = !f->discard;
		return bl_path_key(&c->path, f->key);
	}
	return bl_path_index(&c->path, f->index);
}

/* Attach a finished or starting value to its parent; steals v. */
static int attach_value(struct composer *c, json_t *v, bool attach)
{
	struct frame *f;
	int rc = 0;

	if (c->depth == 0) {
		json_decref(c->root);
		c->root = v;
		return 0;
	}
	f = &c->st[c->depth - 1];
	if (f->is_map) {
		if (attach)
			rc = json_object_set_new(f->node, f->key, v) ? -ENOMEM : 0;
		else
			json_decref(v);
		free(f->key);
		f->key = NULL;
		f->discard = false;
	} else {
		rc = json_array_append_new(f->node, v) ? -ENOMEM : 0;
		f->index++;
	}
	return rc;
}

static int take_key(struct composer *c, const yaml_event_t *ev)
{
	struct frame *f = &c->st[c->depth - 1];
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const yaml_mark_t *m = &ev->start_mark;

	f->kline = (int)m->line + 1;
	f->kcol = (int)m->column + 1;
	f->discard = false;
	if (!(f->key = strndup(s, n)))
		return -ENOMEM;
	if (memchr(s, 0, n)) {
		cerr(c, m, "mapping key contains a NUL character");
		f->discard = true;
		return 0;
	} else {
		json_t *t = json_stringn(s, n);

		if (!t) {
			cerr(c, m, "mapping key is not valid UTF-8");
			f->discard = true;
			return 0;
		}
		json_decref(t);
	}
	if (tag && strcmp(tag, "!") && strcmp(tag, TAG_PREFIX "str")) {
		cerr(c, m, "mapping keys must be strings (tag '%.60s')", tag);
		f->discard = true;
		return 0;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag &&
	    !strcmp(f->key, "<<")) {
		cerr(c, m, "merge keys (<<) are not supported; "
		     "write the fields out or use an alias as a whole value");
		f->discard = true;
		return 0;
	}
	if (json_object_get(f->node, f->key)) {
		size_t old = bl_path_key(&c->path, f->key);
		const struct bl_mark *first = c->nerr >= BL_MAX_DOC_ERRORS ?
			NULL : bl_src_find(c->src, bl_path_str(&c->path), true);
		int fl = first ? first->kline : 0;

		if (old == (size_t)-1)
			return -ENOMEM;
		cerr(c, m, "duplicate key \"%.80s\" (first defined at line %d)",
		     f->key, fl);
		bl_path_pop(&c->path, old);
		f->discard = true;
	}
	return 0;
}

static int on_scalar(struct composer *c, const yaml_event_t *ev)
{
	size_t old;
	bool attach;
	int kline, kcol, rc;
	json_t *v;

	if (c->depth > 0 && c->st[c->depth - 1].is_map &&
	    !c->st[c->depth - 1].key)
		return take_key(c, ev);
	old = enter_child(c, &attach, &kline, &kcol);
	if (old == (size_t)-1)
		return -ENOMEM;
	rc = mark_node(c, kline, kcol, &ev->start_mark);
	if (rc)
		goto out_pop;
	v = resolve_scalar(c, ev);
	if (!v)
		v = json_null();
	if (ev->data.scalar.anchor &&
	    (rc = anchor_add(c, (const char *)ev->data.scalar.anchor, v, 1))) {
		json_decref(v);
		goto out_pop;
	}
	rc = attach_value(c, v, attach);
out_pop:
	bl_path_pop(&c->path, old);
	return rc;
}

static int on_alias(struct composer *c, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a;
	size_t old;
	bool attach;
	int kline, kcol, rc;
	json_t *v;

	if (c->depth > 0 && c->st[c->depth - 1].is_map &&
	    !c->st[c->depth - 1].key) {
		cerr(c, &ev->start_mark, "an alias cannot be a mapping key");
		return BL_E_PARSE;
	}
	a = anchor_find(c, name);
	if (!a) {
		cerr(c, &ev->start_mark,
		     "alias *%.60s refers to no complete anchor before it", name);
		return BL_E_PARSE;
	}
	c->alias_nodes += a->cost;
	c->nodes += a->cost;
	if (c->alias_nodes > BL_MAX_ALIAS_NODES || c->nodes > BL_MAX_DOC_NODES) {
		cerr(c, &ev->start_mark,
		     "aliases expand to more than %d nodes in this document "
		     "(alias bomb?)", BL_MAX_ALIAS_NODES);
		return BL_E_PARSE;
	}
	old = enter_child(c, &attach, &kline, &kcol);
	if (old == (size_t)-1)
		return -ENOMEM;
	/* One mark for the alias; its insides fall back to it. */
	rc = bl_src_add(c->src, bl_path_str(&c->path), kline, kcol,
			(int)ev->start_mark.line + 1,
			(int)ev->start_mark.column + 1);
	if (rc)
		goto out_pop;
	/* A copy, so defaulting one use can never change another. */
	v = json_deep_copy(a->node);
	if (!v) {
		rc = -ENOMEM;
		goto out_pop;
	}
	rc = attach_value(c, v, attach);
out_pop:
	bl_path_pop(&c->path, old);
	return rc;
}

static int on_start(struct composer *c, const yaml_event_t *ev, bool is_map)
{
	struct frame *f;
	size_t old;
	bool attach;
	int kline, kcol, rc;
	json_t *v;
	const char *anchor = is_map ?
		(const char *)ev->data.mapping_start.anchor :
		(const char *)ev->data.sequence_start.anchor;
	const char *tag = is_map ? (const char *)ev->data.mapping_start.tag :
		(const char *)ev->data.sequence_start.tag;

	if (c->depth > 0 && c->st[c->depth - 1].is_map &&
	    !c->st[c->depth - 1].key) {
		cerr(c, &ev->start_mark,
		     "complex mapping keys (a mapping or list as a key) are "
		     "not supported");
		return BL_E_PARSE;
	}
	if (c->depth >= BL_MAX_DEPTH) {
		cerr(c, &ev->start_mark, "nesting deeper than %d levels",
		     BL_MAX_DEPTH);
		return BL_E_PARSE;
	}
	if (tag && strcmp(tag, "!") &&
	    strcmp(tag, is_map ? TAG_PREFIX "map" : TAG_PREFIX "seq"))
		cerr(c, &ev->start_mark, "unsupported tag '%.60s'", tag);
	old = enter_child(c, &attach, &kline, &kcol);
	if (old == (size_t)-1)
		return -ENOMEM;
	if ((rc = mark_node(c, kline, kcol, &ev->start_mark))) {
		bl_path_pop(&c->path, old);
		return rc;
	}
	v = is_map ? json_object() : json_array();
	if (!v) {
		bl_path_pop(&c->path, old);
		return -ENOMEM;
	}
	f = &c->st[c->depth];
	memset(f, 0, sizeof(*f));
	f->node = v;
	f->is_map = is_map;
	f->path_old = old;
	f->nodes_at_start = c->nodes;
	if (anchor && !(f->anchor = strdup(anchor))) {
		json_decref(v);
		bl_path_pop(&c->path, old);
		return -ENOMEM;
	}
	if (attach) {
		/* the parent holds the reference; the frame borrows it */
		if (c->depth == 0) {
			json_decref(c->root);
			c->root = json_incref(v);
			json_decref(v);
		} else {
			rc = attach_value(c, v, true);
		}
	} else {
		f->owned = true;
		attach_value(c, json_incref(v), false);  /* clears the key */
	}
	c->depth++;
	return rc;
}

static int on_end(struct composer *c)
{
	struct frame *f = &c->st[--c->depth];
	int rc = 0;

	if (f->anchor)
		rc = anchor_add(c, f->anchor,  f->node,
				c->nodes - f->nodes_at_start + 1);
	free(f->anchor);
	free(f->key);
	if (f->owned)
		json_decref(f->node);
	bl_path_pop(&c->path, f->path_old);
	memset(f, 0, sizeof(*f));
	return rc;
}

static void frames_clear(struct composer *c)
{
	while (c->depth > 0) {
		struct frame *f = &c->st[--c->depth];

		free(f->anchor);
		free(f->key);
		if (f->owned)
			json_decref(f->node);
	}
	c->path.len = 0;
	if (c->path.buf)
		c->path.buf[0] = 0;
}

static void doc_reset(struct composer *c)
{
	frames_clear(c);
	anchors_clear(c);
	json_decref(c->root);
	c->root = NULL;
	bl_src_free(c->src);
	c->src = NULL;
	c->bad = false;
	c->nodes = c->alias_nodes = 0;
	c->nerr = 0;
}

static int docs_push(struct bl_docs *docs, struct composer *c)
{
	struct bl_doc *dd;

	if (docs->n == docs->cap) {
		size_t ncap = docs->cap ? docs->cap * 2 : 4;
		struct bl_doc *nv = realloc(docs->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		docs->v = nv;
		docs->cap = ncap;
	}
	if (c->src)
		bl_src_index(c->src);   /* best effort */
	dd = &docs->v[docs->n++];
	dd->root = c->root;
	dd->src = c->src;
	dd->line = c->dline;
	dd->col = c->dcol;
	dd->bad = c->bad;
	c->root = NULL;
	c->src = NULL;
	return 0;
}

void bl_docs_free(struct bl_docs *docs)
{
	size_t i;

	for (i = 0; i < docs->n; i++) {
		json_decref(docs->v[i].root);
		bl_src_free(docs->v[i].src);
	}
	free(docs->v);
	memset(docs, 0, sizeof(*docs));
}

/* A libyaml error, with a hint for the commonest cause: tabs. */
static void syntax_error(struct composer *c)
{
	const yaml_parser_t *p = &c->p;
	const char *prob = p->problem ? p->problem : "syntax error";
	const char *hint = "";
	size_t line = 0, i;

	if (p->error == YAML_MEMORY_ERROR) {
		cerr(c, NULL, "out of memory");
		return;
	}
	/* Find the problem line in the buffer and look for a tab on it. */
	for (i = 0; i < c->len && line < p->problem_mark.line; i++)
		if (c->buf[i] == '\n')
			line++;
	for (; i < c->len && c->buf[i] != '\n'; i++)
		if (c->buf[i] == '\t') {
			hint = " (tab characters cannot indent YAML; use spaces)";
			break;
		}
	if (p->context)
		cerr(c, &p->problem_mark, "%s (%s at line %zu)%s", prob,
		     p->context, p->context_mark.line + 1, hint);
	else
		cerr(c, &p->problem_mark, "%s%s", prob, hint);
}

int bl_yaml_compose(const char *fname, const char *buf, size_t len,
		    struct bl_docs *docs, struct bl_diag *d)
{
	struct composer *c;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fname = fname;
	c->buf = buf;
	c->len = len;
	c->d = d;
	if (!yaml_parser_initialize(&c->p)) {
		free(c);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&c->p, (const unsigned char *)buf, len);

	while (!done) {
		if (!yaml_parser_parse(&c->p, &ev)) {
			syntax_error(c);
			rc = BL_E_PARSE;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc_reset(c);
			if (!(c->src = bl_src_new(fname)))
				rc = -ENOMEM;
			c->dline = (int)ev.start_mark.line + 1;
			c->dcol = (int)ev.start_mark.column + 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			rc = docs_push(docs, c);
			doc_reset(c);
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(c, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(c, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			rc = on_start(c, &ev,
				      ev.type == YAML_MAPPING_START_EVENT);
			if (!rc && c->depth == 1) {
				c->dline = (int)ev.start_mark.line + 1;
				c->dcol = (int)ev.start_mark.column + 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(c);
			break;
		default:
			break;
		}
		if (rc == BL_E_PARSE && c->nodes > BL_MAX_DOC_NODES)
			cerr(c, &ev.start_mark,
			     "document has more than %d nodes",
			     BL_MAX_DOC_NODES);
		yaml_event_delete(&ev);
		if (!rc && c->total_err > BL_MAX_ERRORS) {
			bl_diag_add(d, fname, 0, 0, NULL, "more than %d errors; "
				    "stopped reading", BL_MAX_ERRORS);
			rc = BL_E_PARSE;
		}
		if (rc)
			break;
	}
	if (rc == -ENOMEM)
		bl_diag_add(d, fname, 0, 0, NULL, "out of memory");
	doc_reset(c);
	free(c->an);
	bl_path_free(&c->path);
	yaml_parser_delete(&c->p);
	free(c);
	return rc;
}
