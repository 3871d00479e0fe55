/*
 * bt_iscsi.h - what the iSCSI layer (iscsi_*.c) offers the rest of the
 * engine: lifecycle hooks called by engine.c, and session listing for the
 * management dump.
 */
#ifndef BT_ISCSI_H
#define BT_ISCSI_H

#include "bt_engine.h"

/* Called by bt_engine_new / bt_engine_free. */
int  bt_iscsi_engine_init(struct bt_engine *e);
void bt_iscsi_engine_fini(struct bt_engine *e);

/*
 * Called by engine.c when a target is disabled or force-deleted: every
 * session of t is dropped (connections closed through ops->conn_close) and
 * no pointer to t is kept afterwards. Also frees *bt_target_iscsi_slot(t).
 */
void bt_iscsi_target_gone(struct bt_target *t);

/* Number of sessions logged in to t (normal sessions only). */
unsigned bt_iscsi_target_nsessions(const struct bt_target *t);

struct bt_session_info {
	const char *initiator;        /* IQN                                   */
	u8  isid[6];
	u16 tsih;
	u64 id;                       /* same as the nexus id                  */
	unsigned nconns;
	const char *peer;             /* first connection's "ip:port"          */
	const char *local;
	u64 cmds;                     /* SCSI commands received                */
};

/* Call cb for every session of t. */
void bt_iscsi_sessions(struct bt_target *t,
		       void (*cb)(void *arg, const struct bt_session_info *si),
		       void *arg);

/*
 * Additions (iSCSI layer owner). engine.c calls these from the public entry
 * points of the same name in bt_engine.h:
 *
 * bt_iscsi_tick: from bt_engine_tick. Sends NOP-In pings on full feature
 * connections idle for BT_TA_NOP_INTERVAL_MS, drops a connection whose ping
 * went unanswered (no PDU at all) for BT_TA_NOP_TIMEOUT_MS, and drops logins
 * that have not completed in 15 s.
 *
 * bt_iscsi_shutdown: from bt_engine_shutdown. Sends an Async Message (event
 * 1, logout requested, 3 s) on every full feature normal-session connection,
 * closes discovery and half-logged-in connections, and refuses new logins.
 */
void bt_iscsi_tick(struct bt_engine *e, u64 now_ms);
void bt_iscsi_shutdown(struct bt_engine *e);

/* Connections the host still has open (host_conn not yet closed). For a
 * host waiting out a shutdown. */
unsigned bt_iscsi_nconns(struct bt_engine *e);

#endif
