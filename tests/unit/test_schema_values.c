/*
 * test_schema_values.c - the scalar parsers: sizes, IQNs, CIDRs, durations,
 * names, UUIDs, kind names.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "test_schema_util.h"

static void t_size(void **state)
{
	uint64_t b = 0;

	assert_int_equal(bl_parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(bl_parse_size("10G", &b), 0);
	assert_int_equal(b, 10ULL << 30);
	assert_int_equal(bl_parse_size("10Gi", &b), 0);
	assert_int_equal(b, 10ULL << 30);
	assert_int_equal(bl_parse_size("64Ki", &b), 0);
	assert_int_equal(b, 64ULL << 10);
	assert_int_equal(bl_parse_size("512M", &b), 0);
	assert_int_equal(b, 512ULL << 20);
	assert_int_equal(bl_parse_size("2T", &b), 0);
	assert_int_equal(b, 2ULL << 40);
	assert_int_equal(bl_parse_size("0", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(bl_parse_size("18446744073709551615", &b), 0);
	assert_true(b == UINT64_MAX);

	assert_int_equal(bl_parse_size("", &b), -EINVAL);
	assert_int_equal(bl_parse_size("G", &b), -EINVAL);
	assert_int_equal(bl_parse_size("1.5G", &b), -EINVAL);
	assert_int_equal(bl_parse_size("10 G", &b), -EINVAL);
	assert_int_equal(bl_parse_size("10g", &b), -EINVAL);
	assert_int_equal(bl_parse_size("10GB", &b), -EINVAL);
	assert_int_equal(bl_parse_size("-1", &b), -EINVAL);
	assert_int_equal(bl_parse_size("10Gii", &b), -EINVAL);
	assert_int_equal(bl_parse_size("18446744073709551616", &b), -ERANGE);
	assert_int_equal(bl_parse_size("16777216T", &b), -ERANGE);
	assert_int_equal(bl_parse_size(NULL, &b), -EINVAL);
}

static void t_format_size(void **state)
{
	char buf[32];

	bl_format_size(67108864, buf, sizeof(buf));
	assert_string_equal(buf, "64Mi");
	bl_format_size(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1000");
	bl_format_size(10ULL << 40, buf, sizeof(buf));
	assert_string_equal(buf, "10Ti");
	bl_format_size(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1536");
	bl_format_size(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
}

static void t_iqn(void **state)
{
	assert_true(bl_valid_iqn("iqn.2026-11.io.bollard:demo"));
	assert_true(bl_valid_iqn("iqn.1998-01.com.vmware:esx-01-4a5b6c7d"));
	assert_true(bl_valid_iqn("iqn.2003-01.org.linux-iscsi.host.x8664:sn.1"));
	assert_true(bl_valid_iqn("iqn.2026-11.io.bollard"));
	assert_true(bl_valid_iqn("eui.0123456789ABCDEF"));
	assert_true(bl_valid_iqn("naa.52004567BA64678D"));
	assert_true(bl_valid_iqn("naa.6001405abcdef0123456789abcdef012"));

	assert_false(bl_valid_iqn(""));
	assert_false(bl_valid_iqn("iqn."));
	assert_false(bl_valid_iqn("iqn.2026-13.io.bollard:x"));   /* month */
	assert_false(bl_valid_iqn("iqn.2026-00.io.bollard:x"));
	assert_false(bl_valid_iqn("iqn.26-11.io.bollard:x"));
	assert_false(bl_valid_iqn("iqn.2026-11.IO.bollard:x"));   /* case */
	assert_false(bl_valid_iqn("iqn.2026-11.io..bollard:x"));
	assert_false(bl_valid_iqn("iqn.2026-11.io.bollard:"));
	assert_false(bl_valid_iqn("iqn.2026-11.io.bollard:a b"));
	assert_false(bl_valid_iqn("iqn.2026-11:x"));
	assert_false(bl_valid_iqn("IQN.2026-11.io.bollard:x"));
	assert_false(bl_valid_iqn("eui.0123456789ABCDE"));        /* 15 hex */
	assert_false(bl_valid_iqn("eui.0123456789ABCDEG"));
	assert_false(bl_valid_iqn("naa.0123456789ABCDEF0"));
	assert_false(bl_valid_iqn("target1"));
	assert_false(bl_valid_iqn(NULL));
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		memcpy(big, "iqn.2026-11.io.x:", 17);
		big[223] = 0;
		assert_true(bl_valid_iqn(big));
		big[223] = 'a';
		big[224] = 0;
		assert_false(bl_valid_iqn(big));
	}
}

static void t_cidr(void **state)
{
	struct bl_cidr c;

	assert_int_equal(bl_parse_cidr("192.0.2.10/24", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.addr[0], 192);
	assert_int_equal(c.addr[3], 10);
	assert_int_equal(bl_parse_cidr("10.1.2.3", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(bl_parse_cidr("2001:db8::5/64", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 64);
	assert_int_equal(c.addr[0], 0x20);
	assert_int_equal(c.addr[15], 5);
	assert_int_equal(bl_parse_cidr("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(bl_parse_cidr("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 0);

	assert_int_equal(bl_parse_cidr("10.0.0.1/33", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("::1/129", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("10.0.0.1/", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("10.0.0.1/024", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("10.0.0.1/2x", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("10.0.0/8", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("256.0.0.1", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("host.example/24", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("/24", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr("", &c), -EINVAL);
	assert_int_equal(bl_parse_cidr(NULL, &c), -EINVAL);
}

static void t_duration(void **state)
{
	uint64_t ms = 0;

	assert_int_equal(bl_parse_duration("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(bl_parse_duration("10m", &ms), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(bl_parse_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(bl_parse_duration("1h30m", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(bl_parse_duration("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(bl_parse_duration("1m30s250ms", &ms), 0);
	assert_int_equal(ms, 90250);
	assert_int_equal(bl_parse_duration("0s", &ms), 0);
	assert_int_equal(ms, 0);

	assert_int_equal(bl_parse_duration("", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("30", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("1d", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("-5s", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("1.5s", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("s", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("5 s", &ms), -EINVAL);
	assert_int_equal(bl_parse_duration("99999999999999999999h", &ms),
			 -ERANGE);
	assert_int_equal(bl_parse_duration("9999999999999999h", &ms),
			 -ERANGE);
	assert_int_equal(bl_parse_duration(NULL, &ms), -EINVAL);
}

static void t_uid(void **state)
{
	char a[37], b[37];
	int i;

	assert_int_equal(bl_uid_new(a), 0);
	assert_int_equal(bl_uid_new(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');                 /* version 4 */
	assert_non_null(strchr("89ab", a[19]));       /* RFC 4122 variant */
}

static void t_name(void **state)
{
	char big[70];

	assert_true(bl_valid_name("demo"));
	assert_true(bl_valid_name("a"));
	assert_true(bl_valid_name("db-01"));
	assert_true(bl_valid_name("0x"));
	assert_false(bl_valid_name(""));
	assert_false(bl_valid_name("Demo"));
	assert_false(bl_valid_name("-a"));
	assert_false(bl_valid_name("a-"));
	assert_false(bl_valid_name("a.b"));
	assert_false(bl_valid_name("a_b"));
	assert_false(bl_valid_name(NULL));
	memset(big, 'a', sizeof(big));
	big[63] = 0;
	assert_true(bl_valid_name(big));
	big[63] = 'a';
	big[64] = 0;
	assert_false(bl_valid_name(big));
}

static void t_kind_lookup(void **state)
{
	const char *const *names = bl_kind_names();

	assert_string_equal(bl_kind_lookup("target"), "Target");
	assert_string_equal(bl_kind_lookup("targets"), "Target");
	assert_string_equal(bl_kind_lookup("Target"), "Target");
	assert_string_equal(bl_kind_lookup("TGT"), "Target");
	assert_string_equal(bl_kind_lookup("vol"), "Volume");
	assert_string_equal(bl_kind_lookup("clusters"), "Cluster");
	assert_string_equal(bl_kind_lookup("cl"), "Cluster");
	assert_string_equal(bl_kind_lookup("sec"), "Secret");
	assert_string_equal(bl_kind_lookup("ro"), "Rollout");
	assert_string_equal(bl_kind_lookup("Rollouts"), "Rollout");
	assert_null(bl_kind_lookup("pod"));
	assert_null(bl_kind_lookup(""));
	assert_null(bl_kind_lookup(NULL));

	assert_string_equal(names[0], "Cluster");
	assert_string_equal(names[1], "Secret");
	assert_string_equal(names[2], "Volume");
	assert_string_equal(names[3], "Target");
	assert_string_equal(names[4], "Rollout");
	assert_null(names[5]);
	assert_int_equal(bl_kind_rank("Cluster"), 0);
	assert_int_equal(bl_kind_rank("Target"), 3);
	assert_int_equal(bl_kind_rank("target"), -1);
}

static void t_diag(void **state)
{
	struct bl_diag d;
	char *out = NULL;
	size_t n;
	FILE *f;

	bl_diag_init(&d);
	bl_diag_add(&d, "a.yaml", 3, 7, "spec.luns[1].volume", "no Volume %s",
		    "'x'");
	bl_diag_add(&d, "a.yaml", 0, 0, NULL, "no objects");
	bl_diag_add(&d, NULL, 2, 0, "spec", "bad");
	bl_diag_warn(&d, "b.yaml", 1, 1, NULL, "careful");
	assert_int_equal(bl_diag_count(&d), 3);
	f = open_memstream(&out, &n);
	bl_diag_print(&d, f);
	fclose(f);
	assert_string_equal(out,
		"a.yaml:3:7: spec.luns[1].volume: no Volume 'x'\n"
		"a.yaml: no objects\n"
		"<input>:2: spec: bad\n"
		"b.yaml:1:1: warning: careful\n");
	free(out);
	bl_diag_free(&d);
	assert_int_equal(bl_diag_count(&d), 0);
	assert_int_equal(bl_diag_count(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_size),
		cmocka_unit_test(t_format_size),
		cmocka_unit_test(t_iqn),
		cmocka_unit_test(t_cidr),
		cmocka_unit_test(t_duration),
		cmocka_unit_test(t_uid),
		cmocka_unit_test(t_name),
		cmocka_unit_test(t_kind_lookup),
		cmocka_unit_test(t_diag),
	};

	return cmocka_run_group_tests_name("schema_values", tests, NULL, NULL);
}
