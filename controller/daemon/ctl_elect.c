/*
 * ctl_elect.c - bollardd's heartbeats and elections: the node key under
 * /bollard/v1/nodes/<cluster>/<node> bound to the heartbeat lease, and one
 * leader election (leader.h) per Pacemaker cluster the node is in, whose
 * holder alone reconciles that cluster's CIB. Split from controller.c,
 * whose tick() calls ctl_heartbeat (ctl_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "daemon/ctl_int.h"
#include "daemon/hb_lease.h"
#include "daemon/informer.h"
#include "daemon/leader.h"
#include "daemon/volume_status.h"

/* ---- elections and heartbeats -------------------------------------------------*/

struct clscan {
	struct bl_ctl *c;
	uint64_t now;
	bool hb_due;                /* put the heartbeat keys this tick       */
};

static void heartbeat_and_elect(void *arg, const struct bl_obj *cl)
{
	struct clscan *s = arg;
	struct bl_ctl *c = s->c;
	const char *ha = json_string_value(json_object_get(cl->spec, "ha"));
	char key[400];
	size_t i;

	if (!bl_cluster_has_node(cl, c->o.node))
		return;
	/* The key lives as long as its lease: putting it again each tick
	 * (every 250 ms) only cost etcd writes. Put once per lease period
	 * third, which also restores it under a new lease. */
	if (c->hb_lease && s->hb_due) {
		char val[256];
		snprintf(key, sizeof(key), "/bollard/v1/nodes/%s/%s", cl->name, c->o.node);
		snprintf(val, sizeof(val), "{\"node\":\"%s\",\"version\":\"%s\"}",
			 c->o.node, "v1");
		bl_etcd_put(c->etcd, key, val, strlen(val), c->hb_lease, NULL);
	}
	if (!ha || strcmp(ha, "pacemaker"))
		return;
	for (i = 0; i < c->nleaders; i++)
		if (!strcmp(c->leader_cluster[i], cl->name))
			break;
	if (i == c->nleaders) {
		void *l = realloc(c->leaders, (c->nleaders + 1) * sizeof(*c->leaders));
		void *n = l ? realloc(c->leader_cluster, (c->nleaders + 1) * sizeof(char *)) : NULL;
		if (l)
			c->leaders = l;
		if (!n)
			return;
		c->leader_cluster = n;
		snprintf(key, sizeof(key), "/bollard/v1/leader/%s", cl->name);
		c->leaders[i] = bl_leader_new(c->etcd, key, c->o.node, c->o.lease_ttl_s);
		c->leader_cluster[i] = strdup(cl->name);
		if (!c->leaders[i] || !c->leader_cluster[i])
			return;
		/* The lease is kept alive from a thread of its own, so a
		 * reconcile longer than the TTL (a slow node, 10,000 LUNs)
		 * does not cost the leadership; without the thread the
		 * election still works, driven by the loop's ticks. */
		struct bl_etcd_opts eo = bl_ctl_etcd_opts(&c->o);

		if (bl_leader_start_keepalive(c->leaders[i], &eo) < 0)
			fprintf(c->log, "bollardd: cluster %s: no keepalive thread; "
				"the lease is renewed from the loop only\n", cl->name);
		c->nleaders++;
	}
	bool was = bl_leader_is_leader(c->leaders[i]);
	bl_leader_tick(c->leaders[i], s->now);
	if (!was && bl_leader_is_leader(c->leaders[i])) {
		ctl_logf(c, "leader of cluster %s", cl->name);
		ctl_enqueue_pacemaker(c, cl->name);
	} else if (was && !bl_leader_is_leader(c->leaders[i])) {
		ctl_logf(c, "lost leadership of cluster %s", cl->name);
	}
}

/*
 * Every tick: the node's heartbeat lease (from hb_lease.h's thread, or
 * renewed here when it could not start), then per Cluster this node is in
 * its heartbeat key and, for ha: pacemaker, its election.
 */
void ctl_heartbeat(struct bl_ctl *c, uint64_t now)
{
	struct clscan s = { c, now, now >= c->next_hb_ms };
	int64_t ttl;

	if (c->hbk) {
		/* The thread renews it; a new lease means every key bound to
		 * the old one is gone: put them again now. */
		uint64_t ch;

		c->hb_lease = bl_hb_lease_get(c->hbk, &ch);
		if (ch != c->hb_changes) {
			c->hb_changes = ch;
			s.hb_due = true;
		}
		if (s.hb_due) {
			bl_vstatus_set_lease(c->vs, c->hb_lease, true);
			c->next_hb_ms = now + c->o.lease_ttl_s * 1000 / 3;
		}
	} else if (s.hb_due) {
		/* No thread (it could not start): renewed from the loop. */
		if (c->hb_lease && (bl_etcd_lease_keepalive(c->etcd, c->hb_lease, &ttl) < 0 ||
				    ttl <= 0))
			c->hb_lease = 0;
		if (!c->hb_lease)
			bl_etcd_lease_grant(c->etcd, c->o.lease_ttl_s, &c->hb_lease);
		/* Volume status lives with the heartbeat (volume_status.h). */
		bl_vstatus_set_lease(c->vs, c->hb_lease, true);
		c->next_hb_ms = now + c->o.lease_ttl_s * 1000 / 3;
	}
	bl_informer_foreach(c->inf, "Cluster", heartbeat_and_elect, &s);
}

bool ctl_is_leader_of(struct bl_ctl *c, const char *cluster)
{
	size_t i;
	for (i = 0; i < c->nleaders; i++)
		if (!strcmp(c->leader_cluster[i], cluster))
			return bl_leader_valid(c->leaders[i], bl_now_ms());
	return false;
}
