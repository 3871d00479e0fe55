/*
 * test_scsi_pr.c - persistent reservations (PERSISTENT RESERVE IN/OUT) with
 * two I_T nexuses on one LU: registration, reservation types and the
 * access they allow, release, clear, preempt, unit attentions, survival
 * across logout/login, what is refused (APTPL without a store, bad
 * lengths), REGISTER AND MOVE, SPEC_I_PT with iSCSI TransportIDs, ALL_TG_PT,
 * and PREEMPT AND ABORT aborting the preempted nexus's tasks. The PR store
 * (persistence on the backing) is tested in test_scsi_pr_store.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_scsi_harness.h"

struct pr_fixture {
	struct th th;
	struct bt_nexus a, b;             /* two initiators                 */
};

static int setup_mode(void **state, bool deferred)
{
	struct pr_fixture *f = calloc(1, sizeof(*f));

	if (!f || th_init(&f->th, deferred) < 0 || th_add_lun(&f->th, 0, NULL) < 0)
		return -1;
	if (th_add_nexus_b(&f->th, &f->a, &f->b) < 0)
		return -1;
	th_clear_ua(&f->th, 0);
	th_clear_ua_as(&f->th, &f->b, 0);
	f->a = f->th.nexus;
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_mode(state, false); }
static int setup_deferred(void **state) { return setup_mode(state, true); }

static int teardown(void **state)
{
	struct pr_fixture *f = *state;

	if (f->b.scsi_priv)
		bt_scsi_nexus_del(&f->b);
	th_fini(&f->th);
	free(f);
	return 0;
}

/* Run a command as nexus n (a or b). */
static struct bt_cmd *as(struct pr_fixture *f, struct bt_nexus *n, const u8 *cdb,
			 unsigned len, enum bt_dir dir, u32 exp, const void *out,
			 u32 olen)
{
	return th_run_as(&f->th, n, 0, cdb, len, dir, exp, out, olen);
}

static struct bt_cmd *prout(struct pr_fixture *f, struct bt_nexus *n, u8 sa,
			    u8 type, u64 key, u64 sakey, u8 flags)
{
	u8 cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0 };
	static u8 p[24];

	memset(p, 0, sizeof(p));
	bt_put_be64(p, key);
	bt_put_be64(p + 8, sakey);
	p[20] = flags;
	return as(f, n, cdb, 10, BT_DIR_WRITE, 24, p, 24);
}

static struct bt_cmd *prin(struct pr_fixture *f, struct bt_nexus *n, u8 sa,
			   u16 alloc)
{
	u8 cdb[10] = { 0x5e, sa, 0, 0, 0, 0, 0, (u8)(alloc >> 8), (u8)alloc, 0 };

	return as(f, n, cdb, 10, BT_DIR_READ, alloc, NULL, 0);
}

static u8 rw_status(struct pr_fixture *f, struct bt_nexus *n, bool write)
{
	u8 cdb[10] = { write ? 0x2a : 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	static u8 blk[512];

	return as(f, n, cdb, 10, write ? BT_DIR_WRITE : BT_DIR_READ, 512,
		  write ? blk : NULL, write ? 512 : 0)->status;
}

#define GOOD BT_SAM_GOOD
#define CONFLICT BT_SAM_RESERVATION_CONFLICT

static void test_register_read_keys(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_cmd *c;
	u32 gen;

	c = prin(f, &f->a, 0, 256);
	assert_int_equal(c->status, GOOD);
	gen = bt_get_be32(c->in);
	assert_int_equal(bt_get_be32(c->in + 4), 0);
	/* unregistered with a non-zero key: conflict (no change, no event) */
	assert_int_equal(prout(f, &f->a, 0, 0, 0x1234, 0xaa, 0)->status, CONFLICT);
	assert_int_equal(f->th.host.nevent[BT_EV_PR_CHANGE], 0);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xaa, 0)->status, GOOD);
	assert_int_equal(f->th.host.nevent[BT_EV_PR_CHANGE], 1);
	assert_int_equal(prout(f, &f->b, 6, 0, 0x999, 0xbb, 0)->status, GOOD);
	c = prin(f, &f->b, 0, 256);
	assert_int_equal(bt_get_be32(c->in), gen + 2);
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	assert_true((bt_get_be64(c->in + 8) == 0xaa && bt_get_be64(c->in + 16) == 0xbb) ||
		    (bt_get_be64(c->in + 8) == 0xbb && bt_get_be64(c->in + 16) == 0xaa));
	/* truncation keeps the full length */
	c = prin(f, &f->b, 0, 12);
	assert_int_equal(c->in_len, 12);
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	/* change key with the wrong old key: conflict; right one: ok */
	assert_int_equal(prout(f, &f->a, 0, 0, 0xbb, 0xcc, 0)->status, CONFLICT);
	assert_int_equal(prout(f, &f->a, 0, 0, 0xaa, 0xcc, 0)->status, GOOD);
	/* a registration survives logout/login of the same I_T nexus */
	bt_scsi_nexus_del(&f->a);
	f->a.scsi_priv = NULL;
	f->a.id = 30;
	assert_int_equal(bt_scsi_nexus_add(&f->a), 0);
	f->th.nexus = f->a;
	th_clear_ua(&f->th, 0);
	f->a = f->th.nexus;
	assert_int_equal(prout(f, &f->a, 0, 0, 0xcc, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 0, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 8);
}

static void test_reserve_types(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_cmd *c;
	struct bt_nexus other;

	other = f->th.nexus;                      /* an unregistered third */
	other.initiator = "iqn.2026-11.io.bollard.test:init3";
	other.id = 40;
	other.scsi_priv = NULL;
	assert_int_equal(bt_scsi_nexus_add(&other), 0);
	f->th.nexus = other;
	th_clear_ua(&f->th, 0);
	other = f->th.nexus;
	f->th.nexus = f->a;

	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, GOOD);
	/* WRITE EXCLUSIVE by a: b and others may read, not write */
	assert_int_equal(prout(f, &f->a, 1, 1, 0xa, 0, 0)->status, GOOD);
	assert_int_equal(rw_status(f, &f->a, true), GOOD);
	assert_int_equal(rw_status(f, &f->b, false), GOOD);
	assert_int_equal(rw_status(f, &f->b, true), CONFLICT);
	c = prin(f, &f->b, 1, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	assert_int_equal(bt_get_be64(c->in + 8), 0xa);
	assert_int_equal(c->in[8 + 13], 1);
	/* b cannot reserve; a re-reserving the same type is fine */
	assert_int_equal(prout(f, &f->b, 1, 1, 0xb, 0, 0)->status, CONFLICT);
	assert_int_equal(prout(f, &f->a, 1, 1, 0xa, 0, 0)->status, GOOD);
	/* release with the wrong type: INVALID RELEASE */
	c = prout(f, &f->a, 2, 3, 0xa, 0, 0);
	assert_true(th_is_sense(c, 0x05, 0x26, 0x04));
	assert_int_equal(prout(f, &f->b, 2, 1, 0xb, 0, 0)->status, GOOD); /* no-op */
	assert_int_equal(rw_status(f, &f->b, true), CONFLICT);
	assert_int_equal(prout(f, &f->a, 2, 1, 0xa, 0, 0)->status, GOOD);
	assert_int_equal(rw_status(f, &f->b, true), GOOD);
	/* EXCLUSIVE ACCESS: reads conflict too; INQUIRY still works */
	assert_int_equal(prout(f, &f->a, 1, 3, 0xa, 0, 0)->status, GOOD);
	assert_int_equal(rw_status(f, &f->b, false), CONFLICT);
	{
		u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 };

		assert_int_equal(as(f, &f->b, inq, 6, BT_DIR_READ, 36, NULL, 0)->status,
				 GOOD);
	}
	assert_int_equal(prout(f, &f->a, 2, 3, 0xa, 0, 0)->status, GOOD);
	/* EA REGISTRANTS ONLY: registrants b ok, unregistered third not */
	assert_int_equal(prout(f, &f->a, 1, 6, 0xa, 0, 0)->status, GOOD);
	assert_int_equal(rw_status(f, &f->b, true), GOOD);
	assert_int_equal(rw_status(f, &other, false), CONFLICT);
	/* holder unregisters: an RO reservation goes, b gets RES RELEASED */
	assert_int_equal(prout(f, &f->a, 0, 0, 0xa, 0, 0)->status, GOOD);
	c = as(f, &f->b, (const u8 *)"\0\0\0\0\0\0", 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x2a, 0x04));
	c = prin(f, &f->b, 1, 256);
	assert_int_equal(c->status, GOOD);
	assert_int_equal(bt_get_be32(c->in + 4), 0);
	/* WE ALL REGISTRANTS: key 0 reported; survives one registrant leaving */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 1, 7, 0xa, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 1, 256);
	assert_int_equal(bt_get_be64(c->in + 8), 0);
	assert_int_equal(c->in[8 + 13], 7);
	assert_int_equal(prout(f, &f->a, 0, 0, 0xa, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 1, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	assert_int_equal(rw_status(f, &f->a, true), CONFLICT);     /* not reg'd */
	assert_int_equal(rw_status(f, &f->b, true), GOOD);
	assert_int_equal(prout(f, &f->b, 0, 0, 0xb, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 1, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 0);              /* last one */
	/* SPC-2 RESERVE is refused while registrations exist */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	{
		u8 res[6] = { 0x16 };

		assert_int_equal(as(f, &f->a, res, 6, BT_DIR_NONE, 0, NULL, 0)->status,
				 CONFLICT);
	}
	bt_scsi_nexus_del(&other);
}

static void test_clear_preempt(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_cmd *c;
	u8 tur[6] = { 0 };

	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->b, 1, 1, 0xb, 0, 0)->status, GOOD);
	/* a preempts b's reservation: a holds EA, b is unregistered + UA */
	assert_int_equal(prout(f, &f->a, 4, 3, 0xa, 0xb, 0)->status, GOOD);
	c = prin(f, &f->a, 1, 256);
	assert_int_equal(bt_get_be64(c->in + 8), 0xa);
	assert_int_equal(c->in[8 + 13], 3);
	c = prin(f, &f->a, 0, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 8);
	c = as(f, &f->b, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x2a, 0x05));
	/* preempting a key nobody has: conflict */
	assert_int_equal(prout(f, &f->a, 4, 3, 0xa, 0x77, 0)->status, CONFLICT);
	/* clear by a non-registrant: conflict; by a: everything goes */
	assert_int_equal(prout(f, &f->b, 3, 0, 0xb, 0, 0)->status, CONFLICT);
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 3, 0, 0xa, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 0, 256);
	assert_int_equal(bt_get_be32(c->in + 4), 0);
	c = as(f, &f->b, tur, 6, BT_DIR_NONE, 0, NULL, 0);
	assert_true(th_is_sense(c, 0x06, 0x2a, 0x03));
}

static void test_capabilities_status_and_refusals(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_cmd *c;
	u8 cdb[10] = { 0x5f, 0, 0, 0, 0, 0, 0, 0, 20, 0 };
	u8 p[24] = { 0 };
	const char *tid;

	c = prin(f, &f->a, 2, 256);
	assert_int_equal(c->status, GOOD);
	assert_int_equal(c->in_len, 8);
	assert_int_equal(bt_get_be16(c->in), 8);
	assert_int_equal(c->in[2] & 0x0d, 0x0c);       /* SIP, ATP, no PTPL */
	assert_int_equal(c->in[3] & 0x01, 0);          /* PTPL_A            */
	assert_int_equal(bt_get_be16(c->in + 4), 0xea01);     /* all 6 types */
	/* full status: key, holder, iSCSI TransportID with the ISID */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 1, 1, 0xa, 0, 0)->status, GOOD);
	c = prin(f, &f->a, 3, 1024);
	assert_int_equal(c->status, GOOD);
	assert_int_equal(bt_get_be64(c->in + 8), 0xa);
	assert_int_equal(c->in[8 + 12] & 1, 1);
	assert_int_equal(c->in[8 + 24], 0x45);
	tid = (const char *)c->in + 8 + 28;
	assert_string_equal(tid, TH_INIT ",i,0x801234560001");
	/* refused: APTPL without a store, SPEC_I_PT without its list, a
	 * wrong length, bad type/scope, REPLACE LOST RESERVATION */
	assert_true(th_is_sense(prout(f, &f->b, 0, 0, 0, 0xb, 0x01), 0x05, 0x26, 0x00));
	assert_true(th_is_sense(prout(f, &f->b, 0, 0, 0, 0xb, 0x08), 0x05, 0x1a, 0x00));
	assert_true(th_is_sense(prout(f, &f->b, 1, 1, 0, 0xb, 0x08), 0x05, 0x26, 0x00));
	c = as(f, &f->b, cdb, 10, BT_DIR_WRITE, 20, p, 20);
	assert_true(th_is_sense(c, 0x05, 0x1a, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 1, 2, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 1, 0x11, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 8, 1, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prin(f, &f->a, 4, 256), 0x05, 0x24, 0x00));
}

/* An iSCSI TransportID: format 0 (name) or 1 (name,i,0x<isid>). */
static u32 tid(u8 *p, int fmt, const char *name, const u8 *isid)
{
	char s[300];
	u32 n, padded;

	if (fmt)
		n = (u32)snprintf(s, sizeof(s), "%s,i,0x%02x%02x%02x%02x%02x%02x", name,
				  isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]) + 1;
	else
		n = (u32)snprintf(s, sizeof(s), "%s", name) + 1;
	padded = (n + 3) & ~3u;
	if (padded < 20)
		padded = 20;
	memset(p, 0, 4 + padded);
	p[0] = (u8)(fmt << 6 | 5);
	bt_put_be16(p + 2, (u16)padded);
	memcpy(p + 4, s, n);
	return 4 + padded;
}

static u8 pbuf[1024];

/* PR OUT with a full parameter list in pbuf (plen bytes). */
static struct bt_cmd *prout_list(struct pr_fixture *f, struct bt_nexus *n,
				 u8 sa, u8 type, u32 plen)
{
	u8 cdb[10] = { 0x5f, sa, type, 0, 0, (u8)(plen >> 24), (u8)(plen >> 16),
		       (u8)(plen >> 8), (u8)plen, 0 };

	return as(f, n, cdb, 10, BT_DIR_WRITE, plen, pbuf, plen);
}

/* REGISTER AND MOVE parameter list to (name, isid) at rel port. */
static u32 move_list(u64 key, u64 sakey, u8 flags, u16 rel, int fmt,
		     const char *name, const u8 *isid)
{
	u32 n;

	memset(pbuf, 0, sizeof(pbuf));
	bt_put_be64(pbuf, key);
	bt_put_be64(pbuf + 8, sakey);
	pbuf[17] = flags;
	bt_put_be16(pbuf + 18, rel);
	n = tid(pbuf + 24, fmt, name, isid);
	bt_put_be32(pbuf + 20, n);
	return 24 + n;
}

static u32 nkeys(struct pr_fixture *f)
{
	struct bt_cmd *c = prin(f, &f->a, 0, 1024);

	assert_int_equal(c->status, GOOD);
	return bt_get_be32(c->in + 4) / 8;
}

static void test_register_and_move(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_cmd *c;
	u32 n, gen;

	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 1, 1, 0xa, 0, 0)->status, GOOD);
	gen = bt_get_be32(prin(f, &f->a, 0, 64)->in);
	/* a moves its WE reservation to b (unregistered so far) */
	n = move_list(0xa, 0xb, 0, 1, 1, f->b.initiator, f->b.isid);
	assert_int_equal(prout_list(f, &f->a, 7, 1, n)->status, GOOD);
	c = prin(f, &f->a, 1, 64);
	assert_int_equal(bt_get_be32(c->in), gen + 1);
	assert_int_equal(bt_get_be32(c->in + 4), 16);
	assert_int_equal(bt_get_be64(c->in + 8), 0xb);
	assert_int_equal(c->in[8 + 13], 1);
	assert_int_equal(nkeys(f), 2);
	assert_int_equal(rw_status(f, &f->b, true), GOOD);
	assert_int_equal(rw_status(f, &f->a, true), CONFLICT);
	/* a is no longer the holder */
	n = move_list(0xa, 0xc, 0, 1, 1, f->b.initiator, f->b.isid);
	assert_int_equal(prout_list(f, &f->a, 7, 1, n)->status, CONFLICT);
	/* b: to itself, key 0, bad TransportID, unknown port, bad length */
	n = move_list(0xb, 0xc, 0, 1, 1, f->b.initiator, f->b.isid);
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n), 0x05, 0x26, 0x00));
	n = move_list(0xb, 0, 0, 1, 1, f->a.initiator, f->a.isid);
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n), 0x05, 0x26, 0x00));
	n = move_list(0xb, 0xc, 0, 1, 1, f->a.initiator, f->a.isid);
	pbuf[24] = 0x85;              /* format 10b                          */
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n), 0x05, 0x26, 0x00));
	n = move_list(0xb, 0xc, 0, 9, 1, f->a.initiator, f->a.isid);
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n), 0x05, 0x26, 0x00));
	n = move_list(0xb, 0xc, 0, 1, 1, f->a.initiator, f->a.isid);
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n - 4), 0x05, 0x1a, 0x00));
	/* APTPL without a store */
	n = move_list(0xb, 0xc, 1, 1, 1, f->a.initiator, f->a.isid);
	assert_true(th_is_sense(prout_list(f, &f->b, 7, 1, n), 0x05, 0x26, 0x00));
	/* b moves it back to a (already registered: key replaced), UNREG */
	n = move_list(0xb, 0xc, 0x02, 1, 1, f->a.initiator, f->a.isid);
	assert_int_equal(prout_list(f, &f->b, 7, 1, n)->status, GOOD);
	assert_int_equal(nkeys(f), 1);
	c = prin(f, &f->a, 1, 64);
	assert_int_equal(bt_get_be64(c->in + 8), 0xc);
	assert_int_equal(rw_status(f, &f->a, true), GOOD);
	assert_int_equal(rw_status(f, &f->b, true), CONFLICT);
	/* all-registrants reservations cannot be moved */
	assert_int_equal(prout(f, &f->a, 2, 1, 0xc, 0, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 1, 7, 0xc, 0, 0)->status, GOOD);
	n = move_list(0xc, 0xd, 0, 1, 1, f->b.initiator, f->b.isid);
	assert_int_equal(prout_list(f, &f->a, 7, 7, n)->status, CONFLICT);
}

static void test_spec_i_pt(void **state)
{
	struct pr_fixture *f = *state;
	const char *c_name = "iqn.2026-11.io.bollard.test:init3";
	struct bt_nexus c3 = f->a, d = f->a;
	struct bt_cmd *c;
	u32 n, i, off;
	bool saw_fmt0 = false;

	c3.initiator = c_name;
	c3.isid[5] = 0x77;
	c3.scsi_priv = NULL;
	d.initiator = "iqn.2026-11.io.bollard.test:init4";
	d.scsi_priv = NULL;
	/* a registers itself, b (format 1) and init3 with any ISID (format 0) */
	memset(pbuf, 0, sizeof(pbuf));
	bt_put_be64(pbuf + 8, 0x5);
	pbuf[20] = 0x08;
	n = tid(pbuf + 28, 1, f->b.initiator, f->b.isid);
	n += tid(pbuf + 28 + n, 0, c_name, NULL);
	bt_put_be32(pbuf + 24, n);
	assert_int_equal(prout_list(f, &f->a, 0, 0, 28 + n)->status, GOOD);
	assert_int_equal(nkeys(f), 3);
	/* b and init3 (any ISID) are registered: they may reserve/re-key */
	assert_int_equal(prout(f, &f->b, 1, 1, 0x5, 0, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->b, 2, 1, 0x5, 0, 0)->status, GOOD);
	assert_int_equal(prout(f, &c3, 0, 0, 0x5, 0x6, 0)->status, GOOD);
	/* READ FULL STATUS: init3's TransportID has format 00b, no ISID */
	c = prin(f, &f->a, 3, 2048);
	assert_int_equal(c->status, GOOD);
	for (i = 0, off = 8; i < 3; i++) {
		u8 *dsc = c->in + off;

		if (!strcmp((char *)dsc + 28, c_name)) {
			assert_int_equal(dsc[24], 0x05);
			assert_int_equal(bt_get_be64(dsc), 0x6);
			saw_fmt0 = true;
		}
		off += 24 + bt_get_be32(dsc + 20);
	}
	assert_true(saw_fmt0);
	/* refused: registered issuer, already registered TransportID (nothing
	 * registered at all), bad TransportID, list length mismatch */
	assert_true(th_is_sense(prout_list(f, &f->a, 0, 0, 28 + n), 0x05, 0x24, 0x00));
	memset(pbuf, 0, sizeof(pbuf));
	bt_put_be64(pbuf + 8, 0x9);
	pbuf[20] = 0x08;
	n = tid(pbuf + 28, 1, f->b.initiator, f->b.isid);
	bt_put_be32(pbuf + 24, n);
	assert_true(th_is_sense(prout_list(f, &d, 0, 0, 28 + n), 0x05, 0x26, 0x00));
	assert_int_equal(nkeys(f), 3);
	n = tid(pbuf + 28, 1, "iqn.2026-11.io.bollard.test:new", f->b.isid);
	pbuf[28 + 4 + n - 5] = 'x';   /* no NUL in the name field           */
	memset(pbuf + 28 + 4, 'x', n - 4);
	bt_put_be32(pbuf + 24, n);
	assert_true(th_is_sense(prout_list(f, &d, 0, 0, 28 + n), 0x05, 0x26, 0x00));
	n = tid(pbuf + 28, 1, "iqn.2026-11.io.bollard.test:new", f->b.isid);
	bt_put_be32(pbuf + 24, n + 4);
	assert_true(th_is_sense(prout_list(f, &d, 0, 0, 28 + n), 0x05, 0x1a, 0x00));
	assert_int_equal(nkeys(f), 3);
	/* and a good one from d works */
	bt_put_be32(pbuf + 24, n);
	assert_int_equal(prout_list(f, &d, 0, 0, 28 + n)->status, GOOD);
	assert_int_equal(nkeys(f), 5);
	/* a format-00b TransportID with the issuer's own name covers it:
	 * one registration for init5, not two */
	d.initiator = "iqn.2026-11.io.bollard.test:init5";
	n = tid(pbuf + 28, 0, d.initiator, NULL);
	bt_put_be32(pbuf + 24, n);
	assert_int_equal(prout_list(f, &d, 0, 0, 28 + n)->status, GOOD);
	assert_int_equal(nkeys(f), 6);
	assert_int_equal(prout(f, &d, 1, 1, 0x9, 0, 0)->status, GOOD);
}

static void test_all_tg_pt(void **state)
{
	struct pr_fixture *f = *state;
	struct bt_nexus a2 = f->a, b2 = f->b;
	struct bt_cmd *c;

	a2.tpgt = 2;
	a2.rel_port = 2;
	a2.scsi_priv = NULL;
	b2.tpgt = 2;
	b2.rel_port = 2;
	b2.scsi_priv = NULL;
	/* a registers on all target ports: a2 (other portal group) is
	 * registered too and can reserve with a's key */
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0x04)->status, GOOD);
	assert_int_equal(prout(f, &a2, 1, 3, 0xa, 0, 0)->status, GOOD);
	assert_int_equal(rw_status(f, &f->a, false), GOOD);
	c = prin(f, &f->a, 3, 1024);
	assert_int_equal(bt_get_be32(c->in + 4) > 0, 1);
	assert_int_equal(c->in[8 + 12], 0x03);          /* ALL_TG_PT, holder */
	assert_int_equal(bt_get_be16(c->in + 8 + 18), 0);
	assert_int_equal(prout(f, &a2, 2, 3, 0xa, 0, 0)->status, GOOD);
	/* b registers on its port only: b2 is a different I_T nexus */
	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, GOOD);
	assert_int_equal(prout(f, &b2, 1, 3, 0xb, 0, 0)->status, CONFLICT);
	assert_int_equal(prout(f, &b2, 0, 0, 0, 0xbb, 0)->status, GOOD);
	assert_int_equal(nkeys(f), 3);
	c = prin(f, &f->a, 3, 1024);
	assert_int_equal(c->status, GOOD);
}

static unsigned other_done;
static void other_cmd_done(struct bt_cmd *cmd) { other_done++; }

/* b has a WRITE in flight at the host when a preempts b's reservation:
 * PREEMPT AND ABORT aborts it, PREEMPT does not. */
static void preempt_with_io_in_flight(struct pr_fixture *f, bool abort)
{
	u8 cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	static const u8 tur[10];
	static u8 blk[512];
	struct bt_nexus saved = f->th.nexus;
	struct bt_cmd bc, ac;

	assert_int_equal(prout(f, &f->b, 0, 0, 0, 0xb, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->b, 1, 3, 0xb, 0, 0)->status, GOOD);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xa, 0)->status, GOOD);
	other_done = 0;
	f->th.nexus = f->b;
	th_cmd_init(&f->th, &bc, 0, cdb, 10, BT_DIR_WRITE, 512, blk, 512);
	bc.nexus = &f->b;
	bc.done = other_cmd_done;
	f->th.nexus = saved;
	bt_scsi_submit(&bc);
	assert_int_equal(other_done, 0);
	assert_int_equal(f->th.host.npending, 1);
	/* a's read conflicts with b's EA reservation (and is not aborted) */
	th_cmd_init(&f->th, &ac, 0, cdb, 10, BT_DIR_WRITE, 512, blk, 512);
	ac.cdb[0] = 0x28;
	ac.dir = BT_DIR_READ;
	ac.out = NULL;
	ac.out_len = 0;
	ac.nexus = &f->a;
	ac.done = other_cmd_done;
	bt_scsi_submit(&ac);
	assert_int_equal(ac.status, BT_SAM_RESERVATION_CONFLICT);
	assert_int_equal(other_done, 1);
	assert_int_equal(prout(f, &f->a, abort ? 5 : 4, 3, 0xa, 0xb, 0)->status, GOOD);
	memhost_run(&f->th.host);
	assert_int_equal(other_done, 2);
	assert_int_equal(bc.aborted, abort);
	assert_false(ac.aborted);
	bt_cmd_release(&bc);
	bt_cmd_release(&ac);
	/* b was preempted: it is told, its registration is gone, a holds EA */
	assert_true(th_is_sense(as(f, &f->b, tur, 6, BT_DIR_NONE, 0, NULL, 0),
				0x06, 0x2a, 0x05));
	assert_int_equal(nkeys(f), 1);
	assert_int_equal(rw_status(f, &f->b, false), CONFLICT);
	assert_int_equal(rw_status(f, &f->a, true), GOOD);
}

static void test_preempt_and_abort(void **state)
{
	preempt_with_io_in_flight(*state, true);
}

static void test_preempt_no_abort(void **state)
{
	preempt_with_io_in_flight(*state, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_read_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_preempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities_status_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_i_pt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_tg_pt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_and_abort, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_no_abort, setup_deferred, teardown),
	};

	return cmocka_run_group_tests_name("scsi_pr", tests, NULL, NULL);
}
