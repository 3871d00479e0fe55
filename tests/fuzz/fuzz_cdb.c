/*
 * fuzz_cdb.c - libFuzzer target for the SCSI layer: sequences of random
 * CDBs with random Data-Out and expected lengths against LUs on the memory
 * backend, with inline or deferred (reordered) I/O completion, TMFs and
 * LUN deletion with commands in flight. Must never crash, leak, or call
 * done() other than exactly once per command.
 *
 * Input: [config byte] then records of
 *   [kind][cdb selector][16 CDB bytes][exp_len 2][out_len 2][out bytes...]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_scsi_harness.h"

#define SLOTS 8

static const u8 known_ops[] = {
	0x00, 0x03, 0x08, 0x0a, 0x12, 0x15, 0x16, 0x17, 0x1a, 0x1b, 0x1e,
	0x25, 0x28, 0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x37, 0x41, 0x42, 0x55,
	0x56, 0x57, 0x5a, 0x5e, 0x5f, 0x83, 0x84, 0x88, 0x89, 0x8a, 0x8b,
	0x8e, 0x8f, 0x90, 0x91, 0x93, 0x9e, 0xa0, 0xa3, 0xa8, 0xaa, 0xae,
	0xaf, 0xb7,
};

struct slot {
	struct bt_cmd cmd;
	u8 *out;
	bool busy;
	unsigned done_before;
};

struct fz {
	struct th th;
	struct slot s[SLOTS];
};

static unsigned cdb_len_of(u8 op)
{
	switch (op >> 5) {
	case 0: return 6;
	case 1: case 2: return 10;
	case 4: return 16;
	case 5: return 12;
	default: return 16;
	}
}

/* Release a slot's command once it has completed. */
static void reap(struct fz *f)
{
	unsigned i;

	for (i = 0; i < SLOTS; i++) {
		struct slot *s = &f->s[i];

		if (!s->busy || s->cmd.spriv)
			continue;
		if (s->cmd.in_len > 0 && !s->cmd.in)
			abort();
		bt_cmd_release(&s->cmd);
		free(s->out);
		s->out = NULL;
		s->busy = false;
	}
}

static struct slot *free_slot(struct fz *f)
{
	unsigned i;

	for (i = 0; i < SLOTS; i++)
		if (!f->s[i].busy)
			return &f->s[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f;
	struct th_lun c0 = { .size = 64 * 512, .uid = "fuzz" };
	struct th_lun c1 = { .size = 16 * 4096 + 100, .block_size = 4096 };
	size_t pos = 0;
	u8 cfg;
	unsigned i;

	if (size < 1)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return 0;
	cfg = data[pos++];
	c0.features = (cfg & 0x0f) == 0 ? 0 : (cfg & 0x0f);
	c1.readonly = cfg & 0x10;
	if (th_init(&f->th, cfg & 0x20) < 0 || th_add_lun(&f->th, 0, &c0) < 0 ||
	    th_add_lun(&f->th, 1, &c1) < 0)
		goto out_fini;

	while (pos + 22 <= size) {
		u8 kind = data[pos], sel = data[pos + 1];
		const u8 *cdb = data + pos + 2;
		u32 exp = (u32)data[pos + 18] << 8 | data[pos + 19];
		u32 olen = (u32)data[pos + 20] << 8 | data[pos + 21];
		struct slot *s;
		u8 c[16];
		u64 lun;

		pos += 22;
		if (olen > size - pos)
			olen = (u32)(size - pos);
		switch (kind & 0x07) {
		case 0:                        /* complete some deferred I/O */
			for (i = 0; i < (kind >> 3) && f->th.host.npending; i++)
				memhost_complete_one(&f->th.host,
						     sel % f->th.host.npending);
			reap(f);
			continue;
		case 1:                        /* task management */
			bt_scsi_tmf(&f->th.nexus, (enum bt_tmf)(1 + sel % 7),
				    sel & 0x80 ? 1 : 0, exp);
			reap(f);
			continue;
		case 2:                        /* LUN churn */
			if (sel & 1)
				bt_lun_del(f->th.e, TH_IQN, sel & 2 ? 1 : 0, true);
			else
				th_add_lun(&f->th, sel & 2 ? 1 : 0, sel & 4 ? &c1 : &c0);
			if (sel & 8)
				bt_scsi_luns_changed(f->th.tgt);
			continue;
		case 3:                        /* host error on the next io */
			f->th.host.fail_next = sel & 1 ? -BT_EIO : -BT_ENOMEM;
			continue;
		default:
			break;
		}
		reap(f);
		s = free_slot(f);
		if (!s) {
			memhost_run(&f->th.host);
			reap(f);
			s = free_slot(f);
			if (!s)
				abort();
		}
		memcpy(c, cdb, 16);
		if (sel & 0x80)
			c[0] = known_ops[sel % sizeof(known_ops)];
		lun = (kind & 0x08) ? 1 : (kind & 0x10) ? 5 : 0;
		s->out = olen ? malloc(olen) : NULL;
		if (olen)
			memcpy(s->out, data + pos, olen);
		pos += olen;
		th_cmd_init(&f->th, &s->cmd, lun, c, cdb_len_of(c[0]),
			    olen ? BT_DIR_WRITE : BT_DIR_READ, exp, s->out, olen);
		s->busy = true;
		s->done_before = f->th.ndone;
		bt_scsi_submit(&s->cmd);
		if ((kind & 0x20) == 0) {
			memhost_run(&f->th.host);
			reap(f);
		}
	}
	memhost_run(&f->th.host);
	reap(f);
	for (i = 0; i < SLOTS; i++)
		if (f->s[i].busy)
			abort();               /* a command never completed */
out_fini:
	th_fini(&f->th);
	free(f);
	return 0;
}
