/* admit_watch.c - admission record changes for bollardd (rollout.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "rollout/rollout.h"

struct bl_ro_admit_watch {
	struct bl_etcd *e;
	struct bl_watch *w;
	void (*cb)(void *arg, const char *cluster);
	void *arg;
};

static void on_events(void *arg, const struct bl_watch_event *ev, size_t n,
		      int64_t revision, int err)
{
	struct bl_ro_admit_watch *w = arg;
	(void)revision;
	if (err)
		return;     /* ended for good: the periodic resync remains */
	for (size_t i = 0; i < n; i++) {
		const char *k = ev[i].kv.key, *a = strstr(k, "/admitted/");
		if (a && a[10] && !strchr(a + 10, '/'))
			w->cb(w->arg, a + 10);
	}
}

/* After a compaction: every cluster may have changed meanwhile. */
static int64_t on_resync(void *arg)
{
	struct bl_ro_admit_watch *w = arg;
	struct bl_kvs kvs = { 0 };
	int64_t rev;

	if (bl_etcd_get(w->e, BL_RO_KEY_ROLLOUTS, true, 1, 0, true, &kvs) < 0)
		return -1;
	rev = kvs.revision;
	bl_kvs_free(&kvs);
	w->cb(w->arg, NULL);
	return rev;
}

struct bl_ro_admit_watch *bl_ro_admit_watch_new(struct bl_etcd *e,
		void (*cb)(void *arg, const char *cluster), void *arg)
{
	struct bl_ro_admit_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->e = e;
	w->cb = cb;
	w->arg = arg;
	if (bl_etcd_watch(e, BL_RO_KEY_ROLLOUTS, true, 0, on_events, on_resync,
			  w, &w->w) < 0) {
		free(w);
		return NULL;
	}
	return w;
}

void bl_ro_admit_watch_free(struct bl_ro_admit_watch *w)
{
	if (!w)
		return;
	bl_etcd_watch_cancel(w->w);
	free(w);
}
