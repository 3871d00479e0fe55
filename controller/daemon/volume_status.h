/*
 * volume_status.h - bollardd's per-node Volume status: the DRBD
 * replication state of every replicated Volume whose Cluster has this
 * node, at /bollard/v1/status/Volume/<name>/<node>.
 *
 * What is written: the Target status conventions (node,
 * observedGeneration, observedResourceVersion, conditions Ready /
 * Progressing / Degraded) plus a "drbd" object with the live role, disk
 * state, connection, replication and peer disk state and, while a resync
 * runs, syncPercent (a whole percent: drbd_int.h), and "configured": this
 * node's DRBD config of the Volume is rendered and its metadata exists
 * (drbd_plan_configured; the Pacemaker reconciler waits for it on every
 * node before adding the Volume's clone). A Volume without a live
 * resource here shows diskState "Unconfigured". Written only when it
 * changed.
 *
 * Why the keys are bound to the node's heartbeat lease: a node that dies
 * cannot say so, and its last status (say Primary/UpToDate) would be shown
 * until its bollardd came back and wrote again. Bound to the lease of the
 * node's heartbeat (/bollard/v1/nodes/<cluster>/<node>), the status goes
 * with the heartbeat, one lease TTL after the node stopped renewing it, and
 * `bollard get volume` shows such a node as offline. When the controller
 * gets a new lease (the old one lapsed: etcd was unreachable, or the loop
 * stalled past the TTL) every status it wrote is put again under the new
 * one, since etcd deleted the old keys with the old lease. A one-shot run
 * (--once) has no heartbeat: it writes without a lease.
 */
#ifndef BL_VOLUME_STATUS_H
#define BL_VOLUME_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct bl_etcd;
struct bl_informer;
struct bl_obj;
struct bl_rec_ctx;
struct bl_plan;
struct drbd_live;

struct bl_vstatus;

struct bl_vstatus_opts {
	struct bl_etcd *etcd;
	struct bl_informer *inf;
	const char *node;
	FILE *log;
	bool dry_run;               /* write nothing                          */
	/*
	 * Rollouts (bl_rollout_effective's contract, controller/rollout/
	 * rollout.h; NULL: every Volume at its newest generation). A Volume
	 * a Rollout governs is reconciled by the DRBD round at the
	 * generation admitted to its cluster, so its status reports that
	 * generation as observedGeneration (what the rollout's health gate
	 * waits for). Returns 0 with *out NULL (the newest is admitted) or
	 * the admitted copy (freed here), 1 (BL_RO_NOT_ADMITTED: its
	 * creation waits for its admission: Ready False, reason
	 * AwaitingAdmission, observedGeneration 0), or <0 (the status is
	 * left as it was). A function pointer, not a call, so `bollard plan`
	 * (which links this file) does not link the rollout library.
	 */
	int (*admitted)(struct bl_etcd *e, const struct bl_informer *inf,
			const struct bl_obj *vol, struct bl_obj **out);
};

int bl_vstatus_new(const struct bl_vstatus_opts *o, struct bl_vstatus **out);
void bl_vstatus_free(struct bl_vstatus *v);

/*
 * The lease status keys are put with. required: without a lease nothing is
 * written (a daemon: a status that never expires would outlive the node);
 * not required (--once): lease 0 writes keys without one. A new lease puts
 * every status again under it.
 */
void bl_vstatus_set_lease(struct bl_vstatus *v, int64_t lease, bool required);

/*
 * Write the status of every replicated Volume of this node from live (the
 * DRBD live state, n entries; live NULL with n 0: nothing is up), and
 * remove this node's status of Volumes no longer replicated here. plan:
 * the DRBD round's plan, for drbd.configured (drbd_plan_configured); NULL
 * (a poll, or a round whose observe failed): as last known.
 */
void bl_vstatus_write(struct bl_vstatus *v, const struct drbd_live *live,
		      size_t n, const struct bl_plan *plan);

/* Only remove this node's status of Volumes no longer replicated here. */
void bl_vstatus_prune(struct bl_vstatus *v);

/*
 * Look at DRBD (drbd_live_observe through ctx: cheap, no plan) and write
 * what changed. Returns 0 or the observe's error (message logged).
 */
int bl_vstatus_refresh(struct bl_vstatus *v, struct bl_rec_ctx *ctx);

/* A resync ran at the last write: the caller polls (bl_vstatus_refresh). */
bool bl_vstatus_syncing(const struct bl_vstatus *v);

/*
 * The status node reported for kind/name, as a new string; -ENOENT when
 * there is none. etcd is a struct bl_etcd: the shape of ctx->peer_status
 * (reconciler.h), which bollardd and `bollard plan` point here.
 */
int bl_status_read(void *etcd, const char *kind, const char *name,
		   const char *node, char **json);

struct bl_vstatus_stats {
	uint64_t writes;            /* puts and deletes that succeeded        */
	uint64_t refreshes;         /* bl_vstatus_refresh calls               */
};
void bl_vstatus_stats(const struct bl_vstatus *v, struct bl_vstatus_stats *s);

#endif
