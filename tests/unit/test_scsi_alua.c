/*
 * test_scsi_alua.c - ALUA (kernel/core/scsi_alua.c): TPGS in standard
 * INQUIRY, the port designators of VPD 83h, REPORT TARGET PORT GROUPS in
 * both formats, the attribute rules, which commands run in which access
 * state (with the NOT READY sense the others get), REQUEST SENSE in an
 * inaccessible state, and the state-change unit attention.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_scsi_harness.h"
#include "bt_mgmt.h"
#include "scsi_int.h"


#define SK_ILLEGAL    SK_ILLEGAL_REQUEST
#define SK_UA         SK_UNIT_ATTENTION

static int setup(void **state)
{
	*state = th_new_lun0(8 << 20, "vol-alua");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	th_free(*state);
	return 0;
}

static int set(struct th *th, enum bt_target_attr a, u64 v)
{
	return bt_target_set_attr(th->e, TH_IQN, a, v);
}

static struct bt_cmd *run_in(struct th *th, const u8 *cdb, unsigned len, u32 exp)
{
	return th_run(th, 0, cdb, len, exp ? BT_DIR_READ : BT_DIR_NONE, exp, NULL, 0);
}

static struct bt_cmd *rtpg(struct th *th, bool ext, u32 alloc)
{
	u8 cdb[12] = { 0xa3, (u8)((ext ? 0x20 : 0) | 0x0a), 0, 0, 0, 0,
		       (u8)(alloc >> 24), (u8)(alloc >> 16), (u8)(alloc >> 8),
		       (u8)alloc, 0, 0 };

	return run_in(th, cdb, 12, alloc);
}

static struct bt_cmd *tur(struct th *th)
{
	static const u8 cdb[6] = { 0x00 };

	return run_in(th, cdb, 6, 0);
}

static struct bt_cmd *read10(struct th *th)
{
	static const u8 cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

	return th_run(th, 0, cdb, 10, BT_DIR_READ, 512, NULL, 0);
}

/* The VPD 83h designator of the given association/type (byte 1 & 0x3f),
 * its 4-byte value as a u16 (last two bytes); -1 if absent. */
static int vpd83_port_value(struct th *th, u8 piv_assoc_type)
{
	static const u8 cdb[6] = { 0x12, 0x01, 0x83, 0x04, 0x00, 0 };
	struct bt_cmd *c = run_in(th, cdb, 6, 1024);
	const u8 *d = c->in;
	u32 off, len;

	assert_int_equal(c->status, BT_SAM_GOOD);
	len = bt_get_be16(d + 2) + 4;
	for (off = 4; off + 4 <= len; off += 4 + d[off + 3])
		if (d[off + 1] == piv_assoc_type && d[off + 3] == 4)
			return bt_get_be16(d + off + 6);
	return -1;
}

/* ---- INQUIRY ------------------------------------------------------------ */

static void test_tpgs_implicit(void **state)
{
	struct th *th = *state;
	static const u8 cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
	struct bt_cmd *c = run_in(th, cdb, 6, 96);

	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[5] & 0x30, 0x10);  /* implicit only       */
}

static void test_vpd83_group_and_port(void **state)
{
	struct th *th = *state;

	/* defaults: group 1, relative port 1 */
	assert_int_equal(vpd83_port_value(th, 0x94), 1);
	assert_int_equal(vpd83_port_value(th, 0x95), 1);
	assert_int_equal(set(th, BT_TA_ALUA_GROUP, 2), 0);
	assert_int_equal(vpd83_port_value(th, 0x94), 2);
	assert_int_equal(vpd83_port_value(th, 0x95), 2);
}

/* ---- REPORT TARGET PORT GROUPS ------------------------------------------ */

static void test_rtpg_single_group(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c = rtpg(th, false, 256);
	const u8 *d = c->in;

	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 4 + 12);
	assert_int_equal(bt_get_be32(d), 12);
	assert_int_equal(d[4] & 0x0f, BT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(d[5], 0x8f);          /* T, U, S, AN, AO supported */
	assert_int_equal(bt_get_be16(d + 6), 1);
	assert_int_equal(d[11], 1);            /* one target port           */
	assert_int_equal(bt_get_be16(d + 14), 1);
}

static void test_rtpg_two_groups_extended(void **state)
{
	struct th *th = *state;
	struct bt_cmd *c;
	const u8 *d;

	assert_int_equal(set(th, BT_TA_ALUA_GROUP, 10), 0);
	assert_int_equal(set(th, BT_TA_ALUA_PEER_GROUP, 20), 0);
	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_ACTIVE_NONOPTIMIZED), 0);
	assert_int_equal(set(th, BT_TA_ALUA_PEER_STATE, BT_ALUA_UNAVAILABLE), 0);
	th_clear_ua(th, 0);
	c = rtpg(th, true, 256);
	d = c->in;
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 8 + 2 * 12);
	/* return data length counts the extended header's last 4 bytes */
	assert_int_equal(bt_get_be32(d), 4 + 2 * 12);
	assert_int_equal(d[4] & 0x70, 0x10);
	assert_int_equal(d[8] & 0x0f, BT_ALUA_ACTIVE_NONOPTIMIZED);
	assert_int_equal(bt_get_be16(d + 10), 10);
	assert_int_equal(bt_get_be16(d + 18), 10);
	assert_int_equal(d[20] & 0x0f, BT_ALUA_UNAVAILABLE);
	assert_int_equal(bt_get_be16(d + 22), 20);
	assert_int_equal(d[27], 1);
	assert_int_equal(bt_get_be16(d + 30), 20);

	/* length-only format: same descriptors after a 4-byte header */
	c = rtpg(th, false, 256);
	assert_int_equal(c->in_len, 4 + 2 * 12);
	assert_int_equal(bt_get_be32(c->in), 2 * 12);
	assert_int_equal(bt_get_be16(c->in + 6), 10);

	/* truncated to the allocation length, header intact */
	c = rtpg(th, false, 6);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in_len, 6);
	assert_int_equal(bt_get_be32(c->in), 2 * 12);
}

static void test_rtpg_bad_format(void **state)
{
	struct th *th = *state;
	u8 cdb[12] = { 0xa3, 0x40 | 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	struct bt_cmd *c = run_in(th, cdb, 12, 256);
	struct th_sense s;

	assert_true(th_is_sense(c, SK_ILLEGAL, 0x24, 0x00));
	assert_true(th_sense(c, &s));
	assert_true(s.sksv);
	assert_int_equal(bt_get_be16(s.sks + 1), 1);   /* byte 1 */
}

static void test_rsoc_lists_rtpg(void **state)
{
	struct th *th = *state;
	/* REPORT SUPPORTED OPERATION CODES, one command: A3h / SA 0Ah */
	u8 cdb[12] = { 0xa3, 0x0c, 0x02, 0xa3, 0x00, 0x0a, 0, 0, 0, 64, 0, 0 };
	struct bt_cmd *c = run_in(th, cdb, 12, 64);

	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[1] & 0x07, 0x03);       /* supported        */
	assert_int_equal(bt_get_be16(c->in + 2), 12);
	assert_int_equal(c->in[4], 0xa3);
	assert_int_equal(c->in[5], 0x2a);              /* format bit + SA  */
}

/* ---- attributes ---------------------------------------------------------- */

static void test_attr_rules(void **state)
{
	struct th *th = *state;

	assert_int_equal(bt_target_attr(th->tgt, BT_TA_ALUA_GROUP), 1);
	assert_int_equal(bt_target_attr(th->tgt, BT_TA_ALUA_STATE),
			 BT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(bt_target_attr(th->tgt, BT_TA_ALUA_PEER_GROUP), 0);
	assert_int_equal(bt_target_attr(th->tgt, BT_TA_ALUA_PEER_STATE),
			 BT_ALUA_STANDBY);
	assert_int_equal(set(th, BT_TA_ALUA_GROUP, 0), BT_E_BAD_ATTR);
	assert_int_equal(set(th, BT_TA_ALUA_GROUP, 65536), BT_E_BAD_ATTR);
	assert_int_equal(set(th, BT_TA_ALUA_STATE, 4), BT_E_BAD_ATTR);  /* LBA dep. */
	assert_int_equal(set(th, BT_TA_ALUA_STATE, 0xe), BT_E_BAD_ATTR); /* offline */
	assert_int_equal(set(th, BT_TA_ALUA_PEER_STATE, 5), BT_E_BAD_ATTR);
	/* the peer group must differ from ours, both ways */
	assert_int_equal(set(th, BT_TA_ALUA_PEER_GROUP, 1), BT_E_BAD_ATTR);
	assert_int_equal(set(th, BT_TA_ALUA_PEER_GROUP, 2), 0);
	assert_int_equal(set(th, BT_TA_ALUA_GROUP, 2), BT_E_BAD_ATTR);
	assert_int_equal(set(th, BT_TA_ALUA_PEER_GROUP, 0), 0);
	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_TRANSITIONING), 0);
}

/* ---- access states ------------------------------------------------------- */

static void test_active_nonoptimized_serves(void **state)
{
	struct th *th = *state;

	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_ACTIVE_NONOPTIMIZED), 0);
	th_clear_ua(th, 0);
	assert_int_equal(tur(th)->status, BT_SAM_GOOD);
	assert_int_equal(read10(th)->status, BT_SAM_GOOD);
}

static void test_standby(void **state)
{
	struct th *th = *state;
	static const u8 rs[6] = { 0x03, 0, 0, 0, 18, 0 };
	static const u8 luns[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	static const u8 ms[6] = { 0x1a, 0x08, 0x3f, 0, 255, 0 };
	static const u8 prin[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0 };
	static const u8 rc10[10] = { 0x25 };
	static const u8 sync[10] = { 0x35 };
	struct bt_cmd *c;

	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_STANDBY), 0);
	th_clear_ua(th, 0);
	/* medium access, TEST UNIT READY included: NOT READY, 04/0B */
	assert_true(th_is_sense(tur(th), SK_NOT_READY, 0x04, 0x0b));
	assert_true(th_is_sense(read10(th), SK_NOT_READY, 0x04, 0x0b));
	assert_true(th_is_sense(run_in(th, rc10, 10, 8), SK_NOT_READY, 0x04, 0x0b));
	assert_true(th_is_sense(run_in(th, sync, 10, 0), SK_NOT_READY, 0x04, 0x0b));
	/* what a multipath driver needs still works */
	assert_int_equal(rtpg(th, false, 64)->status, BT_SAM_GOOD);
	assert_int_equal(vpd83_port_value(th, 0x95), 1);
	assert_int_equal(run_in(th, luns, 12, 256)->status, BT_SAM_GOOD);
	assert_int_equal(run_in(th, ms, 6, 255)->status, BT_SAM_GOOD);
	/* persistent reservations too, in standby */
	assert_int_equal(run_in(th, prin, 10, 64)->status, BT_SAM_GOOD);
	/* REQUEST SENSE returns the standby condition as data */
	c = run_in(th, rs, 6, 18);
	assert_int_equal(c->status, BT_SAM_GOOD);
	assert_int_equal(c->in[2] & 0x0f, SK_NOT_READY);
	assert_int_equal(c->in[12], 0x04);
	assert_int_equal(c->in[13], 0x0b);
}

static void test_unavailable_and_transitioning(void **state)
{
	struct th *th = *state;
	static const u8 prin[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0 };
	static const u8 ms[6] = { 0x1a, 0x08, 0x3f, 0, 255, 0 };

	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_UNAVAILABLE), 0);
	th_clear_ua(th, 0);
	assert_true(th_is_sense(tur(th), SK_NOT_READY, 0x04, 0x0c));
	assert_true(th_is_sense(read10(th), SK_NOT_READY, 0x04, 0x0c));
	/* no persistent reservations while unavailable */
	assert_true(th_is_sense(run_in(th, prin, 10, 64), SK_NOT_READY, 0x04, 0x0c));
	assert_int_equal(run_in(th, ms, 6, 255)->status, BT_SAM_GOOD);
	assert_int_equal(rtpg(th, true, 64)->status, BT_SAM_GOOD);

	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_TRANSITIONING), 0);
	th_clear_ua(th, 0);
	assert_true(th_is_sense(tur(th), SK_NOT_READY, 0x04, 0x0a));
	assert_true(th_is_sense(run_in(th, ms, 6, 255), SK_NOT_READY, 0x04, 0x0a));
	assert_int_equal(rtpg(th, true, 64)->status, BT_SAM_GOOD);

	/* back to active: served again */
	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_ACTIVE_OPTIMIZED), 0);
	th_clear_ua(th, 0);
	assert_int_equal(tur(th)->status, BT_SAM_GOOD);
	assert_int_equal(read10(th)->status, BT_SAM_GOOD);
}

/* ---- unit attention ------------------------------------------------------ */

static void test_state_change_ua(void **state)
{
	struct th *th = *state;

	/* a no-op set queues nothing */
	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_ACTIVE_OPTIMIZED), 0);
	assert_int_equal(tur(th)->status, BT_SAM_GOOD);
	/* a change: ASYMMETRIC ACCESS STATE CHANGED once, then the state */
	assert_int_equal(set(th, BT_TA_ALUA_PEER_GROUP, 2), 0);
	assert_true(th_is_sense(tur(th), SK_UA, 0x2a, 0x06));
	assert_int_equal(tur(th)->status, BT_SAM_GOOD);
	assert_int_equal(set(th, BT_TA_ALUA_STATE, BT_ALUA_STANDBY), 0);
	assert_true(th_is_sense(tur(th), SK_UA, 0x2a, 0x06));
	assert_true(th_is_sense(tur(th), SK_NOT_READY, 0x04, 0x0b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tpgs_implicit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpd83_group_and_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_single_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_two_groups_extended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_bad_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsoc_lists_rtpg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attr_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_nonoptimized_serves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unavailable_and_transitioning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_change_ua, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
