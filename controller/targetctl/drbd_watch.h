/*
 * drbd_watch.h - while `bollard target enable --wait` retries, is the DRBD
 * promote that would let its LUNs open ever coming to this node?
 *
 * Pure: the caller reads DRBD 8.4's /proc/drbd and the clock, this file
 * only parses the text and decides (drbd_watch.c says why these states).
 * One minor's line looks like
 *    0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----
 *    1: cs:Unconfigured
 * followed by indented detail lines (ns:..., a resync's progress bar).
 */
#ifndef BL_DRBD_WATCH_H
#define BL_DRBD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A minor's line in /proc/drbd, DRBD's own words ("" when not said). */
struct dw_minor {
	bool present;                 /* the minor has a line               */
	char cs[24];                  /* "Connected", "Unconfigured", ...   */
	char role[16], peer_role[16]; /* ro:Secondary/Primary               */
	char disk[24], peer_disk[24]; /* ds:UpToDate/DUnknown               */
};

/*
 * Find minor's line in text (len bytes, need not be NUL-terminated).
 * Returns 0 (m->present says whether it is there; other lines, detail
 * lines and garbage are skipped), or -ENOTSUP when the text is DRBD 9's
 * (its /proc/drbd has a version but no line per minor: nothing can be
 * judged from it).
 */
int dw_proc_minor(const char *text, size_t len, unsigned minor,
		  struct dw_minor *m);

enum dw_verdict {
	DW_WAIT = 0,          /* may still become Primary here: keep trying */
	DW_PEER_PRIMARY,      /* Secondary here, the peer Primary           */
	DW_DISK,              /* local disk Diskless/Failed/Outdated/Inconsistent */
	DW_UNCONFIGURED,      /* cs:Unconfigured                            */
	DW_MISSING,           /* no line for the minor                      */
};

enum dw_verdict dw_judge(const struct dw_minor *m);

/* "/dev/drbdN" (exactly, N decimal without sign) -> 0 and *minor;
 * anything else -EINVAL. Symlinks are the caller's business (realpath). */
int dw_dev_minor(const char *path, unsigned *minor);

/* One watched minor. Zero it, then set minor and dev. */
struct dw_track {
	unsigned minor;
	char dev[128];                /* as the LUN names it, for messages  */
	enum dw_verdict verdict;      /* DW_WAIT until seen hopeless        */
	uint64_t since_ms;            /* since when verdict has held        */
	struct dw_minor seen;         /* the last parse, for the message    */
};

/*
 * One look at /proc/drbd's text at now_ms (any monotonic clock). A minor
 * whose verdict is not DW_WAIT starts its clock when the verdict first
 * appears and restarts it when the verdict changes; DW_WAIT stops it.
 * Returns the index of the first minor whose verdict has held for at
 * least grace_ms, else -1. Text that cannot be judged (-ENOTSUP from
 * dw_proc_minor, or text NULL: the file could not be read) stops every
 * clock: "continuously" means every look in between agreed.
 */
int dw_step(struct dw_track *t, size_t n, const char *text, size_t len,
	    uint64_t now_ms, uint64_t grace_ms);

/*
 * The sentence for t (its verdict held for grace_ms), naming the device,
 * its state as proc (the file's path) shows it, and the conclusion, e.g.
 * "/dev/drbd0 is Secondary and its peer Primary for 10 s (/proc/drbd:
 * cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate): the promote is
 * not coming here; giving up".
 */
void dw_describe(const struct dw_track *t, uint64_t grace_ms, const char *proc,
		 char *buf, size_t len);

#endif
