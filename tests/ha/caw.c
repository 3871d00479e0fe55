/* tests/ha/caw.c - the judge of the CAW heartbeat (see caw.h). */
#include "caw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CAW_MAGIC "BOLLARDCAW"

/* SPC sense keys and status bytes used below. */
#define ST_GOOD            0x00
#define ST_CHECK_CONDITION 0x02
#define ST_BUSY            0x08
#define ST_TASK_SET_FULL   0x28
#define KEY_NOT_READY      0x02
#define KEY_UNIT_ATTENTION 0x06
#define KEY_MISCOMPARE     0x0e
#define ASC_NOT_READY      0x04   /* LOGICAL UNIT NOT READY, any reason
				   * (becoming ready, ALUA transitioning,
				   * standby, ...) */
#define ASC_MISCOMPARE     0x1d   /* MISCOMPARE DURING VERIFY OPERATION */

enum caw_kind caw_classify(int status, int key, int asc_ascq)
{
	int asc = (asc_ascq >> 8) & 0xff;

	switch (status) {
	case CAW_NO_ANSWER:
		return CAW_RETRY_CONN;
	case CAW_NO_ANSWER_TIME:
		return CAW_RETRY_TIMEOUT;
	case ST_GOOD:
		return CAW_OK;
	case ST_BUSY:
		return CAW_RETRY_BUSY;
	case ST_TASK_SET_FULL:
		return CAW_RETRY_TASK_SET_FULL;
	case ST_CHECK_CONDITION:
		if (key == KEY_MISCOMPARE && asc == ASC_MISCOMPARE)
			return CAW_MISCOMPARE;
		if (key == KEY_UNIT_ATTENTION)
			return CAW_RETRY_UA;
		if (key == KEY_NOT_READY && asc == ASC_NOT_READY)
			return CAW_RETRY_NOT_READY;
		return CAW_FATAL;
	default:
		/* RESERVATION CONFLICT (0x18) among others: this nexus holds
		 * the reservation and it must survive the failover, so a
		 * conflict is a failure, not something to wait out. */
		return CAW_FATAL;
	}
}

static const char *const kind_names[CAW_KIND_MAX] = {
	[CAW_OK] = "ok",
	[CAW_MISCOMPARE] = "miscompare",
	[CAW_RETRY_CONN] = "retry-conn",
	[CAW_RETRY_TIMEOUT] = "retry-timeout",
	[CAW_RETRY_UA] = "retry-unit-attention",
	[CAW_RETRY_NOT_READY] = "retry-not-ready",
	[CAW_RETRY_BUSY] = "retry-busy",
	[CAW_RETRY_TASK_SET_FULL] = "retry-task-set-full",
	[CAW_FATAL] = "FATAL",
};

const char *caw_kind_str(enum caw_kind k)
{
	return (unsigned)k < CAW_KIND_MAX ? kind_names[k] : "?";
}

int caw_retryable(enum caw_kind k)
{
	return k >= CAW_RETRY_CONN && k <= CAW_RETRY_TASK_SET_FULL;
}

uint32_t caw_crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

void caw_fill(unsigned char *b, uint32_t bs, uint32_t g)
{
	uint64_t x = 0xd1b54a32d192ed03ull * ((uint64_t)g + 7);
	uint32_t i, c;

	memset(b, 0, bs);
	memcpy(b, CAW_MAGIC, sizeof(CAW_MAGIC) - 1);
	memcpy(b + 12, &g, 4);
	for (i = 16; i + 4 < bs; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		b[i] = (unsigned char)x;
	}
	c = caw_crc32(b, bs - 4);
	memcpy(b + bs - 4, &c, 4);
}

int64_t caw_value(const unsigned char *b, uint32_t bs)
{
	uint32_t g, c, i;

	for (i = 0; i < bs && !b[i]; i++)
		;
	if (i == bs)
		return 0;
	if (bs < 64 || memcmp(b, CAW_MAGIC, sizeof(CAW_MAGIC) - 1))
		return -1;
	memcpy(&c, b + bs - 4, 4);
	if (c != caw_crc32(b, bs - 4))
		return -1;
	memcpy(&g, b + 12, 4);
	return g ? (int64_t)g : -1;
}

uint32_t caw_begin(struct caw_state *s)
{
	uint32_t before = s->unknown;

	s->unknown = s->cur + 1;
	s->inflight = 1;
	return before;
}

void caw_answer(struct caw_state *s, enum caw_kind k, uint32_t unknown_before)
{
	s->inflight = 0;
	switch (k) {
	case CAW_OK:
		s->cur++;
		s->unknown = 0;
		break;
	case CAW_RETRY_CONN:
	case CAW_RETRY_TIMEOUT:
		/* No answer: cur + 1 may or may not be in the block. */
		s->unknown = s->cur + 1;
		break;
	default:
		/* An answer that says "not performed" (or a failure, which
		 * ends the run): whatever was unknown before still is. */
		s->unknown = unknown_before;
		break;
	}
}

int caw_miscompare(struct caw_state *s, uint32_t unknown_before,
		   const unsigned char *blk, uint32_t bs, const char **why)
{
	int64_t v;

	s->inflight = 0;
	s->unknown = unknown_before;
	if (!blk) {
		*why = "MISCOMPARE, and the block could not be read back";
		return -EPROTO;
	}
	v = caw_value(blk, bs);
	if (unknown_before != s->cur + 1) {
		*why = "MISCOMPARE with no CAW of unknown outcome before it";
		return -EPROTO;
	}
	if (v == (int64_t)s->cur) {
		*why = "MISCOMPARE, yet the block holds the compared value";
		return -EPROTO;
	}
	if (v != (int64_t)s->cur + 1) {
		*why = "MISCOMPARE, and the block holds a third value (neither the old nor the new)";
		return -EPROTO;
	}
	/* The CAW that had no answer did land. */
	s->cur++;
	s->unknown = 0;
	return 0;
}

int caw_final(const struct caw_state *s, const unsigned char *blk, uint32_t bs,
	      const char **why)
{
	int64_t v = caw_value(blk, bs);

	if (v == (int64_t)s->cur)
		return 0;
	if (s->unknown && v == (int64_t)s->unknown)
		return 0;
	*why = v < 0 ? "the heartbeat block holds a third value" :
		"the heartbeat block holds another generation than the last one written";
	return -EPROTO;
}

int caw_state_load(const char *path, struct caw_state *s)
{
	unsigned long long lba;
	unsigned cur, unknown;
	int inflight, n;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	n = fscanf(f, "%llu %u %u %d", &lba, &cur, &unknown, &inflight);
	fclose(f);
	if (n != 4 || (unknown && unknown != cur + 1))
		return -EINVAL;
	s->lba = lba;
	s->cur = cur;
	s->unknown = unknown;
	s->inflight = !!inflight;
	return 0;
}

int caw_state_save(const char *path, const struct caw_state *s)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%" PRIu64 " %" PRIu32 " %" PRIu32 " %d\n", s->lba, s->cur,
		s->unknown, s->inflight);
	/* No fsync: what must survive is the client process, not the host. */
	if (fclose(f))
		return -EIO;
	return rename(tmp, path) ? -errno : 0;
}
