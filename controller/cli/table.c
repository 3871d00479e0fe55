/*
 * table.c - kubectl-style tables and ages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int table_init(struct table *t, size_t ncol, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	return table_add(t, header);
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncol * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncol; i++) {
		const char *s = cells[i] ? cells[i] : "<none>";
		char *d = strdup(s);

		if (!d) {
			while (i--)
				free(t->cells[t->nrow * t->ncol + i]);
			return -ENOMEM;
		}
		t->cells[t->nrow * t->ncol + i] = d;
	}
	t->nrow++;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncol ? t->ncol : 1, sizeof(*w));

	if (!w)
		return;
	for (size_t r = 0; r < t->nrow; r++)
		for (size_t c = 0; c < t->ncol; c++) {
			size_t l = strlen(t->cells[r * t->ncol + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		for (size_t c = 0; c < t->ncol; c++) {
			const char *s = t->cells[r * t->ncol + c];

			if (c + 1 == t->ncol)
				fprintf(f, "%s", s);
			else
				fprintf(f, "%-*s   ", (int)w[c], s);
		}
		fputc('\n', f);
	}
	free(w);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void format_age(const char *ts, int64_t now, char *buf, size_t len)
{
	struct tm tm = { 0 };
	const char *end;
	int64_t d;

	if (!ts || !(end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	d = now - (int64_t)timegm(&tm);
	if (d < 0)
		d = 0;
	/* kubectl's short form: the largest unit, plus the next under 10. */
	if (d < 120)
		snprintf(buf, len, "%llds", (long long)d);
	else if (d < 600)
		snprintf(buf, len, "%lldm%llds", (long long)(d / 60),
			 (long long)(d % 60));
	else if (d < 3 * 3600)
		snprintf(buf, len, "%lldm", (long long)(d / 60));
	else if (d < 8 * 3600)
		snprintf(buf, len, "%lldh%lldm", (long long)(d / 3600),
			 (long long)(d % 3600 / 60));
	else if (d < 48 * 3600)
		snprintf(buf, len, "%lldh", (long long)(d / 3600));
	else if (d < 365LL * 86400)
		snprintf(buf, len, "%lldd", (long long)(d / 86400));
	else
		snprintf(buf, len, "%lldy", (long long)(d / (365LL * 86400)));
}
