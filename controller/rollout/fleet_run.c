/*
 * fleet_run.c - `bollardd --rollouts-only`: the fleet role alone, with its
 * own etcd handle and object cache (no reconcilers, no node heartbeat).
 */
#include <errno.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_time.h"
#include "daemon/informer.h"
#include "rollout/rollout.h"

static void ignore_change(void *arg, const char *key, const char *kind,
			  const char *name)
{
	(void)arg; (void)key; (void)kind; (void)name;
}

static void log_error(void *arg, const char *key, const char *msg)
{
	fprintf(arg, "fleet: watch: %s: %s\n", key, msg);
}

int bl_fleet_run(const struct bl_etcd_opts *eo, const char *id,
		 unsigned lease_ttl_s, volatile int *stop, FILE *log)
{
	static const struct bl_informer_ops ops = { ignore_change, log_error };
	struct bl_fleet_opts fo = { 0 };
	struct bl_etcd *e = NULL;
	struct bl_informer *inf = NULL;
	struct bl_fleet *f = NULL;
	int rc;

	log = log ? log : stderr;
	inf = bl_informer_new(&ops, log);
	if (!inf)
		return -ENOMEM;
	rc = bl_etcd_open(eo, &e);
	if (rc < 0)
		goto out_inf;
	rc = bl_informer_start(inf, e);
	if (rc < 0) {
		fprintf(log, "fleet: etcd %s: %s: %s\n", eo->endpoints, bl_strerror(rc),
			bl_etcd_errmsg(e));
		goto out_etcd;
	}
	fo.etcd = e;
	fo.inf = inf;
	fo.id = id;
	fo.lease_ttl_s = lease_ttl_s;
	fo.log = log;
	fo.keepalive = eo;
	rc = bl_fleet_new(&fo, &f);
	if (rc < 0)
		goto out_etcd;
	fprintf(log, "fleet: rollouts-only controller %s watching %s\n", id, eo->endpoints);
	fflush(log);
	while (!*stop) {
		bl_etcd_dispatch(e, 0);
		bl_fleet_tick(f, bl_now_ms());
		bl_etcd_dispatch(e, 100);
	}
	bl_fleet_free(f);
	rc = 0;
out_etcd:
	bl_informer_free(inf);
	inf = NULL;
	bl_etcd_close(e);
out_inf:
	bl_informer_free(inf);
	return rc;
}
