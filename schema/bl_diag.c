/*
 * bl_diag.c - diagnostics lists, source marks and field paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema_int.h"

/* ---- diagnostics ---------------------------------------------------------*/

void bl_diag_init(struct bl_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void bl_diag_free(struct bl_diag *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void diag_vadd(struct bl_diag *d, enum bl_severity sev,
		      const char *file, int line, int col, const char *path,
		      const char *fmt, va_list ap)
{
	struct bl_diag_entry *e;
	char *msg = NULL;

	if (!d)
		return;
	if (sev == BL_SEV_ERROR)
		d->nerr++;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct bl_diag_entry *nv = realloc(d->v, ncap * sizeof(*nv));

		if (!nv)
			return;
		d->v = nv;
		d->cap = ncap;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	e->sev = sev;
	e->line = line;
	e->col = col;
	e->msg = msg;
	if (file && !(e->file = strdup(file)))
		goto out_free_msg;
	if (path && *path && !(e->path = strdup(path)))
		goto out_free_file;
	d->n++;
	return;

out_free_file:
	free(e->file);
out_free_msg:
	free(msg);
}

void bl_diag_add(struct bl_diag *d, const char *file, int line, int col,
		 const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, BL_SEV_ERROR, file, line, col, path, fmt, ap);
	va_end(ap);
}

void bl_diag_warn(struct bl_diag *d, const char *file, int line, int col,
		  const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, BL_SEV_WARNING, file, line, col, path, fmt, ap);
	va_end(ap);
}

size_t bl_diag_count(const struct bl_diag *d)
{
	return d ? d->nerr : 0;
}

void bl_diag_print(const struct bl_diag *d, FILE *f)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		const struct bl_diag_entry *e = &d->v[i];

		fputs(e->file ? e->file : "<input>", f);
		if (e->line > 0) {
			fprintf(f, ":%d", e->line);
			if (e->col > 0)
				fprintf(f, ":%d", e->col);
		}
		fputs(": ", f);
		if (e->sev == BL_SEV_WARNING)
			fputs("warning: ", f);
		if (e->path)
			fprintf(f, "%s: ", e->path);
		fprintf(f, "%s\n", e->msg);
	}
}

/* ---- source marks --------------------------------------------------------*/

struct bl_src *bl_src_new(const char *file)
{
	struct bl_src *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (file && !(s->file = strdup(file))) {
		free(s);
		return NULL;
	}
	return s;
}

void bl_src_free(struct bl_src *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	free(s->idx);
	free(s->file);
	free(s);
}

static uint32_t path_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;       /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

int bl_src_index(struct bl_src *s)
{
	size_t size = 16, i, j;
	uint32_t *idx;

	if (s->n > UINT32_MAX / 4)
		return -ENOMEM;
	while (size < s->n * 2)
		size *= 2;
	idx = calloc(size, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		const char *p = s->v[i].path;
		size_t len = strlen(p);
		bool dup = false;

		for (j = path_hash(p, len) & (size - 1); idx[j];
		     j = (j + 1) & (size - 1))
			if (!strcmp(s->v[idx[j] - 1].path, p)) {
				dup = true;     /* the first mark wins */
				break;
			}
		if (!dup)
			idx[j] = (uint32_t)(i + 1);
	}
	free(s->idx);
	s->idx = idx;
	s->idx_size = size;
	return 0;
}

int bl_src_add(struct bl_src *s, const char *path, int kline, int kcol,
	       int line, int col)
{
	struct bl_mark *m;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		struct bl_mark *nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	if (s->idx) {                   /* a late mark: drop the index */
		free(s->idx);
		s->idx = NULL;
	}
	m = &s->v[s->n];
	if (!(m->path = strdup(path)))
		return -ENOMEM;
	m->kline = kline;
	m->kcol = kcol;
	m->line = line;
	m->col = col;
	s->n++;
	return 0;
}

struct bl_src *bl_src_dup(const struct bl_src *s)
{
	struct bl_src *c;
	size_t i;

	if (!s)
		return NULL;
	if (!(c = bl_src_new(s->file)))
		return NULL;
	for (i = 0; i < s->n; i++) {
		const struct bl_mark *m = &s->v[i];

		if (bl_src_add(c, m->path, m->kline, m->kcol, m->line,
			       m->col)) {
			bl_src_free(c);
			return NULL;
		}
	}
	if (s->idx)
		bl_src_index(c);        /* best effort: linear search works */
	return c;
}

static const struct bl_mark *src_exact(const struct bl_src *s,
				       const char *path, size_t len)
{
	size_t i;

	if (s->idx) {
		for (i = path_hash(path, len) & (s->idx_size - 1); s->idx[i];
		     i = (i + 1) & (s->idx_size - 1)) {
			const struct bl_mark *m = &s->v[s->idx[i] - 1];

			if (strlen(m->path) == len && !memcmp(m->path, path, len))
				return m;
		}
		return NULL;
	}
	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i].path) == len &&
		    !memcmp(s->v[i].path, path, len))
			return &s->v[i];
	return NULL;
}

/*
 * Where the last path component starts: "a.b[2]" -> 3 ("[2]"), "a.b" -> 1
 * (".b"), "a" -> 0. Bracketed keys (["x.y"]) may hold dots and brackets, so
 * a closing "\"]" is matched back to its opening "[\"".
 */
static size_t path_parent_len(const char *path, size_t len)
{
	size_t i = len;

	if (len >= 2 && path[len - 1] == ']' && path[len - 2] == '"') {
		for (i = len - 2; i >= 2; i--)
			if (path[i - 1] == '"' && path[i - 2] == '[')
				return i - 2;
		return 0;
	}
	while (i > 0) {
		i--;
		if (path[i] == '.' || path[i] == '[')
			return i;
	}
	return 0;
}

const struct bl_mark *bl_src_find(const struct bl_src *s, const char *path,
				  bool key)
{
	size_t len;
	const struct bl_mark *m;

	if (!s || !path)
		return NULL;
	len = strlen(path);
	for (;;) {
		m = src_exact(s, path, len);
		if (m) {
			(void)key;
			return m;
		}
		if (len == 0)
			return NULL;
		len = path_parent_len(path, len);
	}
}

/* ---- paths ---------------------------------------------------------------*/

static int path_reserve(struct bl_path *p, size_t more)
{
	if (p->len + more + 1 > p->cap) {
		size_t ncap = p->cap ? p->cap : 64;
		char *nb;

		while (ncap < p->len + more + 1)
			ncap *= 2;
		nb = realloc(p->buf, ncap);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = ncap;
	}
	return 0;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return false;
	return true;
}

size_t bl_path_key(struct bl_path *p, const char *key)
{
	size_t old = p->len, kl = strlen(key);

	if (path_reserve(p, kl + 5))
		return (size_t)-1;
	if (plain_key(key))
		p->len += sprintf(p->buf + p->len, "%s%s", p->len ? "." : "",
				  key);
	else
		p->len += sprintf(p->buf + p->len, "[\"%s\"]", key);
	return old;
}

size_t bl_path_index(struct bl_path *p, size_t i)
{
	size_t old = p->len;

	if (path_reserve(p, 24))
		return (size_t)-1;
	p->len += sprintf(p->buf + p->len, "[%zu]", i);
	return old;
}

void bl_path_pop(struct bl_path *p, size_t old)
{
	if (old == (size_t)-1 || !p->buf)
		return;
	p->len = old;
	p->buf[old] = 0;
}

void bl_path_free(struct bl_path *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}
