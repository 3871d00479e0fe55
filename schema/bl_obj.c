/*
 * bl_obj.c - objects and object lists, parsing entry points (buffers,
 * files, directories), source marks for later messages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bl_schema_int.h"

/* ---- objects -------------------------------------------------------------*/

void bl_obj_free(struct bl_obj *o)
{
	if (!o)
		return;
	free(o->api_version);
	free(o->kind);
	free(o->name);
	json_decref(o->labels);
	json_decref(o->annotations);
	json_decref(o->spec);
	json_decref(o->data);
	free(o->uid);
	free(o->creation_timestamp);
	bl_src_free(o->src);
	free(o);
}

static int dup_field(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int dup_json(json_t **dst, const json_t *src)
{
	if (!src)
		return 0;
	*dst = json_deep_copy(src);
	return *dst ? 0 : -ENOMEM;
}

struct bl_obj *bl_obj_dup(const struct bl_obj *o)
{
	struct bl_obj *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (dup_field(&c->api_version, o->api_version) ||
	    dup_field(&c->kind, o->kind) || dup_field(&c->name, o->name) ||
	    dup_json(&c->labels, o->labels) ||
	    dup_json(&c->annotations, o->annotations) ||
	    dup_json(&c->spec, o->spec) || dup_json(&c->data, o->data) ||
	    dup_field(&c->uid, o->uid) ||
	    dup_field(&c->creation_timestamp, o->creation_timestamp))
		goto out_free;
	c->generation = o->generation;
	c->resource_version = o->resource_version;
	c->line = o->line;
	c->col = o->col;
	if (o->src) {
		if (!(c->src = bl_src_dup(o->src)))
			goto out_free;
		c->file = c->src->file;
	}
	return c;

out_free:
	bl_obj_free(c);
	return NULL;
}

/* ---- lists ---------------------------------------------------------------*/

void bl_objlist_init(struct bl_objlist *l)
{
	memset(l, 0, sizeof(*l));
}

void bl_objlist_free(struct bl_objlist *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		bl_obj_free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int bl_objlist_push(struct bl_objlist *l, struct bl_obj *o)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct bl_obj **nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = o;
	return 0;
}

struct bl_obj *bl_objlist_find(const struct bl_objlist *l, const char *kind,
			       const char *name)
{
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i]->kind, kind) &&
		    !strcmp(l->v[i]->name, name))
			return l->v[i];
	return NULL;
}

bool bl_cluster_has_node(const struct bl_obj *cl, const char *node)
{
	json_t *n;
	size_t i;

	if (!cl || !node)
		return false;
	json_array_foreach(json_object_get(cl->spec, "nodes"), i, n) {
		const char *nm = json_string_value(json_object_get(n, "name"));

		if (nm && !strcmp(nm, node))
			return true;
	}
	return false;
}

/* Stable counting sort by kind rank: linear, however long the list. */
void bl_objlist_sort_apply(struct bl_objlist *l)
{
	size_t count[8] = { 0 }, start[8], i;
	struct bl_obj **tmp;
	int r;

	if (l->n < 2 || !(tmp = malloc(l->n * sizeof(*tmp))))
		return;                 /* ENOMEM: left in input order */
	for (i = 0; i < l->n; i++) {
		r = bl_kind_rank(l->v[i]->kind);
		count[r < 0 ? 7 : r]++;
	}
	start[0] = 0;
	for (r = 1; r < 8; r++)
		start[r] = start[r - 1] + count[r - 1];
	for (i = 0; i < l->n; i++) {
		r = bl_kind_rank(l->v[i]->kind);
		tmp[start[r < 0 ? 7 : r]++] = l->v[i];
	}
	memcpy(l->v, tmp, l->n * sizeof(*tmp));
	free(tmp);
}

/* Move every object of src to the end of dst (src ends empty). */
static int objlist_splice(struct bl_objlist *dst, struct bl_objlist *src)
{
	size_t i;

	if (dst->cap < dst->n + src->n) {
		size_t ncap = dst->n + src->n;
		struct bl_obj **nv = realloc(dst->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		dst->v = nv;
		dst->cap = ncap;
	}
	for (i = 0; i < src->n; i++)
		dst->v[dst->n++] = src->v[i];
	src->n = 0;
	return 0;
}

/* ---- marks ---------------------------------------------------------------*/

int bl_obj_mark(const struct bl_obj *o, const char *path, int *line,
		int *col)
{
	const struct bl_mark *m = bl_src_find(o->src, path, false);

	if (!m) {
		*line = o->line;
		*col = o->col;
		return -ENOENT;
	}
	*line = m->line;
	*col = m->col;
	return 0;
}

void bl_obj_error(struct bl_diag *d, const struct bl_obj *o,
		  const char *path, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int line, col;

	bl_obj_mark(o, path, &line, &col);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	bl_diag_add(d, o->file, line, col, path, "%s",
		    msg ? msg : "out of memory");
	free(msg);
}

/* ---- parsing -------------------------------------------------------------*/

/* Stable sort of the diag entries added since `from` by line and column,
 * so messages read top to bottom whatever order the checks ran in. */
static void diag_sort_from(struct bl_diag *d, size_t from)
{
	size_t i, j;

	for (i = from + 1; d && i < d->n; i++) {
		struct bl_diag_entry e = d->v[i];

		for (j = i; j > from && (d->v[j - 1].line > e.line ||
					 (d->v[j - 1].line == e.line &&
					  d->v[j - 1].col > e.col)); j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = e;
	}
}

int bl_parse_buf(const char *fname, const char *buf, size_t len,
		 struct bl_objlist *list, struct bl_diag *d)
{
	struct bl_docs docs = { 0 };
	struct bl_objlist tmp = { 0 };
	size_t i, from = d ? d->n : 0, nerr0 = d ? d->nerr : 0;
	bool bad_parse = false, bad_valid = false;
	int rc;

	if (len > BL_MAX_FILE_SIZE) {
		bl_diag_add(d, fname, 0, 0, NULL, "larger than %u MiB",
			    BL_MAX_FILE_SIZE >> 20);
		return BL_E_PARSE;
	}
	rc = bl_yaml_compose(fname, buf, len, &docs, d);
	if (rc == -ENOMEM)
		goto out_free_docs;
	if (rc)
		bad_parse = true;
	for (i = 0; i < docs.n; i++) {
		struct bl_doc *doc = &docs.v[i];
		struct bl_obj *o = NULL;

		if (doc->bad) {
			bad_parse = true;
			continue;
		}
		if (!doc->root || json_is_null(doc->root))
			continue;           /* empty document */
		if (d && d->nerr - nerr0 > BL_MAX_ERRORS) {
			bl_diag_add(d, fname, doc->line, doc->col, NULL,
				    "more than %d errors; stopped checking",
				    BL_MAX_ERRORS);
			bad_valid = true;
			break;
		}
		rc = bl_build_obj(doc->root, doc->src, fname, doc->line,
				  doc->col, false, d, &o);
		doc->src = NULL;            /* owned by bl_build_obj now */
		if (rc == -ENOMEM)
			goto out_free_tmp;
		if (rc) {
			bad_valid = true;
			continue;
		}
		if ((rc = bl_objlist_push(&tmp, o))) {
			bl_obj_free(o);
			goto out_free_tmp;
		}
	}
	diag_sort_from(d, from);
	if (!bad_parse && !bad_valid && tmp.n == 0) {
		bl_diag_add(d, fname, 0, 0, NULL, "no objects");
		bad_parse = true;
	}
	if (bad_parse || bad_valid) {
		rc = bad_parse ? BL_E_PARSE : BL_E_INVALID;
		goto out_free_tmp;
	}
	rc = objlist_splice(list, &tmp);

out_free_tmp:
	bl_objlist_free(&tmp);
out_free_docs:
	bl_docs_free(&docs);
	if (rc == -ENOMEM)
		bl_diag_add(d, fname, 0, 0, NULL, "out of memory");
	return rc;
}

/* Read a whole file (or stdin), at most BL_MAX_FILE_SIZE bytes. */
static int read_all(int fd, const char *name, char **out, size_t *outlen,
		    struct bl_diag *d)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > BL_MAX_FILE_SIZE) {
				bl_diag_add(d, name, 0, 0, NULL,
					    "larger than %u MiB",
					    BL_MAX_FILE_SIZE >> 20);
				free(b);
				return BL_E_PARSE;
			}
			cap *= 2;
			if (!(nb = realloc(b, cap))) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			bl_diag_add(d, name, 0, 0, NULL, "%s", strerror(e));
			free(b);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > BL_MAX_FILE_SIZE) {
		bl_diag_add(d, name, 0, 0, NULL, "larger than %u MiB",
			    BL_MAX_FILE_SIZE >> 20);
		free(b);
		return BL_E_PARSE;
	}
	*out = b;
	*outlen = n;
	return 0;
}

static int parse_file(const char *path, const char *name,
		      struct bl_objlist *list, struct bl_diag *d)
{
	int fd, rc;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			bl_diag_add(d, name, 0, 0, NULL, "%s", strerror(-rc));
			return rc;
		}
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
		    st.st_size > (off_t)BL_MAX_FILE_SIZE) {
			bl_diag_add(d, name, 0, 0, NULL, "larger than %u MiB",
				    BL_MAX_FILE_SIZE >> 20);
			close(fd);
			return BL_E_PARSE;
		}
	}
	rc = read_all(fd, name, &buf, &len, d);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		return rc;
	rc = bl_parse_buf(name, buf, len, list, d);
	free(buf);
	return rc;
}

struct pathvec {
	char **v;
	size_t n, cap;
};

static int pathvec_add(struct pathvec *pv, char *p)
{
	if (pv->n == pv->cap) {
		size_t ncap = pv->cap ? pv->cap * 2 : 16;
		char **nv = realloc(pv->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		pv->v = nv;
		pv->cap = ncap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

static bool wanted_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && !strcmp(n + l - 5, ".yaml")) ||
	       (l > 4 && !strcmp(n + l - 4, ".yml")) ||
	       (l > 5 && !strcmp(n + l - 5, ".json"));
}

/* Collect manifest files under dir (depth-limited: symlink loops). */
static int collect(const char *dir, int depth, struct pathvec *pv,
		   struct bl_diag *d)
{
	DIR *dh;
	struct dirent *de;
	struct stat st;
	int rc = 0;

	if (depth > 16) {
		bl_diag_add(d, dir, 0, 0, NULL,
			    "directories nested too deep (symlink loop?)");
		return -ELOOP;
	}
	dh = opendir(dir);
	if (!dh) {
		rc = -errno;
		bl_diag_add(d, dir, 0, 0, NULL, "%s", strerror(-rc));
		return rc;
	}
	while ((de = readdir(dh))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (stat(p, &st)) {
			free(p);
			continue;           /* dangling symlink */
		}
		if (S_ISDIR(st.st_mode)) {
			int r = collect(p, depth + 1, pv, d);

			free(p);
			if (r == -ENOMEM) {
				rc = r;
				break;
			}
			if (r && !rc)
				rc = r;
			continue;
		}
		if (!S_ISREG(st.st_mode) || !wanted_name(de->d_name)) {
			free(p);
			continue;
		}
		if (pathvec_add(pv, p)) {
			free(p);
			rc = -ENOMEM;
			break;
		}
	}
	closedir(dh);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Worst first: -errno, then BL_E_PARSE, then BL_E_INVALID. */
static int worse(int a, int b)
{
	if (a == -ENOMEM || b == -ENOMEM)
		return -ENOMEM;
	if (a > BL_E_BASE && a < 0)
		return a;
	if (b > BL_E_BASE && b < 0)
		return b;
	if (a == BL_E_PARSE || b == BL_E_PARSE)
		return BL_E_PARSE;
	return a ? a : b;
}

int bl_parse_path(const char *path, struct bl_objlist *list,
		  struct bl_diag *d)
{
	struct bl_objlist tmp = { 0 };
	struct pathvec pv = { 0 };
	struct stat st;
	size_t i;
	int rc = 0, r;

	if (!strcmp(path, "-")) {
		rc = parse_file("-", "<stdin>", &tmp, d);
		goto out_splice;
	}
	if (stat(path, &st)) {
		rc = -errno;
		bl_diag_add(d, path, 0, 0, NULL, "%s", strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = parse_file(path, path, &tmp, d);
		goto out_splice;
	}
	rc = collect(path, 0, &pv, d);
	if (rc == -ENOMEM)
		goto out_free_pv;
	if (pv.n == 0 && !rc) {
		bl_diag_add(d, path, 0, 0, NULL,
			    "no *.yaml, *.yml or *.json files");
		rc = BL_E_PARSE;
	}
	if (pv.n)
		qsort(pv.v, pv.n, sizeof(*pv.v), cmp_str);
	for (i = 0; i < pv.n; i++) {
		r = parse_file(pv.v[i], pv.v[i], &tmp, d);
		rc = worse(rc, r);
		if (rc == -ENOMEM)
			break;
	}
out_free_pv:
	for (i = 0; i < pv.n; i++)
		free(pv.v[i]);
	free(pv.v);
out_splice:
	if (!rc)
		rc = objlist_splice(list, &tmp);
	bl_objlist_free(&tmp);
	return rc;
}
