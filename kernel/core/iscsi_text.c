/*
 * iscsi_text.c - iSCSI text key=value pairs (RFC 7143 section 6): parsing
 * with strict bounds, building replies, and value decoding.
 */
#include "iscsi_int.h"

static bool key_char_ok(u8 ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
	       ch == '+' || ch == '@' || ch == '_';
}

int iscsi_text_parse(const u8 *buf, u32 len,
		     int (*cb)(void *arg, const char *key, const char *val),
		     void *arg)
{
	char key[ISCSI_KEY_MAX + 1];
	char *val;
	u32 pos = 0;
	int rc = 0;

	val = bt_alloc(ISCSI_VALUE_MAX + 1);
	if (!val)
		return -BT_ENOMEM;
	while (pos < len) {
		u32 start = pos, klen = 0, vlen = 0;

		if (buf[pos] == 0) {      /* stray NUL padding: tolerated    */
			pos++;
			continue;
		}
		while (pos < len && buf[pos] != '=' && buf[pos] != 0) {
			if (klen >= ISCSI_KEY_MAX || !key_char_ok(buf[pos])) {
				rc = -BT_EINVAL;
				goto out_free;
			}
			key[klen++] = (char)buf[pos++];
		}
		key[klen] = 0;
		if (pos >= len || buf[pos] != '=' || klen == 0) {
			rc = -BT_EINVAL;
			goto out_free;
		}
		pos++;
		while (pos < len && buf[pos] != 0) {
			if (vlen >= ISCSI_VALUE_MAX) {
				rc = -BT_EINVAL;
				goto out_free;
			}
			val[vlen++] = (char)buf[pos++];
		}
		val[vlen] = 0;
		pos++;                    /* the NUL (or end of buffer)      */
		(void)start;
		rc = cb(arg, key, val);
		if (rc)
			goto out_free;
	}
out_free:
	bt_free(val);
	return rc;
}

static void text_append(struct iscsi_text_out *o, const char *s, u32 n)
{
	if (o->overflow)
		return;
	if (o->len + n > o->cap) {
		u32 cap = o->cap ? o->cap : 512;
		u8 *nb;

		while (cap < o->len + n)
			cap *= 2;
		if (cap > (o->limit ? o->limit : ISCSI_LOGIN_TEXT_MAX)) {
			o->overflow = true;
			return;
		}
		nb = bt_realloc(o->buf, cap);
		if (!nb) {
			o->overflow = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
	bt_memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void iscsi_text_add(struct iscsi_text_out *o, const char *key, const char *val)
{
	text_append(o, key, (u32)bt_strlen(key));
	text_append(o, "=", 1);
	text_append(o, val, (u32)bt_strlen(val));
	text_append(o, "", 1);
}

void iscsi_text_addu(struct iscsi_text_out *o, const char *key, u64 v)
{
	char num[24];

	bt_snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	iscsi_text_add(o, key, num);
}

void iscsi_text_free(struct iscsi_text_out *o)
{
	bt_free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
	o->overflow = false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int iscsi_val_num(const char *v, u64 max, u64 *out)
{
	u64 n = 0;
	const char *p = v;

	if (!*p)
		return -BT_EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return -BT_EINVAL;
		for (; *p; p++) {
			int h = hexval(*p);

			if (h < 0 || n > (max >> 4))
				return -BT_EINVAL;
			n = n << 4 | (u64)h;
		}
	} else {
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || n > max / 10)
				return -BT_EINVAL;
			n = n * 10 + (u64)(*p - '0');
		}
	}
	if (n > max)
		return -BT_EINVAL;
	*out = n;
	return 0;
}

int iscsi_val_bool(const char *v, bool *out)
{
	if (!bt_strcmp(v, "Yes"))
		*out = true;
	else if (!bt_strcmp(v, "No"))
		*out = false;
	else
		return -BT_EINVAL;
	return 0;
}

static int b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int iscsi_val_bin(const char *v, u8 *out, u32 cap, u32 *outlen)
{
	u32 n = 0;
	const char *p;

	if (v[0] != '0' || !v[1])
		return -BT_EINVAL;
	p = v + 2;
	if (v[1] == 'x' || v[1] == 'X') {
		u32 digits = (u32)bt_strlen(p);
		bool odd = digits & 1;

		if (!digits)
			return -BT_EINVAL;
		while (*p) {
			int hi = 0, lo;

			if (!odd) {
				hi = hexval(*p++);
				if (hi < 0)
					return -BT_EINVAL;
			}
			odd = false;
			lo = hexval(*p++);
			if (lo < 0 || n >= cap)
				return -BT_EINVAL;
			out[n++] = (u8)(hi << 4 | lo);
		}
	} else if (v[1] == 'b' || v[1] == 'B') {
		u32 acc = 0, bits = 0;

		if (!*p)
			return -BT_EINVAL;
		for (; *p && *p != '='; p++) {
			int b = b64val(*p);

			if (b < 0)
				return -BT_EINVAL;
			acc = acc << 6 | (u32)b;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n >= cap)
					return -BT_EINVAL;
				out[n++] = (u8)(acc >> bits);
			}
		}
		for (; *p == '='; p++)
			;
		if (*p)
			return -BT_EINVAL;
	} else {
		return -BT_EINVAL;
	}
	*outlen = n;
	return 0;
}

void iscsi_val_hex(const u8 *bin, u32 len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	u32 i;

	*out++ = '0';
	*out++ = 'x';
	for (i = 0; i < len; i++) {
		*out++ = hx[bin[i] >> 4];
		*out++ = hx[bin[i] & 15];
	}
	*out = 0;
}
