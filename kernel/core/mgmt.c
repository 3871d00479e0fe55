/*
 * mgmt.c - the management front end: request bytes in, reply bytes out
 * (bt_mgmt.h). Parses one netlink-format request, runs it against the object
 * model (engine.c) and emits the reply messages through the host's send
 * callback. Hosts differ only in transport: the userspace host sends the
 * bytes on its unix socket, the kernel module as generic netlink.
 */
#include "bt_mgmt.h"
#include "bt_engine.h"
#include "bt_iscsi.h"
#include "bt_scsi.h"
#include "engine_int.h"
#include "nla.h"

/* One policy for the single attribute space (bt_mgmt.h). */
static const struct bt_nla_policy mgmt_policy[BT_A_MAX + 1] = {
	[BT_A_ERROR]         = { BT_NLA_U32, false, 0 },
	[BT_A_ERRMSG]        = { BT_NLA_STRING, false, 1023 },
	[BT_A_IQN]           = { BT_NLA_STRING, false, BT_MGMT_NAME_MAX },
	[BT_A_FORCE]         = { BT_NLA_FLAG, false, 0 },
	[BT_A_ATTRS]         = { BT_NLA_NESTED, false, 0 },
	[BT_A_PORTAL]        = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_LUN]           = { BT_NLA_U64, false, 0 },
	[BT_A_PATH]          = { BT_NLA_STRING, false, BT_MGMT_PATH_MAX },
	[BT_A_UID]           = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_BLOCK_SIZE]    = { BT_NLA_U32, false, 0 },
	[BT_A_READONLY]      = { BT_NLA_FLAG, false, 0 },
	[BT_A_FEATURES]      = { BT_NLA_U32, false, 0 },
	[BT_A_INITIATOR]     = { BT_NLA_STRING, false, BT_MGMT_NAME_MAX },
	[BT_A_CHAP_USER]     = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_CHAP_SECRET]   = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_MUTUAL_USER]   = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_MUTUAL_SECRET] = { BT_NLA_STRING, false, BT_MGMT_STR_MAX },
	[BT_A_ATTACHED]      = { BT_NLA_FLAG, false, 0 },
	[BT_A_LUN_FROM]      = { BT_NLA_U64, false, 0 },
	[BT_A_LUN_MAX]       = { BT_NLA_U32, false, 0 },
};

#define MAX_PORTALS_DUMPED 64

struct mreq {
	struct bt_engine *e;
	u8 cmd;
	u32 seq;
	u16 type;
	const struct bt_nla *tb[BT_A_MAX + 1];
	/* reply */
	struct bt_nlb b;
	bt_mgmt_send_fn send;
	void *arg;
	int send_err;                 /* first send failure: stop everything */
	char msg[512];
};

static const char *cmd_name(u8 cmd)
{
	static const char *const names[] = {
		[BT_CMD_TARGET_ADD] = "target add",
		[BT_CMD_TARGET_DEL] = "target delete",
		[BT_CMD_ENABLE] = "enable",
		[BT_CMD_DISABLE] = "disable",
		[BT_CMD_SET_ATTR] = "set",
		[BT_CMD_PORTAL_ADD] = "portal add",
		[BT_CMD_PORTAL_DEL] = "portal del",
		[BT_CMD_LUN_ADD] = "lun add",
		[BT_CMD_LUN_DEL] = "lun del",
		[BT_CMD_ACL_ADD] = "acl add",
		[BT_CMD_ACL_DEL] = "acl del",
		[BT_CMD_AUTH_SET] = "auth set",
		[BT_CMD_DUMP] = "dump",
		[BT_CMD_SESSIONS] = "sessions",
		[BT_CMD_SUBSCRIBE] = "subscribe",
		[BT_CMD_EVENT] = "event",
	};

	return cmd < BT_ARRAY_SIZE(names) && names[cmd] ? names[cmd] : "request";
}

/* ---- reply messages ----------------------------------------------------- */

static void msg_begin(struct mreq *r)
{
	struct bt_nlmsghdr nh = {
		.len = 0, .type = r->type, .flags = 0, .seq = r->seq, .pid = 0,
	};
	struct bt_genlhdr gh = { .cmd = r->cmd, .version = BT_MGMT_VERSION };

	bt_memcpy(r->b.buf, &nh, sizeof(nh));
	bt_memcpy(r->b.buf + sizeof(nh), &gh, sizeof(gh));
	r->b.len = BT_MGMT_HDRLEN;
}

static bool msg_empty(const struct mreq *r)
{
	return r->b.len <= BT_MGMT_HDRLEN;
}

/* Send the message being built (flags: BT_NLM_F_MULTI unless last) and
 * start the next one. */
static int msg_flush(struct mreq *r, u16 flags)
{
	struct bt_nlmsghdr nh;
	int rc;

	if (r->send_err)
		return r->send_err;
	bt_memcpy(&nh, r->b.buf, sizeof(nh));
	nh.len = (u32)r->b.len;
	nh.flags = flags;
	bt_memcpy(r->b.buf, &nh, sizeof(nh));
	rc = r->send(r->arg, r->b.buf, r->b.len);
	if (rc < 0)
		r->send_err = rc;
	msg_begin(r);
	return rc;
}

/*
 * Finish the exchange: BT_A_ERROR (and BT_A_ERRMSG) in the last message.
 * A half-built data message is kept when the status still fits, else sent
 * first as a part.
 */
static int msg_final(struct mreq *r, int rc)
{
	bt_size_t need = 8 + (rc < 0 ? BT_NLA_ALIGN(BT_NLA_HDRLEN +
				   bt_strlen(r->msg) + 1) : 0);

	if (r->send_err)
		return r->send_err;
	if (r->b.cap - r->b.len < need && msg_flush(r, BT_NLM_F_MULTI) < 0)
		return r->send_err;
	bt_nlb_put_u32(&r->b, BT_A_ERROR, (u32)rc);
	if (rc < 0)
		bt_nlb_put_str(&r->b, BT_A_ERRMSG, r->msg);
	return msg_flush(r, 0);
}

/* Error text: "<object>: <reason>". */
static int fail(struct mreq *r, int rc, const char *object)
{
	bt_snprintf(r->msg, sizeof(r->msg), "%s: %s", object, bt_strerror(rc));
	return rc;
}

static int missing(struct mreq *r, const char *what)
{
	bt_snprintf(r->msg, sizeof(r->msg), "%s: missing %s", cmd_name(r->cmd),
		    what);
	return -BT_EINVAL;
}

/*
 * Typed outcome of an operation on something inside a target: when the
 * target itself is missing say so, not "lun 3: not found".
 */
static int obj_result(struct mreq *r, int rc, const char *iqn,
		      const char *fmt_obj)
{
	char obj[400];

	if (rc == 0)
		return 0;
	if (rc == BT_E_NOT_FOUND && !bt_target_find(r->e, iqn))
		return fail(r, rc, iqn);
	bt_snprintf(obj, sizeof(obj), "%s: %s", iqn, fmt_obj);
	return fail(r, rc, obj);
}

/* ---- commands ----------------------------------------------------------- */

static const char *req_iqn(struct mreq *r)
{
	return bt_nla_str(r->tb[BT_A_IQN]);
}

static int set_attrs(struct mreq *r, const char *iqn, const struct bt_nla *attrs);

static int do_target(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	bool force = r->tb[BT_A_FORCE] != NULL;
	int rc;

	if (!iqn)
		return missing(r, "IQN");
	switch (r->cmd) {
	case BT_CMD_TARGET_ADD:
		rc = bt_target_add(r->e, iqn);
		/*
		 * Attributes given with the add (bollardd's owner tag) are set
		 * in the same message, so no crash of the caller can leave a
		 * target without them; if one is refused, the add is undone.
		 */
		if (rc == 0 && r->tb[BT_A_ATTRS]) {
			rc = set_attrs(r, iqn, r->tb[BT_A_ATTRS]);
			if (rc < 0)
				bt_target_del(r->e, iqn, true);
			return rc;
		}
		break;
	case BT_CMD_TARGET_DEL:
		rc = bt_target_del(r->e, iqn, force);
		break;
	case BT_CMD_ENABLE: {
		struct bt_lun_fail why = { 0, NULL, 0 };

		rc = bt_target_enable_why(r->e, iqn, true, &why);
		if (rc < 0 && why.path) {
			/* Name the LUN that kept the target disabled, so the
			 * OCF agent's start failure says what to fix. */
			bt_snprintf(r->msg, sizeof(r->msg),
				    "%s: lun %llu: %s: %s (target stays disabled)",
				    iqn, (unsigned long long)why.lun, why.path,
				    bt_strerror(rc));
			return rc;
		}
		break;
	}
	default:
		rc = bt_target_enable(r->e, iqn, false);
		break;
	}
	if (rc == BT_E_IN_USE) {
		bt_snprintf(r->msg, sizeof(r->msg),
			    "%s: in use: %u session(s) logged in (use force)",
			    iqn, bt_iscsi_target_nsessions(bt_target_find(r->e, iqn)));
		return rc;
	}
	return rc < 0 ? fail(r, rc, iqn) : 0;
}

static int do_set_attr(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	const struct bt_nla *attrs = r->tb[BT_A_ATTRS];

	if (!iqn)
		return missing(r, "IQN");
	if (!attrs)
		return missing(r, "ATTRS");
	if (!bt_target_find(r->e, iqn))
		return fail(r, BT_E_NOT_FOUND, iqn);
	return set_attrs(r, iqn, attrs);
}

static int set_attrs(struct mreq *r, const char *iqn, const struct bt_nla *attrs)
{
	const struct bt_nla *a;
	bt_size_t off = 0;
	char obj[64];
	int err, rc;

	while ((a = bt_nla_next(bt_nla_data(attrs), bt_nla_plen(attrs), &off,
				&err))) {
		bt_snprintf(obj, sizeof(obj), "attribute %u", bt_nla_type(a));
		if (bt_nla_plen(a) != 8)
			return obj_result(r, BT_E_BAD_ATTR, iqn, obj);
		rc = bt_target_set_attr(r->e, iqn,
					(enum bt_target_attr)bt_nla_type(a),
					bt_nla_u64(a, 0));
		if (rc < 0)
			return obj_result(r, rc, iqn, obj);
	}
	if (err)
		return fail(r, -BT_EINVAL, "malformed ATTRS");
	return 0;
}

static int do_portal(struct mreq *r)
{
	const char *iqn = req_iqn(r), *p = bt_nla_str(r->tb[BT_A_PORTAL]);
	char obj[300];
	int rc;

	if (!iqn)
		return missing(r, "IQN");
	if (!p)
		return missing(r, "PORTAL");
	rc = r->cmd == BT_CMD_PORTAL_ADD ? bt_portal_add(r->e, iqn, p)
					 : bt_portal_del(r->e, iqn, p);
	bt_snprintf(obj, sizeof(obj), "portal %s", p);
	return obj_result(r, rc, iqn, obj);
}

static int do_lun(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	u64 lun;
	char obj[48];
	int rc;

	if (!iqn)
		return missing(r, "IQN");
	if (!r->tb[BT_A_LUN])
		return missing(r, "LUN");
	lun = bt_nla_u64(r->tb[BT_A_LUN], 0);
	if (r->cmd == BT_CMD_LUN_ADD) {
		struct bt_lun_cfg cfg = {
			.path = bt_nla_str(r->tb[BT_A_PATH]),
			.uid = bt_nla_str(r->tb[BT_A_UID]),
			.block_size = bt_nla_u32(r->tb[BT_A_BLOCK_SIZE], 0),
			.readonly = r->tb[BT_A_READONLY] != NULL,
			.features = bt_nla_u32(r->tb[BT_A_FEATURES], 0),
		};

		if (!cfg.path)
			return missing(r, "PATH");
		rc = bt_lun_add(r->e, iqn, lun, &cfg);
	} else {
		rc = bt_lun_del(r->e, iqn, lun, r->tb[BT_A_FORCE] != NULL);
	}
	bt_snprintf(obj, sizeof(obj), "lun %llu", (unsigned long long)lun);
	if (rc == BT_E_BACKEND && r->cmd == BT_CMD_LUN_ADD) {
		bt_snprintf(r->msg, sizeof(r->msg), "%s: %s: %s: %s", iqn, obj,
			    bt_nla_str(r->tb[BT_A_PATH]), bt_strerror(rc));
		return rc;
	}
	if (rc == BT_E_IN_USE) {
		bt_snprintf(r->msg, sizeof(r->msg),
			    "%s: %s: in use: %u session(s) logged in (use force)",
			    iqn, obj,
			    bt_iscsi_target_nsessions(bt_target_find(r->e, iqn)));
		return rc;
	}
	return obj_result(r, rc, iqn, obj);
}

static void req_chap(struct mreq *r, int ua, int sa, struct bt_chap *c)
{
	c->user = bt_nla_str(r->tb[ua]);
	c->secret = bt_nla_str(r->tb[sa]);
}

static int do_acl(struct mreq *r)
{
	const char *iqn = req_iqn(r), *ini = bt_nla_str(r->tb[BT_A_INITIATOR]);
	struct bt_chap chap;
	char obj[300];
	int rc;

	if (!iqn)
		return missing(r, "IQN");
	if (!ini)
		return missing(r, "INITIATOR");
	if (r->cmd == BT_CMD_ACL_ADD) {
		req_chap(r, BT_A_CHAP_USER, BT_A_CHAP_SECRET, &chap);
		rc = bt_acl_add(r->e, iqn, ini, &chap);
	} else {
		rc = bt_acl_del(r->e, iqn, ini);
	}
	bt_snprintf(obj, sizeof(obj), "acl %s", ini);
	return obj_result(r, rc, iqn, obj);
}

static int do_auth(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	struct bt_chap chap, mutual;
	int rc;

	if (!iqn)
		return missing(r, "IQN");
	req_chap(r, BT_A_CHAP_USER, BT_A_CHAP_SECRET, &chap);
	req_chap(r, BT_A_MUTUAL_USER, BT_A_MUTUAL_SECRET, &mutual);
	rc = bt_auth_set(r->e, iqn, &chap, &mutual);
	return obj_result(r, rc, iqn, "auth");
}

/* ---- dump --------------------------------------------------------------- */

static int put_str_opt(struct bt_nlb *b, u16 type, const char *s)
{
	return s ? bt_nlb_put_str(b, type, s) : 0;
}

/* Which of a target's LUNs a dump lists: indexes [first, end), and the
 * LUN number to go on from when the page stops short (more). */
struct lun_page {
	u32 first, end;
	bool more;
	u64 next;
};

/* The parts of a target that are not lists: all or nothing. */
static int put_target_head(struct mreq *r, struct bt_target *t,
			   const struct lun_page *pg)
{
	struct bt_nlb *b = &r->b;
	const char *cu, *mu, *p;
	unsigned i;
	long n;
	int a;

	if ((pg->more && bt_nlb_put_u64(b, BT_A_LUN_NEXT, pg->next) < 0) ||
	    bt_nlb_put_u8(b, BT_A_ENABLED, bt_target_enabled(t)) < 0 ||
	    bt_nlb_put_u32(b, BT_A_NSESSIONS, bt_iscsi_target_nsessions(t)) < 0)
		return -BT_EMSGSIZE;
	n = bt_nlb_nest_start(b, BT_A_ATTRS);
	if (n < 0)
		return -BT_EMSGSIZE;
	for (a = BT_TA_MAX_SESSIONS_PER_INITIATOR; a <= BT_TA_ALUA_PEER_STATE; a++)
		if (bt_nlb_put_u64(b, (u16)a,
				   bt_target_attr(t, (enum bt_target_attr)a)) < 0)
			return -BT_EMSGSIZE;
	bt_nlb_nest_end(b, n);
	n = bt_nlb_nest_start(b, BT_A_PORTALS);
	if (n < 0)
		return -BT_EMSGSIZE;
	for (i = 0; (p = bt_target_portal(t, i)) && i < MAX_PORTALS_DUMPED; i++)
		if (bt_nlb_put_str(b, BT_A_PORTAL, p) < 0)
			return -BT_EMSGSIZE;
	bt_nlb_nest_end(b, n);
	bt_target_auth_users(t, &cu, &mu);
	n = bt_nlb_nest_start(b, BT_A_AUTH);
	if (n < 0 || put_str_opt(b, BT_A_CHAP_USER, cu) < 0 ||
	    put_str_opt(b, BT_A_MUTUAL_USER, mu) < 0)
		return -BT_EMSGSIZE;
	bt_target_auth_digests(t, &cu, &mu);
	if (put_str_opt(b, BT_A_CHAP_DIGEST, cu) < 0 ||
	    put_str_opt(b, BT_A_MUTUAL_DIGEST, mu) < 0)
		return -BT_EMSGSIZE;
	bt_nlb_nest_end(b, n);
	return 0;
}

static int put_acl(struct bt_nlb *b, const struct bt_target *t, unsigned i)
{
	const char *ini, *cu;
	long n = bt_nlb_nest_start(b, BT_A_ACL);

	if (n < 0)
		return -BT_EMSGSIZE;
	bt_target_acl(t, i, &ini, &cu);
	if (bt_nlb_put_str(b, BT_A_INITIATOR, ini) < 0 ||
	    put_str_opt(b, BT_A_CHAP_USER, cu) < 0 ||
	    put_str_opt(b, BT_A_CHAP_DIGEST, bt_target_acl_digest(t, i)) < 0) {
		bt_nlb_nest_cancel(b, n);
		return -BT_EMSGSIZE;
	}
	return bt_nlb_nest_end(b, n);
}

/*
 * One LUN entry. An unattached LUN (target disabled) is listed from its
 * recorded map: path, uid (the derived one if none was given), the block
 * size as configured, BLOCKS 0 and no NAA/SERIAL (the SCSI layer derives
 * those only when it creates the LU). ATTACHED is set when the LU is open.
 */
static int put_lun(struct bt_nlb *b, const struct bt_target *t, u32 i)
{
	struct bt_lun_view v;
	char uid[300];
	const char *u;
	long n;

	if (!bt_target_lun_view(t, i, &v))
		return -BT_EINVAL;
	if (v.lu) {
		u = bt_lu_uid(v.lu);
	} else if (v.uid) {
		u = v.uid;
	} else {
		bt_snprintf(uid, sizeof(uid), "%s:%llu", bt_target_iqn(t),
			    (unsigned long long)v.lun);
		u = uid;
	}
	n = bt_nlb_nest_start(b, BT_A_LUN_ENTRY);
	if (n < 0)
		return -BT_EMSGSIZE;
	if (bt_nlb_put_u64(b, BT_A_LUN, v.lun) < 0 ||
	    put_str_opt(b, BT_A_PATH, v.lu ? bt_lu_path(v.lu) : v.path) < 0 ||
	    put_str_opt(b, BT_A_UID, u) < 0 ||
	    (v.lu && (put_str_opt(b, BT_A_NAA, bt_lu_naa_hex(v.lu)) < 0 ||
		      put_str_opt(b, BT_A_SERIAL, bt_lu_serial(v.lu)) < 0)) ||
	    bt_nlb_put_u64(b, BT_A_BLOCKS, v.lu ? bt_lu_blocks(v.lu) : 0) < 0 ||
	    bt_nlb_put_u32(b, BT_A_BLOCK_SIZE,
			   v.lu ? bt_lu_block_size(v.lu)
				: v.block_size ? v.block_size : 512) < 0 ||
	    (v.readonly && bt_nlb_put_flag(b, BT_A_READONLY) < 0) ||
	    bt_nlb_put_u32(b, BT_A_FEATURES, v.features) < 0 ||
	    (v.lu && bt_nlb_put_flag(b, BT_A_ATTACHED) < 0)) {
		bt_nlb_nest_cancel(b, n);
		return -BT_EMSGSIZE;
	}
	return bt_nlb_nest_end(b, n);
}

/*
 * Fill a list nest (ACLS or LUNS) from *pos on, as far as the message has
 * room. An empty nest is dropped. Returns 0 (possibly short: *pos < count).
 */
static int put_list(struct mreq *r, struct bt_target *t, u16 type,
		    u32 *pos, u32 count)
{
	long n;
	u32 start = *pos;

	if (*pos >= count)
		return 0;
	n = bt_nlb_nest_start(&r->b, type);
	if (n < 0)
		return 0;
	while (*pos < count) {
		int rc = type == BT_A_ACLS ? put_acl(&r->b, t, *pos)
					   : put_lun(&r->b, t, *pos);
		if (rc < 0)
			break;
		(*pos)++;
	}
	if (*pos == start || bt_nlb_nest_end(&r->b, n) < 0) {
		bt_nlb_nest_cancel(&r->b, n);
		*pos = start;
	}
	return 0;
}

/*
 * One target, in as many fragments as it takes. The first fragment has the
 * head; later ones carry IQN + CONT and continue the ACL and LUN lists. The
 * engine does not change while we run (the host serialises), so plain
 * indexes are stable cursors.
 */
static int dump_target(struct mreq *r, struct bt_target *t)
{
	u32 acl = 0, nacls = bt_target_nacls(t), nluns = bt_target_nluns(t), lun;
	struct lun_page pg = { 0, nluns, false, 0 };
	bool first = true;

	if (r->tb[BT_A_LUN_FROM])
		pg.first = bt_target_lu_index(t, bt_nla_u64(r->tb[BT_A_LUN_FROM], 0));
	if (r->tb[BT_A_LUN_MAX] &&
	    nluns - pg.first > bt_nla_u32(r->tb[BT_A_LUN_MAX], 0)) {
		struct bt_lun_view v;

		pg.end = pg.first + bt_nla_u32(r->tb[BT_A_LUN_MAX], 0);
		pg.more = bt_target_lun_view(t, pg.end, &v);
		pg.next = v.lun;
	}
	lun = pg.first;
	nluns = pg.end;

	for (;;) {
		bool fresh = msg_empty(r);
		u32 acl0 = acl, lun0 = lun;
		long tn = bt_nlb_nest_start(&r->b, BT_A_TARGET);

		if (tn < 0 || bt_nlb_put_str(&r->b, BT_A_IQN, bt_target_iqn(t)) < 0 ||
		    (!first && bt_nlb_put_flag(&r->b, BT_A_CONT) < 0) ||
		    (first && put_target_head(r, t, &pg) < 0))
			goto next_msg;
		put_list(r, t, BT_A_ACLS, &acl, nacls);
		if (acl == nacls)
			put_list(r, t, BT_A_LUNS, &lun, nluns);
		if (acl == nacls && lun == nluns) {
			if (bt_nlb_nest_end(&r->b, tn) < 0)
				return -BT_EMSGSIZE;
			return 0;
		}
		if (acl == acl0 && lun == lun0 && !first)
			goto next_msg;  /* nothing fitted after the head */
		if (bt_nlb_nest_end(&r->b, tn) < 0)
			return -BT_EMSGSIZE;
		first = false;
		if (msg_flush(r, BT_NLM_F_MULTI) < 0)
			return r->send_err;
		continue;
next_msg:
		if (tn >= 0)
			bt_nlb_nest_cancel(&r->b, tn);
		acl = acl0;
		lun = lun0;
		if (fresh)
			return -BT_EMSGSIZE; /* cannot fit even alone */
		if (msg_flush(r, BT_NLM_F_MULTI) < 0)
			return r->send_err;
	}
}

static int do_dump(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	struct bt_target *t;
	int rc;

	if (iqn) {
		t = bt_target_find(r->e, iqn);
		if (!t)
			return fail(r, BT_E_NOT_FOUND, iqn);
		rc = dump_target(r, t);
	} else {
		rc = 0;
		for (t = bt_target_next(r->e, NULL); t && rc == 0;
		     t = bt_target_next(r->e, t))
			rc = dump_target(r, t);
	}
	if (rc < 0 && !r->send_err) {
		r->b.len = BT_MGMT_HDRLEN;   /* drop the partial data */
		return fail(r, rc, "dump");
	}
	return rc;
}

/* ---- sessions ----------------------------------------------------------- */

struct sess_ctx {
	struct mreq *r;
	const char *iqn;
	int rc;
};

static int put_session(struct bt_nlb *b, const char *iqn,
		       const struct bt_session_info *si)
{
	long n = bt_nlb_nest_start(b, BT_A_SESSION);

	if (n < 0)
		return -BT_EMSGSIZE;
	if (bt_nlb_put_str(b, BT_A_IQN, iqn) < 0 ||
	    put_str_opt(b, BT_A_INITIATOR, si->initiator) < 0 ||
	    bt_nlb_put(b, BT_A_ISID, si->isid, sizeof(si->isid)) < 0 ||
	    bt_nlb_put_u16(b, BT_A_TSIH, si->tsih) < 0 ||
	    bt_nlb_put_u64(b, BT_A_SESSION_ID, si->id) < 0 ||
	    bt_nlb_put_u32(b, BT_A_NCONNS, si->nconns) < 0 ||
	    put_str_opt(b, BT_A_PEER, si->peer) < 0 ||
	    put_str_opt(b, BT_A_LOCAL, si->local) < 0 ||
	    bt_nlb_put_u64(b, BT_A_CMDS, si->cmds) < 0) {
		bt_nlb_nest_cancel(b, n);
		return -BT_EMSGSIZE;
	}
	return bt_nlb_nest_end(b, n);
}

static void sess_cb(void *arg, const struct bt_session_info *si)
{
	struct sess_ctx *c = arg;

	if (c->rc < 0)
		return;
	if (put_session(&c->r->b, c->iqn, si) == 0)
		return;
	if (msg_empty(c->r)) {
		c->rc = -BT_EMSGSIZE;
		return;
	}
	if (msg_flush(c->r, BT_NLM_F_MULTI) < 0) {
		c->rc = c->r->send_err;
		return;
	}
	if (put_session(&c->r->b, c->iqn, si) < 0)
		c->rc = -BT_EMSGSIZE;
}

static int do_sessions(struct mreq *r)
{
	const char *iqn = req_iqn(r);
	struct sess_ctx c = { .r = r, .rc = 0 };
	struct bt_target *t;

	if (iqn) {
		t = bt_target_find(r->e, iqn);
		if (!t)
			return fail(r, BT_E_NOT_FOUND, iqn);
		c.iqn = iqn;
		bt_iscsi_sessions(t, sess_cb, &c);
	} else {
		for (t = bt_target_next(r->e, NULL); t && c.rc == 0;
		     t = bt_target_next(r->e, t)) {
			c.iqn = bt_target_iqn(t);
			bt_iscsi_sessions(t, sess_cb, &c);
		}
	}
	if (c.rc < 0 && !r->send_err) {
		r->b.len = BT_MGMT_HDRLEN;
		return fail(r, c.rc, "sessions");
	}
	return c.rc;
}

/* ---- entry points ------------------------------------------------------- */

int bt_mgmt_req_cmd(const void *req, bt_size_t len)
{
	struct bt_nlmsghdr nh;
	struct bt_genlhdr gh;

	if (!req || len < BT_MGMT_HDRLEN)
		return -BT_EPROTO;
	bt_memcpy(&nh, req, sizeof(nh));
	if (nh.len < BT_MGMT_HDRLEN || nh.len > len)
		return -BT_EPROTO;
	bt_memcpy(&gh, (const u8 *)req + sizeof(nh), sizeof(gh));
	return gh.cmd;
}

static int dispatch(struct mreq *r)
{
	switch (r->cmd) {
	case BT_CMD_TARGET_ADD:
	case BT_CMD_TARGET_DEL:
	case BT_CMD_ENABLE:
	case BT_CMD_DISABLE:
		return do_target(r);
	case BT_CMD_SET_ATTR:
		return do_set_attr(r);
	case BT_CMD_PORTAL_ADD:
	case BT_CMD_PORTAL_DEL:
		return do_portal(r);
	case BT_CMD_LUN_ADD:
	case BT_CMD_LUN_DEL:
		return do_lun(r);
	case BT_CMD_ACL_ADD:
	case BT_CMD_ACL_DEL:
		return do_acl(r);
	case BT_CMD_AUTH_SET:
		return do_auth(r);
	case BT_CMD_DUMP:
		return do_dump(r);
	case BT_CMD_SESSIONS:
		return do_sessions(r);
	case BT_CMD_SUBSCRIBE:
		return 0;
	default:
		bt_snprintf(r->msg, sizeof(r->msg), "unknown command %u",
			    r->cmd);
		return -BT_ENOTSUP;
	}
}

int bt_mgmt_handle(struct bt_engine *e, const void *req, bt_size_t len,
		   bt_size_t max_msg, bt_mgmt_send_fn send, void *arg)
{
	struct bt_nlmsghdr nh;
	struct bt_genlhdr gh;
	struct mreq *r;
	unsigned bad = 0;
	int rc;

	if (bt_mgmt_req_cmd(req, len) < 0)
		return -BT_EPROTO;
	bt_memcpy(&nh, req, sizeof(nh));
	bt_memcpy(&gh, (const u8 *)req + sizeof(nh), sizeof(gh));
	if (max_msg < BT_MGMT_MSG_MIN)
		max_msg = BT_MGMT_MSG_MIN;
	if (max_msg > BT_MGMT_MSG_MAX)
		max_msg = BT_MGMT_MSG_MAX;

	r = bt_zalloc(sizeof(*r));
	if (!r)
		return -BT_ENOMEM;
	r->b.buf = bt_alloc(max_msg);
	if (!r->b.buf) {
		bt_free(r);
		return -BT_ENOMEM;
	}
	r->b.cap = max_msg;
	r->e = e;
	r->cmd = gh.cmd;
	r->seq = nh.seq;
	r->type = nh.type;
	r->send = send;
	r->arg = arg;
	msg_begin(r);

	if (gh.version > BT_MGMT_VERSION) {
		bt_snprintf(r->msg, sizeof(r->msg),
			    "protocol version %u not supported (engine has %u)",
			    gh.version, BT_MGMT_VERSION);
		rc = -BT_ENOTSUP;
	} else if (bt_nla_parse(r->tb, BT_A_MAX, mgmt_policy,
				(const u8 *)req + BT_MGMT_HDRLEN,
				nh.len - BT_MGMT_HDRLEN, &bad) < 0) {
		if (bad)
			bt_snprintf(r->msg, sizeof(r->msg),
				    "%s: malformed attribute %u",
				    cmd_name(r->cmd), bad);
		else
			bt_snprintf(r->msg, sizeof(r->msg),
				    "%s: malformed attributes",
				    cmd_name(r->cmd));
		rc = -BT_EINVAL;
	} else {
		rc = dispatch(r);
	}
	rc = msg_final(r, rc);
	/* The request may have carried secrets; the reply never does, but
	 * the parse table points into the caller's buffer only. */
	bt_free(r->b.buf);
	bt_free(r);
	return rc < 0 ? rc : 0;
}

int bt_mgmt_event_msg(const struct bt_event *ev, u16 msg_type, void *buf,
		      bt_size_t size)
{
	struct bt_nlmsghdr nh = { .type = msg_type };
	struct bt_genlhdr gh = { .cmd = BT_CMD_EVENT, .version = BT_MGMT_VERSION };
	struct bt_nlb b = { .buf = buf, .cap = size, .len = BT_MGMT_HDRLEN };

	if (size < BT_MGMT_HDRLEN)
		return -BT_EMSGSIZE;
	if (bt_nlb_put_u32(&b, BT_A_EVENT_TYPE, (u32)ev->type) < 0 ||
	    (ev->target && bt_nlb_put_str(&b, BT_A_IQN, ev->target) < 0) ||
	    (ev->initiator &&
	     bt_nlb_put_str(&b, BT_A_INITIATOR, ev->initiator) < 0) ||
	    bt_nlb_put_u64(&b, BT_A_LUN, ev->lun) < 0 ||
	    bt_nlb_put_u64(&b, BT_A_SESSION_ID, ev->session_id) < 0)
		return -BT_EMSGSIZE;
	nh.len = (u32)b.len;
	bt_memcpy(buf, &nh, sizeof(nh));
	bt_memcpy((u8 *)buf + sizeof(nh), &gh, sizeof(gh));
	return (int)b.len;
}
