/*
 * reconcilers.c - the table of reconcilers, the real I/O seams and small
 * helpers shared by them (see reconciler.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconciler.h"

const struct bl_reconciler_ops *const bl_reconcilers[] = {
	&bl_drbd_reconciler,     /* devices first: LUNs open /dev/drbdN   */
	&bl_target_reconciler,
	&bl_pacemaker_reconciler,
	NULL,
};

const struct bl_reconciler_ops *bl_reconciler_find(const char *name)
{
	for (size_t i = 0; bl_reconcilers[i]; i++)
		if (!strcmp(bl_reconcilers[i]->name, name))
			return bl_reconcilers[i];
	return NULL;
}

static int real_read_file(void *arg, const char *path, char **buf,
			  size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *p;

	(void)arg;
	if (fd < 0)
		return -errno;
	p = malloc(cap);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			char *q = realloc(p, cap * 2);

			if (!q)
				goto out_nomem;
			p = q;
			cap *= 2;
		}
		r = read(fd, p + n, cap - n - 1);
		if (r < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(p);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;

out_nomem:
	free(p);
	close(fd);
	return -ENOMEM;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void bl_rec_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int real_list_dir(void *arg, const char *dir, char ***names,
			 size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	(void)arg;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) *
					       sizeof(*v));
			if (!nv)
				goto out_nomem;
			v = nv;
		}
		if (!(v[cnt] = strdup(e->d_name)))
			goto out_nomem;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	return 0;

out_nomem:
	closedir(d);
	bl_rec_free_names(v, cnt);
	return -ENOMEM;
}

void bl_rec_io_real(struct bl_rec_io *io)
{
	io->run = bl_run_process;
	io->read_file = real_read_file;
	io->list_dir = real_list_dir;
	io->arg = NULL;
}

int bl_rec_run_desired(struct bl_rec_run *r, const struct bl_reconciler_ops *ops,
		       struct bl_rec_ctx *ctx, const struct bl_objlist *objs)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
	return ops->desired(ctx, objs, &r->want);
}

int bl_rec_run_plan(struct bl_rec_run *r, struct bl_plan *plan, size_t limit)
{
	int rc = bl_plan_init(plan, r->ops->name, r->ctx->node);

	if (rc)
		return rc;
	if (!r->want)
		return -EINVAL;   /* desired() failed or was not run */
	if ((rc = bl_plan_limit(plan, limit)))
		return rc;
	if (!r->have && (rc = r->ops->observe(r->ctx, r->want, &r->have)))
		return rc;
	rc = r->ops->plan(r->ctx, r->want, r->have, plan);
	return rc ? rc : bl_plan_sort(plan);
}

int bl_rec_run_window(struct bl_rec_run *r, struct bl_plan *plan, size_t first,
		      size_t max)
{
	int rc = bl_plan_window(plan, first, max);

	if (rc)
		return rc;
	rc = r->ops->plan(r->ctx, r->want, r->have, plan);
	return rc ? rc : bl_plan_sort(plan);
}

void bl_rec_run_free(struct bl_rec_run *r)
{
	if (r->ops) {
		r->ops->free_model(r->have);
		r->ops->free_model(r->want);
	}
	memset(r, 0, sizeof(*r));
}

int bl_reconcile_plan(const struct bl_reconciler_ops *ops,
		      struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
		      struct bl_plan *plan)
{
	struct bl_rec_run r;
	int rc;

	rc = bl_rec_run_desired(&r, ops, ctx, objs);
	if (rc == 0)
		rc = bl_rec_run_plan(&r, plan, 0);
	else   /* the caller frees plan whatever happened */
		(void)bl_plan_init(plan, ops->name, ctx->node);
	bl_rec_run_free(&r);
	return rc;
}

const char *bl_rec_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long bl_rec_int(const json_t *obj, const char *key, long long def)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v))
		return json_integer_value(v);
	s = json_string_value(v);
	if (!s || !*s)
		return def;
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno || *end ? def : n;
}

int bl_rec_size(const json_t *v, unsigned long long *bytes)
{
	uint64_t b;
	int rc;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -EINVAL;
		*bytes = (unsigned long long)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	rc = bl_parse_size(json_string_value(v), &b);
	if (!rc)
		*bytes = b;
	return rc;
}
