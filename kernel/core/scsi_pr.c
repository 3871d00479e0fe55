/*
 * scsi_pr.c - SPC-4 persistent reservations: PERSISTENT RESERVE IN (READ
 * KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS) and OUT
 * (REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR,
 * PREEMPT, PREEMPT AND ABORT, REGISTER AND MOVE), with SPEC_I_PT (iSCSI
 * TransportIDs of format 00b and 01b), ALL_TG_PT and APTPL, and the
 * reservation conflict check dispatch applies to every other command.
 *
 * State lives in the LU (struct scsi_pr). A registration belongs to an I_T
 * nexus identity (initiator name + ISID + target portal group), not to a
 * struct bt_nexus, so it survives logout/login as SPC-4 requires. With
 * BT_FEAT_PR_STORE the state is also kept on the backing's reserved tail
 * and every PR OUT that changes it is durable before it completes
 * (scsi_pr_store.c, which also documents the APTPL decision). Not
 * supported: REPLACE LOST RESERVATION (REPORT CAPABILITIES says RLR_C=0).
 *
 * Identity matching: a registration r covers a nexus when the initiator
 * names are equal, the ISIDs are equal (or r was registered by a SPEC_I_PT
 * TransportID without ISID, which covers every ISID of that initiator),
 * and the target portal groups are equal (or r was registered with
 * ALL_TG_PT=1, which covers every target port).
 *
 * PREEMPT AND ABORT aborts, on this LU, every task of each I_T nexus whose
 * registration it removed (as ABORT TASK SET would; with TAS=0 those tasks
 * end without a response, their initiators see REGISTRATIONS PREEMPTED).
 */
#include "scsi_int.h"

enum {
	PR_WE = 1, PR_EA = 3, PR_WE_RO = 5, PR_EA_RO = 6, PR_WE_AR = 7, PR_EA_AR = 8,
};

enum {
	SA_REGISTER = 0, SA_RESERVE, SA_RELEASE, SA_CLEAR, SA_PREEMPT,
	SA_PREEMPT_ABORT, SA_REGISTER_IGNORE, SA_REGISTER_MOVE,
};

#define ASC_INSUFFICIENT_REG_RESOURCES 0x5504

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

static bool store_on(const struct bt_lu *lu)
{
	return lu->prs.state != PRS_OFF;
}

/* ---- identities ---------------------------------------------------------- */

/* An initiator port + target port, as a nexus or a TransportID names it. */
struct pr_port {
	const char *name;
	u8  isid[6];
	bool isid_any;                /* TransportID format 00b            */
	u16 tpgt;
	u16 rel_port;
};

static const u8 zero_isid[6];

static void port_of(struct pr_port *p, const struct bt_nexus *n)
{
	p->name = n && n->initiator ? n->initiator : "";
	bt_memcpy(p->isid, n ? n->isid : zero_isid, 6);
	p->isid_any = false;
	p->tpgt = n ? n->tpgt : 0;
	p->rel_port = n && n->rel_port ? n->rel_port : 1;
}

/* Does registration r cover port p (see the top comment)? */
static bool reg_covers(const struct scsi_pr_reg *r, const struct pr_port *p)
{
	return bt_strcmp(r->initiator, p->name) == 0 &&
	       (r->isid_any || p->isid_any || bt_memcmp(r->isid, p->isid, 6) == 0) &&
	       (r->all_tg_pt || r->tpgt == p->tpgt);
}

static bool reg_is(const struct scsi_pr_reg *r, const struct bt_nexus *n)
{
	struct pr_port p;

	port_of(&p, n);
	return reg_covers(r, &p);
}

static struct scsi_pr_reg *reg_find_port(struct bt_lu *lu, const struct pr_port *p)
{
	struct scsi_pr_reg *r;

	for (r = lu->pr.regs; r; r = r->next)
		if (reg_covers(r, p))
			return r;
	return NULL;
}

static struct scsi_pr_reg *reg_find(struct bt_lu *lu, const struct bt_nexus *n)
{
	struct pr_port p;

	port_of(&p, n);
	return reg_find_port(lu, &p);
}

static struct scsi_pr_reg *reg_new(const struct pr_port *p, u64 key,
				   bool all_tg_pt)
{
	bt_size_t len = bt_strlen(p->name) + 1;
	struct scsi_pr_reg *r = bt_zalloc(sizeof(*r) + len);

	if (!r)
		return NULL;
	bt_memcpy(r->initiator, p->name, len);
	bt_memcpy(r->isid, p->isid, 6);
	r->isid_any = p->isid_any;
	r->tpgt = p->tpgt;
	r->rel_port = p->rel_port;
	r->all_tg_pt = all_tg_pt;
	r->key = key;
	return r;
}

static void reg_link(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	r->next = lu->pr.regs;
	lu->pr.regs = r;
	lu->pr.nregs++;
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
	lu->pr.nregs = 0;
}

/* Is the nexus a reservation holder (SPC-4 5.13.10)? */
static bool is_holder(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	if (!lu->pr.type || !r)
		return false;
	return all_registrants(lu->pr.type) || lu->pr.holder == r;
}

static struct scsi_target_state *target_state(struct bt_cmd *cmd)
{
	return cmd->target ? *bt_target_scsi_slot(cmd->target) : NULL;
}

/* UA to every nexus of the target whose identity is registration r. */
static void ua_reg(struct bt_cmd *cmd, const struct scsi_pr_reg *r, u8 ua)
{
	struct scsi_target_state *ts = target_state(cmd);
	struct scsi_nexus_state *ns;

	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next)
		if (ns->n != cmd->nexus && reg_is(r, ns->n))
			scsi_ua_nexus(ns, cmd->lun, ua);
}

/* PREEMPT AND ABORT: abort this LU's tasks of every nexus registration r
 * covers (never the preempting nexus's own). */
static void abort_reg(struct scsi_task *t, const struct scsi_pr_reg *r)
{
	struct scsi_target_state *ts = target_state(t->cmd);
	struct scsi_nexus_state *ns;

	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next)
		if (ns->n != t->cmd->nexus && reg_is(r, ns->n))
			scsi_abort_nexus_tasks(t->lu, ns->n);
}

/* Unlink and free a registration; the reservation is the caller's. */
static void reg_unlink(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	struct scsi_pr_reg **pp;

	for (pp = &lu->pr.regs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			lu->pr.nregs--;
			break;
		}
	}
	bt_free(r);
}

/* Unregister: a reservation held by r goes with it (SPC-4 5.13.11.2.4);
 * the last registrant of an all-registrants reservation takes it along. */
static void reg_remove(struct bt_lu *lu, struct scsi_pr_reg *r)
{
	if (lu->pr.holder == r) {
		lu->pr.holder = NULL;
		lu->pr.type = 0;
	}
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

/* ---- TransportIDs (SPC-4 7.6.4.6, iSCSI) --------------------------------- */

#define TID_ISCSI 0x05
#define TID_NAME_BUF (SCSI_PR_NAME_MAX + 1)

static u32 transport_id(u8 *p, const struct scsi_pr_reg *r)
{
	/* format 01b "<name>,i,0x<ISID>", or 00b "<name>" for a
	 * registration made without an ISID */
	char name[TID_NAME_BUF + 32];
	u32 n, padded;

	if (r->isid_any)
		n = (u32)bt_snprintf(name, sizeof(name), "%s", r->initiator) + 1;
	else
		n = (u32)bt_snprintf(name, sizeof(name),
				     "%s,i,0x%02x%02x%02x%02x%02x%02x",
				     r->initiator, r->isid[0], r->isid[1], r->isid[2],
				     r->isid[3], r->isid[4], r->isid[5]) + 1;
	if (n > sizeof(name))
		n = sizeof(name);
	padded = (n + 3) & ~3u;
	if (padded < 20)
		padded = 20;
	bt_memset(p, 0, 4 + padded);
	p[0] = (r->isid_any ? 0x00 : 0x40) | TID_ISCSI;
	bt_put_be16(p + 2, (u16)padded);
	bt_memcpy(p + 4, name, n);
	return 4 + padded;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse one iSCSI TransportID at p (avail bytes left). On success fills
 * port->name (into namebuf), isid/isid_any and returns its length; -1 if
 * malformed (caller answers INVALID FIELD IN PARAMETER LIST).
 */
static int parse_tid(const u8 *p, u32 avail, struct pr_port *port,
		     char namebuf[TID_NAME_BUF])
{
	u32 alen, len, nl, i;
	const char *s, *comma;
	u8 fmt;

	if (avail < 4)
		return -1;
	fmt = p[0] >> 6;
	alen = bt_get_be16(p + 2);
	len = 4 + alen;
	if ((p[0] & 0x0f) != TID_ISCSI || fmt > 1 || alen < 20 || (alen & 3) ||
	    len > avail)
		return -1;
	s = (const char *)p + 4;
	for (nl = 0; nl < alen && s[nl]; nl++)
		;
	if (nl == alen)               /* not NUL terminated                   */
		return -1;
	comma = NULL;
	for (i = 0; i < nl; i++)
		if (s[i] == ',') {
			comma = s + i;
			break;
		}
	if (fmt == 0) {
		if (comma)
			return -1;
		port->isid_any = true;
		bt_memset(port->isid, 0, 6);
	} else {
		/* "<name>,i,0x<12 hex digits>" */
		if (!comma || nl - (u32)(comma - s) != 5 + 12 ||
		    bt_strncmp(comma, ",i,0x", 5) != 0)
			return -1;
		for (i = 0; i < 6; i++) {
			int h = hexval(comma[5 + 2 * i]), l = hexval(comma[6 + 2 * i]);

			if (h < 0 || l < 0)
				return -1;
			port->isid[i] = (u8)(h << 4 | l);
		}
		port->isid_any = false;
		nl = (u32)(comma - s);
	}
	if (nl < 4 || nl > SCSI_PR_NAME_MAX)
		return -1;
	if (bt_strncmp(s, "iqn.", 4) && bt_strncmp(s, "eui.", 4) &&
	    bt_strncmp(s, "naa.", 4))
		return -1;
	bt_memcpy(namebuf, s, nl);
	namebuf[nl] = '\0';
	port->name = namebuf;
	return (int)len;
}

/* ---- PERSISTENT RESERVE IN ---------------------------------------------- */

int scsi_exec_pr_in(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	const u8 *cdb = t->cmd->cdb;
	u8 sa = cdb[1] & 0x1f;
	u32 alloc = bt_get_be16(cdb + 7), len, cap;
	struct scsi_pr_reg *r;
	u8 *buf, *p;
	int rc;

	cap = 8 + lu->pr.nregs * (24 + 4 + TID_NAME_BUF + 32) + 32;
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
		/* CRH, SIP_C, ATP_C, and PTPL_C when the state persists */
		buf[2] = 0x10 | 0x08 | 0x04 | (store_on(lu) ? 0x01 : 0);
		/* TMV, ALLOW COMMANDS 001b, PTPL_A */
		buf[3] = 0x80 | 0x10 | (store_on(lu) && lu->pr.aptpl ? 0x01 : 0);
		buf[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
		buf[5] = 0x01;
		rc = scsi_reply(t, buf, 8, alloc);
		bt_free(buf);
		return rc;
	case 0x03:                    /* READ FULL STATUS                      */
		for (r = lu->pr.regs; r; r = r->next) {
			u8 *d = p;

			bt_put_be64(d, r->key);
			if (r->all_tg_pt)
				d[12] |= 0x02;    /* ALL_TG_PT                */
			if (is_holder(lu, r)) {
				d[12] |= 0x01;    /* R_HOLDER                 */
				d[13] = lu->pr.type;
			}
			bt_put_be16(d + 18, r->all_tg_pt ? 0 : r->rel_port);
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

static int no_resources(struct scsi_task *t)
{
	return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INSUFFICIENT_REG_RESOURCES);
}

/*
 * SPEC_I_PT: register every initiator port named in the TransportID list
 * (param bytes 24..) on this target port (every port with ALL_TG_PT), all
 * or nothing. The issuing nexus is registered by the caller.
 */
static int spec_i_pt(struct scsi_task *t, const struct pr_port *self, u64 sakey,
		     bool all_tg_pt, struct scsi_pr_reg **out)
{
	struct bt_lu *lu = t->lu;
	const u8 *p = t->cmd->out;
	u32 plen = bt_get_be32(t->cmd->cdb + 5), tlen, off;
	struct scsi_pr_reg *list = NULL, *r, *nxt;
	char name[TID_NAME_BUF];
	struct pr_port port;
	u32 n = 0;
	int len;

	tlen = bt_get_be32(p + 24);
	if (28 + (u64)tlen != plen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	for (off = 28; off < plen; off += (u32)len) {
		port = *self;
		len = parse_tid(p + off, plen - off, &port, name);
		if (len < 0)
			goto out_invalid;
		/* the issuer itself is registered by the caller */
		if (!bt_strcmp(port.name, self->name) && !port.isid_any &&
		    !bt_memcmp(port.isid, self->isid, 6))
			continue;
		/* already registered, or named twice */
		if (reg_find_port(lu, &port))
			goto out_invalid;
		for (r = list; r; r = r->next)
			if (reg_covers(r, &port))
				goto out_invalid;
		if (lu->pr.nregs + ++n + 1 > SCSI_PR_MAX_REGS) {
			len = no_resources(t);
			goto out_free;
		}
		r = reg_new(&port, sakey, all_tg_pt);
		if (!r) {
			len = scsi_sense(t, SK_HARDWARE_ERROR, ASC_INSUFFICIENT_RESOURCES);
			goto out_free;
		}
		r->next = list;
		list = r;
	}
	*out = list;
	return -1;

out_invalid:
	len = scsi_invalid_field(t, false, (u16)off, -1);
out_free:
	for (r = list; r; r = nxt) {
		nxt = r->next;
		bt_free(r);
	}
	return len;
}

static int pr_register(struct scsi_task *t, struct scsi_pr_reg *r, u64 key,
		       u64 sakey, bool ignore, u8 flags)
{
	struct bt_lu *lu = t->lu;
	struct scsi_pr_reg *extra = NULL, *nxt;
	struct pr_port self;
	bool all_tg_pt = flags & 0x04;
	int rc;

	port_of(&self, t->cmd->nexus);
	/* the transport bounds names (RFC 7143); the store relies on it */
	if (bt_strlen(self.name) > SCSI_PR_NAME_MAX)
		return no_resources(t);
	if (flags & 0x08) {           /* SPEC_I_PT                            */
		if (r)
			return scsi_invalid_cdb(t, 1, -1);
		if (!ignore && key != 0)
			return conflict(t);
		if (sakey == 0)
			return SCSI_DONE;
		if ((rc = spec_i_pt(t, &self, sakey, all_tg_pt, &extra)) >= 0)
			return rc;
	}
	if (!r) {
		if (!ignore && key != 0)
			return conflict(t);
		if (sakey == 0)
			return SCSI_DONE;
		/* a format-00b TransportID naming the issuer's own initiator
		 * already covers the issuer: one registration, not two */
		for (r = extra; r && !reg_covers(r, &self); r = r->next)
			;
		if (!r) {
			if (lu->pr.nregs + 1 > SCSI_PR_MAX_REGS)
				goto out_no_resources;
			r = reg_new(&self, sakey, all_tg_pt);
			if (!r)
				goto out_no_memory;
			reg_link(lu, r);
		}
		for (; extra; extra = nxt) {
			nxt = extra->next;
			reg_link(lu, extra);
		}
		lu->pr.aptpl = flags & 0x01;
		lu->pr.generation++;
		return SCSI_DONE;
	}
	if (!ignore && key != r->key)
		return conflict(t);
	lu->pr.generation++;
	lu->pr.aptpl = flags & 0x01;
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

out_no_memory:
	rc = scsi_sense(t, SK_HARDWARE_ERROR, ASC_INSUFFICIENT_RESOURCES);
	goto out_free_extra;
out_no_resources:
	rc = no_resources(t);
out_free_extra:
	for (; extra; extra = nxt) {
		nxt = extra->next;
		bt_free(extra);
	}
	return rc;
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

/* Remove every registration with key sakey (every one with all_but_r)
 * except r, telling their nexuses and, for PREEMPT AND ABORT, aborting
 * their tasks; returns how many. */
static unsigned remove_key(struct scsi_task *t, struct scsi_pr_reg *r,
			   u64 sakey, bool all_but_r, bool abort)
{
	struct bt_lu *lu = t->lu;
	struct scsi_pr_reg *o, *nxt;
	unsigned n = 0;

	for (o = lu->pr.regs; o; o = nxt) {
		nxt = o->next;
		if (o == r || (!all_but_r && o->key != sakey))
			continue;
		ua_reg(t->cmd, o, UA_REG_PREEMPTED);
		if (abort)
			abort_reg(t, o);
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
	if (old && all_registrants(old)) {
		if (sakey == 0) {
			remove_key(t, r, 0, true, abort);
			lu->pr.type = type;
			lu->pr.holder = all_registrants(type) ? NULL : r;
			lu->pr.generation++;
			return SCSI_DONE;
		}
		if (!remove_key(t, r, sakey, false, abort))
			return conflict(t);
		lu->pr.generation++;
		return SCSI_DONE;
	}
	if (old && lu->pr.holder && lu->pr.holder->key == sakey) {
		if (lu->pr.holder != r)
			remove_key(t, r, sakey, false, abort);
		lu->pr.type = type;
		lu->pr.holder = all_registrants(type) ? NULL : r;
		lu->pr.generation++;
		return SCSI_DONE;
	}
	if (sakey == 0)
		return scsi_invalid_field(t, false, 8, -1);
	if (!remove_key(t, r, sakey, false, abort))
		return conflict(t);
	lu->pr.generation++;
	return SCSI_DONE;
}

/* Target port (tpgt) behind a relative target port id: one some nexus of
 * this target uses. false if no such port. */
static bool rel_port_tpgt(struct scsi_task *t, u16 rel, u16 *tpgt)
{
	struct scsi_target_state *ts = target_state(t->cmd);
	struct scsi_nexus_state *ns;
	const struct bt_nexus *me = t->cmd->nexus;

	if (me && (me->rel_port ? me->rel_port : 1) == rel) {
		*tpgt = me->tpgt;
		return true;
	}
	for (ns = ts ? ts->nexuses : NULL; ns; ns = ns->next) {
		if ((ns->n->rel_port ? ns->n->rel_port : 1) == rel) {
			*tpgt = ns->n->tpgt;
			return true;
		}
	}
	return false;
}

/*
 * REGISTER AND MOVE (SPC-4 5.13.8): the holder hands its reservation to
 * another I_T nexus (TransportID + relative target port), registering it
 * with the service action key; UNREG drops the issuer's registration.
 */
static int pr_register_move(struct scsi_task *t, struct scsi_pr_reg *r,
			    u64 key, u64 sakey)
{
	struct bt_lu *lu = t->lu;
	const u8 *p = t->cmd->out;
	u32 plen = bt_get_be32(t->cmd->cdb + 5), tlen;
	char name[TID_NAME_BUF];
	struct pr_port self, dst;
	struct scsi_pr_reg *d;
	u16 rel = bt_get_be16(p + 18);

	tlen = bt_get_be32(p + 20);
	if (24 + (u64)tlen != plen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if (!r || key != r->key)
		return conflict(t);
	if (!lu->pr.type || all_registrants(lu->pr.type) || lu->pr.holder != r)
		return conflict(t);
	if (sakey == 0)
		return scsi_invalid_field(t, false, 8, -1);
	if ((p[17] & 0x01) && !store_on(lu))
		return scsi_invalid_field(t, false, 17, 0);
	port_of(&self, t->cmd->nexus);
	dst = self;
	if (parse_tid(p + 24, tlen, &dst, name) < 0)
		return scsi_invalid_field(t, false, 24, -1);
	if (!rel_port_tpgt(t, rel, &dst.tpgt))
		return scsi_invalid_field(t, false, 18, -1);
	dst.rel_port = rel;
	if (reg_covers(r, &dst))      /* moving to itself                     */
		return scsi_invalid_field(t, false, 24, -1);
	d = reg_find_port(lu, &dst);
	if (!d) {
		if (lu->pr.nregs + 1 > SCSI_PR_MAX_REGS)
			return no_resources(t);
		d = reg_new(&dst, sakey, false);
		if (!d)
			return scsi_sense(t, SK_HARDWARE_ERROR,
					  ASC_INSUFFICIENT_RESOURCES);
		reg_link(lu, d);
	} else {
		d->key = sakey;
	}
	lu->pr.holder = d;
	lu->pr.aptpl = p[17] & 0x01;
	if (p[17] & 0x02)             /* UNREG                                */
		reg_unlink(lu, r);
	lu->pr.generation++;
	return SCSI_DONE;
}

/* BT_EV_PR_CHANGE for management subscribers: the PR state of (target,
 * lun) changed (and, with the store, is durable). */
void scsi_pr_event(struct scsi_task *t)
{
	const struct bt_host_ops *ops = bt_engine_ops(t->lu->e);
	struct bt_event ev = {
		.type = BT_EV_PR_CHANGE,
		.target = t->cmd->target ? bt_target_iqn(t->cmd->target) : NULL,
		.initiator = t->cmd->nexus ? t->cmd->nexus->initiator : NULL,
		.lun = t->cmd->lun,
	};

	if (ops->event)
		ops->event(bt_engine_host(t->lu->e), &ev);
}

static int pr_out_action(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	u8 sa = cmd->cdb[1] & 0x1f, type = cmd->cdb[2] & 0x0f;
	const u8 *p = cmd->out;
	u64 key = bt_get_be64(p), sakey = bt_get_be64(p + 8);
	struct scsi_pr_reg *r = reg_find(t->lu, cmd->nexus);

	switch (sa) {
	case SA_REGISTER:        return pr_register(t, r, key, sakey, false, p[20]);
	case SA_RESERVE:         return pr_reserve(t, r, key, type);
	case SA_RELEASE:         return pr_release(t, r, key, type);
	case SA_CLEAR:           return pr_clear(t, r, key);
	case SA_PREEMPT:         return pr_preempt(t, r, key, sakey, type, false);
	case SA_PREEMPT_ABORT:   return pr_preempt(t, r, key, sakey, type, true);
	case SA_REGISTER_IGNORE: return pr_register(t, r, key, sakey, true, p[20]);
	default:                 return pr_register_move(t, r, key, sakey);
	}
}

int scsi_exec_pr_out(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	const u8 *cdb = cmd->cdb;
	u8 sa = cdb[1] & 0x1f, scope = cdb[2] >> 4, type = cdb[2] & 0x0f;
	u32 plen = bt_get_be32(cdb + 5);
	const u8 *p = cmd->out;
	bool needs_type = sa == SA_RESERVE || sa == SA_RELEASE ||
			  sa == SA_PREEMPT || sa == SA_PREEMPT_ABORT;
	bool reg = sa == SA_REGISTER || sa == SA_REGISTER_IGNORE;
	const struct scsi_pr_reg *holder;
	u8 old_type;
	u32 gen;
	int rc;

	cmd->xfer_len = plen;
	if (sa > SA_REGISTER_MOVE)    /* REPLACE LOST RESERVATION ...         */
		return scsi_invalid_cdb(t, 1, 4);
	if (plen < 24)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if ((rc = scsi_check_dataout(t, plen)) >= 0)
		return rc;
	if (needs_type && scope != 0)
		return scsi_invalid_cdb(t, 2, 7);
	if (needs_type && !type_valid(type))
		return scsi_invalid_cdb(t, 2, 3);
	if (sa != SA_REGISTER_MOVE) {
		/* SPEC_I_PT only with the register actions; a list follows */
		if ((p[20] & 0x08) && !reg)
			return scsi_invalid_field(t, false, 20, 3);
		if ((p[20] & 0x08) ? plen < 28 : plen != 24)
			return scsi_sense(t, SK_ILLEGAL_REQUEST,
					  ASC_PARAM_LIST_LENGTH_ERROR);
		/* APTPL=1 only when something persists (ignored for the
		 * non-register actions, as SPC-4 says) */
		if (reg && (p[20] & 0x01) && !store_on(t->lu))
			return scsi_invalid_field(t, false, 20, 0);
	}
	if ((rc = scsi_prs_begin(t)) >= 0)
		return rc;
	if (store_on(t->lu))          /* the store sends the event when durable */
		return scsi_prs_finish(t, pr_out_action(t));
	gen = t->lu->pr.generation;
	holder = t->lu->pr.holder;
	old_type = t->lu->pr.type;
	rc = pr_out_action(t);
	if (cmd->status == BT_SAM_GOOD && (gen != t->lu->pr.generation ||
	    holder != t->lu->pr.holder || old_type != t->lu->pr.type))
		scsi_pr_event(t);
	return rc;
}
