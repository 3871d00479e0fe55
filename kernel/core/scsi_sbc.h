/*
 * scsi_sbc.h - helpers shared by the SBC command files (scsi_rw.c,
 * scsi_sbc.c, scsi_atomic.c, scsi_xcopy.c) that scsi_int.h does not
 * declare. Internal to the SCSI layer.
 */
#ifndef SCSI_SBC_H
#define SCSI_SBC_H

#include "scsi_int.h"

/*
 * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT of a LU (READ CAPACITY(16)):
 * log2(physical / logical block size) when the host reports a physical
 * block (bt_host_ops.bdev_phys_block) larger than the LU's block, else 0.
 * At most 15 (a 4-bit field).
 */
u8  scsi_lu_lbppbe(const struct bt_lu *lu);

/* WRITE ATOMIC(16) (scsi_atomic.c) and its VPD B0h limits in blocks:
 * MAXIMUM ATOMIC TRANSFER LENGTH (0: not supported), ATOMIC ALIGNMENT,
 * ATOMIC TRANSFER LENGTH GRANULARITY. */
int scsi_exec_write_atomic16(struct scsi_task *t);
u32 scsi_max_atomic_blocks(const struct bt_lu *lu);
u32 scsi_atomic_alignment(const struct bt_lu *lu);
u32 scsi_atomic_granularity(const struct bt_lu *lu);

#endif
