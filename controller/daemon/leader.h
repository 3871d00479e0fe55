/*
 * leader.h - lease-based leader election on etcd, one key per role:
 * /bollard/v1/leader/<cluster> (the CIB writer of a cluster) and
 * /bollard/v1/leader/-fleet- (the rollout controller).
 *
 * A candidate holds a lease (TTL ttl_s) and tries to create the key bound
 * to it with a transaction "create_revision == 0" (absent). Whoever created
 * it leads until its lease is gone. The leader refreshes the lease every
 * ttl/3; the moment etcd reports the lease expired, or the key is no
 * longer ours, leadership is lost at once, and the caller must stop
 * leader-only work. A keepalive or check that gets no answer (timeout,
 * connection error) does not end it by itself: it is retried every 0.5 s,
 * and the time bound below ends it if no keepalive succeeds in time (on a
 * loaded host single calls time out now and then, and dropping the
 * leadership on each made it flap). A follower re-tries on every tick, so
 * it takes over within one tick of the old lease expiring.
 *
 * Leadership is also bounded in time: it is valid only until the lease's
 * expiry as of the last successful grant or keepalive (measured from before
 * the request was sent), minus a margin. A leader whose loop stalls (a slow
 * reconcile) thus stops counting itself leader before etcd can hand the
 * lease to someone else, even without a tick: check bl_leader_valid() with
 * the current time right before doing leader-only work.
 *
 * Driven by bl_leader_tick() from the controller's loop. Optionally
 * (bl_leader_start_keepalive) a thread of its own, on an etcd connection
 * of its own, keeps the lease of a leader alive every ttl/3 whatever the
 * loop is doing: a reconcile that runs longer than the TTL then no longer
 * costs the leadership. The thread's confirmed keepalives move the
 * validity bound, so bl_leader_valid() still refuses leader work once
 * keepalives stop succeeding, and an expired lease ends the leadership
 * at once, as in the tick. Whether the key is still ours is
 * still checked by the tick (an operator deleting it is noticed on the
 * next tick).
 *
 * Times (now_ms) are CLOCK_MONOTONIC milliseconds: the thread measures
 * with that clock.
 */
#ifndef BL_LEADER_H
#define BL_LEADER_H

#include <stdbool.h>
#include <stdint.h>

struct bl_etcd;
struct bl_leader;

/* key: full etcd key; id: this candidate's identity (node name). */
struct bl_leader *bl_leader_new(struct bl_etcd *e, const char *key,
				const char *id, int64_t ttl_s);
/*
 * Start the keepalive thread, with its own connection opened from o
 * (endpoints and credentials as for the caller's). Call once, from the
 * thread that ticks; idempotent. Returns 0, a bl_etcd_open() error, or
 * -errno from pthread_create (the election then works as without it).
 */
struct bl_etcd_opts;
int bl_leader_start_keepalive(struct bl_leader *l,
			      const struct bl_etcd_opts *o);
/* Stop the thread if any, resign (revoke the lease if we hold one) and
 * free. */
void bl_leader_free(struct bl_leader *l);

/*
 * Run the election: refresh or campaign as due at now_ms. Returns 1 if we
 * lead after the tick, 0 if not, or a negative bl_etcd error (we then do
 * not lead).
 */
int bl_leader_tick(struct bl_leader *l, uint64_t now_ms);
bool bl_leader_is_leader(const struct bl_leader *l);
/* Leader, and the lease cannot have expired yet at now_ms. */
bool bl_leader_valid(const struct bl_leader *l, uint64_t now_ms);
/* Current holder's id as last seen ("" if none); borrowed. */
const char *bl_leader_holder(const struct bl_leader *l);

#endif
