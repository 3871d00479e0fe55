/*
 * snap.c - snapshots of stored objects: sorted by (kind, name), looked up
 * by binary search. No etcd here, so the planner's unit tests can build
 * snapshots by hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema.h"
#include "cli.h"

static int obj_cmp(const void *a, const void *b)
{
	const struct bl_obj *x = *(struct bl_obj *const *)a;
	const struct bl_obj *y = *(struct bl_obj *const *)b;
	int r = strcmp(x->kind, y->kind);

	return r ? r : strcmp(x->name, y->name);
}

void store_snap_sort(struct store_snap *s)
{
	qsort(s->v, s->n, sizeof(*s->v), obj_cmp);
}

struct bl_obj *store_find(const struct store_snap *s, const char *kind,
			  const char *name)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bl_obj *o = s->v[mid];
		int r = strcmp(kind, o->kind);

		if (!r)
			r = strcmp(name, o->name);
		if (!r)
			return s->v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void store_snap_free(struct store_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		bl_obj_free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int snap_lookup(void *arg, const char *kind, const char *name,
		struct bl_obj **out)
{
	const struct store_snap *s = arg;
	const struct bl_obj *o = store_find(s, kind, name);

	if (!o)
		return -ENOENT;
	*out = bl_obj_dup(o);
	return *out ? 0 : -ENOMEM;
}
