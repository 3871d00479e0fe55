/*
 * scsi_sense.c - sense data (SPC-4 4.5) and Data-In replies.
 *
 * Format: fixed (response code 70h) unless the LU's control mode page has
 * D_SENSE set, then descriptor format (72h) with an information descriptor
 * and a sense-key-specific descriptor when those fields are valid. Unmapped
 * LUNs have no control page and always get fixed format.
 */
#include "scsi_int.h"

u32 scsi_build_sense(u8 *buf, bool desc, u8 key, u16 asc, bool has_info,
		     u64 info, const u8 *sks)
{
	u32 len;

	bt_memset(buf, 0, BT_SENSE_MAX);
	if (!desc) {
		buf[0] = 0x70 | (has_info ? 0x80 : 0);
		buf[2] = key & 0x0f;
		/* fixed format carries 32 bits of INFORMATION; a larger value
		 * cannot be represented, so VALID stays 0 then (SPC-4 4.5.3) */
		if (has_info && info > 0xffffffffULL)
			buf[0] &= 0x7f;
		else if (has_info)
			bt_put_be32(buf + 3, (u32)info);
		buf[7] = 10;          /* additional sense length            */
		buf[12] = (u8)(asc >> 8);
		buf[13] = (u8)asc;
		if (sks)
			bt_memcpy(buf + 15, sks, 3);
		return 18;
	}
	buf[0] = 0x72;
	buf[1] = key & 0x0f;
	buf[2] = (u8)(asc >> 8);
	buf[3] = (u8)asc;
	len = 8;
	if (has_info) {
		buf[len + 0] = 0x00;  /* information descriptor             */
		buf[len + 1] = 0x0a;
		buf[len + 2] = 0x80;  /* VALID                              */
		bt_put_be64(buf + len + 4, info);
		len += 12;
	}
	if (sks) {
		buf[len + 0] = 0x02;  /* sense key specific descriptor      */
		buf[len + 1] = 0x06;
		bt_memcpy(buf + len + 4, sks, 3);
		len += 8;
	}
	buf[7] = (u8)(len - 8);
	return len;
}

static int sense_full(struct scsi_task *t, u8 key, u16 asc, bool has_info,
		      u64 info, const u8 *sks)
{
	struct bt_cmd *cmd = t->cmd;
	bool desc = t->lu && t->lu->d_sense;

	cmd->status = BT_SAM_CHECK_CONDITION;
	cmd->sense_len = scsi_build_sense(cmd->sense, desc, key, asc, has_info,
					  info, sks);
	/* an error answer carries no data */
	if (cmd->in) {
		bt_free(cmd->in);
		cmd->in = NULL;
	}
	cmd->in_len = 0;
	return SCSI_DONE;
}

int scsi_sense(struct scsi_task *t, u8 key, u16 asc)
{
	return sense_full(t, key, asc, false, 0, NULL);
}

int scsi_sense_info(struct scsi_task *t, u8 key, u16 asc, u64 info)
{
	return sense_full(t, key, asc, true, info, NULL);
}

int scsi_invalid_field(struct scsi_task *t, bool cdb, u16 byte, int bit)
{
	u8 sks[3];

	sks[0] = 0x80 | (cdb ? 0x40 : 0);     /* SKSV, C/D                 */
	if (bit >= 0 && bit < 8)
		sks[0] |= 0x08 | (u8)bit;     /* BPV, bit pointer          */
	bt_put_be16(sks + 1, byte);
	return sense_full(t, SK_ILLEGAL_REQUEST,
			  cdb ? ASC_INVALID_FIELD_IN_CDB : ASC_INVALID_FIELD_IN_PARAM,
			  false, 0, sks);
}

int scsi_reply(struct scsi_task *t, const void *data, u32 len, u32 alloc)
{
	struct bt_cmd *cmd = t->cmd;
	u32 n = BT_MIN(len, alloc);

	if (cmd->in) {
		bt_free(cmd->in);
		cmd->in = NULL;
	}
	cmd->in_len = 0;
	cmd->xfer_len = n;
	if (n == 0)
		return SCSI_DONE;
	cmd->in = bt_alloc(n);
	if (!cmd->in)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	bt_memcpy(cmd->in, data, n);
	cmd->in_len = n;
	return SCSI_DONE;
}
