/*
 * sha256.c - SHA-256 per FIPS 180-4, written from the specification.
 * Intermediate state is wiped: the input is a CHAP secret.
 */
#include "sha256.h"

/* First 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (FIPS 180-4 section 4.2.2). */
static const u32 sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline u32 bt_ror32(u32 x, unsigned n) { return x >> n | x << (32 - n); }

/* Zero memory in a way the compiler may not drop as a dead store. */
static void wipe(void *p, bt_size_t n)
{
	volatile u8 *v = p;

	while (n--)
		*v++ = 0;
}

static void sha256_block(struct bt_sha256 *c, const u8 *p)
{
	u32 w[64], v[8], t1, t2;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = bt_get_be32(p + 4 * i);
	for (; i < 64; i++)
		w[i] = w[i - 16] + (bt_ror32(w[i - 15], 7) ^ bt_ror32(w[i - 15], 18) ^
				    (w[i - 15] >> 3)) +
		       w[i - 7] + (bt_ror32(w[i - 2], 17) ^ bt_ror32(w[i - 2], 19) ^
				   (w[i - 2] >> 10));
	bt_memcpy(v, c->h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (bt_ror32(v[4], 6) ^ bt_ror32(v[4], 11) ^ bt_ror32(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
		t2 = (bt_ror32(v[0], 2) ^ bt_ror32(v[0], 13) ^ bt_ror32(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		bt_memmove(&v[1], &v[0], 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		c->h[i] += v[i];
	wipe(w, sizeof(w));
	wipe(v, sizeof(v));
}

void bt_sha256_init(struct bt_sha256 *c)
{
	static const u32 h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	bt_memset(c, 0, sizeof(*c));
	bt_memcpy(c->h, h0, sizeof(h0));
}

void bt_sha256_update(struct bt_sha256 *c, const void *data, bt_size_t len)
{
	const u8 *p = data;

	c->nbytes += len;
	while (len) {
		bt_size_t n = BT_MIN((bt_size_t)(64 - c->nbuf), len);

		bt_memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += (u32)n;
		p += n;
		len -= n;
		if (c->nbuf == 64) {
			sha256_block(c, c->buf);
			c->nbuf = 0;
		}
	}
}

void bt_sha256_final(struct bt_sha256 *c, u8 out[BT_SHA256_LEN])
{
	u64 bits = c->nbytes * 8;
	u8 pad = 0x80, len[8];
	unsigned i;

	bt_sha256_update(c, &pad, 1);
	pad = 0;
	while (c->nbuf != 56)
		bt_sha256_update(c, &pad, 1);
	bt_put_be64(len, bits);
	bt_sha256_update(c, len, 8);
	for (i = 0; i < 8; i++)
		bt_put_be32(out + 4 * i, c->h[i]);
	wipe(c, sizeof(*c));
}

/* ---- HMAC-SHA256 and PBKDF2 ------------------------------------------------*/

struct hmac {
	struct bt_sha256 inner, outer;    /* after the key block             */
};

static void hmac_init(struct hmac *m, const void *key, bt_size_t keylen)
{
	u8 k[64], pad[64];
	unsigned i;

	bt_memset(k, 0, sizeof(k));
	if (keylen > 64) {
		struct bt_sha256 c;

		bt_sha256_init(&c);
		bt_sha256_update(&c, key, keylen);
		bt_sha256_final(&c, k);
	} else {
		bt_memcpy(k, key, keylen);
	}
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	bt_sha256_init(&m->inner);
	bt_sha256_update(&m->inner, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	bt_sha256_init(&m->outer);
	bt_sha256_update(&m->outer, pad, 64);
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
}

/* HMAC of a message given as two parts, from a keyed m (kept). */
static void hmac(const struct hmac *m, const void *a, bt_size_t alen,
		 const void *b, bt_size_t blen, u8 out[BT_SHA256_LEN])
{
	struct bt_sha256 c = m->inner;
	u8 ih[BT_SHA256_LEN];

	bt_sha256_update(&c, a, alen);
	bt_sha256_update(&c, b, blen);
	bt_sha256_final(&c, ih);
	c = m->outer;
	bt_sha256_update(&c, ih, sizeof(ih));
	bt_sha256_final(&c, out);
	wipe(ih, sizeof(ih));
}

void bt_pbkdf2_sha256(const void *pw, bt_size_t pwlen, const void *salt,
		      bt_size_t saltlen, u32 iter, u8 *out, bt_size_t outlen)
{
	struct hmac m;
	u8 u[BT_SHA256_LEN], t[BT_SHA256_LEN], be[4];
	u32 block, j;
	unsigned i;

	hmac_init(&m, pw, pwlen);
	for (block = 1; outlen; block++) {
		bt_size_t n = BT_MIN(outlen, (bt_size_t)BT_SHA256_LEN);

		bt_put_be32(be, block);
		hmac(&m, salt, saltlen, be, 4, u);
		bt_memcpy(t, u, sizeof(t));
		for (j = 1; j < iter; j++) {
			hmac(&m, u, sizeof(u), NULL, 0, u);
			for (i = 0; i < BT_SHA256_LEN; i++)
				t[i] ^= u[i];
		}
		bt_memcpy(out, t, n);
		out += n;
		outlen -= n;
	}
	wipe(&m, sizeof(m));
	wipe(u, sizeof(u));
	wipe(t, sizeof(t));
}
