/*
 * bt_mgmt_client.c - management client over libmnl (bt_mgmt_client.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "bt_mgmt_client.h"
#include "bt_engine.h"
#include "bt_mgmt.h"

#define RX_BUF (BT_MGMT_MSG_MAX + 4096)

struct btc {
	struct btc_transport t;
	uint32_t seq;
	int timeout_ms;
	char errmsg[512];
	void *rx;                     /* RX_BUF bytes                         */
	void *tx;                     /* BT_MGMT_MSG_MAX bytes                */
};

/* ---- transports ------------------------------------------------------------ */

struct fd_ctx {
	int fd;
	struct mnl_socket *nl;        /* genl only                            */
	uint32_t mcgrp;               /* genl: the events group id, 0: none   */
};

static int fd_send(void *ctx, const void *msg, size_t len)
{
	struct fd_ctx *f = ctx;
	ssize_t n;

	if (f->nl)
		n = mnl_socket_sendto(f->nl, msg, len);
	else
		n = send(f->fd, msg, len, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static ssize_t fd_recv(void *ctx, void *buf, size_t cap, int timeout_ms)
{
	struct fd_ctx *f = ctx;
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do {
		rc = poll(&p, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	do {
		n = f->nl ? mnl_socket_recvfrom(f->nl, buf, cap)
			  : recv(f->fd, buf, cap, 0);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void fd_close(void *ctx)
{
	struct fd_ctx *f = ctx;

	if (f->nl)
		mnl_socket_close(f->nl);
	else if (f->fd >= 0)
		close(f->fd);
	free(f);
}

struct btc *btc_new(const struct btc_transport *t)
{
	struct btc *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rx = malloc(RX_BUF);
	/* zeroed, and wiped after each send: padding bytes libmnl skips stay 0 */
	c->tx = calloc(1, BT_MGMT_MSG_MAX);
	if (!c->rx || !c->tx) {
		free(c->rx);
		free(c->tx);
		free(c);
		return NULL;
	}
	c->t = *t;
	c->timeout_ms = 30000;
	c->seq = 1;
	return c;
}

void btc_free(struct btc *c)
{
	if (!c)
		return;
	if (c->t.close)
		c->t.close(c->t.ctx);
	free(c->rx);
	free(c->tx);
	free(c);
}

int btc_connect_unix(const char *path, struct btc **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct btc_transport t = {
		.send = fd_send, .recv = fd_recv, .close = fd_close,
		.msg_type = BT_MGMT_MSG_TYPE,
	};
	struct fd_ctx *f;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out_close;
	}
	t.ctx = f;
	*out = btc_new(&t);
	if (!*out) {
		rc = -ENOMEM;
		goto out_close;
	}
	return 0;

out_close:
	close(f->fd);
out_free:
	free(f);
	return rc;
}

struct genl_family {
	uint16_t id;
	uint32_t mcgrp;               /* BT_MGMT_GENL_MCGRP's id, 0: absent   */
};

/* CTRL_ATTR_MCAST_GROUPS: a nest of {CTRL_ATTR_MCAST_GRP_NAME, _ID} nests. */
static void genl_mcast_groups(const struct nlattr *groups, struct genl_family *f)
{
	const struct nlattr *g, *x;

	mnl_attr_for_each_nested(g, groups) {
		const char *name = NULL;
		uint32_t id = 0;

		mnl_attr_for_each_nested(x, g) {
			if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME &&
			    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) >= 0)
				name = mnl_attr_get_str(x);
			else if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID &&
				 mnl_attr_validate(x, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(x);
		}
		if (name && id && !strcmp(name, BT_MGMT_GENL_MCGRP))
			f->mcgrp = id;
	}
}

/* CTRL_CMD_GETFAMILY reply: the family id and the events group. */
static int genl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct genl_family *f = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			f->id = mnl_attr_get_u16(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS &&
			 mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			genl_mcast_groups(a, f);
	}
	return MNL_CB_OK;
}

static int genl_join_events(void *ctx)
{
	struct fd_ctx *f = ctx;
	int grp;

	if (!f->mcgrp)
		return -ENOENT;           /* the module offers no events group */
	grp = (int)f->mcgrp;
	if (mnl_socket_setsockopt(f->nl, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	return 0;
}

int btc_connect_genl(struct btc **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct btc_transport t = {
		.send = fd_send, .recv = fd_recv, .close = fd_close,
		.join_events = genl_join_events,
	};
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct fd_ctx *f;
	struct genl_family family = { 0 };
	ssize_t n;
	int rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!f->nl) {
		rc = -errno;
		goto out_free;
	}
	if (mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out_close;
	}
	f->fd = mnl_socket_get_fd(f->nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, BT_MGMT_GENL_NAME);
	if (mnl_socket_sendto(f->nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out_close;
	}
	for (;;) {
		n = mnl_socket_recvfrom(f->nl, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			goto out_close;
		}
		rc = mnl_cb_run(buf, n, 1, mnl_socket_get_portid(f->nl),
				genl_family_cb, &family);
		if (rc <= MNL_CB_STOP)
			break;
	}
	if (rc < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!family.id) {
		rc = -ENOENT;
		goto out_close;
	}
	f->mcgrp = family.mcgrp;
	t.ctx = f;
	t.msg_type = family.id;
	t.pid = mnl_socket_get_portid(f->nl);
	*out = btc_new(&t);
	if (!*out) {
		rc = -ENOMEM;
		goto out_close;
	}
	return 0;

out_close:
	mnl_socket_close(f->nl);
out_free:
	free(f);
	return rc;
}

int btc_connect(const char *path, struct btc **out, char *err, size_t errlen)
{
	int rc, grc;

	if (path) {
		rc = btc_connect_unix(path, out);
		if (rc < 0 && err)
			snprintf(err, errlen, "cannot connect to %s: %s", path,
				 strerror(-rc));
		return rc;
	}
	rc = btc_connect_unix(BT_MGMT_SOCK_DEFAULT, out);
	if (rc == 0)
		return 0;
	grc = btc_connect_genl(out);
	if (grc == 0)
		return 0;
	if (err)
		snprintf(err, errlen,
			 "no target engine: %s: %s, and the kernel module "
			 "(generic netlink '%s') is %s; start bollard-target "
			 "or give --socket PATH",
			 BT_MGMT_SOCK_DEFAULT, strerror(-rc), BT_MGMT_GENL_NAME,
			 grc == -ENOENT ? "not loaded" : strerror(-grc));
	return rc;
}

const char *btc_errmsg(const struct btc *c)
{
	return c->errmsg;
}

void btc_set_timeout(struct btc *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

/* ---- attribute parsing ------------------------------------------------------ */

static const enum mnl_attr_data_type attr_types[BT_A_MAX + 1] = {
	[BT_A_ERROR] = MNL_TYPE_U32,
	[BT_A_ERRMSG] = MNL_TYPE_NUL_STRING,
	[BT_A_IQN] = MNL_TYPE_NUL_STRING,
	[BT_A_FORCE] = MNL_TYPE_FLAG,
	[BT_A_ATTRS] = MNL_TYPE_NESTED,
	[BT_A_PORTAL] = MNL_TYPE_NUL_STRING,
	[BT_A_LUN] = MNL_TYPE_U64,
	[BT_A_PATH] = MNL_TYPE_NUL_STRING,
	[BT_A_UID] = MNL_TYPE_NUL_STRING,
	[BT_A_BLOCK_SIZE] = MNL_TYPE_U32,
	[BT_A_READONLY] = MNL_TYPE_FLAG,
	[BT_A_FEATURES] = MNL_TYPE_U32,
	[BT_A_INITIATOR] = MNL_TYPE_NUL_STRING,
	[BT_A_CHAP_USER] = MNL_TYPE_NUL_STRING,
	[BT_A_MUTUAL_USER] = MNL_TYPE_NUL_STRING,
	[BT_A_ENABLED] = MNL_TYPE_U8,
	[BT_A_TARGET] = MNL_TYPE_NESTED,
	[BT_A_PORTALS] = MNL_TYPE_NESTED,
	[BT_A_LUNS] = MNL_TYPE_NESTED,
	[BT_A_LUN_ENTRY] = MNL_TYPE_NESTED,
	[BT_A_NAA] = MNL_TYPE_NUL_STRING,
	[BT_A_SERIAL] = MNL_TYPE_NUL_STRING,
	[BT_A_BLOCKS] = MNL_TYPE_U64,
	[BT_A_ACLS] = MNL_TYPE_NESTED,
	[BT_A_ACL] = MNL_TYPE_NESTED,
	[BT_A_AUTH] = MNL_TYPE_NESTED,
	[BT_A_NSESSIONS] = MNL_TYPE_U32,
	[BT_A_CONT] = MNL_TYPE_FLAG,
	[BT_A_SESSION] = MNL_TYPE_NESTED,
	[BT_A_ISID] = MNL_TYPE_BINARY,
	[BT_A_TSIH] = MNL_TYPE_U16,
	[BT_A_SESSION_ID] = MNL_TYPE_U64,
	[BT_A_NCONNS] = MNL_TYPE_U32,
	[BT_A_PEER] = MNL_TYPE_NUL_STRING,
	[BT_A_LOCAL] = MNL_TYPE_NUL_STRING,
	[BT_A_CMDS] = MNL_TYPE_U64,
	[BT_A_EVENT_TYPE] = MNL_TYPE_U32,
	[BT_A_ATTACHED] = MNL_TYPE_FLAG,
	[BT_A_LUN_NEXT] = MNL_TYPE_U64,
	[BT_A_CHAP_DIGEST] = MNL_TYPE_NUL_STRING,
	[BT_A_MUTUAL_DIGEST] = MNL_TYPE_NUL_STRING,
};

/* Table callback: validated attributes into tb, unknown ones ignored. */
static int tb_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == 0 || type > BT_A_MAX || attr_types[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, attr_types[type]) < 0)
		return MNL_CB_ERROR;
	if (type == BT_A_ISID && mnl_attr_get_payload_len(a) != 6)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *nest, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(*tb) * (BT_A_MAX + 1));
	return mnl_attr_parse_nested(nest, tb_cb, tb) < 0 ? -EPROTO : 0;
}

static char *dup_attr(const struct nlattr *a)
{
	return a ? strdup(mnl_attr_get_str(a)) : NULL;
}

/* ---- request / reply ---------------------------------------------------------- */

/* Called for each reply message's top-level attributes. */
typedef int (*reply_fn)(void *arg, const struct nlmsghdr *nlh);

static struct nlmsghdr *req_begin(struct btc *c, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->tx);
	struct genlmsghdr *g;

	nlh->nlmsg_type = c->t.msg_type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++c->seq;
	nlh->nlmsg_pid = 0;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = BT_MGMT_VERSION;
	return nlh;
}

static void put_str(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
	if (s)
		mnl_attr_put_strz(nlh, type, s);
}

/*
 * Send nlh, then read replies until the one carrying BT_A_ERROR (or a
 * netlink error). Data messages go to fn. Returns the engine's code.
 */
static int transact(struct btc *c, struct nlmsghdr *nlh, reply_fn fn, void *arg)
{
	uint32_t seq = nlh->nlmsg_seq;
	int rc, result = 0, cb_rc = 0;

	c->errmsg[0] = 0;
	rc = c->t.send(c->t.ctx, nlh, nlh->nlmsg_len);
	/* Wipe the request: it may carry CHAP secrets. */
	memset(c->tx, 0, nlh->nlmsg_len);
	if (rc < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			 rc == -ECONNRESET || rc == -EPIPE ?
			 "connection closed by the target engine (only root or "
			 "the engine's own user may manage it)" : strerror(-rc));
		return rc;
	}
	for (;;) {
		ssize_t n = c->t.recv(c->t.ctx, c->rx, RX_BUF, c->timeout_ms);
		const struct nlmsghdr *m;
		int len;

		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : (int)n;
			/* The server hangs up on peers it does not serve. */
			snprintf(c->errmsg, sizeof(c->errmsg), "%s",
				 rc == -ECONNRESET || rc == -EPIPE ?
				 "connection closed by the target engine (only "
				 "root or the engine's own user may manage it)" :
				 strerror(-rc));
			return rc;
		}
		len = (int)n;
		for (m = c->rx; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			const struct nlattr *tb[BT_A_MAX + 1] = { 0 };

			if (m->nlmsg_seq != seq)
				continue;     /* stale or event */
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
					return -EPROTO;
				if (e->error)
					snprintf(c->errmsg, sizeof(c->errmsg),
						 "%s", strerror(-e->error));
				return e->error;
			}
			if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_NOOP)
				continue;
			if (m->nlmsg_len < mnl_nlmsg_size(sizeof(struct genlmsghdr)) ||
			    mnl_attr_parse(m, sizeof(struct genlmsghdr), tb_cb, tb) < 0) {
				snprintf(c->errmsg, sizeof(c->errmsg),
					 "malformed reply from the target engine");
				return -EPROTO;
			}
			if (fn && cb_rc == 0)
				cb_rc = fn(arg, m);
			if (tb[BT_A_ERROR]) {
				result = (int32_t)mnl_attr_get_u32(tb[BT_A_ERROR]);
				if (tb[BT_A_ERRMSG])
					snprintf(c->errmsg, sizeof(c->errmsg), "%s",
						 mnl_attr_get_str(tb[BT_A_ERRMSG]));
				if (result == 0 && cb_rc < 0) {
					snprintf(c->errmsg, sizeof(c->errmsg),
						 "malformed reply from the target engine");
					return cb_rc;
				}
				return result;
			}
		}
	}
}

static int simple(struct btc *c, uint8_t cmd, const char *iqn, bool force)
{
	struct nlmsghdr *nlh = req_begin(c, cmd);

	put_str(nlh, BT_A_IQN, iqn);
	if (force)
		mnl_attr_put(nlh, BT_A_FORCE, 0, NULL);
	return transact(c, nlh, NULL, NULL);
}

int btc_features_parse(const char *s, uint32_t *out)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{ "caw", BT_FEAT_CAW }, { "xcopy", BT_FEAT_XCOPY },
		{ "unmap", BT_FEAT_UNMAP }, { "writesame", BT_FEAT_WRITE_SAME },
		{ "prstore", BT_FEAT_PR_STORE },
	};
	uint32_t f = BT_FEAT_EXPLICIT;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "default")) {
		*out = 0;
		return 0;
	}
	if (!strcmp(s, "none")) {
		*out = BT_FEAT_EXPLICIT;
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n))
				break;
		if (!n || i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		f |= names[i].bit;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	*out = f;
	return 0;
}

int btc_target_add(struct btc *c, const char *iqn)
{
	return simple(c, BT_CMD_TARGET_ADD, iqn, false);
}

int btc_target_add_attrs(struct btc *c, const char *iqn, const unsigned *attrs,
			 const uint64_t *vals, size_t n)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_TARGET_ADD);
	struct nlattr *nest;
	size_t i;

	put_str(nlh, BT_A_IQN, iqn);
	if (n) {
		nest = mnl_attr_nest_start(nlh, BT_A_ATTRS);
		for (i = 0; i < n; i++)
			mnl_attr_put_u64(nlh, (uint16_t)attrs[i], vals[i]);
		mnl_attr_nest_end(nlh, nest);
	}
	return transact(c, nlh, NULL, NULL);
}

int btc_target_del(struct btc *c, const char *iqn, bool force)
{
	return simple(c, BT_CMD_TARGET_DEL, iqn, force);
}

int btc_target_enable(struct btc *c, const char *iqn, bool on)
{
	return simple(c, on ? BT_CMD_ENABLE : BT_CMD_DISABLE, iqn, false);
}

int btc_set_attr(struct btc *c, const char *iqn, unsigned attr, uint64_t v)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_SET_ATTR);
	struct nlattr *n;

	put_str(nlh, BT_A_IQN, iqn);
	n = mnl_attr_nest_start(nlh, BT_A_ATTRS);
	mnl_attr_put_u64(nlh, (uint16_t)attr, v);
	mnl_attr_nest_end(nlh, n);
	return transact(c, nlh, NULL, NULL);
}

static int portal(struct btc *c, uint8_t cmd, const char *iqn, const char *p)
{
	struct nlmsghdr *nlh = req_begin(c, cmd);

	put_str(nlh, BT_A_IQN, iqn);
	put_str(nlh, BT_A_PORTAL, p);
	return transact(c, nlh, NULL, NULL);
}

int btc_portal_add(struct btc *c, const char *iqn, const char *p)
{
	return portal(c, BT_CMD_PORTAL_ADD, iqn, p);
}

int btc_portal_del(struct btc *c, const char *iqn, const char *p)
{
	return portal(c, BT_CMD_PORTAL_DEL, iqn, p);
}

/* Strings longer than the schema allows would not fit a request. */
static int check_len(struct btc *c, const char *s, size_t max)
{
	if (s && strlen(s) > max) {
		snprintf(c->errmsg, sizeof(c->errmsg), "string too long (%zu > %zu)",
			 strlen(s), max);
		return -ENAMETOOLONG;
	}
	return 0;
}

int btc_lun_add(struct btc *c, const char *iqn, uint64_t lun,
		const struct btc_lun_spec *spec)
{
	struct nlmsghdr *nlh;

	if (check_len(c, spec->path, BT_MGMT_PATH_MAX) < 0 ||
	    check_len(c, spec->uid, BT_MGMT_STR_MAX) < 0 ||
	    check_len(c, iqn, BT_MGMT_NAME_MAX) < 0)
		return -ENAMETOOLONG;
	nlh = req_begin(c, BT_CMD_LUN_ADD);
	put_str(nlh, BT_A_IQN, iqn);
	mnl_attr_put_u64(nlh, BT_A_LUN, lun);
	put_str(nlh, BT_A_PATH, spec->path);
	put_str(nlh, BT_A_UID, spec->uid);
	if (spec->block_size)
		mnl_attr_put_u32(nlh, BT_A_BLOCK_SIZE, spec->block_size);
	if (spec->readonly)
		mnl_attr_put(nlh, BT_A_READONLY, 0, NULL);
	if (spec->features)
		mnl_attr_put_u32(nlh, BT_A_FEATURES, spec->features);
	return transact(c, nlh, NULL, NULL);
}

int btc_lun_del(struct btc *c, const char *iqn, uint64_t lun, bool force)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_LUN_DEL);

	put_str(nlh, BT_A_IQN, iqn);
	mnl_attr_put_u64(nlh, BT_A_LUN, lun);
	if (force)
		mnl_attr_put(nlh, BT_A_FORCE, 0, NULL);
	return transact(c, nlh, NULL, NULL);
}

int btc_acl_add(struct btc *c, const char *iqn, const char *initiator,
		const char *chap_user, const char *chap_secret)
{
	struct nlmsghdr *nlh;

	if (check_len(c, iqn, BT_MGMT_NAME_MAX) < 0 ||
	    check_len(c, initiator, BT_MGMT_NAME_MAX) < 0 ||
	    check_len(c, chap_user, BT_MGMT_STR_MAX) < 0 ||
	    check_len(c, chap_secret, BT_MGMT_STR_MAX) < 0)
		return -ENAMETOOLONG;
	nlh = req_begin(c, BT_CMD_ACL_ADD);
	put_str(nlh, BT_A_IQN, iqn);
	put_str(nlh, BT_A_INITIATOR, initiator);
	put_str(nlh, BT_A_CHAP_USER, chap_user);
	put_str(nlh, BT_A_CHAP_SECRET, chap_secret);
	return transact(c, nlh, NULL, NULL);
}

int btc_acl_del(struct btc *c, const char *iqn, const char *initiator)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_ACL_DEL);

	put_str(nlh, BT_A_IQN, iqn);
	put_str(nlh, BT_A_INITIATOR, initiator);
	return transact(c, nlh, NULL, NULL);
}

int btc_auth_set(struct btc *c, const char *iqn, const char *chap_user,
		 const char *chap_secret, const char *mutual_user,
		 const char *mutual_secret)
{
	struct nlmsghdr *nlh;

	if (check_len(c, iqn, BT_MGMT_NAME_MAX) < 0 ||
	    check_len(c, chap_user, BT_MGMT_STR_MAX) < 0 ||
	    check_len(c, chap_secret, BT_MGMT_STR_MAX) < 0 ||
	    check_len(c, mutual_user, BT_MGMT_STR_MAX) < 0 ||
	    check_len(c, mutual_secret, BT_MGMT_STR_MAX) < 0)
		return -ENAMETOOLONG;
	nlh = req_begin(c, BT_CMD_AUTH_SET);
	put_str(nlh, BT_A_IQN, iqn);
	put_str(nlh, BT_A_CHAP_USER, chap_user);
	put_str(nlh, BT_A_CHAP_SECRET, chap_secret);
	put_str(nlh, BT_A_MUTUAL_USER, mutual_user);
	put_str(nlh, BT_A_MUTUAL_SECRET, mutual_secret);
	return transact(c, nlh, NULL, NULL);
}

/* ---- dump ------------------------------------------------------------------------ */

static int grow(void **arr, size_t n, size_t size)
{
	/* capacity doubles at powers of two */
	if (n && (n & (n - 1)))
		return 0;
	void *p = realloc(*arr, (n ? n * 2 : 4) * size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static const struct {
	const char *name;
	uint64_t state;
} alua_states[] = {
	{ "activeOptimized", BT_ALUA_ACTIVE_OPTIMIZED },
	{ "activeNonOptimized", BT_ALUA_ACTIVE_NONOPTIMIZED },
	{ "standby", BT_ALUA_STANDBY },
	{ "unavailable", BT_ALUA_UNAVAILABLE },
	{ "transitioning", BT_ALUA_TRANSITIONING },
};

const char *btc_alua_state_name(uint64_t state)
{
	size_t i;

	for (i = 0; i < sizeof(alua_states) / sizeof(alua_states[0]); i++)
		if (alua_states[i].state == state)
			return alua_states[i].name;
	return NULL;
}

int btc_alua_state_parse(const char *s, uint64_t *state)
{
	char *end;
	size_t i;

	for (i = 0; i < sizeof(alua_states) / sizeof(alua_states[0]); i++) {
		if (!strcmp(alua_states[i].name, s)) {
			*state = alua_states[i].state;
			return 0;
		}
	}
	errno = 0;
	*state = strtoull(s, &end, 0);
	if (!*s || *end || errno || !btc_alua_state_name(*state))
		return -EINVAL;
	return 0;
}

/*
 * Target attributes by name, as `bollard target create/set` and bollardd's
 * in-process runner (controller/daemon/target_exec.c) take them: the one
 * table, so a plan's `set IQN X=V` means the same to both.
 */
static const struct attr_name {
	const char *name;
	unsigned attr;
} attr_names[] = {
	{ "maxSessionsPerInitiator", BT_TA_MAX_SESSIONS_PER_INITIATOR },
	{ "maxPerInitiator", BT_TA_MAX_SESSIONS_PER_INITIATOR },
	{ "max-sessions-per-initiator", BT_TA_MAX_SESSIONS_PER_INITIATOR },
	{ "maxSessions", BT_TA_MAX_SESSIONS },
	{ "max-sessions", BT_TA_MAX_SESSIONS },
	{ "nopIntervalMs", BT_TA_NOP_INTERVAL_MS },
	{ "nopInterval", BT_TA_NOP_INTERVAL_MS },
	{ "nop-interval-ms", BT_TA_NOP_INTERVAL_MS },
	{ "nopTimeoutMs", BT_TA_NOP_TIMEOUT_MS },
	{ "nopTimeout", BT_TA_NOP_TIMEOUT_MS },
	{ "nop-timeout-ms", BT_TA_NOP_TIMEOUT_MS },
	{ "demoMode", BT_TA_DEMO_MODE },
	{ "demo-mode", BT_TA_DEMO_MODE },
	{ "owner", BT_TA_OWNER },
	{ "aluaGroup", BT_TA_ALUA_GROUP },
	{ "alua-group", BT_TA_ALUA_GROUP },
	{ "aluaState", BT_TA_ALUA_STATE },
	{ "alua-state", BT_TA_ALUA_STATE },
	{ "aluaPeerGroup", BT_TA_ALUA_PEER_GROUP },
	{ "alua-peer-group", BT_TA_ALUA_PEER_GROUP },
	{ "aluaPeerState", BT_TA_ALUA_PEER_STATE },
	{ "alua-peer-state", BT_TA_ALUA_PEER_STATE },
	{ NULL, 0 },
};

int btc_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int btc_attr_parse(const char *kv, unsigned *attr, uint64_t *v)
{
	const char *eq = strchr(kv, '='), *val;
	const struct attr_name *an;

	if (!eq)
		return -EINVAL;
	for (an = attr_names; an->name; an++)
		if (strlen(an->name) == (size_t)(eq - kv) &&
		    !strncmp(an->name, kv, (size_t)(eq - kv)))
			break;
	if (!an->name)
		return -ENOENT;
	val = eq + 1;
	if (an->attr == BT_TA_DEMO_MODE && (!strcmp(val, "true") || !strcmp(val, "false")))
		*v = !strcmp(val, "true");
	else if (an->attr == BT_TA_ALUA_STATE || an->attr == BT_TA_ALUA_PEER_STATE) {
		if (btc_alua_state_parse(val, v) < 0)
			return -ERANGE;
	} else if (btc_parse_u64(val, v) < 0)
		return -EINVAL;
	*attr = an->attr;
	return 0;
}

static int parse_attrs(const struct nlattr *nest, struct btc_attrs *a)
{
	const struct nlattr *x;

	mnl_attr_for_each_nested(x, nest) {
		if (mnl_attr_validate(x, MNL_TYPE_U64) < 0)
			continue;
		uint64_t v = mnl_attr_get_u64(x);

		switch (mnl_attr_get_type(x)) {
		case BT_TA_MAX_SESSIONS_PER_INITIATOR: a->max_sessions_per_initiator = v; break;
		case BT_TA_MAX_SESSIONS: a->max_sessions = v; break;
		case BT_TA_NOP_INTERVAL_MS: a->nop_interval_ms = v; break;
		case BT_TA_NOP_TIMEOUT_MS: a->nop_timeout_ms = v; break;
		case BT_TA_DEMO_MODE: a->demo_mode = v != 0; break;
		case BT_TA_OWNER: a->owner = v; break;
		case BT_TA_ALUA_GROUP: a->alua_group = v; break;
		case BT_TA_ALUA_STATE: a->alua_state = v; break;
		case BT_TA_ALUA_PEER_GROUP: a->alua_peer_group = v; break;
		case BT_TA_ALUA_PEER_STATE: a->alua_peer_state = v; break;
		}
	}
	return 0;
}

static int parse_list(const struct nlattr *nest, struct btc_target *t,
		      uint16_t want)
{
	const struct nlattr *x, *tb[BT_A_MAX + 1];

	mnl_attr_for_each_nested(x, nest) {
		if (mnl_attr_get_type(x) != want)
			continue;
		if (want == BT_A_PORTAL) {
			if (mnl_attr_validate(x, MNL_TYPE_NUL_STRING) < 0 ||
			    grow((void **)&t->portals, t->nportals, sizeof(char *)) < 0)
				return -EPROTO;
			t->portals[t->nportals++] = strdup(mnl_attr_get_str(x));
			continue;
		}
		if (parse_nested(x, tb) < 0)
			return -EPROTO;
		if (want == BT_A_ACL) {
			struct btc_acl *a;

			if (!tb[BT_A_INITIATOR] ||
			    grow((void **)&t->acls, t->nacls, sizeof(*a)) < 0)
				return -EPROTO;
			a = &t->acls[t->nacls++];
			a->initiator = dup_attr(tb[BT_A_INITIATOR]);
			a->chap_user = dup_attr(tb[BT_A_CHAP_USER]);
			a->chap_digest = dup_attr(tb[BT_A_CHAP_DIGEST]);
		} else {
			struct btc_lun *l;

			if (!tb[BT_A_LUN] ||
			    grow((void **)&t->luns, t->nluns, sizeof(*l)) < 0)
				return -EPROTO;
			l = &t->luns[t->nluns++];
			memset(l, 0, sizeof(*l));
			l->lun = mnl_attr_get_u64(tb[BT_A_LUN]);
			l->path = dup_attr(tb[BT_A_PATH]);
			l->uid = dup_attr(tb[BT_A_UID]);
			l->naa = dup_attr(tb[BT_A_NAA]);
			l->serial = dup_attr(tb[BT_A_SERIAL]);
			if (tb[BT_A_BLOCKS])
				l->blocks = mnl_attr_get_u64(tb[BT_A_BLOCKS]);
			if (tb[BT_A_BLOCK_SIZE])
				l->block_size = mnl_attr_get_u32(tb[BT_A_BLOCK_SIZE]);
			l->readonly = tb[BT_A_READONLY] != NULL;
			if (tb[BT_A_FEATURES])
				l->features = mnl_attr_get_u32(tb[BT_A_FEATURES]);
			l->attached = tb[BT_A_ATTACHED] != NULL;
		}
	}
	return 0;
}

static int parse_target(struct btc_state *s, const struct nlattr *nest)
{
	const struct nlattr *tb[BT_A_MAX + 1], *atb[BT_A_MAX + 1];
	struct btc_target *t;
	const char *iqn;

	if (parse_nested(nest, tb) < 0 || !tb[BT_A_IQN])
		return -EPROTO;
	iqn = mnl_attr_get_str(tb[BT_A_IQN]);
	if (tb[BT_A_CONT]) {
		/* continues the last target */
		if (!s->ntargets || strcmp(s->targets[s->ntargets - 1].iqn, iqn))
			return -EPROTO;
		t = &s->targets[s->ntargets - 1];
	} else {
		if (grow((void **)&s->targets, s->ntargets, sizeof(*t)) < 0)
			return -ENOMEM;
		t = &s->targets[s->ntargets++];
		memset(t, 0, sizeof(*t));
		t->iqn = strdup(iqn);
		t->enabled = tb[BT_A_ENABLED] && mnl_attr_get_u8(tb[BT_A_ENABLED]);
		if (tb[BT_A_NSESSIONS])
			t->nsessions = mnl_attr_get_u32(tb[BT_A_NSESSIONS]);
		if (tb[BT_A_LUN_NEXT]) {
			t->more_luns = true;
			t->next_lun = mnl_attr_get_u64(tb[BT_A_LUN_NEXT]);
		}
		if (tb[BT_A_ATTRS])
			parse_attrs(tb[BT_A_ATTRS], &t->attrs);
		if (tb[BT_A_PORTALS] && parse_list(tb[BT_A_PORTALS], t, BT_A_PORTAL) < 0)
			return -EPROTO;
		if (tb[BT_A_AUTH]) {
			if (parse_nested(tb[BT_A_AUTH], atb) < 0)
				return -EPROTO;
			t->auth.chap_user = dup_attr(atb[BT_A_CHAP_USER]);
			t->auth.mutual_user = dup_attr(atb[BT_A_MUTUAL_USER]);
			t->auth.chap_digest = dup_attr(atb[BT_A_CHAP_DIGEST]);
			t->auth.mutual_digest = dup_attr(atb[BT_A_MUTUAL_DIGEST]);
		}
	}
	if (tb[BT_A_ACLS] && parse_list(tb[BT_A_ACLS], t, BT_A_ACL) < 0)
		return -EPROTO;
	if (tb[BT_A_LUNS] && parse_list(tb[BT_A_LUNS], t, BT_A_LUN_ENTRY) < 0)
		return -EPROTO;
	return 0;
}

static int dump_cb(void *arg, const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	int rc;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != BT_A_TARGET)
			continue;
		rc = parse_target(arg, a);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int dump(struct btc *c, const char *iqn, const uint64_t *lun_from,
		const uint32_t *lun_max, struct btc_state *out)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_DUMP);
	int rc;

	memset(out, 0, sizeof(*out));
	put_str(nlh, BT_A_IQN, iqn);
	if (lun_from)
		mnl_attr_put_u64(nlh, BT_A_LUN_FROM, *lun_from);
	if (lun_max)
		mnl_attr_put_u32(nlh, BT_A_LUN_MAX, *lun_max);
	rc = transact(c, nlh, dump_cb, out);
	if (rc < 0)
		btc_state_free(out);
	return rc;
}

int btc_dump(struct btc *c, const char *iqn, struct btc_state *out)
{
	return dump(c, iqn, NULL, NULL, out);
}

int btc_dump_page(struct btc *c, const char *iqn, uint64_t lun_from,
		  uint32_t lun_max, struct btc_state *out)
{
	return dump(c, iqn, &lun_from, &lun_max, out);
}

void btc_state_free(struct btc_state *s)
{
	size_t i, j;

	for (i = 0; i < s->ntargets; i++) {
		struct btc_target *t = &s->targets[i];

		free(t->iqn);
		for (j = 0; j < t->nportals; j++)
			free(t->portals[j]);
		free(t->portals);
		for (j = 0; j < t->nluns; j++) {
			free(t->luns[j].path);
			free(t->luns[j].uid);
			free(t->luns[j].naa);
			free(t->luns[j].serial);
		}
		free(t->luns);
		for (j = 0; j < t->nacls; j++) {
			free(t->acls[j].initiator);
			free(t->acls[j].chap_user);
			free(t->acls[j].chap_digest);
		}
		free(t->acls);
		free(t->auth.chap_user);
		free(t->auth.mutual_user);
		free(t->auth.chap_digest);
		free(t->auth.mutual_digest);
	}
	free(s->targets);
	memset(s, 0, sizeof(*s));
}

const struct btc_target *btc_state_target(const struct btc_state *s,
					  const char *iqn)
{
	size_t lo = 0, hi = s->ntargets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->targets[mid].iqn, iqn);

		if (!c)
			return &s->targets[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct btc_lun *btc_target_lun(const struct btc_target *t, uint64_t lun)
{
	size_t lo = 0, hi = t->nluns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->luns[mid].lun == lun)
			return &t->luns[mid];
		if (t->luns[mid].lun < lun)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- sessions, events --------------------------------------------------------- */

struct sess_acc {
	struct btc_session *s;
	size_t n;
};

static int sess_cb(void *arg, const struct nlmsghdr *nlh)
{
	struct sess_acc *acc = arg;
	const struct nlattr *a, *tb[BT_A_MAX + 1];

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		struct btc_session *s;

		if (mnl_attr_get_type(a) != BT_A_SESSION)
			continue;
		if (parse_nested(a, tb) < 0)
			return -EPROTO;
		if (grow((void **)&acc->s, acc->n, sizeof(*s)) < 0)
			return -ENOMEM;
		s = &acc->s[acc->n++];
		memset(s, 0, sizeof(*s));
		s->target = dup_attr(tb[BT_A_IQN]);
		s->initiator = dup_attr(tb[BT_A_INITIATOR]);
		if (tb[BT_A_ISID])
			memcpy(s->isid, mnl_attr_get_payload(tb[BT_A_ISID]), 6);
		if (tb[BT_A_TSIH])
			s->tsih = mnl_attr_get_u16(tb[BT_A_TSIH]);
		if (tb[BT_A_SESSION_ID])
			s->id = mnl_attr_get_u64(tb[BT_A_SESSION_ID]);
		if (tb[BT_A_NCONNS])
			s->nconns = mnl_attr_get_u32(tb[BT_A_NCONNS]);
		s->peer = dup_attr(tb[BT_A_PEER]);
		s->local = dup_attr(tb[BT_A_LOCAL]);
		if (tb[BT_A_CMDS])
			s->cmds = mnl_attr_get_u64(tb[BT_A_CMDS]);
	}
	return 0;
}

int btc_sessions(struct btc *c, const char *iqn, struct btc_session **out,
		 size_t *n)
{
	struct nlmsghdr *nlh = req_begin(c, BT_CMD_SESSIONS);
	struct sess_acc acc = { 0 };
	int rc;

	put_str(nlh, BT_A_IQN, iqn);
	rc = transact(c, nlh, sess_cb, &acc);
	if (rc < 0) {
		btc_sessions_free(acc.s, acc.n);
		return rc;
	}
	*out = acc.s;
	*n = acc.n;
	return 0;
}

void btc_sessions_free(struct btc_session *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].target);
		free(s[i].initiator);
		free(s[i].peer);
		free(s[i].local);
	}
	free(s);
}

/*
 * The unix socket sends events on the connection that asked for them;
 * generic netlink multicasts them to the members of the events group, so
 * the socket joins it first; every event after this returns is delivered.
 */
int btc_subscribe(struct btc *c)
{
	int rc;

	if (c->t.join_events) {
		rc = c->t.join_events(c->t.ctx);
		if (rc < 0) {
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "cannot join the generic netlink group '%s': %s",
				 BT_MGMT_GENL_MCGRP, strerror(-rc));
			return rc;
		}
	}
	return transact(c, req_begin(c, BT_CMD_SUBSCRIBE), NULL, NULL);
}

int btc_next_event(struct btc *c, struct btc_event *ev, int timeout_ms)
{
	for (;;) {
		ssize_t n = c->t.recv(c->t.ctx, c->rx, RX_BUF, timeout_ms);
		const struct nlmsghdr *m;
		int len;

		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		len = (int)n;
		for (m = c->rx; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			const struct nlattr *tb[BT_A_MAX + 1] = { 0 };
			const struct genlmsghdr *g = mnl_nlmsg_get_payload(m);

			if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*g)) ||
			    g->cmd != BT_CMD_EVENT ||
			    mnl_attr_parse(m, sizeof(*g), tb_cb, tb) < 0 ||
			    !tb[BT_A_EVENT_TYPE])
				continue;
			memset(ev, 0, sizeof(*ev));
			ev->type = (int)mnl_attr_get_u32(tb[BT_A_EVENT_TYPE]);
			if (tb[BT_A_IQN])
				snprintf(ev->target, sizeof(ev->target), "%s",
					 mnl_attr_get_str(tb[BT_A_IQN]));
			if (tb[BT_A_INITIATOR])
				snprintf(ev->initiator, sizeof(ev->initiator), "%s",
					 mnl_attr_get_str(tb[BT_A_INITIATOR]));
			if (tb[BT_A_LUN])
				ev->lun = mnl_attr_get_u64(tb[BT_A_LUN]);
			if (tb[BT_A_SESSION_ID])
				ev->session_id = mnl_attr_get_u64(tb[BT_A_SESSION_ID]);
			/* one event per call; a datagram holds one message */
			return 0;
		}
	}
}

const char *btc_event_name(int type)
{
	switch (type) {
	case BT_EV_LOGIN: return "login";
	case BT_EV_LOGOUT: return "logout";
	case BT_EV_PR_CHANGE: return "pr-change";
	case BT_EV_LUN_CHANGE: return "lun-change";
	case BT_EV_CONN_DEAD: return "conn-dead";
	default: return "unknown";
	}
}
