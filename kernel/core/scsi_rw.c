/*
 * scsi_rw.c - SBC-3 media access: READ CAPACITY(10/16), READ/WRITE
 * (6/10/12/16), VERIFY and WRITE AND VERIFY (10/12/16), SYNCHRONIZE
 * CACHE(10/16).
 *
 * One command is one struct bt_io (the transport hands over the whole
 * Data-Out buffer; reads get a cmd->in of the full length), capped by the
 * MAXIMUM TRANSFER LENGTH reported in VPD B0h.
 */
#include "scsi_sbc.h"

/* LBA and transfer length of a READ/WRITE/VERIFY-family CDB, by group. */
void scsi_decode_lba_len(const u8 *cdb, u64 *lba, u64 *len)
{
	switch (cdb[0] >> 5) {
	case 0:                                 /* 6-byte                 */
		*lba = bt_get_be24(cdb + 1) & 0x1fffff;
		*len = cdb[4] ? cdb[4] : 256;   /* 0 means 256 blocks      */
		break;
	case 1:
	case 2:                                 /* 10-byte                */
		*lba = bt_get_be32(cdb + 2);
		*len = bt_get_be16(cdb + 7);
		break;
	case 4:                                 /* 16-byte                */
		*lba = bt_get_be64(cdb + 2);
		*len = bt_get_be32(cdb + 10);
		break;
	default:                                /* 5: 12-byte             */
		*lba = bt_get_be32(cdb + 2);
		*len = bt_get_be32(cdb + 6);
		break;
	}
}

static u32 bytes_u32(const struct bt_lu *lu, u64 blocks)
{
	u64 b = blocks << lu->bs_shift;

	return b > 0xffffffffULL ? 0xffffffffu : (u32)b;
}

/*
 * Common checks of a block command: sets xfer_len (so residuals are right
 * even on error), range, maximum transfer length. Returns -1 to go on.
 */
static int rw_prepare(struct scsi_task *t, u64 *lba, u64 *len, bool data)
{
	struct bt_lu *lu = t->lu;
	int rc;

	scsi_decode_lba_len(t->cmd->cdb, lba, len);
	if (data)
		t->cmd->xfer_len = bytes_u32(lu, *len);
	if ((rc = scsi_check_range(t, *lba, *len)) >= 0)
		return rc;
	if (*len > scsi_max_xfer_blocks(lu)) {
		/* the length field: byte 4 (6), 7 (10), 6 (12), 10 (16) */
		static const u8 at[8] = { 4, 7, 7, 0, 10, 6, 0, 0 };

		return scsi_invalid_cdb(t, at[t->cmd->cdb[0] >> 5], -1);
	}
	return -1;
}

/* ---- READ CAPACITY ------------------------------------------------------ */

int scsi_exec_read_capacity10(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_lu *lu = t->lu;
	u64 last = lu->nblocks ? lu->nblocks - 1 : 0;
	u8 d[8];

	if (!(cdb[8] & 0x01) && bt_get_be32(cdb + 2))
		return scsi_invalid_cdb(t, 2, -1);      /* LBA without PMI */
	bt_put_be32(d, last > 0xffffffffULL ? 0xffffffffu : (u32)last);
	bt_put_be32(d + 4, lu->block_size);
	return scsi_reply(t, d, sizeof(d), sizeof(d));
}

int scsi_exec_read_capacity16(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u32 alloc = bt_get_be32(t->cmd->cdb + 10);
	u8 d[32];

	bt_memset(d, 0, sizeof(d));
	bt_put_be64(d, lu->nblocks ? lu->nblocks - 1 : 0);
	bt_put_be32(d + 8, lu->block_size);
	if (lu->features & BT_FEAT_UNMAP)
		d[14] = 0x80 | 0x40;                    /* LBPME, LBPRZ    */
	d[13] = scsi_lu_lbppbe(lu);                     /* physical block  */
	return scsi_reply(t, d, sizeof(d), alloc);
}

u8 scsi_lu_lbppbe(const struct bt_lu *lu)
{
	const struct bt_host_ops *ops = bt_engine_ops(lu->e);
	u32 pbs = ops->bdev_phys_block ?
		  ops->bdev_phys_block(bt_engine_host(lu->e), lu->bdev) : 0;
	u8 e = 0;

	if (pbs <= lu->block_size || (pbs & (pbs - 1)))
		return 0;
	while (e < 15 && (lu->block_size << (e + 1)) <= pbs)
		e++;
	return e;
}

/* ---- READ --------------------------------------------------------------- */

static void read_done(struct scsi_task *t)
{
	if (t->io.result < 0) {
		scsi_io_error(t, false);
	} else {
		t->cmd->in_len = (u32)t->io.len;
	}
	scsi_task_done(t);
}

static void read_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_READ;
	t->io.flags = 0;
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->cmd->in;
	scsi_submit_io(t, read_done);
}

/*
 * A read takes a SHARED range lock: it never waits for other reads or
 * writes, only for an overlapping EXCLUSIVE holder or waiter (COMPARE AND
 * WRITE, ORWRITE, WRITE ATOMIC), and such a command in turn waits for the
 * overlapping reads already at the backing. So no read returns half of an
 * atomic write. The cost is the lock's walk of the LU's task list.
 */
int scsi_exec_read(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	u64 lba, len;
	int rc;

	if ((rc = rw_prepare(t, &lba, &len, true)) >= 0)
		return rc;
	if (len == 0)
		return SCSI_DONE;
	cmd->in = bt_alloc(len << lu->bs_shift);
	if (!cmd->in) {
		cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	t->next = read_start;
	if (scsi_lock_acquire(t, LOCK_SHARED))
		read_start(t);
	return SCSI_PENDING;
}

/* ---- WRITE -------------------------------------------------------------- */

u32 scsi_write_flags(const struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	bool fua = (cdb[0] >> 5) != 0 && (cdb[1] & 0x08);

	/* write-through (WCE=0): every write must be stable on completion */
	return (fua || !t->lu->wce) ? BT_IO_FUA : 0;
}

/* Data-Out must cover what the CDB asks to write (see bt_scsi.h). */
int scsi_check_dataout(struct scsi_task *t, u32 need)
{
	if (t->cmd->out_len < need || (need && !t->cmd->out))
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CMD_IU);
	return -1;
}

/*
 * Data-Out shorter than the CDB's transfer length (iSCSI EDTL < SCSI TL,
 * a residual overflow): the command is processed for the whole blocks the
 * initiator did send and nothing beyond (FCP-4 9.4.2 option a, what
 * libiscsi 1.19's iSCSIResiduals expects); xfer_len keeps the CDB's length
 * so the transport reports the overflow. A Data-Out that ends inside a
 * block cannot be written as sent: INVALID FIELD IN COMMAND INFORMATION
 * UNIT (option b). Returns -1 to go on, with t->nblocks possibly lowered
 * (0: nothing to write).
 */
static int write_dataout(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	u32 have = cmd->out ? cmd->out_len : 0;

	if (have >= cmd->xfer_len)
		return -1;
	if (have & (t->lu->block_size - 1))
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CMD_IU);
	t->nblocks = have >> t->lu->bs_shift;
	return -1;
}

/*
 * COMPARE AND WRITE and WRITE SAME take a Data-Out of an exact size (2 x
 * NLB blocks, one block): anything else means the initiator and the CDB
 * disagree about what is compared or replicated, so it is refused rather
 * than guessed at (libiscsi's InvalidDataOutSize tests expect that).
 */
int scsi_check_dataout_exact(struct scsi_task *t, u32 need)
{
	if (t->cmd->out_len != need)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CMD_IU);
	return scsi_check_dataout(t, need);
}

static void write_done(struct scsi_task *t)
{
	if (t->io.result < 0)
		scsi_io_error(t, true);
	scsi_task_done(t);
}

void scsi_write_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_WRITE;
	t->io.flags = scsi_write_flags(t);
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->cmd->out;
	scsi_submit_io(t, write_done);
}

int scsi_exec_write(struct scsi_task *t)
{
	u64 lba, len;
	int rc;

	if ((rc = rw_prepare(t, &lba, &len, true)) >= 0)
		return rc;
	if ((rc = write_dataout(t)) >= 0)
		return rc;
	if (t->nblocks == 0)
		return SCSI_DONE;
	t->next = scsi_write_start;
	if (scsi_lock_acquire(t, LOCK_SHARED))
		scsi_write_start(t);
	return SCSI_PENDING;
}

/* ---- VERIFY, WRITE AND VERIFY ------------------------------------------ */

/*
 * Compare t->buf (what the medium holds, nblocks) with the Data-Out:
 * bytchk 1 compares block by block, 3 compares one Data-Out block with
 * every block. MISCOMPARE carries the byte offset of the first difference.
 */
static void verify_compare(struct scsi_task *t, u8 bytchk)
{
	u32 bs = t->lu->block_size;
	u64 total = (u64)t->nblocks * bs, i;
	const u8 *out = t->cmd->out;

	for (i = 0; i < total; i++) {
		u8 want = bytchk == 3 ? out[i % bs] : out[i];

		if (t->buf[i] != want) {
			scsi_sense_info(t, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, i);
			return;
		}
	}
}

static void verify_read_done(struct scsi_task *t)
{
	if (t->io.result < 0)
		scsi_io_error(t, false);
	else
		verify_compare(t, (u8)t->stage);
	scsi_task_done(t);
}

static void verify_read(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_READ;
	t->io.flags = 0;
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->buf;
	scsi_submit_io(t, verify_read_done);
}

static int verify_begin(struct scsi_task *t, u8 bytchk)
{
	t->stage = bytchk;
	t->buf = bt_alloc((u64)t->nblocks << t->lu->bs_shift);
	if (!t->buf) {
		t->cmd->status = BT_SAM_BUSY;
		return SCSI_DONE;
	}
	verify_read(t);
	return SCSI_PENDING;
}

int scsi_exec_verify(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	u8 bytchk = (cmd->cdb[1] >> 1) & 0x03;
	u64 lba, len;
	int rc;

	if (bytchk == 2)
		return scsi_invalid_cdb(t, 1, 2);
	if ((rc = rw_prepare(t, &lba, &len, false)) >= 0)
		return rc;
	if (bytchk)
		cmd->xfer_len = bytchk == 3 ? t->lu->block_size :
					      bytes_u32(t->lu, len);
	/* BYTCHK=0: a medium verify; the range was checked, nothing to do */
	if (len == 0 || bytchk == 0)
		return SCSI_DONE;
	if ((rc = scsi_check_dataout(t, cmd->xfer_len)) >= 0)
		return rc;
	return verify_begin(t, bytchk);
}

static void wv_write_done(struct scsi_task *t)
{
	if (t->io.result < 0) {
		scsi_io_error(t, true);
		scsi_task_done(t);
		return;
	}
	if (!t->stage) {
		scsi_task_done(t);
		return;
	}
	/* BYTCHK=1: read back and compare what is now on the medium */
	verify_read(t);
}

static void wv_start(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	t->io.op = BT_IO_WRITE;
	t->io.flags = BT_IO_FUA;                /* verify means "on medium" */
	t->io.offset = t->lba << lu->bs_shift;
	t->io.len = (u64)t->nblocks << lu->bs_shift;
	t->io.buf = t->cmd->out;
	scsi_submit_io(t, wv_write_done);
}

int scsi_exec_write_verify(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	u8 bytchk = (cmd->cdb[1] >> 1) & 0x01;
	u64 lba, len;
	int rc;

	if ((rc = rw_prepare(t, &lba, &len, true)) >= 0)
		return rc;
	if ((rc = write_dataout(t)) >= 0)
		return rc;
	if (t->nblocks == 0)
		return SCSI_DONE;
	t->stage = bytchk;
	if (bytchk) {
		t->buf = bt_alloc((u64)t->nblocks << t->lu->bs_shift);
		if (!t->buf) {
			cmd->status = BT_SAM_BUSY;
			return SCSI_DONE;
		}
	}
	t->next = wv_start;
	if (scsi_lock_acquire(t, LOCK_SHARED))
		wv_start(t);
	return SCSI_PENDING;
}

/* ---- SYNCHRONIZE CACHE -------------------------------------------------- */

struct immed_flush {
	struct bt_io io;
	struct bt_lu *lu;
};

static void immed_flush_done(struct bt_io *io)
{
	struct immed_flush *f = io->priv;

	if (io->result < 0)
		bt_warn("scsi: background cache flush of %s failed: %d",
			f->lu->path, io->result);
	scsi_lu_put(f->lu);
	bt_free(f);
}

static void flush_done(struct scsi_task *t)
{
	if (t->io.result < 0)
		scsi_io_error(t, true);
	scsi_task_done(t);
}

int scsi_exec_sync_cache(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_lu *lu = t->lu;
	bool immed = cdb[1] & 0x02;
	u64 lba, len;
	int rc;

	if (cdb[0] == 0x35) {
		lba = bt_get_be32(cdb + 2);
		len = bt_get_be16(cdb + 7);
	} else {
		lba = bt_get_be64(cdb + 2);
		len = bt_get_be32(cdb + 10);
	}
	/* 0 blocks: from lba to the end of the medium */
	if ((rc = scsi_check_range(t, lba, len ? len : (lba < lu->nblocks ?
						       lu->nblocks - lba : 1))) >= 0)
		return rc;
	if (immed) {
		/* GOOD now; the flush runs on with its own LU reference */
		struct immed_flush *f = bt_zalloc(sizeof(*f));

		if (f) {
			f->lu = lu;
			scsi_lu_get(lu);
			f->io.op = BT_IO_FLUSH;
			f->io.done = immed_flush_done;
			f->io.priv = f;
			bt_engine_ops(lu->e)->bdev_submit(bt_engine_host(lu->e),
							  lu->bdev, &f->io);
			return SCSI_DONE;
		}
		/* no memory for a detached flush: do it synchronously */
	}
	t->io.op = BT_IO_FLUSH;
	t->io.flags = 0;
	t->io.offset = 0;
	t->io.len = 0;
	t->io.buf = NULL;
	scsi_submit_io(t, flush_done);
	return SCSI_PENDING;
}

/* ---- PRE-FETCH ------------------------------------------------------------
 * Advisory. The engine has no cache of its own (the host's page cache or
 * device does the caching), so after the range check the answer is GOOD:
 * "not all blocks were placed in cache" (SBC-3 5.9), never CONDITION MET.
 */
int scsi_exec_prefetch(struct scsi_task *t)
{
	u64 lba, len;
	int rc;

	scsi_decode_lba_len(t->cmd->cdb, &lba, &len);
	if ((rc = scsi_check_range(t, lba, len)) >= 0)
		return rc;
	return SCSI_DONE;
}
