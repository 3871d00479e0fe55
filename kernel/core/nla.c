/*
 * nla.c - netlink-attribute TLV parse and build for the engine (nla.h).
 */
#include "nla.h"

const struct bt_nla *bt_nla_next(const void *buf, bt_size_t len,
				 bt_size_t *off, int *err)
{
	const struct bt_nla *a;
	bt_size_t rest;

	*err = 0;
	if (*off >= len)
		return NULL;
	rest = len - *off;
	if (rest < BT_NLA_HDRLEN) {
		*err = -BT_EINVAL;
		return NULL;
	}
	a = (const struct bt_nla *)((const u8 *)buf + *off);
	if (a->len < BT_NLA_HDRLEN || a->len > rest) {
		*err = -BT_EINVAL;
		return NULL;
	}
	/* The padding after the last attribute may be missing: clamp. */
	*off += BT_NLA_ALIGN(a->len) < rest ? BT_NLA_ALIGN(a->len) : rest;
	return a;
}

int bt_nla_validate(const struct bt_nla *a, const struct bt_nla_policy *p)
{
	bt_size_t n = bt_nla_plen(a);
	const char *s;
	bt_size_t i;

	switch (p->kind) {
	case BT_NLA_NONE:
		return 0;
	case BT_NLA_FLAG:
		return n == 0 ? 0 : -BT_EINVAL;
	case BT_NLA_U8:
		return n == 1 ? 0 : -BT_EINVAL;
	case BT_NLA_U16:
		return n == 2 ? 0 : -BT_EINVAL;
	case BT_NLA_U32:
		return n == 4 ? 0 : -BT_EINVAL;
	case BT_NLA_U64:
		return n == 8 ? 0 : -BT_EINVAL;
	case BT_NLA_STRING:
		/* Exactly one NUL, at the end; max counts the characters. */
		if (n == 0 || (p->max && n - 1 > p->max))
			return -BT_EINVAL;
		s = bt_nla_data(a);
		for (i = 0; i + 1 < n; i++)
			if (s[i] == '\0')
				return -BT_EINVAL;
		return s[n - 1] == '\0' ? 0 : -BT_EINVAL;
	case BT_NLA_BINARY:
		if (p->exact)
			return n == p->max ? 0 : -BT_EINVAL;
		return (!p->max || n <= p->max) ? 0 : -BT_EINVAL;
	case BT_NLA_NESTED: {
		/* Structure only: the nest's own policy is applied when the
		 * handler parses it. */
		bt_size_t off = 0;
		int err;

		while (bt_nla_next(bt_nla_data(a), n, &off, &err))
			;
		return err;
	}
	default:
		return -BT_EINVAL;
	}
}

int bt_nla_parse(const struct bt_nla **tb, unsigned maxtype,
		 const struct bt_nla_policy *policy, const void *buf,
		 bt_size_t len, unsigned *bad)
{
	const struct bt_nla *a;
	bt_size_t off = 0;
	unsigned t;
	int err;

	for (t = 0; t <= maxtype; t++)
		tb[t] = NULL;
	while ((a = bt_nla_next(buf, len, &off, &err))) {
		t = bt_nla_type(a);
		if (t > maxtype || t == 0)
			continue;
		if (policy) {
			if (policy[t].kind == BT_NLA_NONE)
				continue;
			if (bt_nla_validate(a, &policy[t]) < 0) {
				if (bad)
					*bad = t;
				return -BT_EINVAL;
			}
		}
		tb[t] = a;
	}
	if (err && bad)
		*bad = 0;
	return err;
}

/* Getters: the policy guaranteed the size; a short payload (no policy)
 * still never reads past the attribute. */
u8 bt_nla_u8(const struct bt_nla *a, u8 def)
{
	if (!a || bt_nla_plen(a) < 1)
		return def;
	return *(const u8 *)bt_nla_data(a);
}

u16 bt_nla_u16(const struct bt_nla *a, u16 def)
{
	u16 v;

	if (!a || bt_nla_plen(a) < sizeof(v))
		return def;
	bt_memcpy(&v, bt_nla_data(a), sizeof(v));
	return v;
}

u32 bt_nla_u32(const struct bt_nla *a, u32 def)
{
	u32 v;

	if (!a || bt_nla_plen(a) < sizeof(v))
		return def;
	bt_memcpy(&v, bt_nla_data(a), sizeof(v));
	return v;
}

u64 bt_nla_u64(const struct bt_nla *a, u64 def)
{
	u64 v;

	if (!a || bt_nla_plen(a) < sizeof(v))
		return def;
	bt_memcpy(&v, bt_nla_data(a), sizeof(v));
	return v;
}

const char *bt_nla_str(const struct bt_nla *a)
{
	return a ? (const char *)bt_nla_data(a) : NULL;
}

/* ---- builder ------------------------------------------------------------ */

int bt_nlb_put(struct bt_nlb *b, u16 type, const void *data, bt_size_t n)
{
	struct bt_nla h;
	bt_size_t total = BT_NLA_HDRLEN + n;

	if (n > 0xffff - BT_NLA_HDRLEN || b->len > b->cap ||
	    BT_NLA_ALIGN(total) > b->cap - b->len)
		return -BT_EMSGSIZE;
	h.len = (u16)total;
	h.type = type;
	bt_memcpy(b->buf + b->len, &h, sizeof(h));
	if (n)
		bt_memcpy(b->buf + b->len + BT_NLA_HDRLEN, data, n);
	bt_memset(b->buf + b->len + total, 0, BT_NLA_ALIGN(total) - total);
	b->len += BT_NLA_ALIGN(total);
	return 0;
}

int bt_nlb_put_flag(struct bt_nlb *b, u16 type)
{
	return bt_nlb_put(b, type, NULL, 0);
}

int bt_nlb_put_u8(struct bt_nlb *b, u16 type, u8 v)
{
	return bt_nlb_put(b, type, &v, sizeof(v));
}

int bt_nlb_put_u16(struct bt_nlb *b, u16 type, u16 v)
{
	return bt_nlb_put(b, type, &v, sizeof(v));
}

int bt_nlb_put_u32(struct bt_nlb *b, u16 type, u32 v)
{
	return bt_nlb_put(b, type, &v, sizeof(v));
}

int bt_nlb_put_u64(struct bt_nlb *b, u16 type, u64 v)
{
	return bt_nlb_put(b, type, &v, sizeof(v));
}

int bt_nlb_put_str(struct bt_nlb *b, u16 type, const char *s)
{
	return bt_nlb_put(b, type, s, bt_strlen(s) + 1);
}

long bt_nlb_nest_start(struct bt_nlb *b, u16 type)
{
	long off = (long)b->len;
	int rc = bt_nlb_put(b, type | BT_NLA_F_NESTED, NULL, 0);

	return rc < 0 ? rc : off;
}

int bt_nlb_nest_end(struct bt_nlb *b, long off)
{
	struct bt_nla h;
	bt_size_t n = b->len - (bt_size_t)off;

	if (n > 0xffff)
		return -BT_EMSGSIZE;
	bt_memcpy(&h, b->buf + off, sizeof(h));
	h.len = (u16)n;
	bt_memcpy(b->buf + off, &h, sizeof(h));
	return 0;
}

void bt_nlb_nest_cancel(struct bt_nlb *b, long off)
{
	if (off >= 0 && (bt_size_t)off <= b->len)
		b->len = (bt_size_t)off;
}
