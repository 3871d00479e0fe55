/*
 * scsi_sbc.c - SBC-3 commands beyond plain read/write: COMPARE AND WRITE,
 * WRITE SAME(10/16) (with UNMAP), UNMAP, GET LBA STATUS.
 *
 * COMPARE AND WRITE atomicity: the task takes an EXCLUSIVE range lock
 * (scsi_lu.c) before its read, so no other write to the range is submitted
 * to the host until its own write has completed; read -> compare -> write is
 * one unit as seen by every other command of this engine.
 */
#include "scsi_int.h"

/* ---- COMPARE AND WRITE -------------------------------------------------- */

static void caw_write_done(struct scsi_task *t)
{
	if (t->io.result < 0)
		scsi_io_error(t, true);
	scsi_task_done(t);
}

static void caw_read_done(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u64 n = (u64)t->nblocks << lu->bs_shift, i;
	const u8 *verify = t->cmd->out;

	if (t->io.result < 0) {
		scsi_io_error(t, false);
		scsi_task_done(t);
		return;
	}
	for (i = 0; i < n; i++) {
		if (t->buf[i] != verify[i]) {
			scsi_sense_info(t, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, i);
			scsi_task_done(t);
			return;
		}
	}
	t->io.op = BT_IO_WRITE;
	t->io.flags = scsi_write_flags(t) | BT_IO_PRIO;
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = n;
	t->io.buf = t->cmd->out + n;
	scsi_submit_io(t, caw_write_done);
}

static void caw_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_READ;
	t->io.flags = BT_IO_PRIO;
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->buf;
	scsi_submit_io(t, caw_read_done);
}

int scsi_exec_caw(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	u64 lba = bt_get_be64(cmd->cdb + 2);
	u32 n = cmd->cdb[13];
	int rc;

	cmd->xfer_len = (2 * n) << lu->bs_shift;
	if (n > scsi_max_caw_blocks())
		return scsi_invalid_cdb(t, 13, -1);
	/*
	 * NUMBER OF LOGICAL BLOCKS 0 transfers nothing and is no error
	 * (SBC-3 5.2) -- unless Data-Out came with it: then the CDB and the
	 * data disagree (an initiator that wrapped 256 into the 8-bit field)
	 * and writing nothing while reporting GOOD would hide that.
	 */
	if (n == 0 && (cmd->out_len || cmd->exp_len))
		return scsi_invalid_cdb(t, 13, -1);
	if ((rc = scsi_check_range(t, lba, n)) >= 0)
		return rc;
	if (n == 0)
		return SCSI_DONE;
	if ((rc = scsi_check_dataout_exact(t, cmd->xfer_len)) >= 0)
		return rc;
	t->buf = bt_alloc((u64)n << lu->bs_shift);
	if (!t->buf) {
		cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	t->next = caw_start;
	if (scsi_lock_acquire(t, LOCK_EXCL))
		caw_start(t);
	return SCSI_PENDING;
}

/* ---- ORWRITE(16) --------------------------------------------------------
 * Read, OR the Data-Out into it, write back: a read-modify-write under the
 * same EXCLUSIVE range lock as COMPARE AND WRITE, so no other write to the
 * range lands in between.
 */
static void orw_read_done(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u64 n = (u64)t->nblocks << lu->bs_shift, i;

	if (t->io.result < 0) {
		scsi_io_error(t, false);
		scsi_task_done(t);
		return;
	}
	for (i = 0; i < n; i++)
		t->buf[i] |= t->cmd->out[i];
	t->io.op = BT_IO_WRITE;
	t->io.flags = scsi_write_flags(t);
	t->io.buf = t->buf;
	scsi_submit_io(t, caw_write_done);
}

static void orw_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_READ;
	t->io.flags = 0;
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->buf;
	scsi_submit_io(t, orw_read_done);
}

int scsi_exec_orwrite(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	u64 lba, len;
	int rc;

	scsi_decode_lba_len(cmd->cdb, &lba, &len);
	cmd->xfer_len = len << lu->bs_shift > 0xffffffffULL ? 0xffffffffu :
			(u32)(len << lu->bs_shift);
	if ((rc = scsi_check_range(t, lba, len)) >= 0)
		return rc;
	if (len > scsi_max_xfer_blocks(lu))
		return scsi_invalid_cdb(t, 10, -1);
	if (len == 0)
		return SCSI_DONE;
	if ((rc = scsi_check_dataout(t, cmd->xfer_len)) >= 0)
		return rc;
	t->buf = bt_alloc(len << lu->bs_shift);
	if (!t->buf) {
		cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	t->next = orw_start;
	if (scsi_lock_acquire(t, LOCK_EXCL))
		orw_start(t);
	return SCSI_PENDING;
}

/* ---- READ DEFECT DATA(10/12) --------------------------------------------
 * There is no medium to have defects: an empty list, in the format asked
 * for, with the lists that were requested marked valid.
 */
int scsi_exec_read_defect_data(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	bool twelve = cdb[0] == 0xb7;
	u8 fmt = (twelve ? cdb[1] : cdb[2]) & 0x1f;
	u32 alloc = twelve ? bt_get_be32(cdb + 6) : bt_get_be16(cdb + 7);
	u8 d[8];

	bt_memset(d, 0, sizeof(d));
	d[1] = fmt;                            /* PLISTV, GLISTV, format  */
	return scsi_reply(t, d, twelve ? 8 : 4, alloc);
}

/* ---- WRITE SAME --------------------------------------------------------- */

#define WS_CHUNK_BYTES (1u << 20)

static bool all_zero(const u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void ws_next_chunk(struct scsi_task *t);

static void ws_chunk_done(struct scsi_task *t)
{
	if (t->io.result < 0) {
		scsi_io_error(t, true);
		scsi_task_done(t);
		return;
	}
	t->cursor += t->io.len >> t->lu->bs_shift;
	if (t->cursor >= t->nblocks) {
		scsi_task_done(t);
		return;
	}
	ws_next_chunk(t);
}

/* Writes the pattern block over the range, WS_CHUNK_BYTES at a time. */
static void ws_next_chunk(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u64 left = t->nblocks - t->cursor;
	u64 per = WS_CHUNK_BYTES >> lu->bs_shift;

	if (per == 0)
		per = 1;
	t->io.op = BT_IO_WRITE;
	t->io.flags = scsi_write_flags(t);
	t->io.offset = (t->lba + t->cursor) << lu->bs_shift;
	t->io.len = BT_MIN(left, per) << lu->bs_shift;
	t->io.buf = t->buf;
	scsi_submit_io(t, ws_chunk_done);
}

static void ws_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	if (t->stage) {                         /* zeroes / unmap: one io  */
		t->io.op = t->stage == 1 ? BT_IO_DISCARD : BT_IO_WRITE_ZEROES;
		t->io.flags = 0;
		t->io.offset = t->lba << lu->bs_shift;
		t->io.len = (u64)t->nblocks << lu->bs_shift;
		t->io.buf = NULL;
		t->cursor = 0;
		scsi_submit_io(t, ws_chunk_done);
		return;
	}
	ws_next_chunk(t);
}

int scsi_exec_write_same(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	bool sixteen = cmd->cdb[0] == 0x93;
	bool unmap = cmd->cdb[1] & 0x08;
	bool ndob = sixteen && (cmd->cdb[1] & 0x01);  /* no Data-Out: zeroes */
	u64 lba = sixteen ? bt_get_be64(cmd->cdb + 2) : bt_get_be32(cmd->cdb + 2);
	u64 len = sixteen ? bt_get_be32(cmd->cdb + 10) : bt_get_be16(cmd->cdb + 7);
	u32 bs = lu->block_size, per, i, chunk;
	int rc;

	cmd->xfer_len = ndob ? 0 : bs;
	if (unmap && !(lu->features & BT_FEAT_UNMAP))
		return scsi_invalid_cdb(t, 1, 3);
	/* WSNZ=0: zero blocks means from lba to the end of the medium */
	if (len == 0) {
		if (lba >= lu->nblocks)
			return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		len = lu->nblocks - lba;
	}
	if ((rc = scsi_check_range(t, lba, len)) >= 0)
		return rc;
	if (len > scsi_max_ws_blocks(lu))
		return scsi_invalid_cdb(t, sixteen ? 10 : 7, -1);
	if ((rc = scsi_check_dataout_exact(t, cmd->xfer_len)) >= 0)
		return rc;
	/*
	 * UNMAP=1 is a request to deallocate (SBC-3 4.7.3.4): the range is
	 * discarded whatever the Data-Out block holds, and reads then return
	 * zeroes as VPD B2h/READ CAPACITY(16) announce (LBPRZ=1); this is what
	 * LIO does and what libiscsi's WriteSame10.UnmapUntilEnd expects.
	 * UNMAP=0 with a zero block is a write of zeroes.
	 */
	if (unmap)
		t->stage = 1;
	else if (ndob || all_zero(cmd->out, bs))
		t->stage = 2;
	else {
		per = WS_CHUNK_BYTES / bs;
		if (per == 0)
			per = 1;
		chunk = (u32)BT_MIN((u64)per, len);
		t->buf = bt_alloc((u64)chunk * bs);
		if (!t->buf) {
			cmd->status = BT_SAM_BUSY;
			return SCSI_DONE;
		}
		for (i = 0; i < chunk; i++)
			bt_memcpy(t->buf + (u64)i * bs, cmd->out, bs);
	}
	t->next = ws_start;
	if (scsi_lock_acquire(t, LOCK_SHARED))
		ws_start(t);
	return SCSI_PENDING;
}

/* ---- UNMAP -------------------------------------------------------------- */

static void unmap_next(struct scsi_task *t);

static void unmap_done(struct scsi_task *t)
{
	if (t->io.result < 0) {
		scsi_io_error(t, true);
		scsi_task_done(t);
		return;
	}
	t->cursor++;
	unmap_next(t);
}

/* t->buf holds the validated descriptors, t->stage their count. */
static void unmap_next(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	const u8 *d;

	/* skip zero-count descriptors */
	while (t->cursor < (u64)t->stage &&
	       bt_get_be32(t->buf + t->cursor * 16 + 8) == 0)
		t->cursor++;
	if (t->cursor >= (u64)t->stage) {
		scsi_task_done(t);
		return;
	}
	d = t->buf + t->cursor * 16;
	t->io.op = BT_IO_DISCARD;
	t->io.flags = 0;
	t->io.offset = bt_get_be64(d) << lu->bs_shift;
	t->io.len = (u64)bt_get_be32(d + 8) << lu->bs_shift;
	t->io.buf = NULL;
	scsi_submit_io(t, unmap_done);
}

int scsi_exec_unmap(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	u32 plen = bt_get_be16(cmd->cdb + 7), bdl, n, i;
	const u8 *p = cmd->out;
	u64 lo = ~0ULL, hi = 0, lba, cnt;
	int rc;

	cmd->xfer_len = plen;
	if (plen == 0)
		return SCSI_DONE;
	if ((rc = scsi_check_dataout(t, plen)) >= 0)
		return rc;
	if (plen < 8)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	bdl = bt_get_be16(p + 2);
	if (bdl > plen - 8)
		bdl = plen - 8;
	n = bdl / 16;
	if (n > scsi_max_unmap_descs())
		return scsi_invalid_field(t, false, 2, -1);
	for (i = 0; i < n; i++) {
		lba = bt_get_be64(p + 8 + i * 16);
		cnt = bt_get_be32(p + 8 + i * 16 + 8);
		if (cnt > scsi_max_unmap_blocks())
			return scsi_invalid_field(t, false, (u16)(8 + i * 16 + 8), -1);
		if (lba > lu->nblocks || cnt > lu->nblocks - lba)
			return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		if (!cnt)
			continue;
		lo = BT_MIN(lo, lba);
		hi = BT_MAX(hi, lba + cnt);
	}
	if (hi == 0)
		return SCSI_DONE;
	t->buf = bt_alloc(n * 16);
	if (!t->buf) {
		cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	bt_memcpy(t->buf, p + 8, n * 16);
	t->stage = (int)n;
	t->cursor = 0;
	/* one shared lock over the envelope of all descriptors */
	t->lba = lo;
	t->nblocks = (u32)BT_MIN(hi - lo, 0xffffffffULL);
	t->next = unmap_next;
	if (scsi_lock_acquire(t, LOCK_SHARED))
		unmap_next(t);
	return SCSI_PENDING;
}

/* ---- GET LBA STATUS ------------------------------------------------------
 * Descriptors from the requested LBA on, each a run of blocks with one
 * provisioning status: mapped (0) or deallocated (1), as the host's
 * bdev_map_status reports the backing (SEEK_DATA/SEEK_HOLE on a file). A
 * host without it, or a block device, reports everything mapped, which is
 * "mapped or unknown" (SBC-4 5.8.2) and always true.
 *
 * Byte runs become block runs conservatively: a block that holds any data
 * is mapped, so a hole counts only for the blocks wholly inside it (a
 * 512-byte UNMAP inside a 4 KiB file system block leaves zeroes, and a
 * mapped block). Runs the host reports in pieces are merged; the number of
 * host calls per command is bounded (GLS_MAX_CALLS), after which the
 * current descriptor ends where the answer stopped.
 */
#define GLS_MAX_DESCS 64u
#define GLS_MAX_CALLS 256u

/* Status (1 mapped, 0 deallocated) of the run of blocks from lba, at most
 * max blocks; *n gets its length (>= 1). */
static int lba_run(struct bt_lu *lu, u64 lba, u64 max, u64 *n, unsigned *calls)
{
	const struct bt_host_ops *ops = bt_engine_ops(lu->e);
	u64 off = lba << lu->bs_shift, end = (lba + max) << lu->bs_shift;
	u64 pos = off, len, blocks;
	int first = -1, st;

	if (!ops->bdev_map_status) {
		*n = max;
		return 1;
	}
	while (pos < end && *calls < GLS_MAX_CALLS) {
		(*calls)++;
		st = ops->bdev_map_status(bt_engine_host(lu->e), lu->bdev, pos,
					  end - pos, &len);
		if (st < 0)
			return st;
		st = st ? 1 : 0;
		if (len == 0 || len > end - pos)
			len = end - pos;
		if (first < 0)
			first = st;
		if (st != first)
			break;
		pos += len;
	}
	if (first == 1) {                       /* mapped: round up       */
		blocks = (pos - off + lu->block_size - 1) >> lu->bs_shift;
	} else {                                /* hole: whole blocks only */
		blocks = (pos - off) >> lu->bs_shift;
		if (blocks == 0) {              /* less than one block    */
			*n = 1;
			return 1;
		}
	}
	*n = BT_MAX(1, BT_MIN(blocks, max));
	return first;
}

int scsi_exec_get_lba_status(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	const u8 *cdb = t->cmd->cdb;
	u64 lba = bt_get_be64(cdb + 2), cur, n;
	u32 alloc = bt_get_be32(cdb + 10), max, nd = 0;
	unsigned calls = 0;
	u8 *d;
	int st, rc;

	if (lba >= lu->nblocks)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	max = alloc > 8 ? (alloc - 8) / 16 : 0;
	max = BT_MIN(BT_MAX(max, 1u), GLS_MAX_DESCS);
	d = bt_zalloc(8 + 16 * max);
	if (!d) {
		t->cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	for (cur = lba; cur < lu->nblocks && nd < max; cur += n) {
		st = lba_run(lu, cur, BT_MIN(lu->nblocks - cur, 0xffffffffULL),
			     &n, &calls);
		if (st < 0) {
			bt_free(d);
			t->io.result = st;
			return scsi_io_error(t, false);
		}
		bt_put_be64(d + 8 + 16 * nd, cur);
		bt_put_be32(d + 8 + 16 * nd + 8, (u32)n);
		d[8 + 16 * nd + 12] = st ? 0x00 : 0x01;  /* mapped / deallocated */
		nd++;
		if (calls >= GLS_MAX_CALLS)
			break;
	}
	bt_put_be32(d, 4 + 16 * nd);
	rc = scsi_reply(t, d, 8 + 16 * nd, alloc);
	bt_free(d);
	return rc;
}
