/*
 * test_scsi_xcopy.c - EXTENDED COPY (LID1) and RECEIVE COPY RESULTS: copies
 * within and across LUs (inline and deferred I/O, chunked), descriptor and
 * length errors, COPY ABORTED cases, copy status per list id, an LU
 * deleted while a copy is in flight, and the copy's range locks against
 * COMPARE AND WRITE on another LU (and a LUN reset aborting a copy waiting
 * for its lock).
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

static int setup_mode(void **state, bool deferred)
{
	struct th *th = calloc(1, sizeof(*th));
	struct th_lun c0 = { .size = 8 << 20, .uid = "src" };
	struct th_lun c1 = { .size = 8 << 20, .uid = "dst" };

	if (!th || th_init(th, false) < 0 || th_add_lun(th, 0, &c0) < 0)
		return -1;
	if (th_add_lun(th, 1, &c1) < 0)
		return -1;
	th_clear_ua(th, 0);
	th_clear_ua(th, 1);
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

/* Identification target descriptor (E4h) naming lu by its NAA. */
static void tgt_desc(u8 *p, struct bt_lu *lu, u8 flags)
{
	const char *hex = bt_lu_naa_hex(lu);
	unsigned i, v;

	memset(p, 0, 32);
	p[0] = 0xe4;
	p[1] = flags;
	p[4] = 0x01;                  /* binary                               */
	p[5] = 0x03;                  /* NAA                                  */
	p[7] = 16;
	for (i = 0; i < 16; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		p[8 + i] = (u8)v;
	}
	bt_put_be24(p + 29, BS);
}

static void seg_desc(u8 *p, u16 src, u16 dst, u16 n, u64 slba, u64 dlba)
{
	memset(p, 0, 28);
	p[0] = 0x02;
	bt_put_be16(p + 2, 0x18);
	bt_put_be16(p + 4, src);
	bt_put_be16(p + 6, dst);
	bt_put_be16(p + 10, n);
	bt_put_be64(p + 12, slba);
	bt_put_be64(p + 20, dlba);
}

struct xbuf {
	u8 b[16 + 4 * 32 + 80 * 28];
	u32 ntgt, nseg;
};

static u32 xlen(const struct xbuf *x)
{
	return 16 + x->ntgt * 32 + x->nseg * 28;
}

static void header(struct xbuf *x, u8 list_id, u8 usage)
{
	memset(x->b, 0, 16);
	x->b[0] = list_id;
	x->b[1] = (u8)(usage << 3);
	bt_put_be16(x->b + 2, (u16)(x->ntgt * 32));
	bt_put_be32(x->b + 8, x->nseg * 28);
}

static struct bt_cmd *xcopy(struct th *th, u64 lun, struct xbuf *x, u32 plen)
{
	u8 cdb[16] = { 0x83 };

	bt_put_be32(cdb + 10, plen);
	return th_run(th, lun, cdb, 16, plen ? BT_DIR_WRITE : BT_DIR_NONE, plen,
		      x ? x->b : NULL, plen);
}

static struct bt_cmd *rcr(struct th *th, u8 sa, u8 list_id)
{
	u8 cdb[16] = { 0x84, sa, list_id };

	bt_put_be32(cdb + 10, 1024);
	return th_run(th, 0, cdb, 16, BT_DIR_READ, 1024, NULL, 0);
}

static u8 *dev_of(struct th *th, u64 lun)
{
	(void)lun;
	return th->host.last_dev->data;
}

static void test_copy_across_lus(void **state)
{
	struct th *th = *state;
	struct xbuf x = { .ntgt = 2, .nseg = 2 };
	struct bt_cmd *c;
	u8 *dst, blk[BS];
	u8 rd[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	unsigned i;

	/* LU 1 opened last: its medium; LU 0 is read back through READ */
	dst = dev_of(th, 1);
	for (i = 0; i < 3000; i++) {
		u8 cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

		memset(blk, (u8)(i * 7 + 1), BS);
		if (i % 500 && i != 2999)
			continue;
		bt_put_be32(cdb + 2, i);
		assert_int_equal(th_run(th, 0, cdb, 10, BT_DIR_WRITE, BS, blk, BS)->status,
				 BT_SAM_GOOD);
	}
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 1), 0);
	seg_desc(x.b + 80, 0, 1, 3000, 0, 100);        /* > 1 MiB: chunked */
	seg_desc(x.b + 108, 0, 0, 1, 2999, 5000);      /* within LU 0      */
	header(&x, 7, 0);
	c = xcopy(th, 0, &x, xlen(&x));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, xlen(&x));
	memset(blk, 1, BS);
	assert_memory_equal(dst + 100 * BS, blk, BS);
	memset(blk, (u8)(2999 * 7 + 1), BS);
	assert_memory_equal(dst + 3099 * BS, blk, BS);
	assert_int_equal(dst[99 * BS], 0);
	assert_int_equal(dst[3100 * BS], 0);
	bt_put_be32(rd + 2, 5000);
	c = th_run(th, 0, rd, 10, BT_DIR_READ, BS, NULL, 0);
	assert_memory_equal(c->in, blk, BS);
	/* copy status of list 7: done, 2 segments, 3001 blocks */
	c = rcr(th, 0x00, 7);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[4], 0x01);
	assert_int_equal(bt_get_be16(c->in + 5), 2);
	assert_int_equal(bt_get_be32(c->in + 8), 3001);
	c = rcr(th, 0x00, 8);
	assert_true(th_is_sense(c, 0x05, 0x24, 0x00));
	/* operating parameters */
	c = rcr(th, 0x03, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_true(bt_get_be16(c->in + 8) >= 2);
	assert_true(bt_get_be16(c->in + 10) >= 1);
	assert_int_equal(c->in[43], 2);
	/* INQUIRY says 3PC */
	{
		u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 };

		c = th_run(th, 0, inq, 6, BT_DIR_READ, 36, NULL, 0);
		assert_int_equal(c->in[5] & 0x08, 0x08);
	}
}

static void test_copy_deferred_and_lu_gone(void **state)
{
	struct th *th = *state;
	struct xbuf x = { .ntgt = 2, .nseg = 1 };
	struct bt_cmd cmd;
	u8 cdb[16] = { 0x83 };
	unsigned before = th->ndone, steps = 0;

	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 1), 0);
	seg_desc(x.b + 80, 0, 1, 4096, 0, 0);          /* 2 MiB: 2 chunks  */
	header(&x, 1, 0);
	bt_put_be32(cdb + 10, xlen(&x));
	th_cmd_init(th, &cmd, 0, cdb, 16, BT_DIR_WRITE, xlen(&x), x.b, xlen(&x));
	bt_scsi_submit(&cmd);
	assert_int_equal(th->host.npending, 1);
	/* the destination LU is deleted mid-copy: the copy holds it */
	assert_int_equal(bt_lun_del(th->e, TH_IQN, 1, true), 0);
	assert_int_equal(th->host.closed, 0);
	while (th->host.npending && steps++ < 100)
		memhost_complete_one(&th->host, 0);
	assert_int_equal(th->ndone, before + 1);
	assert_int_equal(cmd.status, BT_SAM_GOOD);
	assert_int_equal(steps, 4);                    /* 2 reads, 2 writes */
	assert_int_equal(th->host.closed, 1);
}

static void test_copy_errors(void **state)
{
	struct th *th = *state;
	struct xbuf x = { .ntgt = 1, .nseg = 1 };
	struct bt_cmd *c;
	u32 n;

	/* no parameter list: nothing to do */
	assert_int_equal(xcopy(th, 0, NULL, 0)->status, BT_SAM_GOOD);
	/* lengths that do not add up */
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	seg_desc(x.b + 48, 0, 0, 8, 0, 100);
	header(&x, 1, 0);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x) - 1), 0x05, 0x1a, 0x00));
	assert_true(th_is_sense(xcopy(th, 0, &x, 16 + 31), 0x05, 0x1a, 0x00));
	/* unsupported descriptor types */
	x.b[16] = 0xe0;
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x05, 0x26, 0x07));
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	x.b[48] = 0x03;
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x05, 0x26, 0x09));
	/* bad target index, unknown LU, NUL: COPY ABORTED, unreachable */
	seg_desc(x.b + 48, 0, 1, 8, 0, 100);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x0a, 0x0d, 0x02));
	seg_desc(x.b + 48, 0, 0, 8, 0, 100);
	x.b[16 + 20] ^= 0xff;
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x0a, 0x0d, 0x02));
	tgt_desc(x.b + 16, th_lu(th, 0), 0x20);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x0a, 0x0d, 0x02));
	/* beyond the destination's end */
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	seg_desc(x.b + 48, 0, 0, 8, 0, (8 << 20) / BS - 1);
	c = xcopy(th, 0, &x, xlen(&x));
	assert_int_equal(c->status, BT_SAM_CHECK_CONDITION);
	assert_int_equal(c->sense[2] & 0x0f, 0x0a);
	/* too many segment descriptors */
	x.ntgt = 1;
	x.nseg = 65;                                   /* still within the list length */
	for (n = 0; n < x.nseg; n++)
		seg_desc(x.b + 48 + n * 28, 0, 0, 1, n, 1000 + n);
	header(&x, 2, 0);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x05, 0x26, 0x08));
	/* too many target descriptors */
	x.ntgt = 3;
	x.nseg = 1;
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 0), 0);
	tgt_desc(x.b + 80, th_lu(th, 0), 0);
	seg_desc(x.b + 112, 0, 0, 1, 0, 1);
	header(&x, 3, 0);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x05, 0x26, 0x06));
}

static void test_copy_to_readonly(void **state)
{
	struct th *th = *state;
	struct th_lun ro = { .readonly = true, .uid = "ro" };
	struct xbuf x = { .ntgt = 2, .nseg = 1 };

	assert_int_equal(th_add_lun(th, 2, &ro), 0);
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 2), 0);
	seg_desc(x.b + 80, 0, 1, 1, 0, 0);
	header(&x, 4, 0);
	assert_true(th_is_sense(xcopy(th, 0, &x, xlen(&x)), 0x07, 0x27, 0x00));
}

static void caw_cmd(struct th *th, struct bt_cmd *cmd, u64 lun, u64 lba,
		    u8 *buf, u8 cmp, u8 val)
{
	u8 cdb[16] = { 0x89 };

	bt_put_be64(cdb + 2, lba);
	cdb[13] = 1;
	memset(buf, cmp, BS);
	memset(buf + BS, val, BS);
	th_cmd_init(th, cmd, lun, cdb, 16, BT_DIR_WRITE, 2 * BS, buf, 2 * BS);
	bt_scsi_submit(cmd);
}

static void xcopy_cmd(struct th *th, struct bt_cmd *cmd, struct xbuf *x)
{
	u8 cdb[16] = { 0x83 };

	bt_put_be32(cdb + 10, xlen(x));
	th_cmd_init(th, cmd, 0, cdb, 16, BT_DIR_WRITE, xlen(x), x->b, xlen(x));
	bt_scsi_submit(cmd);
}

/* Fill LU 0 blocks 0..15 with 0x3c (inline host), then defer. */
static void fill_src(struct th *th)
{
	u8 cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 16, 0 }, buf[16 * BS];

	th->host.deferred = false;
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(th_run(th, 0, cdb, 10, BT_DIR_WRITE, sizeof(buf), buf,
				sizeof(buf))->status, BT_SAM_GOOD);
	th->host.deferred = true;
}

/*
 * A CAW on the destination LU holds its range: the copy's write there waits
 * for it (and lands after it); then a CAW arriving while the copy's write
 * is in flight waits for that write.
 */
static void test_copy_locks_vs_caw(void **state)
{
	struct th *th = *state;
	struct xbuf x = { .ntgt = 2, .nseg = 1 };
	struct bt_cmd caw, xc, caw2;
	u8 cbuf[2 * BS], cbuf2[2 * BS], *dst = dev_of(th, 1);

	fill_src(th);
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 1), 0);
	seg_desc(x.b + 80, 0, 1, 16, 0, 0);            /* LU0 0..15 -> LU1 0..15 */
	header(&x, 9, 0);

	caw_cmd(th, &caw, 1, 10, cbuf, 0x00, 0xee);
	assert_int_equal(th->host.npending, 1);        /* CAW's read            */
	xcopy_cmd(th, &xc, &x);
	assert_int_equal(th->host.npending, 2);        /* + the copy's read     */
	memhost_complete_one(&th->host, 1);            /* copy read done        */
	assert_int_equal(th->host.npending, 1);        /* its write waits       */
	memhost_complete_one(&th->host, 0);            /* CAW read: compare ok  */
	assert_int_equal(th->host.npending, 1);        /* CAW write             */
	memhost_complete_one(&th->host, 0);
	assert_int_equal(caw.status, BT_SAM_GOOD);
	assert_int_equal(dst[10 * BS], 0xee);
	assert_int_equal(th->host.npending, 1);        /* now the copy's write  */
	assert_int_equal(th->host.pending[0]->op, BT_IO_WRITE);

	/* a CAW while the copy's write is at the host waits for it */
	caw_cmd(th, &caw2, 1, 15, cbuf2, 0x3c, 0x99);
	assert_int_equal(th->host.npending, 1);
	memhost_complete_one(&th->host, 0);            /* copy write done       */
	assert_int_equal(xc.status, BT_SAM_GOOD);
	assert_int_equal(dst[10 * BS], 0x3c);          /* the copy came after   */
	memhost_run(&th->host);
	assert_int_equal(caw2.status, BT_SAM_GOOD);    /* compared the copy's   */
	assert_int_equal(dst[15 * BS], 0x99);
	bt_cmd_release(&caw);
	bt_cmd_release(&caw2);
	bt_cmd_release(&xc);
}

/* A LUN reset on the destination while the copy waits for its lock there
 * ends the copy with COPY ABORTED; nothing leaks. */
static void test_copy_lock_reset(void **state)
{
	struct th *th = *state;
	struct xbuf x = { .ntgt = 2, .nseg = 1 };
	struct bt_cmd caw, xc;
	u8 cbuf[2 * BS];
	unsigned opened;

	fill_src(th);
	tgt_desc(x.b + 16, th_lu(th, 0), 0);
	tgt_desc(x.b + 48, th_lu(th, 1), 0);
	seg_desc(x.b + 80, 0, 1, 16, 0, 0);
	header(&x, 10, 0);
	caw_cmd(th, &caw, 1, 4, cbuf, 0x00, 0x11);
	xcopy_cmd(th, &xc, &x);
	memhost_complete_one(&th->host, 1);            /* copy read done: waits */
	assert_int_equal(th->host.npending, 1);
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_LUN_RESET, 1, 0),
			 BT_TMF_RSP_COMPLETE);
	assert_int_equal(xc.status, BT_SAM_CHECK_CONDITION);
	assert_int_equal(xc.sense[2] & 0x0f, 0x0a);    /* COPY ABORTED          */
	memhost_run(&th->host);                        /* the CAW finishes      */
	bt_cmd_release(&caw);
	bt_cmd_release(&xc);
	opened = th->host.opened;
	th_fini(th);
	assert_int_equal(th->host.closed, opened);     /* no LU reference left  */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_across_lus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_across_lus, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_copy_deferred_and_lu_gone, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_copy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_to_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_locks_vs_caw, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_copy_lock_reset, setup_deferred, teardown),
	};

	return cmocka_run_group_tests_name("scsi_xcopy", tests, NULL, NULL);
}
