/*
 * test_scsi_spc.c - SPC-4 side of the SCSI layer: INQUIRY/VPD and LU
 * identity, REPORT LUNS, TEST UNIT READY, REQUEST SENSE, unit attentions,
 * REPORT SUPPORTED OPERATION CODES, MODE SENSE/SELECT and sense formats,
 * RESERVE/RELEASE, CDB validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_scsi_harness.h"

#define SK_ILLEGAL 0x05

static int setup(void **state)
{
	*state = th_new_lun0(8 << 20, "vol-0001");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	th_free(*state);
	return 0;
}

static struct bt_cmd *run(struct th *th, const u8 *cdb, unsigned len, u32 exp)
{
	return th_run(th, 0, cdb, len, exp ? BT_DIR_READ : BT_DIR_NONE, exp, NULL, 0);
}

static struct bt_cmd *inquiry(struct th *th, bool evpd, u8 page, u16 alloc)
{
	u8 cdb[6] = { 0x12, evpd, page, (u8)(alloc >> 8), (u8)alloc, 0 };

	return run(th, cdb, 6, alloc);
}

/* ---- INQUIRY ------------------------------------------------------------ */

static void test_inquiry_standard(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c = inquiry(th, false, 0, 255);
	const u8 *d = c->in;
	int i, found_spc4 = 0, found_sbc3 = 0;

	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 96);
	assert_int_equal(c->xfer_len, 96);
	assert_int_equal(d[0], 0x00);
	assert_int_equal(d[2], 0x06);                 /* SPC-4 */
	assert_int_equal(d[3] & 0x0f, 2);
	assert_int_equal(d[4], 96 - 5);
	assert_memory_equal(d + 8, "BOLLARD ", 8);
	for (i = 16; i < 36; i++)
		assert_true(d[i] >= 0x20 && d[i] <= 0x7e);
	for (i = 58; i < 74; i += 2) {
		found_spc4 |= bt_get_be16(d + i) == 0x0460;
		found_sbc3 |= bt_get_be16(d + i) == 0x04c0;
	}
	assert_true(found_spc4 && found_sbc3);
	/* product id: first 8 bytes from the uid hash, = bt_lu_product */
	assert_memory_equal(d + 16, bt_lu_product(th_lu(th, 0)), 16);
}

static void test_inquiry_alloc_truncation(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;
	u8 full[96];

	c = inquiry(th, false, 0, 255);
	memcpy(full, c->in, 96);
	c = inquiry(th, false, 0, 5);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 5);
	assert_int_equal(c->xfer_len, 5);
	assert_memory_equal(c->in, full, 5);
	c = inquiry(th, false, 0, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 0);
	/* 16-bit allocation length: 511 and 512 give the same data */
	c = inquiry(th, false, 0, 512);
	assert_int_equal(c->in_len, 96);
	assert_memory_equal(c->in, full, 96);
}

static void test_inquiry_evpd_errors(void **state)
{
	struct th *th = *state;
	struct th_sense s;
	struct bt_cmd *c;

	/* EVPD=0 with a page code */
	c = inquiry(th, false, 0x83, 255);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	assert_true(th_sense(c, &s));
	assert_true(s.sksv);
	assert_int_equal(s.sks[0] & 0x40, 0x40);      /* C/D: in the CDB  */
	assert_int_equal(bt_get_be16(s.sks + 1), 2);  /* byte 2           */
	assert_int_equal(c->in_len, 0);
	/* unknown VPD page */
	c = inquiry(th, true, 0x42, 255);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	/* obsolete CMDDT bit: reserved now, field pointer at byte 1 bit 1 */
	{
		u8 cdb[6] = { 0x12, 0x02, 0, 0, 255, 0 };

		c = run(th, cdb, 6, 255);
		assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
		assert_true(th_sense(c, &s));
		assert_int_equal(s.sks[0], 0x80 | 0x40 | 0x08 | 1);
		assert_int_equal(bt_get_be16(s.sks + 1), 1);
	}
}

static void test_vpd_pages(void **state)
{
	struct th *th = *state;
	struct bt_lu *lu = th_lu(th, 0);
	struct bt_cmd *c;
	const u8 *d;
	u32 i, n;

	c = inquiry(th, true, 0x00, 255);
	assert_int_equal(c->status, BT_SAM_GOOD);
	n = bt_get_be16(c->in + 2);
	assert_int_equal(n, 6);
	for (i = 1; i < n; i++)                         /* ascending      */
		assert_true(c->in[4 + i] > c->in[3 + i]);
	/* every listed page answers */
	{
		u8 pages[16];

		memcpy(pages, c->in + 4, n);
		for (i = 0; i < n; i++) {
			c = inquiry(th, true, pages[i], 255);
			assert_int_equal(c->status, BT_SAM_GOOD);
			assert_int_equal(c->in[1], pages[i]);
			assert_int_equal(c->in_len, bt_get_be16(c->in + 2) + 4);
		}
	}
	/* unit serial */
	c = inquiry(th, true, 0x80, 255);
	assert_int_equal(bt_get_be16(c->in + 2), strlen(bt_lu_serial(lu)));
	assert_memory_equal(c->in + 4, bt_lu_serial(lu), strlen(bt_lu_serial(lu)));
	/* block limits: SBC-3 page length, max transfer set */
	c = inquiry(th, true, 0xb0, 255);
	d = c->in;
	assert_int_equal(bt_get_be16(d + 2), 0x3c);
	assert_true(bt_get_be32(d + 8) > 0);
	assert_true(d[5] > 0);                          /* CAW on by default */
	assert_true(bt_get_be32(d + 20) > 0 && bt_get_be32(d + 20) <= 1 << 20);
	assert_true(bt_get_be32(d + 24) > 0);
	/* WRITE ATOMIC(16): up to one transfer's worth (and what its 16-bit
	 * TRANSFER LENGTH can say), no alignment, granularity or boundaries */
	assert_int_equal(bt_get_be32(d + 44),
			 bt_get_be32(d + 8) < 0xffff ? bt_get_be32(d + 8) : 0xffff);
	assert_int_equal(bt_get_be32(d + 48), 0);
	assert_int_equal(bt_get_be32(d + 52), 0);
	assert_int_equal(bt_get_be32(d + 56), 0);
	assert_int_equal(bt_get_be32(d + 60), 0);
	/* characteristics: non-rotating */
	c = inquiry(th, true, 0xb1, 255);
	assert_int_equal(bt_get_be16(c->in + 4), 1);
	/* provisioning: LBPU, LBPWS, LBPWS10, LBPRZ */
	c = inquiry(th, true, 0xb2, 255);
	assert_int_equal(c->in[5] & 0xe4, 0xe4);
}

static const u8 *find_desig(const u8 *page, u8 assoc_type)
{
	u32 len = bt_get_be16(page + 2) + 4, i;

	for (i = 4; i + 4 <= len; i += 4 + page[i + 3])
		if ((page[i + 1] & 0x3f) == assoc_type)
			return page + i;
	return NULL;
}

static void test_vpd_device_id(void **state)
{
	struct th *th = *state;
	struct bt_lu *lu = th_lu(th, 0);
	struct bt_cmd *c = inquiry(th, true, 0x83, 1024);
	const u8 *p;
	char hex[33];
	int i;

	assert_int_equal(c->status, BT_SAM_GOOD);
	/* NAA-6 for the LU, matching bt_lu_naa_hex, with our company id */
	p = find_desig(c->in, 0x03);
	assert_non_null(p);
	assert_int_equal(p[0] & 0x0f, 1);               /* binary */
	assert_int_equal(p[3], 16);
	assert_int_equal(p[4] >> 4, 6);
	for (i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02X", p[4 + i]);
	assert_string_equal(hex, bt_lu_naa_hex(lu));
	assert_int_equal(((p[4] & 0x0f) << 20) | (p[5] << 12) | (p[6] << 4) | (p[7] >> 4),
			 0x02B011);
	/* T10 vendor id */
	p = find_desig(c->in, 0x01);
	assert_non_null(p);
	assert_memory_equal(p + 4, "BOLLARD ", 8);
	/* target port name: "<iqn>,t,0x0001", PIV, iSCSI */
	p = find_desig(c->in, 0x10 | 0x08);
	assert_non_null(p);
	assert_int_equal(p[0], 0x53);
	assert_int_equal(p[3] % 4, 0);
	assert_string_equal((const char *)p + 4, TH_IQN ",t,0x0001");
	/* relative target port 1, target port group 1 */
	p = find_desig(c->in, 0x14);
	assert_non_null(p);
	assert_int_equal(bt_get_be16(p + 6), 1);
	p = find_desig(c->in, 0x15);
	assert_non_null(p);
	assert_int_equal(bt_get_be16(p + 6), 1);
}

/* Same uid -> same identity on another engine ("node"); other uid differs. */
static void test_identity_deterministic(void **state)
{
	struct th *th = *state;
	struct th other;
	struct th_lun same = { .size = 4 << 20, .uid = "vol-0001" };
	struct th_lun diff = { .size = 8 << 20, .uid = "vol-0002" };
	struct bt_lu *a = th_lu(th, 0), *b, *d;

	assert_int_equal(th_init(&other, false), 0);
	assert_int_equal(th_add_lun(&other, 3, &same), 0);
	assert_int_equal(th_add_lun(&other, 4, &diff), 0);
	b = th_lu(&other, 3);
	d = th_lu(&other, 4);
	assert_string_equal(bt_lu_naa_hex(a), bt_lu_naa_hex(b));
	assert_string_equal(bt_lu_serial(a), bt_lu_serial(b));
	assert_string_equal(bt_lu_product(a), bt_lu_product(b));
	assert_string_not_equal(bt_lu_naa_hex(a), bt_lu_naa_hex(d));
	assert_string_not_equal(bt_lu_serial(a), bt_lu_serial(d));
	assert_memory_not_equal(bt_lu_product(a), bt_lu_product(d), 8);
	assert_string_equal(bt_lu_uid(d), "vol-0002");
	/* no uid: the engine's fallback (target IQN + LUN), also stable */
	assert_int_equal(th_add_lun(&other, 5, NULL), 0);
	assert_string_equal(bt_lu_uid(th_lu(&other, 5)), TH_IQN ":5");
	th_fini(&other);
}

/* ---- REPORT LUNS, unmapped LUNs ---------------------------------------- */

static struct bt_cmd *report_luns(struct th *th, u64 lun, u8 select, u32 alloc)
{
	u8 cdb[12] = { 0xa0, 0, select, 0, 0, 0, (u8)(alloc >> 24),
		       (u8)(alloc >> 16), (u8)(alloc >> 8), (u8)alloc, 0, 0 };

	return th_run(th, lun, cdb, 12, BT_DIR_READ, alloc, NULL, 0);
}

static void test_report_luns(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;

	assert_int_equal(th_add_lun(th, 1, NULL), 0);
	assert_int_equal(th_add_lun(th, 300, NULL), 0);
	c = report_luns(th, 0, 0, 4096);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), 24);
	assert_int_equal(c->in_len, 32);
	assert_int_equal(bt_get_be16(c->in + 8), 0);
	assert_int_equal(bt_get_be16(c->in + 16), 1);
	assert_int_equal(bt_get_be16(c->in + 24), 0x4000 | 300);  /* flat */
	/* truncation keeps the full length in the header */
	c = report_luns(th, 0, 0, 16);
	assert_int_equal(c->in_len, 16);
	assert_int_equal(bt_get_be32(c->in), 24);
	/* well-known only: empty; bad select report */
	c = report_luns(th, 0, 1, 4096);
	assert_int_equal(bt_get_be32(c->in), 0);
	c = report_luns(th, 0, 0x42, 4096);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
}

static void test_unmapped_lun(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;
	u8 inq[6] = { 0x12, 0, 0, 0, 96, 0 };
	u8 tur[6] = { 0 };
	u8 rs[6] = { 0x03, 0, 0, 0, 252, 0 };
	struct th_sense s;

	/* REPORT LUNS through an unmapped LUN lists the mapped ones */
	c = report_luns(th, 9, 0, 4096);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), 8);
	c = th_run(th, 9, inq, 6, BT_DIR_READ, 96, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[0], 0x7f);               /* PQ 3, type 1Fh */
	c = th_run(th, 9, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x25, 0x00));
	c = th_run(th, 9, rs, 6, BT_DIR_READ, 252, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[2] & 0x0f, SK_ILLEGAL);
	assert_int_equal(c->in[12], 0x25);
	/* a target with no LU at all: REPORT LUNS on LUN 0 is empty */
	assert_int_equal(bt_lun_del(th->e, TH_IQN, 0, true), 0);
	c = report_luns(th, 0, 0, 4096);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be32(c->in), 0);
	(void)s;
}

/* ---- TEST UNIT READY, REQUEST SENSE, unit attentions ------------------- */

static void test_unit_attention(void **state)
{
	struct th *th = *state;
	struct bt_nexus n2 = th->nexus;
	struct bt_cmd *c;
	u8 tur[6] = { 0 };
	u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	u8 rs[6] = { 0x03, 0, 0, 0, 252, 0 };
	struct bt_nexus saved = th->nexus;

	/* a second nexus: its first command sees POWER ON, except INQUIRY */
	n2.id = 8;
	n2.scsi_priv = NULL;
	assert_int_equal(bt_scsi_nexus_add(&n2), 0);
	th->nexus = n2;
	c = th_run(th, 0, inq, 6, BT_DIR_READ, 36, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	/* REQUEST SENSE returns the UA as data and clears it */
	c = th_run(th, 0, rs, 6, BT_DIR_READ, 252, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[0], 0x70);
	assert_int_equal(c->in[2], 0x06);
	assert_int_equal(c->in[12], 0x29);
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	/* LUN change: REPORTED LUNS DATA HAS CHANGED on every nexus */
	bt_scsi_luns_changed(th->tgt);
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x3f, 0x0e));
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_int_equal(c->status, BT_SAM_GOOD);
	n2 = th->nexus;
	th->nexus = saved;
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x3f, 0x0e));
	/* LUN reset: BUS DEVICE RESET FUNCTION OCCURRED */
	assert_int_equal(bt_scsi_tmf(&th->nexus, BT_TMF_LUN_RESET, 0, 0), 0);
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x29, 0x03));
	bt_scsi_nexus_del(&n2);
	/* through the object model: a LUN added to an enabled target */
	th_clear_ua(th, 0);
	assert_int_equal(bt_target_enable(th->e, TH_IQN, true), 0);
	assert_int_equal(th_add_lun(th, 4, NULL), 0);
	c = th_run(th, 0, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x3f, 0x0e));
	/* UA priority: POWER ON before LUNS CHANGED on the new LUN 4 */
	c = th_run(th, 4, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x29, 0x00));
	/* REQUEST SENSE with nothing pending: NO SENSE; DESC=1 gives 72h */
	c = th_run(th, 0, rs, 6, BT_DIR_READ, 252, NULL, 0);
	assert_int_equal(c->in[2] & 0x0f, 0);
	assert_int_equal(c->in[12], 0);
	rs[1] = 1;
	c = th_run(th, 0, rs, 6, BT_DIR_READ, 252, NULL, 0);
	assert_int_equal(c->in[0], 0x72);
	assert_int_equal(c->in_len, 8);
}

static void test_invalid_opcode(void **state)
{
	struct th *th = *state;
	u8 cdb[16] = { 0xc7 };
	struct bt_cmd *c = run(th, cdb, 16, 0);
	struct th_sense s;

	assert_true(th_is_sense(c, SK_ILLEGAL, 0x20, 0x00));
	/* unsupported service action of a known opcode: invalid field */
	cdb[0] = 0x9e;
	cdb[1] = 0x1f;
	c = run(th, cdb, 16, 0);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	assert_true(th_sense(c, &s));
	assert_int_equal(bt_get_be16(s.sks + 1), 1);
	/* NACA in the control byte is not supported */
	memset(cdb, 0, sizeof(cdb));
	cdb[5] = 0x04;
	c = run(th, cdb, 6, 0);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	assert_true(th_sense(c, &s));
	assert_int_equal(bt_get_be16(s.sks + 1), 5);
	assert_int_equal(s.sks[0] & 0x0f, 0x08 | 2);
}

/* ---- REPORT SUPPORTED OPERATION CODES ----------------------------------- */

static struct bt_cmd *rsoc(struct th *th, u8 opts, bool rctd, u8 op, u16 sa,
			   u32 alloc)
{
	u8 cdb[12] = { 0xa3, 0x0c, (u8)(opts | (rctd ? 0x80 : 0)), op,
		       (u8)(sa >> 8), (u8)sa, (u8)(alloc >> 24), (u8)(alloc >> 16),
		       (u8)(alloc >> 8), (u8)alloc, 0, 0 };

	return run(th, cdb, 12, alloc);
}

static void test_rsoc(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;
	u8 all[4096];
	u32 len, i, n = 0;
	bool saw_read10 = false;

	c = rsoc(th, 0, false, 0, 0, sizeof(all));
	assert_int_equal(c->status, BT_SAM_GOOD);
	len = bt_get_be32(c->in);
	assert_int_equal(len % 8, 0);
	memcpy(all, c->in, c->in_len);
	for (i = 4; i < 4 + len; i += 8, n++) {
		u8 op = all[i], flags = all[i + 5];
		u16 sa = bt_get_be16(all + i + 2);
		u16 cdblen = bt_get_be16(all + i + 6);
		u8 usage[16];

		assert_int_equal(flags & 0x02, 0);          /* no CTDP        */
		if (!(flags & 0x01))
			assert_int_equal(sa, 0);
		if (op == 0x28)
			saw_read10 = true;
		/* the one-command form agrees, asked the right way ... */
		c = rsoc(th, (flags & 1) ? 2 : 1, false, op, sa, 512);
		assert_int_equal(c->status, BT_SAM_GOOD);
		assert_int_equal(c->in[1] & 0x07, 3);
		assert_int_equal(bt_get_be16(c->in + 2), cdblen);
		assert_int_equal(c->in[4], op);
		memcpy(usage, c->in + 4, cdblen);
		/* ... and the wrong way is an invalid field */
		c = rsoc(th, (flags & 1) ? 1 : 2, false, op, sa, 512);
		assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
		/* the usage mask is what dispatch enforces: the control
		 * byte's lowest unsupported bit is rejected */
		if (!(usage[cdblen - 1] & 0x01) && op != 0xa3) {
			u8 cdb[16];

			memset(cdb, 0, sizeof(cdb));
			cdb[0] = op;
			if (flags & 1)
				cdb[1] = (u8)sa;
			cdb[cdblen - 1] = 0x01;
			c = run(th, cdb, cdblen, 0);
			assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
		}
	}
	assert_true(saw_read10);
	assert_true(n >= 30);
	/* READ(10) usage: DPO and FUA supported (DPOFUA=1 in mode sense) */
	c = rsoc(th, 1, false, 0x28, 0, 512);
	assert_int_equal(c->in[5] & 0x18, 0x18);
	assert_int_equal(c->in[5] & 0xe0, 0);           /* no RDPROTECT   */
	/* RCTD: every descriptor has a timeouts descriptor of length 0Ah */
	c = rsoc(th, 0, true, 0, 0, 8192);
	len = bt_get_be32(c->in);
	assert_int_equal(len, n * 20);
	for (i = 4; i < 4 + len; i += 20) {
		assert_int_equal(c->in[i + 5] & 0x02, 0x02);
		assert_int_equal(bt_get_be16(c->in + i + 8), 0x0a);
	}
	c = rsoc(th, 1, true, 0x2a, 0, 512);
	assert_int_equal(c->in[1], 0x83);
	assert_int_equal(c->in_len, 4 + 10 + 12);
	/* unsupported opcode: SUPPORT=001b, GOOD */
	c = rsoc(th, 1, false, 0xc7, 0, 512);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[1] & 7, 1);
	/* reserved reporting option */
	c = rsoc(th, 5, false, 0, 0, 512);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	/* truncation */
	c = rsoc(th, 0, false, 0, 0, 10);
	assert_int_equal(c->in_len, 10);
}

/* A LU without CAW/UNMAP/WRITE SAME does not list or accept them. */
static void test_rsoc_features(void **state)
{
	struct th *th = *state;
	struct th_lun c = { .features = BT_FEAT_XCOPY };
	struct bt_cmd *cmd;
	u8 caw[16] = { 0x89 };
	u8 cdb[12] = { 0xa3, 0x0c, 1, 0x89, 0, 0, 0, 0, 2, 0, 0, 0 };
	u32 len, i;

	assert_int_equal(th_add_lun(th, 2, &c), 0);
	th_clear_ua(th, 2);
	cmd = th_run(th, 2, caw, 16, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(cmd, SK_ILLEGAL, 0x20, 0x00));
	cmd = th_run(th, 2, cdb, 12, BT_DIR_READ, 512, NULL, 0);
	assert_int_equal(cmd->in[1] & 7, 1);
	cdb[2] = 0;
	cmd = th_run(th, 2, cdb, 12, BT_DIR_READ, 512, NULL, 0);
	len = bt_get_be32(cmd->in);
	for (i = 4; i < 4 + len; i += 8)
		assert_true(cmd->in[i] != 0x89 && cmd->in[i] != 0x42 &&
			    cmd->in[i] != 0x93);
	/* VPD B2: no LBPU; B0: no unmap limits, CAW length 0 */
	{
		u8 inq[6] = { 0x12, 1, 0xb2, 0, 255, 0 };

		cmd = th_run(th, 2, inq, 6, BT_DIR_READ, 255, NULL, 0);
		assert_int_equal(cmd->in[5], 0);
		inq[2] = 0xb0;
		cmd = th_run(th, 2, inq, 6, BT_DIR_READ, 255, NULL, 0);
		assert_int_equal(cmd->in[5], 0);
		assert_int_equal(bt_get_be32(cmd->in + 20), 0);
		assert_int_equal(bt_get_be32(cmd->in + 24), 0);
	}
}

/* ---- MODE SENSE / MODE SELECT ------------------------------------------ */

static struct bt_cmd *mode_sense6(struct th *th, bool dbd, u8 pc, u8 page,
				  u8 sub, u8 alloc)
{
	u8 cdb[6] = { 0x1a, dbd ? 0x08 : 0, (u8)(pc << 6 | page), sub, alloc, 0 };

	return run(th, cdb, 6, alloc);
}

static const u8 *find_page(const struct bt_cmd *c, bool ten, u8 page)
{
	u32 hdr = ten ? 8 : 4;
	u32 bdl = ten ? bt_get_be16(c->in + 6) : c->in[3];
	u32 end = ten ? bt_get_be16(c->in) + 2u : c->in[0] + 1u, i;

	for (i = hdr + bdl; i + 2 <= end && i + 2 <= c->in_len; i += 2 + c->in[i + 1])
		if ((c->in[i] & 0x3f) == page)
			return c->in + i;
	return NULL;
}

static void test_mode_sense(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;
	const u8 *p;
	u8 cdb10[10] = { 0x5a, 0x10, 0x3f, 0, 0, 0, 0, 1, 0, 0 };

	c = mode_sense6(th, false, 0, 0x3f, 0, 255);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[0] + 1, c->in_len);
	assert_int_equal(c->in[2], 0x10);               /* DPOFUA, not WP */
	assert_int_equal(c->in[3], 8);                  /* block descriptor */
	assert_int_equal(bt_get_be24(c->in + 4 + 5), 512);
	assert_int_equal(bt_get_be32(c->in + 4), (8 << 20) / 512);
	p = find_page(c, false, 0x08);
	assert_non_null(p);
	assert_int_equal(p[2] & 0x04, 0);               /* WCE=0 */
	assert_non_null(find_page(c, false, 0x0a));
	assert_non_null(find_page(c, false, 0x1c));
	/* 3Fh/FFh = all pages and subpages: same */
	c = mode_sense6(th, false, 0, 0x3f, 0xff, 255);
	assert_int_equal(c->status, BT_SAM_GOOD);
	/* DBD: no block descriptor */
	c = mode_sense6(th, true, 0, 0x0a, 0, 255);
	assert_int_equal(c->in[3], 0);
	assert_int_equal(c->in_len, 4 + 12);
	assert_int_equal(c->in[4], 0x0a);
	/* changeable: D_SENSE, SWP; caching: WCE */
	c = mode_sense6(th, true, 1, 0x0a, 0, 255);
	assert_int_equal(c->in[4 + 2], 0x04);
	assert_int_equal(c->in[4 + 4], 0x08);
	c = mode_sense6(th, true, 1, 0x08, 0, 255);
	assert_int_equal(c->in[4 + 2], 0x04);
	/* default */
	c = mode_sense6(th, true, 2, 0x1c, 0, 255);
	assert_int_equal(c->status, BT_SAM_GOOD);
	/* saved: SAVING PARAMETERS NOT SUPPORTED */
	c = mode_sense6(th, false, 3, 0x3f, 0, 255);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x39, 0x00));
	/* unknown page, unknown subpage */
	c = mode_sense6(th, false, 0, 0x19, 0, 255);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	c = mode_sense6(th, false, 0, 0x0a, 0x01, 255);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	/* truncation to 4: header only, full length announced */
	c = mode_sense6(th, false, 0, 0x3f, 0, 4);
	assert_int_equal(c->in_len, 4);
	assert_true(c->in[0] > 3);
	/* MODE SENSE(10) with LLBAA: 16-byte block descriptor */
	c = run(th, cdb10, 10, 256);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(bt_get_be16(c->in) + 2, c->in_len);
	assert_int_equal(c->in[4] & 1, 1);
	assert_int_equal(bt_get_be16(c->in + 6), 16);
	assert_int_equal(bt_get_be64(c->in + 8), (8 << 20) / 512);
	assert_non_null(find_page(c, true, 0x0a));
}

static struct bt_cmd *mode_select6(struct th *th, u8 byte1, const u8 *param,
				   u8 len)
{
	u8 cdb[6] = { 0x15, byte1, 0, 0, len, 0 };

	return th_run(th, 0, cdb, 6, BT_DIR_WRITE, len, param, len);
}

static void test_mode_select_d_sense(void **state)
{
	struct th *th = *state;
	u8 rd[10] = { 0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0 };
	u8 p[4 + 12];
	struct bt_cmd *c;
	struct th_sense s;

	/* fixed format by default */
	c = run(th, rd, 10, 512);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x21, 0x00));
	assert_true(th_sense(c, &s));
	assert_false(s.desc);
	/* set D_SENSE from the current page */
	c = mode_sense6(th, true, 0, 0x0a, 0, 255);
	memcpy(p, c->in, sizeof(p));
	p[0] = 0;
	p[4 + 2] |= 0x04;
	c = mode_select6(th, 0x10, p, sizeof(p));
	assert_int_equal(c->status, BT_SAM_GOOD);
	c = mode_sense6(th, true, 0, 0x0a, 0, 255);
	assert_int_equal(c->in[4 + 2] & 0x04, 0x04);
	c = run(th, rd, 10, 512);
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x21, 0x00));
	assert_true(th_sense(c, &s));
	assert_true(s.desc);
	assert_int_equal(c->sense[0], 0x72);
	/* a field pointer comes as a sense-key-specific descriptor */
	c = inquiry(th, false, 0x80, 255);
	assert_true(th_sense(c, &s));
	assert_true(s.desc && s.sksv);
	assert_int_equal(bt_get_be16(s.sks + 1), 2);
	/* changing a non-changeable bit (TST) is an invalid field in the
	 * parameter list, pointing at it; SP=1 is an invalid CDB field */
	p[4 + 2] |= 0x20;
	c = mode_select6(th, 0x10, p, sizeof(p));
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x26, 0x00));
	assert_true(th_sense(c, &s));
	assert_int_equal(s.sks[0] & 0x40, 0);
	assert_int_equal(bt_get_be16(s.sks + 1), 6);
	p[4 + 2] &= (u8)~0x20;
	c = mode_select6(th, 0x11, p, sizeof(p));
	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	/* back to fixed */
	p[4 + 2] &= (u8)~0x04;
	c = mode_select6(th, 0x10, p, sizeof(p));
	assert_int_equal(c->status, BT_SAM_GOOD);
	c = run(th, rd, 10, 512);
	assert_true(th_sense(c, &s));
	assert_false(s.desc);
	/* a LUN reset returns D_SENSE to its default too */
	p[4 + 2] |= 0x04;
	assert_int_equal(mode_select6(th, 0x10, p, sizeof(p))->status, BT_SAM_GOOD);
	bt_scsi_tmf(&th->nexus, BT_TMF_LUN_RESET, 0, 0);
	th_clear_ua(th, 0);
	c = mode_sense6(th, true, 0, 0x0a, 0, 255);
	assert_int_equal(c->in[4 + 2] & 0x04, 0);
}

static void test_mode_select_swp_wce(void **state)
{
	struct th *th = *state;
	u8 p[4 + 12], blk[512];
	u8 wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	u8 cache[4 + 20];
	struct bt_cmd *c;

	memset(blk, 0xab, sizeof(blk));
	c = mode_sense6(th, true, 0, 0x0a, 0, 255);
	memcpy(p, c->in, sizeof(p));
	p[0] = 0;
	p[4 + 4] |= 0x08;                               /* SWP */
	assert_int_equal(mode_select6(th, 0x10, p, sizeof(p))->status, BT_SAM_GOOD);
	c = mode_sense6(th, true, 0, 0x3f, 0, 255);
	assert_int_equal(c->in[2] & 0x80, 0x80);        /* WP */
	c = th_run(th, 0, wr, 10, BT_DIR_WRITE, 512, blk, 512);
	assert_true(th_is_sense(c, 0x07, 0x27, 0x00));
	p[4 + 4] &= (u8)~0x08;
	assert_int_equal(mode_select6(th, 0x10, p, sizeof(p))->status, BT_SAM_GOOD);
	c = th_run(th, 0, wr, 10, BT_DIR_WRITE, 512, blk, 512);
	assert_int_equal(c->status, BT_SAM_GOOD);
	/* WCE=0: plain writes go down with FUA; WCE=1: without */
	assert_int_equal(th->host.last.flags & BT_IO_FUA, BT_IO_FUA);
	c = mode_sense6(th, true, 0, 0x08, 0, 255);
	memcpy(cache, c->in, sizeof(cache));
	cache[0] = 0;
	cache[4 + 2] |= 0x04;
	assert_int_equal(mode_select6(th, 0x10, cache, sizeof(cache))->status,
			 BT_SAM_GOOD);
	c = th_run(th, 0, wr, 10, BT_DIR_WRITE, 512, blk, 512);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(th->host.last.flags & BT_IO_FUA, 0);
	wr[1] = 0x08;                                   /* FUA */
	c = th_run(th, 0, wr, 10, BT_DIR_WRITE, 512, blk, 512);
	assert_int_equal(th->host.last.flags & BT_IO_FUA, BT_IO_FUA);
	/* a block descriptor with another block length is refused */
	{
		u8 bd[4 + 8] = { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0 };

		c = mode_select6(th, 0x10, bd, sizeof(bd));
		assert_true(th_is_sense(c, SK_ILLEGAL, 0x26, 0x00));
		bd[10] = 0x02;                          /* 512 */
		c = mode_select6(th, 0x10, bd, sizeof(bd));
		assert_int_equal(c->status, BT_SAM_GOOD);
	}
}

/* ---- RESERVE / RELEASE -------------------------------------------------- */

static void test_reserve_release(void **state)
{
	struct th *th = *state;
	struct bt_nexus me = th->nexus, other = th->nexus;
	u8 res[6] = { 0x16 }, rel[6] = { 0x17 }, tur[6] = { 0 };
	u8 ms[6] = { 0x1a, 0, 0x3f, 0, 255, 0 };
	u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 };

	other.id = 99;
	other.scsi_priv = NULL;
	assert_int_equal(bt_scsi_nexus_add(&other), 0);
	assert_int_equal(run(th, res, 6, 0)->status, BT_SAM_GOOD);
	assert_int_equal(run(th, res, 6, 0)->status, BT_SAM_GOOD);
	th->nexus = other;
	th_clear_ua(th, 0);
	assert_int_equal(run(th, res, 6, 0)->status, BT_SAM_RESERVATION_CONFLICT);
	assert_int_equal(run(th, ms, 6, 255)->status, BT_SAM_RESERVATION_CONFLICT);
	assert_int_equal(run(th, inq, 6, 36)->status, BT_SAM_GOOD);
	assert_int_equal(run(th, rel, 6, 0)->status, BT_SAM_GOOD);  /* no-op */
	other = th->nexus;
	th->nexus = me;
	assert_int_equal(run(th, ms, 6, 255)->status, BT_SAM_GOOD);
	/* nexus loss of the holder releases */
	th->nexus = other;
	assert_int_equal(run(th, tur, 6, 0)->status, BT_SAM_GOOD);
	th->nexus = me;
	bt_scsi_nexus_del(&th->nexus);
	th->nexus = other;
	assert_int_equal(run(th, res, 6, 0)->status, BT_SAM_GOOD);
	assert_int_equal(run(th, rel, 6, 0)->status, BT_SAM_GOOD);
	bt_scsi_nexus_del(&th->nexus);
	th->nexus = me;
	th->nexus.scsi_priv = NULL;
	assert_int_equal(bt_scsi_nexus_add(&th->nexus), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inquiry_standard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inquiry_alloc_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inquiry_evpd_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpd_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpd_device_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_luns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_lun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unit_attention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_opcode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsoc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsoc_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_sense, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_select_d_sense, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_select_swp_wce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_release, setup, teardown),
	};

	return cmocka_run_group_tests_name("scsi_spc", tests, NULL, NULL);
}
