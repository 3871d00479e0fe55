/*
 * scsi_mode.c - MODE SENSE(6/10) and MODE SELECT(6/10).
 *
 * Pages: caching (08h), control (0Ah), informational exceptions (1Ch).
 * Changeable: WCE (caching), D_SENSE and SWP (control). Nothing is
 * saveable: PC=saved is SAVING PARAMETERS NOT SUPPORTED, SP=1 is INVALID
 * FIELD IN CDB. A LUN reset returns the values to their defaults.
 *
 * WCE=0 (the default) means write-through: every WRITE goes to the host
 * with BT_IO_FUA, so a completed write is stable whatever the host's own
 * caching. An initiator that sets WCE=1 takes responsibility for
 * SYNCHRONIZE CACHE (BT_IO_FLUSH), and plain writes go down without FUA.
 */
#include "scsi_int.h"

enum { PC_CURRENT = 0, PC_CHANGEABLE = 1, PC_DEFAULT = 2, PC_SAVED = 3 };

#define PAGE_CACHING  0x08
#define PAGE_CONTROL  0x0a
#define PAGE_IEC      0x1c
#define PAGE_ALL      0x3f

/* Builds one page; returns its length (0 for an unknown page). */
static u32 build_page(const struct bt_lu *lu, u8 page, int pc, u8 *p)
{
	switch (page) {
	case PAGE_CACHING:
		bt_memset(p, 0, 20);
		p[0] = PAGE_CACHING;
		p[1] = 0x12;
		if (pc == PC_CHANGEABLE)
			p[2] = 0x04;
		else if (pc == PC_CURRENT && lu->wce)
			p[2] = 0x04;                    /* WCE          */
		return 20;
	case PAGE_CONTROL:
		bt_memset(p, 0, 12);
		p[0] = PAGE_CONTROL;
		p[1] = 0x0a;
		if (pc == PC_CHANGEABLE) {
			p[2] = 0x04;                    /* D_SENSE      */
			p[4] = 0x08;                    /* SWP          */
			return 12;
		}
		p[2] = 0x02;                            /* GLTSD        */
		if (pc == PC_CURRENT && lu->d_sense)
			p[2] |= 0x04;
		p[3] = 0x10;                            /* QAM: unrestricted */
		if (pc == PC_CURRENT && lu->swp)
			p[4] |= 0x08;
		bt_put_be16(p + 8, 0xffff);             /* busy timeout: unlimited */
		return 12;
	case PAGE_IEC:
		bt_memset(p, 0, 12);
		p[0] = PAGE_IEC;
		p[1] = 0x0a;
		if (pc != PC_CHANGEABLE)
			p[2] = 0x08;                    /* DEXCPT       */
		return 12;
	default:
		return 0;
	}
}

int scsi_exec_mode_sense(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_lu *lu = t->lu;
	bool ten = cdb[0] == 0x5a;
	bool dbd = cdb[1] & 0x08;
	bool llbaa = ten && (cdb[1] & 0x10);
	int pc = cdb[2] >> 6;
	u8 page = cdb[2] & 0x3f, sub = cdb[3];
	u32 alloc = ten ? bt_get_be16(cdb + 7) : cdb[4];
	u32 hdr = ten ? 8 : 4, bdl = dbd ? 0 : (llbaa ? 16 : 8), n, len;
	u8 buf[8 + 16 + 20 + 12 + 12];
	u8 *p;

	if (pc == PC_SAVED)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_SAVING_PARAMS_UNSUP);
	/* no subpages; 3Fh/FFh is "all pages and subpages" */
	if (sub && !(page == PAGE_ALL && sub == 0xff))
		return scsi_invalid_cdb(t, 3, -1);

	bt_memset(buf, 0, sizeof(buf));
	p = buf + hdr + bdl;
	if (page == PAGE_ALL) {
		p += build_page(lu, PAGE_CACHING, pc, p);
		p += build_page(lu, PAGE_CONTROL, pc, p);
		p += build_page(lu, PAGE_IEC, pc, p);
	} else {
		n = build_page(lu, page, pc, p);
		if (!n)
			return scsi_invalid_cdb(t, 2, 5);
		p += n;
	}
	len = (u32)(p - buf);

	/* header: device-specific parameter = WP | DPOFUA */
	if (ten) {
		bt_put_be16(buf, (u16)(len - 2));
		buf[3] = ((lu->readonly || lu->swp) ? 0x80 : 0) | 0x10;
		buf[4] = llbaa && bdl ? 0x01 : 0;       /* LONGLBA       */
		bt_put_be16(buf + 6, (u16)bdl);
	} else {
		buf[0] = (u8)(len - 1);
		buf[2] = ((lu->readonly || lu->swp) ? 0x80 : 0) | 0x10;
		buf[3] = (u8)bdl;
	}
	if (bdl == 8) {
		bt_put_be32(buf + hdr, lu->nblocks > 0xffffffffULL ?
			    0xffffffffu : (u32)lu->nblocks);
		bt_put_be24(buf + hdr + 5, lu->block_size);
	} else if (bdl == 16) {
		bt_put_be64(buf + hdr, lu->nblocks);
		bt_put_be32(buf + hdr + 12, lu->block_size);
	}
	return scsi_reply(t, buf, len, alloc);
}

/*
 * Apply one page from a MODE SELECT parameter list. off is the page's
 * offset in the parameter list (for field pointers). Every bit that differs
 * from the current value must be changeable.
 */
static int select_page(struct scsi_task *t, const u8 *p, u32 avail, u32 off,
		       bool *changed)
{
	struct bt_lu *lu = t->lu;
	u8 cur[20], chg[20];
	u32 n, i;
	u8 diff;
	int bit;

	if (p[0] & 0xc0)                        /* PS reserved, SPF: no subpages */
		return scsi_invalid_field(t, false, (u16)off, p[0] & 0x40 ? 6 : 7);
	n = build_page(lu, p[0] & 0x3f, PC_CURRENT, cur);
	if (!n)
		return scsi_invalid_field(t, false, (u16)off, 5);
	if (p[1] != n - 2)
		return scsi_invalid_field(t, false, (u16)(off + 1), -1);
	if (avail < n)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	build_page(lu, p[0] & 0x3f, PC_CHANGEABLE, chg);
	for (i = 2; i < n; i++) {
		diff = (p[i] ^ cur[i]) & (u8)~chg[i];
		if (!diff)
			continue;
		for (bit = 7; !(diff & (1u << bit)); bit--)
			;
		return scsi_invalid_field(t, false, (u16)(off + i), bit);
	}
	switch (p[0] & 0x3f) {
	case PAGE_CACHING:
		if (lu->wce != !!(p[2] & 0x04))
			*changed = true;
		lu->wce = p[2] & 0x04;
		break;
	case PAGE_CONTROL:
		if (lu->d_sense != !!(p[2] & 0x04) || lu->swp != !!(p[4] & 0x08))
			*changed = true;
		lu->d_sense = p[2] & 0x04;
		lu->swp = p[4] & 0x08;
		break;
	}
	return -1;
}

int scsi_exec_mode_select(struct scsi_task *t)
{
	struct bt_cmd *cmd = t->cmd;
	const u8 *cdb = cmd->cdb;
	bool ten = cdb[0] == 0x55;
	u32 plen = ten ? bt_get_be16(cdb + 7) : cdb[4];
	u32 hdr = ten ? 8 : 4, bdl, off, n;
	const u8 *d = cmd->out;
	bool changed = false;
	int rc;

	cmd->xfer_len = plen;
	if (cdb[1] & 0x01)                      /* SP: nothing is saveable */
		return scsi_invalid_cdb(t, 1, 0);
	if (plen == 0)
		return SCSI_DONE;
	if (!(cdb[1] & 0x10))                   /* PF=0: vendor format     */
		return scsi_invalid_cdb(t, 1, 4);
	if (cmd->out_len < plen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CMD_IU);
	if (plen < hdr)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	bdl = ten ? bt_get_be16(d + 6) : d[3];
	if (bdl != 0 && bdl != 8 && !(ten && bdl == 16 && (d[4] & 1)))
		return scsi_invalid_field(t, false, ten ? 6 : 3, -1);
	if (hdr + bdl > plen)
		return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR);
	/* a block descriptor may only restate our block length */
	if (bdl == 8 && bt_get_be24(d + hdr + 5) != t->lu->block_size)
		return scsi_invalid_field(t, false, (u16)(hdr + 5), -1);
	if (bdl == 16 && bt_get_be32(d + hdr + 12) != t->lu->block_size)
		return scsi_invalid_field(t, false, (u16)(hdr + 12), -1);
	for (off = hdr + bdl; off < plen; off += n) {
		if (plen - off < 2)
			return scsi_sense(t, SK_ILLEGAL_REQUEST,
					  ASC_PARAM_LIST_LENGTH_ERROR);
		n = (u32)d[off + 1] + 2;
		rc = select_page(t, d + off, plen - off, off, &changed);
		if (rc >= 0)
			return rc;
	}
	if (changed && cmd->target)
		scsi_ua_lun_all(cmd->target, cmd->lun, UA_MODE_CHANGED, cmd->nexus);
	return SCSI_DONE;
}
