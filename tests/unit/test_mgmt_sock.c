/*
 * test_mgmt_sock.c - bollard-target's management socket server
 * (kernel/user/mgmt_sock.c) with the real epoll loop (kernel/user/loop.c)
 * on its own thread and the real client library on the test thread: file
 * mode, replies larger than the socket buffer (a 10,000-LUN dump), event
 * delivery, and a subscriber that stops reading being cut off.
 * The engine (with faked SCSI/iSCSI layers) is only touched on the loop
 * thread, through the socket or from the loop's timer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt_loop.h"
#include "bt_mgmt.h"
#include "mgmt_sock.h"
#include "targetctl/bt_mgmt_client.h"
#include "test_engine_fakes.h"

#define T1 "iqn.2020-01.com.example:t1"

struct th {
	struct fake_host h;           /* first: the fakes cast the host to it */
	struct bt_loop *loop;
	struct bt_engine *e;
	struct bt_mgmt_srv *srv;
	pthread_t thread;
	atomic_int stop;
	atomic_int flood;             /* events to emit from the loop thread */
	atomic_int flood_done;
	char dir[64], path[96];
};

static void fwd_event(void *host, const struct bt_event *ev)
{
	struct th *t = host;

	bt_mgmt_srv_event(t->srv, ev);
}

static const struct bt_host_ops th_ops = { .event = fwd_event };

static void on_timer(void *arg)
{
	struct th *t = arg;
	int n = atomic_exchange(&t->flood, 0);

	while (n-- > 0) {
		struct bt_event ev = { .type = BT_EV_LOGIN, .target = T1,
				       .initiator = "iqn.1994-05.com.redhat:x",
				       .session_id = (u64)n };
		bt_mgmt_srv_event(t->srv, &ev);
		if (n == 0)
			atomic_store(&t->flood_done, 1);
	}
	if (atomic_load(&t->stop))
		bt_loop_stop(t->loop);
}

static void *loop_main(void *arg)
{
	struct th *t = arg;

	bt_loop_run(t->loop);
	return NULL;
}

static int setup(void **state)
{
	struct th *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/test_mgmt_sock.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/run/t.sock", t->dir);
	t->loop = bt_loop_new();
	assert_non_null(t->loop);
	t->e = bt_engine_new(&th_ops, t);
	assert_non_null(t->e);
	t->srv = bt_mgmt_srv_new(t->loop, t->e, t->path);
	assert_non_null(t->srv);
	bt_loop_set_timer(t->loop, 10, on_timer, t);
	assert_int_equal(pthread_create(&t->thread, NULL, loop_main, t), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct th *t = *state;
	char cmd[128];

	atomic_store(&t->stop, 1);
	pthread_join(t->thread, NULL);
	bt_mgmt_srv_free(t->srv);
	assert_int_equal(access(t->path, F_OK), -1);   /* unlinked */
	bt_engine_free(t->e);
	bt_loop_free(t->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void test_mode_and_errors(void **state)
{
	struct th *t = *state;
	struct btc *c;
	struct stat st;

	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(btc_connect_unix(t->path, &c), 0);
	assert_int_equal(btc_target_add(c, T1), 0);
	assert_int_equal(btc_target_add(c, T1), BT_E_EXISTS);
	assert_string_equal(btc_errmsg(c), T1 ": already exists");
	btc_free(c);
}

static void test_big_dump(void **state)
{
	struct th *t = *state;
	struct btc_lun_spec s = { .path = "/dev/mapper/a-rather-long-device-name-for-size" };
	struct btc_state st;
	struct btc *c;
	unsigned i;

	assert_int_equal(btc_connect_unix(t->path, &c), 0);
	assert_int_equal(btc_target_add(c, T1), 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(btc_lun_add(c, T1, i, &s), 0);
	/* ~2 MB of replies: far more than the socket buffer holds, so the
	 * server must queue and flush on writability */
	assert_int_equal(btc_dump(c, NULL, &st), 0);
	assert_int_equal(st.ntargets, 1);
	assert_int_equal(st.targets[0].nluns, 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(st.targets[0].luns[i].lun, i);
	btc_state_free(&st);
	/* the connection still works afterwards */
	assert_int_equal(btc_lun_del(c, T1, 5, false), 0);
	assert_int_equal(btc_dump(c, T1, &st), 0);
	assert_int_equal(st.targets[0].nluns, 9999);
	btc_state_free(&st);
	btc_free(c);
}

static void test_events(void **state)
{
	struct th *t = *state;
	struct btc_lun_spec s = { .path = "/tmp/x.img" };
	struct btc *sub, *c;
	struct btc_event ev;

	assert_int_equal(btc_connect_unix(t->path, &sub), 0);
	assert_int_equal(btc_connect_unix(t->path, &c), 0);
	assert_int_equal(btc_subscribe(sub), 0);
	assert_int_equal(btc_target_add(c, T1), 0);
	assert_int_equal(btc_lun_add(c, T1, 3, &s), 0);
	assert_int_equal(btc_next_event(sub, &ev, 5000), 0);
	assert_int_equal(ev.type, BT_EV_LUN_CHANGE);
	assert_string_equal(ev.target, T1);
	assert_int_equal(ev.lun, 3);
	/* a client that did not subscribe gets nothing */
	assert_int_equal(btc_next_event(c, &ev, 200), -ETIMEDOUT);
	btc_free(c);
	btc_free(sub);
}

static void test_slow_subscriber(void **state)
{
	struct th *t = *state;
	struct btc *sub, *c;
	struct btc_event ev;
	int rc, got = 0;

	assert_int_equal(btc_connect_unix(t->path, &sub), 0);
	assert_int_equal(btc_subscribe(sub), 0);
	/* 20,000 events while the subscriber does not read: the kernel buffer
	 * and our 256 KiB queue fill, and it is disconnected */
	atomic_store(&t->flood, 20000);
	while (!atomic_load(&t->flood_done))
		usleep(10000);
	while ((rc = btc_next_event(sub, &ev, 5000)) == 0)
		got++;
	assert_int_equal(rc, -ECONNRESET);
	assert_true(got > 0 && got < 20000);
	btc_free(sub);
	/* the server is fine */
	assert_int_equal(btc_connect_unix(t->path, &c), 0);
	assert_int_equal(btc_target_add(c, T1), 0);
	btc_free(c);
}

static void test_not_a_socket(void **state)
{
	char dir[] = "/tmp/test_mgmt_sock2.XXXXXX", path[64], cmd[96];
	struct bt_loop *l = bt_loop_new();
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	fclose(f);
	assert_null(bt_mgmt_srv_new(l, NULL, path));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access(path, F_OK), 0);       /* left alone */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	bt_loop_free(l);
	bt_mgmt_srv_free(NULL);
	bt_mgmt_srv_event(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber, setup, teardown),
		cmocka_unit_test(test_not_a_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
