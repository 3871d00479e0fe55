/*
 * test_mgmt_nla.c - the engine's TLV codec (kernel/core/nla.c): round trips,
 * nesting, and hostile input (truncated, malformed, oversized). Bytes are
 * cross-checked against libmnl, the userspace client's encoder/decoder, so
 * both ends agree on the netlink attribute layout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>

#include "nla.h"

enum { A_U8 = 1, A_U16, A_U32, A_U64, A_STR, A_FLAG, A_NEST, A_BIN, A_MAX = A_BIN };

static const struct bt_nla_policy pol[A_MAX + 1] = {
	[A_U8] = { BT_NLA_U8, false, 0 },
	[A_U16] = { BT_NLA_U16, false, 0 },
	[A_U32] = { BT_NLA_U32, false, 0 },
	[A_U64] = { BT_NLA_U64, false, 0 },
	[A_STR] = { BT_NLA_STRING, false, 16 },
	[A_FLAG] = { BT_NLA_FLAG, false, 0 },
	[A_NEST] = { BT_NLA_NESTED, false, 0 },
	[A_BIN] = { BT_NLA_BINARY, true, 6 },
};

static u32 bufw[4096];

static void test_roundtrip(void **state)
{
	struct bt_nlb b = { .buf = (u8 *)bufw, .cap = sizeof(bufw) };
	const struct bt_nla *tb[A_MAX + 1];
	const u8 isid[6] = { 1, 2, 3, 4, 5, 6 };
	unsigned bad = 99;

	(void)state;
	assert_int_equal(bt_nlb_put_u8(&b, A_U8, 0xab), 0);
	assert_int_equal(bt_nlb_put_u16(&b, A_U16, 0xbeef), 0);
	assert_int_equal(bt_nlb_put_u32(&b, A_U32, 0xdeadbeef), 0);
	assert_int_equal(bt_nlb_put_u64(&b, A_U64, 0x0123456789abcdefULL), 0);
	assert_int_equal(bt_nlb_put_str(&b, A_STR, "hello"), 0);
	assert_int_equal(bt_nlb_put_flag(&b, A_FLAG), 0);
	assert_int_equal(bt_nlb_put(&b, A_BIN, isid, 6), 0);
	assert_int_equal(b.len % 4, 0);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, b.buf, b.len, &bad), 0);
	assert_int_equal(bt_nla_u8(tb[A_U8], 0), 0xab);
	assert_int_equal(bt_nla_u16(tb[A_U16], 0), 0xbeef);
	assert_int_equal(bt_nla_u32(tb[A_U32], 0), 0xdeadbeef);
	assert_true(bt_nla_u64(tb[A_U64], 0) == 0x0123456789abcdefULL);
	assert_string_equal(bt_nla_str(tb[A_STR]), "hello");
	assert_non_null(tb[A_FLAG]);
	assert_memory_equal(bt_nla_data(tb[A_BIN]), isid, 6);
	assert_null(tb[A_NEST]);
	/* absent attributes give the default */
	assert_int_equal(bt_nla_u32(NULL, 77), 77);
	assert_null(bt_nla_str(NULL));
}

static void test_nested(void **state)
{
	struct bt_nlb b = { .buf = (u8 *)bufw, .cap = sizeof(bufw) };
	const struct bt_nla *tb[A_MAX + 1], *in[A_MAX + 1], *a;
	long n1, n2;
	bt_size_t off = 0;
	int err, count = 0;

	(void)state;
	n1 = bt_nlb_nest_start(&b, A_NEST);
	assert_true(n1 >= 0);
	assert_int_equal(bt_nlb_put_u32(&b, A_U32, 1), 0);
	n2 = bt_nlb_nest_start(&b, A_NEST);
	assert_int_equal(bt_nlb_put_str(&b, A_STR, "deep"), 0);
	assert_int_equal(bt_nlb_nest_end(&b, n2), 0);
	assert_int_equal(bt_nlb_nest_end(&b, n1), 0);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, b.buf, b.len, NULL), 0);
	assert_non_null(tb[A_NEST]);
	assert_true(tb[A_NEST]->type & BT_NLA_F_NESTED);
	assert_int_equal(bt_nla_parse(in, A_MAX, pol, bt_nla_data(tb[A_NEST]),
				      bt_nla_plen(tb[A_NEST]), NULL), 0);
	assert_int_equal(bt_nla_u32(in[A_U32], 0), 1);
	assert_int_equal(bt_nla_parse(in, A_MAX, pol, bt_nla_data(in[A_NEST]),
				      bt_nla_plen(in[A_NEST]), NULL), 0);
	assert_string_equal(bt_nla_str(in[A_STR]), "deep");
	while ((a = bt_nla_next(b.buf, b.len, &off, &err)))
		count++;
	assert_int_equal(err, 0);
	assert_int_equal(count, 1);
	/* cancel drops the nest entirely */
	n1 = bt_nlb_nest_start(&b, A_NEST);
	bt_nlb_put_u32(&b, A_U32, 5);
	bt_nlb_nest_cancel(&b, n1);
	assert_int_equal(b.len, (bt_size_t)n1);
}

static void test_builder_full(void **state)
{
	u32 small[4];
	struct bt_nlb b = { .buf = (u8 *)small, .cap = 12 };
	char big[70000];

	(void)state;
	assert_int_equal(bt_nlb_put_u32(&b, A_U32, 1), 0);     /* 8 bytes */
	assert_int_equal(bt_nlb_put_u32(&b, A_U32, 2), -BT_EMSGSIZE);
	assert_int_equal(b.len, 8);                             /* untouched */
	assert_int_equal(bt_nlb_put_flag(&b, A_FLAG), 0);
	assert_int_equal(bt_nlb_nest_start(&b, A_NEST), -BT_EMSGSIZE);
	/* a payload that cannot be expressed in a u16 length */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	b.buf = malloc(200000);
	b.cap = 200000;
	b.len = 0;
	assert_int_equal(bt_nlb_put_str(&b, A_STR, big), -BT_EMSGSIZE);
	/* a nest that grows past 65535 bytes cannot be closed */
	long n = bt_nlb_nest_start(&b, A_NEST);
	for (int i = 0; i < 20; i++)
		assert_int_equal(bt_nlb_put(&b, A_BIN, big, 4000), 0);
	assert_int_equal(bt_nlb_nest_end(&b, n), -BT_EMSGSIZE);
	free(b.buf);
}

static void test_malformed(void **state)
{
	const struct bt_nla *tb[A_MAX + 1];
	unsigned bad;
	u32 w[8];
	u8 *p = (u8 *)w;

	(void)state;
	/* len < header */
	memset(w, 0, sizeof(w));
	p[0] = 2; p[2] = A_U32;
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 8, NULL), -BT_EINVAL);
	/* len past the buffer */
	p[0] = 40;
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 32, NULL), -BT_EINVAL);
	/* truncated header */
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 3, NULL), -BT_EINVAL);
	/* wrong payload sizes for each kind */
	struct { u16 type; u16 plen; } cases[] = {
		{ A_U8, 2 }, { A_U16, 1 }, { A_U32, 8 }, { A_U64, 4 },
		{ A_FLAG, 4 }, { A_BIN, 5 }, { A_STR, 0 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(w, 'a', sizeof(w));
		p[0] = (u8)(4 + cases[i].plen); p[1] = 0;
		p[2] = (u8)cases[i].type; p[3] = 0;
		bad = 0;
		assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, BT_NLA_ALIGN(4 + cases[i].plen),
					      &bad), -BT_EINVAL);
		assert_int_equal(bad, cases[i].type);
	}
	/* strings: no NUL, interior NUL, too long */
	memcpy(p, "\x0c\x00\x05\x00" "abcdefgh", 12);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 12, NULL), -BT_EINVAL);
	memcpy(p, "\x0c\x00\x05\x00" "abc\0efg\0", 12);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 12, NULL), -BT_EINVAL);
	memcpy(p, "\x18\x00\x05\x00" "abcdefghijklmnopqrs\0", 24);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 24, NULL), -BT_EINVAL);
	/* nest whose inside is broken */
	memset(w, 0, sizeof(w));
	p[0] = 12; p[2] = A_NEST; p[3] = 0x80;
	p[4] = 40; p[6] = A_U32;
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 12, &bad), -BT_EINVAL);
	assert_int_equal(bad, A_NEST);
	/* unknown types and type 0 are skipped, not errors */
	memset(w, 0, sizeof(w));
	p[0] = 8; p[2] = 200;
	p[8] = 4; p[10] = 0;
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 12, NULL), 0);
	/* last attribute without its padding is accepted */
	memset(w, 0, sizeof(w));
	p[0] = 5; p[2] = A_U8; p[4] = 9;
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, w, 5, NULL), 0);
	assert_int_equal(bt_nla_u8(tb[A_U8], 0), 9);
	/* getters never read past a short attribute (no policy) */
	p[0] = 5; p[2] = A_U64;
	assert_int_equal(bt_nla_parse(tb, A_MAX, NULL, w, 8, NULL), 0);
	assert_true(bt_nla_u64(tb[A_U64], 42) == 42);
}

/* Every prefix of a valid buffer parses or fails cleanly. */
static void test_truncations(void **state)
{
	struct bt_nlb b = { .buf = (u8 *)bufw, .cap = sizeof(bufw) };
	const struct bt_nla *tb[A_MAX + 1];
	long n;
	bt_size_t cut;

	(void)state;
	bt_nlb_put_u64(&b, A_U64, 5);
	n = bt_nlb_nest_start(&b, A_NEST);
	bt_nlb_put_str(&b, A_STR, "abc");
	bt_nlb_nest_end(&b, n);
	bt_nlb_put_str(&b, A_STR, "xyz");
	for (cut = 0; cut <= b.len; cut++) {
		u8 *copy = malloc(cut ? cut : 1);   /* exact size: ASan sees overreads */
		int rc;

		memcpy(copy, b.buf, cut);
		rc = bt_nla_parse(tb, A_MAX, pol, copy, cut, NULL);
		assert_true(rc == 0 || rc == -BT_EINVAL);
		if (cut == b.len)
			assert_int_equal(rc, 0);
		free(copy);
	}
}

/* Our bytes parse with libmnl, libmnl's bytes parse with us. */
static int mnl_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) <= A_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void test_libmnl_compat(void **state)
{
	char mbuf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	const struct nlattr *mtb[A_MAX + 1] = { 0 };
	const struct bt_nla *tb[A_MAX + 1], *in[A_MAX + 1];
	struct bt_nlb b = { .buf = (u8 *)bufw, .cap = sizeof(bufw) };
	long n;

	(void)state;
	/* libmnl -> nla */
	nlh = mnl_nlmsg_put_header(mbuf);
	mnl_attr_put_u64(nlh, A_U64, 99);
	mnl_attr_put_strz(nlh, A_STR, "mnl");
	nest = mnl_attr_nest_start(nlh, A_NEST);
	mnl_attr_put_u16(nlh, A_U16, 7);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(bt_nla_parse(tb, A_MAX, pol, mnl_nlmsg_get_payload(nlh),
				      mnl_nlmsg_get_payload_len(nlh), NULL), 0);
	assert_true(bt_nla_u64(tb[A_U64], 0) == 99);
	assert_string_equal(bt_nla_str(tb[A_STR]), "mnl");
	assert_int_equal(bt_nla_parse(in, A_MAX, pol, bt_nla_data(tb[A_NEST]),
				      bt_nla_plen(tb[A_NEST]), NULL), 0);
	assert_int_equal(bt_nla_u16(in[A_U16], 0), 7);

	/* nla -> libmnl */
	bt_nlb_put_u32(&b, A_U32, 1234);
	n = bt_nlb_nest_start(&b, A_NEST);
	bt_nlb_put_str(&b, A_STR, "ours");
	bt_nlb_nest_end(&b, n);
	nlh = mnl_nlmsg_put_header(mbuf);
	memcpy(mnl_nlmsg_put_extra_header(nlh, b.len), b.buf, b.len);
	assert_true(mnl_attr_parse(nlh, 0, mnl_cb, mtb) >= 0);
	assert_int_equal(mnl_attr_get_u32(mtb[A_U32]), 1234);
	assert_int_equal(mnl_attr_validate(mtb[A_NEST], MNL_TYPE_NESTED), 0);
	{
		const struct nlattr *ne = NULL, *x;

		mnl_attr_for_each(x, nlh, 0)
			if (mnl_attr_get_type(x) == A_NEST)
				ne = x;
		assert_non_null(ne);
		memset(mtb, 0, sizeof(mtb));
		assert_true(mnl_attr_parse_nested(ne, mnl_cb, mtb) >= 0);
		assert_string_equal(mnl_attr_get_str(mtb[A_STR]), "ours");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_builder_full),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_libmnl_compat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
