/*
 * udiff.c - unified line diff for `bollard diff`.
 *
 * Objects render to a few dozen YAML lines, so a plain LCS table after
 * trimming the common head and tail is both simple and fast enough. Past
 * UDIFF_MAX_CELLS table cells (huge, mostly different texts) it falls back
 * to "all old lines removed, all new lines added", still a correct diff.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define UDIFF_CONTEXT   3
#define UDIFF_MAX_CELLS (4u << 20)

struct line {
	const char *s;
	size_t len;
};

struct edit {
	char op;                    /* ' ', '-', '+'                          */
	size_t ai, bi;              /* line index in a (for ' ' '-'), b (' ' '+') */
};

static int split_lines(const char *text, struct line **out, size_t *n)
{
	size_t cap = 1, k = 0;
	const char *p;

	for (p = text; *p; p++)
		if (*p == '\n')
			cap++;
	*out = calloc(cap, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		(*out)[k].s = p;
		(*out)[k].len = len;
		k++;
		p += len + (nl ? 1 : 0);
	}
	*n = k;
	return 0;
}

static bool line_eq(const struct line *x, const struct line *y)
{
	return x->len == y->len && !memcmp(x->s, y->s, x->len);
}

/* Edit script for a[0..na) -> b[0..nb). */
static int edit_script(const struct line *a, size_t na, const struct line *b,
		       size_t nb, struct edit **out, size_t *nout)
{
	size_t pre = 0, suf = 0, k = 0, i, j;
	size_t ma, mb;
	struct edit *e = calloc(na + nb + 1, sizeof(*e));
	uint32_t *L = NULL;

	if (!e)
		return -ENOMEM;
	while (pre < na && pre < nb && line_eq(&a[pre], &b[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       line_eq(&a[na - 1 - suf], &b[nb - 1 - suf]))
		suf++;
	ma = na - pre - suf;
	mb = nb - pre - suf;
	for (i = 0; i < pre; i++)
		e[k++] = (struct edit){ ' ', i, i };
	if ((uint64_t)(ma + 1) * (mb + 1) <= UDIFF_MAX_CELLS)
		L = calloc((ma + 1) * (mb + 1), sizeof(*L));
	if (L) {
#define LCS(x, y) L[(x) * (mb + 1) + (y)]
		for (i = ma; i-- > 0;)
			for (j = mb; j-- > 0;)
				LCS(i, j) = line_eq(&a[pre + i], &b[pre + j]) ?
					LCS(i + 1, j + 1) + 1 :
					(LCS(i + 1, j) >= LCS(i, j + 1) ?
					 LCS(i + 1, j) : LCS(i, j + 1));
		i = j = 0;
		while (i < ma || j < mb) {
			if (i < ma && j < mb &&
			    line_eq(&a[pre + i], &b[pre + j])) {
				e[k++] = (struct edit){ ' ', pre + i, pre + j };
				i++;
				j++;
			} else if (j >= mb || (i < ma &&
				   LCS(i + 1, j) >= LCS(i, j + 1))) {
				e[k++] = (struct edit){ '-', pre + i, pre + j };
				i++;
			} else {
				e[k++] = (struct edit){ '+', pre + i, pre + j };
				j++;
			}
		}
#undef LCS
		free(L);
	} else {
		for (i = 0; i < ma; i++)
			e[k++] = (struct edit){ '-', pre + i, pre };
		for (j = 0; j < mb; j++)
			e[k++] = (struct edit){ '+', pre + ma, pre + j };
	}
	for (i = 0; i < suf; i++)
		e[k++] = (struct edit){ ' ', na - suf + i, nb - suf + i };
	*out = e;
	*nout = k;
	return 0;
}

static void print_hunk(const struct edit *e, size_t from, size_t to,
		       const struct line *a, const struct line *b, FILE *f)
{
	size_t ostart = SIZE_MAX, nstart = SIZE_MAX, olen = 0, nlen = 0;

	for (size_t k = from; k < to; k++) {
		if (e[k].op != '+') {
			if (ostart == SIZE_MAX)
				ostart = e[k].ai;
			olen++;
		}
		if (e[k].op != '-') {
			if (nstart == SIZE_MAX)
				nstart = e[k].bi;
			nlen++;
		}
	}
	/* An empty side names the line before the hunk (0 at the top). */
	if (ostart == SIZE_MAX)
		ostart = e[from].ai;
	else
		ostart++;
	if (nstart == SIZE_MAX)
		nstart = e[from].bi;
	else
		nstart++;
	fprintf(f, "@@ -%zu", ostart);
	if (olen != 1)
		fprintf(f, ",%zu", olen);
	fprintf(f, " +%zu", nstart);
	if (nlen != 1)
		fprintf(f, ",%zu", nlen);
	fprintf(f, " @@\n");
	for (size_t k = from; k < to; k++) {
		const struct line *l = e[k].op == '+' ? &b[e[k].bi] :
					&a[e[k].ai];

		fprintf(f, "%c%.*s\n", e[k].op, (int)l->len, l->s);
	}
}

int udiff(const char *old_text, const char *new_text, const char *old_name,
	  const char *new_name, FILE *f)
{
	struct line *a = NULL, *b = NULL;
	struct edit *e = NULL;
	size_t na, nb, ne, k;
	int rc;

	if (!strcmp(old_text, new_text))
		return 0;
	rc = split_lines(old_text, &a, &na);
	if (rc < 0)
		goto out;
	rc = split_lines(new_text, &b, &nb);
	if (rc < 0)
		goto out;
	rc = edit_script(a, na, b, nb, &e, &ne);
	if (rc < 0)
		goto out;
	fprintf(f, "--- %s\n+++ %s\n", old_name, new_name);
	k = 0;
	while (k < ne) {
		size_t start, end, last;

		while (k < ne && e[k].op == ' ')
			k++;
		if (k == ne)
			break;
		start = k > UDIFF_CONTEXT ? k - UDIFF_CONTEXT : 0;
		/* Extend while the next change is within 2*context lines. */
		last = k;
		for (end = k; end < ne; end++) {
			if (e[end].op != ' ')
				last = end;
			else if (end - last > 2 * UDIFF_CONTEXT)
				break;
		}
		end = last + 1 + UDIFF_CONTEXT;
		if (end > ne)
			end = ne;
		print_hunk(e, start, end, a, b, f);
		k = end;
	}
	rc = 1;
out:
	free(a);
	free(b);
	free(e);
	return rc;
}
