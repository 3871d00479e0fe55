/*
 * ctl_int.h - what controller.c and the files split from it share: the
 * controller's state (struct bl_ctl) and the few helpers all of them call.
 * Internal to controller/daemon; controller.h is the interface.
 *
 *   controller.c   the loop, the event mapping, reconciling, the lifetime;
 *   ctl_status.c   the work items' memory and the status they write, and
 *                  the Volume status after a DRBD round (volume_status.h);
 *   ctl_elect.c    the heartbeat keys and the per-cluster elections.
 */
#ifndef BL_CTL_INT_H
#define BL_CTL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "bl_time.h"
#include "daemon/controller.h"
#include "daemon/target_exec.h"

struct bl_apply_result;
struct bl_obj;
struct bl_plan;
struct bl_rec_ctx;

#define MAX_EVENTS 10

struct ev {
	char time[32];
	char type[8];               /* Normal | Warning                       */
	char reason[32];
	char msg[256];
};

/* Per work item memory: remembered IQN, last status written, events. */
struct item {
	char *key;
	char *iqn;                  /* Target items: last IQN seen            */
	char *last_status;          /* last status JSON written (no times)    */
	struct ev events[MAX_EVENTS];
	unsigned nevents;
	char ready_since[32];
};

struct bl_ctl {
	struct bl_ctl_opts o;
	FILE *log;
	struct bl_etcd *etcd;
	struct bl_informer *inf;
	struct bl_wq *wq;
	struct bl_target_runner runner;
	struct bl_executor *ex;
	struct item *items;
	size_t nitems, capitems;
	struct bl_leader **leaders; /* one per pacemaker cluster we are in   */
	char **leader_cluster;
	size_t nleaders;
	int64_t hb_lease;
	struct bl_hb_lease *hbk;    /* keeps hb_lease alive (hb_lease.h)      */
	uint64_t hb_changes;        /* hbk's lease count seen so far          */
	uint64_t next_resync_ms, next_hb_ms;
	struct bl_ctl_stats st;
	bool failed_once;           /* for --once                             */
	char **pending_refs;        /* "Kind/name" of changed Volumes, Secrets
	                             * and Clusters whose referring Targets
	                             * the next "refscan" item enqueues       */
	size_t npending, cappending;
	const char *guard_cluster;  /* leader-only work: re-check the lease of
	                             * this cluster right before applying    */
	struct bl_fleet *fleet;     /* the fleet rollout role (candidate)     */
	struct bl_ro_admit_watch *admit_watch; /* rollout admissions         */
	json_t *obs_refs;           /* handle_target -> its status: the Secret
	                             * generations a rollout admitted and this
	                             * reconcile used ({"Secret/x": gen})    */
	struct bl_vstatus *vs;      /* Volume status (volume_status.h)        */
	uint64_t next_sync_poll_ms; /* while a resync runs: next DRBD look    */
	struct drbd_live *drbd_live;/* what the DRBD reconciler's observe saw */
	size_t ndrbd_live;          /* in this round (ctx->report)            */
	bool drbd_reported;
	bool drbd_status_done;      /* this round's Volume status written     */
	int load_err;               /* load_obj: an admitted Volume could not
	                             * be had: the round must not apply      */
	bool memlog, memlog_reset;  /* BOLLARD_MEMLOG (memlog.h)              */
	size_t plan_window;         /* actions per window (run_one)           */
	json_t *load_recs;          /* load_obj's admission records, for one
	                             * desired() (run_one)                   */
};

/* controller.c */
void ctl_logf(struct bl_ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_enqueue(struct bl_ctl *c, const char *key);
void ctl_enqueue_pacemaker(struct bl_ctl *c, const char *cluster);
void ctl_pending_ref_add(struct bl_ctl *c, const char *kind, const char *name);
void ctl_rec_ctx(struct bl_ctl *c, struct bl_rec_ctx *ctx);

/* ctl_status.c */
void ctl_utc_now(char *buf, size_t len);
struct item *ctl_item_get(struct bl_ctl *c, const char *key);
void ctl_add_event(struct item *it, const char *type, const char *reason,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ctl_write_status(struct bl_ctl *c, struct item *it, const char *kind,
		      const char *name, const struct bl_obj *obj,
		      const struct bl_plan *plan, const struct bl_apply_result *res,
		      int rc, const char *err);
void ctl_write_status_hold(struct bl_ctl *c, struct item *it, const char *kind,
			   const char *name, const struct bl_obj *obj,
			   const struct bl_plan *plan, const struct bl_apply_result *res,
			   int rc, const char *err, const char *hold);
void ctl_drbd_live_forget(struct bl_ctl *c);
void ctl_on_report(void *arg, const char *what, const void *data, size_t n);
int ctl_peer_status(void *arg, const char *kind, const char *name,
		    const char *node, char **json);
void ctl_after_round(struct bl_ctl *c, const char *key, const char *recname,
		     const struct bl_plan *plan, int rc);
void ctl_volume_status_poll(struct bl_ctl *c);
void ctl_volume_status_tick(struct bl_ctl *c, uint64_t now);

/* ctl_elect.c */
void ctl_heartbeat(struct bl_ctl *c, uint64_t now);
bool ctl_is_leader_of(struct bl_ctl *c, const char *cluster);

#endif
