/*
 * test_etcd_auth.c - user/password auth against a real etcd with auth
 * enabled (users and roles set up with Debian's etcdctl): good password,
 * wrong password and no user (BL_E_AUTH), per-prefix permissions, a watch
 * refused for lack of permission, and the token fetched again after an
 * etcd restart (simple tokens live only in memory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bl_err.h"
#include "bl_etcd.h"
#include "etcd_proc.h"

struct fx {
	struct etcd_proc ep;
};

#define CTL(f, ...) ctl((f), (const char *const[]){ __VA_ARGS__, NULL })

static int ctl(struct fx *f, const char *const argv[])
{
	int rc = etcd_proc_ctl(&f->ep, argv);

	if (rc != 0)
		fprintf(stderr, "etcdctl %s %s: rc %d (see %s/etcdctl.log)\n",
			argv[0], argv[1], rc, f->ep.dir);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int rc;

	rc = etcd_proc_start(&f->ep, NULL);
	if (rc < 0) {
		fprintf(stderr, "cannot start etcd: %s\n", strerror(-rc));
		goto out_fail;
	}
	/* root (needed to enable auth) and alice, who may use /a/ only. */
	if (CTL(f, "user", "add", "root:rootpw", "--interactive=false") ||
	    CTL(f, "user", "grant-role", "root", "root") ||
	    CTL(f, "user", "add", "alice:apw", "--interactive=false") ||
	    CTL(f, "role", "add", "rw") ||
	    CTL(f, "role", "grant-permission", "rw", "readwrite", "/a/",
		"--prefix=true") ||
	    CTL(f, "user", "grant-role", "alice", "rw") ||
	    CTL(f, "auth", "enable"))
		goto out_fail;
	*state = f;
	return 0;
out_fail:
	etcd_proc_cleanup(&f->ep);
	free(f);
	return -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)                       /* setup failed */
		return 0;
	etcd_proc_cleanup(&f->ep);
	free(f);
	return 0;
}

static struct bl_etcd *open_as(struct fx *f, const char *user, const char *pw)
{
	struct bl_etcd_opts o = { .endpoints = f->ep.url, .user = user,
				  .password = pw, .timeout_ms = 3000 };
	struct bl_etcd *e = NULL;

	assert_int_equal(bl_etcd_open(&o, &e), 0);
	return e;
}

#define OK(h, call) do { \
	int rc_ = (call); \
	if (rc_ != 0) \
		fail_msg("%s = %d %s (%s)", #call, rc_, bl_strerror(rc_), \
			 bl_etcd_errmsg(h)); \
	} while (0)

static void test_auth_root(void **state)
{
	struct fx *f = *state;
	struct bl_etcd *e = open_as(f, "root", "rootpw");
	struct bl_kvs kvs = { 0 };

	OK(e, bl_etcd_put(e, "/x", "1", 1, 0, NULL));
	OK(e, bl_etcd_get(e, "/x", false, 0, 0, false, &kvs));
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].value, "1");
	bl_kvs_free(&kvs);
	bl_etcd_close(e);
}

static void test_auth_refused(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e;

	e = open_as(f, "root", "wrong");
	assert_int_equal(bl_etcd_put(e, "/x", "2", 1, 0, NULL), BL_E_AUTH);
	assert_non_null(strstr(bl_etcd_errmsg(e), "authentication failed"));
	assert_int_equal(bl_etcd_get(e, "/x", false, 0, 0, false, &kvs), BL_E_AUTH);
	bl_etcd_close(e);

	e = open_as(f, "nobody", "x");
	assert_int_equal(bl_etcd_put(e, "/x", "2", 1, 0, NULL), BL_E_AUTH);
	bl_etcd_close(e);

	/* No credentials at all on an auth-enabled etcd. */
	e = open_as(f, NULL, NULL);
	assert_int_equal(bl_etcd_put(e, "/x", "2", 1, 0, NULL), BL_E_AUTH);
	bl_etcd_close(e);
}

static void test_auth_permissions(void **state)
{
	struct fx *f = *state;
	struct bl_etcd *e = open_as(f, "alice", "apw");

	OK(e, bl_etcd_put(e, "/a/x", "ok", 2, 0, NULL));
	assert_int_equal(bl_etcd_put(e, "/b/x", "no", 2, 0, NULL), BL_E_AUTH);
	assert_non_null(strstr(bl_etcd_errmsg(e), "permission denied"));
	bl_etcd_close(e);
}

struct rec {
	int n;
	int err;
	char last[32];
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct rec *r = arg;

	if (err) {
		r->err = err;
		return;
	}
	r->n += (int)n;
	snprintf(r->last, sizeof(r->last), "%s", ev[n - 1].kv.key);
}

static void test_auth_watch(void **state)
{
	struct fx *f = *state;
	struct bl_etcd *e = open_as(f, "alice", "apw");
	struct bl_etcd *root = open_as(f, "root", "rootpw");
	struct rec ok = { 0 }, refused = { 0 };
	struct bl_watch *w1, *w2;
	time_t end;

	OK(e, bl_etcd_watch(e, "/a/", true, 0, on_ev, NULL, &ok, &w1));
	OK(e, bl_etcd_watch(e, "/b/", true, 0, on_ev, NULL, &refused, &w2));
	/* Let the allowed watch be registered before writing. */
	end = time(NULL) + 5;
	while (!refused.err && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
	assert_int_equal(refused.err, BL_E_AUTH);
	OK(root, bl_etcd_put(root, "/a/w", "1", 1, 0, NULL));
	end = time(NULL) + 5;
	while (!ok.n && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
	assert_int_equal(ok.n, 1);
	assert_int_equal(ok.err, 0);
	assert_string_equal(ok.last, "/a/w");
	bl_etcd_watch_cancel(w1);
	bl_etcd_watch_cancel(w2);
	bl_etcd_close(e);
	bl_etcd_close(root);
}

/* etcd forgets simple tokens on restart: the client must log in again. */
static void test_auth_after_restart(void **state)
{
	struct fx *f = *state;
	struct bl_etcd *e = open_as(f, "root", "rootpw");
	struct rec r = { 0 };
	struct bl_watch *w;
	time_t end;

	OK(e, bl_etcd_put(e, "/r/1", "1", 1, 0, NULL));
	OK(e, bl_etcd_watch(e, "/r/", true, 0, on_ev, NULL, &r, &w));
	bl_etcd_dispatch(e, 300);
	assert_int_equal(etcd_proc_restart(&f->ep), 0);
	OK(e, bl_etcd_put(e, "/r/2", "2", 1, 0, NULL));
	end = time(NULL) + 10;
	while (!r.n && !r.err && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.last, "/r/2");
	bl_etcd_watch_cancel(w);
	bl_etcd_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_root),
		cmocka_unit_test(test_auth_refused),
		cmocka_unit_test(test_auth_permissions),
		cmocka_unit_test(test_auth_watch),
		cmocka_unit_test(test_auth_after_restart),
	};
	return cmocka_run_group_tests_name("etcd_auth", tests, setup, teardown);
}
