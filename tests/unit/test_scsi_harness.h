/*
 * test_scsi_harness.h - drives the SCSI layer the way the iSCSI transport
 * does: the real object model (engine.c) with one target and LUs on the
 * memory backend (membdev), one I_T nexus, and a helper that builds a
 * struct bt_cmd, submits it and parses the sense data. The iSCSI layer's
 * hooks are stubbed (no sessions).
 */
#ifndef TEST_SCSI_HARNESS_H
#define TEST_SCSI_HARNESS_H

#include "bt_engine.h"
#include "bt_scsi.h"
#include "membdev.h"

#define TH_IQN  "iqn.2026-11.io.bollard.test:tgt"
#define TH_INIT "iqn.2026-11.io.bollard.test:init1"

struct th {
	struct memhost host;
	struct bt_engine *e;
	struct bt_target *tgt;
	struct bt_nexus nexus;
	struct bt_cmd cmd;
	unsigned ndone;               /* done() calls on any th cmd           */
};

struct th_lun {
	u64 size;                     /* bytes; 0: 1 MiB                      */
	u32 block_size;               /* 0: 512                               */
	u32 features;                 /* 0: defaults                          */
	bool readonly;
	const char *uid;              /* NULL: fallback                       */
	bool keep;                    /* the host's kept device (membdev.h)   */
};

/* Engine + target + nexus; no LUN yet. Returns 0 or a negative code. */
int  th_init(struct th *th, bool deferred);
int  th_add_lun(struct th *th, u64 lun, const struct th_lun *cfg);
void th_fini(struct th *th);
struct bt_lu *th_lu(struct th *th, u64 lun);

/* Fill cmd for this nexus (does not submit). */
void th_cmd_init(struct th *th, struct bt_cmd *cmd, u64 lun, const u8 *cdb,
		 unsigned cdb_len, enum bt_dir dir, u32 exp_len,
		 const void *out, u32 out_len);
/* Release th->cmd's previous result, run one command on th->cmd, and (in
 * deferred mode) complete all I/O. Returns &th->cmd; done was called. */
struct bt_cmd *th_run(struct th *th, u64 lun, const u8 *cdb, unsigned cdb_len,
		      enum bt_dir dir, u32 exp_len, const void *out, u32 out_len);
/* Eat the power-on unit attention of (nexus, lun). */
void th_clear_ua(struct th *th, u64 lun);

/* A heap harness with LUN 0 (size bytes, uid) and its unit attention
 * eaten: the fixture of the single-initiator suites. NULL on failure. */
struct th *th_new_lun0(u64 size, const char *uid);
void th_free(struct th *th);             /* th_fini + free; NULL ignored */

/* Two initiators (PR, ALUA): *a becomes th->nexus, *b a second nexus of
 * TH_INIT2 on the same target, registered with the SCSI layer. Delete b
 * with bt_scsi_nexus_del before th_fini (if b->scsi_priv is set). */
#define TH_INIT2 "iqn.2026-11.io.bollard.test:init2"
int th_add_nexus_b(struct th *th, struct bt_nexus *a, struct bt_nexus *b);
/* th_run as nexus n: n's state is updated, th->nexus is left as it was. */
struct bt_cmd *th_run_as(struct th *th, struct bt_nexus *n, u64 lun,
			 const u8 *cdb, unsigned cdb_len, enum bt_dir dir,
			 u32 exp_len, const void *out, u32 out_len);
/* th_clear_ua as nexus n. */
void th_clear_ua_as(struct th *th, struct bt_nexus *n, u64 lun);

struct th_sense {
	u8 key, asc, ascq;
	bool desc;                    /* descriptor format                    */
	bool info_valid;
	u64 info;
	bool sksv;
	u8 sks[3];
};
/* Parse cmd->sense (fixed or descriptor). false if there is none. */
bool th_sense(const struct bt_cmd *c, struct th_sense *s);
/* CHECK CONDITION with exactly this key/asc/ascq? */
bool th_is_sense(const struct bt_cmd *c, u8 key, u8 asc, u8 ascq);

#endif
