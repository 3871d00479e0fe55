/*
 * iscsi_pdu.c - PDU framing: sending a PDU with digests and padding, and
 * the receive state machine that cuts a byte stream into PDUs.
 *
 * Receive: bytes arrive in arbitrary pieces. The BHS (48 bytes) is gathered
 * first; it gives TotalAHSLength and DataSegmentLength. Then the AHS and the
 * header digest complete the header, whose digest is checked before any
 * field is trusted further; then the data segment, its padding to 4 bytes
 * and the data digest. The data segment is bounded by what we declared
 * (MaxRecvDataSegmentLength, 8192 during login): a larger one is a protocol
 * error and the connection is dropped, since nothing after it can be framed
 * reliably. A header digest error drops the connection for the same reason.
 */
#include "iscsi_int.h"

u32 iscsi_rx_limit(const struct bt_conn *c)
{
	if (c->state == ISCSI_CONN_LOGIN)
		return ISCSI_LOGIN_MAX_DSL;
	return c->params.max_recv_dsl;
}

void iscsi_fill_sn(struct bt_conn *c, u8 *bhs, bool adv)
{
	bt_put_be32(bhs + 24, c->stat_sn);
	if (adv)
		c->stat_sn++;
	bt_put_be32(bhs + 28, iscsi_exp_cmdsn(c));
	bt_put_be32(bhs + 32, iscsi_max_cmdsn(c));
}

int iscsi_send(struct bt_conn *c, u8 *bhs, const void *data, u32 len)
{
	static const u8 zero[4];
	struct bt_iov iov[5];
	u8 hd[4], dd[4];
	unsigned n = 0;
	u32 pad = (4 - (len & 3)) & 3;
	int rc;

	if (c->state == ISCSI_CONN_DEAD || c->host_gone)
		return -BT_ECONNRESET;
	bhs[4] = 0;                           /* we never send AHS         */
	bt_put_be24(bhs + 5, len);
	iov[n].base = bhs;
	iov[n++].len = ISCSI_BHS_LEN;
	if (c->params.hdigest) {
		bt_put_le32(hd, bt_crc32c(&c->ie->crc, bhs, ISCSI_BHS_LEN));
		iov[n].base = hd;
		iov[n++].len = 4;
	}
	if (len) {
		iov[n].base = data;
		iov[n++].len = len;
		if (pad) {
			iov[n].base = zero;
			iov[n++].len = pad;
		}
		if (c->params.ddigest) {
			u32 crc = bt_crc32c_update(&c->ie->crc, BT_CRC32C_SEED,
						   data, len);

			crc = bt_crc32c_update(&c->ie->crc, crc, zero, pad);
			bt_put_le32(dd, bt_crc32c_final(crc));
			iov[n].base = dd;
			iov[n++].len = 4;
		}
	}
	rc = c->ie->ops->conn_send(c->ie->host, c->host_conn, iov, n);
	if (rc) {
		iscsi_conn_drop(c, "send failed");
		return rc;
	}
	return 0;
}

int iscsi_send_reject(struct bt_conn *c, u8 reason, const u8 *bhs)
{
	u8 r[ISCSI_BHS_LEN];

	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_REJECT;
	r[1] = 0x80;
	r[2] = reason;
	bt_put_be32(r + 16, ISCSI_RSVD_TAG);
	iscsi_fill_sn(c, r, true);
	return iscsi_send(c, r, bhs, ISCSI_BHS_LEN);
}

/* The header is complete: check its digest, size the data phase. */
static int rx_header_done(struct bt_conn *c)
{
	u32 limit, pad, need;

	if (c->params.hdigest) {
		u32 hlen = ISCSI_BHS_LEN + c->ahs_len;
		u32 want = bt_crc32c(&c->ie->crc, c->hdr, hlen);

		if (bt_get_le32(c->hdr + hlen) != want) {
			bt_warn("iscsi %s: header digest error, dropping\n", c->peer);
			return -BT_EPROTO;
		}
	}
	limit = iscsi_rx_limit(c);
	if (c->dsl > limit) {
		bt_warn("iscsi %s: data segment %u > %u, dropping\n", c->peer,
			c->dsl, limit);
		iscsi_send_reject(c, ISCSI_REJ_PROTOCOL, c->hdr);
		return -BT_EMSGSIZE;
	}
	pad = (4 - (c->dsl & 3)) & 3;
	need = c->dsl ? c->dsl + pad + (c->params.ddigest ? 4 : 0) : 0;
	if (need > c->rx_data_cap) {
		u32 cap = limit + 3 + 4;
		u8 *nb;

		if (cap < need)
			return -BT_EMSGSIZE;
		nb = bt_realloc(c->rx_data, cap);
		if (!nb)
			return -BT_ENOMEM;
		c->rx_data = nb;
		c->rx_data_cap = cap;
	}
	c->rx_need = need;
	c->rx_have = 0;
	c->rx_phase = ISCSI_RX_DATA;
	return 0;
}

static int rx_pdu_done(struct bt_conn *c)
{
	bool ok = true;

	if (c->dsl && c->params.ddigest) {
		u32 padded = c->rx_need - 4;
		u32 want = bt_crc32c(&c->ie->crc, c->rx_data, padded);

		ok = bt_get_le32(c->rx_data + padded) == want;
	}
	c->rx_phase = ISCSI_RX_BHS;
	c->hdr_have = 0;
	return iscsi_conn_pdu(c, c->hdr, c->dsl ? c->rx_data : NULL, c->dsl, ok);
}

int iscsi_rx(struct bt_conn *c, const u8 *buf, bt_size_t len)
{
	int rc;

	while (len || (c->rx_phase == ISCSI_RX_DATA && c->rx_have == c->rx_need)) {
		if (c->state == ISCSI_CONN_DEAD)
			return -BT_ECONNRESET;
		switch (c->rx_phase) {
		case ISCSI_RX_BHS: {
			u32 take = BT_MIN((u32)len, ISCSI_BHS_LEN - c->hdr_have);

			bt_memcpy(c->hdr + c->hdr_have, buf, take);
			c->hdr_have += take;
			buf += take;
			len -= take;
			if (c->hdr_have < ISCSI_BHS_LEN)
				return 0;
			c->ahs_len = (u32)c->hdr[4] * 4;
			c->dsl = bt_get_be24(c->hdr + 5);
			c->hdr_need = ISCSI_BHS_LEN + c->ahs_len +
				      (c->params.hdigest ? 4 : 0);
			if (c->hdr_need > ISCSI_BHS_LEN) {
				c->rx_phase = ISCSI_RX_HDR_REST;
				break;
			}
			rc = rx_header_done(c);
			if (rc)
				return rc;
			break;
		}
		case ISCSI_RX_HDR_REST: {
			u32 take = BT_MIN((u32)len, c->hdr_need - c->hdr_have);

			bt_memcpy(c->hdr + c->hdr_have, buf, take);
			c->hdr_have += take;
			buf += take;
			len -= take;
			if (c->hdr_have < c->hdr_need)
				return 0;
			rc = rx_header_done(c);
			if (rc)
				return rc;
			break;
		}
		case ISCSI_RX_DATA: {
			u32 take = BT_MIN((u32)len, c->rx_need - c->rx_have);

			if (take) {
				bt_memcpy(c->rx_data + c->rx_have, buf, take);
				c->rx_have += take;
				buf += take;
				len -= take;
			}
			if (c->rx_have < c->rx_need)
				return 0;
			rc = rx_pdu_done(c);
			if (rc)
				return rc;
			break;
		}
		}
	}
	return 0;
}
