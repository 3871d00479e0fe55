/*
 * iscsi_cmd.c - the SCSI data path: SCSI Command PDUs, collecting write data
 * (immediate data, unsolicited Data-Out up to FirstBurstLength, R2T-solicited
 * bursts of MaxBurstLength with at most MaxOutstandingR2T outstanding),
 * handing the complete command to the SCSI layer, and returning Data-In
 * (status folded into the last PDU when there is no sense) or a SCSI
 * Response with residual counts.
 *
 * Write data lands in one buffer of the command's Expected Data Transfer
 * Length; the SCSI layer sees the whole payload at once (bt_scsi.h). Every
 * Data-Out is checked against its sequence: the TTT names an open R2T (or the
 * unsolicited sequence), DataSN must be the next in that sequence and the
 * BufferOffset the next expected offset (we negotiate DataPDUInOrder=Yes).
 * Any violation is fatal for the connection at ErrorRecoveryLevel 0.
 */
#include "iscsi_int.h"

#define ISCSI_TASK_CACHE 256

u64 iscsi_lun_decode(const u8 *l)
{
	switch (l[0] >> 6) {
	case 0:                           /* peripheral device addressing     */
		return l[1];
	case 1:                           /* flat space addressing            */
		return (u64)(l[0] & 0x3f) << 8 | l[1];
	default:                          /* pass the whole thing through     */
		return bt_get_be64(l);
	}
}

static struct iscsi_task *task_alloc(struct iscsi_engine *ie)
{
	struct iscsi_task *t = ie->task_free;

	if (t) {
		ie->task_free = t->next;
		ie->ntask_free--;
		bt_memset(t, 0, sizeof(*t));
		return t;
	}
	return bt_zalloc(sizeof(*t));
}

static void task_unlink(struct iscsi_task *t)
{
	struct bt_conn *c = t->conn;

	if (!c)
		return;
	t->conn = NULL;
	if (t->orphan)
		return;
	c->ntasks--;
	if (t->prev)
		t->prev->next = t->next;
	else
		c->tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Its write buffer no longer counts against the connection's cap. */
static void collect_release(struct iscsi_task *t)
{
	if (t->collect_counted && t->conn) {
		t->conn->collect_bytes -= t->edtl;
		t->collect_counted = false;
	}
}

/* Free a task that is not (or no longer) in the SCSI layer. */
void iscsi_task_free(struct iscsi_task *t)
{
	struct iscsi_engine *ie = t->sess->ie;

	collect_release(t);
	task_unlink(t);
	bt_free(t->cmd.out);
	t->cmd.out = NULL;
	if (ie->ntask_free < ISCSI_TASK_CACHE) {
		t->next = ie->task_free;
		ie->task_free = t;
		ie->ntask_free++;
	} else {
		bt_free(t);
	}
}

struct iscsi_task *iscsi_task_find(struct bt_conn *c, u32 itt)
{
	struct iscsi_task *t;

	for (t = c->tasks; t; t = t->next)
		if (t->itt == itt)
			return t;
	return NULL;
}

void iscsi_tasks_abort_collecting(struct bt_conn *c, bool all, u64 lun)
{
	struct iscsi_task *t, *nx;

	for (t = c->tasks; t; t = nx) {
		nx = t->next;
		if (t->state == ISCSI_TASK_COLLECT && (all || t->cmd.lun == lun))
			iscsi_task_free(t);
	}
}

void iscsi_tasks_abandon(struct bt_conn *c)
{
	struct iscsi_task *t, *nx;

	for (t = c->tasks; t; t = nx) {
		nx = t->next;
		if (t->state == ISCSI_TASK_COLLECT) {
			iscsi_task_free(t);
			continue;
		}
		/*
		 * Still in the SCSI layer: it completes into the void. The task
		 * leaves the list but keeps its conn pointer, which holds the
		 * conn (ntasks_scsi) until task_done.
		 */
		t->next = t->prev = NULL;
		t->orphan = true;
	}
	c->tasks = NULL;
	c->ntasks = 0;
}

/* ---- Data-In / response ------------------------------------------------- */

static void put_residual(u8 *r, u32 exp, u32 xfer)
{
	if (xfer > exp) {
		r[1] |= 0x04;             /* O: overflow                       */
		bt_put_be32(r + 44, xfer - exp);
	} else if (xfer < exp) {
		r[1] |= 0x02;             /* U: underflow                      */
		bt_put_be32(r + 44, exp - xfer);
	}
}

static void task_respond(struct iscsi_task *t)
{
	struct bt_conn *c = t->conn;
	struct bt_cmd *cmd = &t->cmd;
	u32 exp_in = cmd->dir == BT_DIR_BIDI ? cmd->exp_in_len :
		     cmd->dir == BT_DIR_READ ? cmd->exp_len : 0;
	u32 len = cmd->in ? BT_MIN(cmd->in_len, exp_in) : 0;
	bool fold = cmd->status == BT_SAM_GOOD && cmd->sense_len == 0 &&
		    cmd->dir == BT_DIR_READ && len > 0;
	u32 seg = c->params.max_xmit_dsl, burst = c->params.max_burst;
	u32 off = 0, datasn = 0, in_burst = 0;
	u8 r[ISCSI_BHS_LEN];

	while (off < len) {
		u32 n = BT_MIN(seg, len - off);
		bool last;

		n = BT_MIN(n, burst - in_burst);
		last = off + n == len;
		bt_memset(r, 0, sizeof(r));
		r[0] = ISCSI_OP_DATA_IN;
		bt_memcpy(r + 8, t->lun_raw, 8);
		bt_put_be32(r + 16, t->itt);
		bt_put_be32(r + 20, ISCSI_RSVD_TAG);
		bt_put_be32(r + 36, datasn++);
		bt_put_be32(r + 40, off);
		in_burst += n;
		if (last || in_burst == burst) {
			r[1] |= 0x80;     /* F: end of sequence               */
			in_burst = 0;
		}
		if (last && fold) {
			r[1] |= 0x01;     /* S: status follows in this PDU    */
			r[3] = cmd->status;
			put_residual(r, exp_in, cmd->xfer_len);
			iscsi_fill_sn(c, r, true);
		} else {
			iscsi_fill_sn(c, r, false);
			bt_put_be32(r + 24, 0);
		}
		if (iscsi_send(c, r, cmd->in + off, n))
			return;
		off += n;
	}
	if (fold)
		return;

	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_SCSI_RSP;
	r[1] = 0x80;
	r[2] = 0;                         /* command completed at target      */
	r[3] = cmd->status;
	bt_put_be32(r + 16, t->itt);
	iscsi_fill_sn(c, r, true);
	bt_put_be32(r + 36, datasn ? datasn : t->r2tsn);
	if (cmd->dir == BT_DIR_BIDI) {
		if (cmd->xfer_len > cmd->exp_len) {
			r[1] |= 0x04;
			bt_put_be32(r + 44, cmd->xfer_len - cmd->exp_len);
		} else if (cmd->xfer_len < cmd->exp_len) {
			r[1] |= 0x02;
			bt_put_be32(r + 44, cmd->exp_len - cmd->xfer_len);
		}
	} else {
		put_residual(r, cmd->exp_len, cmd->xfer_len);
	}
	if (cmd->sense_len && cmd->status != BT_SAM_GOOD) {
		u8 sb[2 + BT_SENSE_MAX];
		u32 sl = BT_MIN(cmd->sense_len, (u32)BT_SENSE_MAX);

		bt_put_be16(sb, (u16)sl);
		bt_memcpy(sb + 2, cmd->sense, sl);
		iscsi_send(c, r, sb, 2 + sl);
	} else {
		iscsi_send(c, r, NULL, 0);
	}
}

/* Take t off its connection's list (it keeps t->conn for the reference
 * count); from then on it is treated like an orphan by task_unlink. */
static void task_delist(struct iscsi_task *t)
{
	struct bt_conn *c = t->conn;

	if (!c || t->orphan)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		c->tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	c->ntasks--;
	t->orphan = true;
}

static void task_done(struct bt_cmd *cmd)
{
	struct iscsi_task *t = BT_CONTAINER_OF(cmd, struct iscsi_task, cmd);
	struct bt_conn *c = t->conn;
	struct iscsi_session *s = t->sess;
	bool respond = c && !t->orphan && !cmd->aborted &&
		       c->state == ISCSI_CONN_FFP;

	/* Off the list first: the response's MaxCmdSN already counts this
	 * task's window slot as free, which is what the initiator sees. */
	task_delist(t);
	if (respond)
		task_respond(t);
	bt_cmd_release(cmd);
	iscsi_task_free(t);
	if (c) {
		c->ntasks_scsi--;
		iscsi_conn_maybe_free(c);
	}
	iscsi_session_put(s);
}

static void task_submit(struct iscsi_task *t)
{
	struct bt_conn *c = t->conn;

	collect_release(t);
	t->state = ISCSI_TASK_SCSI;
	t->cmd.out_len = t->cmd.out ? t->edtl : 0;
	t->cmd.done = task_done;
	c->ntasks_scsi++;
	t->sess->refs++;
	t->sess->cmds++;
	bt_scsi_submit(&t->cmd);
}

/* ---- R2T ------------------------------------------------------------------ */

static int send_r2ts(struct iscsi_task *t)
{
	struct bt_conn *c = t->conn;

	while (t->r2t_next < t->edtl && t->r2t_active < c->params.max_r2t) {
		struct iscsi_r2t *r2 = NULL;
		u8 r[ISCSI_BHS_LEN];
		unsigned i;

		for (i = 0; i < ISCSI_MAX_R2T; i++)
			if (!t->r2t[i].active) {
				r2 = &t->r2t[i];
				break;
			}
		if (!r2)
			break;
		r2->active = true;
		r2->offset = t->r2t_next;
		r2->len = BT_MIN(c->params.max_burst, t->edtl - t->r2t_next);
		r2->got = 0;
		r2->datasn = 0;
		r2->ttt = c->next_ttt++;
		if (r2->ttt == ISCSI_RSVD_TAG)
			r2->ttt = c->next_ttt++;
		t->r2t_next += r2->len;
		t->r2t_active++;

		bt_memset(r, 0, sizeof(r));
		r[0] = ISCSI_OP_R2T;
		r[1] = 0x80;
		bt_memcpy(r + 8, t->lun_raw, 8);
		bt_put_be32(r + 16, t->itt);
		bt_put_be32(r + 20, r2->ttt);
		iscsi_fill_sn(c, r, false);
		bt_put_be32(r + 36, t->r2tsn++);
		bt_put_be32(r + 40, r2->offset);
		bt_put_be32(r + 44, r2->len);
		if (iscsi_send(c, r, NULL, 0))
			return -BT_ECONNRESET;
	}
	return 0;
}

/* Unsolicited phase over (or never started): submit or solicit the rest. */
static int task_advance(struct iscsi_task *t)
{
	if (t->got >= t->edtl && !t->unsol_wait && !t->r2t_active) {
		task_submit(t);
		return 0;
	}
	if (t->unsol_wait)
		return 0;
	return send_r2ts(t);
}

int iscsi_cmd_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen)
{
	struct iscsi_session *s = c->sess;
	struct iscsi_task *t;
	struct bt_cmd *cmd;
	bool rd = hdr[1] & 0x40, wr = hdr[1] & 0x20, final = hdr[1] & 0x80;
	u32 edtl = bt_get_be32(hdr + 20);
	u32 ahs = c->ahs_len, pos = ISCSI_BHS_LEN;

	if (iscsi_task_find(c, bt_get_be32(hdr + 16)))
		return iscsi_send_reject(c, ISCSI_REJ_TASK_IN_PROG, hdr);
	/*
	 * Resource caps. Non-immediate commands are held to the command
	 * window, which shrinks with every live task (iscsi_max_cmdsn), so
	 * only immediate ones can get here with the window full; and the
	 * write data being collected on one connection is bounded, so a peer
	 * cannot make us buffer without limit.
	 */
	if (c->ntasks >= ISCSI_CMD_WINDOW)
		return iscsi_send_reject(c, ISCSI_REJ_IMM_CMD, hdr);
	if (wr && c->collect_bytes + edtl > ISCSI_MAX_COLLECT)
		return iscsi_send_reject(c, ISCSI_REJ_LONG_OP, hdr);
	if (!wr && dlen)
		return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
	if (wr && edtl > ISCSI_MAX_EDTL)
		return iscsi_send_reject(c, ISCSI_REJ_LONG_OP, hdr);
	if (dlen && (!c->params.immediate_data || dlen > edtl ||
		     dlen > c->params.first_burst))
		return iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, hdr);
	/* F=0 with InitialR2T=Yes is an initiator bug; it is tolerated and
	 * no unsolicited Data-Out is accepted. */

	t = task_alloc(c->ie);
	if (!t)
		return iscsi_send_reject(c, ISCSI_REJ_LONG_OP, hdr);
	t->sess = s;
	t->itt = bt_get_be32(hdr + 16);
	t->cmdsn = bt_get_be32(hdr + 24);
	bt_memcpy(t->lun_raw, hdr + 8, 8);
	cmd = &t->cmd;
	cmd->target = s->target;
	cmd->nexus = &s->nexus;
	cmd->lun = iscsi_lun_decode(hdr + 8);
	cmd->lu = bt_target_lu(s->target, cmd->lun);
	bt_memcpy(cmd->cdb, hdr + 32, 16);
	cmd->cdb_len = 16;
	cmd->dir = rd && wr ? BT_DIR_BIDI : rd ? BT_DIR_READ : wr ? BT_DIR_WRITE :
		   BT_DIR_NONE;
	cmd->task_attr = hdr[1] & 7;
	cmd->tag = t->itt;
	cmd->exp_len = edtl;
	cmd->tpriv = t;

	/* AHS: extended CDB (type 1), bidirectional read length (type 2). */
	while (pos + 4 <= ISCSI_BHS_LEN + ahs) {
		u16 alen = bt_get_be16(c->hdr + pos);
		u8 type = c->hdr[pos + 2];
		u32 total = (alen + 3 + 3) & ~3u;   /* header 3 bytes + pad   */

		if (pos + 3 + alen > ISCSI_BHS_LEN + ahs)
			goto bad_pdu;
		if (type == 1 && alen >= 1) {
			u32 extra = alen - 1;

			if (16 + extra > sizeof(cmd->cdb))
				goto bad_pdu;
			bt_memcpy(cmd->cdb + 16, c->hdr + pos + 4, extra);
			cmd->cdb_len = 16 + extra;
		} else if (type == 2 && alen == 5) {
			cmd->exp_in_len = bt_get_be32(c->hdr + pos + 4);
		}
		pos += total > 0 ? total : 4;
	}

	t->conn = c;
	t->next = c->tasks;
	if (c->tasks)
		c->tasks->prev = t;
	c->tasks = t;
	c->ntasks++;

	if (wr && edtl) {
		cmd->out = bt_alloc(edtl);
		if (!cmd->out) {
			iscsi_task_free(t);
			return iscsi_send_reject(c, ISCSI_REJ_LONG_OP, hdr);
		}
		t->edtl = edtl;
		t->collect_counted = true;
		c->collect_bytes += edtl;
		if (dlen)
			bt_memcpy(cmd->out, data, dlen);
		t->got = dlen;
		t->r2t_next = dlen;
		if (!final && !c->params.initial_r2t) {
			t->unsol_wait = true;
			t->unsol_limit = BT_MIN(c->params.first_burst, edtl);
			t->unsol_off = dlen;
			if (t->unsol_off >= t->unsol_limit)
				t->unsol_wait = false;
		}
		return task_advance(t);
	}
	task_submit(t);
	return 0;

bad_pdu:
	iscsi_task_free(t);
	return iscsi_send_reject(c, ISCSI_REJ_INVALID_FIELD, hdr);
}

/*
 * A Data-Out sequence error (wrong DataSN, offset, TTT, or data where none
 * was asked for). At ErrorRecoveryLevel 0 nothing can be retransmitted, so
 * the command ends here with CHECK CONDITION, ABORTED COMMAND, DATA PHASE
 * ERROR (0x4b/0x00) before it reaches the SCSI layer; any further Data-Out
 * for its ITT is discarded as unknown. The connection itself stays up:
 * dropping it would also kill every other command in flight on it.
 */
static int task_fail_data(struct iscsi_task *t, const char *why, u32 datasn,
			  u32 off)
{
	struct bt_conn *c = t->conn;
	u8 r[ISCSI_BHS_LEN], sb[2 + 18];

	bt_warn("iscsi %s: ITT 0x%x: %s (DataSN %u, offset %u): command failed\n",
		c->peer, t->itt, why, datasn, off);
	bt_memset(sb, 0, sizeof(sb));
	bt_put_be16(sb, 18);
	sb[2 + 0] = 0x70;                 /* fixed format, current            */
	sb[2 + 2] = 0x0b;                 /* ABORTED COMMAND                  */
	sb[2 + 7] = 10;
	sb[2 + 12] = 0x4b;                /* DATA PHASE ERROR                 */
	sb[2 + 13] = 0x00;
	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_SCSI_RSP;
	r[1] = 0x80;
	r[3] = BT_SAM_CHECK_CONDITION;
	bt_put_be32(r + 16, t->itt);
	iscsi_fill_sn(c, r, true);
	bt_put_be32(r + 36, t->r2tsn);
	iscsi_task_free(t);
	return iscsi_send(c, r, sb, sizeof(sb));
}

int iscsi_data_out_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data,
		       u32 dlen)
{
	u32 itt = bt_get_be32(hdr + 16), ttt = bt_get_be32(hdr + 20);
	u32 datasn = bt_get_be32(hdr + 36), off = bt_get_be32(hdr + 40);
	bool final = hdr[1] & 0x80;
	struct iscsi_task *t = iscsi_task_find(c, itt);
	struct iscsi_r2t *r2 = NULL;
	unsigned i;

	if (!t || t->state != ISCSI_TASK_COLLECT) {
		/* Data for a task we do not know (aborted?): discard. */
		bt_debug("iscsi %s: Data-Out for unknown ITT 0x%x\n", c->peer, itt);
		return 0;
	}
	if (off > t->edtl || dlen > t->edtl - off)
		return task_fail_data(t, "Data-Out beyond the buffer", datasn, off);
	if (ttt == ISCSI_RSVD_TAG) {
		if (!t->unsol_wait)
			return task_fail_data(t, "unexpected unsolicited Data-Out",
					      datasn, off);
		if (datasn != t->unsol_datasn || off != t->unsol_off ||
		    off + dlen > t->unsol_limit)
			return task_fail_data(t, "bad unsolicited Data-Out",
					      datasn, off);
		t->unsol_datasn++;
		t->unsol_off += dlen;
		if (final || t->unsol_off >= t->unsol_limit) {
			t->unsol_wait = false;
			t->r2t_next = t->unsol_off;
		}
	} else {
		for (i = 0; i < ISCSI_MAX_R2T; i++)
			if (t->r2t[i].active && t->r2t[i].ttt == ttt) {
				r2 = &t->r2t[i];
				break;
			}
		if (!r2)
			return task_fail_data(t, "Data-Out for no open R2T", datasn,
					      off);
		if (datasn != r2->datasn || off != r2->offset + r2->got ||
		    r2->got + dlen > r2->len)
			return task_fail_data(t, "bad solicited Data-Out", datasn,
					      off);
		r2->datasn++;
		r2->got += dlen;
		if (r2->got == r2->len) {
			r2->active = false;
			t->r2t_active--;
		} else if (final) {
			return task_fail_data(t, "Data-Out sequence ended early",
					      datasn, off);
		}
	}
	if (dlen)
		bt_memcpy(t->cmd.out + off, data, dlen);
	t->got += dlen;
	return task_advance(t);
}
