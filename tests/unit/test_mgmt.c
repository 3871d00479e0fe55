/*
 * test_mgmt.c - the management front end (mgmt.c) through its real client
 * (bt_mgmt_client.c): a loopback transport hands each request's bytes to
 * bt_mgmt_handle() on an engine (with faked layers) and queues the reply
 * bytes, so both sides of the wire format are exercised. Raw-byte cases
 * check malformed requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "bt_mgmt.h"
#include "targetctl/bt_mgmt_client.h"
#include "chap_digest.h"
#include "daemon/target_exec.h"
#include "engine_int.h"
#include "nla.h"
#include "test_engine_fakes.h"

#define T1 "iqn.2020-01.com.example:t1"
#define T2 "iqn.2020-01.com.example:t2"
#define I1 "iqn.1994-05.com.redhat:client"

struct msg {
	size_t len;
	unsigned char *data;
};

struct loop {
	struct fake_host h;
	struct bt_engine *e;
	size_t max_msg;
	struct msg q[4096];
	size_t head, tail;
	unsigned nsent;               /* reply messages produced */
	const char *forbidden;        /* must never appear in a reply */
};

static int lb_reply(void *arg, const void *msg, bt_size_t len)
{
	struct loop *l = arg;
	struct msg *m = &l->q[l->tail++ % 4096];

	assert_true(len <= l->max_msg || len <= BT_MGMT_MSG_MIN);
	m->data = malloc(len);
	memcpy(m->data, msg, len);
	m->len = len;
	l->nsent++;
	if (l->forbidden)
		assert_null(memmem(msg, len, l->forbidden, strlen(l->forbidden)));
	return 0;
}

static int lb_send(void *ctx, const void *msg, size_t len)
{
	struct loop *l = ctx;
	/* the engine wants an aligned buffer, like a host's receive buffer */
	void *copy = malloc(len);
	int rc;

	memcpy(copy, msg, len);
	rc = bt_mgmt_handle(l->e, copy, len, l->max_msg, lb_reply, l);
	free(copy);
	return rc;
}

static ssize_t lb_recv(void *ctx, void *buf, size_t cap, int timeout_ms)
{
	struct loop *l = ctx;
	struct msg *m;
	size_t n;

	if (l->head == l->tail)
		return -ETIMEDOUT;
	m = &l->q[l->head++ % 4096];
	n = m->len < cap ? m->len : cap;
	memcpy(buf, m->data, n);
	free(m->data);
	return (ssize_t)n;
}

struct fx {
	struct loop l;
	struct btc *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct btc_transport t = {
		.send = lb_send, .recv = lb_recv, .ctx = &f->l,
		.msg_type = BT_MGMT_MSG_TYPE,
	};

	f->l.e = bt_engine_new(&fake_ops, &f->l.h);
	f->l.max_msg = BT_MGMT_MSG_MIN;
	f->c = btc_new(&t);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	while (f->l.head != f->l.tail)
		free(f->l.q[f->l.head++ % 4096].data);
	btc_free(f->c);
	bt_engine_free(f->l.e);
	free(f);
	return 0;
}

static void test_target_errors(void **state)
{
	struct fx *f = *state;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_string_equal(btc_errmsg(f->c), "");
	assert_int_equal(btc_target_add(f->c, T1), BT_E_EXISTS);
	assert_string_equal(btc_errmsg(f->c), T1 ": already exists");
	assert_int_equal(btc_target_add(f->c, "nope"), BT_E_BAD_NAME);
	assert_int_equal(btc_target_enable(f->c, T2, true), BT_E_NOT_FOUND);
	assert_string_equal(btc_errmsg(f->c), T2 ": not found");
	assert_int_equal(btc_target_enable(f->c, T1, true), 0);
	assert_true(bt_target_enabled(bt_target_find(f->l.e, T1)));
	fake_set_sessions(bt_target_find(f->l.e, T1), 1);
	assert_int_equal(btc_target_del(f->c, T1, false), BT_E_IN_USE);
	assert_non_null(strstr(btc_errmsg(f->c), "in use"));
	assert_int_equal(btc_target_del(f->c, T1, true), 0);
	assert_null(bt_target_find(f->l.e, T1));
}

static void test_lun_errors(void **state)
{
	struct fx *f = *state;
	struct btc_lun_spec s = { .path = "/tmp/a.img" };
	struct btc_lun_spec bad = { .path = FAKE_MISSING_PATH };

	assert_int_equal(btc_lun_add(f->c, T1, 0, &s), BT_E_NOT_FOUND);
	assert_string_equal(btc_errmsg(f->c), T1 ": not found");
	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_int_equal(btc_target_enable(f->c, T1, true), 0);  /* lun add opens */
	assert_int_equal(btc_lun_add(f->c, T1, 0, &s), 0);
	assert_int_equal(btc_lun_add(f->c, T1, 0, &s), BT_E_EXISTS);
	assert_string_equal(btc_errmsg(f->c), T1 ": lun 0: already exists");
	assert_int_equal(btc_lun_add(f->c, T1, 1, &bad), BT_E_BACKEND);
	assert_string_equal(btc_errmsg(f->c), T1 ": lun 1: " FAKE_MISSING_PATH
			    ": backing store could not be opened");
	assert_int_equal(bt_target_nluns(bt_target_find(f->l.e, T1)), 1);
	assert_int_equal(btc_lun_del(f->c, T1, 9, false), BT_E_NOT_FOUND);
	assert_string_equal(btc_errmsg(f->c), T1 ": lun 9: not found");
	fake_set_sessions(bt_target_find(f->l.e, T1), 1);
	assert_int_equal(btc_lun_del(f->c, T1, 0, false), BT_E_IN_USE);
	assert_non_null(bt_target_lu(bt_target_find(f->l.e, T1), 0));
	assert_int_equal(btc_lun_del(f->c, T1, 0, true), 0);
	assert_null(bt_target_lu(bt_target_find(f->l.e, T1), 0));
}

static void test_misc_cmds(void **state)
{
	struct fx *f = *state;
	struct bt_target *t;
	struct bt_chap c, m;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	t = bt_target_find(f->l.e, T1);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_MAX_SESSIONS, 7), 0);
	assert_int_equal(bt_target_attr(t, BT_TA_MAX_SESSIONS), 7);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_MAX_SESSIONS, 0), BT_E_BAD_ATTR);
	assert_int_equal(btc_set_attr(f->c, T1, 77, 1), BT_E_BAD_ATTR);
	assert_int_equal(btc_portal_add(f->c, T1, "127.0.0.1:3260"), 0);
	assert_int_equal(btc_portal_add(f->c, T1, "127.0.0.1:3260"), BT_E_EXISTS);
	assert_int_equal(btc_portal_del(f->c, T1, "127.0.0.1:3261"), BT_E_NOT_FOUND);
	assert_int_equal(btc_acl_add(f->c, T1, I1, "u", "s3cretS3cret"), 0);
	assert_int_equal(btc_acl_add(f->c, T1, I1, NULL, NULL), BT_E_EXISTS);
	assert_int_equal(btc_acl_add(f->c, T1, "*", NULL, NULL), 0);
	assert_int_equal(btc_acl_add(f->c, T1, I1 "x", "u", NULL), BT_E_BAD_ATTR);
	assert_int_equal(bt_target_admit(t, I1, &c, &m), 0);
	assert_string_equal(c.secret, "s3cretS3cret");
	assert_int_equal(btc_auth_set(f->c, T1, NULL, NULL, "mu", "mutualsecret"), 0);
	assert_int_equal(bt_target_admit(t, I1, &c, &m), 0);
	assert_string_equal(m.secret, "mutualsecret");
	assert_int_equal(btc_acl_del(f->c, T1, I1), 0);
	assert_int_equal(btc_acl_del(f->c, T1, I1), BT_E_NOT_FOUND);
	assert_int_equal(btc_subscribe(f->c), 0);
}

/* ALUA attributes: set over the API (with the engine's checks), dumped,
 * parsed back by the client; state names both ways. */
static void test_alua_attrs(void **state)
{
	struct fx *f = *state;
	struct btc_state st;
	const struct btc_target *t;
	uint64_t v;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	t = btc_state_target(&st, T1);
	assert_non_null(t);
	assert_int_equal(t->attrs.alua_group, 1);
	assert_int_equal(t->attrs.alua_state, BT_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(t->attrs.alua_peer_group, 0);
	assert_int_equal(t->attrs.alua_peer_state, BT_ALUA_STANDBY);
	btc_state_free(&st);

	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_GROUP, 2), 0);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_PEER_GROUP, 2), BT_E_BAD_ATTR);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_PEER_GROUP, 1), 0);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_STATE, BT_ALUA_STANDBY), 0);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_PEER_STATE, 7), BT_E_BAD_ATTR);
	assert_int_equal(btc_set_attr(f->c, T1, BT_TA_ALUA_PEER_STATE,
				      BT_ALUA_ACTIVE_OPTIMIZED), 0);
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	t = btc_state_target(&st, T1);
	assert_non_null(t);
	assert_int_equal(t->attrs.alua_group, 2);
	assert_int_equal(t->attrs.alua_state, BT_ALUA_STANDBY);
	assert_int_equal(t->attrs.alua_peer_group, 1);
	assert_int_equal(t->attrs.alua_peer_state, BT_ALUA_ACTIVE_OPTIMIZED);
	btc_state_free(&st);

	assert_string_equal(btc_alua_state_name(BT_ALUA_STANDBY), "standby");
	assert_null(btc_alua_state_name(4));
	assert_int_equal(btc_alua_state_parse("activeNonOptimized", &v), 0);
	assert_int_equal(v, BT_ALUA_ACTIVE_NONOPTIMIZED);
	assert_int_equal(btc_alua_state_parse("15", &v), 0);
	assert_int_equal(v, BT_ALUA_TRANSITIONING);
	assert_int_equal(btc_alua_state_parse("offline", &v), -EINVAL);
	assert_int_equal(btc_alua_state_parse("4", &v), -EINVAL);
	assert_int_equal(btc_alua_state_parse("", &v), -EINVAL);
}

/* 10,000 LUNs and 300 ACLs: the dump spans many messages, parses back
 * complete and in order, and never carries a secret. */
static void test_dump_big(void **state)
{
	struct fx *f = *state;
	struct btc_lun_spec s = { .path = "/dev/vg/some-long-volume-name-here" };
	struct btc_state st;
	const struct btc_target *t;
	char ini[64];
	unsigned i;

	assert_int_equal(btc_target_add(f->c, T2), 0);
	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_int_equal(btc_portal_add(f->c, T1, "10.1.1.1:3260"), 0);
	assert_int_equal(btc_auth_set(f->c, T1, "tuser", "TOPSECRETVALUE", NULL, NULL), 0);
	for (i = 0; i < 300; i++) {
		snprintf(ini, sizeof(ini), "iqn.2000-01.com.example:host%04u", i);
		assert_int_equal(btc_acl_add(f->c, T1, ini, "user", "TOPSECRETVALUE"), 0);
	}
	for (i = 0; i < 10000; i++)
		assert_int_equal(btc_lun_add(f->c, T1, 9999 - i, &s), 0);
	assert_int_equal(btc_lun_add(f->c, T2, 3, &s), 0);
	f->l.nsent = 0;
	f->l.forbidden = "TOPSECRETVALUE";
	assert_int_equal(btc_dump(f->c, NULL, &st), 0);
	assert_true(f->l.nsent > 10);             /* really split */
	assert_int_equal(st.ntargets, 2);
	assert_string_equal(st.targets[0].iqn, T1);
	t = btc_state_target(&st, T1);
	assert_non_null(t);
	assert_int_equal(t->nluns, 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(t->luns[i].lun, i);
	assert_non_null(btc_target_lun(t, 4242));
	assert_string_equal(btc_target_lun(t, 4242)->path, s.path);
	assert_string_equal(btc_target_lun(t, 4242)->uid, T1 ":4242");
	assert_int_equal(btc_target_lun(t, 4242)->block_size, 512);
	/* T1 is disabled: LUNs recorded, not attached */
	assert_int_equal(btc_target_lun(t, 4242)->blocks, 0);
	assert_false(btc_target_lun(t, 4242)->attached);
	assert_null(btc_target_lun(t, 4242)->naa);
	assert_int_equal(t->nacls, 300);
	assert_string_equal(t->acls[299].initiator, "iqn.2000-01.com.example:host0299");
	assert_string_equal(t->acls[0].chap_user, "user");
	/* a salted digest of each secret instead of it, which checks against
	 * the secret (the salt comes from the host's bt_random: a constant in
	 * these fakes) */
	assert_non_null(t->acls[0].chap_digest);
	assert_int_equal(bt_chap_digest_check("TOPSECRETVALUE", t->acls[0].chap_digest), 1);
	assert_int_equal(bt_chap_digest_check("TOPSECRETVALUe", t->acls[0].chap_digest), 0);
	assert_int_equal(bt_chap_digest_check("TOPSECRETVALUE", t->auth.chap_digest), 1);
	assert_null(t->auth.mutual_digest);
	assert_int_equal(t->nportals, 1);
	assert_string_equal(t->portals[0], "10.1.1.1:3260");
	assert_string_equal(t->auth.chap_user, "tuser");
	assert_null(t->auth.mutual_user);
	assert_int_equal(t->attrs.max_sessions_per_initiator, 2);
	assert_int_equal(t->attrs.max_sessions, 64);
	assert_int_equal(t->attrs.nop_interval_ms, 5000);
	assert_int_equal(t->attrs.nop_timeout_ms, 15000);
	assert_false(t->enabled);
	t = btc_state_target(&st, T2);
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->luns[0].lun, 3);
	assert_false(t->luns[0].attached);
	btc_state_free(&st);
	/* enabled: attached, with the LU's size and identity */
	assert_int_equal(btc_target_enable(f->c, T2, true), 0);
	assert_int_equal(btc_dump(f->c, T2, &st), 0);
	assert_true(st.targets[0].luns[0].attached);
	assert_int_equal(st.targets[0].luns[0].blocks, 2048);
	assert_non_null(st.targets[0].luns[0].naa);
	btc_state_free(&st);

	/* one target only; and a missing one */
	f->l.max_msg = BT_MGMT_MSG_MAX;
	assert_int_equal(btc_dump(f->c, T2, &st), 0);
	assert_int_equal(st.ntargets, 1);
	btc_state_free(&st);
	assert_int_equal(btc_dump(f->c, "iqn.2020-01.com.example:none", &st),
			 BT_E_NOT_FOUND);
	assert_int_equal(st.ntargets, 0);
}

/*
 * Paged dump: LUNs from a number on, at most N per target, LUN_NEXT where a
 * page stopped short; the pages put together are the whole list; max 0
 * gives the target without LUNs (and where they start).
 */
static void test_dump_paged(void **state)
{
	struct fx *f = *state;
	struct btc_lun_spec s = { .path = "/dev/vg/v" };
	struct btc_state st;
	uint64_t from = 0, seen = 0;
	unsigned i, pages = 0;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_int_equal(btc_target_add(f->c, T2), 0);
	assert_int_equal(btc_acl_add(f->c, T1, "*", NULL, NULL), 0);
	for (i = 0; i < 2500; i++)   /* LUNs 0, 3, 6, ... */
		assert_int_equal(btc_lun_add(f->c, T1, 3 * (uint64_t)i, &s), 0);
	for (;;) {
		const struct btc_target *t;

		assert_int_equal(btc_dump_page(f->c, T1, from, 1000, &st), 0);
		assert_int_equal(st.ntargets, 1);
		t = &st.targets[0];
		assert_int_equal(t->nacls, 1);      /* the head on every page */
		assert_true(t->nluns <= 1000);
		for (i = 0; i < t->nluns; i++, seen++)
			assert_int_equal(t->luns[i].lun, 3 * seen);
		pages++;
		if (!t->more_luns) {
			btc_state_free(&st);
			break;
		}
		assert_int_equal(t->next_lun, 3 * seen);
		from = t->next_lun;
		btc_state_free(&st);
	}
	assert_int_equal(seen, 2500);
	assert_int_equal(pages, 3);
	/* from a number that is not a LUN: the next one up */
	assert_int_equal(btc_dump_page(f->c, T1, 7, 2, &st), 0);
	assert_int_equal(st.targets[0].nluns, 2);
	assert_int_equal(st.targets[0].luns[0].lun, 9);
	assert_int_equal(st.targets[0].luns[1].lun, 12);
	assert_true(st.targets[0].more_luns);
	assert_int_equal(st.targets[0].next_lun, 15);
	btc_state_free(&st);
	/* every target: heads only, each says where its LUNs start */
	assert_int_equal(btc_dump_page(f->c, NULL, 0, 0, &st), 0);
	assert_int_equal(st.ntargets, 2);
	assert_int_equal(st.targets[0].nluns, 0);
	assert_true(st.targets[0].more_luns);
	assert_int_equal(st.targets[0].next_lun, 0);
	assert_false(st.targets[1].more_luns);   /* T2 has none */
	btc_state_free(&st);
	/* the last page exactly full: no LUN_NEXT */
	assert_int_equal(btc_dump_page(f->c, T1, 3 * 2400, 100, &st), 0);
	assert_int_equal(st.targets[0].nluns, 100);
	assert_false(st.targets[0].more_luns);
	btc_state_free(&st);
}

/*
 * Target attributes by name: the client's one table (btc_attr_parse), used
 * by `bollard target create/set` and by bollardd's in-process runner.
 */
static void test_attr_names(void **state)
{
	static const struct { const char *kv; unsigned attr; uint64_t v; } ok[] = {
		{ "maxSessionsPerInitiator=4", BT_TA_MAX_SESSIONS_PER_INITIATOR, 4 },
		{ "maxPerInitiator=5", BT_TA_MAX_SESSIONS_PER_INITIATOR, 5 },
		{ "max-sessions=0x10", BT_TA_MAX_SESSIONS, 16 },
		{ "nopIntervalMs=3000", BT_TA_NOP_INTERVAL_MS, 3000 },
		{ "nop-timeout-ms=9000", BT_TA_NOP_TIMEOUT_MS, 9000 },
		{ "demoMode=true", BT_TA_DEMO_MODE, 1 },
		{ "demo-mode=0", BT_TA_DEMO_MODE, 0 },
		{ "owner=27707059183120996", BT_TA_OWNER, 27707059183120996ULL },
		{ "aluaGroup=2", BT_TA_ALUA_GROUP, 2 },
		{ "aluaState=standby", BT_TA_ALUA_STATE, BT_ALUA_STANDBY },
		{ "alua-peer-state=activeOptimized", BT_TA_ALUA_PEER_STATE,
		  BT_ALUA_ACTIVE_OPTIMIZED },
	};
	unsigned attr;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		attr = 999;
		assert_int_equal(btc_attr_parse(ok[i].kv, &attr, &v), 0);
		assert_int_equal(attr, ok[i].attr);
		assert_int_equal(v, ok[i].v);
	}
	assert_int_equal(btc_attr_parse("owner", &attr, &v), -EINVAL);
	assert_int_equal(btc_attr_parse("owner=-1", &attr, &v), -EINVAL);
	assert_int_equal(btc_attr_parse("owner=12x", &attr, &v), -EINVAL);
	assert_int_equal(btc_attr_parse("ownerx=1", &attr, &v), -ENOENT);
	assert_int_equal(btc_attr_parse("owne=1", &attr, &v), -ENOENT);
	assert_int_equal(btc_attr_parse("aluaState=sideways", &attr, &v), -ERANGE);
}

/*
 * bollardd's in-process runner (controller/daemon/target_exec.c) takes
 * every attribute the CLI takes, from the same table: create with
 * attributes, set of each kind, a dump shows them; an unknown one is a
 * usage error, not a silent success.
 */
static void test_runner_attrs(void **state)
{
	struct fx *f = *state;
	struct bl_target_runner r = { .conn = f->c };
	struct bl_run_out o;
	struct btc_state st;
	const char *create[] = { "bollard", "target", "create", T1, "owner=7",
				 "maxSessions=9", NULL };
	const char *set[] = { "bollard", "target", "set", T1, "nopIntervalMs=3000",
			      "demoMode=true", "aluaGroup=3", "aluaState=standby", NULL };
	const char *bad[] = { "bollard", "target", "set", T1, "frobnicate=1", NULL };

	assert_int_equal(bl_target_run(&r, create, NULL, 0, &o), 0);
	assert_int_equal(o.status, 0);
	bl_run_out_free(&o);
	assert_int_equal(bl_target_run(&r, set, NULL, 0, &o), 0);
	assert_int_equal(o.status, 0);
	bl_run_out_free(&o);
	assert_int_equal(bl_target_run(&r, bad, NULL, 0, &o), 0);
	assert_int_equal(o.status, 2);
	bl_run_out_free(&o);
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	assert_int_equal(st.targets[0].attrs.owner, 7);
	assert_int_equal(st.targets[0].attrs.max_sessions, 9);
	assert_int_equal(st.targets[0].attrs.nop_interval_ms, 3000);
	assert_true(st.targets[0].attrs.demo_mode);
	assert_int_equal(st.targets[0].attrs.alua_group, 3);
	assert_int_equal(st.targets[0].attrs.alua_state, BT_ALUA_STANDBY);
	btc_state_free(&st);
	assert_int_equal(r.ops, 3);
	r.conn = NULL;      /* the fixture frees it */
	bl_target_runner_close(&r);
}

/*
 * The HA staging flow through the management API: a LUN staged with a
 * backing that cannot be opened yet, enable refused naming the LUN and
 * path, enable once it can, disable detaches and keeps the map.
 */
static void test_enable_attach(void **state)
{
	struct fx *f = *state;
	struct btc_lun_spec a = { .path = "/dev/drbd1", .uid = "vol-a" };
	struct btc_lun_spec b = { .path = "/dev/drbd2" };
	struct btc_state st;
	const struct btc_lun *l;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	f->l.h.fail_path = "/dev/drbd2";        /* Secondary: cannot open */
	assert_int_equal(btc_lun_add(f->c, T1, 0, &a), 0);
	assert_int_equal(btc_lun_add(f->c, T1, 1, &b), 0);
	assert_int_equal(f->l.h.lu_open_tries, 0);
	assert_int_equal(btc_target_enable(f->c, T1, true), BT_E_BACKEND);
	assert_string_equal(btc_errmsg(f->c), T1 ": lun 1: /dev/drbd2: backing "
			    "store could not be opened (target stays disabled)");
	assert_int_equal(f->l.h.lu_live, 0);    /* LUN 0 closed again */
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	assert_false(st.targets[0].enabled);
	assert_int_equal(st.targets[0].nluns, 2);
	l = btc_target_lun(&st.targets[0], 0);
	assert_false(l->attached);
	assert_string_equal(l->path, "/dev/drbd1");
	assert_string_equal(l->uid, "vol-a");
	assert_int_equal(l->blocks, 0);
	assert_null(l->naa);
	assert_null(l->serial);
	l = btc_target_lun(&st.targets[0], 1);
	assert_string_equal(l->uid, T1 ":1");   /* derived, as when attached */
	btc_state_free(&st);

	f->l.h.fail_path = NULL;                /* promoted */
	assert_int_equal(btc_target_enable(f->c, T1, true), 0);
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	assert_true(st.targets[0].enabled);
	assert_true(st.targets[0].luns[0].attached);
	assert_true(st.targets[0].luns[1].attached);
	assert_string_equal(st.targets[0].luns[1].uid, T1 ":1");
	assert_non_null(st.targets[0].luns[1].naa);
	btc_state_free(&st);

	assert_int_equal(btc_target_enable(f->c, T1, false), 0);
	assert_int_equal(f->l.h.lu_live, 0);
	assert_int_equal(btc_dump(f->c, T1, &st), 0);
	assert_int_equal(st.targets[0].nluns, 2);
	assert_false(st.targets[0].luns[0].attached);
	assert_false(st.targets[0].luns[1].attached);
	btc_state_free(&st);
}

static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct btc_session *s;
	size_t n;

	assert_int_equal(btc_target_add(f->c, T1), 0);
	assert_int_equal(btc_target_add(f->c, T2), 0);
	fake_set_sessions(bt_target_find(f->l.e, T1), 3);
	fake_set_sessions(bt_target_find(f->l.e, T2), 1);
	assert_int_equal(btc_sessions(f->c, NULL, &s, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(s[0].target, T1);
	assert_string_equal(s[3].target, T2);
	assert_string_equal(s[0].initiator, I1);
	assert_int_equal(s[2].tsih, 3);
	assert_int_equal(s[2].isid[5], 2);
	assert_string_equal(s[1].peer, "127.0.0.1:50000");
	btc_sessions_free(s, n);
	assert_int_equal(btc_sessions(f->c, T2, &s, &n), 0);
	assert_int_equal(n, 1);
	btc_sessions_free(s, n);
	assert_int_equal(btc_sessions(f->c, "iqn.2020-01.x:none", &s, &n),
			 BT_E_NOT_FOUND);
}

static void test_event_msg(void **state)
{
	struct fx *f = *state;
	struct bt_event ev = { .type = BT_EV_LOGIN, .target = T1,
			       .initiator = I1, .session_id = 42 };
	struct btc_event got;
	unsigned char buf[640];
	int n;

	n = bt_mgmt_event_msg(&ev, BT_MGMT_MSG_TYPE, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(bt_mgmt_event_msg(&ev, 0, buf, 40), -BT_EMSGSIZE);
	n = bt_mgmt_event_msg(&ev, BT_MGMT_MSG_TYPE, buf, sizeof(buf));
	lb_reply(&f->l, buf, (bt_size_t)n);
	assert_int_equal(btc_next_event(f->c, &got, 0), 0);
	assert_int_equal(got.type, BT_EV_LOGIN);
	assert_string_equal(got.target, T1);
	assert_string_equal(got.initiator, I1);
	assert_int_equal(got.session_id, 42);
	assert_string_equal(btc_event_name(got.type), "login");
}

/* ---- raw bytes ---------------------------------------------------------- */

struct raw {
	unsigned char buf[BT_MGMT_MSG_MAX];
	size_t len;
	int nmsgs;
};

static int raw_reply(void *arg, const void *msg, bt_size_t len)
{
	struct raw *r = arg;

	memcpy(r->buf, msg, len);
	r->len = len;
	r->nmsgs++;
	return 0;
}

/* Status of the (single) reply in r. */
static int raw_status(struct raw *r, const char **msg)
{
	const struct bt_nla *tb[BT_A_MAX + 1];

	assert_true(r->len >= BT_MGMT_HDRLEN);
	assert_int_equal(bt_nla_parse(tb, BT_A_MAX, NULL, r->buf + BT_MGMT_HDRLEN,
				      r->len - BT_MGMT_HDRLEN, NULL), 0);
	assert_non_null(tb[BT_A_ERROR]);
	if (msg)
		*msg = bt_nla_str(tb[BT_A_ERRMSG]);
	return (int)bt_nla_u32(tb[BT_A_ERROR], 1);
}

static size_t mkreq(u32 *buf, u8 cmd, u8 version, const void *attrs, size_t alen)
{
	struct bt_nlmsghdr nh = { .len = (u32)(BT_MGMT_HDRLEN + alen),
				  .type = BT_MGMT_MSG_TYPE, .flags = 1, .seq = 9 };
	struct bt_genlhdr gh = { .cmd = cmd, .version = version };

	memcpy(buf, &nh, sizeof(nh));
	memcpy((u8 *)buf + sizeof(nh), &gh, sizeof(gh));
	if (alen)
		memcpy((u8 *)buf + BT_MGMT_HDRLEN, attrs, alen);
	return BT_MGMT_HDRLEN + alen;
}

static void test_raw_malformed(void **state)
{
	struct fx *f = *state;
	struct raw *r = calloc(1, sizeof(*r));
	u32 req[64] = { 0 };
	const char *msg;
	size_t n;
	/* IQN attribute whose length runs past the message */
	const u8 overrun[] = { 0x40, 0x00, BT_A_IQN, 0x00, 'i', 'q', 'n', 0 };
	/* IQN string without its NUL */
	const u8 nonul[] = { 0x08, 0x00, BT_A_IQN, 0x00, 'i', 'q', 'n', '.' };
	/* LUN with 4 bytes instead of 8 */
	const u8 shortlun[] = { 0x08, 0x00, BT_A_LUN, 0x00, 1, 0, 0, 0 };
	/* attribute header with len < 4 */
	const u8 tiny[] = { 0x02, 0x00, BT_A_IQN, 0x00 };

	/* not even a header: nothing sent */
	assert_int_equal(bt_mgmt_handle(f->l.e, req, 10, 0, raw_reply, r), -BT_EPROTO);
	assert_int_equal(r->nmsgs, 0);
	assert_int_equal(bt_mgmt_req_cmd(req, 3), -BT_EPROTO);
	/* header claims more bytes than given */
	n = mkreq(req, BT_CMD_TARGET_ADD, 1, NULL, 0);
	req[0] = 500;
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), -BT_EPROTO);

	n = mkreq(req, BT_CMD_TARGET_ADD, 1, overrun, sizeof(overrun));
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, &msg), -BT_EINVAL);
	assert_non_null(strstr(msg, "malformed"));
	n = mkreq(req, BT_CMD_TARGET_ADD, 1, nonul, sizeof(nonul));
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, NULL), -BT_EINVAL);
	n = mkreq(req, BT_CMD_LUN_DEL, 1, shortlun, sizeof(shortlun));
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, &msg), -BT_EINVAL);
	assert_non_null(strstr(msg, "attribute 7"));
	n = mkreq(req, BT_CMD_TARGET_ADD, 1, tiny, sizeof(tiny));
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, NULL), -BT_EINVAL);
	/* missing required attribute */
	n = mkreq(req, BT_CMD_TARGET_ADD, 1, NULL, 0);
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, &msg), -BT_EINVAL);
	assert_string_equal(msg, "target add: missing IQN");
	/* unknown command, newer version */
	n = mkreq(req, 200, 1, NULL, 0);
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, NULL), -BT_ENOTSUP);
	n = mkreq(req, BT_CMD_DUMP, BT_MGMT_VERSION + 1, NULL, 0);
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, NULL), -BT_ENOTSUP);
	/* the reply echoes seq and cmd */
	n = mkreq(req, BT_CMD_DUMP, 1, NULL, 0);
	assert_int_equal(bt_mgmt_handle(f->l.e, req, n, 0, raw_reply, r), 0);
	assert_int_equal(raw_status(r, NULL), 0);
	assert_int_equal(((struct bt_nlmsghdr *)r->buf)->seq, 9);
	assert_int_equal(((struct bt_nlmsghdr *)r->buf)->len, r->len);
	assert_int_equal(r->buf[sizeof(struct bt_nlmsghdr)], BT_CMD_DUMP);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_target_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lun_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misc_cmds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alua_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_paged, setup, teardown),
		cmocka_unit_test(test_attr_names),
		cmocka_unit_test_setup_teardown(test_runner_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_msg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
