/*
 * crc32c.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * iSCSI header and data digest (RFC 7143 section 13.1).
 *
 * Software slicing-by-8. The tables live in a caller-owned struct (8 KiB) so
 * the engine keeps them per engine and the code has no process-wide state.
 */
#ifndef BT_CRC32C_H
#define BT_CRC32C_H

#include "bt_os.h"

struct bt_crc32c {
	u32 t[8][256];
};

/* Fill the tables. Must be called once before bt_crc32c_update. */
void bt_crc32c_init(struct bt_crc32c *tab);

/*
 * Continue a CRC over len bytes. Start with crc = 0xffffffff (the
 * BT_CRC32C_SEED); finish with bt_crc32c_final. Never fails.
 */
#define BT_CRC32C_SEED 0xffffffffu
u32 bt_crc32c_update(const struct bt_crc32c *tab, u32 crc, const void *buf,
		     bt_size_t len);
static inline u32 bt_crc32c_final(u32 crc) { return crc ^ 0xffffffffu; }

/* One-shot: the digest of buf as it goes on the wire (little-endian). */
static inline u32 bt_crc32c(const struct bt_crc32c *tab, const void *buf,
			    bt_size_t len)
{
	return bt_crc32c_final(bt_crc32c_update(tab, BT_CRC32C_SEED, buf, len));
}

#endif
