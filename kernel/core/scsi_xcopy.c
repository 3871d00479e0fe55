/*
 * scsi_xcopy.c - EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4,
 * 6.26): the copy manager behind VMware's VAAI "full copy".
 *
 * Supported: identification target descriptors (E4h) naming LUs of this
 * engine by the NAA designator of their VPD 83h page, and block-to-block
 * segment descriptors (02h). Each segment is copied in chunks of up to
 * XCOPY_CHUNK bytes, read from the source LU into a buffer, written to the
 * destination LU, one chunk in flight at a time. Source and destination
 * LUs are referenced for the duration. The copy is synchronous: status
 * comes back when it is done, and RECEIVE COPY RESULTS reports the last
 * copies (per I_T nexus and list identifier) afterwards.
 *
 * Range locks. Every chunk's read takes a SHARED lock on its source range
 * and every chunk's write a SHARED lock on its destination range, on
 * whichever LU they are, exactly like READ and WRITE: so a COMPARE AND
 * WRITE or WRITE ATOMIC (EXCLUSIVE) is atomic with respect to the copy as
 * to any other write. A task holds one lock on its own LU only, so the
 * copy's locks are held by a proxy task (struct xcopy_lock below) linked
 * into the locked LU's task list for the duration of one chunk's I/O; its
 * command is a dummy inside struct xcopy. Task management sees the proxy
 * like any task: aborting it while it waits for its lock, or aborting the
 * EXTENDED COPY itself, ends the copy with COPY ABORTED after the chunk
 * in flight.
 */
#include "scsi_int.h"

#define XCOPY_MAX_TGT_DESCS   2
#define XCOPY_MAX_SEG_DESCS   64
#define XCOPY_MAX_LIST_LEN    (XCOPY_MAX_TGT_DESCS * 32 + XCOPY_MAX_SEG_DESCS * 28)
#define XCOPY_MAX_SEG_BYTES   (64u << 20)
#define XCOPY_CHUNK           (1u << 20)

#define ASC_TOO_MANY_TGT_DESCS       0x2606
#define ASC_UNSUP_TGT_DESC_TYPE      0x2607
#define ASC_TOO_MANY_SEG_DESCS       0x2608
#define ASC_UNSUP_SEG_DESC_TYPE      0x2609
#define ASC_COPY_TARGET_UNREACHABLE  0x0d02
#define SK_COPY_ABORTED              0x0a

struct xcopy_seg {
	struct bt_lu *src, *dst;
	u64 src_lba, dst_lba;
	u32 nblocks;                  /* in source blocks                      */
};

struct xcopy {
	struct scsi_task *owner;      /* the EXTENDED COPY                     */
	struct scsi_task *proxy;      /* holds the current chunk's lock        */
	void (*then)(struct scsi_task *t); /* run once the lock is granted    */
	struct bt_cmd lock_cmd;       /* the proxy's command (never sent)     */
	struct bt_lu *tgt[XCOPY_MAX_TGT_DESCS];
	unsigned ntgt;
	struct xcopy_seg seg[XCOPY_MAX_SEG_DESCS];
	unsigned nseg, cur;
	u64 done_blocks;              /* of the current segment                */
	u64 total_blocks;
	u8 list_id;
	bool hold;                    /* keep the results for RECEIVE COPY      */
	u8 *buf;
};

/* Results of finished copies, for RECEIVE COPY RESULTS (COPY STATUS). */
struct xcopy_result {
	u64 nexus_id;
	u8  list_id;
	u8  status;                   /* copy manager status (01h/02h)         */
	u16 segments;
	u32 blocks;
	bool valid;
};

#define XCOPY_RESULTS 8

static struct xcopy_result *results_of(struct bt_lu *lu)
{
	if (!lu->xcopy_results)
		lu->xcopy_results = bt_zalloc(XCOPY_RESULTS * sizeof(struct xcopy_result));
	return lu->xcopy_results;
}

static void remember(struct scsi_task *t, struct xcopy *x, bool ok)
{
	struct xcopy_result *r = results_of(t->lu);
	u64 nid = t->cmd->nexus ? t->cmd->nexus->id : 0;
	unsigned i, slot = 0;

	if (!r || !x->hold)
		return;
	for (i = 0; i < XCOPY_RESULTS; i++) {
		if (r[i].valid && r[i].nexus_id == nid && r[i].list_id == x->list_id) {
			slot = i;
			break;
		}
		if (!r[i].valid)
			slot = i;
	}
	if (i == XCOPY_RESULTS && r[slot].valid) {
		/* full: drop the oldest (slot 0) and append */
		bt_memmove(r, r + 1, (XCOPY_RESULTS - 1) * sizeof(*r));
		slot = XCOPY_RESULTS - 1;
	}
	r[slot].valid = true;
	r[slot].nexus_id = nid;
	r[slot].list_id = x->list_id;
	r[slot].status = ok ? 0x01 : 0x02;
	r[slot].segments = (u16)x->cur;
	r[slot].blocks = (u32)BT_MIN(x->total_blocks, 0xffffffffULL);
}

static struct bt_lu *find_lu_by_naa(struct bt_engine *e, const u8 *naa)
{
	struct bt_target *tg = NULL;
	struct bt_lu *lu;
	u64 lun;

	while ((tg = bt_target_next(e, tg)) != NULL) {
		lu = NULL;
		while ((lu = bt_target_lu_next(tg, lu, &lun)) != NULL)
			if (bt_memcmp(lu->naa, naa, 16) == 0)
				return lu;
	}
	return NULL;
}

/* ---- range locks through a proxy task ------------------------------------ */

static void proxy_granted(struct scsi_task *p)
{
	struct xcopy *x = BT_CONTAINER_OF(p->cmd, struct xcopy, lock_cmd);

	x->then(x->owner);
}

/*
 * The proxy's dummy command completes only when task management aborted
 * the proxy while it waited for its lock (scsi_task_done freed it then).
 * The copy cannot go on: it ends with COPY ABORTED.
 */
static void xcopy_finish(struct scsi_task *t, bool ok);

static void proxy_aborted(struct bt_cmd *cmd)
{
	struct xcopy *x = BT_CONTAINER_OF(cmd, struct xcopy, lock_cmd);

	x->proxy = NULL;
	scsi_sense(x->owner, SK_COPY_ABORTED, ASC_NONE);
	xcopy_finish(x->owner, false);
}

/*
 * Lock [lba, lba + n) of lu for the copy, then run then(t) (at once, or
 * when the conflicting holder releases). False if there was no memory for
 * the proxy (nothing was started).
 */
static bool xcopy_lock(struct scsi_task *t, struct bt_lu *lu, u64 lba, u32 n,
		       void (*then)(struct scsi_task *t))
{
	struct xcopy *x = (struct xcopy *)t->buf;
	struct scsi_task *p = bt_zalloc(sizeof(*p));

	if (!p)
		return false;
	x->lock_cmd.nexus = t->cmd->nexus;
	x->lock_cmd.target = t->cmd->target;
	x->lock_cmd.tag = 0xffffffffu;    /* never an ABORT TASK match */
	x->lock_cmd.aborted = false;
	x->lock_cmd.done = proxy_aborted;
	p->cmd = &x->lock_cmd;
	p->lu = lu;
	scsi_lu_get(lu);
	p->lu_prev = NULL;
	p->lu_next = lu->tasks;
	if (lu->tasks)
		lu->tasks->lu_prev = p;
	lu->tasks = p;
	p->lba = lba;
	p->nblocks = n;
	p->next = proxy_granted;
	x->proxy = p;
	x->then = then;
	if (scsi_lock_acquire(p, LOCK_SHARED))
		then(t);
	return true;
}

static void xcopy_unlock(struct xcopy *x)
{
	struct scsi_task *p = x->proxy;
	struct bt_lu *lu;

	if (!p)
		return;
	x->proxy = NULL;
	lu = p->lu;
	if (p->lu_prev)
		p->lu_prev->lu_next = p->lu_next;
	else
		lu->tasks = p->lu_next;
	if (p->lu_next)
		p->lu_next->lu_prev = p->lu_prev;
	/* may resume waiters, which may complete inline */
	scsi_lock_release(p);
	bt_free(p);
	scsi_lu_put(lu);
}

static void xcopy_free(struct xcopy *x)
{
	unsigned i;

	for (i = 0; i < x->ntgt; i++)
		if (x->tgt[i])
			scsi_lu_put(x->tgt[i]);
	bt_free(x->buf);
	bt_free(x);
}

static int aborted(struct scsi_task *t, u16 asc)
{
	return scsi_sense(t, SK_COPY_ABORTED, asc);
}

static void xcopy_step(struct scsi_task *t);

static void xcopy_finish(struct scsi_task *t, bool ok)
{
	struct xcopy *x = (struct xcopy *)t->buf;

	xcopy_unlock(x);
	remember(t, x, ok);
	xcopy_free(x);
	t->buf = NULL;
	scsi_task_done(t);
}

static void xcopy_write_done(struct scsi_task *t)
{
	struct xcopy *x = (struct xcopy *)t->buf;
	struct xcopy_seg *s = &x->seg[x->cur];

	xcopy_unlock(x);
	if (t->io.result < 0) {
		aborted(t, ASC_WRITE_ERROR);
		xcopy_finish(t, false);
		return;
	}
	x->done_blocks += t->io.len >> s->src->bs_shift;
	x->total_blocks += t->io.len >> s->src->bs_shift;
	if (x->done_blocks >= s->nblocks) {
		x->cur++;
		x->done_blocks = 0;
	}
	xcopy_step(t);
}

/* t->io describes the chunk's write; its destination range is locked. */
static void xcopy_write(struct scsi_task *t)
{
	struct xcopy *x = (struct xcopy *)t->buf;

	scsi_submit_io_lu(t, x->seg[x->cur].dst, xcopy_write_done);
}

static void xcopy_read_done(struct scsi_task *t)
{
	struct xcopy *x = (struct xcopy *)t->buf;
	struct xcopy_seg *s = &x->seg[x->cur];
	u64 len = t->io.len;

	xcopy_unlock(x);
	if (t->io.result < 0) {
		aborted(t, ASC_READ_ERROR);
		xcopy_finish(t, false);
		return;
	}
	t->io.op = BT_IO_WRITE;
	t->io.flags = s->dst->wce ? 0 : BT_IO_FUA;
	t->io.offset = (s->dst_lba << s->dst->bs_shift) +
		       (x->done_blocks << s->src->bs_shift);
	t->io.len = len;
	t->io.buf = x->buf;
	if (!xcopy_lock(t, s->dst, t->io.offset >> s->dst->bs_shift,
			(u32)(len >> s->dst->bs_shift), xcopy_write)) {
		aborted(t, ASC_INSUFFICIENT_RESOURCES);
		xcopy_finish(t, false);
	}
}

/* t->io describes the chunk's read; its source range is locked. */
static void xcopy_read(struct scsi_task *t)
{
	struct xcopy *x = (struct xcopy *)t->buf;

	scsi_submit_io_lu(t, x->seg[x->cur].src, xcopy_read_done);
}

static void xcopy_step(struct scsi_task *t)
{
	struct xcopy *x = (struct xcopy *)t->buf;
	struct xcopy_seg *s;
	u64 left;

	if (x->cur >= x->nseg) {
		xcopy_finish(t, true);
		return;
	}
	/* aborted (the copy itself, or its lock on a reset LU): stop here */
	if (t->cmd->aborted || x->lock_cmd.aborted) {
		aborted(t, ASC_NONE);
		xcopy_finish(t, false);
		return;
	}
	s = &x->seg[x->cur];
	left = s->nblocks - x->done_blocks;
	t->io.op = BT_IO_READ;
	t->io.flags = 0;
	t->io.offset = (s->src_lba + x->done_blocks) << s->src->bs_shift;
	t->io.len = BT_MIN(left << s->src->bs_shift, (u64)XCOPY_CHUNK);
	t->io.buf = x->buf;
	if (!xcopy_lock(t, s->src, t->io.offset >> s->src->bs_shift,
			(u32)(t->io.len >> s->src->bs_shift), xcopy_read)) {
		aborted(t, ASC_INSUFFICIENT_RESOURCES);
		xcopy_finish(t, false);
	}
}

/* Parse one identification target descriptor (E4h) at p (32 bytes). */
static int parse_tgt(struct scsi_task *t, struct xcopy *x, const u8 *p)
{
	struct bt_lu *lu;

	if (p[0] != 0xe4)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_UNSUP_TGT_DESC_TYPE);
	/* NUL (a null device) is not supported; peripheral type must be
	 * a block device; the designator must be our NAA (code set binary,
	 * type 3, length 16) */
	if ((p[1] & 0x20) || (p[1] & 0x1f) != 0)
		return aborted(t, ASC_COPY_TARGET_UNREACHABLE);
	if ((p[4] & 0x0f) != 1 || (p[5] & 0x0f) != 3 || p[7] != 16)
		return aborted(t, ASC_COPY_TARGET_UNREACHABLE);
	lu = find_lu_by_naa(t->lu->e, p + 8);
	if (!lu || lu->dying || bt_get_be24(p + 29) != lu->block_size)
		return aborted(t, ASC_COPY_TARGET_UNREACHABLE);
	scsi_lu_get(lu);
	x->tgt[x->ntgt++] = lu;
	return -1;
}

/* Parse one block-to-block segment descriptor (02h) at p. */
static int parse_seg(struct scsi_task *t, struct xcopy *x, const u8 *p,
		     u32 avail, u32 *used)
{
	struct xcopy_seg *s = &x->seg[x->nseg];
	u16 si, di;
	u32 dlen;
	u64 bytes;

	if (avail < 4)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if (p[0] != 0x02)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_UNSUP_SEG_DESC_TYPE);
	dlen = bt_get_be16(p + 2) + 4u;
	if (dlen != 28 || avail < dlen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	*used = dlen;
	si = bt_get_be16(p + 4);
	di = bt_get_be16(p + 6);
	if (si >= x->ntgt || di >= x->ntgt)
		return aborted(t, ASC_COPY_TARGET_UNREACHABLE);
	s->src = x->tgt[si];
	s->dst = x->tgt[di];
	s->nblocks = bt_get_be16(p + 10);
	if (p[1] & 0x02)              /* DC: the count is in destination blocks */
		s->nblocks = (u32)(((u64)s->nblocks << s->dst->bs_shift) >>
				   s->src->bs_shift);
	s->src_lba = bt_get_be64(p + 12);
	s->dst_lba = bt_get_be64(p + 20);
	bytes = (u64)s->nblocks << s->src->bs_shift;
	if (bytes > XCOPY_MAX_SEG_BYTES || (bytes & (s->dst->block_size - 1)))
		return aborted(t, ASC_NONE);
	if (s->src_lba > s->src->nblocks ||
	    s->nblocks > s->src->nblocks - s->src_lba ||
	    s->dst_lba > s->dst->nblocks ||
	    (bytes >> s->dst->bs_shift) > s->dst->nblocks - s->dst_lba)
		return aborted(t, ASC_NONE);
	if (s->dst->readonly || s->dst->swp)
		return scsi_sense(t, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
	/* Not checked (limitation): reservations held on a destination LU
	 * other than the one the command was sent to; dispatch checked
	 * only that one. */
	x->nseg++;
	return -1;
}

int scsi_exec_xcopy(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	u32 plen = bt_get_be32(cmd->cdb + 10), tlen, slen, ilen, off, used;
	const u8 *p = cmd->out;
	struct xcopy *x;
	int rc;

	cmd->xfer_len = plen;
	if (plen == 0)
		return SCSI_DONE;
	if ((rc = scsi_check_dataout(t, plen)) >= 0)
		return rc;
	if (plen < 16)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	tlen = bt_get_be16(p + 2);
	slen = bt_get_be32(p + 8);
	ilen = bt_get_be32(p + 12);
	if (tlen > XCOPY_MAX_LIST_LEN || slen > XCOPY_MAX_LIST_LEN ||
	    tlen + slen > XCOPY_MAX_LIST_LEN || ilen != 0 ||
	    (u64)16 + tlen + slen != plen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if (tlen % 32)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	if (tlen / 32 > XCOPY_MAX_TGT_DESCS)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_TOO_MANY_TGT_DESCS);
	if (slen / 28 > XCOPY_MAX_SEG_DESCS)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_TOO_MANY_SEG_DESCS);
	if (p[1] & 0x20)              /* STR: stream ops, not supported         */
		return scsi_invalid_field(t, false, 1, 5);

	x = bt_zalloc(sizeof(*x));
	if (!x)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INSUFFICIENT_RESOURCES);
	x->owner = t;
	x->list_id = p[0];
	x->hold = ((p[1] >> 3) & 0x03) == 0;      /* LIST ID USAGE 00b */
	for (off = 16; off < 16 + tlen; off += 32) {
		if ((rc = parse_tgt(t, x, p + off)) >= 0)
			goto out_free_x;
	}
	for (off = 16 + tlen; off < plen; off += used) {
		if (x->nseg == XCOPY_MAX_SEG_DESCS) {
			rc = scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_TOO_MANY_SEG_DESCS);
			goto out_free_x;
		}
		if ((rc = parse_seg(t, x, p + off, plen - off, &used)) >= 0)
			goto out_free_x;
	}
	x->buf = bt_alloc(XCOPY_CHUNK);
	if (!x->buf) {
		cmd->status = BT_SAM_BUSY;
		rc = SCSI_DONE;
		goto out_free_x;
	}
	t->buf = (u8 *)x;
	xcopy_step(t);
	return SCSI_PENDING;

out_free_x:
	remember(t, x, false);
	xcopy_free(x);
	return rc;
}

/* ---- RECEIVE COPY RESULTS ----------------------------------------------- */

static int rcr_op_params(struct scsi_task *t, u32 alloc)
{
	u8 d[44 + 2];

	bt_memset(d, 0, sizeof(d));
	bt_put_be32(d, sizeof(d) - 4);
	d[4] = 0x01;                              /* SNLID                 */
	bt_put_be16(d + 8, XCOPY_MAX_TGT_DESCS);
	bt_put_be16(d + 10, XCOPY_MAX_SEG_DESCS);
	bt_put_be32(d + 12, XCOPY_MAX_LIST_LEN);
	bt_put_be32(d + 16, XCOPY_MAX_SEG_BYTES);
	bt_put_be16(d + 34, 1);                   /* total concurrent copies */
	d[36] = 1;                                /* max concurrent copies   */
	d[37] = (u8)t->lu->bs_shift;              /* data segment granularity */
	d[43] = 2;                                /* implemented descriptors */
	d[44] = 0x02;                             /* block -> block          */
	d[45] = 0xe4;                             /* identification target   */
	return scsi_reply(t, d, sizeof(d), alloc);
}

static int rcr_copy_status(struct scsi_task *t, u8 list_id, u32 alloc)
{
	struct xcopy_result *r = t->lu->xcopy_results;
	u64 nid = t->cmd->nexus ? t->cmd->nexus->id : 0;
	u8 d[12];
	unsigned i;

	for (i = 0; r && i < XCOPY_RESULTS; i++)
		if (r[i].valid && r[i].nexus_id == nid && r[i].list_id == list_id)
			break;
	if (!r || i == XCOPY_RESULTS)
		return scsi_invalid_cdb(t, 2, -1);
	bt_memset(d, 0, sizeof(d));
	bt_put_be32(d, 8);
	d[4] = r[i].status;
	bt_put_be16(d + 5, r[i].segments);
	d[7] = 0xf1;                              /* units: logical blocks */
	bt_put_be32(d + 8, r[i].blocks);
	return scsi_reply(t, d, sizeof(d), alloc);
}

int scsi_exec_receive_copy_results(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	u32 alloc = bt_get_be32(cdb + 10);

	switch (cdb[1] & 0x1f) {
	case 0x00:
		return rcr_copy_status(t, cdb[2], alloc);
	case 0x03:
		return rcr_op_params(t, alloc);
	default:
		return scsi_invalid_cdb(t, 1, 4);
	}
}
