/*
 * minor.c - lowest free DRBD minor (pure; the policy is in plan.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MINOR_MAX 1048575

static int int64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int minor_lowest_free(const int64_t *used, size_t n, int64_t *out)
{
	int64_t *s, want = 0;

	if (n == 0) {
		*out = 0;
		return 0;
	}
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, used, n * sizeof(*s));
	qsort(s, n, sizeof(*s), int64_cmp);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < want)
			continue;
		if (s[i] > want)
			break;
		want++;
	}
	free(s);
	if (want > MINOR_MAX)
		return -ENOSPC;
	*out = want;
	return 0;
}

