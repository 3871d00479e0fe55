/*
 * membdev.h - a memory backend for SCSI-layer tests and the CDB fuzzer:
 * struct bt_host_ops bdev_* over heap buffers, with inline or deferred
 * completion, per-op counters, the last submitted io, one-shot error
 * injection, and counts of the engine's events. The struct memhost is the engine's host pointer (no globals).
 *
 * Paths: "mem:<bytes>" opens a new zero-filled device of that size; any
 * other path fails with -ENOENT. Devices are freed at bdev_close (so a test
 * can observe that the LU closed its backing). "mem:keep:<bytes>" is the
 * host's one kept device: created zero-filled on first open, reopened with
 * its contents by later opens (a restart on the same backing), freed by
 * memhost_fini.
 */
#ifndef MEMBDEV_H
#define MEMBDEV_H

#include "bt_engine.h"

#define MEMHOST_MAX_PENDING 256
#define MEMHOST_NEVENT      8

struct membdev {
	u8 *data;
	u64 size;
	bool ro;
};

struct memhost {
	bool deferred;                 /* queue completions until memhost_run */
	struct bt_io *pending[MEMHOST_MAX_PENDING];
	struct membdev *pending_dev[MEMHOST_MAX_PENDING];
	unsigned npending;
	unsigned nsubmit[BT_IO_WRITE_ZEROES + 1];
	struct bt_io last;             /* copy of the last submitted io       */
	int fail_next;                 /* if <0: next io completes with it    */
	unsigned opened, closed;
	struct membdev *last_dev;      /* the most recently opened device     */
	struct membdev *keep;          /* "mem:keep:..." device, or NULL      */
	unsigned nevent[MEMHOST_NEVENT]; /* host events, by BT_EV_* type      */
	/* bdev_map_status: false answers "mapped" like a block device; true
	 * reports all-zero 4 KiB pages as holes, as a sparse file would. */
	bool sparse;
};

extern const struct bt_host_ops membdev_ops;

void memhost_init(struct memhost *h, bool deferred);
/* Free the kept device. */
void memhost_fini(struct memhost *h);
/* Complete queued ios in submission order; returns how many. */
unsigned memhost_run(struct memhost *h);
/* Complete only the i-th queued io (0 = oldest). */
void memhost_complete_one(struct memhost *h, unsigned i);

#endif
