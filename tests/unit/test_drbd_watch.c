/*
 * test_drbd_watch - controller/targetctl/drbd_watch.c: DRBD 8.4's
 * /proc/drbd as `bollard target enable --wait` reads it (a minor's line
 * among detail lines, resync bars, other minors and garbage), the verdict
 * per state, /dev/drbdN names, and the grace on a logical clock (no real
 * time is measured here).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "targetctl/drbd_watch.h"

/* What an 8.4.11 kernel shows, with a resync under minor 4, a gap
 * between minors (8.4 prints an empty line there) and an Unconfigured
 * minor. */
static const char proc84[] =
	"version: 8.4.11 (api:1/proto:86-101)\n"
	"srcversion: 211FB288A383ED945B83420 \n"
	" 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n"
	"    ns:0 nr:1024 dw:1024 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n"
	" 1: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n"
	"    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n"
	" 2: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n"
	" 3: cs:WFConnection ro:Secondary/Unknown ds:Outdated/DUnknown C r-----\n"
	" 4: cs:SyncTarget ro:Secondary/Secondary ds:Inconsistent/UpToDate C r-----\n"
	"    ns:0 nr:2048 dw:2048 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:800\n"
	"\t[===>................] sync'ed: 21.4% (824/1020)M\n"
	"\tfinish: 0:00:07 speed: 28,000 (28,000) K/sec\n"
	" 5: cs:Connected ro:Secondary/Secondary ds:Diskless/UpToDate C r-----\n"
	"\n"
	" 7: cs:Unconfigured\n"
	"11: cs:StandAlone ro:Secondary/Unknown ds:Failed/DUnknown   r-----\n"
	"12: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n";

static struct dw_minor find(const char *text, unsigned minor)
{
	struct dw_minor m;

	assert_int_equal(dw_proc_minor(text, strlen(text), minor, &m), 0);
	return m;
}

static void test_fields(void **state)
{
	struct dw_minor m = find(proc84, 0);

	(void)state;
	assert_true(m.present);
	assert_string_equal(m.cs, "Connected");
	assert_string_equal(m.role, "Secondary");
	assert_string_equal(m.peer_role, "Primary");
	assert_string_equal(m.disk, "UpToDate");
	assert_string_equal(m.peer_disk, "UpToDate");
	m = find(proc84, 1);
	assert_string_equal(m.cs, "WFConnection");
	assert_string_equal(m.peer_role, "Unknown");
	assert_string_equal(m.peer_disk, "DUnknown");
	m = find(proc84, 7);
	assert_true(m.present);
	assert_string_equal(m.cs, "Unconfigured");
	assert_string_equal(m.role, "");
	assert_string_equal(m.disk, "");
}

static void test_verdicts(void **state)
{
	(void)state;
	struct dw_minor m;

	m = find(proc84, 0);            /* Secondary/Primary */
	assert_int_equal(dw_judge(&m), DW_PEER_PRIMARY);
	m = find(proc84, 1);            /* Secondary/Unknown: our promote may come */
	assert_int_equal(dw_judge(&m), DW_WAIT);
	m = find(proc84, 2);            /* Primary/Unknown: the device should open */
	assert_int_equal(dw_judge(&m), DW_WAIT);
	m = find(proc84, 3);
	assert_int_equal(dw_judge(&m), DW_DISK);
	assert_string_equal(m.disk, "Outdated");
	m = find(proc84, 4);            /* resyncing, peer Secondary */
	assert_int_equal(dw_judge(&m), DW_DISK);
	assert_string_equal(m.disk, "Inconsistent");
	m = find(proc84, 5);
	assert_int_equal(dw_judge(&m), DW_DISK);
	assert_string_equal(m.disk, "Diskless");
	m = find(proc84, 7);
	assert_int_equal(dw_judge(&m), DW_UNCONFIGURED);
	m = find(proc84, 11);
	assert_int_equal(dw_judge(&m), DW_DISK);
	assert_string_equal(m.disk, "Failed");
	m = find(proc84, 12);           /* peer Primary wins over Inconsistent */
	assert_int_equal(dw_judge(&m), DW_PEER_PRIMARY);
	m = find(proc84, 6);            /* the gap */
	assert_false(m.present);
	assert_int_equal(dw_judge(&m), DW_MISSING);
	m = find(proc84, 147);
	assert_int_equal(dw_judge(&m), DW_MISSING);
}

/* Minor 1 is not 11's or 12's line, nor 0's detail line's "1024". */
static void test_minor_prefixes(void **state)
{
	const char text[] =
		"11: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n"
		" 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n";
	struct dw_minor m = find(text, 1);

	(void)state;
	assert_string_equal(m.role, "Primary");
	m = find(text, 11);
	assert_string_equal(m.role, "Secondary");
	m = find("11: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate\n", 1);
	assert_false(m.present);
}

static void test_garbage(void **state)
{
	const char text[] =
		"\x01\x02\xff garbage\n"
		"0x3: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate\n"
		"-3: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate\n"
		"3 cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate\n"
		"    3: is not at the start? it is: leading blanks are allowed\n"
		"42949672963: cs:Connected ro:Secondary/Primary\n"
		"ro:Secondary/Primary\n"
		"9:\n"
		"10: cs:Connected ro ds: ro:/ ds:/UpToDate junk:x\n"
		" 8: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate";  /* no \n */
	struct dw_minor m;

	(void)state;
	/* "    3:" is a minor line, its words are junk: present, no state */
	m = find(text, 3);
	assert_true(m.present);
	assert_string_equal(m.cs, "");
	assert_int_equal(dw_judge(&m), DW_WAIT);
	/* 42949672963 overflows 32 bits and must not alias minor 3 (mod 2^32) */
	m = find("42949672963: cs:Connected ro:Secondary/Primary\n", 3);
	assert_false(m.present);
	m = find(text, 9);
	assert_true(m.present);
	assert_int_equal(dw_judge(&m), DW_WAIT);
	m = find(text, 10);
	assert_string_equal(m.role, "");
	assert_string_equal(m.peer_role, "");
	assert_string_equal(m.disk, "");
	assert_string_equal(m.peer_disk, "UpToDate");
	assert_int_equal(dw_judge(&m), DW_WAIT);
	m = find(text, 8);
	assert_int_equal(dw_judge(&m), DW_PEER_PRIMARY);
	/* Not NUL-terminated where len ends: the line is cut before "ro:" */
	{
		const char *cut = strstr(text, " 8: cs:Connected");
		size_t len = (size_t)(cut - text) + strlen(" 8: cs:Connected");

		assert_int_equal(dw_proc_minor(text, len, 8, &m), 0);
		assert_true(m.present);
		assert_string_equal(m.cs, "Connected");
		assert_string_equal(m.role, "");
	}
	/* A word longer than the field is cut, not overflowed */
	m = find(" 1: cs:ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ ro:SecondarySecondarySecondary/Primary\n", 1);
	assert_int_equal(strlen(m.cs), sizeof(m.cs) - 1);
	assert_int_equal(strlen(m.role), sizeof(m.role) - 1);
	assert_string_equal(m.peer_role, "Primary");
	/* Empty text */
	assert_int_equal(dw_proc_minor("", 0, 0, &m), 0);
	assert_false(m.present);
}

static void test_drbd9(void **state)
{
	const char v9[] =
		"version: 9.2.4 (api:2/proto:86-122)\n"
		"GIT-hash: 1234 build by root@host, 2023-06-01 00:00:00\n"
		"Transports (api:18): tcp (9.2.4)\n";
	const char v10[] = "version: 10.0.0 (api:3)\n 0: cs:Connected ro:Secondary/Primary\n";
	const char v8[] = "version: 8.4.11 (api:1/proto:86-101)\n";
	struct dw_minor m;

	(void)state;
	assert_int_equal(dw_proc_minor(v9, strlen(v9), 0, &m), -ENOTSUP);
	assert_int_equal(dw_proc_minor(v10, strlen(v10), 0, &m), -ENOTSUP);
	assert_int_equal(dw_proc_minor(v8, strlen(v8), 0, &m), 0);
	assert_false(m.present);
}

static void test_dev_minor(void **state)
{
	unsigned minor = 99;

	(void)state;
	assert_int_equal(dw_dev_minor("/dev/drbd0", &minor), 0);
	assert_int_equal(minor, 0);
	assert_int_equal(dw_dev_minor("/dev/drbd147", &minor), 0);
	assert_int_equal(minor, 147);
	assert_int_equal(dw_dev_minor("/dev/drbd", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/dev/drbd1a", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/dev/drbd-1", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/dev/drbd/by-res/r0/0", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/dev/sda", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/tmp/dev/drbd0", &minor), -EINVAL);
	assert_int_equal(dw_dev_minor("/dev/drbd99999999999999999999", &minor), -EINVAL);
	assert_int_equal(minor, 147);
}

static struct dw_track track(unsigned minor)
{
	struct dw_track t = { .minor = minor };

	snprintf(t.dev, sizeof(t.dev), "/dev/drbd%u", minor);
	return t;
}

#define PEER_PRIMARY " 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n"
#define PEER_GONE    " 0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n"
#define OUTDATED     " 0: cs:Connected ro:Secondary/Secondary ds:Outdated/UpToDate C r-----\n"

static int step(struct dw_track *t, size_t n, const char *text, uint64_t now)
{
	return dw_step(t, n, text, text ? strlen(text) : 0, now, 300);
}

static void test_grace(void **state)
{
	struct dw_track t = track(0);

	(void)state;
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 1000), -1);
	assert_int_equal(t.verdict, DW_PEER_PRIMARY);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 1299), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 1300), 0);
	/* The peer demotes in between: the clock starts again. */
	t = track(0);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 0), -1);
	assert_int_equal(step(&t, 1, PEER_GONE, 200), -1);
	assert_int_equal(t.verdict, DW_WAIT);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 250), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 500), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 549), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 550), 0);
	/* Another hopeless state restarts it too. */
	t = track(0);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 0), -1);
	assert_int_equal(step(&t, 1, OUTDATED, 200), -1);
	assert_int_equal(step(&t, 1, OUTDATED, 400), -1);
	assert_int_equal(step(&t, 1, OUTDATED, 500), 0);
	assert_int_equal(t.verdict, DW_DISK);
	/* An unreadable file (NULL) or DRBD 9's text stops it. */
	t = track(0);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 0), -1);
	assert_int_equal(step(&t, 1, NULL, 100), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 200), -1);
	assert_int_equal(step(&t, 1, "version: 9.1.0 (api:2)\n", 300), -1);
	assert_int_equal(t.verdict, DW_WAIT);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 400), -1);
	assert_int_equal(step(&t, 1, PEER_PRIMARY, 700), 0);
	/* Waiting states never end it. */
	t = track(0);
	for (uint64_t now = 0; now < 100000; now += 50)
		assert_int_equal(step(&t, 1, PEER_GONE, now), -1);
}

static void test_several_minors(void **state)
{
	struct dw_track t[3] = { track(1), track(2), track(6) };

	(void)state;
	/* 1 waits (Secondary/Unknown), 2 is Primary, 6 is missing */
	assert_int_equal(dw_step(t, 3, proc84, strlen(proc84), 0, 300), -1);
	assert_int_equal(t[0].verdict, DW_WAIT);
	assert_int_equal(t[1].verdict, DW_WAIT);
	assert_int_equal(t[2].verdict, DW_MISSING);
	assert_int_equal(dw_step(t, 3, proc84, strlen(proc84), 300, 300), 2);
	/* Two hopeless at once: the first in order is named. */
	struct dw_track u[3] = { track(1), track(3), track(0) };

	assert_int_equal(dw_step(u, 3, proc84, strlen(proc84), 0, 0), 1);
	assert_int_equal(u[2].verdict, DW_PEER_PRIMARY);
}

static void test_describe(void **state)
{
	struct dw_track t = track(0);
	char buf[512];

	(void)state;
	step(&t, 1, PEER_PRIMARY, 0);
	dw_describe(&t, 10000, "/proc/drbd", buf, sizeof(buf));
	assert_string_equal(buf, "/dev/drbd0 is Secondary and its peer Primary for 10 s "
			    "(/proc/drbd: cs:Connected ro:Secondary/Primary "
			    "ds:UpToDate/UpToDate): the promote is not coming here; giving up");
	t = track(0);
	step(&t, 1, OUTDATED, 0);
	dw_describe(&t, 300, "/tmp/x", buf, sizeof(buf));
	assert_string_equal(buf, "/dev/drbd0's local disk is Outdated for 300 ms "
			    "(/tmp/x: cs:Connected ro:Secondary/Secondary "
			    "ds:Outdated/UpToDate): it cannot be promoted here; giving up");
	t = track(7);
	step(&t, 1, proc84, 0);
	dw_describe(&t, 2000, "/proc/drbd", buf, sizeof(buf));
	assert_string_equal(buf, "/dev/drbd7 is Unconfigured for 2 s (/proc/drbd: "
			    "cs:Unconfigured): it cannot be promoted here; giving up");
	t = track(147);
	snprintf(t.dev, sizeof(t.dev), "/dev/drbd/by-res/r0/0");
	step(&t, 1, proc84, 0);
	dw_describe(&t, 10000, "/proc/drbd", buf, sizeof(buf));
	assert_string_equal(buf, "/dev/drbd/by-res/r0/0 (minor 147) is not in /proc/drbd "
			    "for 10 s: it cannot be promoted here; giving up");
	/* Cut to the buffer, terminated */
	dw_describe(&t, 10000, "/proc/drbd", buf, 12);
	assert_string_equal(buf, "/dev/drbd/b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_minor_prefixes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_drbd9),
		cmocka_unit_test(test_dev_minor),
		cmocka_unit_test(test_grace),
		cmocka_unit_test(test_several_minors),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
