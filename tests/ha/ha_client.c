/* tests/ha/ha_client.c - the initiator of the HA failover test (libiscsi).
 *
 *   ha_client id URL                 print "naa=<hex> serial=<usn>"
 *   ha_client write URL FIRST COUNT ACKFILE [CAWSTATE CAWLOG]
 *                                    write blocks FIRST..FIRST+COUNT-1, one
 *                                    WRITE(10) with FUA at a time; after
 *                                    each acknowledged write, ACKFILE holds
 *                                    the number of blocks acknowledged so far
 *                                    (FIRST + n). Exit 0 when all are
 *                                    written, 2 at the first failure.
 *                                    With CAWSTATE: before each write, one
 *                                    beat of the COMPARE AND WRITE heartbeat
 *                                    (caw.h), each outcome a line in CAWLOG;
 *                                    exit 4 at an outcome that is neither
 *                                    success nor retryable.
 *   ha_client caw-init URL CAWSTATE  the heartbeat block (the LUN's last
 *                                    LBA) gets generation 1 (WRITE, FUA)
 *   ha_client caw-beat URL CAWSTATE CAWLOG COUNT
 *                                    COUNT heartbeats and no writes (exit
 *                                    codes as write)
 *   ha_client caw-check URL CAWSTATE CAWLOG
 *                                    print the outcome counts; exit 0 when
 *                                    no outcome was fatal and the block
 *                                    holds the last generation written
 *   ha_client verify URL COUNT       read blocks 0..COUNT-1 and check each
 *                                    one's number and checksum; exit 0 when
 *                                    all are intact, 1 listing the bad ones
 *   ha_client pr-register URL KEY    PERSISTENT RESERVE OUT REGISTER KEY,
 *                                    then RESERVE (write exclusive)
 *   ha_client pr-clear URL KEY       register KEY, then PR OUT CLEAR
 *   ha_client pr-show URL            print "keys=<k,...> holder=<k> type=<t>"
 *
 * Exit 3 when the session cannot be set up (connection refused, login
 * failed): the caller retries on that while waiting for a failover.
 *
 * A block (one logical block of the LUN's block size) carries the magic
 * "BOLLARDHA", its number, a payload derived from the number, and a CRC-32
 * over the rest, so a block that is stale, torn or belongs elsewhere is
 * told apart from an intact one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "caw.h"

#define INITIATOR "iqn.2026-11.io.bollard:ha-client"
#define MAGIC "BOLLARDHA"

struct conn {
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	uint32_t bs;
	uint64_t last_lba;
	int broken;     /* a command had no answer: the session is gone */
};

static int ua_again(struct conn *c, struct scsi_task *t, int *tries, const char *what,
		    uint64_t lba);

static void fill_block(unsigned char *b, uint32_t bs, uint32_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (n + 1);
	uint32_t i, c;

	memset(b, 0, bs);
	memcpy(b, MAGIC, sizeof(MAGIC) - 1);
	memcpy(b + 12, &n, 4);
	for (i = 16; i + 4 < bs; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		b[i] = (unsigned char)x;
	}
	c = caw_crc32(b, bs - 4);
	memcpy(b + bs - 4, &c, 4);
}

/* 0 intact, else what is wrong. */
static const char *check_block(const unsigned char *b, uint32_t bs, uint32_t n)
{
	uint32_t c, got;

	if (memcmp(b, MAGIC, sizeof(MAGIC) - 1))
		return "no magic";
	memcpy(&got, b + 12, 4);
	if (got != n)
		return "wrong block number";
	memcpy(&c, b + bs - 4, 4);
	if (c != caw_crc32(b, bs - 4))
		return "checksum mismatch";
	return NULL;
}

static int conn_open(struct conn *c, const char *url)
{
	struct scsi_task *t;
	struct scsi_readcapacity10 *rc;
	int ua;

	memset(c, 0, sizeof(*c));
	c->iscsi = iscsi_create_context(INITIATOR);
	if (!c->iscsi)
		return -ENOMEM;
	c->url = iscsi_parse_full_url(c->iscsi, url);
	if (!c->url) {
		fprintf(stderr, "ha_client: bad url %s: %s\n", url, iscsi_get_error(c->iscsi));
		goto undo_context;
	}
	iscsi_set_targetname(c->iscsi, c->url->target);
	iscsi_set_session_type(c->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c->iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(c->iscsi, 10);
	/* One fixed ISID: every invocation (and the reconnect after a
	 * failover) is the same I_T nexus, as a real initiator that logs in
	 * again. With libiscsi's per-context ISID, a PR reservation taken by
	 * one invocation made the next one's writes RESERVATION CONFLICT. */
	iscsi_set_isid_oui(c->iscsi, 0x001405, 0xb011);
	/* A lost connection fails the command in flight instead of libiscsi
	 * logging in again to the same portal (the dead node's) and sending
	 * it again: the caller decides where to reconnect, and the CAW
	 * heartbeat must see that the outcome is unknown. */
	iscsi_set_noautoreconnect(c->iscsi, 1);
	if (iscsi_full_connect_sync(c->iscsi, c->url->portal, c->url->lun)) {
		fprintf(stderr, "ha_client: login to %s: %s\n", url, iscsi_get_error(c->iscsi));
		goto undo_url;
	}
	ua = 0;
	do
		t = iscsi_readcapacity10_sync(c->iscsi, c->url->lun, 0, 0);
	while (ua_again(c, t, &ua, "READ CAPACITY(10)", 0));
	if (!t || t->status != SCSI_STATUS_GOOD || !(rc = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: READ CAPACITY: %s\n", iscsi_get_error(c->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		goto undo_login;
	}
	c->bs = rc->block_size;
	c->last_lba = rc->lba;
	scsi_free_scsi_task(t);
	return 0;
undo_login:
	iscsi_logout_sync(c->iscsi);
undo_url:
	iscsi_destroy_url(c->url);
undo_context:
	iscsi_destroy_context(c->iscsi);
	c->iscsi = NULL;
	return -EIO;
}

static void conn_close(struct conn *c)
{
	if (!c->iscsi)
		return;
	/* Logging out of a dead session would wait for ever. */
	if (!c->broken)
		iscsi_logout_sync(c->iscsi);
	iscsi_destroy_url(c->url);
	iscsi_destroy_context(c->iscsi);
	c->iscsi = NULL;
}

static int cmd_id(struct conn *c)
{
	struct scsi_task *t;
	struct scsi_inquiry_unit_serial_number *usn;
	struct scsi_inquiry_device_identification *di;
	struct scsi_inquiry_device_designator *d;
	int i, found = 0;

	t = iscsi_inquiry_sync(c->iscsi, c->url->lun, 1, SCSI_INQUIRY_PAGECODE_DEVICE_IDENTIFICATION, 255);
	if (!t || t->status != SCSI_STATUS_GOOD || !(di = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: INQUIRY 0x83 failed\n");
		return 1;
	}
	for (d = di->designators; d; d = d->next) {
		if (d->designator_type != SCSI_DESIGNATOR_TYPE_NAA)
			continue;
		printf("naa=");
		for (i = 0; i < d->designator_length; i++)
			printf("%02X", (unsigned char)d->designator[i]);
		found = 1;
		break;
	}
	scsi_free_scsi_task(t);
	if (!found) {
		fprintf(stderr, "ha_client: no NAA designator\n");
		return 1;
	}
	t = iscsi_inquiry_sync(c->iscsi, c->url->lun, 1, SCSI_INQUIRY_PAGECODE_UNIT_SERIAL_NUMBER, 255);
	if (!t || t->status != SCSI_STATUS_GOOD || !(usn = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: INQUIRY 0x80 failed\n");
		return 1;
	}
	printf(" serial=%s\n", usn->usn);
	scsi_free_scsi_task(t);
	return 0;
}

static int write_ack(const char *path, uint32_t n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%" PRIu32 "\n", n);
	if (fclose(f))
		return -EIO;
	return rename(tmp, path) ? -errno : 0;
}

/* --- the COMPARE AND WRITE heartbeat (judged by caw.c) ------------------- */

/* A finished task as caw_classify() input: libiscsi's pseudo statuses
 * (cancelled, error, timeout: no answer from the target) or the SCSI
 * status byte with the sense key and ASC/ASCQ. */
static int task_status(struct conn *c, struct scsi_task *t, int *key, int *ascq)
{
	*key = *ascq = 0;
	if (!t || t->status == SCSI_STATUS_CANCELLED || t->status == SCSI_STATUS_ERROR) {
		c->broken = 1;
		return CAW_NO_ANSWER;
	}
	if (t->status == SCSI_STATUS_TIMEOUT) {
		c->broken = 1;
		return CAW_NO_ANSWER_TIME;
	}
	if (t->status == SCSI_STATUS_CHECK_CONDITION) {
		*key = t->sense.key;
		*ascq = t->sense.ascq;
	}
	return t->status;
}

/* A UNIT ATTENTION means the command was not executed (SAM-5): every
 * initiator reports it and sends the command again. Several may be queued
 * for one nexus (power on/reset, ALUA state, LUN inventory or mode
 * changes); a few in a row are normal, a stream of them is not.
 *
 * Returns 1 when T was a UNIT ATTENTION and the caller should send the
 * command again (T is freed and the UA logged), 0 when T is the outcome
 * to judge (also after the 8th UA in a row).
 */
static int ua_again(struct conn *c, struct scsi_task *t, int *tries, const char *what,
		    uint64_t lba)
{
	int key, ascq;

	if (*tries >= 8 || task_status(c, t, &key, &ascq) != SCSI_STATUS_CHECK_CONDITION ||
	    key != SCSI_SENSE_UNIT_ATTENTION)
		return 0;
	(*tries)++;
	fprintf(stderr, "ha_client: %s at %" PRIu64 ": unit attention %04x, sent again\n",
		what, lba, ascq);
	scsi_free_scsi_task(t);
	return 1;
}

static void caw_log(const char *path, enum caw_kind k, uint32_t gen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One line per outcome: "<unix time> <kind> gen=<tried> <detail>". */
static void caw_log(const char *path, enum caw_kind k, uint32_t gen, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;
	FILE *f = fopen(path, "a");

	if (!f)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "%lld.%03ld %s gen=%" PRIu32 " ", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, caw_kind_str(k), gen);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* READ(10) of the heartbeat block into b: 0, 2 (no answer), 1 (error). */
static int caw_read(struct conn *c, uint64_t lba, unsigned char *b)
{
	struct scsi_task *t;
	int key, ascq, st, ua = 0;

	do
		t = iscsi_read10_sync(c->iscsi, c->url->lun, (uint32_t)lba, c->bs, c->bs,
				      0, 0, 0, 0, 0);
	while (ua_again(c, t, &ua, "READ(10) of the heartbeat block", lba));
	st = task_status(c, t, &key, &ascq);
	if (st != SCSI_STATUS_GOOD || !t->datain.data || (uint32_t)t->datain.size < c->bs) {
		fprintf(stderr, "ha_client: READ(10) of the heartbeat block: %s\n",
			iscsi_get_error(c->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		return st < 0 ? 2 : 1;
	}
	memcpy(b, t->datain.data, c->bs);
	scsi_free_scsi_task(t);
	return 0;
}

static int caw_save(const char *spath, const struct caw_state *s)
{
	int rc = caw_state_save(spath, s);

	if (rc)
		fprintf(stderr, "ha_client: %s: %s\n", spath, strerror(-rc));
	return rc;
}

/* One heartbeat: CAW cur -> cur + 1 until one succeeds. A "not performed"
 * answer (UNIT ATTENTION, NOT READY, BUSY, TASK SET FULL) is retried here
 * after 0.1 s, as an initiator does; no answer ends the session (exit 2:
 * the caller reconnects, perhaps elsewhere); an explained MISCOMPARE
 * moves on to the next generation. 0, 2, or 4 (a failure of the test). */
static int caw_beat(struct conn *c, const char *spath, const char *lpath)
{
	struct caw_state s;
	struct scsi_task *t;
	unsigned char *buf;
	const char *why;
	uint32_t before;
	int st, key, ascq, tries, rc = 2;
	enum caw_kind k;

	if ((rc = caw_state_load(spath, &s))) {
		fprintf(stderr, "ha_client: %s: %s\n", spath, strerror(-rc));
		return 4;
	}
	buf = malloc(2 * (size_t)c->bs);
	if (!buf)
		return 4;
	if (s.inflight) {
		/* The previous client ended (killed, timed out) with a CAW
		 * in flight: its outcome is unknown. */
		caw_log(lpath, CAW_RETRY_CONN, s.cur + 1, "in flight when the previous client ended");
		s.inflight = 0;
		s.unknown = s.cur + 1;
		if (caw_save(spath, &s))
			goto out_fatal;
	}
	rc = 2;
	for (tries = 0; tries < 100; tries++) {
		caw_fill(buf, c->bs, s.cur);
		caw_fill(buf + c->bs, c->bs, s.cur + 1);
		before = caw_begin(&s);
		if (caw_save(spath, &s))
			goto out_fatal;
		t = iscsi_compareandwrite_sync(c->iscsi, c->url->lun, s.lba, buf, 2 * c->bs,
					       c->bs, 0, 0, 1, 0, 0);
		st = task_status(c, t, &key, &ascq);
		if (t)
			scsi_free_scsi_task(t);
		k = caw_classify(st, key, ascq);
		if (k == CAW_MISCOMPARE) {
			int r = caw_read(c, s.lba, buf);

			if (r == 2) {
				/* No answer to the read: as if the CAW had
				 * none; the next client asks again. */
				caw_answer(&s, CAW_RETRY_CONN, before);
				caw_log(lpath, CAW_RETRY_CONN, s.cur + 1,
					"MISCOMPARE, then no answer to the read-back");
				caw_save(spath, &s);
				goto out;
			}
			if (caw_miscompare(&s, before, r ? NULL : buf, c->bs, &why)) {
				int64_t v = r ? -2 : caw_value(buf, c->bs);

				caw_log(lpath, CAW_FATAL, s.cur + 1, "%s (block reads generation %" PRId64
					", -1: foreign, -2: unread)", why, v);
				fprintf(stderr, "ha_client: CAW gen %" PRIu32 ": %s\n", s.cur + 1, why);
				caw_save(spath, &s);
				goto out_fatal;
			}
			caw_log(lpath, CAW_MISCOMPARE, s.cur,
				"explained: the CAW with no answer had landed");
			if (caw_save(spath, &s))
				goto out_fatal;
			continue;
		}
		if (k == CAW_FATAL) {
			caw_answer(&s, k, before);
			caw_log(lpath, k, s.cur + 1, "status 0x%x key 0x%x asc/ascq 0x%04x: %s",
				(unsigned)st, key, ascq, iscsi_get_error(c->iscsi));
			fprintf(stderr, "ha_client: CAW gen %" PRIu32 ": status 0x%x key 0x%x asc/ascq 0x%04x\n",
				s.cur + 1, (unsigned)st, key, ascq);
			caw_save(spath, &s);
			goto out_fatal;
		}
		caw_answer(&s, k, before);
		if (caw_save(spath, &s))
			goto out_fatal;
		if (k == CAW_OK) {
			caw_log(lpath, k, s.cur, "%s", "");
			rc = 0;
			goto out;
		}
		caw_log(lpath, k, s.cur + 1, "status 0x%x key 0x%x asc/ascq 0x%04x", (unsigned)st, key, ascq);
		if (c->broken)
			goto out;
		usleep(100000);
	}
	fprintf(stderr, "ha_client: CAW: still retryable after %d tries\n", tries);
out:
	free(buf);
	return rc;
out_fatal:
	free(buf);
	return 4;
}

static int cmd_caw_init(struct conn *c, const char *spath)
{
	struct caw_state s = { .lba = c->last_lba, .cur = 1 };
	unsigned char *b = malloc(c->bs);
	struct scsi_task *t;
	int ua = 0;

	if (!b)
		return 1;
	caw_fill(b, c->bs, 1);
	do
		t = iscsi_write10_sync(c->iscsi, c->url->lun, (uint32_t)s.lba, b, c->bs, c->bs,
				       0, 0, 1, 0, 0);
	while (ua_again(c, t, &ua, "WRITE(10) of the heartbeat block", s.lba));
	free(b);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: WRITE(10) of the heartbeat block: %s\n", iscsi_get_error(c->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		return 1;
	}
	scsi_free_scsi_task(t);
	return caw_save(spath, &s) ? 1 : 0;
}

static int cmd_caw_check(struct conn *c, const char *spath, const char *lpath)
{
	unsigned n[CAW_KIND_MAX] = { 0 };
	char line[1024], kind[64];
	struct caw_state s;
	const char *why = NULL;
	unsigned char *b;
	int i, rc;
	FILE *f;

	if ((rc = caw_state_load(spath, &s))) {
		fprintf(stderr, "ha_client: %s: %s\n", spath, strerror(-rc));
		return 1;
	}
	f = fopen(lpath, "r");
	if (!f) {
		fprintf(stderr, "ha_client: %s: %s\n", lpath, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %63s", kind) != 1)
			continue;
		for (i = 0; i < CAW_KIND_MAX; i++)
			if (!strcmp(kind, caw_kind_str(i)))
				n[i]++;
	}
	fclose(f);
	b = malloc(c->bs);
	if (!b)
		return 1;
	rc = caw_read(c, s.lba, b);
	if (!rc && caw_final(&s, b, c->bs, &why))
		rc = 1;
	free(b);
	printf("caw: ok=%u", n[CAW_OK]);
	for (i = CAW_RETRY_CONN; i <= CAW_RETRY_TASK_SET_FULL; i++)
		printf(" %s=%u", caw_kind_str(i), n[i]);
	printf(" miscompare-explained=%u fatal=%u generation=%" PRIu32 "%s\n",
	       n[CAW_MISCOMPARE], n[CAW_FATAL], s.cur, s.unknown ? "(+1 unknown)" : "");
	if (why)
		fprintf(stderr, "ha_client: %s\n", why);
	return rc || n[CAW_FATAL] || !n[CAW_OK] ? 1 : 0;
}

static int cmd_write(struct conn *c, uint32_t first, uint32_t count, const char *ackfile,
		     const char *cawstate, const char *cawlog)
{
	unsigned char *b = malloc(c->bs);
	struct scsi_task *t;
	uint32_t n;
	int rc, key, ascq, ua;

	if (!b)
		return 1;
	for (n = first; n < first + count; n++) {
		if (cawstate && (rc = caw_beat(c, cawstate, cawlog))) {
			free(b);
			return rc;
		}
		fill_block(b, c->bs, n);
		ua = 0;
		do
			t = iscsi_write10_sync(c->iscsi, c->url->lun, n, b, c->bs, c->bs,
					       0, 0, 1, 0, 0);
		while (ua_again(c, t, &ua, "WRITE(10)", n));
		if (task_status(c, t, &key, &ascq) != SCSI_STATUS_GOOD) {
			fprintf(stderr, "ha_client: WRITE(10) block %" PRIu32 ": %s\n", n,
				iscsi_get_error(c->iscsi));
			if (t)
				scsi_free_scsi_task(t);
			free(b);
			return 2;
		}
		scsi_free_scsi_task(t);
		if (write_ack(ackfile, n + 1)) {
			free(b);
			return 1;
		}
	}
	free(b);
	return 0;
}

static int cmd_verify(struct conn *c, uint32_t count)
{
	struct scsi_task *t;
	const char *why;
	uint32_t n, bad = 0;
	int ua;

	for (n = 0; n < count; n++) {
		ua = 0;
		do
			t = iscsi_read10_sync(c->iscsi, c->url->lun, n, c->bs, c->bs, 0, 0, 0, 0, 0);
		while (ua_again(c, t, &ua, "READ(10)", n));
		if (!t || t->status != SCSI_STATUS_GOOD || !t->datain.data ||
		    (uint32_t)t->datain.size < c->bs) {
			fprintf(stderr, "ha_client: READ(10) block %" PRIu32 ": %s\n", n,
				iscsi_get_error(c->iscsi));
			if (t)
				scsi_free_scsi_task(t);
			return 1;
		}
		why = check_block(t->datain.data, c->bs, n);
		if (why) {
			if (bad < 20)
				fprintf(stderr, "ha_client: block %" PRIu32 ": %s\n", n, why);
			bad++;
		}
		scsi_free_scsi_task(t);
	}
	printf("verified=%" PRIu32 " bad=%" PRIu32 "\n", count, bad);
	return bad ? 1 : 0;
}

static int cmd_pr_register(struct conn *c, uint64_t key)
{
	struct scsi_persistent_reserve_out_basic p;
	struct scsi_task *t;
	int ua;

	memset(&p, 0, sizeof(p));
	p.service_action_reservation_key = key;
	ua = 0;
	do
		t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
			SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE OUT", 0));
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT REGISTER: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	memset(&p, 0, sizeof(p));
	p.reservation_key = key;
	ua = 0;
	do
		t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_RESERVE, SCSI_PERSISTENT_RESERVE_SCOPE_LU,
			SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, &p);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE OUT", 0));
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT RESERVE: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	return 0;
}

/* Register KEY for this nexus, then CLEAR every registration and the
 * reservation (to start over on a LUN an earlier run reserved). */
static int cmd_pr_clear(struct conn *c, uint64_t key)
{
	struct scsi_persistent_reserve_out_basic p;
	struct scsi_task *t;
	int ua;

	memset(&p, 0, sizeof(p));
	p.service_action_reservation_key = key;
	ua = 0;
	do
		t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
			SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE OUT", 0));
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT REGISTER: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	memset(&p, 0, sizeof(p));
	p.reservation_key = key;
	ua = 0;
	do
		t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_CLEAR, SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE OUT", 0));
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT CLEAR: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	return 0;
}

static int cmd_pr_show(struct conn *c)
{
	struct scsi_task *t;
	int ua;
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_persistent_reserve_in_read_reservation *rr;
	int i;

	ua = 0;
	do
		t = iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_READ_KEYS, 1024);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE IN", 0));
	if (!t || t->status != SCSI_STATUS_GOOD || !(rk = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: PR IN READ KEYS: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	printf("keys=");
	for (i = 0; i < rk->num_keys; i++)
		printf("%s%" PRIx64, i ? "," : "", rk->keys[i]);
	scsi_free_scsi_task(t);
	ua = 0;
	do
		t = iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 1024);
	while (ua_again(c, t, &ua, "PERSISTENT RESERVE IN", 0));
	if (!t || t->status != SCSI_STATUS_GOOD || !(rr = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "\nha_client: PR IN READ RESERVATION: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	if (rr->reserved)
		printf(" holder=%" PRIx64 " type=%d\n", rr->reservation_key, (int)rr->pr_type);
	else
		printf(" holder=none\n");
	scsi_free_scsi_task(t);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ha_client id|write|verify|pr-register|pr-clear|pr-show|caw-init|caw-check URL ...\n");
	exit(64);
}

int main(int argc, char **argv)
{
	struct conn c;
	int rc;

	if (argc < 3)
		usage();
	if (conn_open(&c, argv[2]))
		return 3;
	if (!strcmp(argv[1], "id"))
		rc = cmd_id(&c);
	else if (!strcmp(argv[1], "write") && (argc == 6 || argc == 8))
		rc = cmd_write(&c, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0), argv[5],
			       argc == 8 ? argv[6] : NULL, argc == 8 ? argv[7] : NULL);
	else if (!strcmp(argv[1], "caw-init") && argc == 4)
		rc = cmd_caw_init(&c, argv[3]);
	else if (!strcmp(argv[1], "caw-beat") && argc == 6) {
		unsigned long i, n = strtoul(argv[5], NULL, 0);

		for (rc = 0, i = 0; i < n && !rc; i++)
			rc = caw_beat(&c, argv[3], argv[4]);
	} else if (!strcmp(argv[1], "caw-check") && argc == 5)
		rc = cmd_caw_check(&c, argv[3], argv[4]);
	else if (!strcmp(argv[1], "verify") && argc == 4)
		rc = cmd_verify(&c, strtoul(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "pr-register") && argc == 4)
		rc = cmd_pr_register(&c, strtoull(argv[3], NULL, 16));
	else if (!strcmp(argv[1], "pr-clear") && argc == 4)
		rc = cmd_pr_clear(&c, strtoull(argv[3], NULL, 16));
	else if (!strcmp(argv[1], "pr-show"))
		rc = cmd_pr_show(&c);
	else
		usage();
	conn_close(&c);
	return rc;
}
