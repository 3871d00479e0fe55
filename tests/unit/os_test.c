/*
 * os_test.c - bt_os.h for the SCSI unit tests and fuzzer, over libc.
 * (Used until the userspace host's kernel/user/os_user.c can be linked.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_os.h"

void *bt_alloc(bt_size_t n) { return malloc(n ? n : 1); }
void *bt_zalloc(bt_size_t n) { return calloc(1, n ? n : 1); }
void *bt_realloc(void *p, bt_size_t n) { return realloc(p, n ? n : 1); }
void bt_free(void *p) { free(p); }

int bt_snprintf(char *buf, bt_size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

u64 bt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

/* Deterministic on purpose: nothing in the SCSI layer may depend on it. */
void bt_random(void *buf, bt_size_t n) { memset(buf, 0x5a, n); }

void bt_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > 1 || getenv("BT_TEST_QUIET"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "bt[%d]: ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
