/* test_engine_fakes.c - see test_engine_fakes.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_engine_fakes.h"

/* ---- bt_os.h ------------------------------------------------------------ */

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

void bt_random(void *buf, bt_size_t n) { memset(buf, 0x5a, n); }

void bt_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("FAKE_LOG"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- host ops ----------------------------------------------------------- */

static void fake_event(void *host, const struct bt_event *ev)
{
	struct fake_host *h = host;

	h->events++;
	h->last_event = ev->type;
}

const struct bt_host_ops fake_ops = { .event = fake_event };

static struct fake_host *host_of(struct bt_target *t)
{
	return bt_engine_host(bt_target_engine(t));
}

/* ---- iSCSI layer -------------------------------------------------------- */

int bt_iscsi_engine_init(struct bt_engine *e) { return 0; }
void bt_iscsi_engine_fini(struct bt_engine *e) { }

void bt_iscsi_tick(struct bt_engine *e, u64 now_ms)
{
	((struct fake_host *)bt_engine_host(e))->ticks++;
}

void bt_iscsi_shutdown(struct bt_engine *e)
{
	((struct fake_host *)bt_engine_host(e))->shutdowns++;
}

void fake_set_sessions(struct bt_target *t, unsigned n)
{
	struct fake_tgt **ft = (struct fake_tgt **)bt_target_iscsi_slot(t);

	if (!*ft)
		*ft = calloc(1, sizeof(**ft));
	(*ft)->nsessions = n;
}

void bt_iscsi_target_gone(struct bt_target *t)
{
	void **slot = bt_target_iscsi_slot(t);

	host_of(t)->target_gone++;
	free(*slot);
	*slot = NULL;
}

unsigned bt_iscsi_target_nsessions(const struct bt_target *t)
{
	struct fake_tgt *ft = *bt_target_iscsi_slot((struct bt_target *)t);

	return ft ? ft->nsessions : 0;
}

void bt_iscsi_sessions(struct bt_target *t,
		       void (*cb)(void *arg, const struct bt_session_info *si),
		       void *arg)
{
	unsigned i, n = bt_iscsi_target_nsessions(t);

	for (i = 0; i < n; i++) {
		struct bt_session_info si = {
			.initiator = "iqn.1994-05.com.redhat:client",
			.isid = { 0x40, 0, 0, 0, 0, (u8)i },
			.tsih = (u16)(i + 1),
			.id = 100 + i,
			.nconns = 1,
			.peer = "127.0.0.1:50000",
			.local = "127.0.0.1:3260",
			.cmds = 7,
		};
		cb(arg, &si);
	}
}

/* ---- SCSI layer --------------------------------------------------------- */

struct bt_lu {
	struct fake_host *h;
	char *path, *uid;
	u32 bs;
	char naa[33];
};

int bt_lu_create(struct bt_engine *e, const struct bt_lun_cfg *cfg,
		 const char *fallback_uid, struct bt_lu **out)
{
	struct fake_host *h = bt_engine_host(e);
	struct bt_lu *lu;

	h->lu_open_tries++;
	if (!strncmp(cfg->path, FAKE_MISSING_PATH, strlen(FAKE_MISSING_PATH)) ||
	    (h->fail_path && !strcmp(cfg->path, h->fail_path)))
		return -BT_ENOENT;
	lu = calloc(1, sizeof(*lu));
	lu->h = h;
	h->lu_opens++;
	lu->path = strdup(cfg->path);
	lu->uid = strdup(cfg->uid ? cfg->uid : fallback_uid);
	lu->bs = cfg->block_size ? cfg->block_size : 512;
	snprintf(lu->naa, sizeof(lu->naa), "6%031x", (unsigned)strlen(lu->uid));
	lu->h->lu_live++;
	*out = lu;
	return 0;
}

void bt_lu_destroy(struct bt_lu *lu)
{
	lu->h->lu_live--;
	lu->h->lu_closes++;
	free(lu->path);
	free(lu->uid);
	free(lu);
}

u64 bt_lu_blocks(const struct bt_lu *lu) { return 2048; }
u32 bt_lu_block_size(const struct bt_lu *lu) { return lu->bs; }
const char *bt_lu_path(const struct bt_lu *lu) { return lu->path; }
const char *bt_lu_uid(const struct bt_lu *lu) { return lu->uid; }
const char *bt_lu_naa_hex(const struct bt_lu *lu) { return lu->naa; }
const char *bt_lu_serial(const struct bt_lu *lu) { return "SERIAL0001"; }

void bt_scsi_target_gone(struct bt_target *t)
{
	host_of(t)->scsi_gone++;
}

void bt_scsi_luns_changed(struct bt_target *t)
{
	host_of(t)->luns_changed++;
}
