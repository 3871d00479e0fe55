/*
 * bt_scsi.h - the boundary between the iSCSI transport (iscsi_*.c) and the
 * SCSI layer (scsi_*.c: SPC-4/SBC-3 command set, LU identity, PR, UA).
 *
 * The transport turns a SCSI Command PDU plus all of its Data-Out into one
 * struct bt_cmd, calls bt_scsi_submit(), and gets cmd->done(cmd) back exactly
 * once (possibly before bt_scsi_submit returns). It then sends cmd->in as
 * Data-In PDUs and the status/sense, computing residuals from exp_len and
 * xfer_len.
 */
#ifndef BT_SCSI_H
#define BT_SCSI_H

#include "bt_engine.h"

/*
 * An I_T nexus: one iSCSI session. PR registrations and unit attentions are
 * kept per nexus. The transport owns the memory; it stays valid between
 * bt_scsi_nexus_add() and bt_scsi_nexus_del().
 */
struct bt_nexus {
	const char *initiator;        /* initiator IQN                         */
	u8  isid[6];
	u16 tsih;
	u16 tpgt;                     /* target portal group tag (1)           */
	u16 rel_port;                 /* relative target port id (1 ..)        */
	struct bt_target *target;
	u64 id;                       /* unique per engine                     */
	void *scsi_priv;              /* SCSI layer's per-nexus state (UAs)    */
};

/* Register/unregister a session's nexus with every LU of its target. */
int  bt_scsi_nexus_add(struct bt_nexus *n);
void bt_scsi_nexus_del(struct bt_nexus *n);

enum bt_dir {
	BT_DIR_NONE = 0,
	BT_DIR_READ,                  /* data-in                               */
	BT_DIR_WRITE,                 /* data-out                              */
	BT_DIR_BIDI,
};

/* SAM task attributes (iSCSI ATTR field values). */
#define BT_TASK_UNTAGGED 0
#define BT_TASK_SIMPLE   1
#define BT_TASK_ORDERED  2
#define BT_TASK_HEAD     3
#define BT_TASK_ACA      4

/* SCSI status */
#define BT_SAM_GOOD            0x00
#define BT_SAM_CHECK_CONDITION 0x02
#define BT_SAM_CONDITION_MET   0x04
#define BT_SAM_BUSY            0x08
#define BT_SAM_RESERVATION_CONFLICT 0x18
#define BT_SAM_TASK_SET_FULL   0x28
#define BT_SAM_TASK_ABORTED    0x40

#define BT_SENSE_MAX 252

struct bt_cmd {
	/* --- set by the transport --- */
	struct bt_target *target;
	struct bt_nexus *nexus;
	u64 lun;                      /* SAM LUN number (decoded)              */
	struct bt_lu *lu;             /* NULL if lun is not mapped             */
	u8  cdb[260];
	u32 cdb_len;
	enum bt_dir dir;
	u8  task_attr;                /* BT_TASK_*                             */
	u32 tag;                      /* initiator task tag                    */
	u32 exp_len;                  /* expected data transfer length (write,
	                               * or read when dir == BT_DIR_READ)     */
	u32 exp_in_len;               /* BIDI: expected read length            */
	u8 *out;                      /* Data-Out payload, out_len bytes       */
	u32 out_len;
	void (*done)(struct bt_cmd *cmd);
	void *tpriv;                  /* transport's                           */

	/* --- set by the SCSI layer --- */
	u8 *in;                       /* Data-In, in_len bytes; allocated with
	                               * bt_alloc, freed by bt_cmd_release   */
	u32 in_len;
	u32 xfer_len;                 /* bytes the CDB itself asks to move; the
	                               * transport derives residuals from it   */
	/*
	 * Residual contract (RFC 7143 11.4.5), for the transport:
	 *  - block commands (READ/WRITE...): xfer_len = transfer length in
	 *    blocks * block size, set as soon as the CDB is decoded, also when
	 *    the command then fails;
	 *  - commands with an allocation length (INQUIRY, MODE SENSE ...):
	 *    xfer_len = in_len = min(allocation length, data available);
	 *  - the transport sends min(in_len, exp_len) bytes of cmd->in and
	 *    reports overflow xfer_len - exp_len when xfer_len > exp_len,
	 *    underflow exp_len - xfer_len when xfer_len < exp_len.
	 *  - WRITE / WRITE AND VERIFY whose Data-Out (out_len) is shorter
	 *    than xfer_len write the whole blocks that were sent (GOOD, and
	 *    the transport reports the overflow); a Data-Out ending inside a
	 *    block, and short Data-Out for other commands (CAW, WRITE SAME,
	 *    UNMAP, MODE SELECT, PR OUT), get CHECK CONDITION, INVALID FIELD
	 *    IN COMMAND INFORMATION UNIT, writing nothing. Data-Out longer
	 *    than xfer_len is ignored past xfer_len.
	 */
	u8  status;                   /* BT_SAM_*                              */
	u8  sense[BT_SENSE_MAX];
	u32 sense_len;
	void *spriv;                  /* SCSI layer's                          */
	bool aborted;                 /* set by TMF; done() still called       */
};

/*
 * Execute cmd. Always ends in exactly one cmd->done(cmd). Unmapped LUNs are
 * handled here (INQUIRY answers peripheral qualifier 3, REPORT LUNS works,
 * everything else gets LOGICAL UNIT NOT SUPPORTED).
 */
void bt_scsi_submit(struct bt_cmd *cmd);
/* Free what the SCSI layer attached (in, spriv). The transport calls it
 * after the response is sent. Does not free cmd itself. */
void bt_cmd_release(struct bt_cmd *cmd);

/* Task management (SAM-5). Returns an iSCSI TMF response code (0 = done). */
enum bt_tmf {
	BT_TMF_ABORT_TASK = 1,
	BT_TMF_ABORT_TASK_SET,
	BT_TMF_CLEAR_ACA,
	BT_TMF_CLEAR_TASK_SET,
	BT_TMF_LUN_RESET,
	BT_TMF_TARGET_WARM_RESET,
	BT_TMF_TARGET_COLD_RESET,
};
/* Response codes (iSCSI values, RFC 7143 11.6.1). */
#define BT_TMF_RSP_COMPLETE      0
#define BT_TMF_RSP_NO_TASK       1
#define BT_TMF_RSP_NO_LUN        2
#define BT_TMF_RSP_NOT_SUPPORTED 5
/*
 * Aborted tasks (ABORT TASK / TASK SET, CLEAR TASK SET, resets) get
 * cmd->aborted = true. One still waiting inside the SCSI layer finishes
 * (done) before bt_scsi_tmf returns, with status TASK ABORTED; one whose
 * block I/O is at the host finishes when that I/O completes. The transport
 * should send the TMF response only after every aborted task called done,
 * and send no SCSI response for aborted tasks (RFC 7143 4.2.3.x).
 * ABORT TASK for a tag that is not (or no longer) in the SCSI layer returns
 * BT_TMF_RSP_NO_TASK; the transport decides what to answer.
 */
int bt_scsi_tmf(struct bt_nexus *n, enum bt_tmf fn, u64 lun, u32 ref_tag);

/* ---- logical units (scsi_lu.c) ------------------------------------------ */

/* Create an LU from cfg: opens the backing through the host ops, derives the
 * NAA-6/serial/product identity from cfg->uid (or fallback_uid). */
int  bt_lu_create(struct bt_engine *e, const struct bt_lun_cfg *cfg,
		  const char *fallback_uid, struct bt_lu **out);
/* Safe with commands in flight: they keep the LU (and its open backing
 * device) alive until they finish; the caller must already have removed
 * the LU from every LUN map so no new command can reach it. */
void bt_lu_destroy(struct bt_lu *lu);
/* Informational, for dumps. */
u64  bt_lu_blocks(const struct bt_lu *lu);
u32  bt_lu_block_size(const struct bt_lu *lu);
const char *bt_lu_path(const struct bt_lu *lu);
const char *bt_lu_uid(const struct bt_lu *lu);
/* NAA designator as 32 hex digits; serial as printable string. */
const char *bt_lu_naa_hex(const struct bt_lu *lu);
const char *bt_lu_serial(const struct bt_lu *lu);
/* Product identification as reported by INQUIRY (16 chars, no padding
 * removed); its first 8 characters are unique per uid. */
const char *bt_lu_product(const struct bt_lu *lu);
/*
 * Keep `bytes` at the end of the backing device out of the LU's capacity
 * (the replicated PR region). The capacity becomes
 * floor((size - bytes) / block size). Returns 0 or -BT_EINVAL.
 */
int  bt_lu_set_reserved_tail(struct bt_lu *lu, u64 bytes);
/*
 * State of the LU's PR store (BT_FEAT_PR_STORE, scsi_pr_store.c), for dumps
 * and status: 0 when the LU has no store or it is loaded; -BT_EAGAIN while
 * the region is still being read (commands wait); a negative code when the
 * LU is fenced because the read found something it must not overwrite or
 * failed (BT_E_PR_FOREIGN, BT_E_BACKEND, -BT_ENOMEM); every command then
 * gets NOT READY, MANUAL INTERVENTION REQUIRED.
 */
int  bt_lu_pr_store_status(const struct bt_lu *lu);
/* Tasks of this LU currently inside the SCSI layer (for tests/dumps). */
unsigned bt_scsi_tasks_pending(struct bt_lu *lu);
/* engine.c, just before freeing t (after bt_iscsi_target_gone, so no
 * nexus should remain): frees the SCSI layer's per-target state. */
void bt_scsi_target_gone(struct bt_target *t);
/* Queue a REPORTED LUNS DATA HAS CHANGED UA on every nexus of t. */
void bt_scsi_luns_changed(struct bt_target *t);

#endif
