/* tests/ha/ha_client.c - the initiator of the HA failover test (libiscsi).
 *
 *   ha_client id URL                 print "naa=<hex> serial=<usn>"
 *   ha_client write URL FIRST COUNT ACKFILE
 *                                    write blocks FIRST..FIRST+COUNT-1, one
 *                                    WRITE(10) with FUA at a time; after
 *                                    each acknowledged write, ACKFILE holds
 *                                    the number of blocks acknowledged so far
 *                                    (FIRST + n). Exit 0 when all are
 *                                    written, 2 at the first failure.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define INITIATOR "iqn.2026-11.io.bollard:ha-client"
#define MAGIC "BOLLARDHA"

struct conn {
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	uint32_t bs;
};

static uint32_t crc32(const unsigned char *p, size_t n)
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
	c = crc32(b, bs - 4);
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
	if (c != crc32(b, bs - 4))
		return "checksum mismatch";
	return NULL;
}

static int conn_open(struct conn *c, const char *url)
{
	struct scsi_task *t;
	struct scsi_readcapacity10 *rc;

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
	if (iscsi_full_connect_sync(c->iscsi, c->url->portal, c->url->lun)) {
		fprintf(stderr, "ha_client: login to %s: %s\n", url, iscsi_get_error(c->iscsi));
		goto undo_url;
	}
	t = iscsi_readcapacity10_sync(c->iscsi, c->url->lun, 0, 0);
	if (!t || t->status != SCSI_STATUS_GOOD || !(rc = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: READ CAPACITY: %s\n", iscsi_get_error(c->iscsi));
		if (t)
			scsi_free_scsi_task(t);
		goto undo_login;
	}
	c->bs = rc->block_size;
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

static int cmd_write(struct conn *c, uint32_t first, uint32_t count, const char *ackfile)
{
	unsigned char *b = malloc(c->bs);
	struct scsi_task *t;
	uint32_t n;

	if (!b)
		return 1;
	for (n = first; n < first + count; n++) {
		fill_block(b, c->bs, n);
		t = iscsi_write10_sync(c->iscsi, c->url->lun, n, b, c->bs, c->bs, 0, 0, 1, 0, 0);
		if (!t || t->status != SCSI_STATUS_GOOD) {
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

	for (n = 0; n < count; n++) {
		t = iscsi_read10_sync(c->iscsi, c->url->lun, n, c->bs, c->bs, 0, 0, 0, 0, 0);
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

	memset(&p, 0, sizeof(p));
	p.service_action_reservation_key = key;
	t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
		SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT REGISTER: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	memset(&p, 0, sizeof(p));
	p.reservation_key = key;
	t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_RESERVE, SCSI_PERSISTENT_RESERVE_SCOPE_LU,
		SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, &p);
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

	memset(&p, 0, sizeof(p));
	p.service_action_reservation_key = key;
	t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
		SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "ha_client: PR OUT REGISTER: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	scsi_free_scsi_task(t);
	memset(&p, 0, sizeof(p));
	p.reservation_key = key;
	t = iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_CLEAR, SCSI_PERSISTENT_RESERVE_SCOPE_LU, 0, &p);
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
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_persistent_reserve_in_read_reservation *rr;
	int i;

	t = iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_READ_KEYS, 1024);
	if (!t || t->status != SCSI_STATUS_GOOD || !(rk = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "ha_client: PR IN READ KEYS: %s\n", iscsi_get_error(c->iscsi));
		return 1;
	}
	printf("keys=");
	for (i = 0; i < rk->num_keys; i++)
		printf("%s%" PRIx64, i ? "," : "", rk->keys[i]);
	scsi_free_scsi_task(t);
	t = iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
		SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 1024);
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
	fprintf(stderr, "usage: ha_client id|write|verify|pr-register|pr-show URL ...\n");
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
	else if (!strcmp(argv[1], "write") && argc == 6)
		rc = cmd_write(&c, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0), argv[5]);
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
