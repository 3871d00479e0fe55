/*
 * test_iscsi_codec.c - unit tests for the pure pieces of the iSCSI
 * transport: CRC32C digests, MD5 and CHAP responses, text key=value parsing
 * and building, value decoding, and operational key negotiation key by key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi_int.h"
#include "md5.h"

/* ---- bt_os.h stand-ins ---------------------------------------------------- */
void *bt_alloc(bt_size_t n) { return malloc(n ? n : 1); }
void *bt_zalloc(bt_size_t n) { return calloc(1, n ? n : 1); }
void *bt_realloc(void *p, bt_size_t n) { return realloc(p, n ? n : 1); }
void bt_free(void *p) { free(p); }
int bt_snprintf(char *buf, bt_size_t n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return rc;
}
void bt_log(int level, const char *fmt, ...) { (void)level; (void)fmt; }

/* ---- CRC32C ---------------------------------------------------------------- */

static void test_crc32c_vectors(void **state)
{
	struct bt_crc32c *tab = malloc(sizeof(*tab));
	u8 buf[64];
	unsigned i;

	(void)state;
	bt_crc32c_init(tab);
	/* The check value of the Castagnoli CRC. */
	assert_int_equal(bt_crc32c(tab, "123456789", 9), 0xe3069283);
	/* RFC 3720 appendix B.4 vectors. */
	memset(buf, 0, 32);
	assert_int_equal(bt_crc32c(tab, buf, 32), 0x8a9136aa);
	memset(buf, 0xff, 32);
	assert_int_equal(bt_crc32c(tab, buf, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = (u8)i;
	assert_int_equal(bt_crc32c(tab, buf, 32), 0x46dd794e);
	/* Unaligned start and split updates give the same answer. */
	for (i = 0; i < 40; i++)
		buf[i + 1] = (u8)(i * 7 + 3);
	{
		u32 whole = bt_crc32c(tab, buf + 1, 40);
		u32 c = bt_crc32c_update(tab, BT_CRC32C_SEED, buf + 1, 13);

		c = bt_crc32c_update(tab, c, buf + 14, 27);
		assert_int_equal(bt_crc32c_final(c), whole);
	}
	free(tab);
}

/* ---- MD5 and CHAP ---------------------------------------------------------- */

static void md5_hex(const char *s, char out[33])
{
	struct bt_md5 m;
	u8 d[16];
	unsigned i;

	bt_md5_init(&m);
	bt_md5_update(&m, s, strlen(s));
	bt_md5_final(&m, d);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_md5_vectors(void **state)
{
	char h[33];

	(void)state;
	/* RFC 1321 appendix A.5 */
	md5_hex("", h);
	assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
	md5_hex("abc", h);
	assert_string_equal(h, "900150983cd24fb0d6963f7d28e17f72");
	md5_hex("message digest", h);
	assert_string_equal(h, "f96b697d7cb7938d525a2f31aaf161d0");
	md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890", h);
	assert_string_equal(h, "57edf4a22be3c955ac49da2e2107b67a");
}

static void test_chap_response(void **state)
{
	/* MD5(0x2a || "alicesecret0123" || 00 01 .. 0f), computed independently. */
	static const u8 want[16] = {
		0xfe, 0x6f, 0xcf, 0xd5, 0x5b, 0x12, 0x33, 0x70,
		0xc5, 0xdf, 0x40, 0x5e, 0xb3, 0x56, 0x1a, 0x86,
	};
	u8 chal[16], out[16], bad[16];
	unsigned i;

	(void)state;
	for (i = 0; i < 16; i++)
		chal[i] = (u8)i;
	iscsi_chap_response(0x2a, "alicesecret0123", chal, 16, out);
	assert_memory_equal(out, want, 16);
	assert_true(iscsi_chap_verify(0x2a, "alicesecret0123", chal, 16, want, 16));
	assert_false(iscsi_chap_verify(0x2b, "alicesecret0123", chal, 16, want, 16));
	assert_false(iscsi_chap_verify(0x2a, "alicesecret0124", chal, 16, want, 16));
	memcpy(bad, want, 16);
	bad[15] ^= 1;
	assert_false(iscsi_chap_verify(0x2a, "alicesecret0123", chal, 16, bad, 16));
	assert_false(iscsi_chap_verify(0x2a, "alicesecret0123", chal, 16, want, 15));
}

/* ---- values ------------------------------------------------------------------ */

static void test_values(void **state)
{
	u8 bin[32];
	char hex[80];
	u32 n;
	u64 v;
	bool b;

	(void)state;
	assert_int_equal(iscsi_val_num("262144", 16777215, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(iscsi_val_num("0x10", 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_not_equal(iscsi_val_num("16777216", 16777215, &v), 0);
	assert_int_not_equal(iscsi_val_num("", 10, &v), 0);
	assert_int_not_equal(iscsi_val_num("12a", 1000, &v), 0);
	assert_int_not_equal(iscsi_val_num("99999999999999999999999", ~0ull, &v), 0);
	assert_int_equal(iscsi_val_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(iscsi_val_bool("No", &b), 0);
	assert_false(b);
	assert_int_not_equal(iscsi_val_bool("yes", &b), 0);

	assert_int_equal(iscsi_val_bin("0x00ff10", bin, sizeof(bin), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(bin[1], 0xff);
	assert_int_equal(iscsi_val_bin("0xabc", bin, sizeof(bin), &n), 0);
	assert_int_equal(n, 2);                   /* odd digits: leading 0   */
	assert_int_equal(bin[0], 0x0a);
	assert_int_equal(iscsi_val_bin("0bAQID", bin, sizeof(bin), &n), 0);
	assert_int_equal(n, 3);                   /* base64 of 01 02 03      */
	assert_int_equal(bin[2], 3);
	assert_int_not_equal(iscsi_val_bin("0xzz", bin, sizeof(bin), &n), 0);
	assert_int_not_equal(iscsi_val_bin("1234", bin, sizeof(bin), &n), 0);
	assert_int_not_equal(iscsi_val_bin("0x0102", bin, 1, &n), 0);  /* too long */
	iscsi_val_hex((const u8 *)"\x01\xab", 2, hex);
	assert_string_equal(hex, "0x01ab");
}

/* ---- text ------------------------------------------------------------------ */

struct kv_seen {
	char keys[8][64];
	char vals[8][256];
	int n;
};

static int kv_cb(void *arg, const char *k, const char *v)
{
	struct kv_seen *s = arg;

	if (s->n >= 8)
		return -1;
	snprintf(s->keys[s->n], 64, "%s", k);
	snprintf(s->vals[s->n], 256, "%s", v);
	s->n++;
	return 0;
}

static int stop_cb(void *arg, const char *k, const char *v)
{
	(void)k;
	(void)v;
	++*(int *)arg;
	return -7;
}

static void test_text_parse(void **state)
{
	static const char ok[] = "InitiatorName=iqn.x:y\0SessionType=Normal\0X-a.b=\0";
	struct kv_seen s = { 0 };
	char big[ISCSI_VALUE_MAX + 16];

	(void)state;
	assert_int_equal(iscsi_text_parse((const u8 *)ok, sizeof(ok) - 1, kv_cb, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "InitiatorName");
	assert_string_equal(s.vals[0], "iqn.x:y");
	assert_string_equal(s.vals[2], "");
	/* No final NUL: tolerated. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(iscsi_text_parse((const u8 *)"A=1\0B=2", 7, kv_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.vals[1], "2");
	/* Malformed: no '=', empty key, bad key characters, long key/value. */
	memset(&s, 0, sizeof(s));
	assert_int_not_equal(iscsi_text_parse((const u8 *)"A\0", 2, kv_cb, &s), 0);
	assert_int_not_equal(iscsi_text_parse((const u8 *)"=1\0", 3, kv_cb, &s), 0);
	assert_int_not_equal(iscsi_text_parse((const u8 *)"A B=1\0", 6, kv_cb, &s), 0);
	memset(big, 'K', 70);
	strcpy(big + 70, "=1");
	assert_int_not_equal(iscsi_text_parse((const u8 *)big, 72, kv_cb, &s), 0);
	memcpy(big, "K=", 2);
	memset(big + 2, 'v', ISCSI_VALUE_MAX + 1);
	assert_int_not_equal(iscsi_text_parse((const u8 *)big, ISCSI_VALUE_MAX + 3,
					      kv_cb, &s), 0);
	/* The callback's error stops the walk and is returned. */
	{
		int calls = 0;

		assert_int_equal(iscsi_text_parse((const u8 *)"A=1\0B=2\0", 8,
						  stop_cb, &calls), -7);
		assert_int_equal(calls, 1);
	}
}

static void test_text_build(void **state)
{
	struct iscsi_text_out o = { 0 };

	(void)state;
	iscsi_text_add(&o, "TargetName", "iqn.t:1");
	iscsi_text_addu(&o, "MaxBurstLength", 262144);
	assert_false(o.overflow);
	assert_int_equal(o.len, strlen("TargetName=iqn.t:1") + 1 +
			 strlen("MaxBurstLength=262144") + 1);
	assert_memory_equal(o.buf, "TargetName=iqn.t:1\0MaxBurstLength=262144\0", o.len);
	iscsi_text_free(&o);
	assert_null(o.buf);
}

/* ---- negotiation -------------------------------------------------------------- */

static const char *neg1(struct iscsi_neg *n, const char *k, const char *v,
			enum iscsi_neg_rc want_rc)
{
	static char answer[512];
	struct iscsi_text_out o = { 0 };
	enum iscsi_neg_rc rc = iscsi_neg_key(n, k, v, &o);

	assert_int_equal(rc, want_rc);
	answer[0] = 0;
	if (o.len) {
		memcpy(answer, o.buf, o.len < sizeof(answer) ? o.len : sizeof(answer) - 1);
		answer[o.len < sizeof(answer) ? o.len : sizeof(answer) - 1] = 0;
	}
	iscsi_text_free(&o);
	return answer;              /* first pair only (NUL separated)      */
}

static void test_neg_digests(void **state)
{
	struct iscsi_neg n;

	(void)state;
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "HeaderDigest", "CRC32C,None", ISCSI_NEG_OK),
			    "HeaderDigest=CRC32C");
	assert_true(n.p.hdigest);
	assert_string_equal(neg1(&n, "DataDigest", "None,CRC32C", ISCSI_NEG_OK),
			    "DataDigest=None");
	assert_false(n.p.ddigest);
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "HeaderDigest", "MD5", ISCSI_NEG_OK),
			    "HeaderDigest=Reject");
	assert_false(n.p.hdigest);
	/* The same key twice is a protocol error. */
	assert_int_equal(iscsi_neg_key(&n, "HeaderDigest", "None", &(struct iscsi_text_out){ 0 }),
			 ISCSI_NEG_FAIL);
}

static void test_neg_numbers(void **state)
{
	struct iscsi_neg n;
	struct iscsi_text_out o = { 0 };

	(void)state;
	iscsi_neg_init(&n, false);
	/* MaxRecvDataSegmentLength is declarative: we declare ours once. */
	assert_string_equal(neg1(&n, "MaxRecvDataSegmentLength", "8192", ISCSI_NEG_OK),
			    "MaxRecvDataSegmentLength=262144");
	assert_int_equal(n.p.max_xmit_dsl, 8192);
	neg1(&n, "MaxRecvDataSegmentLength", "4096", ISCSI_NEG_FAIL);   /* twice */
	iscsi_neg_init(&n, false);
	neg1(&n, "MaxRecvDataSegmentLength", "100", ISCSI_NEG_FAIL);    /* < 512 */
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "MaxBurstLength", "16777215", ISCSI_NEG_OK),
			    "MaxBurstLength=16776192");                  /* Min */
	assert_string_equal(neg1(&n, "FirstBurstLength", "65536", ISCSI_NEG_OK),
			    "FirstBurstLength=65536");
	assert_string_equal(neg1(&n, "MaxOutstandingR2T", "32", ISCSI_NEG_OK),
			    "MaxOutstandingR2T=8");
	assert_string_equal(neg1(&n, "DefaultTime2Wait", "0", ISCSI_NEG_OK),
			    "DefaultTime2Wait=2");                       /* Max */
	assert_string_equal(neg1(&n, "DefaultTime2Retain", "3600", ISCSI_NEG_OK),
			    "DefaultTime2Retain=20");                    /* Min */
	assert_string_equal(neg1(&n, "ErrorRecoveryLevel", "2", ISCSI_NEG_OK),
			    "ErrorRecoveryLevel=0");
	assert_string_equal(neg1(&n, "MaxConnections", "8", ISCSI_NEG_OK),
			    "MaxConnections=1");
	assert_string_equal(neg1(&n, "MaxConnections", "1", ISCSI_NEG_FAIL), "");
	iscsi_neg_finish(&n, &o);
	assert_int_equal(o.len, strlen("MaxRecvDataSegmentLength=262144") + 1);
	iscsi_text_free(&o);
	/* FirstBurstLength never exceeds MaxBurstLength. */
	iscsi_neg_init(&n, false);
	neg1(&n, "MaxBurstLength", "4096", ISCSI_NEG_OK);
	neg1(&n, "FirstBurstLength", "65536", ISCSI_NEG_OK);
	iscsi_neg_finish(&n, &o);
	iscsi_text_free(&o);
	assert_int_equal(n.p.first_burst, 4096);
	/* Out of range or malformed: Reject, default kept. */
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "MaxBurstLength", "12x", ISCSI_NEG_OK),
			    "MaxBurstLength=Reject");
	assert_int_equal(n.p.max_burst, 262144);
	assert_string_equal(neg1(&n, "MaxOutstandingR2T", "0", ISCSI_NEG_OK),
			    "MaxOutstandingR2T=Reject");
}

static void test_neg_booleans(void **state)
{
	struct iscsi_neg n;

	(void)state;
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "InitialR2T", "No", ISCSI_NEG_OK), "InitialR2T=No");
	assert_false(n.p.initial_r2t);
	assert_string_equal(neg1(&n, "ImmediateData", "No", ISCSI_NEG_OK),
			    "ImmediateData=No");
	assert_false(n.p.immediate_data);
	assert_string_equal(neg1(&n, "DataPDUInOrder", "No", ISCSI_NEG_OK),
			    "DataPDUInOrder=Yes");                       /* Or */
	assert_string_equal(neg1(&n, "DataSequenceInOrder", "Yes", ISCSI_NEG_OK),
			    "DataSequenceInOrder=Yes");
	assert_string_equal(neg1(&n, "IFMarker", "Yes", ISCSI_NEG_OK), "IFMarker=No");
	assert_string_equal(neg1(&n, "OFMarker", "No", ISCSI_NEG_OK), "OFMarker=No");
	assert_string_equal(neg1(&n, "OFMarkInt", "1~65535", ISCSI_NEG_OK),
			    "OFMarkInt=Irrelevant");
	assert_string_equal(neg1(&n, "ImmediateData", "Maybe", ISCSI_NEG_FAIL), "");
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "ImmediateData", "Maybe", ISCSI_NEG_OK),
			    "ImmediateData=Reject");
	assert_true(n.p.immediate_data);
	iscsi_neg_init(&n, false);
	assert_string_equal(neg1(&n, "InitialR2T", "Yes", ISCSI_NEG_OK), "InitialR2T=Yes");
	assert_true(n.p.initial_r2t);
}

static void test_neg_discovery_and_unknown(void **state)
{
	struct iscsi_neg n;

	(void)state;
	iscsi_neg_init(&n, true);
	assert_string_equal(neg1(&n, "MaxBurstLength", "65536", ISCSI_NEG_OK),
			    "MaxBurstLength=Irrelevant");
	assert_string_equal(neg1(&n, "ImmediateData", "Yes", ISCSI_NEG_OK),
			    "ImmediateData=Irrelevant");
	assert_string_equal(neg1(&n, "HeaderDigest", "None", ISCSI_NEG_OK),
			    "HeaderDigest=None");
	neg1(&n, "X-com.example.Foo", "1", ISCSI_NEG_UNKNOWN);
	neg1(&n, "NoSuchKey", "1", ISCSI_NEG_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_md5_vectors),
		cmocka_unit_test(test_chap_response),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_text_parse),
		cmocka_unit_test(test_text_build),
		cmocka_unit_test(test_neg_digests),
		cmocka_unit_test(test_neg_numbers),
		cmocka_unit_test(test_neg_booleans),
		cmocka_unit_test(test_neg_discovery_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
