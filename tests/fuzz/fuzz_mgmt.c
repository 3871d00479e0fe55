/*
 * fuzz_mgmt.c - libFuzzer target over management request bytes.
 *
 * Each input is a stream of request messages (split by their nlmsg len, the
 * last one taking what is left) fed to bt_mgmt_handle() on a fresh engine
 * that already has a target with a LUN, an ACL and a session, so deletes,
 * IN_USE paths and dumps have something to chew on. Every reply must be a
 * well-formed message within the size limit whose attributes parse.
 *
 *   make fuzz && build/fuzz/fuzz_mgmt -max_total_time=60 tests/fuzz/corpus/mgmt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_mgmt.h"
#include "engine_int.h"
#include "nla.h"
#include "test_engine_fakes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSG BT_MGMT_MSG_MIN

static int check_reply(void *arg, const void *msg, bt_size_t len)
{
	const struct bt_nla *tb[BT_A_MAX + 1];
	struct bt_nlmsghdr nh;
	int *nreplies = arg;

	if (len < BT_MGMT_HDRLEN || len > MAX_MSG)
		abort();
	memcpy(&nh, msg, sizeof(nh));
	if (nh.len != len)
		abort();
	if (bt_nla_parse(tb, BT_A_MAX, NULL, (const u8 *)msg + BT_MGMT_HDRLEN,
			 len - BT_MGMT_HDRLEN, NULL) < 0)
		abort();
	(*nreplies)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bt_lun_cfg cfg = { .path = "/tmp/fuzz.img" };
	const char *t1 = "iqn.2020-01.com.example:t1";
	struct fake_host h = { 0 };
	struct bt_engine *e = bt_engine_new(&fake_ops, &h);
	u32 *buf;

	if (!e)
		return 0;
	bt_target_add(e, t1);
	bt_lun_add(e, t1, 0, &cfg);
	bt_acl_add(e, t1, "*", NULL);
	bt_target_enable(e, t1, true);
	fake_set_sessions(bt_target_find(e, t1), size & 1);

	buf = malloc(size + 4);
	while (size >= BT_MGMT_HDRLEN) {
		struct bt_nlmsghdr nh;
		size_t n;
		int nreplies = 0, rc;

		memcpy(&nh, data, sizeof(nh));
		n = nh.len >= BT_MGMT_HDRLEN && nh.len <= size ? nh.len : size;
		memcpy(buf, data, n);
		rc = bt_mgmt_handle(e, buf, n, MAX_MSG, check_reply, &nreplies);
		/* A request with a sane header always gets a reply. */
		if (rc == 0 && nreplies == 0)
			abort();
		data += n;
		size -= n;
	}
	free(buf);
	bt_engine_free(e);
	if (h.lu_live)
		abort();  /* an LU leaked */
	return 0;
}
