/*
 * chap_digest.c - digests of CHAP secrets for the dump (chap_digest.h).
 */
#include "chap_digest.h"
#include "sha256.h"

static const char prefix[] = "pbkdf2-sha256:";

static char *put_hex(char *p, const u8 *b, unsigned n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < n; i++) {
		*p++ = digits[b[i] >> 4];
		*p++ = digits[b[i] & 15];
	}
	return p;
}

static char *put_uint(char *p, u32 v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void derive(const char *secret, const u8 *salt, u32 iter,
		   u8 dk[BT_CHAP_DIGEST_DK])
{
	bt_pbkdf2_sha256(secret, bt_strlen(secret), salt, BT_CHAP_DIGEST_SALT,
			 iter, dk, BT_CHAP_DIGEST_DK);
}

int bt_chap_digest(const char *secret, const u8 salt[BT_CHAP_DIGEST_SALT],
		   char out[BT_CHAP_DIGEST_MAX])
{
	u8 dk[BT_CHAP_DIGEST_DK];
	char *p = out;

	derive(secret, salt, BT_CHAP_DIGEST_ITER, dk);
	bt_memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	p = put_uint(p, BT_CHAP_DIGEST_ITER);
	*p++ = ':';
	p = put_hex(p, salt, BT_CHAP_DIGEST_SALT);
	*p++ = ':';
	p = put_hex(p, dk, BT_CHAP_DIGEST_DK);
	*p = '\0';
	return (int)(p - out);
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n bytes of hex at *pp; advances *pp. 0 or -BT_EINVAL. */
static int get_hex(const char **pp, u8 *b, unsigned n)
{
	const char *p = *pp;
	unsigned i;

	for (i = 0; i < n; i++) {
		int hi = unhex(p[2 * i]), lo = hi < 0 ? -1 : unhex(p[2 * i + 1]);

		if (lo < 0)
			return -BT_EINVAL;
		b[i] = (u8)(hi << 4 | lo);
	}
	*pp = p + 2 * n;
	return 0;
}

int bt_chap_digest_check(const char *secret, const char *digest)
{
	u8 salt[BT_CHAP_DIGEST_SALT], want[BT_CHAP_DIGEST_DK], dk[BT_CHAP_DIGEST_DK];
	const char *p = digest;
	u32 iter = 0;
	u8 diff = 0;
	unsigned i;

	if (!secret || !digest || bt_strncmp(p, prefix, sizeof(prefix) - 1))
		return -BT_EINVAL;
	p += sizeof(prefix) - 1;
	for (i = 0; *p >= '0' && *p <= '9' && i < 7; i++, p++)
		iter = iter * 10 + (u32)(*p - '0');
	if (!i || !iter || iter > BT_CHAP_DIGEST_ITER_MAX || *p++ != ':' ||
	    get_hex(&p, salt, sizeof(salt)) < 0 || *p++ != ':' ||
	    get_hex(&p, want, sizeof(want)) < 0 || *p)
		return -BT_EINVAL;
	derive(secret, salt, iter, dk);
	for (i = 0; i < sizeof(dk); i++)
		diff |= (u8)(dk[i] ^ want[i]);
	return diff == 0;
}
