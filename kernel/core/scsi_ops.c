/*
 * scsi_ops.c - the command table: every opcode the SCSI layer implements,
 * its CDB usage mask (SPC-4 6.35.3) and handler.
 *
 * The mask is what REPORT SUPPORTED OPERATION CODES returns AND what
 * dispatch accepts: a CDB bit that is not set in the mask is rejected with
 * INVALID FIELD IN CDB pointing at it. So a bit appears in a mask only when
 * the handler implements (or deliberately ignores as harmless, like GROUP
 * NUMBER) that field. Fields we do not implement (RDPROTECT/WRPROTECT/
 * VRPROTECT without protection information, RARC, ANCHOR, NDOB, the
 * control byte's NACA/LINK) are zero here.
 *
 * Sorted by opcode, then service action (REPORT SUPPORTED OPERATION CODES
 * lists them in this order).
 */
#include "scsi_int.h"
#include "scsi_alua.h"     /* REPORT TARGET PORT GROUPS */
#include "scsi_sbc.h"

#define T_NORMAL 30
#define T_LONG   120

#define LBA4 0xff, 0xff, 0xff, 0xff
#define LBA8 LBA4, LBA4
#define LEN2 0xff, 0xff
#define LEN4 0xff, 0xff, 0xff, 0xff

static const struct scsi_op ops[] = {
	{ 0x00, OPF_RESV_OK | OPF_PR_OK, 0, 6, 0, T_NORMAL, "TEST UNIT READY",
	  scsi_exec_tur, { 0x00, 0, 0, 0, 0, 0 } },
	{ 0x03, OPF_NO_UA | OPF_RESV_OK | OPF_PR_OK, 0, 6, 0, T_NORMAL, "REQUEST SENSE",
	  scsi_exec_request_sense, { 0x03, 0x01, 0, 0, 0xff, 0 } },
	{ 0x08, OPF_MEDIUM, 0, 6, 0, T_NORMAL, "READ(6)",
	  scsi_exec_read, { 0x08, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ 0x0a, OPF_MEDIUM | OPF_WRITE, 0, 6, 0, T_NORMAL, "WRITE(6)",
	  scsi_exec_write, { 0x0a, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ 0x12, OPF_NO_UA | OPF_RESV_OK | OPF_PR_OK, 0, 6, 0, T_NORMAL, "INQUIRY",
	  scsi_exec_inquiry, { 0x12, 0x01, 0xff, 0xff, 0xff, 0 } },
	{ 0x15, 0, 0, 6, 0, T_NORMAL, "MODE SELECT(6)",
	  scsi_exec_mode_select, { 0x15, 0x11, 0, 0, 0xff, 0 } },
	{ 0x16, 0, 0, 6, 0, T_NORMAL, "RESERVE(6)",
	  scsi_exec_reserve, { 0x16, 0, 0, 0, 0, 0 } },
	{ 0x17, OPF_RESV_OK, 0, 6, 0, T_NORMAL, "RELEASE(6)",
	  scsi_exec_release, { 0x17, 0, 0, 0, 0, 0 } },
	{ 0x1a, 0, 0, 6, 0, T_NORMAL, "MODE SENSE(6)",
	  scsi_exec_mode_sense, { 0x1a, 0x08, 0xff, 0xff, 0xff, 0 } },
	{ 0x1b, 0, 0, 6, 0, T_NORMAL, "START STOP UNIT",
	  scsi_exec_start_stop, { 0x1b, 0x01, 0, 0, 0x07, 0 } },
	{ 0x1e, 0, 0, 6, 0, T_NORMAL, "PREVENT ALLOW MEDIUM REMOVAL",
	  scsi_exec_prevent_allow, { 0x1e, 0, 0, 0, 0x03, 0 } },
	{ 0x25, OPF_PR_OK, 0, 10, 0, T_NORMAL, "READ CAPACITY(10)",
	  scsi_exec_read_capacity10, { 0x25, 0, LBA4, 0, 0, 0x01, 0 } },
	{ 0x28, OPF_MEDIUM, 0, 10, 0, T_NORMAL, "READ(10)",
	  scsi_exec_read, { 0x28, 0x18, LBA4, 0x1f, LEN2, 0 } },
	{ 0x2a, OPF_MEDIUM | OPF_WRITE, 0, 10, 0, T_NORMAL, "WRITE(10)",
	  scsi_exec_write, { 0x2a, 0x18, LBA4, 0x1f, LEN2, 0 } },
	{ 0x2e, OPF_MEDIUM | OPF_WRITE, 0, 10, 0, T_NORMAL, "WRITE AND VERIFY(10)",
	  scsi_exec_write_verify, { 0x2e, 0x12, LBA4, 0x1f, LEN2, 0 } },
	{ 0x2f, OPF_MEDIUM, 0, 10, 0, T_NORMAL, "VERIFY(10)",
	  scsi_exec_verify, { 0x2f, 0x16, LBA4, 0x1f, LEN2, 0 } },
	{ 0x34, OPF_MEDIUM, 0, 10, 0, T_NORMAL, "PRE-FETCH(10)",
	  scsi_exec_prefetch, { 0x34, 0x02, LBA4, 0x1f, LEN2, 0 } },
	{ 0x35, OPF_MEDIUM, 0, 10, 0, T_LONG, "SYNCHRONIZE CACHE(10)",
	  scsi_exec_sync_cache, { 0x35, 0x02, LBA4, 0x1f, LEN2, 0 } },
	{ 0x37, 0, 0, 10, 0, T_NORMAL, "READ DEFECT DATA(10)",
	  scsi_exec_read_defect_data, { 0x37, 0, 0x1f, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x41, OPF_MEDIUM | OPF_WRITE, 0, 10, BT_FEAT_WRITE_SAME, T_LONG,
	  "WRITE SAME(10)",
	  scsi_exec_write_same, { 0x41, 0x08, LBA4, 0x1f, LEN2, 0 } },
	{ 0x42, OPF_MEDIUM | OPF_WRITE, 0, 10, BT_FEAT_UNMAP, T_LONG, "UNMAP",
	  scsi_exec_unmap, { 0x42, 0, 0, 0, 0, 0, 0x1f, LEN2, 0 } },
	{ 0x55, 0, 0, 10, 0, T_NORMAL, "MODE SELECT(10)",
	  scsi_exec_mode_select, { 0x55, 0x11, 0, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x56, 0, 0, 10, 0, T_NORMAL, "RESERVE(10)",
	  scsi_exec_reserve, { 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ 0x57, OPF_RESV_OK, 0, 10, 0, T_NORMAL, "RELEASE(10)",
	  scsi_exec_release, { 0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ 0x5a, 0, 0, 10, 0, T_NORMAL, "MODE SENSE(10)",
	  scsi_exec_mode_sense, { 0x5a, 0x18, 0xff, 0xff, 0, 0, 0, LEN2, 0 } },
	{ 0x5e, OPF_SA | OPF_PR_OK, 0x00, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE IN/READ KEYS",
	  scsi_exec_pr_in, { 0x5e, 0x1f, 0, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x5e, OPF_SA | OPF_PR_OK, 0x01, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE IN/READ RESERVATION",
	  scsi_exec_pr_in, { 0x5e, 0x1f, 0, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x5e, OPF_SA | OPF_PR_OK, 0x02, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE IN/REPORT CAPABILITIES",
	  scsi_exec_pr_in, { 0x5e, 0x1f, 0, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x5e, OPF_SA | OPF_PR_OK, 0x03, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE IN/READ FULL STATUS",
	  scsi_exec_pr_in, { 0x5e, 0x1f, 0, 0, 0, 0, 0, LEN2, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x00, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/REGISTER",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x01, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/RESERVE",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x02, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/RELEASE",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x03, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/CLEAR",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x04, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/PREEMPT",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x05, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/PREEMPT AND ABORT",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x06, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/REGISTER AND IGNORE EXISTING KEY",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x5f, OPF_SA | OPF_PR_OK, 0x07, 10, 0, T_NORMAL,
	  "PERSISTENT RESERVE OUT/REGISTER AND MOVE",
	  scsi_exec_pr_out, { 0x5f, 0x1f, 0xff, 0, 0, LEN4, 0 } },
	{ 0x83, OPF_SA, 0x00, 16, BT_FEAT_XCOPY, T_LONG, "EXTENDED COPY(LID1)",
	  scsi_exec_xcopy,
	  { 0x83, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0 } },
	{ 0x84, OPF_SA | OPF_PR_OK, 0x00, 16, BT_FEAT_XCOPY, T_NORMAL,
	  "RECEIVE COPY RESULTS/COPY STATUS", scsi_exec_receive_copy_results,
	  { 0x84, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0 } },
	{ 0x84, OPF_SA | OPF_PR_OK, 0x03, 16, BT_FEAT_XCOPY, T_NORMAL,
	  "RECEIVE COPY RESULTS/OPERATING PARAMETERS",
	  scsi_exec_receive_copy_results,
	  { 0x84, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0 } },
	{ 0x88, OPF_MEDIUM, 0, 16, 0, T_NORMAL, "READ(16)",
	  scsi_exec_read, { 0x88, 0x18, LBA8, LEN4, 0x1f, 0 } },
	{ 0x89, OPF_MEDIUM | OPF_WRITE, 0, 16, BT_FEAT_CAW, T_NORMAL,
	  "COMPARE AND WRITE",
	  scsi_exec_caw, { 0x89, 0x18, LBA8, 0, 0, 0, 0xff, 0x1f, 0 } },
	{ 0x8a, OPF_MEDIUM | OPF_WRITE, 0, 16, 0, T_NORMAL, "WRITE(16)",
	  scsi_exec_write, { 0x8a, 0x18, LBA8, LEN4, 0x1f, 0 } },
	{ 0x8b, OPF_MEDIUM | OPF_WRITE, 0, 16, 0, T_NORMAL, "ORWRITE(16)",
	  scsi_exec_orwrite, { 0x8b, 0x18, LBA8, LEN4, 0x1f, 0 } },
	{ 0x8e, OPF_MEDIUM | OPF_WRITE, 0, 16, 0, T_NORMAL, "WRITE AND VERIFY(16)",
	  scsi_exec_write_verify, { 0x8e, 0x12, LBA8, LEN4, 0x1f, 0 } },
	{ 0x8f, OPF_MEDIUM, 0, 16, 0, T_NORMAL, "VERIFY(16)",
	  scsi_exec_verify, { 0x8f, 0x16, LBA8, LEN4, 0x1f, 0 } },
	{ 0x90, OPF_MEDIUM, 0, 16, 0, T_NORMAL, "PRE-FETCH(16)",
	  scsi_exec_prefetch, { 0x90, 0x02, LBA8, LEN4, 0x1f, 0 } },
	{ 0x91, OPF_MEDIUM, 0, 16, 0, T_LONG, "SYNCHRONIZE CACHE(16)",
	  scsi_exec_sync_cache, { 0x91, 0x02, LBA8, LEN4, 0x1f, 0 } },
	{ 0x93, OPF_MEDIUM | OPF_WRITE, 0, 16, BT_FEAT_WRITE_SAME, T_LONG,
	  "WRITE SAME(16)",
	  scsi_exec_write_same, { 0x93, 0x09, LBA8, LEN4, 0x1f, 0 } },
	{ 0x9c, OPF_MEDIUM | OPF_WRITE, 0, 16, 0, T_NORMAL, "WRITE ATOMIC(16)",
	  scsi_exec_write_atomic16, { 0x9c, 0x18, LBA8, LEN2, LEN2, 0x1f, 0 } },
	{ 0x9e, OPF_SA | OPF_PR_OK, 0x10, 16, 0, T_NORMAL, "READ CAPACITY(16)",
	  scsi_exec_read_capacity16,
	  { 0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0 } },
	{ 0x9e, OPF_SA, 0x12, 16, BT_FEAT_UNMAP, T_NORMAL, "GET LBA STATUS",
	  scsi_exec_get_lba_status,
	  { 0x9e, 0x1f, LBA8, LEN4, 0, 0 } },
	{ 0xa0, OPF_NO_UA | OPF_RESV_OK | OPF_PR_OK, 0, 12, 0, T_NORMAL, "REPORT LUNS",
	  scsi_exec_report_luns, { 0xa0, 0, 0xff, 0, 0, 0, LEN4, 0, 0 } },
	{ 0xa3, OPF_SA | OPF_RESV_OK | OPF_PR_OK, 0x0a, 12, 0, T_NORMAL,
	  "REPORT TARGET PORT GROUPS",
	  scsi_exec_rtpg, { 0xa3, 0x3f, 0, 0, 0, 0, LEN4, 0, 0 } },
	{ 0xa3, OPF_SA | OPF_RESV_OK | OPF_PR_OK, 0x0c, 12, 0, T_NORMAL,
	  "REPORT SUPPORTED OPERATION CODES",
	  scsi_exec_rsoc, { 0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, LEN4, 0, 0 } },
	{ 0xa8, OPF_MEDIUM, 0, 12, 0, T_NORMAL, "READ(12)",
	  scsi_exec_read, { 0xa8, 0x18, LBA4, LEN4, 0x1f, 0 } },
	{ 0xaa, OPF_MEDIUM | OPF_WRITE, 0, 12, 0, T_NORMAL, "WRITE(12)",
	  scsi_exec_write, { 0xaa, 0x18, LBA4, LEN4, 0x1f, 0 } },
	{ 0xae, OPF_MEDIUM | OPF_WRITE, 0, 12, 0, T_NORMAL, "WRITE AND VERIFY(12)",
	  scsi_exec_write_verify, { 0xae, 0x12, LBA4, LEN4, 0x1f, 0 } },
	{ 0xaf, OPF_MEDIUM, 0, 12, 0, T_NORMAL, "VERIFY(12)",
	  scsi_exec_verify, { 0xaf, 0x16, LBA4, LEN4, 0x1f, 0 } },
	{ 0xb7, 0, 0, 12, 0, T_NORMAL, "READ DEFECT DATA(12)",
	  scsi_exec_read_defect_data, { 0xb7, 0x1f, LBA4, LEN4, 0, 0 } },
};

const struct scsi_op *scsi_op_at(unsigned i)
{
	return i < BT_ARRAY_SIZE(ops) ? &ops[i] : NULL;
}

bool scsi_op_enabled(const struct scsi_op *op, const struct bt_lu *lu)
{
	return !op->feature || (lu->features & op->feature);
}

/*
 * Finds the op for opcode (+ service action for SA-based opcodes).
 * *sa_unsupported is set when the opcode exists but this service action
 * does not (INVALID FIELD IN CDB rather than INVALID OPERATION CODE).
 */
const struct scsi_op *scsi_op_find(u8 opcode, u16 sa, bool *sa_unsupported)
{
	unsigned i;
	bool seen = false;

	*sa_unsupported = false;
	for (i = 0; i < BT_ARRAY_SIZE(ops); i++) {
		if (ops[i].opcode != opcode)
			continue;
		if (!(ops[i].flags & OPF_SA) || ops[i].sa == sa)
			return &ops[i];
		seen = true;
	}
	*sa_unsupported = seen;
	return NULL;
}
