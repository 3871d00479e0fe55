/*
 * iscsi_chap.c - CHAP with MD5 (RFC 1994, CHAP_A=5) as iSCSI uses it
 * (RFC 7143 section 12.1.3): response = MD5(identifier || secret ||
 * challenge), where the identifier is one byte.
 */
#include "iscsi_int.h"
#include "md5.h"

void iscsi_chap_response(u8 id, const char *secret, const u8 *chal,
			 u32 chal_len, u8 out[16])
{
	struct bt_md5 m;

	bt_md5_init(&m);
	bt_md5_update(&m, &id, 1);
	bt_md5_update(&m, secret, bt_strlen(secret));
	bt_md5_update(&m, chal, chal_len);
	bt_md5_final(&m, out);
}

bool iscsi_chap_verify(u8 id, const char *secret, const u8 *chal,
		       u32 chal_len, const u8 *resp, u32 resp_len)
{
	u8 want[16];
	u8 diff = 0;
	unsigned i;

	if (resp_len != 16)
		return false;
	iscsi_chap_response(id, secret, chal, chal_len, want);
	for (i = 0; i < 16; i++)
		diff |= want[i] ^ resp[i];
	return diff == 0;
}
