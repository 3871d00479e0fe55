/*
 * scsi_atomic.c - WRITE ATOMIC(16) (SBC-4 5.48) and the atomic limits that
 * VPD B0h reports for it.
 *
 * What "atomic" means here
 * ------------------------
 * Against every other command of this engine, on any session: the write
 * takes an EXCLUSIVE range lock (scsi_lu.c) like COMPARE AND WRITE, so no
 * other write, CAW, ORWRITE, WRITE SAME, UNMAP or EXTENDED COPY write to an
 * overlapping range is at the backing meanwhile, and a READ overlapping an
 * exclusive holder or waiter takes a shared lock and waits (scsi_rw.c), so
 * it returns either all old or all new data. The data goes to the host as
 * one bt_io.
 *
 * Not guaranteed (limitation): atomicity across a power failure or crash of
 * the machine. The hosts write through the page cache (userspace) or VFS /
 * bios (module) without RWF_ATOMIC / REQ_ATOMIC, so a crash during the
 * write can leave part of it on the medium, exactly as for WRITE(16).
 *
 * Limits: MAXIMUM ATOMIC TRANSFER LENGTH is the largest the 16-bit
 * TRANSFER LENGTH can say, capped by MAXIMUM TRANSFER LENGTH (one bt_io);
 * no alignment or granularity restriction (ATOMIC ALIGNMENT and ATOMIC
 * TRANSFER LENGTH GRANULARITY 0), and no atomic boundaries (MAXIMUM ATOMIC
 * BOUNDARY SIZE 0), so a non-zero ATOMIC BOUNDARY field is refused.
 */
#include "scsi_sbc.h"

u32 scsi_max_atomic_blocks(const struct bt_lu *lu)
{
	return BT_MIN(scsi_max_xfer_blocks(lu), 0xffffu);
}

u32 scsi_atomic_alignment(const struct bt_lu *lu)
{
	(void)lu;
	return 0;
}

u32 scsi_atomic_granularity(const struct bt_lu *lu)
{
	(void)lu;
	return 0;
}

int scsi_exec_write_atomic16(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	struct bt_lu *lu = t->lu;
	u64 lba = bt_get_be64(cmd->cdb + 2);
	u32 boundary = bt_get_be16(cmd->cdb + 10);
	u32 len = bt_get_be16(cmd->cdb + 12);
	int rc;

	cmd->xfer_len = len << lu->bs_shift;
	if ((rc = scsi_check_range(t, lba, len)) >= 0)
		return rc;
	if (boundary)                           /* no atomic boundaries  */
		return scsi_invalid_cdb(t, 10, -1);
	if (len > scsi_max_atomic_blocks(lu))
		return scsi_invalid_cdb(t, 12, -1);
	if (len == 0)
		return SCSI_DONE;
	/* all of it or nothing: a short Data-Out is not written in part */
	if ((rc = scsi_check_dataout(t, cmd->xfer_len)) >= 0)
		return rc;
	t->next = scsi_write_start;
	if (scsi_lock_acquire(t, LOCK_EXCL))
		scsi_write_start(t);
	return SCSI_PENDING;
}
