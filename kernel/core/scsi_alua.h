/*
 * scsi_alua.h - asymmetric logical unit access (SPC-4 5.16), scsi_alua.c.
 *
 * The model. Each node of an HA pair presents every target as ONE target
 * port group holding ONE target port; the target port's relative target
 * port identifier equals the group id. The node knows its own group id and
 * state and, for REPORT TARGET PORT GROUPS, the peer node's group id and
 * state; all four are target attributes set through the management API
 * (BT_TA_ALUA_* in bt_engine.h, states BT_ALUA_* in bt_mgmt.h). The engine
 * never changes a state by itself: the cluster manager (through bollardd)
 * does, which is why the TPGS field says implicit ALUA only and SET TARGET
 * PORT GROUPS is not offered (an initiator cannot make a passive node's
 * Secondary DRBD device writable).
 */
#ifndef SCSI_ALUA_H
#define SCSI_ALUA_H

#include "bt_engine.h"

struct scsi_task;

/*
 * The ALUA access check for a command on a mapped LUN (after the op lookup,
 * t->op set). Returns -1 when the command may run in the target's current
 * local state; otherwise SCSI_DONE with CHECK CONDITION, NOT READY,
 * LOGICAL UNIT NOT ACCESSIBLE + ASYMMETRIC ACCESS STATE TRANSITION /
 * TARGET PORT IN STANDBY STATE / TARGET PORT IN UNAVAILABLE STATE.
 * INQUIRY, REPORT LUNS, REQUEST SENSE, REPORT TARGET PORT GROUPS, REPORT
 * SUPPORTED OPERATION CODES and MODE SENSE always run; standby adds MODE
 * SELECT and PERSISTENT RESERVE IN/OUT, unavailable adds MODE SELECT.
 */
int  scsi_alua_check(struct scsi_task *t);
/*
 * The sense a media-access command would get right now (NOT READY with the
 * ASC/ASCQ above), for REQUEST SENSE: true and *asc set, or false when the
 * local port is active.
 */
bool scsi_alua_not_ready(const struct bt_target *tgt, u16 *asc);
/* REPORT TARGET PORT GROUPS (MAINTENANCE IN, service action 0Ah). */
int  scsi_exec_rtpg(struct scsi_task *t);
/* TPGS field of standard INQUIRY byte 5 (bits 5:4). */
u8   scsi_alua_tpgs(void);
/* VPD 83h values: target port group id and relative target port id. */
u16  scsi_alua_group(const struct bt_target *tgt);
u16  scsi_alua_rel_port(const struct bt_target *tgt);

/*
 * engine.c, after an ALUA attribute changed: queue ASYMMETRIC ACCESS STATE
 * CHANGED on every I_T_L nexus of t that has one (a nexus's first command
 * to a LUN reports POWER ON instead, which supersedes it).
 */
void bt_scsi_alua_changed(struct bt_target *t);

#endif
