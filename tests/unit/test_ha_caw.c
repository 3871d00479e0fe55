/* Unit tests for tests/ha/caw.c, the judge of the HA test's COMPARE AND
 * WRITE heartbeat: which answers are retryable, when a MISCOMPARE is
 * explained, and that a hard error from the survivor fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "caw.h"

#define BS 512

static void test_classify_retryable(void **state)
{
	(void)state;
	assert_int_equal(caw_classify(0x00, 0, 0), CAW_OK);
	assert_int_equal(caw_classify(CAW_NO_ANSWER, 0, 0), CAW_RETRY_CONN);
	assert_int_equal(caw_classify(CAW_NO_ANSWER_TIME, 0, 0), CAW_RETRY_TIMEOUT);
	/* power on / reset, I_T nexus loss, reservations preempted... */
	assert_int_equal(caw_classify(0x02, 0x06, 0x2900), CAW_RETRY_UA);
	assert_int_equal(caw_classify(0x02, 0x06, 0x2a03), CAW_RETRY_UA);
	/* NOT READY: becoming ready, ALUA transitioning, standby */
	assert_int_equal(caw_classify(0x02, 0x02, 0x0401), CAW_RETRY_NOT_READY);
	assert_int_equal(caw_classify(0x02, 0x02, 0x040a), CAW_RETRY_NOT_READY);
	assert_int_equal(caw_classify(0x02, 0x02, 0x040b), CAW_RETRY_NOT_READY);
	assert_int_equal(caw_classify(0x08, 0, 0), CAW_RETRY_BUSY);
	assert_int_equal(caw_classify(0x28, 0, 0), CAW_RETRY_TASK_SET_FULL);
	assert_int_equal(caw_classify(0x02, 0x0e, 0x1d00), CAW_MISCOMPARE);
	assert_true(caw_retryable(CAW_RETRY_UA));
	assert_true(caw_retryable(CAW_RETRY_CONN));
	assert_false(caw_retryable(CAW_OK));
	assert_false(caw_retryable(CAW_MISCOMPARE));
	assert_false(caw_retryable(CAW_FATAL));
}

/* What a broken survivor could answer: each one must fail the test. */
static void test_classify_hard_errors(void **state)
{
	static const int hard[][3] = {
		{ 0x18, 0, 0 },          /* RESERVATION CONFLICT */
		{ 0x02, 0x05, 0x2000 },  /* ILLEGAL REQUEST, invalid opcode (CAW lost) */
		{ 0x02, 0x05, 0x2100 },  /* ILLEGAL REQUEST, LBA out of range */
		{ 0x02, 0x05, 0x2400 },  /* ILLEGAL REQUEST, invalid field in CDB */
		{ 0x02, 0x03, 0x1100 },  /* MEDIUM ERROR, unrecovered read error */
		{ 0x02, 0x04, 0x4400 },  /* HARDWARE ERROR, internal target failure */
		{ 0x02, 0x07, 0x2700 },  /* DATA PROTECT, write protected */
		{ 0x02, 0x0b, 0x0000 },  /* ABORTED COMMAND */
		{ 0x02, 0x02, 0x3a00 },  /* NOT READY, medium not present */
		{ 0x02, 0x0e, 0x0000 },  /* MISCOMPARE key without the ASC */
		{ 0x40, 0, 0 },          /* TASK ABORTED: nobody aborted it */
		{ 0x30, 0, 0 },          /* ACA ACTIVE */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hard) / sizeof(hard[0]); i++)
		assert_int_equal(caw_classify(hard[i][0], hard[i][1], hard[i][2]), CAW_FATAL);
}

static void test_values(void **state)
{
	unsigned char b[BS];

	(void)state;
	memset(b, 0, sizeof(b));
	assert_int_equal(caw_value(b, BS), 0);
	caw_fill(b, BS, 1);
	assert_int_equal(caw_value(b, BS), 1);
	caw_fill(b, BS, 77);
	assert_int_equal(caw_value(b, BS), 77);
	b[100] ^= 1;                          /* torn / damaged */
	assert_int_equal(caw_value(b, BS), -1);
	memset(b, 0xab, sizeof(b));           /* foreign */
	assert_int_equal(caw_value(b, BS), -1);
}

static void test_known_outcomes(void **state)
{
	struct caw_state s = { .lba = 9, .cur = 5 };
	uint32_t before;

	(void)state;
	before = caw_begin(&s);
	assert_int_equal(s.inflight, 1);
	assert_int_equal(s.unknown, 6);        /* until an answer comes */
	caw_answer(&s, CAW_RETRY_UA, before);  /* not performed */
	assert_int_equal(s.cur, 5);
	assert_int_equal(s.unknown, 0);
	assert_int_equal(s.inflight, 0);
	before = caw_begin(&s);
	caw_answer(&s, CAW_OK, before);
	assert_int_equal(s.cur, 6);
	assert_int_equal(s.unknown, 0);
}

/* The CAW in flight at the kill had no answer; the retry on the survivor
 * miscompares because it did land: explained, the heartbeat moves on. */
static void test_miscompare_explained(void **state)
{
	struct caw_state s = { .cur = 5 };
	unsigned char b[BS];
	const char *why = NULL;
	uint32_t before;

	(void)state;
	before = caw_begin(&s);
	caw_answer(&s, CAW_RETRY_CONN, before);
	assert_int_equal(s.unknown, 6);
	before = caw_begin(&s);
	caw_answer(&s, CAW_RETRY_UA, before);  /* an answer, but "not performed" */
	assert_int_equal(s.unknown, 6);        /* the first one is still unknown */
	before = caw_begin(&s);
	caw_fill(b, BS, 6);
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), 0);
	assert_int_equal(s.cur, 6);
	assert_int_equal(s.unknown, 0);
	assert_int_equal(caw_final(&s, b, BS, &why), 0);
}

static void test_miscompare_not_explained(void **state)
{
	struct caw_state s = { .cur = 5 };
	unsigned char b[BS];
	const char *why = NULL;
	uint32_t before;

	(void)state;
	/* Nothing unknown before: no MISCOMPARE is acceptable. */
	before = caw_begin(&s);
	caw_fill(b, BS, 6);
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), -EPROTO);
	assert_non_null(why);
	/* Unknown pending, but the block holds the old value: the target
	 * miscompared equal data. */
	s = (struct caw_state){ .cur = 5, .unknown = 6 };
	before = caw_begin(&s);
	caw_fill(b, BS, 5);
	why = NULL;
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), -EPROTO);
	assert_non_null(why);
	/* Unknown pending, a third value: old generation, zeros, garbage. */
	s = (struct caw_state){ .cur = 5, .unknown = 6 };
	before = caw_begin(&s);
	caw_fill(b, BS, 4);
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), -EPROTO);
	s = (struct caw_state){ .cur = 5, .unknown = 6 };
	before = caw_begin(&s);
	memset(b, 0, sizeof(b));
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), -EPROTO);
	s = (struct caw_state){ .cur = 5, .unknown = 6 };
	before = caw_begin(&s);
	caw_fill(b, BS, 6);
	b[200] ^= 0x10;
	assert_int_equal(caw_miscompare(&s, before, b, BS, &why), -EPROTO);
	/* The block could not be read back. */
	s = (struct caw_state){ .cur = 5, .unknown = 6 };
	before = caw_begin(&s);
	assert_int_equal(caw_miscompare(&s, before, NULL, BS, &why), -EPROTO);
}

static void test_final(void **state)
{
	struct caw_state s = { .cur = 9 };
	unsigned char b[BS];
	const char *why = NULL;

	(void)state;
	caw_fill(b, BS, 9);
	assert_int_equal(caw_final(&s, b, BS, &why), 0);
	caw_fill(b, BS, 10);
	assert_int_equal(caw_final(&s, b, BS, &why), -EPROTO);
	s.unknown = 10;
	assert_int_equal(caw_final(&s, b, BS, &why), 0);
	caw_fill(b, BS, 8);
	assert_int_equal(caw_final(&s, b, BS, &why), -EPROTO);
}

static void test_state_file(void **state)
{
	char path[] = "/tmp/bollard-test-ha-caw.XXXXXX";
	struct caw_state s = { .lba = 131069, .cur = 42, .unknown = 43, .inflight = 1 }, t;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(caw_state_save(path, &s), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(caw_state_load(path, &t), 0);
	assert_int_equal(t.lba, 131069);
	assert_int_equal(t.cur, 42);
	assert_int_equal(t.unknown, 43);
	assert_int_equal(t.inflight, 1);
	/* unknown must be 0 or cur + 1 */
	s.unknown = 50;
	assert_int_equal(caw_state_save(path, &s), 0);
	assert_int_equal(caw_state_load(path, &t), -EINVAL);
	unlink(path);
	assert_int_equal(caw_state_load(path, &t), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_retryable),
		cmocka_unit_test(test_classify_hard_errors),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_known_outcomes),
		cmocka_unit_test(test_miscompare_explained),
		cmocka_unit_test(test_miscompare_not_explained),
		cmocka_unit_test(test_final),
		cmocka_unit_test(test_state_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
