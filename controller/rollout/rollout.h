/*
 * rollout.h - fleet-wide rollouts: the key layout, the pieces shared by
 * the fleet controller, bollardd and the CLI, and the fleet controller.
 * Design: docs/rollouts.md; the decision logic: wave.h.
 *
 * Keys (all JSON):
 *   /bollard/v1/history/<Kind>/<name>/<generation>
 *        copy of the stored object at that generation; the last
 *        BL_RO_HISTORY_KEEP generations of every governed object are kept
 *        (written by the fleet leader when it sees a generation).
 *   /bollard/v1/rollouts/<rollout>/admitted/<cluster>
 *        {"objects":{"Target/x":3,...},"previous":{...},"since":ms,
 *         "revision":"<hex>"}: what that cluster's controllers reconcile.
 *   /bollard/v1/rollouts/<rollout>/status
 *        the summary: phase, reason, revision, per wave counts (rollout.c);
 *   /bollard/v1/rollouts/<rollout>/clusters/<cluster>
 *        that cluster's state in the rollout, written when it changes
 *        (status_store.c says why the status is split).
 *   /bollard/v1/leader/-fleet-   the fleet role's election key.
 *
 * Governed objects: Targets and Volumes whose labels match
 * spec.objectSelector and whose spec.cluster is a Cluster matching
 * spec.clusterSelector. Their changes, creation and deletion are admitted
 * cluster by cluster (a Volume's admitted creation is never rolled back:
 * rollout.c, rollback_record). The Secrets a governed Target refers to are
 * governed with it, per cluster: a cluster's record names their
 * generations too ("Secret/x"), and every node of the cluster uses that
 * generation for all its Targets.
 */
#ifndef BL_ROLLOUT_H
#define BL_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "bl_schema.h"
#include "rollout/wave.h"

#define BL_RO_KEY_ROLLOUTS   "/bollard/v1/rollouts/"
#define BL_RO_KEY_HISTORY    "/bollard/v1/history/"
#define BL_RO_KEY_NODES      "/bollard/v1/nodes/"
#define BL_RO_KEY_STATUS     "/bollard/v1/status/"
#define BL_RO_FLEET_LEADER   "/bollard/v1/leader/-fleet-"
#define BL_RO_HISTORY_KEEP   10

struct bl_etcd;
struct bl_informer;

/* ---- shared helpers (common.c; no etcd) ----------------------------------*/

/* selector {"matchLabels":{k:v}} (NULL or empty: everything) vs labels. */
bool bl_ro_selector_match(const json_t *selector, const json_t *labels);
/* The kinds a rollout governs by its selectors: Target and Volume (both
 * have spec.cluster). Secrets are governed with the Targets using them. */
bool bl_ro_gated_kind(const char *kind);
/* Whether rollout ro governs obj (a Target or a Volume) given obj's
 * Cluster cl. */
bool bl_ro_governs(const struct bl_obj *ro, const struct bl_obj *cl,
		   const struct bl_obj *obj);
/*
 * Refuse overlapping rollouts: for every Target governed by two Rollouts
 * of rollouts[] (clusters[] to resolve spec.cluster), an error on the one
 * that comes later in rollouts[] at spec.objectSelector: "target/x is
 * already governed by rollout a". Meant for apply, with the stored objects
 * overlaid by the ones being applied (those listed last). Returns 0 or
 * BL_E_INVALID.
 */
int bl_ro_check_overlap(struct bl_obj *const *rollouts, size_t nro,
			struct bl_obj *const *clusters, size_t ncl,
			struct bl_obj *const *targets, size_t nt,
			struct bl_diag *d);
/* A Rollout's spec into wave parameters (defaults as in the schema).
 * Returns 0 or -EINVAL (a value the validator should have refused). */
int bl_ro_params_from_spec(const json_t *spec, struct bl_ro_params *p);
/*
 * The rollout's revision: a hash (16 hex digits into out) of the newest
 * generation of every object it governs, over clusters (sorted by name)
 * matching its clusterSelector and targets (sorted by name; may hold the
 * Secrets too: the generation of every Secret a governed Target refers to
 * is part of the revision). The fleet controller stores it in the status;
 * `bollard rollout status` compares it to know the status speaks of the
 * newest change.
 */
void bl_ro_revision(const struct bl_obj *ro, struct bl_obj *const *clusters,
		    size_t ncl, struct bl_obj *const *targets, size_t nt,
		    char out[17]);
/* Wall clock in ms since the epoch, and as RFC 3339 into buf. */
int64_t bl_ro_wall_ms(void);
void bl_ro_format_time(int64_t ms, char *buf, size_t len);

/* ---- the admitted view (effective.c) -------------------------------------*/

/* bl_rollout_effective: governed, but not admitted to its cluster yet. */
#define BL_RO_NOT_ADMITTED 1
/* bl_rollout_effective: its creation was admitted to its cluster, then
 * rolled back there: the cluster must not serve it (the record's
 * "absent"). Removing a Target export keeps its Volumes and their data. */
#define BL_RO_ABSENT       2

/*
 * What a cluster's controller reconciles for obj: the generation a rollout
 * admitted to obj's cluster, instead of the newest one.
 *   - obj governed by no Rollout (in inf), or its cluster has no admission
 *     record yet: *out = NULL, return 0 (use obj);
 *   - the record does not name obj (created, or relabelled into the
 *     rollout's scope, since the cluster's last admission): *out = NULL,
 *     return BL_RO_NOT_ADMITTED: the caller must leave it as it is live
 *     (not create it, not change it, not remove it);
 *   - the record's "absent" names obj (a rollback undid its admitted
 *     creation there): *out = NULL, return BL_RO_ABSENT: the caller
 *     removes it from the cluster's nodes (the export only);
 *   - admitted generation == obj's: *out = NULL, return 0;
 *   - else *out = a new object parsed from the history key (caller frees
 *     with bl_obj_free), resource_version copied from obj, return 0;
 *   - -ENOENT when the admitted generation is missing from the history
 *     (the caller must not fall back to the newest), or an etcd error.
 * Reads etcd (one or two gets); the rollouts come from inf's cache.
 */
int bl_rollout_effective(struct bl_etcd *e, const struct bl_informer *inf,
			 const struct bl_obj *obj, struct bl_obj **out);
/*
 * The same, with the admission records read at most once per (rollout,
 * cluster) for the life of cache (a JSON object the caller owns, empty at
 * first): a target reconcile that loads 10,000 governed Volumes one at a
 * time reads its cluster's record once, not 10,000 times. The caller
 * drops the cache when the reconcile ends, so a rollback is still seen by
 * the next one. cache NULL: bl_rollout_effective.
 */
int bl_rollout_effective_cached(struct bl_etcd *e, const struct bl_informer *inf,
				const struct bl_obj *obj, json_t *cache,
				struct bl_obj **out);

/*
 * The same over a borrowed list (bollardd's node-wide reconciles on node):
 * every governed entry of list is replaced by its admitted copy, an
 * BL_RO_ABSENT entry is dropped, and the kept copy of every object deleted
 * from the store that an admission record of node's clusters still names
 * (deletion not admitted yet, or rolled back) is appended, so the
 * reconcile keeps or brings it back. Copies are pushed to owned too (the
 * caller frees owned with bl_objlist_free, list's array as before). node
 * NULL: no appending. Returns 0, BL_RO_NOT_ADMITTED when some entry is not
 * admitted yet (the caller must not reconcile the list: a node-wide
 * reconcile would create it, or remove it if live), or the first error
 * (list then partly replaced; the caller must not reconcile it; -ENOENT: a
 * kept copy is missing from the history).
 */
int bl_rollout_effective_list(struct bl_etcd *e, const struct bl_informer *inf,
			      const char *node, struct bl_objlist *list,
			      struct bl_objlist *owned);

/*
 * Secrets: every Secret entry of list that an admission record of one of
 * node's clusters names ("Secret/x": the Secrets of governed Targets) is
 * replaced by its kept copy at that generation (pushed to owned), for
 * every Target of node alike: a node does not use two generations of one
 * Secret. *refs (may be NULL) gets {"Secret/x": gen} for those entries,
 * NULL when none: bollardd writes it as the Target status's observedRefs,
 * the health signal of a Secret change (the fleet controller waits for the
 * admitted generation there). Returns 0, -ENOENT when a generation is
 * missing from the history (the caller must not reconcile), or an etcd
 * error. No etcd read when list holds no Secret.
 */
int bl_rollout_effective_secrets(struct bl_etcd *e, const struct bl_informer *inf,
				 const char *node, struct bl_objlist *list,
				 struct bl_objlist *owned, json_t **refs);

/*
 * A deleted object that an admission record of a cluster of node still
 * names (its deletion not admitted there yet, or a rollback gave it back):
 * returns 1 with *out its kept copy at the recorded generation (caller
 * frees), 0 when no record names it (*out NULL), -ENOENT when the history
 * lacks that generation, or an etcd error. One get per (Rollout, Cluster
 * of node): nothing at all without Rollouts.
 */
int bl_rollout_recorded(struct bl_etcd *e, const struct bl_informer *inf,
			const char *node, const char *kind, const char *name,
			struct bl_obj **out);


/*
 * Watch admission records (admit_watch.c) so bollardd reconciles a
 * cluster's governed Targets as soon as an admission changes, not at the
 * next periodic resync. cb(arg, cluster) runs from bl_etcd_dispatch() for
 * every put or delete of /bollard/v1/rollouts/<ro>/admitted/<cluster>, and
 * with cluster NULL ("every cluster") after a compaction made the watch
 * resume impossible. Returns NULL on -ENOMEM or when etcd refuses the
 * watch (then only the periodic resync picks admissions up).
 */
struct bl_ro_admit_watch;
struct bl_ro_admit_watch *bl_ro_admit_watch_new(struct bl_etcd *e,
		void (*cb)(void *arg, const char *cluster), void *arg);
void bl_ro_admit_watch_free(struct bl_ro_admit_watch *w);

/* ---- the status keys (status_store.c) -------------------------------------*/

/*
 * Read rollout ro's status: *out the summary, with "clusters" (the array
 * of per-cluster entries, sorted by name) when clusters is true, NULL when
 * there is no status; *mod_revision (may be NULL) the summary's. An older
 * single-key status comes with its own array and "legacy": true (in
 * memory only: bl_ro_status_write then writes every entry). Returns 0 or
 * an etcd error.
 */
int bl_ro_status_read(struct bl_etcd *e, const char *ro, bool clusters,
		      json_t **out, int64_t *mod_revision);
/*
 * Write nst (summary fields plus "clusters") over old (what
 * bl_ro_status_read returned, or NULL): the entries that changed or are
 * new, deletes of the ones gone, then the summary, in transactions of at
 * most 100 operations. Nothing when nothing changed. Returns 1 written
 * (*mod_revision: the summary's new one), 0 unchanged, or an etcd error.
 */
int bl_ro_status_write(struct bl_etcd *e, const char *ro, const json_t *old,
		       const json_t *nst, int64_t *mod_revision);

/* ---- the fleet controller (rollout.c) ------------------------------------*/

struct bl_fleet;

struct bl_fleet_opts {
	struct bl_etcd *etcd;            /* borrowed                        */
	const struct bl_informer *inf;   /* borrowed: the objects cache     */
	const char *id;                  /* candidate identity (node name)  */
	unsigned lease_ttl_s;            /* election lease; 0: 5            */
	unsigned period_ms;              /* rounds; 0: 250                  */
	FILE *log;                       /* NULL: stderr                    */
	/* Where the election lease's keepalive thread connects (leader.h,
	 * bl_leader_start_keepalive): a round longer than the TTL (a slow
	 * node, a big fleet) then does not cost the role. NULL: the lease is
	 * renewed from bl_fleet_tick only. Read by bl_fleet_new only. */
	const struct bl_etcd_opts *keepalive;
};

int  bl_fleet_new(const struct bl_fleet_opts *o, struct bl_fleet **out);
/* Resigns the fleet role. NULL ignored. */
void bl_fleet_free(struct bl_fleet *f);
/*
 * Call often from the owner's loop (monotonic now_ms): runs the election
 * and, while leading and at most every period_ms, one round: history,
 * then every Rollout (observe, bl_ro_step, write admissions, then status).
 * Returns 1 when leading, 0 when not, or a negative etcd error.
 */
int  bl_fleet_tick(struct bl_fleet *f, uint64_t now_ms);

/*
 * `bollardd --rollouts-only`: connect, watch objects, run only the fleet
 * role until *stop. Returns 0, or a negative code when etcd cannot be
 * opened or listed.
 */
struct bl_etcd_opts;
int bl_fleet_run(const struct bl_etcd_opts *eo, const char *id,
		 unsigned lease_ttl_s, volatile int *stop, FILE *log);

#endif
