/*
 * hb_lease.h - the node's heartbeat lease, kept alive from a thread.
 *
 * bollardd binds two kinds of keys to one lease per node: the heartbeat
 * (/bollard/v1/nodes/<cluster>/<node>) and its Volume status
 * (volume_status.h). When the node dies, etcd deletes them one TTL later,
 * and the node shows as offline. The lease used to be renewed from the
 * controller's loop. A round that outlasted the TTL (a Pacemaker round
 * running crm_verify and cibadmin on a slow node, thousands of LUNs) then
 * let it lapse. etcd deleted the live node's status, and the cluster
 * leader's DRBD gate (pacemaker.c: every node must report its DRBD config)
 * found it missing. tests/ha saw one node's status key put and deleted 8
 * times in 5 minutes, and the CIB was never written. As for the election
 * leases (leader.h), a thread on a connection of its own now renews the
 * lease every TTL/3, whatever the loop is doing.
 *
 * The thread grants a new lease when etcd says the old one expired, or
 * when no keepalive succeeded for a whole TTL. The caller sees a new id
 * (and a new change count) and must put its keys again under it. A node
 * whose etcd is unreachable still loses its keys after one TTL; that is
 * what the lease is for.
 */
#ifndef BL_HB_LEASE_H
#define BL_HB_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct bl_etcd_opts;
struct bl_hb_lease;

/* Open a connection from o and start the thread, which grants the first
 * lease at once. Returns 0, a bl_etcd_open() error, -ENOMEM or -errno
 * from pthread_create. */
int bl_hb_lease_start(const struct bl_etcd_opts *o, int64_t ttl_s,
		      struct bl_hb_lease **out);
/* The current lease (0 while there is none). *changes, if not NULL,
 * counts the leases granted so far: a different count means the keys must
 * be put again, even if etcd reused an id. */
int64_t bl_hb_lease_get(struct bl_hb_lease *k, uint64_t *changes);
/* Stop the thread and free; with revoke, the lease is revoked first, so
 * the node's keys go at once (a clean shutdown). NULL is a no-op. */
void bl_hb_lease_stop(struct bl_hb_lease *k, bool revoke);

#endif
