/*
 * caw_probe.c - COMPARE AND WRITE latency under bulk load (bench/caw_load.sh).
 *
 *   bollard-bench-caw [-n LOADERS] [-q DEPTH] [-k KIB] [-w WRITE%] [-t SECS]
 *                     [-p PERIOD_MS] [-i INITIATOR_PREFIX] URL
 *
 * LOADERS sessions (each its own initiator name and TCP connection) keep
 * DEPTH commands of KIB KiB each in flight against the LUN of URL, WRITE%
 * of them WRITE(16), the rest READ(16), at random aligned LBAs above the
 * first MiB. One more session, the "heartbeat", issues a COMPARE AND WRITE
 * of one block at LBA 0 every PERIOD_MS (ESXi's ATS heartbeat: compare the
 * block with what it wrote last time, write a new one) followed by a
 * PERSISTENT RESERVE IN (READ KEYS), and times each. A CAW that does not
 * come back GOOD is counted as an error (MISCOMPARE separately: it would
 * mean the target lost atomicity or a write). A target that does not
 * implement COMPARE AND WRITE (INVALID COMMAND OPERATION CODE on the first
 * one) gets what an initiator without ATS does instead: a READ(16) and a
 * WRITE(16) FUA of the block, timed together; the line then says mode=rw.
 *
 * Prints, after SECS seconds:
 *   caw: n=.. p50_ms=.. p99_ms=.. max_ms=.. over_1s=.. miscompare=.. errors=..
 *   prin: n=.. p50_ms=.. p99_ms=.. max_ms=.. errors=..
 *   load: read_MiBps=.. write_MiBps=.. cmds=.. errors=..
 * Exit status 0 when everything ran (whatever the latencies), 1 otherwise.
 *
 * The loaders run in one thread each with libiscsi's async API; the
 * heartbeat in its own thread with the sync API, so its commands never wait
 * for the loaders' client-side processing.
 */
#include <errno.h>
#include <inttypes.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOADERS 32
#define MAX_SAMPLES 100000

struct probe {
	const char *url;
	const char *prefix;
	unsigned nloaders, depth, xfer_kib, write_pct, secs, period_ms;
	atomic_int stop;
	/* from READ CAPACITY(16) */
	uint32_t bs;
	uint64_t nblocks;
};

struct loader {
	struct probe *p;
	unsigned idx;
	pthread_t th;
	struct iscsi_context *ctx;
	int lun;
	unsigned char *wbuf;
	unsigned inflight;
	uint64_t rbytes, wbytes, cmds, errors;
	uint32_t rnd;
	int failed;
};

struct heartbeat {
	struct probe *p;
	pthread_t th;
	double caw_ms[MAX_SAMPLES], prin_ms[MAX_SAMPLES];
	unsigned ncaw, nprin;
	unsigned caw_err, miscompare, prin_err;
	bool rw_mode;                 /* the target has no COMPARE AND WRITE */
	int failed;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct iscsi_context *login(const char *url, const char *initiator,
				   unsigned qual, int *lun)
{
	struct iscsi_context *ctx = iscsi_create_context(initiator);
	struct iscsi_url *u;
	int i;

	if (!ctx)
		return NULL;
	u = iscsi_parse_full_url(ctx, url);
	if (!u) {
		fprintf(stderr, "caw-probe: bad url %s: %s\n", url, iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		return NULL;
	}
	iscsi_set_isid_random(ctx, (uint32_t)getpid() * 131u + qual, qual);
	iscsi_set_targetname(ctx, u->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(ctx, u->portal, u->lun) != 0) {
		fprintf(stderr, "caw-probe: %s: login failed: %s\n", initiator,
			iscsi_get_error(ctx));
		iscsi_destroy_url(u);
		iscsi_destroy_context(ctx);
		return NULL;
	}
	*lun = u->lun;
	iscsi_destroy_url(u);
	/* eat the unit attentions of the new I_T nexus */
	for (i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(ctx, *lun);
		int good = t && t->status == SCSI_STATUS_GOOD;

		if (t)
			scsi_free_scsi_task(t);
		if (good)
			break;
	}
	return ctx;
}

/* ---- loaders ------------------------------------------------------------ */

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void load_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static int load_submit(struct loader *l)
{
	struct probe *p = l->p;
	uint32_t blocks = (uint32_t)(((uint64_t)p->xfer_kib << 10) / p->bs);
	uint64_t first = (1u << 20) / p->bs, slots, lba;
	struct scsi_task *t;
	bool wr;

	slots = (p->nblocks - first) / blocks;
	lba = first + (xorshift(&l->rnd) % slots) * blocks;
	wr = xorshift(&l->rnd) % 100 < p->write_pct;
	if (wr)
		t = iscsi_write16_task(l->ctx, l->lun, lba, l->wbuf, blocks * p->bs,
				       (int)p->bs, 0, 0, 0, 0, 0, load_cb, l);
	else
		t = iscsi_read16_task(l->ctx, l->lun, lba, blocks * p->bs, (int)p->bs,
				      0, 0, 0, 0, 0, load_cb, l);
	if (!t)
		return -1;
	l->inflight++;
	return 0;
}

static void load_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct loader *l = priv;
	struct scsi_task *t = data;

	l->inflight--;
	if (status == SCSI_STATUS_GOOD) {
		l->cmds++;
		if (t->xfer_dir == SCSI_XFER_WRITE)
			l->wbytes += t->expxferlen;
		else
			l->rbytes += t->datain.size;
	} else {
		l->errors++;
	}
	scsi_free_scsi_task(t);
	if (!atomic_load(&l->p->stop) && load_submit(l) < 0)
		l->failed = 1;
}

static void *loader_main(void *arg)
{
	struct loader *l = arg;
	struct probe *p = l->p;
	char name[256];
	unsigned i;

	snprintf(name, sizeof(name), "%s:load%u", p->prefix, l->idx);
	l->ctx = login(p->url, name, 0x100 + l->idx, &l->lun);
	if (!l->ctx) {
		l->failed = 1;
		return NULL;
	}
	for (i = 0; i < p->depth; i++)
		if (load_submit(l) < 0) {
			l->failed = 1;
			break;
		}
	while (l->inflight > 0) {
		struct pollfd pfd = { iscsi_get_fd(l->ctx), (short)iscsi_which_events(l->ctx), 0 };

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			l->failed = 1;
			break;
		}
		if (iscsi_service(l->ctx, pfd.revents) < 0) {
			fprintf(stderr, "caw-probe: loader %u: %s\n", l->idx,
				iscsi_get_error(l->ctx));
			l->failed = 1;
			break;
		}
	}
	if (!l->failed)
		iscsi_logout_sync(l->ctx);
	iscsi_destroy_context(l->ctx);
	return NULL;
}

/* ---- heartbeat ---------------------------------------------------------- */

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	struct probe *p = hb->p;
	unsigned char *buf = calloc(2, p->bs);
	struct iscsi_context *ctx;
	struct scsi_task *t;
	char name[256];
	unsigned seq = 0;
	double next;
	int lun;

	snprintf(name, sizeof(name), "%s:heartbeat", p->prefix);
	ctx = buf ? login(p->url, name, 0x7fff, &lun) : NULL;
	if (!ctx) {
		hb->failed = 1;
		free(buf);
		return NULL;
	}
	/* what LBA 0 holds now: the first compare half */
	t = iscsi_read16_sync(ctx, lun, 0, p->bs, (int)p->bs, 0, 0, 0, 0, 0);
	if (!t || t->status != SCSI_STATUS_GOOD || t->datain.size < (int)p->bs) {
		hb->failed = 1;
		goto out_logout;
	}
	memcpy(buf, t->datain.data, p->bs);
	scsi_free_scsi_task(t);
	next = now_ms();
	while (!atomic_load(&p->stop) && hb->ncaw < MAX_SAMPLES) {
		double t0, dt;

		next += p->period_ms;
		seq++;
		memset(buf + p->bs, (int)(seq & 0xff), p->bs);
		memcpy(buf + p->bs, &seq, sizeof(seq));
		t0 = now_ms();
		if (hb->rw_mode) {
			t = iscsi_read16_sync(ctx, lun, 0, p->bs, (int)p->bs, 0, 0, 0, 0, 0);
			if (t && t->status == SCSI_STATUS_GOOD) {
				scsi_free_scsi_task(t);
				t = iscsi_write16_sync(ctx, lun, 0, buf + p->bs, p->bs,
						       (int)p->bs, 0, 0, 1, 0, 0);
			}
		} else {
			t = iscsi_compareandwrite_sync(ctx, lun, 0, buf, 2 * p->bs,
						       (int)p->bs, 0, 0, 0, 0, 0);
		}
		dt = now_ms() - t0;
		if (!t) {
			fprintf(stderr, "caw-probe: CAW: %s\n", iscsi_get_error(ctx));
			hb->failed = 1;
			break;
		}
		if (!hb->rw_mode && hb->ncaw == 0 &&
		    t->status == SCSI_STATUS_CHECK_CONDITION &&
		    t->sense.key == SCSI_SENSE_ILLEGAL_REQUEST &&
		    t->sense.ascq == SCSI_SENSE_ASCQ_INVALID_OPERATION_CODE) {
			fprintf(stderr, "caw-probe: no COMPARE AND WRITE here: "
				"timing READ(16) + WRITE(16) FUA instead\n");
			hb->rw_mode = true;
			scsi_free_scsi_task(t);
			continue;
		}
		hb->caw_ms[hb->ncaw++] = dt;
		if (t->status != SCSI_STATUS_GOOD && hb->caw_err + hb->miscompare == 0)
			fprintf(stderr, "caw-probe: first failed CAW: status %d sense %s/%x\n",
				t->status, scsi_sense_key_str(t->sense.key), t->sense.ascq);
		if (t->status == SCSI_STATUS_GOOD) {
			memcpy(buf, buf + p->bs, p->bs);
		} else if (t->status == SCSI_STATUS_CHECK_CONDITION &&
			   t->sense.key == SCSI_SENSE_MISCOMPARE) {
			hb->miscompare++;
		} else {
			hb->caw_err++;
		}
		scsi_free_scsi_task(t);

		t0 = now_ms();
		t = iscsi_persistent_reserve_in_sync(ctx, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS,
						     256);
		dt = now_ms() - t0;
		if (t) {
			hb->prin_ms[hb->nprin++] = dt;
			if (t->status != SCSI_STATUS_GOOD)
				hb->prin_err++;
			scsi_free_scsi_task(t);
		} else {
			hb->prin_err++;
		}
		dt = next - now_ms();
		if (dt > 0)
			usleep((useconds_t)(dt * 1000));
		else
			next = now_ms();  /* late: do not burst to catch up */
	}
out_logout:
	iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	free(buf);
	return NULL;
}

/* ---- report ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, unsigned n, double q)
{
	unsigned i;

	if (!n)
		return 0;
	i = (unsigned)(q * (n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void stats(const char *what, double *v, unsigned n, unsigned *over_1s)
{
	unsigned i, over = 0;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		if (v[i] > 1000.0)
			over++;
	printf("%s: n=%u p50_ms=%.2f p99_ms=%.2f max_ms=%.2f over_1s=%u", what, n,
	       pct(v, n, 0.50), pct(v, n, 0.99), n ? v[n - 1] : 0.0, over);
	if (over_1s)
		*over_1s = over;
}

static int read_capacity(struct probe *p)
{
	struct iscsi_context *ctx;
	struct scsi_readcapacity16 *rc;
	struct scsi_task *t;
	char name[256];
	int lun, ok = -1;

	snprintf(name, sizeof(name), "%s:setup", p->prefix);
	ctx = login(p->url, name, 0x7ffe, &lun);
	if (!ctx)
		return -1;
	t = iscsi_readcapacity16_sync(ctx, lun);
	if (t && t->status == SCSI_STATUS_GOOD &&
	    (rc = scsi_datain_unmarshall(t)) != NULL) {
		p->bs = rc->block_length;
		p->nblocks = rc->returned_lba + 1;
		ok = 0;
	}
	if (t)
		scsi_free_scsi_task(t);
	iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: bollard-bench-caw [-n LOADERS] [-q DEPTH] [-k KIB] "
		"[-w WRITE%%] [-t SECS] [-p PERIOD_MS] [-i PREFIX] URL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct probe p = {
		.prefix = "iqn.2026-01.io.bollard.bench:caw",
		.nloaders = 4, .depth = 16, .xfer_kib = 1024, .write_pct = 50,
		.secs = 20, .period_ms = 100,
	};
	static struct loader ld[MAX_LOADERS];
	static struct heartbeat hb;
	uint64_t rb = 0, wb = 0, cmds = 0, errs = 0;
	double t0, el;
	unsigned i;
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:q:k:w:t:p:i:")) != -1) {
		switch (opt) {
		case 'n': p.nloaders = (unsigned)atoi(optarg); break;
		case 'q': p.depth = (unsigned)atoi(optarg); break;
		case 'k': p.xfer_kib = (unsigned)atoi(optarg); break;
		case 'w': p.write_pct = (unsigned)atoi(optarg); break;
		case 't': p.secs = (unsigned)atoi(optarg); break;
		case 'p': p.period_ms = (unsigned)atoi(optarg); break;
		case 'i': p.prefix = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc || p.nloaders > MAX_LOADERS || !p.depth ||
	    !p.xfer_kib || !p.period_ms)
		usage();
	p.url = argv[optind];
	if (read_capacity(&p) < 0) {
		fprintf(stderr, "caw-probe: READ CAPACITY(16) failed\n");
		return 1;
	}
	if (p.nblocks * p.bs < (4u << 20) + 2 * ((uint64_t)p.xfer_kib << 10)) {
		fprintf(stderr, "caw-probe: LUN too small\n");
		return 1;
	}
	for (i = 0; i < p.nloaders; i++) {
		ld[i].p = &p;
		ld[i].idx = i;
		ld[i].rnd = 0x9e3779b9u * (i + 1);
		ld[i].wbuf = malloc((size_t)p.xfer_kib << 10);
		if (!ld[i].wbuf)
			return 1;
		memset(ld[i].wbuf, 0x5a ^ (int)i, (size_t)p.xfer_kib << 10);
		pthread_create(&ld[i].th, NULL, loader_main, &ld[i]);
	}
	sleep(1);                      /* the load is on before the first CAW */
	hb.p = &p;
	t0 = now_ms();
	pthread_create(&hb.th, NULL, heartbeat_main, &hb);
	while (now_ms() - t0 < p.secs * 1000.0 && !hb.failed)
		usleep(100000);
	atomic_store(&p.stop, 1);
	pthread_join(hb.th, NULL);
	el = (now_ms() - t0) / 1000.0 + 1.0;
	for (i = 0; i < p.nloaders; i++) {
		pthread_join(ld[i].th, NULL);
		rb += ld[i].rbytes;
		wb += ld[i].wbytes;
		cmds += ld[i].cmds;
		errs += ld[i].errors;
		bad |= ld[i].failed;
		free(ld[i].wbuf);
	}
	stats("caw", hb.caw_ms, hb.ncaw, NULL);
	printf(" miscompare=%u errors=%u mode=%s\n", hb.miscompare, hb.caw_err,
	       hb.rw_mode ? "rw" : "caw");
	stats("prin", hb.prin_ms, hb.nprin, NULL);
	printf(" errors=%u\n", hb.prin_err);
	printf("load: read_MiBps=%.1f write_MiBps=%.1f cmds=%" PRIu64 " errors=%" PRIu64 "\n",
	       rb / el / 1048576.0, wb / el / 1048576.0, cmds, errs);
	return bad || hb.failed || !hb.ncaw ? 1 : 0;
}
