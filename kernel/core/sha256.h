/*
 * sha256.h - SHA-256 (FIPS 180-4), portable (kernel/core: no libc, no
 * kernel crypto API), for digests of CHAP credentials: the engine reports
 * one per credential it holds and the target reconciler computes the same
 * from the desired Secret (reconcilers/target.c). Not for bulk data.
 */
#ifndef BT_SHA256_H
#define BT_SHA256_H

#include "bt_os.h"

#define BT_SHA256_LEN 32

struct bt_sha256 {
	u32 h[8];
	u8 buf[64];
	u32 nbuf;
	u64 nbytes;
};

void bt_sha256_init(struct bt_sha256 *c);
void bt_sha256_update(struct bt_sha256 *c, const void *data, bt_size_t len);
/* Writes the digest and wipes c. */
void bt_sha256_final(struct bt_sha256 *c, u8 out[BT_SHA256_LEN]);

/* PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA256 (RFC 2104): outlen bytes
 * derived from the password pw and the salt, iter iterations (>= 1). */
void bt_pbkdf2_sha256(const void *pw, bt_size_t pwlen, const void *salt,
		      bt_size_t saltlen, u32 iter, u8 *out, bt_size_t outlen);

#endif
