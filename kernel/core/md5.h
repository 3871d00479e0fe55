/*
 * md5.h - MD5 (RFC 1321), only for iSCSI CHAP (CHAP_A=5, RFC 1994): the
 * response is MD5(identifier || secret || challenge). Not for anything that
 * needs collision resistance.
 */
#ifndef BT_MD5_H
#define BT_MD5_H

#include "bt_os.h"

#define BT_MD5_LEN 16

struct bt_md5 {
	u32 h[4];
	u64 nbytes;
	u8 buf[64];
};

void bt_md5_init(struct bt_md5 *m);
void bt_md5_update(struct bt_md5 *m, const void *data, bt_size_t len);
void bt_md5_final(struct bt_md5 *m, u8 out[BT_MD5_LEN]);

#endif
