/*
 * md5.c - MD5 per RFC 1321, written from the specification.
 */
#include "md5.h"

/* K[i] = floor(|sin(i + 1)| * 2^32) */
static const u32 md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round left rotations, four per round. */
static const u8 md5_r[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static inline u32 rol32(u32 x, unsigned n) { return x << n | x >> (32 - n); }

static void md5_block(struct bt_md5 *m, const u8 *blk)
{
	u32 w[16], a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = bt_get_le32(blk + 4 * i);
	for (i = 0; i < 64; i++) {
		u32 f, t;
		unsigned g, round = i / 16;

		switch (round) {
		case 0:  f = (b & c) | (~b & d); g = i; break;
		case 1:  f = (d & b) | (~d & c); g = (5 * i + 1) & 15; break;
		case 2:  f = b ^ c ^ d;          g = (3 * i + 5) & 15; break;
		default: f = c ^ (b | ~d);       g = (7 * i) & 15; break;
		}
		t = d;
		d = c;
		c = b;
		b = b + rol32(a + f + md5_k[i] + w[g], md5_r[round][i & 3]);
		a = t;
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
}

void bt_md5_init(struct bt_md5 *m)
{
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
	m->nbytes = 0;
}

void bt_md5_update(struct bt_md5 *m, const void *data, bt_size_t len)
{
	const u8 *p = data;
	unsigned have = (unsigned)(m->nbytes & 63);

	m->nbytes += len;
	if (have) {
		unsigned take = 64 - have;

		if (take > len)
			take = (unsigned)len;
		bt_memcpy(m->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < 64)
			return;
		md5_block(m, m->buf);
	}
	while (len >= 64) {
		md5_block(m, p);
		p += 64;
		len -= 64;
	}
	if (len)
		bt_memcpy(m->buf, p, len);
}

void bt_md5_final(struct bt_md5 *m, u8 out[BT_MD5_LEN])
{
	static const u8 pad[64] = { 0x80 };
	u64 bits = m->nbytes * 8;
	unsigned have = (unsigned)(m->nbytes & 63);
	u8 len[8];
	unsigned i;

	bt_put_le64(len, bits);
	bt_md5_update(m, pad, have < 56 ? 56 - have : 120 - have);
	bt_md5_update(m, len, 8);
	for (i = 0; i < 4; i++)
		bt_put_le32(out + 4 * i, m->h[i]);
}
