/*
 * test_bl_time - schema/bl_time.c: bl_now_ms() is CLOCK_MONOTONIC's own
 * time in whole milliseconds. Nothing here bounds how long anything takes:
 * each check holds whatever the machine's load (a reading taken between
 * two others lies between them; a clock_nanosleep() to an absolute time
 * returns only once that time has come).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "bl_time.h"

/* The test's own reading of the clock, in nanoseconds. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Taken between two readings of CLOCK_MONOTONIC, it lies between them in
 * milliseconds: the same clock (not CLOCK_REALTIME, whose value is decades
 * larger, nor CLOCK_BOOTTIME after a suspend), the same origin, the same
 * unit. Repeated so that readings straddling a millisecond boundary are
 * covered too.
 */
static void test_between_clock_gettime(void **state)
{
	int i;

	for (i = 0; i < 10000; i++) {
		uint64_t before = mono_ns();
		uint64_t now = bl_now_ms();
		uint64_t after = mono_ns();

		/* now is a whole millisecond: before's, after's or one between */
		assert_true(before / 1000000 <= now);
		assert_true(now <= after / 1000000);
	}
}

/* Never goes back from one call to the next. */
static void test_non_decreasing(void **state)
{
	uint64_t prev = bl_now_ms();
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t now = bl_now_ms();

		assert_true(now >= prev);
		prev = now;
	}
}

/*
 * What leader.c, hb_lease.c and etcd_common.c do with it: turn
 * bl_now_ms() + d back into an absolute CLOCK_MONOTONIC timespec and wait
 * for it. Once that wait is over, bl_now_ms() has reached the deadline
 * (clock_nanosleep with TIMER_ABSTIME does not return before the clock
 * shows the time asked for).
 */
static void test_absolute_deadline(void **state)
{
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t until = bl_now_ms() + 2;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000),
				       .tv_nsec = (long)(until % 1000) * 1000000 };
		int rc;

		/* On another clock (CLOCK_REALTIME) the wait below would last
		 * for years: fail here instead of hanging. */
		assert_true(until <= mono_ns() / 1000000 + 2);
		while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					     &ts, NULL)) == EINTR)
			;
		assert_int_equal(rc, 0);
		assert_true(bl_now_ms() >= until);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_between_clock_gettime),
		cmocka_unit_test(test_non_decreasing),
		cmocka_unit_test(test_absolute_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
