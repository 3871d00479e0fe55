/*
 * nla.h - netlink-attribute TLVs for the engine, without libmnl or kernel
 * headers (the engine is freestanding, see bt_os.h). Layout as in
 * <linux/netlink.h>: {u16 len, u16 type} + payload, padded to 4 bytes, len
 * excluding the padding; nested attributes have BT_NLA_F_NESTED in type.
 *
 * Parsing never trusts its input: every length is checked against the
 * enclosing buffer before anything is read, and typed getters check the
 * payload size, so truncated or hostile bytes give -BT_EINVAL, never an
 * out-of-bounds read.
 */
#ifndef BT_NLA_H
#define BT_NLA_H

#include "bt_os.h"

struct bt_nla {
	u16 len;
	u16 type;
};

#define BT_NLA_HDRLEN          4u
#define BT_NLA_ALIGN(n)        (((n) + 3u) & ~(bt_size_t)3u)
#define BT_NLA_F_NESTED        0x8000
#define BT_NLA_F_NET_BYTEORDER 0x4000
#define BT_NLA_TYPE_MASK       0x3fff

enum bt_nla_kind {
	BT_NLA_NONE = 0,              /* not in the policy: ignored            */
	BT_NLA_FLAG,                  /* empty payload                         */
	BT_NLA_U8,
	BT_NLA_U16,
	BT_NLA_U32,
	BT_NLA_U64,
	BT_NLA_STRING,                /* NUL-terminated, no interior NUL,
	                               * at most max bytes before the NUL      */
	BT_NLA_BINARY,                /* at most max bytes (exactly, if exact) */
	BT_NLA_NESTED,                /* payload is itself attributes          */
};

struct bt_nla_policy {
	u8  kind;                     /* enum bt_nla_kind                      */
	bool exact;                   /* BINARY: length must equal max         */
	u16 max;
};

static inline u16 bt_nla_type(const struct bt_nla *a)
{ return a->type & BT_NLA_TYPE_MASK; }
static inline const void *bt_nla_data(const struct bt_nla *a)
{ return (const u8 *)a + BT_NLA_HDRLEN; }
static inline bt_size_t bt_nla_plen(const struct bt_nla *a)
{ return a->len - BT_NLA_HDRLEN; }

/*
 * Walk the attributes in buf[0..len): *off starts at 0. Returns the next
 * attribute, or NULL at the end (*err = 0) or on a malformed one (*err =
 * -BT_EINVAL). The returned pointer is inside buf and its len is checked.
 * buf must be 4-byte aligned (message buffers are).
 */
const struct bt_nla *bt_nla_next(const void *buf, bt_size_t len,
				 bt_size_t *off, int *err);

/*
 * Parse buf into tb[0..maxtype] (zeroed first; the last duplicate wins),
 * validating each attribute whose type has a policy entry (policy may be
 * NULL: structure only). Types above maxtype or without a policy kind are
 * skipped (forward compatibility). Returns 0 or -BT_EINVAL; on error *bad
 * (if not NULL) is the offending attribute type.
 */
int bt_nla_parse(const struct bt_nla **tb, unsigned maxtype,
		 const struct bt_nla_policy *policy, const void *buf,
		 bt_size_t len, unsigned *bad);

/* Validate one attribute against one policy entry. 0 or -BT_EINVAL. */
int bt_nla_validate(const struct bt_nla *a, const struct bt_nla_policy *p);

/* Typed getters for validated attributes; a NULL attribute gives def. */
u8  bt_nla_u8(const struct bt_nla *a, u8 def);
u16 bt_nla_u16(const struct bt_nla *a, u16 def);
u32 bt_nla_u32(const struct bt_nla *a, u32 def);
u64 bt_nla_u64(const struct bt_nla *a, u64 def);
const char *bt_nla_str(const struct bt_nla *a); /* NULL if a is NULL */

/*
 * Builder over a caller-owned buffer. A put that does not fit writes
 * nothing and returns -BT_EMSGSIZE; the message stays well formed, so a
 * caller may stop there and send what it has (dump splitting).
 */
struct bt_nlb {
	u8 *buf;                      /* 4-byte aligned                        */
	bt_size_t cap;
	bt_size_t len;
};

int bt_nlb_put(struct bt_nlb *b, u16 type, const void *data, bt_size_t n);
int bt_nlb_put_flag(struct bt_nlb *b, u16 type);
int bt_nlb_put_u8(struct bt_nlb *b, u16 type, u8 v);
int bt_nlb_put_u16(struct bt_nlb *b, u16 type, u16 v);
int bt_nlb_put_u32(struct bt_nlb *b, u16 type, u32 v);
int bt_nlb_put_u64(struct bt_nlb *b, u16 type, u64 v);
int bt_nlb_put_str(struct bt_nlb *b, u16 type, const char *s); /* with NUL */
/*
 * Open a nest: returns its offset (>= 0) for bt_nlb_nest_end/cancel, or
 * -BT_EMSGSIZE. A nest longer than 65535 bytes cannot be expressed: end
 * then fails with -BT_EMSGSIZE and the caller must cancel it.
 */
long bt_nlb_nest_start(struct bt_nlb *b, u16 type);
int  bt_nlb_nest_end(struct bt_nlb *b, long off);
/* Drop everything from the nest's start on. */
void bt_nlb_nest_cancel(struct bt_nlb *b, long off);

#endif
