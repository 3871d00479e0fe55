/*
 * iscsi_conn.c - connection entry points (bt_conn_new / bt_conn_rx /
 * bt_conn_closed) and the full feature phase dispatcher: CmdSN window,
 * NOP-Out/NOP-In, Text (SendTargets), Logout, Task Management, SNACK and
 * Reject. SCSI commands and Data-Out go to iscsi_cmd.c, Login to
 * iscsi_login.c.
 */
#include "iscsi_int.h"

static void copy_str(char *dst, bt_size_t cap, const char *src)
{
	bt_size_t n = src ? bt_strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		bt_memcpy(dst, src, n);
	dst[n] = 0;
}

struct bt_conn *bt_conn_new(struct bt_engine *e, void *host_conn,
			    const char *local, const char *peer)
{
	struct iscsi_engine *ie = iscsi_engine_of(e);
	struct bt_conn *c;

	if (!ie)
		return NULL;
	c = bt_zalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->ie = ie;
	c->host_conn = host_conn;
	copy_str(c->local, sizeof(c->local), local);
	copy_str(c->peer, sizeof(c->peer), peer);
	iscsi_params_default(&c->params);
	c->params.max_recv_dsl = ISCSI_OUR_MAX_RECV_DSL;
	c->state = ISCSI_CONN_LOGIN;
	c->login_start_ms = ie->now_ms ? ie->now_ms : bt_now_ms();
	c->last_rx_ms = c->login_start_ms;
	c->next_ttt = 1;
	c->next = ie->conns;
	ie->conns = c;
	return c;
}

void iscsi_conn_drop(struct bt_conn *c, const char *why)
{
	if (c->state == ISCSI_CONN_DEAD || c->host_gone)
		return;
	bt_info("iscsi %s: closing connection: %s\n", c->peer, why);
	c->state = ISCSI_CONN_DEAD;
	c->ie->ops->conn_close(c->ie->host, c->host_conn);
}

int bt_conn_rx(struct bt_conn *c, const void *buf, bt_size_t len)
{
	int rc;

	if (c->state == ISCSI_CONN_DEAD || c->host_gone)
		return -BT_ECONNRESET;
	c->last_rx_ms = c->ie->now_ms ? c->ie->now_ms : bt_now_ms();
	rc = iscsi_rx(c, buf, len);
	if (rc) {
		iscsi_conn_drop(c, "protocol error");
		return rc;
	}
	return c->state == ISCSI_CONN_DEAD ? -BT_ECONNRESET : 0;
}

void iscsi_conn_maybe_free(struct bt_conn *c)
{
	struct bt_conn **pp;

	if (!c->host_gone || c->ntasks_scsi)
		return;
	for (pp = &c->ie->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bt_free(c->rx_data);
	bt_free(c->text_in);
	bt_free(c->text_out);
	bt_free(c);
}

void bt_conn_closed(struct bt_conn *c)
{
	struct iscsi_session *s = c->sess;

	if (c->host_gone)
		return;
	c->host_gone = true;
	c->state = ISCSI_CONN_DEAD;
	iscsi_login_free(c);
	iscsi_tasks_abandon(c);
	if (s) {
		c->sess = NULL;
		if (s->conn == c)
			s->conn = NULL;
		if (!s->dropped && !s->conn)
			iscsi_session_drop(s, "connection closed");
		iscsi_session_put(s);
	}
	iscsi_conn_maybe_free(c);
}

u32 iscsi_exp_cmdsn(const struct bt_conn *c)
{
	if (c->sess)
		return c->sess->exp_cmdsn;
	return 0;
}

/*
 * The window shrinks with every live task of the connection (collecting
 * data or in the SCSI layer), so an initiator can never have more than
 * ISCSI_CMD_WINDOW commands with us; MaxCmdSN = ExpCmdSN - 1 means closed.
 */
u32 iscsi_max_cmdsn(const struct bt_conn *c)
{
	u32 used = BT_MIN(c->ntasks, ISCSI_CMD_WINDOW);

	return iscsi_exp_cmdsn(c) + (ISCSI_CMD_WINDOW - used) - 1;
}

/*
 * CmdSN check for a PDU that carries one. Immediate PDUs do not advance
 * ExpCmdSN. A non-immediate CmdSN outside [ExpCmdSN, MaxCmdSN] is silently
 * ignored (RFC 7143 4.2.2.1). With one connection per session commands
 * arrive in order, so an in-window CmdSN simply moves ExpCmdSN past it.
 */
static bool cmdsn_accept(struct bt_conn *c, const u8 *hdr)
{
	struct iscsi_session *s = c->sess;
	u32 sn = bt_get_be32(hdr + 24);

	if (hdr[0] & ISCSI_IMMEDIATE)
		return true;
	if (sn_lt(sn, s->exp_cmdsn) || sn_lt(iscsi_max_cmdsn(c), sn)) {
		bt_debug("iscsi %s: CmdSN %u outside [%u, %u], ignored\n",
			 c->peer, sn, s->exp_cmdsn, iscsi_max_cmdsn(c));
		return false;
	}
	s->exp_cmdsn = sn + 1;
	return true;
}

static int nop_out(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen)
{
	u32 itt = bt_get_be32(hdr + 16);
	u32 ttt = bt_get_be32(hdr + 20);
	u8 r[ISCSI_BHS_LEN];

	if (ttt != ISCSI_RSVD_TAG) {
		/* Answer to our ping. */
		c->ping_sent_ms = 0;
		return 0;
	}
	if (itt == ISCSI_RSVD_TAG)
		return 0;                 /* no answer wanted                 */
	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_NOP_IN;
	r[1] = 0x80;
	bt_memcpy(r + 8, hdr + 8, 8);
	bt_put_be32(r + 16, itt);
	bt_put_be32(r + 20, ISCSI_RSVD_TAG);
	iscsi_fill_sn(c, r, true);
	return iscsi_send(c, r, data, BT_MIN(dlen, c->params.max_xmit_dsl));
}

/* Send the next chunk of c->text_out as a Text Response. */
static int text_send_chunk(struct bt_conn *c, u32 itt, const u8 *lun)
{
	u8 r[ISCSI_BHS_LEN];
	u32 left = c->text_out_len - c->text_out_off;
	u32 n = BT_MIN(left, c->params.max_xmit_dsl);
	int rc;

	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_TEXT_RSP;
	bt_memcpy(r + 8, lun, 8);
	bt_put_be32(r + 16, itt);
	if (n == left) {
		r[1] = 0x80;
		bt_put_be32(r + 20, ISCSI_RSVD_TAG);
	} else {
		r[1] = 0x40;              /* C: more follows                  */
		c->text_ttt = c->next_ttt++;
		if (c->text_ttt == ISCSI_RSVD_TAG)
			c->text_ttt = c->next_ttt++;
		bt_put_be32(r + 20, c->text_ttt);
	}
	iscsi_fill_sn(c, r, true);
	rc = iscsi_send(c, r, c->text_out ? c->text_out + c->text_out_off : NULL, n);
	c->text_out_off += n;
	if (c->text_out_off >= c->text_out_len) {
		bt_free(c->text_out);
		c->text_out = NULL;
		c->text_out_len = c->text_out_off = 0;
		c->text_ttt = 0;
	}
	return rc;
}

struct text_ctx {
	struct bt_conn *c;
	struct iscsi_text_out *out;
	bool sendtargets_done;
};

static int text_key(void *arg, const char *key, const char *val)
{
	struct text_ctx *t = arg;

	if (!bt_strcmp(key, "SendTargets")) {
		if (!t->sendtargets_done)
			iscsi_sendtargets(t->c, val, t->out);
		t->sendtargets_done = true;
	} else {
		iscsi_text_add(t->out, key, "NotUnderstood");
	}
	return 0;
}

static int text_req(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen)
{
	u32 itt = bt_get_be32(hdr + 16);
	u32 ttt = bt_get_be32(hdr + 20);
	bool cont = hdr[1] & 0x40;
	struct iscsi_text_out out = { .limit = ISCSI_TEXT_RSP_MAX };
	struct text_ctx t = { c, &out, false };
	int rc;

	if (ttt != ISCSI_RSVD_TAG) {
		/* Continuation of our long answer. */
		if (!c->text_out || ttt != c->text_ttt)
			return iscsi_send_reject(c, ISCSI_REJ_INVALID_FIELD, hdr);
		return text_send_chunk(c, itt, hdr + 8);
	}
	bt_free(c->text_out);
	c->text_out = NULL;
	c->text_out_len = c->text_out_off = 0;
	if (dlen) {
		u8 *nb;

		if (c->text_in_len + dlen > ISCSI_LOGIN_TEXT_MAX)
			return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
		nb = bt_realloc(c->text_in, c->text_in_len + dlen);
		if (!nb)
			return -BT_ENOMEM;
		c->text_in = nb;
		bt_memcpy(c->text_in + c->text_in_len, data, dlen);
		c->text_in_len += dlen;
	}
	if (cont) {
		/* The initiator continues its text: acknowledge with an empty
		 * Text Response (F=0) and wait for the rest (RFC 7143 11.10). */
		u8 r[ISCSI_BHS_LEN];

		bt_memset(r, 0, sizeof(r));
		r[0] = ISCSI_OP_TEXT_RSP;
		bt_memcpy(r + 8, hdr + 8, 8);
		bt_put_be32(r + 16, itt);
		bt_put_be32(r + 20, ISCSI_RSVD_TAG);
		iscsi_fill_sn(c, r, true);
		return iscsi_send(c, r, NULL, 0);
	}
	rc = iscsi_text_parse(c->text_in, c->text_in_len, text_key, &t);
	bt_free(c->text_in);
	c->text_in = NULL;
	c->text_in_len = 0;
	if (rc || out.overflow) {
		iscsi_text_free(&out);
		return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
	}
	c->text_out = out.buf;
	c->text_out_len = out.len;
	c->text_out_off = 0;
	return text_send_chunk(c, itt, hdr + 8);
}

static int logout_req(struct bt_conn *c, const u8 *hdr)
{
	u8 reason = hdr[1] & 0x7f;
	u16 cid = bt_get_be16(hdr + 20);
	u8 r[ISCSI_BHS_LEN];
	u8 resp = 0;
	int rc;

	if (reason == 2)
		resp = 2;                 /* recovery not supported (ERL 0)   */
	else if (reason == 1 && cid != c->cid)
		resp = 1;                 /* CID not found                    */
	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_LOGOUT_RSP;
	r[1] = 0x80;
	r[2] = resp;
	bt_put_be32(r + 16, bt_get_be32(hdr + 16));
	iscsi_fill_sn(c, r, true);
	bt_put_be16(r + 40, 0);           /* Time2Wait                        */
	bt_put_be16(r + 42, 0);           /* Time2Retain                      */
	rc = iscsi_send(c, r, NULL, 0);
	if (rc || resp)
		return rc;
	if (c->sess && !c->sess->discovery && !c->sess->dropped &&
	    c->ie->ops->event) {
		struct bt_event ev = {
			.type = BT_EV_LOGOUT,
			.target = c->sess->target ? bt_target_iqn(c->sess->target) : NULL,
			.initiator = c->sess->initiator,
			.session_id = c->sess->id,
		};
		c->ie->ops->event(c->ie->host, &ev);
	}
	if (c->sess && !c->sess->dropped)
		iscsi_session_drop(c->sess, "logout");
	else
		iscsi_conn_drop(c, "logout");
	return 0;
}

static int tmf_req(struct bt_conn *c, const u8 *hdr)
{
	struct iscsi_session *s = c->sess;
	u8 fn = hdr[1] & 0x7f;
	u64 lun = iscsi_lun_decode(hdr + 8);
	u32 rtt = bt_get_be32(hdr + 20);
	u8 r[ISCSI_BHS_LEN];
	int resp = ISCSI_TMF_RSP_COMPLETE;
	bool drop_all = false;
	int rc;

	if (s->discovery)
		return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
	switch (fn) {
	case BT_TMF_ABORT_TASK: {
		struct iscsi_task *t = iscsi_task_find(c, rtt);

		if (!t)
			resp = ISCSI_TMF_RSP_NO_TASK;
		else if (t->state == ISCSI_TASK_COLLECT)
			iscsi_task_free(t);   /* never reached the SCSI layer  */
		else
			resp = bt_scsi_tmf(&s->nexus, BT_TMF_ABORT_TASK, lun, rtt);
		break;
	}
	case BT_TMF_ABORT_TASK_SET:
	case BT_TMF_CLEAR_TASK_SET:
	case BT_TMF_LUN_RESET:
		if (!bt_target_lu(s->target, lun)) {
			resp = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		iscsi_tasks_abort_collecting(c, false, lun);
		resp = bt_scsi_tmf(&s->nexus, (enum bt_tmf)fn, lun, rtt);
		break;
	case BT_TMF_CLEAR_ACA:
		resp = bt_scsi_tmf(&s->nexus, BT_TMF_CLEAR_ACA, lun, rtt);
		break;
	case BT_TMF_TARGET_WARM_RESET:
	case BT_TMF_TARGET_COLD_RESET:
		iscsi_tasks_abort_collecting(c, true, 0);
		resp = bt_scsi_tmf(&s->nexus, (enum bt_tmf)fn, lun, rtt);
		drop_all = fn == BT_TMF_TARGET_COLD_RESET && resp == 0;
		break;
	case 8:                           /* TASK REASSIGN                    */
		resp = ISCSI_TMF_RSP_REASSIGN_NS;
		break;
	default:
		resp = ISCSI_TMF_RSP_REJECTED;
		break;
	}
	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_TMF_RSP;
	r[1] = 0x80;
	r[2] = (u8)resp;
	bt_put_be32(r + 16, bt_get_be32(hdr + 16));
	iscsi_fill_sn(c, r, true);
	rc = iscsi_send(c, r, NULL, 0);
	if (drop_all) {
		/* A cold reset ends every I_T nexus of the target (SAM-5). */
		struct bt_target *t = s->target;
		struct iscsi_session *it, *nx;

		for (it = c->ie->sessions; it; it = nx) {
			nx = it->next;
			if (it->target == t)
				iscsi_session_drop(it, "target cold reset");
		}
	}
	return rc;
}

int iscsi_conn_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen,
		   bool data_ok)
{
	u8 op = hdr[0] & ISCSI_OPCODE_MASK;

	if (c->state == ISCSI_CONN_LOGIN) {
		if (op != ISCSI_OP_LOGIN_REQ) {
			bt_warn("iscsi %s: opcode 0x%x before login, dropping\n",
				c->peer, op);
			return -BT_EPROTO;
		}
		if (!data_ok)
			return -BT_EPROTO;
		return iscsi_login_pdu(c, hdr, data, dlen);
	}
	if (c->state != ISCSI_CONN_FFP)
		return -BT_ECONNRESET;

	if (!data_ok) {
		/*
		 * Payload digest error: Reject and discard (RFC 7143 7.8).
		 * At ErrorRecoveryLevel 0 a lost SCSI payload cannot be
		 * recovered, so a command or Data-Out also ends the connection.
		 */
		iscsi_send_reject(c, ISCSI_REJ_DATA_DIGEST, hdr);
		if (op == ISCSI_OP_SCSI_CMD || op == ISCSI_OP_DATA_OUT)
			return -BT_EPROTO;
		return 0;
	}
	if (c->ahs_len && op != ISCSI_OP_SCSI_CMD)
		return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);

	switch (op) {
	case ISCSI_OP_DATA_OUT:
		return iscsi_data_out_pdu(c, hdr, data, dlen);
	case ISCSI_OP_SCSI_CMD:
		if (!cmdsn_accept(c, hdr))
			return 0;
		if (c->sess->discovery)
			return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
		return iscsi_cmd_pdu(c, hdr, data, dlen);
	case ISCSI_OP_NOP_OUT:
		if (!cmdsn_accept(c, hdr))
			return 0;
		return nop_out(c, hdr, data, dlen);
	case ISCSI_OP_TEXT_REQ:
		if (!cmdsn_accept(c, hdr))
			return 0;
		return text_req(c, hdr, data, dlen);
	case ISCSI_OP_LOGOUT_REQ:
		if (!cmdsn_accept(c, hdr))
			return 0;
		return logout_req(c, hdr);
	case ISCSI_OP_TMF_REQ:
		if (!cmdsn_accept(c, hdr))
			return 0;
		return tmf_req(c, hdr);
	case ISCSI_OP_LOGIN_REQ:
		/* Login in full feature phase: protocol error. */
		iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
		return -BT_EPROTO;
	case ISCSI_OP_SNACK:
		return iscsi_send_reject(c, ISCSI_REJ_SNACK, hdr);
	default:
		return iscsi_send_reject(c, ISCSI_REJ_CMD_NOT_SUPP, hdr);
	}
}
