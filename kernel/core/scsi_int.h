/*
 * scsi_int.h - internals of the SCSI layer (scsi_*.c). Not for the transport:
 * its boundary is bt_scsi.h.
 *
 * Shape of the layer
 * ------------------
 * bt_scsi_submit() (scsi_core.c) wraps each struct bt_cmd in a struct
 * scsi_task, finds the command in one static table of struct scsi_op
 * (scsi_ops.c) and calls the op's exec function. The table is the single
 * source of truth for three things that must agree: which opcodes exist,
 * which CDB bits are accepted (any bit outside the op's usage mask is answered
 * INVALID FIELD IN CDB with a field pointer at that bit), and what REPORT
 * SUPPORTED OPERATION CODES says. So the usage data is accurate by
 * construction.
 *
 * An exec function either finishes at once (returns SCSI_DONE with
 * cmd->status/sense/in set) or starts block I/O and returns SCSI_PENDING;
 * then the I/O completion (maybe inline, maybe later) calls
 * scsi_task_done(). Either way cmd->done() runs exactly once, from
 * scsi_task_done().
 *
 * Lifetime: every task holds a reference on its LU, so bt_lu_destroy() with
 * I/O in flight only marks the LU dying; the last task to finish closes the
 * backing device and frees it.
 */
#ifndef SCSI_INT_H
#define SCSI_INT_H

#include "bt_scsi.h"

/* ---- sense keys, ASC/ASCQ (SPC-4 4.5.6) ---------------------------------- */
#define SK_NO_SENSE        0x0
#define SK_NOT_READY       0x2
#define SK_MEDIUM_ERROR    0x3
#define SK_HARDWARE_ERROR  0x4
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION  0x6
#define SK_DATA_PROTECT    0x7
#define SK_ABORTED_COMMAND 0xb
#define SK_MISCOMPARE      0xe

/* (asc << 8 | ascq) */
#define ASC_NONE                      0x0000
#define ASC_WRITE_ERROR               0x0c00
#define ASC_READ_ERROR                0x1100
#define ASC_PARAM_LIST_LENGTH_ERROR   0x1a00
#define ASC_INVALID_OPCODE            0x2000
#define ASC_LBA_OUT_OF_RANGE          0x2100
#define ASC_INVALID_FIELD_IN_CDB      0x2400
#define ASC_LU_NOT_SUPPORTED          0x2500
#define ASC_INVALID_FIELD_IN_PARAM    0x2600
#define ASC_INVALID_FIELD_IN_CMD_IU   0x0e03
#define ASC_WRITE_PROTECTED           0x2700
#define ASC_POWER_ON_RESET            0x2900
#define ASC_BUS_DEVICE_RESET          0x2903
#define ASC_MODE_PARAMS_CHANGED       0x2a01
#define ASC_RESERVATIONS_PREEMPTED    0x2a03
#define ASC_RESERVATIONS_RELEASED     0x2a04
#define ASC_REGISTRATIONS_PREEMPTED   0x2a05
#define ASC_ALUA_STATE_CHANGED        0x2a06
#define ASC_SAVING_PARAMS_UNSUP       0x3900
#define ASC_REPORTED_LUNS_CHANGED     0x3f0e
#define ASC_MISCOMPARE_VERIFY         0x1d00
#define ASC_INSUFFICIENT_RESOURCES    0x5503
#define ASC_INTERNAL_TARGET_FAILURE   0x4400
#define ASC_LU_NOT_READY_STOPPED      0x0402 /* initializing command required */

/* ---- unit attention conditions (bit per condition, highest first) ------- */
#define UA_POWER_ON        0x01
#define UA_LUN_RESET       0x02
#define UA_RES_PREEMPTED   0x04
#define UA_RES_RELEASED    0x08
#define UA_REG_PREEMPTED   0x10
#define UA_MODE_CHANGED    0x20
#define UA_LUNS_CHANGED    0x40
#define UA_ALUA_CHANGED    0x80   /* ASYMMETRIC ACCESS STATE CHANGED      */

/* ---- LBA-range lock (COMPARE AND WRITE atomicity) ----------------------- */
enum scsi_lock_mode {
	LOCK_NONE = 0,
	LOCK_SHARED,                  /* reads and ordinary writes: exclude
	                               * only the exclusive holders           */
	LOCK_EXCL,                    /* CAW, WRITE ATOMIC: exclude every
	                               * overlapping read and write           */
};

struct scsi_task;

/* ---- persistent reservations -------------------------------------------- */

/*
 * One registration. It belongs to an I_T nexus identity, not to a struct
 * bt_nexus: initiator port (name + ISID) and target port (tpgt), so it
 * survives logout/login. isid_any: registered through SPEC_I_PT with a
 * TransportID of format 00b (an initiator name without ISID), which covers
 * every ISID of that initiator. all_tg_pt: registered with ALL_TG_PT=1,
 * covers every target port.
 */
struct scsi_pr_reg {
	struct scsi_pr_reg *next;
	u64 key;
	u16 tpgt;
	u16 rel_port;                 /* relative target port id reported     */
	u8  isid[6];
	bool isid_any;
	bool all_tg_pt;
	char initiator[];             /* iSCSI name, NUL terminated           */
};

#define SCSI_PR_MAX_REGS   1024       /* INSUFFICIENT REGISTRATION RESOURCES */
#define SCSI_PR_NAME_MAX   223        /* iSCSI name, RFC 7143 6.1            */

enum scsi_prs_state {
	PRS_OFF = 0,                  /* no store: state in memory only       */
	PRS_LOADING,                  /* reading the region; commands wait    */
	PRS_READY,
	PRS_FENCED,                   /* region unusable: commands fail       */
};

struct bt_crc32c;

struct scsi_pr_store {
	u8   state;                   /* enum scsi_prs_state                  */
	bool busy;                    /* a PR OUT's slot write is in flight   */
	int  fence_rc;                /* why FENCED (BT_E_PR_FOREIGN, -EIO)   */
	u64  region_off;              /* byte offset of the region            */
	u64  seq;                     /* sequence of the newest valid slot;
	                               * 0: none written yet (fresh)          */
	struct bt_crc32c *crc;
	struct bt_io load_io;
	/* tasks waiting for the load or for the PR OUT in flight, FIFO */
	struct scsi_task *held_head, *held_tail;
};

/* ---- logical unit ------------------------------------------------------- */

#define SCSI_UID_MAX     128
#define SCSI_SERIAL_LEN  24           /* hex digits of the uid hash         */

struct bt_lu {
	struct bt_engine *e;
	struct bt_bdev *bdev;
	char *path;
	char *uid;                    /* the identity seed actually used       */
	u32 block_size;
	u32 bs_shift;                 /* log2(block_size)                      */
	u64 dev_bytes;                /* size of the backing device            */
	/*
	 * Bytes at the end of the backing device that are not part of the
	 * LU's capacity: room for the replicated persistent-reservation
	 * region (two slots). The capacity is
	 *   floor((dev_bytes - reserved_tail_bytes) / block_size)
	 * blocks, so it is always a whole number of blocks and never overlaps
	 * the tail, whatever the backing size. 0 until PR persistence lands.
	 */
	u64 reserved_tail_bytes;
	u64 nblocks;
	bool readonly;
	u32 features;                 /* BT_FEAT_*                             */

	/* identity, derived from uid (scsi_lu.c) */
	u8   naa[16];                 /* NAA-6 designator                      */
	char naa_hex[33];
	char serial[SCSI_SERIAL_LEN + 1];
	char product[17];             /* 16 chars, space padded                */

	/* mode parameters (current values; nothing is saveable) */
	bool d_sense;                 /* control page: descriptor sense       */
	bool swp;                     /* control page: software write protect */
	bool wce;                     /* caching page: write-back allowed     */
	bool stopped;                 /* START STOP UNIT START=0              */
	u32  prevent;                 /* PREVENT ALLOW MEDIUM REMOVAL count   */

	/* lifetime */
	u32 refs;                     /* 1 for the creator + 1 per task        */
	bool dying;

	/* in-flight tasks (for TMF) and range-lock waiters, FIFO */
	struct scsi_task *tasks;
	struct scsi_task *wait_head, *wait_tail;

	/* SPC-2 RESERVE holder (nexus id + 1; 0 = none) */
	u64 resv_holder;

	/* results of finished EXTENDED COPYs (scsi_xcopy.c), or NULL */
	struct xcopy_result *xcopy_results;

	/* persistent reservations (scsi_pr.c) */
	struct scsi_pr {
		struct scsi_pr_reg *regs;
		struct scsi_pr_reg *holder;   /* NULL for all-registrants  */
		u8  type;                     /* 0: not reserved           */
		bool aptpl;                   /* last APTPL bit received   */
		u32 nregs;
		u32 generation;
	} pr;
	/* ... and their store in the reserved tail (scsi_pr_store.c) */
	struct scsi_pr_store prs;
};

/* ---- a command in progress ---------------------------------------------- */

enum { SCSI_DONE = 0, SCSI_PENDING = 1 };

struct scsi_op;

struct scsi_task {
	struct bt_cmd *cmd;
	struct bt_lu *lu;             /* referenced; NULL for unmapped LUNs   */
	const struct scsi_op *op;
	struct bt_io io;

	/* decoded block range of a media-access command */
	u64 lba;
	u32 nblocks;
	u32 io_flags;                 /* BT_IO_FUA ...                        */
	bool immed;

	/* multi-step commands (CAW, VERIFY BYTCHK, WRITE SAME ...) */
	int stage;
	u8 *buf;                      /* scratch, bt_free'd at release         */
	u64 cursor;                   /* progress in blocks                    */
	void (*next)(struct scsi_task *t); /* continuation after io           */

	/* range lock */
	u8  lock_mode;
	bool lock_held;
	bool queued;                  /* on lu->wait list                      */
	struct scsi_task *wait_next;
	/* lu->tasks list */
	struct scsi_task *lu_next, *lu_prev;
	/* held by the PR store (scsi_pr_store.c) */
	bool pr_held;
	struct scsi_task *pr_next;
	u32 pr_undo_off, pr_undo_len; /* PR OUT: where in t->buf the state
	                               * before the command is (rollback)    */
};

/* ---- command table (scsi_ops.c) ---------------------------------------- */

#define OPF_SA     0x01               /* service action in byte 1 bits 4:0 */
#define OPF_NO_UA  0x02               /* never reports a unit attention    */
#define OPF_WRITE  0x04               /* modifies the medium: DATA PROTECT
                                       * on read-only / SWP, reservations   */
#define OPF_MEDIUM 0x08               /* needs a started unit             */
#define OPF_RESV_OK 0x10              /* allowed under another's RESERVE  */
#define OPF_PR_OK  0x20               /* allowed under any persistent
                                       * reservation (SPC-4 table 63)      */

struct scsi_op {
	u8  opcode;
	u8  flags;                    /* OPF_*                                 */
	u16 sa;
	u8  cdb_len;
	u32 feature;                  /* BT_FEAT_* that must be on, or 0       */
	u16 timeout_s;                /* nominal/recommended, RCTD             */
	const char *name;
	int (*exec)(struct scsi_task *t);
	u8  usage[16];                /* CDB usage data (SPC-4 6.35.3)         */
};

const struct scsi_op *scsi_op_find(u8 opcode, u16 sa, bool *sa_unsupported);
const struct scsi_op *scsi_op_at(unsigned i);   /* NULL ends */
bool scsi_op_enabled(const struct scsi_op *op, const struct bt_lu *lu);

/* ---- sense and replies (scsi_sense.c) ----------------------------------- */

/* CHECK CONDITION with key/asc (ASC_*), in the LU's format. */
int  scsi_sense(struct scsi_task *t, u8 key, u16 asc);
/* ... with the INFORMATION field set (VALID=1). */
int  scsi_sense_info(struct scsi_task *t, u8 key, u16 asc, u64 info);
/* ILLEGAL REQUEST / INVALID FIELD IN CDB (cdb=true) or IN PARAMETER LIST,
 * with a sense-key-specific field pointer at byte/bit (bit < 0: none). */
int  scsi_invalid_field(struct scsi_task *t, bool cdb, u16 byte, int bit);
static inline int scsi_invalid_cdb(struct scsi_task *t, u16 byte, int bit)
{ return scsi_invalid_field(t, true, byte, bit); }
/* Build sense data into buf (BT_SENSE_MAX); returns its length. */
u32  scsi_build_sense(u8 *buf, bool desc, u8 key, u16 asc, bool has_info,
		      u64 info, const u8 *sks);
/*
 * Data-In for a command with an allocation length: copies min(len, alloc)
 * bytes of data into a fresh cmd->in and sets in_len and xfer_len.
 * Returns SCSI_DONE, or an error sense on allocation failure.
 */
int  scsi_reply(struct scsi_task *t, const void *data, u32 len, u32 alloc);

/* ---- core (scsi_core.c) ------------------------------------------------- */

void scsi_task_done(struct scsi_task *t);
/* Run a held task through dispatch again (from the top). */
void scsi_task_redispatch(struct scsi_task *t);
/* Abort the tasks of nexus n on lu (PREEMPT AND ABORT), as ABORT TASK SET
 * would. */
void scsi_abort_nexus_tasks(struct bt_lu *lu, const struct bt_nexus *n);
/* Submit t->io (op/offset/len/buf/flags filled in) to the host; on
 * completion call `next` (io.result holds the outcome). */
void scsi_submit_io(struct scsi_task *t, void (*next)(struct scsi_task *t));
/* scsi_rw.c: write t->nblocks from t->lba out of the Data-Out (FUA as the
 * CDB and the write cache say), then complete the task; the body of WRITE
 * and WRITE ATOMIC once their range lock is held. */
void scsi_write_start(struct scsi_task *t);
/* Same, to another LU's backing device (EXTENDED COPY); the caller holds
 * a reference on lu. */
void scsi_submit_io_lu(struct scsi_task *t, struct bt_lu *lu,
		       void (*next)(struct scsi_task *t));
/* Map a failed io (result < 0) to sense. */
int  scsi_io_error(struct scsi_task *t, bool write);
/* Pop the highest-priority pending UA of the cmd's I_T_L nexus: its
 * ASC_*, or 0 if none. */
u16  scsi_ua_take(struct bt_cmd *cmd);
/* Queue a UA on every nexus of the LU's target for this LUN. */
void scsi_ua_lun_all(struct bt_target *tgt, u64 lun, u8 ua, const struct bt_nexus *except);

struct scsi_nexus_state;
void scsi_ua_nexus(struct scsi_nexus_state *ns, u64 lun, u8 ua);

/* ---- LU (scsi_lu.c) ----------------------------------------------------- */

void scsi_lu_get(struct bt_lu *lu);
void scsi_lu_put(struct bt_lu *lu);
/* Range locks. Returns true if granted; false means t was queued and
 * scsi_lock_release() of the conflicting holder will resume it via
 * `resume`. */
bool scsi_lock_acquire(struct scsi_task *t, u8 mode);
void scsi_lock_release(struct scsi_task *t);
/* Set t->lba/nblocks and check the range. Returns SCSI_DONE with LBA OUT OF
 * RANGE sense if lba+n exceeds the capacity, else -1 ("continue"). */
int  scsi_check_range(struct scsi_task *t, u64 lba, u64 n);
void scsi_hash_uid(const char *uid, u8 out[16]);

/* Block limits (scsi_spc.c, reported in VPD B0h and enforced). */
u32 scsi_max_xfer_blocks(const struct bt_lu *lu);
u32 scsi_max_unmap_blocks(void);
u32 scsi_max_unmap_descs(void);
u32 scsi_max_caw_blocks(void);
u32 scsi_max_ws_blocks(const struct bt_lu *lu);

/* ---- command implementations -------------------------------------------- */
/* scsi_spc.c */
int scsi_exec_inquiry(struct scsi_task *t);
int scsi_exec_report_luns(struct scsi_task *t);
int scsi_exec_tur(struct scsi_task *t);
int scsi_exec_request_sense(struct scsi_task *t);
int scsi_exec_rsoc(struct scsi_task *t);
int scsi_exec_start_stop(struct scsi_task *t);
int scsi_exec_prevent_allow(struct scsi_task *t);
int scsi_exec_reserve(struct scsi_task *t);
int scsi_exec_release(struct scsi_task *t);
/* scsi_mode.c */
int scsi_exec_mode_sense(struct scsi_task *t);
int scsi_exec_mode_select(struct scsi_task *t);
/* scsi_rw.c */
int scsi_exec_read_capacity10(struct scsi_task *t);
int scsi_exec_read_capacity16(struct scsi_task *t);
int scsi_exec_read(struct scsi_task *t);
int scsi_exec_write(struct scsi_task *t);
int scsi_exec_verify(struct scsi_task *t);
int scsi_exec_write_verify(struct scsi_task *t);
int scsi_exec_sync_cache(struct scsi_task *t);
int scsi_exec_prefetch(struct scsi_task *t);
void scsi_decode_lba_len(const u8 *cdb, u64 *lba, u64 *len);
/* BT_IO_FUA when the CDB's FUA bit is set or the LU is write-through. */
u32  scsi_write_flags(const struct scsi_task *t);
/* CHECK CONDITION unless out_len covers `need` bytes; -1 to go on. */
int  scsi_check_dataout(struct scsi_task *t, u32 need);
/* ... and no longer than `need` either. */
int  scsi_check_dataout_exact(struct scsi_task *t, u32 need);
u8   scsi_lbppbe(const struct bt_lu *lu);
/* scsi_sbc.c */
int scsi_exec_caw(struct scsi_task *t);
int scsi_exec_write_same(struct scsi_task *t);
int scsi_exec_unmap(struct scsi_task *t);
int scsi_exec_get_lba_status(struct scsi_task *t);
int scsi_exec_orwrite(struct scsi_task *t);
int scsi_exec_read_defect_data(struct scsi_task *t);

/* scsi_xcopy.c */
int  scsi_exec_xcopy(struct scsi_task *t);
int  scsi_exec_receive_copy_results(struct scsi_task *t);

/* scsi_pr.c */
int  scsi_exec_pr_in(struct scsi_task *t);
int  scsi_exec_pr_out(struct scsi_task *t);
/* RESERVATION CONFLICT for t under the LU's persistent reservation? */
bool scsi_pr_conflict(struct scsi_task *t);
/* Drop every registration and the reservation (not the generation). */
void scsi_pr_free(struct bt_lu *lu);
/* Tell management subscribers (BT_EV_PR_CHANGE) that t changed the state. */
void scsi_pr_event(struct scsi_task *t);

/* scsi_pr_store.c: the PR state on the backing's reserved tail */
/* bt_lu_create, after the backing is open: with BT_FEAT_PR_STORE, reserve
 * the tail and start loading it. 0, or a negative code when the LU must
 * not attach (BT_E_PR_FOREIGN, BT_E_BAD_ATTR for a backing too small,
 * -BT_ENOMEM, BT_E_BACKEND on a read error seen at once). */
int  scsi_prs_attach(struct bt_lu *lu);
void scsi_prs_free(struct bt_lu *lu);
/* Dispatch gate: -1 go on; SCSI_PENDING t was held (re-dispatched later);
 * SCSI_DONE with NOT READY sense when the store is fenced. */
int  scsi_prs_gate(struct scsi_task *t);
/* t (pr_held) leaves the held list (abort). */
void scsi_prs_unhold(struct scsi_task *t);
/* PR OUT: before the service action, save the state for rollback into
 * t->buf (-1 go on, or SCSI_DONE with sense). After it (rc = the action's
 * result): make the change durable before the command completes, or roll
 * it back. Returns SCSI_DONE or SCSI_PENDING. */
int  scsi_prs_begin(struct scsi_task *t);
int  scsi_prs_finish(struct scsi_task *t, int rc);
/* Serialised PR state (the slot payload): size, encode into buf of that
 * size, decode (replacing lu->pr; 0 or -BT_EINVAL / -BT_ENOMEM). */
u32  scsi_prs_encoded_size(const struct bt_lu *lu);
void scsi_prs_encode(const struct bt_lu *lu, u8 *buf);
int  scsi_prs_decode(struct bt_lu *lu, const u8 *buf, u32 len);

/* Unit attention state of one nexus (nexus->scsi_priv). */
struct scsi_ua_lun {
	u64 lun;
	u8  pending;
};
struct scsi_nexus_state {
	struct bt_nexus *n;
	struct scsi_nexus_state *next; /* in the target's list                */
	struct scsi_ua_lun *luns;
	u32 nluns, cap;
};
struct scsi_target_state {
	struct scsi_nexus_state *nexuses;
};

#endif
