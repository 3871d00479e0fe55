/*
 * scsi_core.c - command dispatch, task lifetime, block I/O submission, unit
 * attentions, nexus registration and task management.
 *
 * Dispatch order for a mapped LUN (SAM-5 5.x / SPC-4 5.9, 5.14):
 *   1. a pending unit attention (except INQUIRY, REPORT LUNS, REQUEST
 *      SENSE, which never report one);
 *   2. unknown opcode or disabled feature -> INVALID COMMAND OPERATION CODE;
 *      unknown service action -> INVALID FIELD IN CDB (byte 1);
 *   3. any CDB bit outside the op's usage mask -> INVALID FIELD IN CDB with
 *      a field pointer at that bit (reserved fields, unsupported options
 *      such as RDPROTECT/WRPROTECT, NACA in the control byte);
 *   0. an LU whose PR store is loading holds the command until the load
 *      is done, one whose store is fenced fails it (NOT READY); PR IN/OUT
 *      wait while a PR OUT's store write is in flight (scsi_pr_store.c);
 *   4. SPC-2 RESERVE held by another nexus -> RESERVATION CONFLICT;
 *   5. medium writes to a read-only or write-protected LU -> DATA PROTECT;
 *   6. the op's exec function.
 */
#include "scsi_int.h"
#include "scsi_alua.h"

/* ---- unit attentions ---------------------------------------------------- */

static struct scsi_ua_lun *ua_entry(struct scsi_nexus_state *ns, u64 lun)
{
	struct scsi_ua_lun *l;
	u32 i;

	for (i = 0; i < ns->nluns; i++)
		if (ns->luns[i].lun == lun)
			return &ns->luns[i];
	if (ns->nluns == ns->cap) {
		u32 cap = ns->cap ? ns->cap * 2 : 4;

		l = bt_realloc(ns->luns, cap * sizeof(*l));
		if (!l)
			return NULL;
		ns->luns = l;
		ns->cap = cap;
	}
	l = &ns->luns[ns->nluns++];
	l->lun = lun;
	/* the first command of a new I_T_L nexus sees the power-on UA */
	l->pending = UA_POWER_ON;
	return l;
}

static u16 ua_asc(u8 bit)
{
	switch (bit) {
	case UA_POWER_ON:      return ASC_POWER_ON_RESET;
	case UA_LUN_RESET:     return ASC_BUS_DEVICE_RESET;
	case UA_RES_PREEMPTED: return ASC_RESERVATIONS_PREEMPTED;
	case UA_RES_RELEASED:  return ASC_RESERVATIONS_RELEASED;
	case UA_REG_PREEMPTED: return ASC_REGISTRATIONS_PREEMPTED;
	case UA_MODE_CHANGED:  return ASC_MODE_PARAMS_CHANGED;
	case UA_ALUA_CHANGED:  return ASC_ALUA_STATE_CHANGED;
	default:               return ASC_REPORTED_LUNS_CHANGED;
	}
}

/* Pops the highest-priority pending UA of this I_T_L nexus; 0 if none. */
u16 scsi_ua_take(struct bt_cmd *cmd)
{
	struct scsi_nexus_state *ns;
	struct scsi_ua_lun *l;
	u8 bit;

	if (!cmd->nexus || !cmd->nexus->scsi_priv)
		return 0;
	ns = cmd->nexus->scsi_priv;
	l = ua_entry(ns, cmd->lun);
	if (!l || !l->pending)
		return 0;
	bit = l->pending & (u8)-l->pending;
	l->pending &= (u8)~bit;
	return ua_asc(bit);
}

void scsi_ua_lun_all(struct bt_target *tgt, u64 lun, u8 ua,
		     const struct bt_nexus *except)
{
	struct scsi_target_state *ts = *bt_target_scsi_slot(tgt);
	struct scsi_nexus_state *ns;
	struct scsi_ua_lun *l;

	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next) {
		if (ns->n == except)
			continue;
		l = ua_entry(ns, lun);
		if (l)
			l->pending |= ua;
	}
}

void scsi_ua_nexus(struct scsi_nexus_state *ns, u64 lun, u8 ua)
{
	struct scsi_ua_lun *l = ua_entry(ns, lun);

	if (l)
		l->pending |= ua;
}

void bt_scsi_luns_changed(struct bt_target *tgt)
{
	struct scsi_target_state *ts = *bt_target_scsi_slot(tgt);
	struct scsi_nexus_state *ns;
	u32 i;

	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next)
		for (i = 0; i < ns->nluns; i++)
			ns->luns[i].pending |= UA_LUNS_CHANGED;
}

/* ---- nexus registration ------------------------------------------------- */

int bt_scsi_nexus_add(struct bt_nexus *n)
{
	void **slot = bt_target_scsi_slot(n->target);
	struct scsi_target_state *ts = *slot;
	struct scsi_nexus_state *ns;

	if (!ts) {
		ts = bt_zalloc(sizeof(*ts));
		if (!ts)
			return -BT_ENOMEM;
		*slot = ts;
	}
	ns = bt_zalloc(sizeof(*ns));
	if (!ns) {
		if (!ts->nexuses) {
			bt_free(ts);
			*slot = NULL;
		}
		return -BT_ENOMEM;
	}
	ns->n = n;
	ns->next = ts->nexuses;
	ts->nexuses = ns;
	n->scsi_priv = ns;
	return 0;
}

/*
 * The target's SCSI slot lives exactly as long as it has nexuses, so
 * engine.c needs no SCSI teardown hook: the transport deletes every nexus
 * before a target goes away (bt_iscsi_target_gone).
 */
void bt_scsi_nexus_del(struct bt_nexus *n)
{
	void **slot = bt_target_scsi_slot(n->target);
	struct scsi_target_state *ts = *slot;
	struct scsi_nexus_state **pp, *ns = n->scsi_priv;
	struct bt_lu *lu = NULL;
	u64 lun;

	if (!ns)
		return;
	/* I_T nexus loss releases an SPC-2 reservation it holds */
	while ((lu = bt_target_lu_next(n->target, lu, &lun)) != NULL)
		if (lu->resv_holder == n->id + 1)
			lu->resv_holder = 0;
	for (pp = ts ? &ts->nexuses : NULL; pp && *pp; pp = &(*pp)->next) {
		if (*pp == ns) {
			*pp = ns->next;
			break;
		}
	}
	bt_free(ns->luns);
	bt_free(ns);
	n->scsi_priv = NULL;
	if (ts && !ts->nexuses) {
		bt_free(ts);
		*slot = NULL;
	}
}

void bt_scsi_target_gone(struct bt_target *tgt)
{
	void **slot = bt_target_scsi_slot(tgt);
	struct scsi_target_state *ts = *slot;
	struct scsi_nexus_state *ns, *nxt;

	if (!ts)
		return;
	/* a transport that forgot bt_scsi_nexus_del: drop our side */
	for (ns = ts->nexuses; ns; ns = nxt) {
		nxt = ns->next;
		ns->n->scsi_priv = NULL;
		bt_free(ns->luns);
		bt_free(ns);
	}
	bt_free(ts);
	*slot = NULL;
}

/* ---- task lifetime ------------------------------------------------------ */

static void task_link(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->lu_prev = NULL;
	t->lu_next = lu->tasks;
	if (lu->tasks)
		lu->tasks->lu_prev = t;
	lu->tasks = t;
}

static void task_unlink(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	if (t->lu_prev)
		t->lu_prev->lu_next = t->lu_next;
	else
		lu->tasks = t->lu_next;
	if (t->lu_next)
		t->lu_next->lu_prev = t->lu_prev;
	t->lu_next = t->lu_prev = NULL;
}

void scsi_task_done(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;

	if (lu) {
		if (t->pr_held)
			scsi_prs_unhold(t);
		/* may resume waiters, which may complete inline */
		scsi_lock_release(t);
		task_unlink(t);
	}
	if (cmd->in_len == 0 && cmd->in) {
		bt_free(cmd->in);
		cmd->in = NULL;
	}
	bt_free(t->buf);
	bt_free(t);
	cmd->spriv = NULL;
	if (lu)
		scsi_lu_put(lu);
	cmd->done(cmd);
}

void bt_cmd_release(struct bt_cmd *cmd)
{
	bt_free(cmd->in);
	cmd->in = NULL;
	cmd->in_len = 0;
}

/* ---- block I/O ---------------------------------------------------------- */

static void io_done(struct bt_io *io)
{
	struct scsi_task *t = io->priv;

	t->next(t);
}

void scsi_submit_io(struct scsi_task *t, void (*next)(struct scsi_task *t))
{
	scsi_submit_io_lu(t, t->lu, next);
}

void scsi_submit_io_lu(struct scsi_task *t, struct bt_lu *lu,
		       void (*next)(struct scsi_task *t))
{
	t->next = next;
	t->io.done = io_done;
	t->io.priv = t;
	t->io.result = 0;
	t->io.host_priv = NULL;
	bt_engine_ops(lu->e)->bdev_submit(bt_engine_host(lu->e), lu->bdev, &t->io);
}

int scsi_io_error(struct scsi_task *t, bool write)
{
	int r = t->io.result;

	if (r == -BT_ENOMEM || r == -BT_EAGAIN || r == -BT_EBUSY) {
		t->cmd->status = BT_SAM_BUSY;
		t->cmd->sense_len = 0;
		return SCSI_DONE;
	}
	if (r == -BT_ENOSPC)       /* thin backing out of space */
		return scsi_sense(t, SK_DATA_PROTECT, 0x2707);
	return scsi_sense(t, SK_MEDIUM_ERROR,
			  write ? ASC_WRITE_ERROR : ASC_READ_ERROR);
}

/* ---- dispatch ----------------------------------------------------------- */

static int unmapped_lun(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;

	switch (cmd->cdb[0]) {
	case 0x12: /* INQUIRY: peripheral qualifier 3, type 1Fh */
	case 0xa0: /* REPORT LUNS */
	case 0x03: /* REQUEST SENSE: reports LU NOT SUPPORTED as data */
		return cmd->cdb[0] == 0xa0 ? scsi_exec_report_luns(t) :
		       cmd->cdb[0] == 0x12 ? scsi_exec_inquiry(t) :
					     scsi_exec_request_sense(t);
	default:
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LU_NOT_SUPPORTED);
	}
}

static int check_usage(struct scsi_task *t)
{
	const struct scsi_op *op = t->op;
	const u8 *cdb = t->cmd->cdb;
	unsigned i;
	int bit;
	u8 bad;

	for (i = 1; i < op->cdb_len; i++) {
		bad = cdb[i] & (u8)~op->usage[i];
		if (!bad)
			continue;
		for (bit = 7; bit >= 0 && !(bad & (1u << bit)); bit--)
			;
		return scsi_invalid_cdb(t, (u16)i, bit);
	}
	return -1;
}

static bool is_no_ua(u8 opcode)
{
	return opcode == 0x12 || opcode == 0xa0 || opcode == 0x03;
}

static int dispatch(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	const struct scsi_op *op;
	bool bad_sa = false;
	u16 asc;
	int rc;

	if (!lu)
		return unmapped_lun(t);
	if ((rc = scsi_prs_gate(t)) >= 0)
		return rc;
	if (!is_no_ua(cmd->cdb[0]) && (asc = scsi_ua_take(cmd)) != 0)
		return scsi_sense(t, SK_UNIT_ATTENTION, asc);

	op = scsi_op_find(cmd->cdb[0], cmd->cdb[1] & 0x1f, &bad_sa);
	if (bad_sa)
		return scsi_invalid_cdb(t, 1, 4);
	if (!op || !scsi_op_enabled(op, lu))
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	t->op = op;
	if ((rc = check_usage(t)) >= 0)
		return rc;
	if (lu->resv_holder && !(op->flags & OPF_RESV_OK) &&
	    (!cmd->nexus || lu->resv_holder != cmd->nexus->id + 1)) {
		cmd->status = BT_SAM_RESERVATION_CONFLICT;
		return SCSI_DONE;
	}
	if (scsi_pr_conflict(t)) {
		cmd->status = BT_SAM_RESERVATION_CONFLICT;
		return SCSI_DONE;
	}
	if ((op->flags & OPF_WRITE) && (lu->readonly || lu->swp))
		return scsi_sense(t, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
	/* The ALUA access state (scsi_alua.c) is checked here, once, for
	 * every opcode: the check itself knows what each state still answers
	 * (INQUIRY, REPORT LUNS, REQUEST SENSE, REPORT TARGET PORT GROUPS and
	 * REPORT SUPPORTED OPERATION CODES in every state; mode and diagnostic
	 * commands in standby and unavailable; PR in standby), so a new op in
	 * the table is refused on an inaccessible port without having to
	 * remember anything. */
	if ((rc = scsi_alua_check(t)) >= 0)
		return rc;
	return op->exec(t);
}

void scsi_task_redispatch(struct scsi_task *t)
{
	if (dispatch(t) == SCSI_DONE)
		scsi_task_done(t);
}

void bt_scsi_submit(struct bt_cmd *cmd)
{
	struct scsi_task *t;

	cmd->in = NULL;
	cmd->in_len = 0;
	cmd->xfer_len = 0;
	cmd->status = BT_SAM_GOOD;
	cmd->sense_len = 0;
	cmd->spriv = NULL;

	t = bt_zalloc(sizeof(*t));
	if (!t) {
		cmd->status = BT_SAM_TASK_SET_FULL;
		cmd->done(cmd);
		return;
	}
	t->cmd = cmd;
	cmd->spriv = t;
	t->lu = cmd->lu;
	if (t->lu) {
		scsi_lu_get(t->lu);
		task_link(t);
	}
	if (dispatch(t) == SCSI_DONE)
		scsi_task_done(t);
}

/* ---- task management ---------------------------------------------------- */

/* Is t waiting inside the SCSI layer (range lock, PR store), with nothing
 * at the host? */
static bool task_waiting(const struct scsi_task *t)
{
	return t->queued || t->pr_held;
}

/* Abort one task: a task still waiting for a range lock or the PR store
 * finishes now with TASK ABORTED; one with I/O at the host is marked and
 * finishes when the I/O completes (the host cannot recall it). */
static void abort_task(struct scsi_task *t)
{
	t->cmd->aborted = true;
	if (task_waiting(t)) {
		t->cmd->status = BT_SAM_TASK_ABORTED;
		t->cmd->sense_len = 0;
		scsi_task_done(t);
	}
}

static void abort_matching(struct bt_lu *lu, const struct bt_nexus *n,
			   bool all_nexuses)
{
	struct scsi_task *t, *nxt;

	/* restart after each finished task: finishing may resume others */
again:
	for (t = lu->tasks; t; t = nxt) {
		nxt = t->lu_next;
		if (!all_nexuses && t->cmd->nexus != n)
			continue;
		if (t->cmd->aborted && !task_waiting(t))
			continue;
		if (task_waiting(t)) {
			abort_task(t);
			goto again;
		}
		abort_task(t);
	}
}

void scsi_abort_nexus_tasks(struct bt_lu *lu, const struct bt_nexus *n)
{
	abort_matching(lu, n, false);
}

static void lu_reset(struct bt_target *tgt, struct bt_lu *lu, u64 lun, u8 ua)
{
	abort_matching(lu, NULL, true);
	lu->resv_holder = 0;
	lu->prevent = 0;
	/* mode parameters return to their defaults (nothing is saved) */
	lu->d_sense = false;
	lu->swp = false;
	lu->wce = false;
	scsi_ua_lun_all(tgt, lun, ua, NULL);
}

int bt_scsi_tmf(struct bt_nexus *n, enum bt_tmf fn, u64 lun, u32 ref_tag)
{
	struct bt_target *tgt = n->target;
	struct bt_lu *lu = NULL;
	struct scsi_task *t;
	u64 l;

	switch (fn) {
	case BT_TMF_TARGET_WARM_RESET:
	case BT_TMF_TARGET_COLD_RESET:
		while ((lu = bt_target_lu_next(tgt, lu, &l)) != NULL)
			lu_reset(tgt, lu, l, UA_POWER_ON);
		return BT_TMF_RSP_COMPLETE;
	case BT_TMF_CLEAR_ACA:
		return BT_TMF_RSP_NOT_SUPPORTED;
	default:
		break;
	}
	lu = bt_target_lu(tgt, lun);
	if (!lu)
		return BT_TMF_RSP_NO_LUN;
	switch (fn) {
	case BT_TMF_ABORT_TASK:
		for (t = lu->tasks; t; t = t->lu_next) {
			if (t->cmd->nexus == n && t->cmd->tag == ref_tag) {
				abort_task(t);
				return BT_TMF_RSP_COMPLETE;
			}
		}
		return BT_TMF_RSP_NO_TASK;
	case BT_TMF_ABORT_TASK_SET:
		abort_matching(lu, n, false);
		return BT_TMF_RSP_COMPLETE;
	case BT_TMF_CLEAR_TASK_SET:
		abort_matching(lu, n, true);
		return BT_TMF_RSP_COMPLETE;
	case BT_TMF_LUN_RESET:
		lu_reset(tgt, lu, lun, UA_LUN_RESET);
		return BT_TMF_RSP_COMPLETE;
	default:
		return BT_TMF_RSP_NOT_SUPPORTED;
	}
}

unsigned bt_scsi_tasks_pending(struct bt_lu *lu)
{
	struct scsi_task *t;
	unsigned n = 0;

	for (t = lu->tasks; t; t = t->lu_next)
		n++;
	return n;
}
