/*
 * scsi_pr.c - SPC-4 persistent reservations: PERSISTENT RESERVE IN (READ
 * KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS) and OUT
 * (REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR,
 * PREEMPT, PREEMPT AND ABORT), and the reservation conflict check dispatch
 * applies to every other command.
 *
 * State lives in the LU, in memory. A registration belongs to an I_T
 * nexus identity (initiator name + ISID + target portal group), not to a
 * struct bt_nexus, so it survives logout/login as SPC-4 requires. Not
 * supported (REPORT CAPABILITIES says so): SPEC_I_PT, ALL_TG_PT, APTPL
 * (persistence across power loss comes with the replicated tail region,
 * bt_lu_set_reserved_tail), REGISTER AND MOVE, REPLACE LOST RESERVATION.
 * PREEMPT AND ABORT preempts like PREEMPT but does not abort the preempted
 * nexuses' tasks in flight (they finish normally).
 */
#include "scsi_int.h"

enum {
	PR_WE = 1, PR_EA = 3, PR_WE_RO = 5, PR_EA_RO = 6, PR_WE_AR = 7, PR_EA_AR = 8,
};

struct scsi_pr_reg {
	struct scsi_pr_reg *next;
	u64 key;
	u16 tpgt;
	u8  isid[6];
	char initiator[];             /* IQN, NUL terminated                   */
};

static bool type_valid(u8 type)
{
	return type == PR_WE || type == PR_EA || type == PR_WE_RO ||
	       type == PR_EA_RO || type == PR_WE_AR || type == PR_EA_AR;
}

static bool all_registrants(u8 type)
{
	return type == PR_WE_AR || type == PR_EA_AR;
}

static bool registrants_only(u8 type)
{
	return type == PR_WE_RO || type == PR_EA_RO;
}

static bool reg_is(const struct scsi_pr_reg *r, const struct bt_nexus *n)
{
	const char *ini = n && n->initiator ? n->initiator : "";

	return bt_strcmp(r->initiator, ini) == 0 &&
	       bt_memcmp(r->isid, n ? n->isid : (const u8 *)"\0\0\0\0\0\0", 6) == 0 &&
	       r->tpgt == (n ? n->tpgt : 0);
}

static struct scsi_pr_reg *reg_find(struct bt_lu *lu, const struct bt_nexus *n)
{
	struct scsi_pr_reg *r;

	for (r = lu->pr.regs; r; r = r->next)
		if (reg_is(r, n))
			return r;
	return NULL;
}

void scsi_pr_free(struct bt_lu *lu)
{
	struct scsi_pr_reg *r, *nxt;

	for (r = lu->pr.regs; r; r = nxt) {
		nxt = r->next;
		bt_free(r);
	}
	lu->pr.regs = NULL;
	lu->pr.holder = NULL;
	lu->pr.type = 0;
}

/* Is the nexus a reservation holder (SPC-4 5.13.10)? */
static bool is_holder(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	if (!lu->pr.type || !r)
		return false;
	return all_registrants(lu->pr.type) || lu->pr.holder == r;
}

/* UA to every nexus of the target whose identity is registration r. */
static void ua_reg(struct bt_cmd *cmd, const struct scsi_pr_reg *r, u8 ua)
{
	struct scsi_target_state *ts;
	struct scsi_nexus_state *ns;

	if (!cmd->target)
		return;
	ts = *bt_target_scsi_slot(cmd->target);
	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next)
		if (ns->n != cmd->nexus && reg_is(r, ns->n))
			scsi_ua_nexus(ns, cmd->lun, ua);
}

/* Unlink and free a registration; the reservation is the caller's. */
static void reg_unlink(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	struct scsi_pr_reg **pp;

	for (pp = &lu->pr.regs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	bt_free(r);
}

/* Unregister: a reservation held by r goes with it (SPC-4 5.13.11.2.4). */
static void reg_remove(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	if (lu->pr.holder == r) {
		lu->pr.holder = NULL;
		lu->pr.type = 0;
	}
	/* an all-registrants reservation has no single holder; the last
	 * registrant of an all-registrants reservation takes it
	 * with it */
	reg_unlink(lu, r);
	if (lu->pr.type && all_registrants(lu->pr.type) && !lu->pr.regs)
		lu->pr.type = 0;
}

/* ---- conflicts for other commands (called by dispatch) ------------------ */

bool scsi_pr_conflict(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	const struct scsi_op *op = t->op;
	struct scsi_pr_reg *r;
	bool write_class;
	u8 type = lu->pr.type;

	if (op->flags & OPF_PR_OK)
		return false;
	if (!type) {
		/* SPC-2 RESERVE/RELEASE while PR registrations exist */
		return (op->opcode == 0x16 || op->opcode == 0x56) && lu->pr.regs;
	}
	r = reg_find(lu, t->cmd->nexus);
	if (is_holder(lu, r))
		return false;
	if (r && (registrants_only(type) || all_registrants(type)))
		return false;
	write_class = (op->flags & OPF_WRITE) || op->opcode == 0x15 ||
		      op->opcode == 0x55 || op->opcode == 0x35 ||
		      op->opcode == 0x91 || op->opcode == 0x16 ||
		      op->opcode == 0x56 || op->opcode == 0x1b ||
		      op->opcode == 0x1e || op->opcode == 0x83;
	if (type == PR_WE || type == PR_WE_RO || type == PR_WE_AR)
		return write_class;
	return true;                  /* exclusive access                     */
}

/* ---- PERSISTENT RESERVE IN ---------------------------------------------- */

static u32 transport_id(u8 *p, const struct scsi_pr_reg *r)
{
	/* iSCSI initiator port TransportID: "<name>,i,0x<ISID>" (SPC-4 7.6.4.6) */
	char name[256 + 32];
	u32 n, padded;

	n = (u32)bt_snprintf(name, sizeof(name), "%s,i,0x%02x%02x%02x%02x%02x%02x",
			     r->initiator, r->isid[0], r->isid[1], r->isid[2],
			     r->isid[3], r->isid[4], r->isid[5]) + 1;
	if (n > sizeof(name))
		n = sizeof(name);
	padded = (n + 3) & ~3u;
	if (padded < 20)
		padded = 20;
	bt_memset(p, 0, 4 + padded);
	p[0] = 0x40 | 0x05;           /* format 01b, protocol iSCSI          */
	bt_put_be16(p + 2, (u16)padded);
	bt_memcpy(p + 4, name, n);
	return 4 + padded;
}

int scsi_exec_pr_in(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	const u8 *cdb = t->cmd->cdb;
	u8 sa = cdb[1] & 0x1f;
	u32 alloc = bt_get_be16(cdb + 7), n = 0, len, cap;
	struct scsi_pr_reg *r;
	u8 *buf, *p;
	int rc;

	for (r = lu->pr.regs; r; r = r->next)
		n++;
	cap = 8 + n * (24 + 4 + 300) + 32;
	buf = bt_zalloc(cap);
	if (!buf)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	bt_put_be32(buf, lu->pr.generation);
	p = buf + 8;
	switch (sa) {
	case 0x00:                    /* READ KEYS                             */
		for (r = lu->pr.regs; r; r = r->next, p += 8)
			bt_put_be64(p, r->key);
		break;
	case 0x01:                    /* READ RESERVATION                      */
		if (lu->pr.type) {
			if (!all_registrants(lu->pr.type) && lu->pr.holder)
				bt_put_be64(p, lu->pr.holder->key);
			p[13] = lu->pr.type;  /* scope 0: LU                  */
			p += 16;
		}
		break;
	case 0x02:                    /* REPORT CAPABILITIES                   */
		bt_memset(buf, 0, 8);
		bt_put_be16(buf, 8);
		buf[2] = 0x10;            /* CRH: RESERVE(6) vs PR handled        */
		buf[3] = 0x80 | 0x10;     /* TMV, ALLOW COMMANDS 001b              */
		buf[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
		buf[5] = 0x01;
		rc = scsi_reply(t, buf, 8, alloc);
		bt_free(buf);
		return rc;
	case 0x03:                    /* READ FULL STATUS                      */
		for (r = lu->pr.regs; r; r = r->next) {
			u8 *d = p;

			bt_put_be64(d, r->key);
			if (is_holder(lu, r)) {
				d[12] = 0x01;     /* R_HOLDER                 */
				d[13] = lu->pr.type;
			}
			bt_put_be16(d + 18, t->cmd->nexus && t->cmd->nexus->rel_port ?
				    t->cmd->nexus->rel_port : 1);
			len = transport_id(d + 24, r);
			bt_put_be32(d + 20, len);
			p += 24 + len;
		}
		break;
	default:
		bt_free(buf);
		return scsi_invalid_cdb(t, 1, 4);
	}
	len = (u32)(p - buf);
	bt_put_be32(buf + 4, len - 8);
	rc = scsi_reply(t, buf, len, alloc);
	bt_free(buf);
	return rc;
}

/* ---- PERSISTENT RESERVE OUT --------------------------------------------- */

static int conflict(struct scsi_task *t)
{
	t->cmd->status = BT_SAM_RESERVATION_CONFLICT;
	return SCSI_DONE;
}

static int pr_register(struct scsi_task *t, struct scsi_pr_reg *r, u64 key,
		       u64 sakey, bool ignore)
{
	struct bt_lu *lu = t->lu;
	struct bt_nexus *n = t->cmd->nexus;
	const char *ini = n && n->initiator ? n->initiator : "";
	bt_size_t len;

	if (!r) {
		if (!ignore && key != 0)
			return conflict(t);
		if (sakey == 0)
			return SCSI_DONE;
		len = bt_strlen(ini) + 1;
		r = bt_zalloc(sizeof(*r) + len);
		if (!r)
			return scsi_sense(t, SK_HARDWARE_ERROR,
					  ASC_INSUFFICIENT_RESOURCES);
		bt_memcpy(r->initiator, ini, len);
		if (n)
			bt_memcpy(r->isid, n->isid, 6);
		r->tpgt = n ? n->tpgt : 0;
		r->key = sakey;
		r->next = lu->pr.regs;
		lu->pr.regs = r;
		lu->pr.generation++;
		return SCSI_DONE;
	}
	if (!ignore && key != r->key)
		return conflict(t);
	lu->pr.generation++;
	if (sakey) {
		r->key = sakey;
		return SCSI_DONE;
	}
	/* unregister; a WE/EA RO reservation it held is released and the
	 * other registrants are told */
	if (lu->pr.holder == r && registrants_only(lu->pr.type)) {
		struct scsi_pr_reg *o;

		for (o = lu->pr.regs; o; o = o->next)
			if (o != r)
				ua_reg(t->cmd, o, UA_RES_RELEASED);
	}
	reg_remove(lu, r);
	return SCSI_DONE;
}

static int pr_reserve(struct scsi_task *t, struct scsi_pr_reg *r, u64 key,
		      u8 type)
{
	struct bt_lu *lu = t->lu;

	if (!r || key != r->key)
		return conflict(t);
	if (!lu->pr.type) {
		lu->pr.type = type;
		lu->pr.holder = all_registrants(type) ? NULL : r;
		return SCSI_DONE;
	}
	if (is_holder(lu, r) && lu->pr.type == type)
		return SCSI_DONE;
	return conflict(t);
}

static int pr_release(struct scsi_task *t, struct scsi_pr_reg *r, u64 key,
		      u8 type)
{
	struct bt_lu *lu = t->lu;
	struct scsi_pr_reg *o;
	u8 old = lu->pr.type;

	if (!r || key != r->key)
		return conflict(t);
	if (!old || !is_holder(lu, r))
		return SCSI_DONE;
	if (type != old)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, 0x2604);
	lu->pr.type = 0;
	lu->pr.holder = NULL;
	if (registrants_only(old) || all_registrants(old))
		for (o = lu->pr.regs; o; o = o->next)
			if (o != r)
				ua_reg(t->cmd, o, UA_RES_RELEASED);
	return SCSI_DONE;
}

static int pr_clear(struct scsi_task *t, struct scsi_pr_reg *r, u64 key)
{
	struct bt_lu *lu = t->lu;
	struct scsi_pr_reg *o;

	if (!r || key != r->key)
		return conflict(t);
	for (o = lu->pr.regs; o; o = o->next)
		if (o != r)
			ua_reg(t->cmd, o, UA_RES_PREEMPTED);
	scsi_pr_free(lu);
	lu->pr.generation++;
	return SCSI_DONE;
}

/* Remove every registration with key sakey except r; returns how many. */
static unsigned remove_key(struct scsi_task *t, struct scsi_pr_reg *r,
			   u64 sakey, bool all_but_r)
{
	struct bt_lu *lu = t->lu;
	struct scsi_pr_reg *o, *nxt;
	unsigned n = 0;

	for (o = lu->pr.regs; o; o = nxt) {
		nxt = o->next;
		if (o == r || (!all_but_r && o->key != sakey))
			continue;
		ua_reg(t->cmd, o, UA_REG_PREEMPTED);
		if (lu->pr.holder == o)
			lu->pr.holder = NULL;
		reg_unlink(lu, o);
		n++;
	}
	return n;
}

static int pr_preempt(struct scsi_task *t, struct scsi_pr_reg *r, u64 key,
		      u64 sakey, u8 type, bool abort)
{
	struct bt_lu *lu = t->lu;
	u8 old = lu->pr.type;

	if (!r || key != r->key)
		return conflict(t);
	lu->pr.generation++;
	if (old && all_registrants(old)) {
		if (sakey == 0) {
			remove_key(t, r, 0, true);
			lu->pr.type = type;
			lu->pr.holder = all_registrants(type) ? NULL : r;
			return SCSI_DONE;
		}
		if (!remove_key(t, r, sakey, false))
			return conflict(t);
		return SCSI_DONE;
	}
	if (old && lu->pr.holder && lu->pr.holder->key == sakey) {
		struct scsi_pr_reg *h = lu->pr.holder;

		if (h != r)
			remove_key(t, r, sakey, false);
		lu->pr.type = type;
		lu->pr.holder = all_registrants(type) ? NULL : r;
		(void)abort;
		return SCSI_DONE;
	}
	if (sakey == 0)
		return scsi_invalid_field(t, false, 8, -1);
	if (!remove_key(t, r, sakey, false))
		return conflict(t);
	return SCSI_DONE;
}

int scsi_exec_pr_out(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	const u8 *cdb = cmd->cdb;
	u8 sa = cdb[1] & 0x1f, scope = cdb[2] >> 4, type = cdb[2] & 0x0f;
	u32 plen = bt_get_be32(cdb + 5);
	struct scsi_pr_reg *r;
	const u8 *p = cmd->out;
	u64 key, sakey;
	bool needs_type = sa == 1 || sa == 2 || sa == 4 || sa == 5;
	int rc;

	cmd->xfer_len = plen;
	if (sa > 6)                   /* REGISTER AND MOVE, REPLACE LOST ...  */
		return scsi_invalid_cdb(t, 1, 4);
	if (plen != 24)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if ((rc = scsi_check_dataout(t, 24)) >= 0)
		return rc;
	if (needs_type && scope != 0)
		return scsi_invalid_cdb(t, 2, 7);
	if (needs_type && !type_valid(type))
		return scsi_invalid_cdb(t, 2, 3);
	if (p[20] & 0x08)             /* SPEC_I_PT                             */
		return scsi_invalid_field(t, false, 20, 3);
	if (p[20] & 0x04)             /* ALL_TG_PT                             */
		return scsi_invalid_field(t, false, 20, 2);
	if (p[20] & 0x01)             /* APTPL (not yet persistent)            */
		return scsi_invalid_field(t, false, 20, 0);
	key = bt_get_be64(p);
	sakey = bt_get_be64(p + 8);
	r = reg_find(t->lu, cmd->nexus);
	switch (sa) {
	case 0: return pr_register(t, r, key, sakey, false);
	case 1: return pr_reserve(t, r, key, type);
	case 2: return pr_release(t, r, key, type);
	case 3: return pr_clear(t, r, key);
	case 4: return pr_preempt(t, r, key, sakey, type, false);
	case 5: return pr_preempt(t, r, key, sakey, type, true);
	default: return pr_register(t, r, key, sakey, true);
	}
}
