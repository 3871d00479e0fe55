/*
 * crc32c.c - software CRC32C, slicing-by-8.
 *
 * t[0] is the classic byte-at-a-time table; t[k][n] is the CRC of byte n
 * followed by k zero bytes, so eight input bytes can be folded with eight
 * independent lookups per step instead of a chain of eight dependent ones.
 * The iSCSI digest is sent little-endian on the wire (RFC 7143 13.1), which
 * is what bt_put_le32 of the final value gives.
 */
#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u

void bt_crc32c_init(struct bt_crc32c *tab)
{
	u32 n, k, c;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		tab->t[0][n] = c;
	}
	for (n = 0; n < 256; n++) {
		c = tab->t[0][n];
		for (k = 1; k < 8; k++) {
			c = (c >> 8) ^ tab->t[0][c & 0xff];
			tab->t[k][n] = c;
		}
	}
}

u32 bt_crc32c_update(const struct bt_crc32c *tab, u32 crc, const void *buf,
		     bt_size_t len)
{
	const u8 *p = buf;

	/* Align to 8 so the main loop reads whole words. */
	while (len && ((__UINTPTR_TYPE__)p & 7)) {
		crc = (crc >> 8) ^ tab->t[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		u32 lo = bt_get_le32(p) ^ crc;
		u32 hi = bt_get_le32(p + 4);

		crc = tab->t[7][lo & 0xff] ^ tab->t[6][(lo >> 8) & 0xff] ^
		      tab->t[5][(lo >> 16) & 0xff] ^ tab->t[4][lo >> 24] ^
		      tab->t[3][hi & 0xff] ^ tab->t[2][(hi >> 8) & 0xff] ^
		      tab->t[1][(hi >> 16) & 0xff] ^ tab->t[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ tab->t[0][(crc ^ *p++) & 0xff];
	return crc;
}
