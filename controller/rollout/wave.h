/*
 * wave.h - the rollout decision function: pure (no etcd, no clock, no
 * allocation), so every scenario is a table in tests/unit/test_rollout.c.
 *
 *   bl_ro_step(params, state, clusters[], observations, now) -> actions
 *
 * The caller (rollout.c) owns persistence: it loads the state from the
 * rollout's status in etcd, fills each cluster's observations (online,
 * ready, needs, healthy), calls bl_ro_step, writes the admissions the step
 * asks for, then the new state. Because the whole state lives in the status
 * key, a controller restarted (or a new leader) continues where the old one
 * stopped.
 *
 * Model. A rollout "revision" is the set of newest generations of the
 * objects it governs. When it changes, bl_ro_restart() puts every cluster
 * whose admitted set differs from it (needs) into the plan, in name order,
 * as Pending; the others are UpToDate and never take part. The plan is cut
 * into waves: the canary (strategy.canary clusters, 0 = none), then each
 * strategy.waves entry (an integer: that many more clusters; "N%": the
 * share of the plan done by the end of that wave, rounded up), then one
 * last wave with whatever is left. A wave starts only when every cluster of
 * the waves before it is Healthy.
 *
 * Within the current wave, Pending clusters are admitted in order while the
 * number of unavailable clusters stays below maxUnavailable (an integer, or
 * "N%" of the current wave's size rounded down, at least 1). Unavailable
 * means: Progressing (admitted, not yet Healthy), Failed, offline (a node
 * without heartbeat), or, for any other cluster, not healthy at what it has
 * admitted now. An offline cluster is never admitted; the wave waits.
 *
 * A Progressing cluster becomes Healthy once it has been ready (every
 * governed object Ready at the admitted generation on every node)
 * continuously for stableFor; it Fails when timeout passes since its
 * admission first. A failure ends the revision: halt (phase Halted,
 * nothing more admitted) or rollback (every cluster admitted in this
 * revision gets its previous admission back; phase RolledBack). Both are
 * final for the revision: only a new revision (a new generation of a
 * governed object, e.g. `bollard rollout undo`) starts again, at the
 * canary. paused stops admitting; clusters already admitted still finish.
 */
#ifndef BL_RO_WAVE_H
#define BL_RO_WAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_RO_MAX_WAVES   104   /* canary + 100 waves + the rest        */
#define BL_RO_NAME_LEN    64
#define BL_RO_REASON_LEN  200
#define BL_RO_SREASON_LEN 400   /* rollout-level: names a cluster and its reason */

enum bl_ro_cstate {
	BL_RO_UPTODATE = 0,     /* nothing to change in this revision     */
	BL_RO_PENDING,          /* in the plan, not admitted yet          */
	BL_RO_PROGRESSING,      /* admitted, health gate running          */
	BL_RO_HEALTHY,          /* passed the health gate                 */
	BL_RO_FAILED,           /* did not pass within the timeout        */
	BL_RO_ROLLEDBACK,       /* previous admission restored            */
};

enum bl_ro_phase {
	BL_RO_PROGRESS = 0,     /* admitting / waiting for health         */
	BL_RO_PAUSED,           /* spec.paused: no admission              */
	BL_RO_COMPLETE,         /* every planned cluster Healthy          */
	BL_RO_HALTED,           /* a cluster failed, onFailure: halt      */
	BL_RO_ROLLED_BACK,      /* a cluster failed, onFailure: rollback  */
};

enum bl_ro_action { BL_RO_NONE = 0, BL_RO_ADMIT, BL_RO_ROLLBACK };

/* A count or a percentage ("10%"). */
struct bl_ro_amount {
	int64_t value;
	bool pct;
};

struct bl_ro_params {
	int64_t canary;                     /* clusters; 0: no canary      */
	struct bl_ro_amount waves[BL_RO_MAX_WAVES];
	size_t nwaves;
	struct bl_ro_amount max_unavailable;
	int64_t stable_ms, timeout_ms;
	bool rollback;                      /* onFailure: rollback         */
	bool paused;
};

struct bl_ro_cluster {
	char name[BL_RO_NAME_LEN];
	/* state, kept across calls (persisted by the caller) */
	enum bl_ro_cstate state;
	bool in_plan;
	int64_t admitted_ms;                /* when admitted (0: never)    */
	int64_t ready_since_ms;             /* 0: not ready now            */
	int64_t transition_ms;              /* last state change           */
	char reason[BL_RO_REASON_LEN];
	/* observations, filled by the caller before each step */
	bool online;                        /* every node has a heartbeat  */
	bool ready;                         /* governed objects Ready at the
	                                     * admitted generations, all nodes */
	bool needs;                         /* admitted != newest          */
	/* output of the step */
	enum bl_ro_action action;
};

struct bl_ro_state {
	enum bl_ro_phase phase;
	size_t wave;                        /* current wave index          */
	size_t nwaves;                      /* waves of this plan          */
	size_t wave_end[BL_RO_MAX_WAVES];   /* cumulative plan positions   */
	char reason[BL_RO_SREASON_LEN];
};

/*
 * Start a new revision at now: clusters with needs go into the plan as
 * Pending (in array order: the caller sorts by name); a cluster still
 * Progressing whose admission already is the new revision (the change
 * landed in several writes) stays in the plan as Progressing, its gate
 * running; the others become UpToDate. The waves are cut (above); phase
 * Progress.
 */
void bl_ro_restart(const struct bl_ro_params *p, struct bl_ro_state *s,
		   struct bl_ro_cluster *c, size_t n, int64_t now_ms);

/* Recompute s->wave_end/nwaves from the plan in c[] (after loading a
 * persisted state, whose plan flags are kept). */
void bl_ro_cut_waves(const struct bl_ro_params *p, struct bl_ro_state *s,
		     const struct bl_ro_cluster *c, size_t n);

/*
 * One decision round at now_ms. Reads observations and state, updates the
 * state, and sets c[i].action (ADMIT: write the newest generations as this
 * cluster's admission; ROLLBACK: restore its previous admission). Returns
 * the number of actions set. Never admits a cluster twice in a revision.
 */
size_t bl_ro_step(const struct bl_ro_params *p, struct bl_ro_state *s,
		  struct bl_ro_cluster *c, size_t n, int64_t now_ms);

/* maxUnavailable for a wave of wave_size clusters (>= 1). */
int64_t bl_ro_max_unavailable(const struct bl_ro_params *p, size_t wave_size);
/* Number of clusters counted unavailable now (see above). */
size_t bl_ro_unavailable(const struct bl_ro_cluster *c, size_t n);

/* Names for status JSON and the CLI; the parsers return -1 if unknown. */
const char *bl_ro_cstate_name(enum bl_ro_cstate s);
const char *bl_ro_phase_name(enum bl_ro_phase p);
int bl_ro_cstate_parse(const char *s);
int bl_ro_phase_parse(const char *s);

#endif
