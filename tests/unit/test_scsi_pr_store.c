/*
 * test_scsi_pr_store.c - the persistent-reservation store on the backing's
 * reserved tail (kernel/core/scsi_pr_store.c), on the memory backend's kept
 * device so a "restart" (detach + attach) reopens the same bytes:
 * capacity excludes the region, save -> reload round trip, a corrupt newer
 * slot falls back to the older one, two corrupt slots or foreign data in
 * the tail refuse the attach, a failed slot write fails the PR OUT and
 * leaves the state unchanged, commands wait for a load that completes
 * later, PR OUTs are serialised, and a late foreign verdict fences the LU.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_scsi_harness.h"

#define DEV_BYTES  (4u << 20)
#define REGION_OFF (3u << 20)          /* round_down(4 MiB - 1 MiB, 64 KiB) */
#define SLOT       (512u * 1024u)
#define FEAT       (BT_FEAT_DEFAULT | BT_FEAT_PR_STORE)

struct fx {
	struct th th;
	struct bt_nexus a, b;
};

static const struct th_lun store_lun = { .size = DEV_BYTES, .features = FEAT,
					 .keep = true };

static int setup_mode(void **state, bool deferred, bool add_lun)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || th_init(&f->th, deferred) < 0)
		return -1;
	if (add_lun && th_add_lun(&f->th, 0, &store_lun) < 0)
		return -1;
	if (th_add_nexus_b(&f->th, &f->a, &f->b) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_mode(state, false, true); }
static int setup_nolun(void **state) { return setup_mode(state, false, false); }
static int setup_deferred_nolun(void **state) { return setup_mode(state, true, false); }

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->b.scsi_priv)
		bt_scsi_nexus_del(&f->b);
	th_fini(&f->th);
	free(f);
	return 0;
}

static struct bt_cmd *as(struct fx *f, struct bt_nexus *n, const u8 *cdb,
			 unsigned len, enum bt_dir dir, u32 exp, const void *out,
			 u32 olen)
{
	return th_run_as(&f->th, n, 0, cdb, len, dir, exp, out, olen);
}

static void clear_ua(struct fx *f)
{
	th_clear_ua(&f->th, 0);
	th_clear_ua_as(&f->th, &f->b, 0);
}

static struct bt_cmd *prout(struct fx *f, struct bt_nexus *n, u8 sa, u8 type,
			    u64 key, u64 sakey, u8 flags)
{
	u8 cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0 };
	static u8 p[24];

	memset(p, 0, sizeof(p));
	bt_put_be64(p, key);
	bt_put_be64(p + 8, sakey);
	p[20] = flags;
	return as(f, n, cdb, 10, BT_DIR_WRITE, 24, p, 24);
}

static struct bt_cmd *prin(struct fx *f, struct bt_nexus *n, u8 sa)
{
	u8 cdb[10] = { 0x5e, sa, 0, 0, 0, 0, 0, 4, 0, 0 };

	return as(f, n, cdb, 10, BT_DIR_READ, 1024, NULL, 0);
}

static u8 *dev(struct fx *f)
{
	assert_non_null(f->th.host.keep);
	return f->th.host.keep->data;
}

/* Detach and attach the target again: the LU is destroyed and created
 * from the same kept device. Returns bt_target_attach's result. */
static int restart(struct fx *f)
{
	int rc;

	assert_int_equal(bt_target_enable(f->th.e, TH_IQN, false), 0);
	assert_null(th_lu(&f->th, 0));
	rc = bt_target_attach(f->th.e, TH_IQN);
	if (rc == 0)
		clear_ua(f);
	return rc;
}

/* READ KEYS: generation and the sorted keys (up to 8). */
static u32 keys(struct fx *f, u64 *out, u32 *n)
{
	struct bt_cmd *c = prin(f, &f->a, 0);
	u32 i, j;

	assert_int_equal(c->status, BT_SAM_GOOD);
	*n = bt_get_be32(c->in + 4) / 8;
	assert_true(*n <= 8);
	for (i = 0; i < *n; i++)
		out[i] = bt_get_be64(c->in + 8 + 8 * i);
	for (i = 0; i < *n; i++)
		for (j = i + 1; j < *n; j++)
			if (out[j] < out[i]) {
				u64 x = out[i];
				out[i] = out[j];
				out[j] = x;
			}
	return bt_get_be32(c->in);
}

static void test_capacity_and_fresh(void **state)
{
	struct fx *f = *state;
	u64 k[8];
	u32 n;

	assert_int_equal(bt_lu_blocks(th_lu(&f->th, 0)), REGION_OFF / 512);
	assert_int_equal(bt_lu_pr_store_status(th_lu(&f->th, 0)), 0);
	clear_ua(f);
	keys(f, k, &n);
	assert_int_equal(n, 0);
	/* a fresh store: nothing written until a PR OUT changes something */
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], 0);
	/* a PR OUT that changes nothing writes nothing */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0, 0)->status, BT_SAM_GOOD);
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], 0);
	/* too small a backing for the region */
	assert_int_equal(th_add_lun(&f->th, 1, &(struct th_lun){ .size = 1u << 20,
				    .features = FEAT }), BT_E_BAD_ATTR);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct bt_nexus c3 = f->a;
	u8 w[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	static u8 blk[512];
	struct bt_cmd *c;
	u64 k[8];
	u32 n, gen;

	clear_ua(f);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0x01)->status, BT_SAM_GOOD);
	/* durable before completion: one FUA write into the region */
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], 1);
	assert_true(f->th.host.last.flags & BT_IO_FUA);
	assert_true(f->th.host.last.offset >= REGION_OFF);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0x05)->status, BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->a, 1, 5, 0xa, 0, 0)->status, BT_SAM_GOOD);
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], 3);
	assert_memory_equal(dev(f) + REGION_OFF + SLOT, "BLPRSTOR", 8);
	assert_memory_equal(dev(f) + REGION_OFF, "BLPRSTOR", 8);
	gen = keys(f, k, &n);

	assert_int_equal(restart(f), 0);
	assert_int_equal(keys(f, k, &n), gen);
	assert_int_equal(n, 2);
	assert_int_equal(k[0], 0xa);
	assert_int_equal(k[1], 0xb);
	c = prin(f, &f->a, 1);                          /* READ RESERVATION  */
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	assert_int_equal(bt_get_be64(c->in + 8), 0xa);
	assert_int_equal(c->in[8 + 13], 5);
	c = prin(f, &f->a, 2);                          /* REPORT CAPS       */
	assert_int_equal(c->in[2] & 0x01, 1);           /* PTPL_C            */
	assert_int_equal(c->in[3] & 0x01, 1);           /* PTPL_A (APTPL=1)  */
	c = prin(f, &f->a, 3);                          /* ALL_TG_PT kept    */
	assert_int_equal(c->status, BT_SAM_GOOD);
	{
		u32 off = 8, end = 8 + bt_get_be32(c->in + 4), atp = 0;

		for (; off < end; off += 24 + bt_get_be32(c->in + off + 20))
			if (c->in[off + 12] & 0x02)
				atp++;
		assert_int_equal(atp, 1);
	}
	/* WE_RO: registrants write, others conflict; holder still a */
	assert_int_equal(as(f, &f->b, w, 10, BT_DIR_WRITE, 512, blk, 512)->status,
			 BT_SAM_GOOD);
	c3.initiator = "iqn.2026-11.io.bollard.test:init3";
	assert_int_equal(as(f, &c3, w, 10, BT_DIR_WRITE, 512, blk, 512)->status,
			 BT_SAM_RESERVATION_CONFLICT);
	assert_int_equal(prout(f, &f->b, 2, 5, 0xb, 0, 0)->status, BT_SAM_GOOD);
	c = prin(f, &f->a, 1);
	assert_int_equal(bt_get_be32(c->in + 4), 16);   /* b could not release */
	assert_int_equal(prout(f, &f->a, 2, 5, 0xa, 0, 0)->status, BT_SAM_GOOD);
	/* and the release persists too */
	assert_int_equal(restart(f), 0);
	c = prin(f, &f->a, 1);
	assert_int_equal(bt_get_be32(c->in + 4), 0);
	/* APTPL=0 is recorded (and the state still persists: see the design) */
	assert_int_equal(prout(f, &f->a, 0, 0, 0xa, 0xa1, 0)->status, BT_SAM_GOOD);
	assert_int_equal(restart(f), 0);
	c = prin(f, &f->a, 2);
	assert_int_equal(c->in[3] & 0x01, 0);
	keys(f, k, &n);
	assert_int_equal(n, 2);
	assert_int_equal(k[1], 0xa1);
}

static void test_corrupt_newer_slot(void **state)
{
	struct fx *f = *state;
	u64 k[8];
	u32 n, gen1;

	clear_ua(f);
	/* seq 1 -> slot 1, seq 2 -> slot 0 */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, BT_SAM_GOOD);
	gen1 = keys(f, k, &n);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, BT_SAM_GOOD);
	dev(f)[REGION_OFF + 64 + 12] ^= 0xff;           /* torn payload    */
	assert_int_equal(restart(f), 0);
	assert_int_equal(keys(f, k, &n), gen1);
	assert_int_equal(n, 1);
	assert_int_equal(k[0], 0xa);
	/* the next write replaces the corrupt slot; a header hit is caught
	 * by the header CRC the same way */
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xbb, 0)->status, BT_SAM_GOOD);
	assert_memory_equal(dev(f) + REGION_OFF, "BLPRSTOR", 8);
	assert_int_equal(restart(f), 0);
	keys(f, k, &n);
	assert_int_equal(n, 2);
	assert_int_equal(k[1], 0xbb);
	dev(f)[REGION_OFF + 17] ^= 0x01;                /* seq in header   */
	assert_int_equal(restart(f), 0);
	keys(f, k, &n);
	assert_int_equal(n, 1);
}

static void test_corrupt_both_refused(void **state)
{
	struct fx *f = *state;

	clear_ua(f);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, BT_SAM_GOOD);
	dev(f)[REGION_OFF + 64 + 12] ^= 0xff;
	dev(f)[REGION_OFF + SLOT + 64 + 12] ^= 0xff;
	assert_int_equal(bt_target_enable(f->th.e, TH_IQN, false), 0);
	assert_int_equal(bt_target_attach(f->th.e, TH_IQN), BT_E_PR_FOREIGN);
	assert_null(th_lu(&f->th, 0));
	assert_int_equal(f->th.host.opened, f->th.host.closed);
	assert_string_equal(bt_strerror(BT_E_PR_FOREIGN),
			    "PR store region at the end of the backing holds "
			    "foreign data (not zeros, not a PR store)");
}

static void test_foreign_tail_refused(void **state)
{
	struct fx *f = *state;
	struct th_lun plain = store_lun;
	u8 w[10] = { 0x2a, 0, 0, 0, 0x1c, 0x00, 0, 0, 1, 0 };  /* LBA 7168 */
	static u8 blk[512];
	u32 writes;

	/* without the feature the whole device is data; write a block in
	 * what would be the region */
	plain.features = BT_FEAT_DEFAULT;
	assert_int_equal(th_add_lun(&f->th, 0, &plain), 0);
	assert_int_equal(bt_lu_blocks(th_lu(&f->th, 0)), DEV_BYTES / 512);
	clear_ua(f);
	memset(blk, 0x5a, sizeof(blk));
	assert_int_equal(as(f, &f->a, w, 10, BT_DIR_WRITE, 512, blk, 512)->status,
			 BT_SAM_GOOD);
	assert_int_equal(bt_lun_del(f->th.e, TH_IQN, 0, true), 0);
	writes = f->th.host.nsubmit[BT_IO_WRITE];
	/* turning the feature on must not take that data over */
	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), BT_E_PR_FOREIGN);
	assert_null(th_lu(&f->th, 0));
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], writes);
	assert_int_equal(dev(f)[7168 * 512], 0x5a);
	/* zeroed again, it is a fresh store */
	memset(dev(f) + 7168 * 512, 0, 512);
	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
}

/* A host that knows the region is a hole (sparse file never written
 * there): a fresh store with no read at all; once a slot is written the
 * region is data and the next attach reads it; data in the region is still
 * refused. */
static void test_hole_needs_no_read(void **state)
{
	struct fx *f = *state;
	u64 k[8];
	u32 n, reads;

	f->th.host.sparse = true;
	reads = f->th.host.nsubmit[BT_IO_READ];
	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
	assert_int_equal(f->th.host.nsubmit[BT_IO_READ], reads);
	assert_int_equal(bt_lu_pr_store_status(th_lu(&f->th, 0)), 0);
	assert_int_equal(bt_lu_blocks(th_lu(&f->th, 0)), REGION_OFF / 512);
	clear_ua(f);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0x1234, 0)->status, BT_SAM_GOOD);
	reads = f->th.host.nsubmit[BT_IO_READ];
	assert_int_equal(restart(f), 0);
	assert_int_equal(f->th.host.nsubmit[BT_IO_READ], reads + 1);
	keys(f, k, &n);
	assert_int_equal(n, 1);
	assert_true(k[0] == 0x1234);
	/* foreign data in the region: mapped, read, refused */
	assert_int_equal(bt_lun_del(f->th.e, TH_IQN, 0, true), 0);
	memset(dev(f) + REGION_OFF, 0, 1u << 20);
	dev(f)[REGION_OFF + SLOT + 4096 * 3] = 0x77;
	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), BT_E_PR_FOREIGN);
	assert_int_equal(dev(f)[REGION_OFF + SLOT + 4096 * 3], 0x77);
}

static void test_write_failure(void **state)
{
	struct fx *f = *state;
	struct bt_cmd *c;
	u64 k[8];
	u32 n, gen;

	clear_ua(f);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->a, 1, 1, 0xa, 0, 0)->status, BT_SAM_GOOD);
	gen = keys(f, k, &n);
	assert_int_equal(f->th.host.nevent[BT_EV_PR_CHANGE], 2);
	/* the slot write fails: the PR OUT fails and nothing changed */
	f->th.host.fail_next = -BT_EIO;
	c = prout(f, &f->b, 0, 0, 0, 0xb, 0);
	assert_true(th_is_sense(c, 0x03, 0x0c, 0x00));
	assert_int_equal(f->th.host.nevent[BT_EV_PR_CHANGE], 2);
	assert_int_equal(keys(f, k, &n), gen);
	assert_int_equal(n, 1);
	f->th.host.fail_next = -BT_EIO;
	c = prout(f, &f->a, 3, 0, 0xa, 0, 0);           /* CLEAR             */
	assert_true(th_is_sense(c, 0x03, 0x0c, 0x00));
	c = prin(f, &f->a, 1);
	assert_int_equal(bt_get_be32(c->in + 4), 16);   /* still reserved    */
	assert_int_equal(bt_get_be64(c->in + 8), 0xa);
	assert_int_equal(keys(f, k, &n), gen);
	/* nothing of it on the device either */
	assert_int_equal(restart(f), 0);
	assert_int_equal(keys(f, k, &n), gen);
	assert_int_equal(n, 1);
	/* and the store works again afterwards */
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, BT_SAM_GOOD);
	assert_int_equal(restart(f), 0);
	keys(f, k, &n);
	assert_int_equal(n, 2);
}

static unsigned ndone2;
static void done2(struct bt_cmd *c) { ndone2++; }

static void test_deferred_load_and_serialised_writes(void **state)
{
	struct fx *f = *state;
	static const u8 tur[6];
	u8 cdb[10] = { 0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
	u8 pa[24] = { 0 }, pb[24] = { 0 };
	struct bt_cmd ca, cb;
	u64 k[8];
	u32 n;

	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
	/* the load is at the host: a command waits for it */
	assert_int_equal(f->th.host.npending, 1);
	th_cmd_init(&f->th, &ca, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	ca.done = done2;
	ndone2 = 0;
	bt_scsi_submit(&ca);
	assert_int_equal(ndone2, 0);
	assert_int_equal(bt_scsi_tasks_pending(th_lu(&f->th, 0)), 1);
	memhost_run(&f->th.host);
	assert_int_equal(ndone2, 1);
	bt_cmd_release(&ca);
	clear_ua(f);
	/* two PR OUTs at once: the second waits for the first's write */
	bt_put_be64(pa + 8, 0xa);
	bt_put_be64(pb + 8, 0xb);
	th_cmd_init(&f->th, &ca, 0, cdb, 10, BT_DIR_WRITE, 24, pa, 24);
	ca.done = done2;
	th_cmd_init(&f->th, &cb, 0, cdb, 10, BT_DIR_WRITE, 24, pb, 24);
	cb.nexus = &f->b;
	cb.done = done2;
	ndone2 = 0;
	bt_scsi_submit(&ca);
	bt_scsi_submit(&cb);
	assert_int_equal(f->th.host.npending, 1);
	assert_int_equal(ndone2, 0);
	memhost_complete_one(&f->th.host, 0);
	assert_int_equal(ndone2, 1);
	assert_int_equal(ca.status, BT_SAM_GOOD);
	assert_int_equal(f->th.host.npending, 1);       /* b's write now     */
	memhost_run(&f->th.host);
	assert_int_equal(ndone2, 2);
	assert_int_equal(cb.status, BT_SAM_GOOD);
	bt_cmd_release(&ca);
	bt_cmd_release(&cb);
	assert_int_equal(restart(f), 0);
	memhost_run(&f->th.host);
	keys(f, k, &n);
	assert_int_equal(n, 2);
}

static void test_deferred_foreign_fences(void **state)
{
	struct fx *f = *state;
	static const u8 tur[6];
	struct bt_cmd c;
	struct th_sense s;

	/* create the kept device, put foreign bytes into its tail, then
	 * attach with the store while the load completes later */
	assert_int_equal(th_add_lun(&f->th, 0, &(struct th_lun){ .size = DEV_BYTES,
				    .keep = true }), 0);
	assert_int_equal(bt_lun_del(f->th.e, TH_IQN, 0, true), 0);
	memset(dev(f) + REGION_OFF + 100, 0xee, 16);
	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
	assert_int_equal(bt_lu_pr_store_status(th_lu(&f->th, 0)), -BT_EAGAIN);
	th_cmd_init(&f->th, &c, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	c.done = done2;
	ndone2 = 0;
	bt_scsi_submit(&c);
	assert_int_equal(ndone2, 0);
	memhost_run(&f->th.host);
	assert_int_equal(ndone2, 1);
	assert_true(th_sense(&c, &s));
	assert_int_equal(s.key, 0x02);
	assert_int_equal(s.asc, 0x04);
	assert_int_equal(s.ascq, 0x03);
	assert_int_equal(bt_lu_pr_store_status(th_lu(&f->th, 0)), BT_E_PR_FOREIGN);
	bt_cmd_release(&c);
	/* and nothing is ever written there */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status,
			 BT_SAM_CHECK_CONDITION);
	assert_int_equal(f->th.host.nsubmit[BT_IO_WRITE], 0);
	assert_int_equal(dev(f)[REGION_OFF + 100], 0xee);
}

/* Everything a registration carries survives: SPEC_I_PT with a format-0
 * TransportID (any ISID), ALL_TG_PT, the relative port, and a reservation
 * moved by REGISTER AND MOVE. */
static void test_round_trip_identities(void **state)
{
	struct fx *f = *state;
	const char *c3name = "iqn.2026-11.io.bollard.test:init3";
	u8 cdb[10] = { 0x5f, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static u8 p[256];
	struct bt_nexus c3 = f->a, a2 = f->a;
	struct bt_cmd *c;
	u32 n, off, end, fmt0 = 0, atp = 0;

	clear_ua(f);
	/* a registers itself on all ports and init3 (any ISID) */
	memset(p, 0, sizeof(p));
	bt_put_be64(p + 8, 0x77);
	p[20] = 0x08 | 0x04;
	n = (u32)strlen(c3name) + 1;
	n = (n + 3) & ~3u;
	p[28] = 0x05;
	bt_put_be16(p + 30, (u16)n);
	memcpy(p + 32, c3name, strlen(c3name));
	bt_put_be32(p + 24, 4 + n);
	cdb[8] = (u8)(28 + 4 + n);
	assert_int_equal(as(f, &f->a, cdb, 10, BT_DIR_WRITE, cdb[8], p, cdb[8])->status,
			 BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->a, 1, 3, 0x77, 0, 0)->status, BT_SAM_GOOD);
	/* a moves its EA reservation to b */
	memset(p, 0, sizeof(p));
	bt_put_be64(p, 0x77);
	bt_put_be64(p + 8, 0xb0);
	bt_put_be16(p + 18, 1);
	n = (u32)snprintf((char *)p + 28, 200, "%s,i,0x%02x%02x%02x%02x%02x%02x",
			  f->b.initiator, f->b.isid[0], f->b.isid[1], f->b.isid[2],
			  f->b.isid[3], f->b.isid[4], f->b.isid[5]) + 1;
	n = (n + 3) & ~3u;
	p[24] = 0x45;
	bt_put_be16(p + 26, (u16)n);
	bt_put_be32(p + 20, 4 + n);
	cdb[1] = 7;
	cdb[2] = 3;
	cdb[8] = (u8)(24 + 4 + n);
	assert_int_equal(as(f, &f->a, cdb, 10, BT_DIR_WRITE, cdb[8], p, cdb[8])->status,
			 BT_SAM_GOOD);

	assert_int_equal(restart(f), 0);
	c = prin(f, &f->a, 1);
	assert_int_equal(bt_get_be64(c->in + 8), 0xb0);
	assert_int_equal(c->in[8 + 13], 3);
	c = prin(f, &f->a, 3);
	end = 8 + bt_get_be32(c->in + 4);
	for (off = 8; off < end; off += 24 + bt_get_be32(c->in + off + 20)) {
		if (c->in[off + 24] == 0x05) {
			assert_string_equal((char *)c->in + off + 28, c3name);
			fmt0++;
		}
		if (c->in[off + 12] & 0x02)
			atp++;
		if (bt_get_be64(c->in + off) == 0xb0) {
			assert_int_equal(c->in[off + 12] & 1, 1);     /* holder  */
			assert_int_equal(bt_get_be16(c->in + off + 18), 1);
		}
	}
	assert_int_equal(fmt0, 1);
	assert_int_equal(atp, 2);
	/* init3 with any ISID and a on another port are still registered */
	c3.initiator = c3name;
	c3.isid[5] = 0x42;
	assert_int_equal(prout(f, &c3, 0, 0, 0x77, 0x78, 0)->status, BT_SAM_GOOD);
	a2.tpgt = 2;
	a2.rel_port = 2;
	assert_int_equal(prout(f, &a2, 0, 0, 0x77, 0x79, 0)->status, BT_SAM_GOOD);
}

/* A PR IN waiting behind a PR OUT's store write is aborted at once by
 * ABORT TASK; the PR OUT itself completes when its write does. */
static void test_abort_held_task(void **state)
{
	struct fx *f = *state;
	u8 out[10] = { 0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
	u8 in[10] = { 0x5e, 0, 0, 0, 0, 0, 0, 1, 0, 0 };
	u8 pa[24] = { 0 };
	struct bt_cmd ca, cb;

	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
	memhost_run(&f->th.host);
	clear_ua(f);
	bt_put_be64(pa + 8, 0xa);
	th_cmd_init(&f->th, &ca, 0, out, 10, BT_DIR_WRITE, 24, pa, 24);
	ca.done = done2;
	th_cmd_init(&f->th, &cb, 0, in, 10, BT_DIR_READ, 256, NULL, 0);
	cb.tag = 0x4242;
	cb.done = done2;
	ndone2 = 0;
	bt_scsi_submit(&ca);
	bt_scsi_submit(&cb);
	assert_int_equal(ndone2, 0);
	assert_int_equal(bt_scsi_tmf(&f->th.nexus, BT_TMF_ABORT_TASK, 0, 0x4242),
			 BT_TMF_RSP_COMPLETE);
	assert_int_equal(ndone2, 1);
	assert_true(cb.aborted);
	assert_int_equal(cb.status, BT_SAM_TASK_ABORTED);
	memhost_run(&f->th.host);
	assert_int_equal(ndone2, 2);
	assert_int_equal(ca.status, BT_SAM_GOOD);
	assert_false(ca.aborted);
	bt_cmd_release(&ca);
	bt_cmd_release(&cb);
}

/* The LU goes away (disable) while its load is at the host, with a command
 * waiting for it: the load's completion finishes the command and frees the
 * LU (valgrind/ASan see the rest). */
static void test_destroy_while_loading(void **state)
{
	struct fx *f = *state;
	static const u8 tur[6];
	struct bt_cmd c;

	assert_int_equal(th_add_lun(&f->th, 0, &store_lun), 0);
	th_cmd_init(&f->th, &c, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	c.done = done2;
	ndone2 = 0;
	bt_scsi_submit(&c);
	assert_int_equal(bt_target_enable(f->th.e, TH_IQN, false), 0);
	assert_int_equal(ndone2, 0);
	assert_int_equal(f->th.host.closed, 0);         /* kept by the load  */
	memhost_run(&f->th.host);
	assert_int_equal(ndone2, 1);
	assert_int_equal(f->th.host.closed, 1);
	bt_cmd_release(&c);
}

/* Keys as one comparable string "gen:k1,k2,..." (or "refused"). */
static void keys_str(struct fx *f, char *out, size_t n)
{
	u64 k[8];
	u32 i, nk, gen;
	size_t o;

	gen = keys(f, k, &nk);
	o = (size_t)snprintf(out, n, "%u:", gen);
	for (i = 0; i < nk && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%llx,", (unsigned long long)k[i]);
}

/*
 * Torn and damaged writes never yield a state that was not committed: the
 * newest slot is damaged in many ways (one byte changed anywhere in what
 * was written, or everything from some point on zeroed, as a torn write
 * leaves it), and each restart must load either the newest state (damage
 * outside the checksummed bytes) or the one before it, never anything
 * else, never crash.
 */
static void test_damaged_slot_never_yields_other_state(void **state)
{
	struct fx *f = *state;
	char prev[256], newest[256], got[256];
	static u8 save[SLOT];
	u32 rnd = 12345, i, off, wlen, newest_off;
	unsigned n_prev = 0, n_new = 0;

	clear_ua(f);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0x1a, 0)->status, BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0x2b, 0)->status, BT_SAM_GOOD);
	assert_int_equal(prout(f, &f->a, 1, 1, 0x1a, 0, 0)->status, BT_SAM_GOOD);
	keys_str(f, prev, sizeof(prev));
	assert_int_equal(prout(f, &f->b, 0, 0, 0x2b, 0x3c, 0)->status, BT_SAM_GOOD);
	keys_str(f, newest, sizeof(newest));
	assert_string_not_equal(prev, newest);
	/* seq 4 is in slot 0; it was written as one 4 KiB block */
	newest_off = REGION_OFF;
	wlen = 4096;
	memcpy(save, dev(f) + newest_off, SLOT);
	for (i = 0; i < 300; i++) {
		rnd = rnd * 1103515245u + 12345u;
		off = (rnd >> 8) % wlen;
		if (i & 1) {
			rnd = rnd * 1103515245u + 12345u;
			dev(f)[newest_off + off] ^= (u8)(1 + (rnd >> 16) % 255);
		} else {
			memset(dev(f) + newest_off + off, 0, wlen - off);
		}
		assert_int_equal(restart(f), 0);
		keys_str(f, got, sizeof(got));
		if (!strcmp(got, newest))
			n_new++;
		else if (!strcmp(got, prev))
			n_prev++;
		else
			fail_msg("damage at %u (%s) loaded %s", off, i & 1 ? "byte" : "zeroed",
				 got);
		memcpy(dev(f) + newest_off, save, SLOT);
	}
	/* most damage hits checksummed bytes; padding damage keeps newest */
	assert_true(n_prev > 0);
	assert_true(n_new > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capacity_and_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_identities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_newer_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_both_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_slot_never_yields_other_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_tail_refused, setup_nolun, teardown),
		cmocka_unit_test_setup_teardown(test_hole_needs_no_read, setup_nolun, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_load_and_serialised_writes,
						setup_deferred_nolun, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_foreign_fences,
						setup_deferred_nolun, teardown),
		cmocka_unit_test_setup_teardown(test_abort_held_task,
						setup_deferred_nolun, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_while_loading,
						setup_deferred_nolun, teardown),
	};

	return cmocka_run_group_tests_name("scsi_pr_store", tests, NULL, NULL);
}
