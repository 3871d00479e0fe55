/*
 * test_scsi_rw.c - SBC-3 side of the SCSI layer on the memory backend:
 * capacity, READ/WRITE 6/10/12/16, ranges, residual lengths, FUA, VERIFY,
 * WRITE AND VERIFY, SYNCHRONIZE CACHE, COMPARE AND WRITE (atomicity with
 * deferred completions), WRITE SAME, UNMAP, GET LBA STATUS, I/O errors,
 * LU destroy with I/O in flight, ABORT TASK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_scsi_harness.h"

#define BS 512
#define NBLOCKS 2048u                   /* 1 MiB LU */

static int setup_mode(void **state, bool deferred)
{
	struct th *th = calloc(1, sizeof(*th));
	struct th_lun c = { .size = NBLOCKS * BS, .uid = "rw" };

	if (!th || th_init(th, false) < 0 || th_add_lun(th, 0, &c) < 0)
		return -1;
	th_clear_ua(th, 0);
	th->host.deferred = deferred;
	*state = th;
	return 0;
}

static int setup(void **state) { return setup_mode(state, false); }
static int setup_deferred(void **state) { return setup_mode(state, true); }

static int teardown(void **state)
{
	struct th *th = *state;

	th_fini(th);
	free(th);
	return 0;
}

static u8 *medium(struct th *th)
{
	return th->host.last_dev->data;
}

static void cdb_rw(u8 *cdb, unsigned len, u8 op, u64 lba, u32 n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	switch (len) {
	case 6:
		bt_put_be24(cdb + 1, (u32)lba & 0x1fffff);
		cdb[4] = (u8)n;
		break;
	case 10:
		bt_put_be32(cdb + 2, (u32)lba);
		bt_put_be16(cdb + 7, (u16)n);
		break;
	case 12:
		bt_put_be32(cdb + 2, (u32)lba);
		bt_put_be32(cdb + 6, n);
		break;
	default:
		bt_put_be64(cdb + 2, lba);
		bt_put_be32(cdb + 10, n);
		break;
	}
}

static struct bt_cmd *rd(struct th *th, unsigned len, u64 lba, u32 n, u32 exp)
{
	static const u8 ops[17] = { [6] = 0x08, [10] = 0x28, [12] = 0xa8, [16] = 0x88 };
	u8 cdb[16];

	cdb_rw(cdb, len, ops[len], lba, n);
	return th_run(th, 0, cdb, len, BT_DIR_READ, exp, NULL, 0);
}

static struct bt_cmd *wr(struct th *th, unsigned len, u64 lba, u32 n,
			 const void *buf, u32 buflen)
{
	static const u8 ops[17] = { [6] = 0x0a, [10] = 0x2a, [12] = 0xaa, [16] = 0x8a };
	u8 cdb[16];

	cdb_rw(cdb, len, ops[len], lba, n);
	return th_run(th, 0, cdb, len, BT_DIR_WRITE, buflen, buf, buflen);
}

/* ---- capacity ------------------------------------------------------------ */

static void test_read_capacity(void **state)
{
	struct th *th = *state;
	u8 rc10[10] = { 0x25 };
	u8 rc16[16] = { 0x9e, 0x10 };
	struct bt_cmd *c;
	u32 i;

	c = th_run(th, 0, rc10, 10, BT_DIR_READ, 8, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), NBLOCKS - 1);
	assert_int_equal(bt_get_be32(c->in + 4), BS);
	rc10[5] = 1;                                    /* LBA without PMI */
	c = th_run(th, 0, rc10, 10, BT_DIR_READ, 8, NULL, 0);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
	rc16[13] = 32;
	c = th_run(th, 0, rc16, 16, BT_DIR_READ, 32, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 32);
	assert_int_equal(bt_get_be64(c->in), NBLOCKS - 1);
	assert_int_equal(bt_get_be32(c->in + 8), BS);
	assert_int_equal(c->in[12], 0);                 /* no protection */
	assert_int_equal(c->in[14] & 0xc0, 0xc0);       /* LBPME, LBPRZ  */
	assert_int_equal(c->in[13] & 0x0f, 0);          /* LBPPBE 0       */
	for (i = 0; i < 16; i++) {                      /* any alloc len */
		rc16[13] = (u8)i;
		c = th_run(th, 0, rc16, 16, BT_DIR_READ, i, NULL, 0);
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->in_len, i);
	}
}

static void test_capacity_whole_blocks_and_tail(void **state)
{
	struct th *th = *state;
	struct th_lun odd = { .size = 1000000, .block_size = 4096 };
	struct bt_lu *lu;

	assert_int_equal(th_add_lun(th, 1, &odd), 0);
	lu = th_lu(th, 1);
	assert_int_equal(bt_lu_block_size(lu), 4096);
	assert_int_equal(bt_lu_blocks(lu), 1000000 / 4096);
	/* a reserved tail (the PR region) comes off the capacity */
	assert_int_equal(bt_lu_set_reserved_tail(lu, 64 * 1024), 0);
	assert_int_equal(bt_lu_blocks(lu), (1000000 - 65536) / 4096);
	assert_int_not_equal(bt_lu_set_reserved_tail(lu, 1000000), 0);
	/* bad block sizes are refused */
	odd.block_size = 1000;
	assert_true(th_add_lun(th, 2, &odd) < 0);
}

/* ---- READ / WRITE -------------------------------------------------------- */

static void test_rw_roundtrip(void **state)
{
	struct th *th = *state;
	static const unsigned lens[] = { 6, 10, 12, 16 };
	u8 buf[4 * BS];
	struct bt_cmd *c;
	unsigned i;

	for (i = 0; i < 4; i++) {
		u64 lba = 100 + i * 10;

		memset(buf, 0x30 + i, sizeof(buf));
		buf[0] = (u8)i;
		c = wr(th, lens[i], lba, 4, buf, sizeof(buf));
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->xfer_len, sizeof(buf));
		assert_memory_equal(medium(th) + lba * BS, buf, sizeof(buf));
		c = rd(th, lens[i], lba, 4, sizeof(buf));
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->in_len, sizeof(buf));
		assert_int_equal(c->xfer_len, sizeof(buf));
		assert_memory_equal(c->in, buf, sizeof(buf));
	}
	/* READ(6) transfer length 0 means 256 blocks */
	c = rd(th, 6, 0, 0, 256 * BS);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, 256 * BS);
	assert_int_equal(th->host.last.len, 256 * BS);
	/* the last block */
	c = rd(th, 16, NBLOCKS - 1, 1, BS);
	assert_int_equal(c->status, BT_SAM_GOOD);
}

static void test_rw_range(void **state)
{
	struct th *th = *state;
	u8 buf[2 * BS] = { 0 };
	unsigned before;

	assert_true(th_is_sense(rd(th, 10, NBLOCKS - 1, 2, 2 * BS), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(rd(th, 16, ~0ULL, 1, BS), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(rd(th, 16, ~0ULL - 1, 2, 2 * BS), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(rd(th, 6, 0x1fffff, 1, BS), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(wr(th, 12, NBLOCKS, 1, buf, BS), 0x05, 0x21, 0x00));
	/* zero length: GOOD without I/O inside, LBA OUT OF RANGE past it */
	before = th->host.nsubmit[BT_IO_READ];
	assert_int_equal(rd(th, 10, 0, 0, 0)->status, BT_SAM_GOOD);
	assert_int_equal(th->host.nsubmit[BT_IO_READ], before);
	assert_true(th_is_sense(rd(th, 10, NBLOCKS + 1, 0, 0), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(rd(th, 10, 0x80000000u, 0, 0), 0x05, 0x21, 0x00));
	assert_int_equal(wr(th, 10, 0, 0, NULL, 0)->status, BT_SAM_GOOD);
	/* longer than MAXIMUM TRANSFER LENGTH (VPD B0h): invalid field */
	{
		u8 inq[6] = { 0x12, 1, 0xb0, 0, 64, 0 };
		struct th_lun big = { .size = 64u << 20 };
		u32 max;
		struct bt_cmd *c;
		u8 cdb[16];

		c = th_run(th, 0, inq, 6, BT_DIR_READ, 64, NULL, 0);
		max = bt_get_be32(c->in + 8);
		assert_int_equal(th_add_lun(th, 1, &big), 0);
		th_clear_ua(th, 1);
		cdb_rw(cdb, 16, 0x88, 0, max + 1);
		c = th_run(th, 1, cdb, 16, BT_DIR_READ, 0, NULL, 0);
		assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
		cdb_rw(cdb, 16, 0x88, 0, max);
		c = th_run(th, 1, cdb, 16, BT_DIR_READ, 0, NULL, 0);
		assert_int_equal(c->status, BT_SAM_GOOD);
	}
}

static struct bt_cmd *verify(struct th *th, u8 op, u8 bytchk, u64 lba, u32 n,
			     const void *buf, u32 len);

/* xfer_len is what the CDB asks for, whatever the iSCSI EDTL says. */
static void test_residual_lengths(void **state)
{
	struct th *th = *state;
	u8 buf[3 * BS];
	struct bt_cmd *c;

	c = rd(th, 10, 0, 1, 0);                        /* EDTL 0        */
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, BS);
	c = rd(th, 10, 0, 2, BS);                       /* EDTL 1 block  */
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, 2 * BS);
	c = rd(th, 10, 0, 1, 10000);
	assert_int_equal(c->xfer_len, BS);
	/* less Data-Out than the CDB asks: the whole blocks sent are
	 * written, GOOD, xfer_len still the CDB's (overflow residual) */
	memset(medium(th), 'a', 2 * BS);
	memset(buf, 'b', sizeof(buf));
	c = wr(th, 10, 0, 2, buf, BS);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, 2 * BS);
	assert_int_equal(medium(th)[0], 'b');
	assert_int_equal(medium(th)[BS], 'a');
	assert_int_equal(th->host.last.len, BS);
	memset(medium(th), 'a', 2 * BS);
	c = wr(th, 10, 0, 1, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, BS);
	assert_int_equal(medium(th)[0], 'a');
	/* ... but a Data-Out ending inside a block is refused, unwritten */
	c = wr(th, 10, 0, 1, buf, 200);
	assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
	assert_int_equal(medium(th)[0], 'a');
	c = verify(th, 0x2e, 0, 0, 2, buf, BS + 100);
	assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
	/* more Data-Out than asked: only the CDB's blocks are written */
	c = wr(th, 10, 0, 1, buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, BS);
	assert_int_equal(medium(th)[BS - 1], 'b');
	assert_int_equal(medium(th)[BS], 'a');
}

static void test_flags(void **state)
{
	struct th *th = *state;
	u8 cdb[16], buf[BS] = { 1 };
	struct bt_cmd *c;
	struct th_sense s;

	/* DPO and FUA accepted on reads and writes */
	cdb_rw(cdb, 10, 0x28, 0, 1);
	cdb[1] = 0x18;
	c = th_run(th, 0, cdb, 10, BT_DIR_READ, BS, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	cdb_rw(cdb, 16, 0x8a, 0, 1);
	cdb[1] = 0x08;
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, BS, buf, BS);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.op, BT_IO_WRITE);
	assert_int_equal(th->host.last.flags & BT_IO_FUA, BT_IO_FUA);
	/* RDPROTECT / WRPROTECT without protection information */
	cdb_rw(cdb, 12, 0xa8, 0, 1);
	cdb[1] = 0x20;
	c = th_run(th, 0, cdb, 12, BT_DIR_READ, BS, NULL, 0);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
	assert_true(th_sense(c, &s));
	assert_int_equal(s.sks[0], 0x80 | 0x40 | 0x08 | 5);
	assert_int_equal(bt_get_be16(s.sks + 1), 1);
	cdb_rw(cdb, 10, 0x2a, 0, 1);
	cdb[1] = 0xe0;
	c = th_run(th, 0, cdb, 10, BT_DIR_WRITE, BS, buf, BS);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
	/* READ(6) byte 1 bits 7:5 are reserved */
	cdb_rw(cdb, 6, 0x08, 0, 1);
	cdb[1] |= 0x20;
	c = th_run(th, 0, cdb, 6, BT_DIR_READ, BS, NULL, 0);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
}

static void test_readonly(void **state)
{
	struct th *th = *state;
	struct th_lun ro = { .readonly = true };
	u8 cdb[16], buf[BS] = { 0 };
	u8 ms[6] = { 0x1a, 0, 0x3f, 0, 255, 0 };
	struct bt_cmd *c;

	assert_int_equal(th_add_lun(th, 1, &ro), 0);
	th_clear_ua(th, 1);
	cdb_rw(cdb, 10, 0x2a, 0, 1);
	c = th_run(th, 1, cdb, 10, BT_DIR_WRITE, BS, buf, BS);
	assert_true(th_is_sense(c, 0x07, 0x27, 0x00));
	cdb_rw(cdb, 10, 0x28, 0, 1);
	c = th_run(th, 1, cdb, 10, BT_DIR_READ, BS, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	c = th_run(th, 1, ms, 6, BT_DIR_READ, 255, NULL, 0);
	assert_int_equal(c->in[2] & 0x80, 0x80);
}

/* ---- SYNCHRONIZE CACHE, VERIFY, WRITE AND VERIFY ------------------------ */

static void test_sync_cache(void **state)
{
	struct th *th = *state;
	u8 sc10[10] = { 0x35 }, sc16[16] = { 0x91 };
	unsigned before = th->host.nsubmit[BT_IO_FLUSH];
	struct bt_cmd cmd;

	assert_int_equal(th_run(th, 0, sc10, 10, BT_DIR_NONE, 0, NULL, 0)->status,
			 BT_SAM_GOOD);
	assert_int_equal(th->host.nsubmit[BT_IO_FLUSH], before + 1);
	assert_int_equal(th_run(th, 0, sc16, 16, BT_DIR_NONE, 0, NULL, 0)->status,
			 BT_SAM_GOOD);
	assert_int_equal(th->host.nsubmit[BT_IO_FLUSH], before + 2);
	bt_put_be64(sc16 + 2, NBLOCKS);
	assert_true(th_is_sense(th_run(th, 0, sc16, 16, BT_DIR_NONE, 0, NULL, 0),
				0x05, 0x21, 0x00));
	/* IMMED: GOOD before the flush completes (deferred host) */
	th->host.deferred = true;
	sc10[1] = 0x02;
	th_cmd_init(th, &cmd, 0, sc10, 10, BT_DIR_NONE, 0, NULL, 0);
	before = th->ndone;
	bt_scsi_submit(&cmd);
	assert_int_equal(th->ndone, before + 1);
	assert_int_equal(cmd.status, BT_SAM_GOOD);
	assert_int_equal(th->host.npending, 1);
	assert_int_equal(th->host.last.op, BT_IO_FLUSH);
	/* the detached flush keeps the LU alive past its deletion */
	assert_int_equal(bt_lun_del(th->e, TH_IQN, 0, true), 0);
	assert_int_equal(th->host.closed, 0);
	memhost_run(&th->host);
	assert_int_equal(th->host.closed, 1);
	/* without IMMED: done only when the flush completes */
	{
		struct th_lun c = { 0 };

		assert_int_equal(th_add_lun(th, 0, &c), 0);
		th_clear_ua(th, 0);
		sc10[1] = 0;
		th_cmd_init(th, &cmd, 0, sc10, 10, BT_DIR_NONE, 0, NULL, 0);
		before = th->ndone;
		bt_scsi_submit(&cmd);
		assert_int_equal(th->ndone, before);
		memhost_run(&th->host);
		assert_int_equal(th->ndone, before + 1);
		assert_int_equal(cmd.status, BT_SAM_GOOD);
	}
}

static void test_prefetch(void **state)
{
	struct th *th = *state;
	u8 cdb[16];
	unsigned reads = th->host.nsubmit[BT_IO_READ];

	cdb_rw(cdb, 10, 0x34, NBLOCKS - 4, 4);
	cdb[1] = 0x02;                                  /* IMMED */
	assert_int_equal(th_run(th, 0, cdb, 10, BT_DIR_NONE, 0, NULL, 0)->status,
			 BT_SAM_GOOD);
	cdb_rw(cdb, 16, 0x90, NBLOCKS - 4, 5);
	assert_true(th_is_sense(th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0),
				0x05, 0x21, 0x00));
	assert_int_equal(th->host.nsubmit[BT_IO_READ], reads);
}

static struct bt_cmd *verify(struct th *th, u8 op, u8 bytchk, u64 lba, u32 n,
			     const void *buf, u32 len)
{
	u8 cdb[16];
	unsigned l = op == 0x2f || op == 0x2e ? 10 : op == 0xaf || op == 0xae ? 12 : 16;

	cdb_rw(cdb, l, op, lba, n);
	cdb[1] = (u8)(bytchk << 1);
	return th_run(th, 0, cdb, l, buf ? BT_DIR_WRITE : BT_DIR_NONE, len, buf, len);
}

static void test_verify(void **state)
{
	struct th *th = *state;
	u8 buf[2 * BS];
	struct bt_cmd *c;
	struct th_sense s;
	unsigned reads = th->host.nsubmit[BT_IO_READ];

	memset(medium(th) + 10 * BS, 0x77, 2 * BS);
	memset(buf, 0x77, sizeof(buf));
	/* BYTCHK=0: range check only */
	assert_int_equal(verify(th, 0x2f, 0, 10, 2, NULL, 0)->status, BT_SAM_GOOD);
	assert_int_equal(th->host.nsubmit[BT_IO_READ], reads);
	assert_true(th_is_sense(verify(th, 0x8f, 0, NBLOCKS, 1, NULL, 0),
				0x05, 0x21, 0x00));
	/* BYTCHK=1 compares */
	c = verify(th, 0xaf, 1, 10, 2, buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, 2 * BS);
	buf[BS + 3] = 0;
	c = verify(th, 0x8f, 1, 10, 2, buf, sizeof(buf));
	assert_true(th_is_sense(c, 0x0e, 0x1d, 0x00));
	assert_true(th_sense(c, &s));
	assert_true(s.info_valid);
	assert_int_equal(s.info, BS + 3);
	/* BYTCHK=3: one block against each */
	c = verify(th, 0x2f, 3, 10, 2, buf, BS);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, BS);
	/* BYTCHK=2 reserved */
	assert_true(th_is_sense(verify(th, 0x2f, 2, 10, 2, buf, BS), 0x05, 0x24, 0x00));
}

static void test_write_verify(void **state)
{
	struct th *th = *state;
	u8 buf[2 * BS];
	struct bt_cmd *c;

	memset(buf, 0x5c, sizeof(buf));
	c = verify(th, 0x2e, 1, 20, 2, buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_memory_equal(medium(th) + 20 * BS, buf, sizeof(buf));
	assert_int_equal(th->host.last.op, BT_IO_READ); /* read back */
	memset(buf, 0x5d, sizeof(buf));
	c = verify(th, 0x8e, 0, 22, 2, buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.flags & BT_IO_FUA, BT_IO_FUA);
	assert_memory_equal(medium(th) + 22 * BS, buf, sizeof(buf));
	assert_true(th_is_sense(verify(th, 0xae, 0, NBLOCKS - 1, 2, buf, sizeof(buf)),
				0x05, 0x21, 0x00));
}

/* ---- COMPARE AND WRITE -------------------------------------------------- */

static void caw_cdb(u8 *cdb, u64 lba, u8 n)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	bt_put_be64(cdb + 2, lba);
	cdb[13] = n;
}

static void test_caw(void **state)
{
	struct th *th = *state;
	u8 cdb[16], buf[2 * BS];
	struct bt_cmd *c;
	struct th_sense s;

	memset(medium(th) + 5 * BS, 0x11, BS);
	memset(buf, 0x11, BS);
	memset(buf + BS, 0x22, BS);
	caw_cdb(cdb, 5, 1);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, 2 * BS);
	assert_int_equal(medium(th)[5 * BS], 0x22);
	/* now the compare fails at byte 0: MISCOMPARE, nothing written */
	memset(buf + BS, 0x33, BS);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_true(th_is_sense(c, 0x0e, 0x1d, 0x00));
	assert_true(th_sense(c, &s));
	assert_true(s.info_valid);
	assert_int_equal(s.info, 0);
	assert_int_equal(medium(th)[5 * BS], 0x22);
	/* offset of the first differing byte */
	memset(buf, 0x22, BS);
	buf[17] = 0;
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_true(th_sense(c, &s));
	assert_int_equal(s.info, 17);
	/* errors: range, length over the limit, short Data-Out */
	caw_cdb(cdb, NBLOCKS, 1);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_true(th_is_sense(c, 0x05, 0x21, 0x00));
	caw_cdb(cdb, 0, 1);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, BS, buf, BS);
	assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
	{
		u8 big[4 * BS] = { 0 };                 /* too much: refused */

		c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(big), big, sizeof(big));
		assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
	}
	caw_cdb(cdb, 0, 0);
	assert_int_equal(th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0)->status,
			 BT_SAM_GOOD);
	/* 0 blocks but Data-Out attached (256 wrapped into 8 bits) */
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
}

/*
 * With the host completing later, a WRITE to the CAW's range that arrives
 * while the CAW's read is outstanding must not reach the host before the
 * CAW's write; a WRITE elsewhere goes straight through.
 */
static void test_caw_atomic(void **state)
{
	struct th *th = *state;
	struct bt_cmd caw, w1, w2;
	u8 cdb[16], cawbuf[2 * BS], b1[BS], b2[BS];

	memset(medium(th) + 8 * BS, 0xa0, BS);
	memset(cawbuf, 0xa0, BS);
	memset(cawbuf + BS, 0xc0, BS);
	memset(b1, 0xd1, BS);
	memset(b2, 0xd2, BS);
	caw_cdb(cdb, 8, 1);
	th_cmd_init(th, &caw, 0, cdb, 16, BT_DIR_WRITE, 2 * BS, cawbuf, 2 * BS);
	bt_scsi_submit(&caw);
	assert_int_equal(th->host.npending, 1);         /* CAW read       */
	cdb_rw(cdb, 10, 0x2a, 8, 1);
	th_cmd_init(th, &w1, 0, cdb, 10, BT_DIR_WRITE, BS, b1, BS);
	w1.tag = 0x77;
	bt_scsi_submit(&w1);
	assert_int_equal(th->host.npending, 1);         /* w1 held back   */
	cdb_rw(cdb, 10, 0x2a, 100, 1);
	th_cmd_init(th, &w2, 0, cdb, 10, BT_DIR_WRITE, BS, b2, BS);
	bt_scsi_submit(&w2);
	assert_int_equal(th->host.npending, 2);         /* w2 not blocked */
	memhost_complete_one(&th->host, 0);             /* CAW read done  */
	assert_int_equal(th->host.npending, 2);         /* CAW write + w2 */
	assert_int_equal(th->host.pending[1]->op, BT_IO_WRITE);
	assert_true(th->host.pending[1]->flags & BT_IO_PRIO);
	memhost_complete_one(&th->host, 1);             /* CAW write done */
	assert_int_equal(caw.status, BT_SAM_GOOD);
	assert_int_equal(medium(th)[8 * BS], 0xc0);
	assert_int_equal(th->host.npending, 2);         /* w1 released    */
	memhost_run(&th->host);
	assert_int_equal(w1.status, BT_SAM_GOOD);
	assert_int_equal(w2.status, BT_SAM_GOOD);
	assert_int_equal(medium(th)[8 * BS], 0xd1);     /* w1 after CAW   */
	assert_int_equal(bt_scsi_tasks_pending(th_lu(th, 0)), 0);
}

static void test_abort_queued(void **state)
{
	struct th *th = *state;
	struct bt_cmd caw, w1;
	u8 cdb[16], cawbuf[2 * BS] = { 0 }, b1[BS] = { 0 };
	unsigned before;

	caw_cdb(cdb, 8, 1);
	th_cmd_init(th, &caw, 0, cdb, 16, BT_DIR_WRITE, 2 * BS, cawbuf, 2 * BS);
	caw.tag = 1;
	bt_scsi_submit(&caw);
	cdb_rw(cdb, 10, 0x2a, 8, 1);
	th_cmd_init(th, &w1, 0, cdb, 10, BT_DIR_WRITE, BS, b1, BS);
	w1.tag = 2;
	bt_scsi_submit(&w1);
	before = th->ndone;
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_ABORT_TASK, 0, 2),
			 BT_TMF_RSP_COMPLETE);
	assert_int_equal(th->ndone, before + 1);
	assert_true(w1.aborted);
	assert_int_equal(w1.status, BT_SAM_TASK_ABORTED);
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_ABORT_TASK, 0, 99),
			 BT_TMF_RSP_NO_TASK);
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_ABORT_TASK, 5, 1),
			 BT_TMF_RSP_NO_LUN);
	/* the CAW has I/O at the host: marked, finishes when it completes */
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_ABORT_TASK_SET, 0, 0),
			 BT_TMF_RSP_COMPLETE);
	assert_true(caw.aborted);
	assert_int_equal(th->ndone, before + 1);
	memhost_run(&th->host);
	assert_int_equal(th->ndone, before + 2);
	assert_int_equal(bt_scsi_tasks_pending(th_lu(th, 0)), 0);
}

static void test_orwrite_defects(void **state)
{
	struct th *th = *state;
	u8 cdb[16], buf[2 * BS];
	struct bt_cmd *c;

	memset(medium(th) + 40 * BS, 0x0f, 2 * BS);
	memset(buf, 0x30, sizeof(buf));
	cdb_rw(cdb, 16, 0x8b, 40, 2);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(medium(th)[40 * BS], 0x3f);
	assert_int_equal(medium(th)[42 * BS - 1], 0x3f);
	assert_int_equal(medium(th)[42 * BS], 0);
	cdb_rw(cdb, 16, 0x8b, NBLOCKS + 1, 0);
	c = th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x05, 0x21, 0x00));
	cdb_rw(cdb, 16, 0x8b, 0, 1);
	cdb[1] = 0x20;                                  /* ORPROTECT */
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, BS, buf, BS);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
	/* READ DEFECT DATA: an empty list */
	{
		u8 rdd[10] = { 0x37, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 32, 0 };

		c = th_run(th, 0, rdd, 10, BT_DIR_READ, 32, NULL, 0);
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->in_len, 4);
		assert_int_equal(bt_get_be16(c->in + 2), 0);
	}
}

/* ---- WRITE SAME, UNMAP, GET LBA STATUS --------------------------------- */

static struct bt_cmd *write_same(struct th *th, bool sixteen, bool unmap,
				 u64 lba, u32 n, const u8 *blk)
{
	u8 cdb[16];

	cdb_rw(cdb, sixteen ? 16 : 10, sixteen ? 0x93 : 0x41, lba, n);
	if (unmap)
		cdb[1] = 0x08;
	return th_run(th, 0, cdb, sixteen ? 16 : 10, BT_DIR_WRITE, BS, blk, BS);
}

static void test_write_same(void **state)
{
	struct th *th = *state;
	u8 blk[BS], zero[BS] = { 0 };
	struct bt_cmd *c;
	u32 i;

	for (i = 0; i < BS; i++)
		blk[i] = (u8)i;
	c = write_same(th, false, false, 30, 3, blk);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, BS);
	for (i = 0; i < 3; i++)
		assert_memory_equal(medium(th) + (30 + i) * BS, blk, BS);
	/* a big range is written in chunks */
	c = write_same(th, true, false, 0, NBLOCKS, blk);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_memory_equal(medium(th) + (NBLOCKS - 1) * BS, blk, BS);
	/* zeroes with UNMAP: discard; without: write zeroes */
	c = write_same(th, true, true, 30, 3, zero);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.op, BT_IO_DISCARD);
	assert_int_equal(medium(th)[31 * BS + 5], 0);
	c = write_same(th, false, false, 40, 2, zero);
	assert_int_equal(th->host.last.op, BT_IO_WRITE_ZEROES);
	/* UNMAP bit with data that is not zero: still a deallocation */
	c = write_same(th, false, false, 50, 2, blk);
	c = write_same(th, false, true, 50, 2, blk);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.op, BT_IO_DISCARD);
	assert_int_equal(medium(th)[51 * BS + 7], 0);
	/* the Data-Out must be exactly one block */
	{
		u8 cdb[16], two[2 * BS] = { 0 };

		cdb_rw(cdb, 10, 0x41, 0, 1);
		c = th_run(th, 0, cdb, 10, BT_DIR_WRITE, sizeof(two), two, sizeof(two));
		assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
		c = th_run(th, 0, cdb, 10, BT_DIR_WRITE, BS / 2, two, BS / 2);
		assert_true(th_is_sense(c, 0x05, 0x0e, 0x03));
	}
	/* WRITE SAME(16) NDOB: no Data-Out, zeroes (or unmap) */
	{
		u8 cdb[16];

		memset(medium(th) + 60 * BS, 0x44, 2 * BS);
		cdb_rw(cdb, 16, 0x93, 60, 2);
		cdb[1] = 0x01;
		c = th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0);
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->xfer_len, 0);
		assert_int_equal(th->host.last.op, BT_IO_WRITE_ZEROES);
		assert_int_equal(medium(th)[61 * BS + 3], 0);
		cdb[1] = 0x09;
		c = th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0);
		assert_int_equal(th->host.last.op, BT_IO_DISCARD);
	}
	/* 0 blocks (WSNZ=0): to the end of the medium */
	c = write_same(th, false, false, NBLOCKS - 4, 0, blk);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_memory_equal(medium(th) + (NBLOCKS - 1) * BS, blk, BS);
	assert_true(th_is_sense(write_same(th, false, false, NBLOCKS, 0, blk),
				0x05, 0x21, 0x00));
	assert_true(th_is_sense(write_same(th, true, false, NBLOCKS - 1, 2, blk),
				0x05, 0x21, 0x00));
	/* a 20 MiB LU: "to the end" from 0 is over MAXIMUM WRITE SAME
	 * LENGTH (= max transfer, 16 MiB); 4 MiB from the end is written
	 * in 1 MiB chunks */
	{
		struct th_lun big = { .size = 20u << 20 };
		u8 cdb[16];
		unsigned writes;

		assert_int_equal(th_add_lun(th, 1, &big), 0);
		th_clear_ua(th, 1);
		cdb_rw(cdb, 16, 0x93, 0, 0);
		c = th_run(th, 1, cdb, 16, BT_DIR_WRITE, BS, blk, BS);
		assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
		writes = th->host.nsubmit[BT_IO_WRITE];
		cdb_rw(cdb, 16, 0x93, (16u << 20) / BS, 0);
		c = th_run(th, 1, cdb, 16, BT_DIR_WRITE, BS, blk, BS);
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(th->host.nsubmit[BT_IO_WRITE], writes + 4);
		assert_memory_equal(medium(th) + (20u << 20) - BS, blk, BS);
		assert_memory_equal(medium(th) + (16u << 20), blk, BS);
		assert_int_equal(medium(th)[(16u << 20) - 1], 0);
	}
}

static struct bt_cmd *unmap(struct th *th, const u8 *param, u16 len)
{
	u8 cdb[10] = { 0x42, 0, 0, 0, 0, 0, 0, (u8)(len >> 8), (u8)len, 0 };

	return th_run(th, 0, cdb, 10, BT_DIR_WRITE, len, param, len);
}

static void test_unmap(void **state)
{
	struct th *th = *state;
	u8 p[8 + 2 * 16];
	struct bt_cmd *c;
	unsigned before = th->host.nsubmit[BT_IO_DISCARD];

	memset(medium(th), 0xee, 64 * BS);
	memset(p, 0, sizeof(p));
	bt_put_be16(p, sizeof(p) - 2);
	bt_put_be16(p + 2, 32);
	bt_put_be64(p + 8, 1);
	bt_put_be32(p + 16, 2);
	bt_put_be64(p + 24, 10);
	bt_put_be32(p + 32, 1);
	c = unmap(th, p, sizeof(p));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.nsubmit[BT_IO_DISCARD], before + 2);
	assert_int_equal(medium(th)[0], 0xee);
	assert_int_equal(medium(th)[1 * BS], 0);
	assert_int_equal(medium(th)[2 * BS + 511], 0);
	assert_int_equal(medium(th)[3 * BS], 0xee);
	assert_int_equal(medium(th)[10 * BS], 0);
	/* out of range, short list, empty list */
	bt_put_be64(p + 24, NBLOCKS);
	assert_true(th_is_sense(unmap(th, p, sizeof(p)), 0x05, 0x21, 0x00));
	assert_true(th_is_sense(unmap(th, p, 6), 0x05, 0x1a, 0x00));
	assert_int_equal(unmap(th, NULL, 0)->status, BT_SAM_GOOD);
}

static void test_get_lba_status(void **state)
{
	struct th *th = *state;
	u8 cdb[16] = { 0x9e, 0x12 };
	struct bt_cmd *c;

	bt_put_be64(cdb + 2, 100);
	bt_put_be32(cdb + 10, 64);
	c = th_run(th, 0, cdb, 16, BT_DIR_READ, 64, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 24);
	assert_int_equal(bt_get_be64(c->in + 8), 100);
	assert_int_equal(bt_get_be32(c->in + 16), NBLOCKS - 100);
	bt_put_be64(cdb + 2, NBLOCKS);
	c = th_run(th, 0, cdb, 16, BT_DIR_READ, 64, NULL, 0);
	assert_true(th_is_sense(c, 0x05, 0x21, 0x00));
}

/* ---- errors and lifetime ------------------------------------------------ */

static void test_io_errors(void **state)
{
	struct th *th = *state;
	u8 buf[BS] = { 0 };

	th->host.fail_next = -BT_EIO;
	assert_true(th_is_sense(rd(th, 10, 0, 1, BS), 0x03, 0x11, 0x00));
	th->host.fail_next = -BT_EIO;
	assert_true(th_is_sense(wr(th, 10, 0, 1, buf, BS), 0x03, 0x0c, 0x00));
	th->host.fail_next = -BT_ENOMEM;
	assert_int_equal(rd(th, 10, 0, 1, BS)->status, BT_SAM_BUSY);
	assert_int_equal(rd(th, 10, 0, 1, BS)->status, BT_SAM_GOOD);
}

static void test_destroy_in_flight(void **state)
{
	struct th *th = *state;
	struct bt_cmd cmd;
	u8 cdb[16];

	cdb_rw(cdb, 10, 0x28, 0, 8);
	th_cmd_init(th, &cmd, 0, cdb, 10, BT_DIR_READ, 8 * BS, NULL, 0);
	bt_scsi_submit(&cmd);
	assert_int_equal(th->host.npending, 1);
	assert_int_equal(bt_lun_del(th->e, TH_IQN, 0, true), 0);
	assert_int_equal(th->host.closed, 0);           /* still open      */
	/* new commands to the LUN are now LOGICAL UNIT NOT SUPPORTED */
	{
		struct bt_cmd c2;
		unsigned before = th->ndone;

		th_cmd_init(th, &c2, 0, cdb, 10, BT_DIR_READ, 8 * BS, NULL, 0);
		bt_scsi_submit(&c2);
		assert_int_equal(th->ndone, before + 1);
		assert_true(th_is_sense(&c2, 0x05, 0x25, 0x00));
		assert_int_equal(cmd.status, BT_SAM_GOOD);  /* untouched */
		assert_int_equal(th->host.npending, 1);
	}
	memhost_run(&th->host);
	assert_int_equal(cmd.status, BT_SAM_GOOD);
	assert_int_equal(cmd.in_len, 8 * BS);
	assert_int_equal(th->host.closed, 1);
	bt_cmd_release(&cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity_whole_blocks_and_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_roundtrip, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_rw_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_residual_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caw, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_caw_atomic, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_abort_queued, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_orwrite_defects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_lba_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_in_flight, setup_deferred, teardown),
	};

	return cmocka_run_group_tests_name("scsi_rw", tests, NULL, NULL);
}
