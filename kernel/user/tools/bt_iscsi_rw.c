/*
 * bt_iscsi_rw.c - small libiscsi client for the bollard-target integration
 * tests (tests/integration/target_*.sh). Not installed.
 *
 *   bt-iscsi-rw [options] URL login
 *       log in and out; exit 0 on success, 1 on failure
 *   bt-iscsi-rw [options] URL verify NBLOCKS [SECONDS]
 *       write a fresh pattern to blocks 0..NBLOCKS-1, read it back and
 *       compare, repeatedly for SECONDS (default: once); exit 0 if every
 *       round compared equal
 *   bt-iscsi-rw [options] URL readback NBLOCKS SEED
 *       only read and compare against the pattern of SEED (data written by
 *       an earlier `verify` run survives a restart)
 *   bt-iscsi-rw [options] URL sessions N HOLD_SECONDS
 *       open N sessions from the same initiator name, each with its own
 *       ISID; print "logged_in=K" and hold them open HOLD_SECONDS
 *
 * Options: -i INITIATOR  -m USER:SECRET (mutual CHAP: the target's
 * credentials)  -d (HeaderDigest=CRC32C)  -s SEED.
 * CHAP credentials of the initiator go in the URL: iscsi://user%secret@...
 */
#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 8

static const char *initiator = "iqn.2026-01.io.bollard.test:rw";
static char *mutual;
static int digest;
static unsigned seed = 1;

static struct iscsi_context *open_ctx(const char *url, unsigned qual, int *lun)
{
	struct iscsi_context *ctx = iscsi_create_context(initiator);
	struct iscsi_url *u;

	if (!ctx)
		return NULL;
	u = iscsi_parse_full_url(ctx, url);
	if (!u) {
		fprintf(stderr, "bad url: %s\n", iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return NULL;
	}
	iscsi_set_isid_random(ctx, (uint32_t)getpid() ^ (uint32_t)time(NULL), qual);
	iscsi_set_targetname(ctx, u->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, digest ? ISCSI_HEADER_DIGEST_CRC32C :
				ISCSI_HEADER_DIGEST_NONE);
	if (u->user[0])
		iscsi_set_initiator_username_pwd(ctx, u->user, u->passwd);
	if (mutual) {
		char *c = strchr(mutual, ':');

		if (c) {
			*c = 0;
			iscsi_set_target_username_pwd(ctx, mutual, c + 1);
			*c = ':';
		}
	}
	if (iscsi_full_connect_sync(ctx, u->portal, u->lun) != 0) {
		fprintf(stderr, "login failed: %s\n", iscsi_get_error(ctx));
		iscsi_destroy_url(u);
		iscsi_destroy_context(ctx);
		return NULL;
	}
	*lun = u->lun;
	iscsi_destroy_url(u);
	/* Swallow the unit attentions a new I_T nexus may have pending. */
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(ctx, *lun);
		int good = t && t->status == SCSI_STATUS_GOOD;

		if (t)
			scsi_free_scsi_task(t);
		if (good)
			break;
	}
	return ctx;
}

static void fill(unsigned char *buf, size_t n, unsigned s, uint32_t lba)
{
	size_t i;
	uint32_t x = s * 2654435761u ^ lba * 40503u;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

static int rw_round(struct iscsi_context *ctx, int lun, unsigned nblocks,
		    unsigned s, int do_write)
{
	unsigned char want[CHUNK * 512];
	uint32_t lba;

	for (lba = 0; lba < nblocks; lba += CHUNK) {
		unsigned n = nblocks - lba < CHUNK ? nblocks - lba : CHUNK;
		struct scsi_task *t;

		fill(want, n * 512, s, lba);
		if (do_write) {
			t = iscsi_write10_sync(ctx, lun, lba, want, n * 512, 512,
					       0, 0, 0, 0, 0);
			if (!t || t->status != SCSI_STATUS_GOOD) {
				fprintf(stderr, "write lba %u failed: %s\n", lba,
					iscsi_get_error(ctx));
				if (t)
					scsi_free_scsi_task(t);
				return -1;
			}
			scsi_free_scsi_task(t);
		}
		t = iscsi_read10_sync(ctx, lun, lba, n * 512, 512, 0, 0, 0, 0, 0);
		if (!t || t->status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "read lba %u failed: %s\n", lba,
				iscsi_get_error(ctx));
			if (t)
				scsi_free_scsi_task(t);
			return -1;
		}
		if (t->datain.size != (int)(n * 512) ||
		    memcmp(t->datain.data, want, n * 512)) {
			fprintf(stderr, "read lba %u: data differs\n", lba);
			scsi_free_scsi_task(t);
			return -1;
		}
		scsi_free_scsi_task(t);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct iscsi_context *ctx;
	const char *url, *cmd;
	int opt, lun;

	while ((opt = getopt(argc, argv, "i:m:ds:")) != -1) {
		switch (opt) {
		case 'i': initiator = optarg; break;
		case 'm': mutual = optarg; break;
		case 'd': digest = 1; break;
		case 's': seed = (unsigned)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: bt-iscsi-rw [-i INIT] [-m U:S] [-d] [-s SEED] URL login|verify|readback|sessions ...\n");
		return 2;
	}
	url = argv[optind];
	cmd = argv[optind + 1];
	if (!strcmp(cmd, "login")) {
		ctx = open_ctx(url, 1, &lun);
		if (!ctx)
			return 1;
		iscsi_logout_sync(ctx);
		iscsi_destroy_context(ctx);
		return 0;
	}
	if (!strcmp(cmd, "verify") || !strcmp(cmd, "readback")) {
		unsigned nblocks, secs, rounds = 0;
		time_t end;
		int rc = 0;

		if (argc - optind < 3)
			return 2;
		nblocks = (unsigned)strtoul(argv[optind + 2], NULL, 0);
		secs = argc - optind > 3 ? (unsigned)strtoul(argv[optind + 3], NULL, 0) : 0;
		ctx = open_ctx(url, 1, &lun);
		if (!ctx)
			return 1;
		end = time(NULL) + secs;
		do {
			unsigned s = !strcmp(cmd, "verify") ? seed + rounds : seed;

			if (rw_round(ctx, lun, nblocks, s, !strcmp(cmd, "verify"))) {
				rc = 1;
				break;
			}
			rounds++;
		} while (time(NULL) < end);
		printf("rounds=%u %s\n", rounds, rc ? "FAILED" : "ok");
		iscsi_logout_sync(ctx);
		iscsi_destroy_context(ctx);
		return rc;
	}
	if (!strcmp(cmd, "sessions")) {
		struct iscsi_context *ctxs[16];
		unsigned n, hold, i, ok = 0;

		if (argc - optind < 4)
			return 2;
		n = (unsigned)strtoul(argv[optind + 2], NULL, 0);
		hold = (unsigned)strtoul(argv[optind + 3], NULL, 0);
		if (n > 16)
			n = 16;
		for (i = 0; i < n; i++) {
			ctxs[i] = open_ctx(url, i + 1, &lun);
			printf("session %u: %s\n", i + 1, ctxs[i] ? "logged in" : "refused");
			if (ctxs[i])
				ok++;
		}
		printf("logged_in=%u\n", ok);
		fflush(stdout);
		sleep(hold);
		for (i = 0; i < n; i++)
			if (ctxs[i]) {
				iscsi_logout_sync(ctxs[i]);
				iscsi_destroy_context(ctxs[i]);
			}
		return 0;
	}
	fprintf(stderr, "unknown command %s\n", cmd);
	return 2;
}
