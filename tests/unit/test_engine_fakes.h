/*
 * test_engine_fakes.h - stand-ins for the host (bt_os.h) and for the iSCSI
 * and SCSI layers, so engine.c / mgmt.c / nla.c are tested alone. State
 * lives in a struct fake_host passed as the engine's host pointer (no
 * globals).
 */
#ifndef TEST_ENGINE_FAKES_H
#define TEST_ENGINE_FAKES_H

#include "bt_engine.h"
#include "bt_iscsi.h"
#include "bt_scsi.h"

struct fake_host {
	unsigned luns_changed;        /* bt_scsi_luns_changed calls          */
	unsigned target_gone;         /* bt_iscsi_target_gone calls          */
	unsigned lu_live;             /* LUs created and not yet destroyed   */
	unsigned lu_opens;            /* successful bt_lu_create (backing
	                               * opened)                             */
	unsigned lu_closes;           /* bt_lu_destroy (backing closed)      */
	unsigned lu_open_tries;       /* bt_lu_create calls, failed or not   */
	const char *fail_path;        /* bt_lu_create of exactly this path
	                               * fails (-ENOENT); NULL: none         */
	unsigned events;              /* ops->event calls                    */
	int last_event;
	unsigned ticks;               /* bt_iscsi_tick calls                 */
	unsigned shutdowns;           /* bt_iscsi_shutdown calls             */
	unsigned scsi_gone;           /* bt_scsi_target_gone calls           */
};

/* Per-target fake iSCSI state, kept in the target's iSCSI slot. */
struct fake_tgt {
	unsigned nsessions;
};

extern const struct bt_host_ops fake_ops;

/* Pretend n sessions are logged in to t (0 removes them). */
void fake_set_sessions(struct bt_target *t, unsigned n);

/* bt_lu_create fails with -ENOENT for paths starting with this. */
#define FAKE_MISSING_PATH "/nonexistent"

#endif
