/*
 * test_scsi_pr.c - persistent reservations (PERSISTENT RESERVE IN/OUT) with
 * two I_T nexuses on one LU: registration, reservation types and the
 * access they allow, release, clear, preempt, unit attentions, survival
 * across logout/login, and what is refused (APTPL, SPEC_I_PT, bad length).
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

static int setup(void **state)
{
	struct pr_fixture *f = calloc(1, sizeof(*f));

	if (!f || th_init(&f->th, false) < 0 || th_add_lun(&f->th, 0, NULL) < 0)
		return -1;
	f->a = f->th.nexus;
	f->b = f->th.nexus;
	f->b.initiator = "iqn.2026-11.io.bollard.test:init2";
	f->b.id = 20;
	f->b.scsi_priv = NULL;
	if (bt_scsi_nexus_add(&f->b) < 0)
		return -1;
	th_clear_ua(&f->th, 0);
	f->th.nexus = f->b;
	th_clear_ua(&f->th, 0);
	f->b = f->th.nexus;
	f->th.nexus = f->a;
	*state = f;
	return 0;
}

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
	struct bt_nexus saved = f->th.nexus;
	struct bt_cmd *c;

	f->th.nexus = *n;
	c = th_run(&f->th, 0, cdb, len, dir, exp, out, olen);
	*n = f->th.nexus;
	f->th.nexus = saved;
	return c;
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
	/* unregistered with a non-zero key: conflict */
	assert_int_equal(prout(f, &f->a, 0, 0, 0x1234, 0xaa, 0)->status, CONFLICT);
	assert_int_equal(prout(f, &f->a, 0, 0, 0, 0xaa, 0)->status, GOOD);
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
	assert_int_equal(c->in[2] & 0x0d, 0);          /* no SIP/ATP/PTPL  */
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
	/* refused: APTPL, SPEC_I_PT, ALL_TG_PT, wrong length, bad type/scope */
	assert_true(th_is_sense(prout(f, &f->b, 0, 0, 0, 0xb, 0x01), 0x05, 0x26, 0x00));
	assert_true(th_is_sense(prout(f, &f->b, 0, 0, 0, 0xb, 0x08), 0x05, 0x26, 0x00));
	assert_true(th_is_sense(prout(f, &f->b, 0, 0, 0, 0xb, 0x04), 0x05, 0x26, 0x00));
	c = as(f, &f->b, cdb, 10, BT_DIR_WRITE, 20, p, 20);
	assert_true(th_is_sense(c, 0x05, 0x1a, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 1, 2, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 1, 0x11, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prout(f, &f->a, 7, 1, 0xa, 0, 0), 0x05, 0x24, 0x00));
	assert_true(th_is_sense(prin(f, &f->a, 4, 256), 0x05, 0x24, 0x00));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_read_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_preempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities_status_and_refusals, setup, teardown),
	};

	return cmocka_run_group_tests_name("scsi_pr", tests, NULL, NULL);
}
