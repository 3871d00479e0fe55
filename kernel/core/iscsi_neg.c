/*
 * iscsi_neg.c - operational text key negotiation (RFC 7143 sections 6 and
 * 13). Pure functions over struct iscsi_neg so every key can be unit tested
 * without a connection.
 *
 * What the target offers, and the result function each key uses:
 *   HeaderDigest/DataDigest   list      first of the initiator's we support
 *   MaxRecvDataSegmentLength  declared  per direction; ours 256 KiB
 *   MaxBurstLength            Min       ours 16776192
 *   FirstBurstLength          Min       ours 16776192, <= MaxBurstLength
 *   InitialR2T                Or        ours No
 *   ImmediateData             And       ours Yes
 *   MaxOutstandingR2T         Min       ours ISCSI_MAX_R2T
 *   DataPDUInOrder            Or        ours Yes (so the result is Yes)
 *   DataSequenceInOrder       Or        ours Yes
 *   DefaultTime2Wait          Max       ours 2
 *   DefaultTime2Retain        Min       ours 20
 *   ErrorRecoveryLevel        Min       ours 0
 *   MaxConnections            Min       ours 1
 *   IFMarker/OFMarker         And       ours No
 * A malformed or out-of-range value is answered key=Reject and the default
 * stays in force. Session-wide keys that mean nothing in a discovery session
 * are answered Irrelevant there.
 */
#include "iscsi_int.h"

enum neg_key {
	K_HDIGEST, K_DDIGEST, K_MRDSL, K_MAXBURST, K_FIRSTBURST, K_INITR2T,
	K_IMMDATA, K_MAXR2T, K_PDUORDER, K_SEQORDER, K_T2W, K_T2R, K_ERL,
	K_MAXCONNS, K_IFMARKER, K_OFMARKER, K_IFMARKINT, K_OFMARKINT, K_COUNT,
};

static const char *const neg_names[K_COUNT] = {
	[K_HDIGEST] = "HeaderDigest",
	[K_DDIGEST] = "DataDigest",
	[K_MRDSL] = "MaxRecvDataSegmentLength",
	[K_MAXBURST] = "MaxBurstLength",
	[K_FIRSTBURST] = "FirstBurstLength",
	[K_INITR2T] = "InitialR2T",
	[K_IMMDATA] = "ImmediateData",
	[K_MAXR2T] = "MaxOutstandingR2T",
	[K_PDUORDER] = "DataPDUInOrder",
	[K_SEQORDER] = "DataSequenceInOrder",
	[K_T2W] = "DefaultTime2Wait",
	[K_T2R] = "DefaultTime2Retain",
	[K_ERL] = "ErrorRecoveryLevel",
	[K_MAXCONNS] = "MaxConnections",
	[K_IFMARKER] = "IFMarker",
	[K_OFMARKER] = "OFMarker",
	[K_IFMARKINT] = "IFMarkInt",
	[K_OFMARKINT] = "OFMarkInt",
};

void iscsi_params_default(struct iscsi_params *p)
{
	p->max_recv_dsl = 8192;
	p->max_xmit_dsl = 8192;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->max_r2t = 1;
	p->time2wait = 2;
	p->time2retain = 20;
	p->max_conns = 1;
	p->initial_r2t = true;
	p->immediate_data = true;
	p->hdigest = false;
	p->ddigest = false;
	p->data_pdu_in_order = true;
	p->data_seq_in_order = true;
}

void iscsi_neg_init(struct iscsi_neg *n, bool discovery)
{
	bt_memset(n, 0, sizeof(*n));
	iscsi_params_default(&n->p);
	n->p.max_recv_dsl = ISCSI_OUR_MAX_RECV_DSL;
	n->discovery = discovery;
}

/* "CRC32C,None" -> first supported; returns 1 crc, 0 none, -1 nothing. */
static int neg_digest(const char *v)
{
	const char *p = v;

	while (*p) {
		const char *e = p;
		bt_size_t n;

		while (*e && *e != ',')
			e++;
		n = (bt_size_t)(e - p);
		if (n == 6 && !bt_strncmp(p, "CRC32C", 6))
			return 1;
		if (n == 4 && !bt_strncmp(p, "None", 4))
			return 0;
		p = *e ? e + 1 : e;
	}
	return -1;
}

static bool neg_irrelevant_in_discovery(enum neg_key k)
{
	switch (k) {
	case K_MAXBURST: case K_FIRSTBURST: case K_INITR2T: case K_IMMDATA:
	case K_MAXR2T: case K_PDUORDER: case K_SEQORDER: case K_MAXCONNS:
		return true;
	default:
		return false;
	}
}

enum iscsi_neg_rc iscsi_neg_key(struct iscsi_neg *n, const char *key,
				const char *val, struct iscsi_text_out *out)
{
	struct iscsi_params *p = &n->p;
	enum neg_key k;
	u64 v;
	bool b;
	int d;

	for (k = 0; k < K_COUNT; k++)
		if (!bt_strcmp(key, neg_names[k]))
			break;
	if (k == K_COUNT)
		return ISCSI_NEG_UNKNOWN;
	if (n->seen & (1u << k))
		return ISCSI_NEG_FAIL;    /* offered twice: protocol error    */
	n->seen |= 1u << k;

	if (n->discovery && neg_irrelevant_in_discovery(k)) {
		iscsi_text_add(out, key, "Irrelevant");
		return ISCSI_NEG_OK;
	}
	switch (k) {
	case K_HDIGEST:
	case K_DDIGEST:
		d = neg_digest(val);
		if (d < 0) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		if (k == K_HDIGEST)
			p->hdigest = d;
		else
			p->ddigest = d;
		iscsi_text_add(out, key, d ? "CRC32C" : "None");
		break;
	case K_MRDSL:
		/* Declarative: the initiator's receive limit is our send limit. */
		if (iscsi_val_num(val, 16777215, &v) || v < 512)
			return ISCSI_NEG_FAIL;
		p->max_xmit_dsl = (u32)v;
		if (!n->sent_mrdsl) {
			iscsi_text_addu(out, key, p->max_recv_dsl);
			n->sent_mrdsl = true;
		}
		break;
	case K_MAXBURST:
	case K_FIRSTBURST:
		if (iscsi_val_num(val, 16777215, &v) || v < 512) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		v = BT_MIN(v, (u64)ISCSI_MAX_BURST_LIMIT);
		if (k == K_MAXBURST)
			p->max_burst = (u32)v;
		else
			p->first_burst = (u32)v;
		iscsi_text_addu(out, key, v);
		break;
	case K_INITR2T:
		if (iscsi_val_bool(val, &b)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->initial_r2t = b;       /* Or with our No                  */
		iscsi_text_add(out, key, b ? "Yes" : "No");
		break;
	case K_IMMDATA:
		if (iscsi_val_bool(val, &b)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->immediate_data = b;    /* And with our Yes                */
		iscsi_text_add(out, key, b ? "Yes" : "No");
		break;
	case K_MAXR2T:
		if (iscsi_val_num(val, 65535, &v) || v < 1) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->max_r2t = (u32)BT_MIN(v, (u64)ISCSI_MAX_R2T);
		iscsi_text_addu(out, key, p->max_r2t);
		break;
	case K_PDUORDER:
	case K_SEQORDER:
		if (iscsi_val_bool(val, &b)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		/* Or with our Yes: always Yes. */
		iscsi_text_add(out, key, "Yes");
		break;
	case K_T2W:
		if (iscsi_val_num(val, 3600, &v)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->time2wait = (u32)BT_MAX(v, (u64)2);
		iscsi_text_addu(out, key, p->time2wait);
		break;
	case K_T2R:
		if (iscsi_val_num(val, 3600, &v)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->time2retain = (u32)BT_MIN(v, (u64)20);
		iscsi_text_addu(out, key, p->time2retain);
		break;
	case K_ERL:
		if (iscsi_val_num(val, 2, &v)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		iscsi_text_add(out, key, "0");
		break;
	case K_MAXCONNS:
		if (iscsi_val_num(val, 65535, &v) || v < 1) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		p->max_conns = 1;
		iscsi_text_add(out, key, "1");
		break;
	case K_IFMARKER:
	case K_OFMARKER:
		if (iscsi_val_bool(val, &b)) {
			iscsi_text_add(out, key, "Reject");
			break;
		}
		iscsi_text_add(out, key, "No");
		break;
	case K_IFMARKINT:
	case K_OFMARKINT:
		iscsi_text_add(out, key, "Irrelevant");
		break;
	case K_COUNT:
		break;
	}
	return ISCSI_NEG_OK;
}

void iscsi_neg_finish(struct iscsi_neg *n, struct iscsi_text_out *out)
{
	if (!n->sent_mrdsl) {
		iscsi_text_addu(out, "MaxRecvDataSegmentLength", n->p.max_recv_dsl);
		n->sent_mrdsl = true;
	}
	if (n->p.first_burst > n->p.max_burst)
		n->p.first_burst = n->p.max_burst;
}
