/*
 * scsi_spc.c - SPC-4 primary commands: INQUIRY and its VPD pages, REPORT
 * LUNS, TEST UNIT READY, REQUEST SENSE, REPORT SUPPORTED OPERATION CODES,
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, RESERVE/RELEASE (SPC-2).
 * The ALUA parts of INQUIRY (TPGS, the VPD 83h port designators) come from
 * scsi_alua.c.
 */
#include "scsi_int.h"
#include "scsi_alua.h"
#include "scsi_sbc.h"

#define VENDOR_ID   "BOLLARD "
#define PRODUCT_REV "0001"

/* Version descriptors (SPC-4 table 31..) */
#define VD_SAM5  0x00a0
#define VD_ISCSI 0x0960
#define VD_SPC4  0x0460
#define VD_SBC3  0x04c0

/* Block limits we implement (VPD B0h); see scsi_rw.c / scsi_sbc.c. */
#define MAX_XFER_BYTES     (16u << 20)  /* one bt_io per command          */
#define OPT_XFER_BYTES     (1u << 20)
#define MAX_UNMAP_BLOCKS   (1u << 20)
#define MAX_UNMAP_DESCS    256u
#define MAX_CAW_BLOCKS     255u

u32 scsi_max_xfer_blocks(const struct bt_lu *lu)
{
	return MAX_XFER_BYTES >> lu->bs_shift;
}

u32 scsi_max_unmap_blocks(void) { return MAX_UNMAP_BLOCKS; }
u32 scsi_max_unmap_descs(void) { return MAX_UNMAP_DESCS; }
u32 scsi_max_caw_blocks(void) { return MAX_CAW_BLOCKS; }
/* A WRITE SAME never covers more than one WRITE could. */
u32 scsi_max_ws_blocks(const struct bt_lu *lu) { return scsi_max_xfer_blocks(lu); }

/*
 * Logical blocks per physical block exponent (READ CAPACITY(16)), from
 * the physical block the host reports (scsi_rw.c), so the granularities of
 * VPD B0h below say the same as READ CAPACITY(16).
 */
u8 scsi_lbppbe(const struct bt_lu *lu)
{
	return scsi_lu_lbppbe(lu);
}

/* ---- INQUIRY ------------------------------------------------------------ */

static int inquiry_standard(struct scsi_task *t, u32 alloc)
{
	struct bt_lu *lu = t->lu;
	u8 d[96];

	bt_memset(d, 0, sizeof(d));
	d[0] = lu ? 0x00 : 0x7f;      /* PQ 0 / PQ 3 + type 1Fh             */
	d[2] = 0x06;                  /* SPC-4                              */
	d[3] = 0x12;                  /* HISUP, response data format 2      */
	d[4] = sizeof(d) - 5;
	d[7] = 0x02;                  /* CMDQUE                             */
	if (lu && (lu->features & BT_FEAT_XCOPY))
		d[5] |= 0x08;             /* 3PC: EXTENDED COPY              */
	if (lu)
		d[5] |= scsi_alua_tpgs(); /* TPGS: implicit ALUA             */
	bt_memcpy(d + 8, VENDOR_ID, 8);
	if (lu)
		bt_memcpy(d + 16, lu->product, 16);
	else
		bt_memcpy(d + 16, "NO LUN          ", 16);
	bt_memcpy(d + 32, PRODUCT_REV, 4);
	bt_put_be16(d + 58, VD_SAM5);
	bt_put_be16(d + 60, VD_ISCSI);
	bt_put_be16(d + 62, VD_SPC4);
	bt_put_be16(d + 64, VD_SBC3);
	return scsi_reply(t, d, sizeof(d), alloc);
}

static u32 vpd_supported(const struct bt_lu *lu, u8 *d)
{
	static const u8 pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

	bt_memcpy(d + 4, pages, sizeof(pages));
	return sizeof(pages);
}

static u32 vpd_serial(const struct bt_lu *lu, u8 *d)
{
	u32 n = (u32)bt_strlen(lu->serial);

	bt_memcpy(d + 4, lu->serial, n);
	return n;
}

/* One designation descriptor; returns its total length. */
static u32 desig(u8 *p, u8 proto_codeset, u8 piv_assoc_type,
		 const void *val, u32 len, u32 padded)
{
	p[0] = proto_codeset;
	p[1] = piv_assoc_type;
	p[2] = 0;
	p[3] = (u8)padded;
	bt_memset(p + 4, 0, padded);
	bt_memcpy(p + 4, val, len);
	return 4 + padded;
}

static u32 name_padded(u32 len_with_nul)
{
	return (len_with_nul + 3) & ~3u;  /* SCSI name string: multiple of 4 */
}

static u32 vpd_devid(struct scsi_task *t, u8 *d, u32 room)
{
	struct bt_lu *lu = t->lu;
	struct bt_cmd *cmd = t->cmd;
	const char *iqn = cmd->target ? bt_target_iqn(cmd->target) : NULL;
	u16 tpgt = cmd->nexus ? cmd->nexus->tpgt : 1;
	u8 *p = d + 4;
	u8 v[4];
	char t10[8 + SCSI_SERIAL_LEN];
	char name[256 + 16];
	u32 n;

	/* NAA 6, logical unit (binary) */
	p += desig(p, 0x01, 0x03, lu->naa, 16, 16);
	/* T10 vendor id: "BOLLARD " + unit serial (ASCII) */
	bt_memcpy(t10, VENDOR_ID, 8);
	bt_memcpy(t10 + 8, lu->serial, SCSI_SERIAL_LEN);
	p += desig(p, 0x02, 0x01, t10, sizeof(t10), sizeof(t10));
	if (iqn && bt_strlen(iqn) < 224) {
		/* target port name: iSCSI name ",t,0x" TPGT (UTF-8, PIV) */
		n = (u32)bt_snprintf(name, sizeof(name), "%s,t,0x%04x", iqn,
				     (unsigned)tpgt) + 1;
		p += desig(p, 0x53, 0x98, name, n, name_padded(n));
		/* target device name */
		n = (u32)bt_strlen(iqn) + 1;
		p += desig(p, 0x53, 0xa8, iqn, n, name_padded(n));
	}
	/* relative target port and ALUA target port group (iSCSI, binary,
	 * PIV): this node's port and group, scsi_alua.h */
	bt_memset(v, 0, 4);
	bt_put_be16(v + 2, scsi_alua_rel_port(cmd->target));
	p += desig(p, 0x51, 0x94, v, 4, 4);
	bt_put_be16(v + 2, scsi_alua_group(cmd->target));
	p += desig(p, 0x51, 0x95, v, 4, 4);
	(void)room;
	return (u32)(p - (d + 4));
}

static u32 vpd_block_limits(const struct bt_lu *lu, u8 *d)
{
	bool unmap = lu->features & BT_FEAT_UNMAP;
	bool ws = lu->features & BT_FEAT_WRITE_SAME;

	d[4] = 0;                      /* WSNZ=0: 0 blocks means "to the end" */
	d[5] = (lu->features & BT_FEAT_CAW) ? MAX_CAW_BLOCKS : 0;
	bt_put_be16(d + 6, (u16)(1u << scsi_lbppbe(lu))); /* granularity: 1 physical block */
	bt_put_be32(d + 8, scsi_max_xfer_blocks(lu));
	bt_put_be32(d + 12, OPT_XFER_BYTES >> lu->bs_shift);
	if (unmap) {
		bt_put_be32(d + 20, MAX_UNMAP_BLOCKS);
		bt_put_be32(d + 24, MAX_UNMAP_DESCS);
		bt_put_be32(d + 28, 1u << scsi_lbppbe(lu)); /* unmap granularity */
	}
	if (ws)
		bt_put_be64(d + 36, scsi_max_ws_blocks(lu));
	/* WRITE ATOMIC(16) (scsi_atomic.c); no atomic boundaries: bytes 56-63
	 * (with-boundary length, maximum boundary size) stay 0 */
	bt_put_be32(d + 44, scsi_max_atomic_blocks(lu));
	bt_put_be32(d + 48, scsi_atomic_alignment(lu));
	bt_put_be32(d + 52, scsi_atomic_granularity(lu));
	return 0x3c;
}

static u32 vpd_block_dev_chars(const struct bt_lu *lu, u8 *d)
{
	bt_put_be16(d + 4, 0x0001);    /* non-rotating medium                */
	return 0x3c;
}

static u32 vpd_lbp(const struct bt_lu *lu, u8 *d)
{
	bool unmap = lu->features & BT_FEAT_UNMAP;
	bool ws = lu->features & BT_FEAT_WRITE_SAME;

	if (unmap) {
		d[5] = 0x80;                   /* LBPU                       */
		if (ws)
			d[5] |= 0x60;          /* LBPWS, LBPWS10             */
		d[5] |= 0x04;                  /* LBPRZ: unmapped reads 0    */
		d[6] = 0x02;                   /* thin provisioned           */
	}
	return 4;
}

static int inquiry_vpd(struct scsi_task *t, u8 page, u32 alloc)
{
	struct bt_lu *lu = t->lu;
	u8 d[1024];
	u32 n;

	bt_memset(d, 0, sizeof(d));
	switch (page) {
	case 0x00: n = vpd_supported(lu, d); break;
	case 0x80: n = vpd_serial(lu, d); break;
	case 0x83: n = vpd_devid(t, d, sizeof(d) - 4); break;
	case 0xb0: n = vpd_block_limits(lu, d); break;
	case 0xb1: n = vpd_block_dev_chars(lu, d); break;
	case 0xb2: n = vpd_lbp(lu, d); break;
	default:
		return scsi_invalid_cdb(t, 2, -1);
	}
	d[0] = 0x00;                   /* PQ 0, direct access block device  */
	d[1] = page;
	bt_put_be16(d + 2, (u16)n);
	return scsi_reply(t, d, n + 4, alloc);
}

int scsi_exec_inquiry(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	u32 alloc = bt_get_be16(cdb + 3);

	if (!t->lu) {
		/* unmapped LUN: no op lookup happened; check what we use */
		if (cdb[1] & 0xfe)
			return scsi_invalid_cdb(t, 1, -1);
		if (cdb[1] & 0x01)
			return scsi_sense(t, SK_ILLEGAL_REQUEST, ASC_LU_NOT_SUPPORTED);
	}
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return scsi_invalid_cdb(t, 2, -1);
		return inquiry_standard(t, alloc);
	}
	return inquiry_vpd(t, cdb[2], alloc);
}

/* ---- REPORT LUNS -------------------------------------------------------- */

static void put_lun(u8 *p, u64 lun)
{
	bt_memset(p, 0, 8);
	if (lun < 256) {
		p[1] = (u8)lun;                /* peripheral device addressing */
	} else if (lun < 0x4000) {
		p[0] = 0x40 | (u8)(lun >> 8);  /* flat space addressing       */
		p[1] = (u8)lun;
	} else {
		bt_put_be64(p, lun);
	}
}

int scsi_exec_report_luns(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	struct bt_target *tgt = t->cmd->target;
	u32 alloc = bt_get_be32(cdb + 6);
	u8 select = cdb[2];
	struct bt_lu *lu = NULL;
	u32 n = 0, cap = 64, len;
	u8 *buf, *nb;
	u64 lun;
	int rc;

	if (!t->lu && (cdb[1] || cdb[3] || cdb[4] || cdb[5] || cdb[10] || cdb[11]))
		return scsi_invalid_cdb(t, 1, -1);
	if (select > 0x02)
		return scsi_invalid_cdb(t, 2, -1);
	buf = bt_zalloc(8 + cap * 8);
	if (!buf)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	/* select 01h: well known LUs only; we have none */
	while (tgt && select != 0x01 &&
	       (lu = bt_target_lu_next(tgt, lu, &lun)) != NULL) {
		if (n == cap) {
			nb = bt_realloc(buf, 8 + cap * 2 * 8);
			if (!nb) {
				bt_free(buf);
				return scsi_sense(t, SK_HARDWARE_ERROR,
						  ASC_INTERNAL_TARGET_FAILURE);
			}
			buf = nb;
			cap *= 2;
		}
		put_lun(buf + 8 + n * 8, lun);
		n++;
	}
	len = n * 8;
	bt_memset(buf, 0, 8);
	bt_put_be32(buf, len);
	rc = scsi_reply(t, buf, 8 + len, alloc);
	bt_free(buf);
	return rc;
}

/* ---- TEST UNIT READY, REQUEST SENSE ------------------------------------- */

int scsi_exec_tur(struct scsi_task *t)
{
	return SCSI_DONE;
}

int scsi_exec_request_sense(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	bool desc = cdb[1] & 0x01;
	u32 alloc = cdb[4];
	u8 sense[BT_SENSE_MAX];
	u16 asc = ASC_NONE;
	u8 key = SK_NO_SENSE;
	u32 len;

	if (!t->lu) {
		if ((cdb[1] & 0xfe) || cdb[2] || cdb[3])
			return scsi_invalid_cdb(t, 1, -1);
		key = SK_ILLEGAL_REQUEST;
		asc = ASC_LU_NOT_SUPPORTED;
	} else if ((asc = scsi_ua_take(t->cmd)) != 0) {
		/* a pending unit attention is reported (and cleared) here */
		key = SK_UNIT_ATTENTION;
	} else if (scsi_alua_not_ready(t->cmd->target, &asc)) {
		/* what a medium access would get: the port's ALUA state */
		key = SK_NOT_READY;
	}
	len = scsi_build_sense(sense, desc, key, asc, false, 0, NULL);
	return scsi_reply(t, sense, len, alloc);
}

/* ---- REPORT SUPPORTED OPERATION CODES ----------------------------------- */

static u32 put_timeouts(u8 *p, const struct scsi_op *op)
{
	bt_memset(p, 0, 12);
	bt_put_be16(p, 0x0a);
	bt_put_be32(p + 4, op->timeout_s);     /* nominal                  */
	bt_put_be32(p + 8, op->timeout_s);     /* recommended              */
	return 12;
}

static int rsoc_all(struct scsi_task *t, bool rctd, u32 alloc)
{
	const struct scsi_op *op;
	u8 *buf, *p;
	unsigned i;
	int rc;

	for (i = 0; scsi_op_at(i); i++)
		;
	buf = bt_zalloc(4 + i * 20);
	if (!buf)
		return scsi_sense(t, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	p = buf + 4;
	for (i = 0; (op = scsi_op_at(i)) != NULL; i++) {
		if (!scsi_op_enabled(op, t->lu))
			continue;
		p[0] = op->opcode;
		bt_put_be16(p + 2, (op->flags & OPF_SA) ? op->sa : 0);
		p[5] = (rctd ? 0x02 : 0) | ((op->flags & OPF_SA) ? 0x01 : 0);
		bt_put_be16(p + 6, op->cdb_len);
		p += 8;
		if (rctd)
			p += put_timeouts(p, op);
	}
	bt_put_be32(buf, (u32)(p - buf - 4));
	rc = scsi_reply(t, buf, (u32)(p - buf), alloc);
	bt_free(buf);
	return rc;
}

static int rsoc_one(struct scsi_task *t, u8 opts, bool rctd, u32 alloc)
{
	const u8 *cdb = t->cmd->cdb;
	u8 opcode = cdb[3];
	u16 sa = bt_get_be16(cdb + 4);
	const struct scsi_op *op = NULL, *o;
	bool has_sa = false;
	u8 d[4 + 16 + 12];
	unsigned i;
	u32 n;

	for (i = 0; (o = scsi_op_at(i)) != NULL; i++) {
		if (o->opcode != opcode)
			continue;
		if (o->flags & OPF_SA)
			has_sa = true;
		if (!(o->flags & OPF_SA) || o->sa == sa) {
			op = o;
			break;
		}
	}
	/* option 1 names an opcode without service actions, option 2 one
	 * with them; asking the other way round is an invalid field */
	if (opts == 1 && has_sa)
		return scsi_invalid_cdb(t, 2, 2);
	if (opts == 2 && !has_sa && op)
		return scsi_invalid_cdb(t, 2, 2);
	bt_memset(d, 0, sizeof(d));
	if (!op || !scsi_op_enabled(op, t->lu)) {
		d[1] = 0x01;                   /* not supported               */
		return scsi_reply(t, d, 4, alloc);
	}
	d[1] = (rctd ? 0x80 : 0) | 0x03;       /* supported per standard      */
	bt_put_be16(d + 2, op->cdb_len);
	bt_memcpy(d + 4, op->usage, op->cdb_len);
	if (op->flags & OPF_SA)            /* usage shows the SA itself   */
		d[5] = (u8)((op->usage[1] & 0xe0) | op->sa);
	n = 4 + op->cdb_len;
	if (rctd)
		n += put_timeouts(d + n, op);
	return scsi_reply(t, d, n, alloc);
}

int scsi_exec_rsoc(struct scsi_task *t)
{
	const u8 *cdb = t->cmd->cdb;
	bool rctd = cdb[2] & 0x80;
	u8 opts = cdb[2] & 0x07;
	u32 alloc = bt_get_be32(cdb + 6);

	switch (opts) {
	case 0:
		return rsoc_all(t, rctd, alloc);
	case 1:
	case 2:
	case 3:
		return rsoc_one(t, opts, rctd, alloc);
	default:
		return scsi_invalid_cdb(t, 2, 2);
	}
}

/* ---- START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL ---------------------- */

/*
 * The medium is not removable (RMB=0) and always ready: START/STOP and
 * LOEJ are accepted and have no effect, as on other virtual disks. The
 * cache is write-through unless WCE was set, and every completed write of
 * a write-back LU is made stable by SYNCHRONIZE CACHE, not by a stop.
 */
int scsi_exec_start_stop(struct scsi_task *t)
{
	return SCSI_DONE;
}

int scsi_exec_prevent_allow(struct scsi_task *t)
{
	u8 prevent = t->cmd->cdb[4] & 0x03;

	if (prevent)
		t->lu->prevent++;
	else
		t->lu->prevent = 0;
	return SCSI_DONE;
}

/* ---- RESERVE / RELEASE (SPC-2) ------------------------------------------
 * Dispatch already answered RESERVATION CONFLICT to a RESERVE while
 * another nexus holds the LU. RELEASE by a non-holder is a no-op.
 */
int scsi_exec_reserve(struct scsi_task *t)
{
	struct bt_nexus *n = t->cmd->nexus;

	t->lu->resv_holder = n ? n->id + 1 : ~0ULL;
	return SCSI_DONE;
}

int scsi_exec_release(struct scsi_task *t)
{
	struct bt_nexus *n = t->cmd->nexus;
	u64 me = n ? n->id + 1 : ~0ULL;

	if (t->lu->resv_holder == me)
		t->lu->resv_holder = 0;
	return SCSI_DONE;
}
