/*
 * test_scsi_sbc.c - GET LBA STATUS with real allocation information (a host
 * with bdev_map_status), LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT from
 * bdev_phys_block, WRITE ATOMIC(16) (checks and its atomicity against
 * overlapping writes, reads and COMPARE AND WRITE), reads ordered behind
 * exclusive range locks.
 *
 * The harness (test_scsi_harness.c) builds its engine on membdev_ops, which
 * has neither optional host op; sbc_init() below builds the same engine,
 * target and nexus on a copy of membdev_ops with both added, over the
 * same memory devices.
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

/* A th whose host also reports allocation status and a physical block. */
struct sbc {
	struct th th;                 /* first: th->host is the host pointer */
	struct bt_host_ops ops;
	u32 phys;                     /* bdev_phys_block answer              */
	u64 gran;                     /* allocation unit of the fake: a run of
	                               * all-zero units is a hole             */
	u64 max_run;                  /* 0, or stop each answer after this   */
	int fail;                     /* <0: map_status fails with it        */
	unsigned calls;
};

static struct sbc *sbc_of(void *host)
{
	return BT_CONTAINER_OF((struct memhost *)host, struct sbc, th.host);
}

static bool unit_mapped(const struct membdev *d, u64 off, u64 n)
{
	u64 i;

	for (i = off; i < off + n && i < d->size; i++)
		if (d->data[i])
			return true;
	return false;
}

static int fake_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
			   u64 *len)
{
	struct sbc *s = sbc_of(host);
	const struct membdev *d = (const struct membdev *)b;
	u64 g = s->gran, end = offset + max, pos;
	bool st;

	s->calls++;
	if (s->fail < 0)
		return s->fail;
	st = unit_mapped(d, offset / g * g, g);
	pos = (offset / g + 1) * g;
	while (pos < end && unit_mapped(d, pos, g) == st)
		pos += g;
	if (pos > end)
		pos = end;
	if (s->max_run && pos - offset > s->max_run)
		pos = offset + s->max_run;
	*len = pos - offset;
	return st;
}

static u32 fake_phys_block(void *host, struct bt_bdev *b)
{
	return sbc_of(host)->phys;
}

/* th_init() with our host ops (same target, nexus and attach). */
static int sbc_init(struct sbc *s, bool deferred)
{
	struct th *th = &s->th;
	int rc;

	memset(s, 0, sizeof(*s));
	s->ops = membdev_ops;
	s->ops.bdev_map_status = fake_map_status;
	s->ops.bdev_phys_block = fake_phys_block;
	s->gran = 4096;
	memhost_init(&th->host, deferred);
	th->e = bt_engine_new(&s->ops, &th->host);
	if (!th->e)
		return -BT_ENOMEM;
	if ((rc = bt_target_add(th->e, TH_IQN)) < 0 ||
	    (rc = bt_target_attach(th->e, TH_IQN)) < 0)
		return rc;
	th->tgt = bt_target_find(th->e, TH_IQN);
	th->nexus.initiator = TH_INIT;
	memcpy(th->nexus.isid, "\x80\x12\x34\x56\x00\x01", 6);
	th->nexus.tsih = 1;
	th->nexus.tpgt = 1;
	th->nexus.rel_port = 1;
	th->nexus.target = th->tgt;
	th->nexus.id = 7;
	return bt_scsi_nexus_add(&th->nexus);
}

static int setup_mode(void **state, bool deferred, bool fake_host)
{
	struct sbc *s = calloc(1, sizeof(*s));
	struct th_lun c = { .size = 1 << 20 };

	if (!s)
		return -1;
	if (fake_host ? sbc_init(s, false) < 0 : th_init(&s->th, false) < 0)
		return -1;
	if (th_add_lun(&s->th, 0, &c) < 0)
		return -1;
	th_clear_ua(&s->th, 0);
	s->th.host.deferred = deferred;
	*state = s;
	return 0;
}

static int setup_fake(void **state) { return setup_mode(state, false, true); }
static int setup_plain(void **state) { return setup_mode(state, false, false); }
static int setup_deferred(void **state) { return setup_mode(state, true, false); }

static int teardown(void **state)
{
	struct sbc *s = *state;

	th_fini(&s->th);
	free(s);
	return 0;
}

static struct bt_cmd *gls(struct th *th, u64 lba, u32 alloc)
{
	u8 cdb[16] = { 0x9e, 0x12 };

	bt_put_be64(cdb + 2, lba);
	bt_put_be32(cdb + 10, alloc);
	return th_run(th, 0, cdb, 16, BT_DIR_READ, alloc, NULL, 0);
}

static void write_blocks(struct th *th, u32 lba, u32 n, u8 fill)
{
	u8 cdb[10] = { 0x2a };
	u8 *buf = malloc((size_t)n * BS);

	assert_non_null(buf);
	memset(buf, fill, (size_t)n * BS);
	bt_put_be32(cdb + 2, lba);
	bt_put_be16(cdb + 7, (u16)n);
	assert_int_equal(th_run(th, 0, cdb, 10, BT_DIR_WRITE, n * BS, buf, n * BS)->status,
			 BT_SAM_GOOD);
	free(buf);
}

/* Descriptor i of a GET LBA STATUS reply. */
static void desc(const struct bt_cmd *c, unsigned i, u64 *lba, u32 *n, u8 *st)
{
	const u8 *p = c->in + 8 + 16 * i;

	*lba = bt_get_be64(p);
	*n = bt_get_be32(p + 8);
	*st = p[12] & 0x0f;
}

#define NBLK ((1u << 20) / BS)

/* ---- GET LBA STATUS ------------------------------------------------------ */

static void test_gls_no_host_op(void **state)
{
	struct sbc *s = *state;
	struct bt_cmd *c = gls(&s->th, 5, 64);
	u64 lba;
	u32 n;
	u8 st;

	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), 20);      /* one descriptor */
	desc(c, 0, &lba, &n, &st);
	assert_int_equal(lba, 5);
	assert_int_equal(n, NBLK - 5);
	assert_int_equal(st, 0);                       /* mapped          */
}

static void test_gls_runs(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	struct bt_cmd *c;
	u64 lba;
	u32 n;
	u8 st;

	/* all zero: one deallocated run */
	c = gls(th, 0, 1024);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), 20);
	desc(c, 0, &lba, &n, &st);
	assert_int_equal(lba, 0);
	assert_int_equal(n, NBLK);
	assert_int_equal(st, 1);

	/* data in blocks 16..19: the fake's 4 KiB unit 2 (blocks 16..23) */
	write_blocks(th, 16, 4, 0xa5);
	c = gls(th, 0, 1024);
	assert_int_equal(bt_get_be32(c->in), 4 + 3 * 16);
	desc(c, 0, &lba, &n, &st);
	assert_true(lba == 0 && n == 16 && st == 1);
	desc(c, 1, &lba, &n, &st);
	assert_true(lba == 16 && n == 8 && st == 0);
	desc(c, 2, &lba, &n, &st);
	assert_true(lba == 24 && n == NBLK - 24 && st == 1);

	/* the first descriptor starts at the requested LBA */
	c = gls(th, 20, 1024);
	desc(c, 0, &lba, &n, &st);
	assert_true(lba == 20 && n == 4 && st == 0);

	/* room for one descriptor: exactly one, length says so */
	c = gls(th, 0, 24);
	assert_int_equal(c->in_len, 24);
	assert_int_equal(bt_get_be32(c->in), 20);

	/* a host answering in small pieces: runs are merged, and the number
	 * of host calls per command is bounded (the last run then ends where
	 * the answers stopped; the initiator asks again from there) */
	s->max_run = 4096;
	s->calls = 0;
	c = gls(th, 0, 1024);
	assert_int_equal(bt_get_be32(c->in), 4 + 3 * 16);
	desc(c, 0, &lba, &n, &st);
	assert_true(lba == 0 && n == 16 && st == 1);
	desc(c, 2, &lba, &n, &st);
	assert_true(lba == 24 && st == 1 && n >= 8 && lba + n < NBLK);
	assert_int_equal(s->calls, 256);
	c = gls(th, lba + n, 1024);
	desc(c, 0, &lba, &n, &st);
	assert_true(st == 1 && lba + n <= NBLK);
	s->max_run = 0;

	/* past the end */
	assert_true(th_is_sense(gls(th, NBLK, 64), 0x05, 0x21, 0x00));
	c = gls(th, NBLK - 1, 64);
	desc(c, 0, &lba, &n, &st);
	assert_true(lba == NBLK - 1 && n == 1 && st == 1);
}

/* A hole smaller than a logical block leaves the block mapped. */
static void test_gls_partial_block(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	struct bt_cmd *c;
	u8 blk[BS];
	u8 cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	u64 lba;
	u32 n;
	u8 st;

	s->gran = 256;
	memset(blk, 0, BS);
	memset(blk + 256, 0x11, 256);                  /* 2nd half of LBA 0 */
	assert_int_equal(th_run(th, 0, cdb, 10, BT_DIR_WRITE, BS, blk, BS)->status,
			 BT_SAM_GOOD);
	c = gls(th, 0, 1024);
	assert_int_equal(bt_get_be32(c->in), 4 + 2 * 16);
	desc(c, 0, &lba, &n, &st);
	assert_true(lba == 0 && n == 1 && st == 0);
	desc(c, 1, &lba, &n, &st);
	assert_true(lba == 1 && n == NBLK - 1 && st == 1);
}

static void test_gls_host_error(void **state)
{
	struct sbc *s = *state;

	s->fail = -BT_EIO;
	assert_true(th_is_sense(gls(&s->th, 0, 64), 0x03, 0x11, 0x00));
	s->fail = 0;
	assert_int_equal(gls(&s->th, 0, 64)->status, BT_SAM_GOOD);
}

/* ---- LBPPBE -------------------------------------------------------------- */

static u8 rc16_lbppbe(struct th *th, u64 lun)
{
	u8 cdb[16] = { 0x9e, 0x10 };
	struct bt_cmd *c;

	bt_put_be32(cdb + 10, 32);
	c = th_run(th, lun, cdb, 16, BT_DIR_READ, 32, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	return c->in[13] & 0x0f;
}

static void test_lbppbe(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	struct th_lun big = { .size = 1 << 20, .block_size = 4096 };

	assert_int_equal(rc16_lbppbe(th, 0), 0);       /* phys 0: none    */
	s->phys = 4096;
	assert_int_equal(rc16_lbppbe(th, 0), 3);       /* 8 per physical  */
	s->phys = 512;
	assert_int_equal(rc16_lbppbe(th, 0), 0);
	s->phys = 3000;                                /* not a power of 2 */
	assert_int_equal(rc16_lbppbe(th, 0), 0);
	s->phys = 4096;
	assert_int_equal(th_add_lun(th, 1, &big), 0);
	th_clear_ua(th, 1);
	assert_int_equal(rc16_lbppbe(th, 1), 0);       /* 4 KiB on 4 KiB  */
	s->phys = 65536;
	assert_int_equal(rc16_lbppbe(th, 1), 4);
}

/* ---- WRITE ATOMIC(16) ---------------------------------------------------- */

static void wa_cdb(u8 *cdb, u64 lba, u16 n, u16 boundary)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x9c;
	bt_put_be64(cdb + 2, lba);
	bt_put_be16(cdb + 10, boundary);
	bt_put_be16(cdb + 12, n);
}

static void test_write_atomic(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	u8 cdb[16], buf[8 * BS], rd[10] = { 0x28, 0, 0, 0, 0, 9, 0, 0, 8, 0 };
	struct bt_cmd *c;

	memset(buf, 0x5c, sizeof(buf));
	wa_cdb(cdb, 9, 8, 0);
	c = th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf, sizeof(buf));
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->xfer_len, sizeof(buf));
	c = th_run(th, 0, rd, 10, BT_DIR_READ, sizeof(buf), NULL, 0);
	assert_memory_equal(c->in, buf, sizeof(buf));
	/* DPO, FUA accepted; FUA reaches the host */
	cdb[1] = 0x18;
	assert_int_equal(th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf,
				sizeof(buf))->status, BT_SAM_GOOD);
	assert_true(th->host.last.flags & BT_IO_FUA);
	/* zero blocks: nothing, GOOD; past the end: LBA OUT OF RANGE */
	wa_cdb(cdb, 0, 0, 0);
	assert_int_equal(th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0)->status,
			 BT_SAM_GOOD);
	wa_cdb(cdb, NBLK - 4, 8, 0);
	assert_true(th_is_sense(th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf,
				       sizeof(buf)), 0x05, 0x21, 0x00));
	wa_cdb(cdb, NBLK, 0, 0);
	assert_true(th_is_sense(th_run(th, 0, cdb, 16, BT_DIR_NONE, 0, NULL, 0),
				0x05, 0x21, 0x00));
	/* no atomic boundaries: a non-zero ATOMIC BOUNDARY is refused */
	wa_cdb(cdb, 0, 8, 4);
	assert_true(th_is_sense(th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf,
				       sizeof(buf)), 0x05, 0x24, 0x00));
	/* a short Data-Out writes nothing */
	memset(buf, 0x77, sizeof(buf));
	wa_cdb(cdb, 9, 8, 0);
	assert_true(th_is_sense(th_run(th, 0, cdb, 16, BT_DIR_WRITE, sizeof(buf), buf,
				       4 * BS), 0x05, 0x0e, 0x03));
	c = th_run(th, 0, rd, 10, BT_DIR_READ, sizeof(buf), NULL, 0);
	assert_int_equal(c->in[0], 0x5c);
	/* longer than MAXIMUM ATOMIC TRANSFER LENGTH (the 16-bit field's
	 * maximum is within it for 512-byte blocks: use a 64 KiB-block LU
	 * whose 16 MiB limit is 256 blocks) */
	{
		struct th_lun big = { .size = 32 << 20, .block_size = 65536 };

		assert_int_equal(th_add_lun(th, 1, &big), 0);
		th_clear_ua(th, 1);
		wa_cdb(cdb, 0, 257, 0);
		assert_true(th_is_sense(th_run(th, 1, cdb, 16, BT_DIR_WRITE, 0, NULL, 0),
					0x05, 0x24, 0x00));
	}
}

static void test_write_atomic_readonly(void **state)
{
	struct sbc *s = *state;
	struct th_lun ro = { .readonly = true };
	u8 cdb[16], buf[BS] = { 0 };

	assert_int_equal(th_add_lun(&s->th, 1, &ro), 0);
	th_clear_ua(&s->th, 1);
	wa_cdb(cdb, 0, 1, 0);
	assert_true(th_is_sense(th_run(&s->th, 1, cdb, 16, BT_DIR_WRITE, BS, buf, BS),
				0x07, 0x27, 0x00));
}

/* Submit cmd (deferred host); its done() bumps th->ndone. */
static void submit(struct th *th, struct bt_cmd *cmd, const u8 *cdb, unsigned len,
		   enum bt_dir dir, const void *out, u32 out_len)
{
	th_cmd_init(th, cmd, 0, cdb, len, dir, out_len ? out_len : (dir == BT_DIR_READ ? BS * 8 : 0),
		    out, out_len);
	bt_scsi_submit(cmd);
}

/*
 * An atomic write in flight holds back an overlapping WRITE and READ (and
 * they then see all of it), but not a disjoint READ.
 */
static void test_write_atomic_isolation(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	struct bt_cmd wa, w, r, r2;
	u8 cwa[16], cw[10] = { 0x2a, 0, 0, 0, 0, 12, 0, 0, 1, 0 };
	u8 cr[10] = { 0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0 };
	u8 cr2[10] = { 0x28, 0, 0, 0, 1, 0, 0, 0, 8, 0 };
	u8 abuf[8 * BS], wbuf[BS];
	unsigned before = th->ndone;

	memset(abuf, 0xa1, sizeof(abuf));
	memset(wbuf, 0xb2, sizeof(wbuf));
	wa_cdb(cwa, 8, 8, 0);
	submit(th, &wa, cwa, 16, BT_DIR_WRITE, abuf, sizeof(abuf));
	assert_int_equal(th->host.npending, 1);        /* the atomic write  */
	submit(th, &w, cw, 10, BT_DIR_WRITE, wbuf, BS); /* LBA 12: overlaps */
	submit(th, &r, cr, 10, BT_DIR_READ, NULL, 0);   /* LBA 8..15        */
	assert_int_equal(th->host.npending, 1);        /* both held back    */
	submit(th, &r2, cr2, 10, BT_DIR_READ, NULL, 0); /* LBA 256: disjoint */
	assert_int_equal(th->host.npending, 2);
	memhost_complete_one(&th->host, 1);            /* disjoint read      */
	assert_int_equal(th->ndone, before + 1);
	memhost_complete_one(&th->host, 0);            /* atomic write done  */
	assert_int_equal(wa.status, BT_SAM_GOOD);
	/* now the write and the read go, in arrival order */
	assert_int_equal(th->host.npending, 2);
	assert_int_equal(th->host.pending[0]->op, BT_IO_WRITE);
	assert_int_equal(th->host.pending[1]->op, BT_IO_READ);
	memhost_complete_one(&th->host, 1);            /* the read first     */
	assert_int_equal(r.status, BT_SAM_GOOD);
	assert_memory_equal(r.in, abuf, sizeof(abuf));  /* all new, none torn */
	memhost_run(&th->host);
	assert_int_equal(w.status, BT_SAM_GOOD);
	assert_int_equal(th->ndone, before + 4);
	bt_cmd_release(&wa);
	bt_cmd_release(&w);
	bt_cmd_release(&r);
	bt_cmd_release(&r2);
}

/* A COMPARE AND WRITE waits for an overlapping READ already at the host. */
static void test_caw_waits_for_read(void **state)
{
	struct sbc *s = *state;
	struct th *th = &s->th;
	struct bt_cmd r, caw;
	u8 cr[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	u8 cc[16] = { 0x89 }, cbuf[2 * BS];

	memset(cbuf, 0, BS);                           /* compare: zeroes    */
	memset(cbuf + BS, 0xc3, BS);
	cc[13] = 1;
	bt_put_be64(cc + 2, 3);
	submit(th, &r, cr, 10, BT_DIR_READ, NULL, 0);
	assert_int_equal(th->host.npending, 1);
	submit(th, &caw, cc, 16, BT_DIR_WRITE, cbuf, sizeof(cbuf));
	assert_int_equal(th->host.npending, 1);        /* CAW queued         */
	memhost_complete_one(&th->host, 0);            /* read done: CAW on  */
	assert_int_equal(r.status, BT_SAM_GOOD);
	assert_int_equal(th->host.npending, 1);
	assert_int_equal(th->host.pending[0]->op, BT_IO_READ);
	assert_true(th->host.pending[0]->flags & BT_IO_PRIO);
	memhost_run(&th->host);
	assert_int_equal(caw.status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.op, BT_IO_WRITE);
	assert_true(th->host.last.flags & BT_IO_PRIO);
	bt_cmd_release(&r);
	bt_cmd_release(&caw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gls_no_host_op, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_gls_runs, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_gls_partial_block, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_gls_host_error, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_lbppbe, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup_fake, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_readonly, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_isolation, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_caw_waits_for_read, setup_deferred, teardown),
	};

	return cmocka_run_group_tests_name("scsi_sbc", tests, NULL, NULL);
}
