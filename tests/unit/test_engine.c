/*
 * test_engine.c - the object model (engine.c): typed errors, IN_USE rules,
 * defaults, admission, LUN lookup and iteration at 10,000 LUNs, LUN
 * backings attached on enable and detached on disable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine_int.h"
#include "test_engine_fakes.h"

#define T1 "iqn.2020-01.com.example:t1"
#define T2 "iqn.2020-01.com.example:t2"
#define I1 "iqn.1994-05.com.redhat:client"

struct fx {
	struct fake_host h;
	struct bt_engine *e;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->e = bt_engine_new(&fake_ops, &f->h);
	assert_non_null(f->e);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bt_engine_free(f->e);
	assert_int_equal(f->h.lu_live, 0);   /* every LU destroyed */
	free(f);
	return 0;
}

static const struct bt_lun_cfg cfg_file = { .path = "/tmp/disk.img" };

static void test_names(void **state)
{
	(void)state;
	assert_true(bt_name_valid(T1));
	assert_true(bt_name_valid("iqn.2001-04.com.example"));
	assert_true(bt_name_valid("eui.02004567A425678D"));
	assert_true(bt_name_valid("naa.52004567BA64678D"));
	assert_true(bt_name_valid("naa.62004567BA64678D0123456789ABCDEF"));
	assert_false(bt_name_valid(""));
	assert_false(bt_name_valid("iqn."));
	assert_false(bt_name_valid("iqn.2020-13.com.example"));
	assert_false(bt_name_valid("iqn.20x0-01.com.example"));
	assert_false(bt_name_valid("iqn.2020-01.Com.Example"));  /* not lower */
	assert_false(bt_name_valid("iqn.2020-01.com example"));
	assert_false(bt_name_valid("eui.12345"));
	assert_false(bt_name_valid("naa.XYZ4567BA64678D"));
	assert_false(bt_name_valid("target1"));
	char longname[300] = "iqn.2020-01.com.example:";
	memset(longname + strlen(longname), 'a', 250);
	longname[299] = 0;
	assert_false(bt_name_valid(longname));
}

static void test_target_add_del(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	assert_int_equal(bt_target_add(f->e, T1), BT_E_EXISTS);
	assert_int_equal(bt_target_add(f->e, "bogus"), BT_E_BAD_NAME);
	assert_int_equal(bt_target_add(f->e, NULL), BT_E_BAD_NAME);
	t = bt_target_find(f->e, T1);
	assert_non_null(t);
	assert_string_equal(bt_target_iqn(t), T1);
	assert_false(bt_target_enabled(t));
	assert_ptr_equal(bt_target_engine(t), f->e);
	assert_int_equal(bt_target_attr(t, BT_TA_MAX_SESSIONS_PER_INITIATOR), 2);
	assert_int_equal(bt_target_attr(t, BT_TA_MAX_SESSIONS), 64);
	assert_int_equal(bt_target_attr(t, BT_TA_NOP_INTERVAL_MS), 5000);
	assert_int_equal(bt_target_attr(t, BT_TA_NOP_TIMEOUT_MS), 15000);
	assert_int_equal(bt_target_attr(t, BT_TA_DEMO_MODE), 0);
	assert_int_equal(bt_target_del(f->e, T2, false), BT_E_NOT_FOUND);
	assert_int_equal(bt_target_del(f->e, T1, false), 0);
	assert_null(bt_target_find(f->e, T1));
	assert_int_equal(bt_target_del(f->e, T1, false), BT_E_NOT_FOUND);
}

static void test_target_order(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "iqn.2020-01.c:z", "iqn.2020-01.c:a",
				"iqn.2020-01.c:m", "iqn.2020-01.c:b" };
	const char *sorted[] = { "iqn.2020-01.c:a", "iqn.2020-01.c:b",
				 "iqn.2020-01.c:m", "iqn.2020-01.c:z" };
	struct bt_target *t = NULL;
	unsigned i;

	for (i = 0; i < 4; i++)
		assert_int_equal(bt_target_add(f->e, names[i]), 0);
	for (i = 0; (t = bt_target_next(f->e, t)); i++)
		assert_string_equal(bt_target_iqn(t), sorted[i]);
	assert_int_equal(i, 4);
	for (i = 0; i < 4; i++)
		assert_non_null(bt_target_find(f->e, names[i]));
}

static void test_target_in_use(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	t = bt_target_find(f->e, T1);
	fake_set_sessions(t, 2);
	assert_int_equal(bt_target_del(f->e, T1, false), BT_E_IN_USE);
	assert_non_null(bt_target_find(f->e, T1));
	f->h.target_gone = 0;
	assert_int_equal(bt_target_del(f->e, T1, true), 0);
	assert_int_equal(f->h.target_gone, 1);      /* sessions dropped */
	assert_null(bt_target_find(f->e, T1));
}

static void test_enable_disable(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_enable(f->e, T1, true), BT_E_NOT_FOUND);
	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_true(bt_target_enabled(t));
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);  /* idempotent */
	fake_set_sessions(t, 1);
	f->h.target_gone = 0;
	assert_int_equal(bt_target_enable(f->e, T1, false), 0);
	assert_false(bt_target_enabled(t));
	assert_int_equal(f->h.target_gone, 1);
	assert_int_equal(bt_iscsi_target_nsessions(t), 0);
	assert_int_equal(bt_target_enable(f->e, T1, false), 0);
	assert_int_equal(f->h.target_gone, 1);  /* already off: nothing */
}

static void test_attrs(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_MAX_SESSIONS, 3),
			 BT_E_NOT_FOUND);
	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_MAX_SESSIONS, 3), 0);
	assert_int_equal(bt_target_attr(t, BT_TA_MAX_SESSIONS), 3);
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_MAX_SESSIONS, 0),
			 BT_E_BAD_ATTR);
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_NOP_INTERVAL_MS, 0), 0);
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_NOP_TIMEOUT_MS, 10),
			 BT_E_BAD_ATTR);
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_DEMO_MODE, 2),
			 BT_E_BAD_ATTR);
	assert_int_equal(bt_target_set_attr(f->e, T1, (enum bt_target_attr)99, 1),
			 BT_E_BAD_ATTR);
	assert_int_equal(bt_target_attr(t, (enum bt_target_attr)99), 0);
}

static void test_portals(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_portal_add(f->e, T1, "10.0.0.1:3260"), 0);
	assert_int_equal(bt_portal_add(f->e, T1, "[fe80::1]:3260"), 0);
	assert_int_equal(bt_portal_add(f->e, T1, "10.0.0.1:3260"), BT_E_EXISTS);
	assert_int_equal(bt_portal_add(f->e, T1, "10.0.0.1"), BT_E_BAD_ATTR);
	assert_int_equal(bt_portal_add(f->e, T1, "10.0.0.1:0"), BT_E_BAD_ATTR);
	assert_int_equal(bt_portal_add(f->e, T1, "10.0.0.1:70000"), BT_E_BAD_ATTR);
	assert_int_equal(bt_portal_add(f->e, T1, "fe80::1:3260"), BT_E_BAD_ATTR);
	assert_int_equal(bt_portal_add(f->e, T2, "10.0.0.1:3260"), BT_E_NOT_FOUND);
	assert_string_equal(bt_target_portal(t, 0), "10.0.0.1:3260");
	assert_string_equal(bt_target_portal(t, 1), "[fe80::1]:3260");
	assert_null(bt_target_portal(t, 2));
	assert_int_equal(bt_portal_del(f->e, T1, "10.0.0.1:3260"), 0);
	assert_int_equal(bt_portal_del(f->e, T1, "10.0.0.1:3260"), BT_E_NOT_FOUND);
	assert_string_equal(bt_target_portal(t, 0), "[fe80::1]:3260");
}

static void test_lun_errors(void **state)
{
	struct fx *f = *state;
	struct bt_lun_cfg bad = { .path = FAKE_MISSING_PATH "/x" };
	struct bt_lun_cfg bs = { .path = "/tmp/x", .block_size = 1000 };

	assert_int_equal(bt_lun_add(f->e, T1, 0, &cfg_file), BT_E_NOT_FOUND);
	assert_int_equal(bt_target_add(f->e, T1), 0);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);  /* opens at once */
	assert_int_equal(bt_lun_add(f->e, T1, 0, &cfg_file), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 0, &cfg_file), BT_E_EXISTS);
	assert_int_equal(bt_lun_add(f->e, T1, 1, &bad), BT_E_BACKEND);
	assert_int_equal(bt_target_nluns(bt_target_find(f->e, T1)), 1);
	assert_int_equal(bt_lun_add(f->e, T1, 1, &bs), BT_E_BAD_ATTR);
	assert_int_equal(bt_lun_add(f->e, T1, 16384, &cfg_file), BT_E_BAD_ATTR);
	assert_int_equal(bt_lun_add(f->e, T1, 1, NULL), BT_E_BAD_ATTR);
	assert_int_equal(bt_lun_del(f->e, T1, 1, false), BT_E_NOT_FOUND);
	assert_int_equal(bt_lun_del(f->e, T2, 0, false), BT_E_NOT_FOUND);
	assert_int_equal(f->h.lu_live, 1);
}

static void test_lun_in_use(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_lun_add(f->e, T1, 0, &cfg_file), 0);
	assert_int_equal(f->h.luns_changed, 0);     /* not live: no UA */
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 1, &cfg_file), 0);
	assert_int_equal(f->h.luns_changed, 1);     /* live: UA queued */
	assert_int_equal(f->h.last_event, BT_EV_LUN_CHANGE);
	fake_set_sessions(t, 1);
	assert_int_equal(bt_lun_del(f->e, T1, 1, false), BT_E_IN_USE);
	assert_non_null(bt_target_lu(t, 1));
	assert_int_equal(bt_lun_del(f->e, T1, 1, true), 0);
	assert_null(bt_target_lu(t, 1));
	assert_int_equal(f->h.luns_changed, 2);
	/* adding needs no force even with sessions */
	assert_int_equal(bt_lun_add(f->e, T1, 5, &cfg_file), 0);
	assert_int_equal(f->h.luns_changed, 3);
	fake_set_sessions(t, 0);
	assert_int_equal(bt_lun_del(f->e, T1, 5, false), 0);
}

static void test_lun_uid(void **state)
{
	struct fx *f = *state;
	struct bt_lun_cfg c = { .path = "/tmp/a", .uid = "vol-1" };
	struct bt_target *t;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_lun_add(f->e, T1, 0, &c), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 7, &cfg_file), 0);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_string_equal(bt_lu_uid(bt_target_lu(t, 0)), "vol-1");
	assert_string_equal(bt_lu_uid(bt_target_lu(t, 7)), T1 ":7");
}

/* 10,000 LUNs, inserted out of order and sparse: lookup, order, one add. */
static void test_lun_scale(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;
	struct bt_lu *lu = NULL;
	u64 lun = 0, prev = 0;
	unsigned i, n = 0;

	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	/* a permutation of 0..9999 (7919 is prime, coprime to 10000) */
	for (i = 0; i < 10000; i++)
		assert_int_equal(bt_lun_add(f->e, T1, (i * 7919u) % 10000, &cfg_file), 0);
	assert_int_equal(bt_target_nluns(t), 10000);
	for (i = 0; i < 10000; i++)
		assert_non_null(bt_target_lu(t, i));
	assert_null(bt_target_lu(t, 10000));
	assert_null(bt_target_lu(t, ~(u64)0));
	while ((lu = bt_target_lu_next(t, lu, &lun))) {
		if (n)
			assert_true(lun == prev + 1);
		prev = lun;
		n++;
	}
	assert_int_equal(n, 10000);
	/* make the map sparse: drop the even LUNs, lookups still exact */
	for (i = 0; i < 10000; i += 2)
		assert_int_equal(bt_lun_del(f->e, T1, i, false), 0);
	for (i = 0; i < 10000; i++) {
		if (i % 2)
			assert_non_null(bt_target_lu(t, i));
		else
			assert_null(bt_target_lu(t, i));
	}
	/* adding one LUN to a big target is one call */
	assert_int_equal(bt_lun_add(f->e, T1, 16000, &cfg_file), 0);
	assert_int_equal(bt_target_nluns(t), 5001);
	assert_non_null(bt_target_lu(t, 16000));
	/* iteration that deletes as it goes never loses its place */
	lu = NULL;
	n = 0;
	while ((lu = bt_target_lu_next(t, lu, &lun))) {
		assert_int_equal(bt_lun_del(f->e, T1, lun, false), 0);
		n++;
	}
	assert_int_equal(n, 5001);
	assert_int_equal(bt_target_nluns(t), 0);
}

/* ---- LUN backings attach on enable, detach on disable ------------------ */

static const struct bt_lun_cfg cfg_a = { .path = "/dev/drbd1", .uid = "a" };
static const struct bt_lun_cfg cfg_b = { .path = "/dev/drbd2",
					 .block_size = 4096, .readonly = true };
static const struct bt_lun_cfg cfg_c = { .path = "/dev/drbd3" };

/* A staged target with LUNs 0, 3, 9 (b, a, c): nothing opened. */
static struct bt_target *stage3(struct fx *f)
{
	assert_int_equal(bt_target_add(f->e, T1), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 3, &cfg_a), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 0, &cfg_b), 0);
	assert_int_equal(bt_lun_add(f->e, T1, 9, &cfg_c), 0);
	return bt_target_find(f->e, T1);
}

static void test_stage_does_not_open(void **state)
{
	struct fx *f = *state;
	struct bt_lun_cfg bs = { .path = "/tmp/x", .block_size = 1000 };
	struct bt_lun_cfg empty = { .path = "" };
	struct bt_lun_view v;
	struct bt_target *t = stage3(f);
	u64 lun = 0;

	/* also a path the host could not open: only recorded */
	assert_int_equal(bt_lun_add(f->e, T1, 4, &(struct bt_lun_cfg){
				.path = FAKE_MISSING_PATH "/y" }), 0);
	assert_int_equal(f->h.lu_open_tries, 0);
	assert_int_equal(f->h.lu_live, 0);
	assert_false(bt_target_attached(t));
	/* what can be checked without opening still is */
	assert_int_equal(bt_lun_add(f->e, T1, 3, &cfg_c), BT_E_EXISTS);
	assert_int_equal(bt_lun_add(f->e, T1, 16384, &cfg_c), BT_E_BAD_ATTR);
	assert_int_equal(bt_lun_add(f->e, T1, 5, &empty), BT_E_BAD_ATTR);
	assert_int_equal(bt_lun_add(f->e, T1, 5, &bs), BT_E_BAD_ATTR);
	assert_int_equal(bt_target_nluns(t), 4);
	assert_int_equal(f->h.luns_changed, 0);
	/* invisible to the I/O path, visible to the dump */
	assert_null(bt_target_lu(t, 0));
	assert_null(bt_target_lu(t, 3));
	assert_null(bt_target_lu_next(t, NULL, &lun));
	assert_true(bt_target_lun_view(t, 1, &v));
	assert_int_equal(v.lun, 3);
	assert_null(v.lu);
	assert_string_equal(v.path, "/dev/drbd1");
	assert_string_equal(v.uid, "a");
	assert_true(bt_target_lun_view(t, 0, &v));
	assert_int_equal(v.block_size, 4096);
	assert_true(v.readonly);
	assert_null(v.uid);
	assert_int_equal(v.features, BT_FEAT_DEFAULT);
	/* deleting a staged LUN closes nothing */
	assert_int_equal(bt_lun_del(f->e, T1, 4, false), 0);
	assert_int_equal(f->h.lu_closes, 0);
	assert_int_equal(bt_target_nluns(t), 3);
}

static void test_enable_opens_all(void **state)
{
	struct fx *f = *state;
	struct bt_target *t = stage3(f);
	struct bt_lu *lu = NULL;
	u64 lun = 0;
	unsigned n = 0;

	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_true(bt_target_enabled(t));
	assert_true(bt_target_attached(t));
	assert_int_equal(f->h.lu_opens, 3);
	assert_int_equal(f->h.lu_live, 3);
	assert_string_equal(bt_lu_path(bt_target_lu(t, 0)), "/dev/drbd2");
	assert_int_equal(bt_lu_block_size(bt_target_lu(t, 0)), 4096);
	assert_string_equal(bt_lu_uid(bt_target_lu(t, 3)), "a");
	assert_string_equal(bt_lu_uid(bt_target_lu(t, 9)), T1 ":9");
	while ((lu = bt_target_lu_next(t, lu, &lun)))
		n++;
	assert_int_equal(n, 3);
	/* enabling again opens nothing more */
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_int_equal(f->h.lu_opens, 3);
	/* a LUN added now opens at once and signals the change */
	assert_int_equal(bt_lun_add(f->e, T1, 1, &cfg_file), 0);
	assert_int_equal(f->h.lu_opens, 4);
	assert_non_null(bt_target_lu(t, 1));
	assert_int_equal(f->h.luns_changed, 1);
	/* ... and a failing one is not recorded */
	f->h.fail_path = "/dev/drbd7";
	assert_int_equal(bt_lun_add(f->e, T1, 7, &(struct bt_lun_cfg){
				.path = "/dev/drbd7" }), BT_E_BACKEND);
	assert_int_equal(bt_target_nluns(t), 4);
	assert_int_equal(f->h.luns_changed, 1);
	/* deleting an attached LUN closes it */
	assert_int_equal(bt_lun_del(f->e, T1, 1, false), 0);
	assert_int_equal(f->h.lu_closes, 1);
}

static void test_enable_fails_rolls_back(void **state)
{
	struct fx *f = *state;
	struct bt_lun_fail why = { 0 };
	struct bt_target *t = stage3(f);
	u64 lun = 0;

	/* LUN 3 (second in order) fails: LUN 0 was opened, must be closed */
	f->h.fail_path = "/dev/drbd1";
	assert_int_equal(bt_target_enable_why(f->e, T1, true, &why), BT_E_BACKEND);
	assert_int_equal(why.lun, 3);
	assert_string_equal(why.path, "/dev/drbd1");
	assert_false(bt_target_enabled(t));
	assert_false(bt_target_attached(t));
	assert_int_equal(f->h.lu_open_tries, 2);
	assert_int_equal(f->h.lu_opens, 1);
	assert_int_equal(f->h.lu_closes, 1);
	assert_int_equal(f->h.lu_live, 0);
	assert_null(bt_target_lu(t, 0));
	assert_null(bt_target_lu_next(t, NULL, &lun));
	/* maps kept; once the backing appears, enable works */
	assert_int_equal(bt_target_nluns(t), 3);
	assert_int_equal(bt_target_enable(f->e, T1, true), BT_E_BACKEND);
	assert_false(bt_target_enabled(t));
	f->h.fail_path = NULL;
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_true(bt_target_enabled(t));
	assert_int_equal(f->h.lu_live, 3);
}

static void test_disable_closes_all(void **state)
{
	struct fx *f = *state;
	struct bt_target *t = stage3(f);
	struct bt_lun_view v;
	unsigned gone;
	u64 lun = 0;

	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	fake_set_sessions(t, 2);
	gone = f->h.target_gone;
	assert_int_equal(bt_target_enable(f->e, T1, false), 0);
	assert_int_equal(f->h.target_gone, gone + 1);   /* sessions dropped */
	assert_int_equal(bt_iscsi_target_nsessions(t), 0);
	assert_false(bt_target_enabled(t));
	assert_false(bt_target_attached(t));
	assert_int_equal(f->h.lu_closes, 3);
	assert_int_equal(f->h.lu_live, 0);
	assert_null(bt_target_lu(t, 9));
	assert_null(bt_target_lu_next(t, NULL, &lun));
	/* the maps stay */
	assert_int_equal(bt_target_nluns(t), 3);
	assert_true(bt_target_lun_view(t, 2, &v));
	assert_int_equal(v.lun, 9);
	assert_string_equal(v.path, "/dev/drbd3");
	/* disabling again closes nothing twice; re-enable reopens */
	assert_int_equal(bt_target_enable(f->e, T1, false), 0);
	assert_int_equal(f->h.lu_closes, 3);
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_int_equal(f->h.lu_opens, 6);
	/* deleting the enabled target closes them too */
	assert_int_equal(bt_target_del(f->e, T1, true), 0);
	assert_int_equal(f->h.lu_closes, 6);
}

/* bt_target_attach: LUs without a live target (SCSI test harness). */
static void test_attach_without_enable(void **state)
{
	struct fx *f = *state;
	struct bt_target *t = stage3(f);

	assert_int_equal(bt_target_attach(f->e, T1), 0);
	assert_false(bt_target_enabled(t));
	assert_true(bt_target_attached(t));
	assert_int_equal(f->h.lu_live, 3);
	assert_int_equal(bt_lun_add(f->e, T1, 1, &cfg_file), 0);
	assert_int_equal(f->h.lu_live, 4);
	assert_int_equal(f->h.luns_changed, 0);      /* not live: no UA */
	/* enabling an attached target opens nothing more */
	assert_int_equal(bt_target_enable(f->e, T1, true), 0);
	assert_int_equal(f->h.lu_opens, 4);
	assert_int_equal(bt_target_attach(f->e, T2), BT_E_NOT_FOUND);
}

static void test_acl_admit(void **state)
{
	struct fx *f = *state;
	struct bt_chap chap = { "alice", "secretsecret" }, c, m;
	struct bt_chap tchap = { "tuser", "tsecretsecret" };
	struct bt_chap mutual = { "muser", "msecretsecret" };
	struct bt_chap half = { "alice", NULL };
	struct bt_target *t;
	const char *ini, *cu;

	assert_int_equal(bt_acl_add(f->e, T1, I1, NULL), BT_E_NOT_FOUND);
	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_int_equal(bt_target_admit(t, I1, &c, &m), -BT_EACCES);
	assert_int_equal(bt_acl_add(f->e, T1, "not a name", NULL), BT_E_BAD_NAME);
	assert_int_equal(bt_acl_add(f->e, T1, I1, &half), BT_E_BAD_ATTR);
	assert_int_equal(bt_acl_add(f->e, T1, I1, &chap), 0);
	assert_int_equal(bt_acl_add(f->e, T1, I1, NULL), BT_E_EXISTS);
	assert_int_equal(bt_target_admit(t, I1, &c, &m), 0);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.secret, "secretsecret");
	assert_null(m.user);
	assert_int_equal(bt_target_admit(t, "iqn.2000-01.other:x", &c, &m),
			 -BT_EACCES);
	assert_int_equal(bt_target_admit(t, NULL, &c, &m), -BT_EACCES);
	/* '*' admits anyone, with the target's CHAP */
	assert_int_equal(bt_auth_set(f->e, T1, &tchap, &mutual), 0);
	assert_int_equal(bt_acl_add(f->e, T1, "*", NULL), 0);
	assert_int_equal(bt_target_admit(t, "iqn.2000-01.other:x", &c, &m), 0);
	assert_string_equal(c.user, "tuser");
	assert_string_equal(m.user, "muser");
	assert_string_equal(m.secret, "msecretsecret");
	/* the ACL's own CHAP wins over the target's */
	assert_int_equal(bt_target_admit(t, I1, &c, &m), 0);
	assert_string_equal(c.user, "alice");
	/* views never expose secrets, only users */
	assert_int_equal(bt_target_nacls(t), 2);
	assert_true(bt_target_acl(t, 0, &ini, &cu));
	assert_string_equal(ini, I1);
	assert_string_equal(cu, "alice");
	assert_false(bt_target_acl(t, 2, &ini, &cu));
	/* clear auth */
	assert_int_equal(bt_auth_set(f->e, T1, NULL, NULL), 0);
	assert_int_equal(bt_target_admit(t, "iqn.2000-01.other:x", &c, &m), 0);
	assert_null(c.user);
	assert_null(m.user);
	assert_int_equal(bt_acl_del(f->e, T1, "*"), 0);
	assert_int_equal(bt_acl_del(f->e, T1, "*"), BT_E_NOT_FOUND);
	assert_int_equal(bt_target_admit(t, "iqn.2000-01.other:x", &c, &m),
			 -BT_EACCES);
	/* demo mode admits without an ACL */
	assert_int_equal(bt_target_set_attr(f->e, T1, BT_TA_DEMO_MODE, 1), 0);
	assert_int_equal(bt_target_admit(t, "iqn.2000-01.other:x", &c, &m), 0);
	assert_int_equal(bt_auth_set(f->e, T2, NULL, NULL), BT_E_NOT_FOUND);
	assert_int_equal(bt_auth_set(f->e, T1, &half, NULL), BT_E_BAD_ATTR);
}

static void test_slots(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;

	assert_non_null(bt_engine_iscsi_slot(f->e));
	assert_null(*bt_engine_iscsi_slot(f->e));
	assert_ptr_equal(bt_engine_ops(f->e), &fake_ops);
	assert_ptr_equal(bt_engine_host(f->e), &f->h);
	assert_int_equal(bt_target_add(f->e, T1), 0);
	t = bt_target_find(f->e, T1);
	assert_null(*bt_target_scsi_slot(t));
	assert_ptr_not_equal(bt_target_scsi_slot(t), bt_target_iscsi_slot(t));
	bt_engine_tick(f->e, 1000);
	assert_int_equal(f->h.ticks, 1);
	bt_engine_shutdown(f->e);
	assert_int_equal(f->h.shutdowns, 1);
	assert_int_equal(bt_target_del(f->e, T1, false), 0);
	assert_int_equal(f->h.scsi_gone, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_target_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lun_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lun_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lun_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lun_scale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_does_not_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_opens_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_fails_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_closes_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_without_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acl_admit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
