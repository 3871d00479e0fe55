/*
 * scsi_alua.c - asymmetric logical unit access (SPC-4 5.16): the access
 * check by target port state, REPORT TARGET PORT GROUPS, the values the
 * INQUIRY data carries, and the state-change unit attention. The model and
 * why it is implicit-only: scsi_alua.h.
 *
 * Where the state lives. The four ALUA values are target attributes
 * (engine.c), so the management API, the dump and `bollard target set`
 * handle them like any other attribute and both hosts share them. The
 * state is per target, not per LU: a node serves all of a target's LUNs
 * from the same DRBD role, and the target is what the cluster manager
 * moves. Every LU of the target therefore reports the same groups.
 *
 * Which commands run in which state (SPC-4 5.16.2.4): a port in standby
 * or unavailable must still answer the commands that let a multipath
 * driver find out what is going on (INQUIRY with VPD 83h, REPORT LUNS,
 * REPORT TARGET PORT GROUPS, REQUEST SENSE) and, in standby, persistent
 * reservations, so a cluster can register keys on every path. Anything
 * that touches the medium, TEST UNIT READY included, gets NOT READY with
 * the state in the ASC/ASCQ: path checkers (dm-multipath's "tur") read
 * exactly that to mark a path as a ghost rather than as failed.
 */
#include "scsi_int.h"
#include "scsi_alua.h"
#include "bt_mgmt.h"

/* LOGICAL UNIT NOT ACCESSIBLE, ... (SPC-4 table D.1) */
#define ASC_ALUA_TRANSITION   0x040a
#define ASC_ALUA_STANDBY      0x040b
#define ASC_ALUA_UNAVAILABLE  0x040c

/* RTPG descriptor byte 1: the states this port group can be in. */
#define RTPG_SUP_T   0x80             /* transitioning                     */
#define RTPG_SUP_U   0x08             /* unavailable                       */
#define RTPG_SUP_S   0x04             /* standby                           */
#define RTPG_SUP_AN  0x02             /* active/non-optimized              */
#define RTPG_SUP_AO  0x01             /* active/optimized                  */
#define RTPG_SUPPORTED (RTPG_SUP_T | RTPG_SUP_U | RTPG_SUP_S | RTPG_SUP_AN | \
			RTPG_SUP_AO)

u8 scsi_alua_tpgs(void)
{
	return 0x10;                  /* TPGS 01b: implicit ALUA only      */
}

u16 scsi_alua_group(const struct bt_target *tgt)
{
	return tgt ? (u16)bt_target_attr(tgt, BT_TA_ALUA_GROUP) : 1;
}

u16 scsi_alua_rel_port(const struct bt_target *tgt)
{
	/* one target port per node: its id is the node's group id */
	return scsi_alua_group(tgt);
}

bool scsi_alua_not_ready(const struct bt_target *tgt, u16 *asc)
{
	switch (tgt ? bt_target_attr(tgt, BT_TA_ALUA_STATE) : 0) {
	case BT_ALUA_STANDBY:
		*asc = ASC_ALUA_STANDBY;
		return true;
	case BT_ALUA_UNAVAILABLE:
		*asc = ASC_ALUA_UNAVAILABLE;
		return true;
	case BT_ALUA_TRANSITIONING:
		*asc = ASC_ALUA_TRANSITION;
		return true;
	default:
		return false;
	}
}

/* Commands every state answers (SPC-4 5.16.2.4.5, transitioning, is the
 * shortest list; REPORT SUPPORTED OPERATION CODES only describes). */
static bool allowed_always(const u8 *cdb)
{
	switch (cdb[0]) {
	case 0x12:                    /* INQUIRY                           */
	case 0xa0:                    /* REPORT LUNS                       */
	case 0x03:                    /* REQUEST SENSE                     */
		return true;
	case 0xa3:                    /* MAINTENANCE IN                    */
		return (cdb[1] & 0x1f) == 0x0a ||  /* REPORT TARGET PORT GROUPS */
		       (cdb[1] & 0x1f) == 0x0c;    /* REPORT SUPPORTED OPCODES  */
	default:
		return false;
	}
}

/* Standby and unavailable (SPC-4 5.16.2.4.4, 5.16.2.4.6) also answer the
 * mode, log and diagnostic commands; standby also persistent reservations. */
static bool allowed_inaccessible(const u8 *cdb, bool standby)
{
	switch (cdb[0]) {
	case 0x15: case 0x55:         /* MODE SELECT(6/10)                 */
	case 0x1a: case 0x5a:         /* MODE SENSE(6/10)                  */
	case 0x4c: case 0x4d:         /* LOG SELECT/SENSE                  */
	case 0x1c: case 0x1d:         /* RECEIVE DIAGNOSTIC/SEND DIAGNOSTIC */
		return true;
	case 0x5e: case 0x5f:         /* PERSISTENT RESERVE IN/OUT         */
		return standby;
	default:
		return allowed_always(cdb);
	}
}

int scsi_alua_check(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_target *tgt = t->cmd->target;
	u16 asc;

	if (!scsi_alua_not_ready(tgt, &asc))
		return -1;
	switch (asc) {
	case ASC_ALUA_STANDBY:
		if (allowed_inaccessible(cdb, true))
			return -1;
		break;
	case ASC_ALUA_UNAVAILABLE:
		if (allowed_inaccessible(cdb, false))
			return -1;
		break;
	default:
		if (allowed_always(cdb))
			return -1;
		break;
	}
	return scsi_sense(t, SK_NOT_READY, asc);
}

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.37) ------------------------------ */

#define RTPG_DESC_LEN 12              /* one group with one target port    */

static u32 put_group(u8 *p, u16 group, u8 state)
{
	bt_memset(p, 0, RTPG_DESC_LEN);
	p[0] = state & 0x0f;          /* PREF 0, ASYMMETRIC ACCESS STATE   */
	p[1] = RTPG_SUPPORTED;
	bt_put_be16(p + 2, group);
	p[5] = 0;                     /* STATUS CODE: no status available  */
	p[7] = 1;                     /* TARGET PORT COUNT                 */
	/* target port descriptor: bytes 0-1 obsolete, 2-3 relative port id */
	bt_put_be16(p + 10, group);
	return RTPG_DESC_LEN;
}

int scsi_exec_rtpg(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_target *tgt = t->cmd->target;
	bool ext = (cdb[1] >> 5) == 1; /* the usage mask admits 000b, 001b */
	u32 alloc = bt_get_be32(cdb + 6);
	u8 d[8 + 2 * RTPG_DESC_LEN];
	u16 peer = tgt ? (u16)bt_target_attr(tgt, BT_TA_ALUA_PEER_GROUP) : 0;
	u32 n;

	bt_memset(d, 0, sizeof(d));
	n = ext ? 8 : 4;
	if (ext) {
		d[4] = 0x10;          /* FORMAT TYPE 001b                  */
		d[5] = 0;             /* IMPLICIT TRANSITION TIME: unknown */
	}
	n += put_group(d + n, scsi_alua_group(tgt),
		       tgt ? (u8)bt_target_attr(tgt, BT_TA_ALUA_STATE) :
			     BT_ALUA_ACTIVE_OPTIMIZED);
	if (peer && peer != scsi_alua_group(tgt))
		n += put_group(d + n, peer,
			       (u8)bt_target_attr(tgt, BT_TA_ALUA_PEER_STATE));
	/* RETURN DATA LENGTH: the bytes that follow it (extended header
	 * bytes 4-7 included) */
	bt_put_be32(d, n - 4);
	return scsi_reply(t, d, n, alloc);
}

/* ---- state change ------------------------------------------------------- */

/*
 * ASYMMETRIC ACCESS STATE CHANGED (2A/06) to every nexus, for every LUN it
 * has seen: the initiator then re-reads REPORT TARGET PORT GROUPS.
 */
void bt_scsi_alua_changed(struct bt_target *tgt)
{
	struct scsi_target_state *ts = *bt_target_scsi_slot(tgt);
	struct scsi_nexus_state *ns;
	u32 i;

	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next)
		for (i = 0; i < ns->nluns; i++)
			ns->luns[i].pending |= UA_ALUA_CHANGED;
}
