/*
 * test_scsi_harness.c - see test_scsi_harness.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_iscsi.h"
#include "test_scsi_harness.h"

/* ---- iSCSI layer stubs (engine.c calls these) --------------------------- */
int bt_iscsi_engine_init(struct bt_engine *e) { return 0; }
void bt_iscsi_engine_fini(struct bt_engine *e) { }
void bt_iscsi_target_gone(struct bt_target *t) { }
unsigned bt_iscsi_target_nsessions(const struct bt_target *t) { return 0; }
void bt_iscsi_tick(struct bt_engine *e, u64 now_ms) { }
void bt_iscsi_shutdown(struct bt_engine *e) { }
unsigned bt_iscsi_nconns(struct bt_engine *e) { return 0; }
void bt_iscsi_sessions(struct bt_target *t,
		       void (*cb)(void *arg, const struct bt_session_info *si),
		       void *arg) { }

/* ---- harness ------------------------------------------------------------ */

static void th_done(struct bt_cmd *cmd)
{
	struct th *th = cmd->tpriv;

	th->ndone++;
}

int th_init(struct th *th, bool deferred)
{
	int rc;

	memset(th, 0, sizeof(*th));
	memhost_init(&th->host, deferred);
	th->e = bt_engine_new(&membdev_ops, &th->host);
	if (!th->e)
		return -BT_ENOMEM;
	rc = bt_target_add(th->e, TH_IQN);
	if (rc < 0)
		return rc;
	/* LU backings attach only on enable or attach: open them without a
	 * transport (and without LUNs-changed unit attentions). */
	rc = bt_target_attach(th->e, TH_IQN);
	if (rc < 0)
		return rc;
	th->tgt = bt_target_find(th->e, TH_IQN);
	th->nexus.initiator = TH_INIT;
	memcpy(th->nexus.isid, "\x80\x12\x34\x56\x00\x01", 6);
	th->nexus.tsih = 1;
	th->nexus.tpgt = 1;
	th->nexus.rel_port = 1;
	th->nexus.target = th->tgt;
	th->nexus.id = 7;
	return bt_scsi_nexus_add(&th->nexus);
}

int th_add_lun(struct th *th, u64 lun, const struct th_lun *c)
{
	struct bt_lun_cfg cfg;
	char path[64];

	snprintf(path, sizeof(path), "mem:%s%llu", c && c->keep ? "keep:" : "",
		 (unsigned long long)(c && c->size ? c->size : 1u << 20));
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.uid = c ? c->uid : NULL;
	cfg.block_size = c ? c->block_size : 0;
	cfg.readonly = c ? c->readonly : false;
	cfg.features = c ? c->features : 0;
	return bt_lun_add(th->e, TH_IQN, lun, &cfg);
}

struct bt_lu *th_lu(struct th *th, u64 lun)
{
	return bt_target_lu(th->tgt, lun);
}

void th_fini(struct th *th)
{
	memhost_run(&th->host);
	bt_cmd_release(&th->cmd);
	if (th->nexus.scsi_priv)
		bt_scsi_nexus_del(&th->nexus);
	if (th->e)
		bt_engine_free(th->e);
	th->e = NULL;
	memhost_fini(&th->host);
}

void th_cmd_init(struct th *th, struct bt_cmd *cmd, u64 lun, const u8 *cdb,
		 unsigned cdb_len, enum bt_dir dir, u32 exp_len,
		 const void *out, u32 out_len)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->target = th->tgt;
	cmd->nexus = &th->nexus;
	cmd->lun = lun;
	cmd->lu = bt_target_lu(th->tgt, lun);
	memcpy(cmd->cdb, cdb, cdb_len);
	cmd->cdb_len = cdb_len < 16 ? 16 : cdb_len;
	cmd->dir = dir;
	cmd->task_attr = BT_TASK_SIMPLE;
	cmd->tag = 0x1000 + th->ndone;
	cmd->exp_len = exp_len;
	cmd->out = (u8 *)out;
	cmd->out_len = out_len;
	cmd->done = th_done;
	cmd->tpriv = th;
}

struct bt_cmd *th_run(struct th *th, u64 lun, const u8 *cdb, unsigned cdb_len,
		      enum bt_dir dir, u32 exp_len, const void *out, u32 out_len)
{
	unsigned before;

	bt_cmd_release(&th->cmd);
	th_cmd_init(th, &th->cmd, lun, cdb, cdb_len, dir, exp_len, out, out_len);
	before = th->ndone;
	bt_scsi_submit(&th->cmd);
	memhost_run(&th->host);
	if (th->ndone != before + 1) {
		fprintf(stderr, "th_run: done called %u times\n", th->ndone - before);
		abort();
	}
	return &th->cmd;
}

void th_clear_ua(struct th *th, u64 lun)
{
	static const u8 tur[6] = { 0 };
	int i;

	for (i = 0; i < 8; i++)
		if (th_run(th, lun, tur, 6, BT_DIR_NONE, 0, NULL, 0)->status ==
		    BT_SAM_GOOD)
			return;
}

bool th_sense(const struct bt_cmd *c, struct th_sense *s)
{
	const u8 *p = c->sense;
	u32 i, len;

	memset(s, 0, sizeof(*s));
	if (c->sense_len < 8)
		return false;
	switch (p[0] & 0x7f) {
	case 0x70:
	case 0x71:
		s->key = p[2] & 0x0f;
		s->asc = p[12];
		s->ascq = p[13];
		s->info_valid = p[0] & 0x80;
		s->info = ((u64)p[3] << 24) | (p[4] << 16) | (p[5] << 8) | p[6];
		s->sksv = p[15] & 0x80;
		memcpy(s->sks, p + 15, 3);
		return true;
	case 0x72:
	case 0x73:
		s->desc = true;
		s->key = p[1] & 0x0f;
		s->asc = p[2];
		s->ascq = p[3];
		len = 8 + p[7];
		for (i = 8; i + 2 <= len && i + 2 + p[i + 1] <= len; i += 2 + p[i + 1]) {
			if (p[i] == 0x00 && p[i + 1] == 0x0a) {
				s->info_valid = p[i + 2] & 0x80;
				s->info = bt_get_be64(p + i + 4);
			} else if (p[i] == 0x02 && p[i + 1] == 0x06) {
				s->sksv = p[i + 4] & 0x80;
				memcpy(s->sks, p + i + 4, 3);
			}
		}
		return true;
	default:
		return false;
	}
}

bool th_is_sense(const struct bt_cmd *c, u8 key, u8 asc, u8 ascq)
{
	struct th_sense s;

	if (c->status != BT_SAM_CHECK_CONDITION || !th_sense(c, &s))
		return false;
	return s.key == key && s.asc == asc && s.ascq == ascq;
}

struct th *th_new_lun0(u64 size, const char *uid)
{
	struct th *th = calloc(1, sizeof(*th));
	struct th_lun c = { .size = size, .uid = uid };

	if (!th)
		return NULL;
	if (th_init(th, false) < 0 || th_add_lun(th, 0, &c) < 0) {
		th_free(th);
		return NULL;
	}
	th_clear_ua(th, 0);
	return th;
}

void th_free(struct th *th)
{
	if (!th)
		return;
	th_fini(th);
	free(th);
}

int th_add_nexus_b(struct th *th, struct bt_nexus *a, struct bt_nexus *b)
{
	*a = th->nexus;
	*b = th->nexus;
	b->initiator = TH_INIT2;
	b->id = 20;
	b->scsi_priv = NULL;
	return bt_scsi_nexus_add(b);
}

struct bt_cmd *th_run_as(struct th *th, struct bt_nexus *n, u64 lun,
			 const u8 *cdb, unsigned cdb_len, enum bt_dir dir,
			 u32 exp_len, const void *out, u32 out_len)
{
	struct bt_nexus saved = th->nexus;
	struct bt_cmd *c;

	th->nexus = *n;
	c = th_run(th, lun, cdb, cdb_len, dir, exp_len, out, out_len);
	*n = th->nexus;
	th->nexus = saved;
	return c;
}

void th_clear_ua_as(struct th *th, struct bt_nexus *n, u64 lun)
{
	struct bt_nexus saved = th->nexus;

	th->nexus = *n;
	th_clear_ua(th, lun);
	*n = th->nexus;
	th->nexus = saved;
}
