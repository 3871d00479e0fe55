/*
 * scsi_pr_store.c - persistent-reservation state kept on the LU's own
 * backing device, so it survives a restart of the target and a failover to
 * the DRBD peer (the region is replicated with the data), with no
 * dependency on etcd or a node-local file. Opt-in per LUN: BT_FEAT_PR_STORE.
 *
 * Region
 * ------
 * With the feature on, the LU reserves the end of its backing:
 *
 *   region_off = round_down(dev_bytes - 1 MiB, 64 KiB)
 *
 * and reports a capacity of region_off / block_size blocks
 * (bt_lu_set_reserved_tail). The region is 1 MiB from region_off; the
 * bytes after it (less than 64 KiB) are unused. The 64 KiB alignment makes
 * the region start on a block boundary for every block size we accept, and
 * every store I/O is 4 KiB aligned in offset and length. A backing smaller
 * than 2 MiB is refused (BT_E_BAD_ATTR). The offset depends only on the
 * device size: growing a device moves the region (the new tail is zeros, so
 * the store starts fresh and the old slots become ordinary data blocks).
 *
 * Two slots of 512 KiB, slot i at region_off + i * 512 KiB. A slot is
 *
 *   0  magic "BLPRSTOR"            16 seq (u64, big endian)
 *   8  format version (u32) = 1    24 CRC32C of the payload
 *   12 payload length (u32)        28 CRC32C of header bytes 0..27
 *   32..63 zero                    64 payload (scsi_prs_encode)
 *
 * A slot is valid when magic, version, length, both CRCs and the payload's
 * structure check out. Load takes the valid slot with the highest seq; a
 * torn or corrupt slot is simply not valid. A write goes to slot
 * (seq + 1) % 2 with seq + 1, i.e. always to the slot that does not hold
 * the newest valid state, so a torn write can only lose the change being
 * written (whose command then fails), never the previous state.
 *
 * Data safety: a region with no valid slot is fresh only if it is all
 * zeros. Anything else is somebody's data (a LUN that had no PR store, or
 * whose device was used for something else): the LU refuses to attach
 * with BT_E_PR_FOREIGN instead of overwriting it. Two corrupt slots are
 * indistinguishable from foreign data and are refused the same way: the
 * operator zeroes the region (documented in docs/kernel.md) to start over.
 *
 * When it is written
 * ------------------
 * PERSISTENT RESERVE OUT changes the state in memory, then writes the new
 * image with BT_IO_FUA (stable when it completes) and BT_IO_PRIO, and only
 * then completes the command. If the write fails, the in-memory state is
 * restored from the copy taken before the service action and the command
 * fails (MEDIUM ERROR / WRITE ERROR, or what scsi_io_error maps). One PR OUT
 * is in flight per LU: PR IN and PR OUT arriving meanwhile wait (FIFO), so
 * no initiator reads a state that is not yet durable through PR IN. Other
 * commands are checked against the in-memory (new) state at once; should
 * the write fail, a command in that window may have seen the reservation
 * that is then rolled back. Unit attentions queued and tasks aborted by a
 * PREEMPT AND ABORT are not undone by a rollback.
 *
 * Loading
 * -------
 * The load reads the whole region through the host ops when the LU is
 * created (bt_lu_create, i.e. on enable / bt_target_attach / lun add on an
 * attached target). Host I/O may complete inline (memory backend, the
 * userspace host when the page cache has the region) or later (io_uring,
 * bios). Inline, the verdict is known before bt_lu_create returns, and a
 * foreign region makes it fail. Later, the LU exists but every command to
 * it (except INQUIRY, REPORT LUNS, REQUEST SENSE) waits until the load is
 * done; if the load then finds foreign data or fails, the LU is fenced: it
 * never writes the region and answers NOT READY, MANUAL INTERVENTION
 * REQUIRED, and the log says why.
 *
 * APTPL
 * -----
 * Decision: with the store on, the state is persisted always, whatever the
 * APTPL bit. SPC-4 ties APTPL to power loss of the target device. A restart
 * of the target process or a failover to the peer is not a power loss from
 * the initiator's point of view: cluster software (Windows failover
 * clustering, fence_scsi, VMware) registers without APTPL and still expects
 * keys and reservations to survive a controller failover, as they do on
 * dual-controller arrays. The APTPL bit is recorded, stored and reported
 * (REPORT CAPABILITIES: PTPL_C = store on, PTPL_A = last APTPL bit); with
 * the store off, APTPL=1 is refused (INVALID FIELD IN PARAMETER LIST) since
 * nothing would persist.
 */
#include "scsi_int.h"
#include "crc32c.h"

#define PRS_REGION      (1024u * 1024u)
#define PRS_ALIGN       (64u * 1024u)
#define PRS_SLOT        (PRS_REGION / 2)
#define PRS_HDR         64u
#define PRS_IO_ALIGN    4096u
#define PRS_VERSION     1u
#define PRS_PAYLOAD_MAX (PRS_SLOT - PRS_HDR)

static const u8 prs_magic[8] = { 'B', 'L', 'P', 'R', 'S', 'T', 'O', 'R' };

/* ---- payload encoding ----------------------------------------------------
 *   0 u32 PR generation     4 u8 type      5 u8 flags (bit 0: APTPL)
 *   6 u16 registrations     8 u16 holder (index + 1; 0: none)
 *  10 u16 reserved
 *  12 per registration: u64 key, u8 isid[6], u16 tpgt, u16 rel_port,
 *     u8 flags (bit 0 ALL_TG_PT, bit 1 any ISID), u8 name length,
 *     name bytes (no NUL)
 */
#define PAY_FIXED 12u
#define REG_FIXED 20u

static u32 name_len(const struct scsi_pr_reg *r)
{
	return (u32)bt_strlen(r->initiator);
}

u32 scsi_prs_encoded_size(const struct bt_lu *lu)
{
	const struct scsi_pr_reg *r;
	u32 n = PAY_FIXED;

	for (r = lu->pr.regs; r; r = r->next)
		n += REG_FIXED + name_len(r);
	return n;
}

void scsi_prs_encode(const struct bt_lu *lu, u8 *buf)
{
	const struct scsi_pr_reg *r;
	u8 *p = buf + PAY_FIXED;
	u16 i = 0, holder = 0;

	for (r = lu->pr.regs; r; r = r->next) {
		u32 nl = name_len(r);

		i++;
		if (r == lu->pr.holder)
			holder = i;
		bt_put_be64(p, r->key);
		bt_memcpy(p + 8, r->isid, 6);
		bt_put_be16(p + 14, r->tpgt);
		bt_put_be16(p + 16, r->rel_port);
		p[18] = (u8)((r->all_tg_pt ? 1 : 0) | (r->isid_any ? 2 : 0));
		p[19] = (u8)nl;
		bt_memcpy(p + REG_FIXED, r->initiator, nl);
		p += REG_FIXED + nl;
	}
	bt_put_be32(buf, lu->pr.generation);
	buf[4] = lu->pr.type;
	buf[5] = lu->pr.aptpl ? 1 : 0;
	bt_put_be16(buf + 6, i);
	bt_put_be16(buf + 8, holder);
	bt_put_be16(buf + 10, 0);
}

static bool type_ok(u8 type)
{
	return type == 0 || type == 1 || type == 3 || type == 5 || type == 6 ||
	       type == 7 || type == 8;
}

static bool no_nul(const u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (!p[i])
			return false;
	return true;
}

/* Check the structure of a payload without building anything. */
static bool payload_valid(const u8 *buf, u32 len)
{
	u32 off = PAY_FIXED, i, n, nl;
	u16 holder;

	if (len < PAY_FIXED || !type_ok(buf[4]) || (buf[5] & ~1u))
		return false;
	n = bt_get_be16(buf + 6);
	holder = bt_get_be16(buf + 8);
	if (n > SCSI_PR_MAX_REGS || holder > n)
		return false;
	/* a reservation of a single-holder type needs its holder */
	if (buf[4] && buf[4] != 7 && buf[4] != 8 && !holder)
		return false;
	if (!buf[4] && holder)
		return false;
	for (i = 0; i < n; i++) {
		if (len - off < REG_FIXED)
			return false;
		nl = buf[off + 19];
		if (nl > SCSI_PR_NAME_MAX || len - off - REG_FIXED < nl ||
		    (buf[off + 18] & ~3u))
			return false;
		if (!no_nul(buf + off + REG_FIXED, nl))
			return false;
		off += REG_FIXED + nl;
	}
	return off == len;
}

int scsi_prs_decode(struct bt_lu *lu, const u8 *buf, u32 len)
{
	struct scsi_pr_reg *r, **tail;
	u32 off = PAY_FIXED, i, n, nl;
	u16 holder;

	if (!payload_valid(buf, len))
		return -BT_EINVAL;
	scsi_pr_free(lu);
	n = bt_get_be16(buf + 6);
	holder = bt_get_be16(buf + 8);
	tail = &lu->pr.regs;
	for (i = 0; i < n; i++) {
		const u8 *p = buf + off;

		nl = p[19];
		r = bt_zalloc(sizeof(*r) + nl + 1);
		if (!r) {
			scsi_pr_free(lu);
			return -BT_ENOMEM;
		}
		r->key = bt_get_be64(p);
		bt_memcpy(r->isid, p + 8, 6);
		r->tpgt = bt_get_be16(p + 14);
		r->rel_port = bt_get_be16(p + 16);
		r->all_tg_pt = p[18] & 1;
		r->isid_any = (p[18] & 2) != 0;
		bt_memcpy(r->initiator, p + REG_FIXED, nl);
		*tail = r;
		tail = &r->next;
		lu->pr.nregs++;
		if (i + 1 == holder)
			lu->pr.holder = r;
		off += REG_FIXED + nl;
	}
	lu->pr.generation = bt_get_be32(buf);
	lu->pr.type = buf[4];
	lu->pr.aptpl = buf[5] & 1;
	return 0;
}

/* ---- slots --------------------------------------------------------------- */

static u32 hdr_crc(const struct bt_lu *lu, const u8 *slot)
{
	return bt_crc32c(lu->prs.crc, slot, 28);
}

/* Valid slot? *seq gets its sequence. */
static bool slot_valid(const struct bt_lu *lu, const u8 *slot, u64 *seq)
{
	u32 len;

	if (bt_memcmp(slot, prs_magic, 8) != 0 ||
	    bt_get_be32(slot + 8) != PRS_VERSION)
		return false;
	if (bt_get_be32(slot + 28) != hdr_crc(lu, slot))
		return false;
	len = bt_get_be32(slot + 12);
	if (len > PRS_PAYLOAD_MAX ||
	    bt_get_be32(slot + 24) != bt_crc32c(lu->prs.crc, slot + PRS_HDR, len))
		return false;
	if (!payload_valid(slot + PRS_HDR, len))
		return false;
	*seq = bt_get_be64(slot + 16);
	return *seq != 0;
}

static bool all_zero(const u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Build a slot image for seq around the current state into img (len
 * bytes, a multiple of PRS_IO_ALIGN, zero-filled by the caller). */
static void slot_build(const struct bt_lu *lu, u8 *img, u32 plen, u64 seq)
{
	bt_memcpy(img, prs_magic, 8);
	bt_put_be32(img + 8, PRS_VERSION);
	bt_put_be32(img + 12, plen);
	bt_put_be64(img + 16, seq);
	scsi_prs_encode(lu, img + PRS_HDR);
	bt_put_be32(img + 24, bt_crc32c(lu->prs.crc, img + PRS_HDR, plen));
	bt_put_be32(img + 28, hdr_crc(lu, img));
}

static u32 round_io(u32 n)
{
	return (n + PRS_IO_ALIGN - 1) & ~(PRS_IO_ALIGN - 1);
}

/* ---- held tasks ---------------------------------------------------------- */

static void hold(struct bt_lu *lu, struct scsi_task *t)
{
	t->pr_held = true;
	t->pr_next = NULL;
	if (lu->prs.held_tail)
		lu->prs.held_tail->pr_next = t;
	else
		lu->prs.held_head = t;
	lu->prs.held_tail = t;
}

void scsi_prs_unhold(struct scsi_task *t)
{
	struct scsi_pr_store *s = &t->lu->prs;
	struct scsi_task **pp, *prev = NULL;

	for (pp = &s->held_head; *pp; prev = *pp, pp = &(*pp)->pr_next) {
		if (*pp != t)
			continue;
		*pp = t->pr_next;
		if (s->held_tail == t)
			s->held_tail = prev;
		break;
	}
	t->pr_held = false;
	t->pr_next = NULL;
}

/* Re-dispatch every held task, in order. A task may be held again (it is
 * then appended behind the others, so the order is kept). */
static void release_held(struct bt_lu *lu)
{
	struct scsi_task *list = lu->prs.held_head, *t;

	lu->prs.held_head = lu->prs.held_tail = NULL;
	while ((t = list) != NULL) {
		list = t->pr_next;
		t->pr_held = false;
		t->pr_next = NULL;
		scsi_task_redispatch(t);
	}
}

static bool is_pr_cmd(u8 opcode)
{
	return opcode == 0x5e || opcode == 0x5f;
}

int scsi_prs_gate(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u8 op = t->cmd->cdb[0];

	if (lu->prs.state == PRS_OFF || lu->prs.state == PRS_READY) {
		if (lu->prs.busy && is_pr_cmd(op)) {
			hold(lu, t);
			return SCSI_PENDING;
		}
		return -1;
	}
	/* INQUIRY, REPORT LUNS, REQUEST SENSE do not depend on PR state */
	if (op == 0x12 || op == 0xa0 || op == 0x03)
		return -1;
	if (lu->prs.state == PRS_LOADING) {
		hold(lu, t);
		return SCSI_PENDING;
	}
	/* fenced: LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED */
	return scsi_sense(t, SK_NOT_READY, 0x0403);
}

/* ---- load ---------------------------------------------------------------- */

static void load_done(struct bt_io *io)
{
	struct bt_lu *lu = io->priv;
	struct scsi_pr_store *s = &lu->prs;
	u8 *buf = io->buf;
	u64 seq[2] = { 0, 0 };
	bool ok[2];
	int best = -1, i;

	io->buf = NULL;
	if (io->result < 0) {
		bt_warn("scsi: %s: PR store: reading the region failed (%d); LU fenced",
			lu->path, io->result);
		s->state = PRS_FENCED;
		s->fence_rc = BT_E_BACKEND;
		goto out_release;
	}
	for (i = 0; i < 2; i++) {
		ok[i] = slot_valid(lu, buf + (u32)i * PRS_SLOT, &seq[i]);
		if (ok[i] && (best < 0 || seq[i] > seq[best]))
			best = i;
	}
	if (best >= 0) {
		u8 *slot = buf + (u32)best * PRS_SLOT;

		if (scsi_prs_decode(lu, slot + PRS_HDR, bt_get_be32(slot + 12)) < 0) {
			bt_warn("scsi: %s: PR store: out of memory loading; LU fenced",
				lu->path);
			s->state = PRS_FENCED;
			s->fence_rc = -BT_ENOMEM;
			goto out_release;
		}
		s->seq = seq[best];
		s->state = PRS_READY;
		/* the other slot: never written (zero header), or torn/corrupt */
		if (!ok[!best] && !all_zero(buf + (u32)!best * PRS_SLOT, PRS_HDR))
			bt_warn("scsi: %s: PR store: slot %d not valid (torn or corrupt), "
				"loaded slot %d (seq %llu)", lu->path, !best, best,
				(unsigned long long)seq[best]);
	} else if (all_zero(buf, PRS_REGION)) {
		s->seq = 0;
		s->state = PRS_READY;
	} else {
		bt_warn("scsi: %s: PR store: the last MiB of the backing (offset %llu) "
			"holds data that is not a PR store; not overwriting it, LU fenced",
			lu->path, (unsigned long long)s->region_off);
		s->state = PRS_FENCED;
		s->fence_rc = BT_E_PR_FOREIGN;
	}
out_release:
	bt_free(buf);
	release_held(lu);
	scsi_lu_put(lu);              /* the load's reference (may free lu) */
}

/*
 * Is the whole region a hole (deallocated: reads give zeros)? Then it is a
 * fresh store and there is nothing to read. This is the common case of a
 * sparse volume file that never saw a PR OUT, and it keeps attaching many
 * LUNs cheap: reading 1 MiB per LUN made enabling a 10,000-LUN target take
 * 16x longer and held a 1 MiB buffer per LUN meanwhile. Hosts without the
 * op, and block devices (always "mapped"), read the region as before.
 */
static bool region_is_hole(struct bt_lu *lu, u64 off)
{
	const struct bt_host_ops *ops = bt_engine_ops(lu->e);
	u64 pos = off, end = off + PRS_REGION, len;

	if (!ops->bdev_map_status)
		return false;
	while (pos < end) {
		len = 0;
		if (ops->bdev_map_status(bt_engine_host(lu->e), lu->bdev, pos,
					 end - pos, &len) != 0 || !len || len > end - pos)
			return false;
		pos += len;
	}
	return true;
}

int scsi_prs_attach(struct bt_lu *lu)
{
	struct scsi_pr_store *s = &lu->prs;
	struct bt_io *io = &s->load_io;
	u64 off;
	int rc;

	if (!(lu->features & BT_FEAT_PR_STORE))
		return 0;
	if (lu->dev_bytes < 2ull * PRS_REGION)
		return BT_E_BAD_ATTR;
	off = (lu->dev_bytes - PRS_REGION) & ~(u64)(PRS_ALIGN - 1);
	rc = bt_lu_set_reserved_tail(lu, lu->dev_bytes - off);
	if (rc < 0)
		return rc;
	s->region_off = off;
	s->crc = bt_alloc(sizeof(*s->crc));
	if (!s->crc)
		return -BT_ENOMEM;
	bt_crc32c_init(s->crc);
	if (region_is_hole(lu, off)) {
		s->seq = 0;
		s->state = PRS_READY;
		return 0;
	}
	bt_memset(io, 0, sizeof(*io));
	io->op = BT_IO_READ;
	io->flags = BT_IO_PRIO;
	io->offset = off;
	io->len = PRS_REGION;
	io->buf = bt_alloc(PRS_REGION);
	if (!io->buf)
		return -BT_ENOMEM;
	io->done = load_done;
	io->priv = lu;
	s->state = PRS_LOADING;
	scsi_lu_get(lu);
	bt_engine_ops(lu->e)->bdev_submit(bt_engine_host(lu->e), lu->bdev, io);
	if (s->state == PRS_FENCED)   /* completed inline */
		return s->fence_rc;
	return 0;
}

int bt_lu_pr_store_status(const struct bt_lu *lu)
{
	switch (lu->prs.state) {
	case PRS_LOADING: return -BT_EAGAIN;
	case PRS_FENCED:  return lu->prs.fence_rc;
	default:          return 0;
	}
}

void scsi_prs_free(struct bt_lu *lu)
{
	bt_free(lu->prs.crc);
	lu->prs.crc = NULL;
}

/* ---- write (PR OUT) ------------------------------------------------------ */

int scsi_prs_begin(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;
	u32 n;

	if (lu->prs.state != PRS_READY)
		return -1;
	n = scsi_prs_encoded_size(lu);
	t->buf = bt_alloc(n);
	if (!t->buf)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INSUFFICIENT_RESOURCES);
	scsi_prs_encode(lu, t->buf);
	t->pr_undo_len = n;
	t->pr_undo_off = 0;
	return -1;
}

static void rollback(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	if (scsi_prs_decode(lu, t->buf + t->pr_undo_off, t->pr_undo_len) < 0)
		bt_err("scsi: %s: PR store: cannot restore the PR state after a "
		       "failed PR OUT", lu->path);
}

static void write_done(struct scsi_task *t)
{
	struct bt_lu *lu = t->lu;

	lu->prs.busy = false;
	if (t->io.result < 0) {
		bt_warn("scsi: %s: PR store: slot write failed (%d); PR OUT fails, "
			"state rolled back", lu->path, t->io.result);
		rollback(t);
		scsi_io_error(t, true);
	} else {
		lu->prs.seq++;
		scsi_pr_event(t);
	}
	release_held(lu);
	scsi_task_done(t);
}

int scsi_prs_finish(struct scsi_task *t, int rc)
{
	struct bt_lu *lu = t->lu;
	u32 plen, ilen;
	u8 *img, *now;

	if (lu->prs.state != PRS_READY || !t->buf || rc != SCSI_DONE)
		return rc;
	plen = scsi_prs_encoded_size(lu);
	/* unchanged (or a failed action that changed nothing): no write */
	if (plen == t->pr_undo_len) {
		now = bt_alloc(plen ? plen : 1);
		if (now) {
			bool same;

			scsi_prs_encode(lu, now);
			same = bt_memcmp(now, t->buf, plen) == 0;
			bt_free(now);
			if (same)
				return rc;
		}
	}
	if (t->cmd->status != BT_SAM_GOOD) {
		rollback(t);
		return rc;
	}
	if (plen > PRS_PAYLOAD_MAX) {
		rollback(t);
		return scsi_sense(t, SK_ILLEGAL_REQUEST, 0x5504);
	}
	ilen = round_io(PRS_HDR + plen);
	img = bt_zalloc(ilen + t->pr_undo_len);
	if (!img) {
		rollback(t);
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INSUFFICIENT_RESOURCES);
	}
	/* one buffer: the slot image, then the undo copy (freed with t) */
	bt_memcpy(img + ilen, t->buf, t->pr_undo_len);
	bt_free(t->buf);
	t->buf = img;
	t->pr_undo_off = ilen;
	slot_build(lu, img, plen, lu->prs.seq + 1);
	t->io.op = BT_IO_WRITE;
	t->io.flags = BT_IO_FUA | BT_IO_PRIO;
	t->io.offset = lu->prs.region_off + ((lu->prs.seq + 1) & 1) * PRS_SLOT;
	t->io.len = ilen;
	t->io.buf = img;
	lu->prs.busy = true;
	scsi_submit_io(t, write_done);
	return SCSI_PENDING;
}
