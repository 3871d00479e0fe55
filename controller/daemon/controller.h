/*
 * controller.h - bollardd's reconcile loop.
 *
 *   etcd watch ──▶ informer cache ──▶ on_change(key) ──▶ work queue
 *                                                          │ (dedup, backoff)
 *   periodic resync (every object again) ─────────────────▶│
 *                                                          ▼
 *                                   handle(work item) ─▶ reconcilers
 *
 * Work items are strings:
 *   "Target/<name>"      the target reconciler scoped to that Target's IQN
 *                        (one target's objects and one target's dump);
 *   "drbd"               the DRBD reconciler over every Volume (then the
 *                        Volume status from its observation);
 *   "drbd-status"        while a resync runs: Volume status from a look at
 *                        DRBD alone, no plan (volume_status.h);
 *   "pacemaker/<cluster>" the CIB of one cluster, only on its lease holder;
 *   "sweep"              the target reconciler over every target: removes
 *                        owned targets whose objects vanished while we were
 *                        not watching.
 * A watch event maps to the items it affects (a Volume change enqueues the
 * Targets that use it, a Secret the Targets that name it, a Cluster all of
 * its Targets). Handlers are level-triggered: each one reconciles the whole
 * scope from the cache and the live system, never from the event.
 *
 * Status goes to /bollard/v1/status/<Kind>/<name>/<node>, apart from the
 * spec: observedGeneration, conditions Ready / Progressing / Degraded with
 * reason and message, the last plan's summary and counts, the engine
 * operations this controller has performed, and the last events (at most
 * 10). It is written only when it changes.
 */
#ifndef BL_CONTROLLER_H
#define BL_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bl_etcd.h"

struct bl_ctl;

struct bl_ctl_opts {
	const char *etcd;           /* endpoints                              */
	const char *etcd_user, *etcd_password;
	/* TLS for https:// endpoints: CA (NULL: system roots), client
	 * certificate and key (NULL: none) */
	const char *etcd_ca, *etcd_cert, *etcd_key;
	const char *node;           /* this node's name in Cluster.spec.nodes */
	const char *state_dir;      /* relative file backings live here       */
	const char *target_socket;  /* NULL: default engine transport         */
	const char *drbd_dir;       /* NULL: /etc/drbd.d                      */
	unsigned resync_s;          /* 0: 60                                  */
	unsigned lease_ttl_s;       /* elections and heartbeats; 0: 5         */
	bool dry_run;               /* plan and print, change nothing         */
	FILE *log;                  /* NULL: stderr                           */
	const char *fault;          /* BOLLARD_FAULT value, or NULL           */
	const char *only;           /* run only this reconciler (NULL: all)   */
	size_t plan_window;         /* plans are applied this many actions at
	                             * a time (controller.c); 0: 1024         */
	const char *memlog;         /* BOLLARD_MEMLOG value, or NULL (memlog.h) */
};

/* How bollardd reaches etcd with these options; the same for every
 * connection it opens (its client, the lease keepalive threads, the
 * fleet role of --rollouts-only). */
struct bl_etcd_opts bl_ctl_etcd_opts(const struct bl_ctl_opts *o);

/* Connect, list and watch. Returns 0 or a negative code; *out on 0. */
int bl_ctl_new(const struct bl_ctl_opts *o, struct bl_ctl **out);
void bl_ctl_free(struct bl_ctl *c);

/*
 * Run the loop until *stop becomes true (checked at least every 250 ms) or,
 * with once, until the queue holds nothing ready (delayed retries are not
 * waited for). Returns 0, or with once 1 when something failed or did not
 * converge.
 */
int bl_ctl_run(struct bl_ctl *c, volatile int *stop, bool once);

/* Counters, for tests and --metrics. */
struct bl_ctl_stats {
	uint64_t reconciles;        /* work items handled                     */
	uint64_t actions_applied;   /* plan actions that succeeded            */
	uint64_t actions_failed;
	uint64_t engine_ops;        /* management operations on the engine    */
	uint64_t status_writes;
};
void bl_ctl_stats(const struct bl_ctl *c, struct bl_ctl_stats *s);

#endif
