/*
 * os_user.c - bt_os.h for the userspace host, on top of libc.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bt_os.h"
#include "host.h"

/* The host's log threshold (host code only; the engine has no globals). */
static int log_level = 2;

void host_set_log_level(int level)
{
	log_level = level;
}

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

u64 bt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

void bt_random(void *buf, bt_size_t n)
{
	u8 *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r <= 0)
			continue;
		p += r;
		n -= (bt_size_t)r;
	}
}

void bt_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	size_t n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[--n] = 0;
	fprintf(stderr, "bollard-target: %s: %s\n",
		names[level < 0 ? 0 : level > 3 ? 3 : level], line);
}
