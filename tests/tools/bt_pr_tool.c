/*
 * tests/tools/bt_pr_tool.c - a small initiator for the persistent
 * reservation tests (libiscsi).
 *
 *   bt-pr-tool register URL KEY [aptpl]
 *        PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY, KEY
 *   bt-pr-tool reserve URL KEY TYPE
 *        PERSISTENT RESERVE OUT RESERVE, TYPE (1 WE, 3 EA, 5, 6, 7, 8)
 *   bt-pr-tool show URL
 *        prints, one per line: "capacity BLOCKS", "generation G",
 *        "keys K1,K2" (sorted, hex), "reservation KEY TYPE" or
 *        "reservation none", "ptpl_c C ptpl_a A"
 *
 * Every invocation uses the same initiator name and ISID, so they are one
 * I_T nexus: a key registered by one invocation is this nexus's key in the
 * next one, as for a real initiator that logs in again.
 *
 * URL: iscsi://HOST:PORT/IQN/LUN. Exit 0 on success, 1 on a SCSI error
 * (printed), 2 on usage errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define INITIATOR "iqn.2026-01.io.bollard.test:pr-tool"

struct conn {
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
};

static int conn_open(struct conn *c, const char *url)
{
	memset(c, 0, sizeof(*c));
	c->iscsi = iscsi_create_context(INITIATOR);
	if (!c->iscsi)
		return -ENOMEM;
	c->url = iscsi_parse_full_url(c->iscsi, url);
	if (!c->url) {
		fprintf(stderr, "bt-pr-tool: bad url %s: %s\n", url,
			iscsi_get_error(c->iscsi));
		goto undo_context;
	}
	iscsi_set_targetname(c->iscsi, c->url->target);
	iscsi_set_session_type(c->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c->iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(c->iscsi, 10);
	iscsi_set_isid_oui(c->iscsi, 0x001405, 0xb0a1);
	if (iscsi_full_connect_sync(c->iscsi, c->url->portal, c->url->lun)) {
		fprintf(stderr, "bt-pr-tool: login to %s: %s\n", url,
			iscsi_get_error(c->iscsi));
		goto undo_url;
	}
	return 0;
undo_url:
	iscsi_destroy_url(c->url);
undo_context:
	iscsi_destroy_context(c->iscsi);
	return -EIO;
}

static void conn_close(struct conn *c)
{
	iscsi_logout_sync(c->iscsi);
	iscsi_destroy_url(c->url);
	iscsi_destroy_context(c->iscsi);
}

/* GOOD, after at most a few unit attentions (power on, LUNs changed). */
static struct scsi_task *check(struct conn *c, struct scsi_task *t, const char *what)
{
	if (t && t->status == SCSI_STATUS_GOOD)
		return t;
	fprintf(stderr, "bt-pr-tool: %s: %s\n", what,
		t ? iscsi_get_error(c->iscsi) : "no task");
	if (t)
		scsi_free_scsi_task(t);
	return NULL;
}

static void clear_ua(struct conn *c)
{
	int i;

	for (i = 0; i < 4; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(c->iscsi, c->url->lun);
		int good = t && t->status == SCSI_STATUS_GOOD;

		if (t)
			scsi_free_scsi_task(t);
		if (good)
			return;
	}
}

static int prout(struct conn *c, int sa, int type, uint64_t key, int aptpl)
{
	struct scsi_persistent_reserve_out_basic p = { 0 };
	struct scsi_task *t;

	if (sa == SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY)
		p.service_action_reservation_key = key;
	else
		p.reservation_key = key;
	p.aptpl = (uint8_t)aptpl;
	t = check(c, iscsi_persistent_reserve_out_sync(c->iscsi, c->url->lun, sa, 0,
						       type, &p), "PERSISTENT RESERVE OUT");
	if (!t)
		return 1;
	scsi_free_scsi_task(t);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int show(struct conn *c)
{
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_persistent_reserve_in_read_reservation *rr;
	struct scsi_persistent_reserve_in_report_capabilities *cap;
	struct scsi_readcapacity16 *rc16;
	struct scsi_task *t;
	int i;

	t = check(c, iscsi_readcapacity16_sync(c->iscsi, c->url->lun), "READ CAPACITY 16");
	if (!t || !(rc16 = scsi_datain_unmarshall(t)))
		return 1;
	printf("capacity %" PRIu64 "\n", rc16->returned_lba + 1);
	scsi_free_scsi_task(t);

	t = check(c, iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_READ_KEYS, 4096), "READ KEYS");
	if (!t || !(rk = scsi_datain_unmarshall(t)))
		return 1;
	printf("generation %u\nkeys ", rk->prgeneration);
	qsort(rk->keys, (size_t)rk->num_keys, sizeof(rk->keys[0]), cmp_u64);
	for (i = 0; i < rk->num_keys; i++)
		printf("%s0x%" PRIx64, i ? "," : "", rk->keys[i]);
	printf("\n");
	scsi_free_scsi_task(t);

	t = check(c, iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 4096), "READ RESERVATION");
	if (!t || !(rr = scsi_datain_unmarshall(t)))
		return 1;
	if (rr->reserved)
		printf("reservation 0x%" PRIx64 " %u\n", rr->reservation_key, rr->pr_type);
	else
		printf("reservation none\n");
	scsi_free_scsi_task(t);

	t = check(c, iscsi_persistent_reserve_in_sync(c->iscsi, c->url->lun,
			SCSI_PERSISTENT_RESERVE_REPORT_CAPABILITIES, 4096),
		  "REPORT CAPABILITIES");
	if (!t || !(cap = scsi_datain_unmarshall(t)))
		return 1;
	/* libiscsi does not decode PTPL_A: byte 3 bit 0 */
	printf("ptpl_c %u ptpl_a %u\n", cap->ptpl_c,
	       t->datain.size > 3 ? t->datain.data[3] & 1 : 0);
	scsi_free_scsi_task(t);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bt-pr-tool register URL KEY [aptpl]\n"
			"       bt-pr-tool reserve URL KEY TYPE\n"
			"       bt-pr-tool show URL\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct conn c;
	int rc;

	if (argc < 3)
		return usage();
	if ((!strcmp(argv[1], "register") && argc != 4 && argc != 5) ||
	    (!strcmp(argv[1], "reserve") && argc != 5) ||
	    (!strcmp(argv[1], "show") && argc != 3))
		return usage();
	if (conn_open(&c, argv[2]) < 0)
		return 1;
	clear_ua(&c);
	if (!strcmp(argv[1], "register"))
		rc = prout(&c, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0,
			   strtoull(argv[3], NULL, 0), argc == 5 && !strcmp(argv[4], "aptpl"));
	else if (!strcmp(argv[1], "reserve"))
		rc = prout(&c, SCSI_PERSISTENT_RESERVE_RESERVE, atoi(argv[4]),
			   strtoull(argv[3], NULL, 0), 0);
	else if (!strcmp(argv[1], "show"))
		rc = show(&c);
	else
		rc = usage();
	conn_close(&c);
	return rc;
}
