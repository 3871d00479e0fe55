// SPDX-License-Identifier: GPL-2.0
/*
 * genl.c - the management API (kernel/core/bt_mgmt.h) as the generic
 * netlink family "bollard_target", with an "events" multicast group.
 *
 * The engine speaks whole netlink messages already (nlmsghdr + genlmsghdr +
 * attributes), the same bytes the userspace host carries on its unix
 * socket. So this file does no attribute parsing at all: every command maps
 * to one doit that hands the request as received (info->nlhdr) to
 * bt_mgmt_handle() under the engine lock, and each reply message the engine
 * produces is copied into an skb, stamped with our family id as nlmsg_type,
 * and unicast back to the sender's port. The family declares no policy and
 * sets resv_start_op past its last command, so the genetlink core does not
 * validate (or reject) attributes: the engine validates everything itself.
 *
 * Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM), including dumps and
 * subscription: the management API reveals initiator names and sessions.
 * Subscribers join the "events" group with NETLINK_ADD_MEMBERSHIP;
 * BT_CMD_SUBSCRIBE is only acknowledged (the socket transport needs it, here
 * the group membership is the subscription).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include "bt_kmod.h"
#include "bt_mgmt.h"

static struct bt_kmod *bt_genl_km;

struct bt_genl_reply {
	struct genl_info *info;
	int nsent;
};

static struct genl_family bt_genl_family;

static struct sk_buff *bt_genl_skb(const void *msg, bt_size_t len, u32 portid)
{
	const struct nlmsghdr *in = msg;
	struct nlmsghdr *nlh;
	struct sk_buff *skb;

	if (len < NLMSG_HDRLEN || len > BT_MGMT_MSG_MAX)
		return NULL;
	skb = nlmsg_new(len - NLMSG_HDRLEN, GFP_KERNEL);
	if (!skb)
		return NULL;
	nlh = __nlmsg_put(skb, portid, in->nlmsg_seq, bt_genl_family.id,
			  len - NLMSG_HDRLEN, in->nlmsg_flags);
	memcpy(nlmsg_data(nlh), (const u8 *)msg + NLMSG_HDRLEN, len - NLMSG_HDRLEN);
	return skb;
}

static int bt_genl_send(void *arg, const void *msg, bt_size_t len)
{
	struct bt_genl_reply *r = arg;
	struct sk_buff *skb;

	skb = bt_genl_skb(msg, len, 0);
	if (!skb)
		return -ENOMEM;
	r->nsent++;
	/* genlmsg_unicast never blocks (MSG_DONTWAIT) and frees skb. */
	return genlmsg_unicast(genl_info_net(r->info), skb, r->info->snd_portid);
}

static int bt_genl_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct bt_kmod *km = bt_genl_km;
	struct bt_genl_reply r = { .info = info };
	const struct nlmsghdr *nlh = info->nlhdr;
	int cmd = info->genlhdr->cmd;
	int err;

	if (!km || !km->engine)
		return -ENODEV;
	mutex_lock(&km->lock);
	err = bt_mgmt_handle(km->engine, nlh, nlh->nlmsg_len, BT_MGMT_MSG_MIN * 2,
			     bt_genl_send, &r);
	mutex_unlock(&km->lock);
	/* Portals may have changed: listen where the targets now say. */
	if (cmd == BT_CMD_PORTAL_ADD || cmd == BT_CMD_PORTAL_DEL ||
	    cmd == BT_CMD_TARGET_DEL)
		bt_net_sync(km);
	/*
	 * Once a reply went out the client has its answer; an error returned
	 * here would add a netlink error message it does not expect. Only a
	 * failure before any reply is reported the netlink way.
	 */
	return r.nsent ? 0 : (err ? err : -EPROTO);
}

#define BT_GENL_OP(c) { .cmd = (c), .doit = bt_genl_doit, .flags = GENL_ADMIN_PERM, \
	.validate = GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP }

static const struct genl_ops bt_genl_ops[] = {
	BT_GENL_OP(BT_CMD_TARGET_ADD),
	BT_GENL_OP(BT_CMD_TARGET_DEL),
	BT_GENL_OP(BT_CMD_ENABLE),
	BT_GENL_OP(BT_CMD_DISABLE),
	BT_GENL_OP(BT_CMD_SET_ATTR),
	BT_GENL_OP(BT_CMD_PORTAL_ADD),
	BT_GENL_OP(BT_CMD_PORTAL_DEL),
	BT_GENL_OP(BT_CMD_LUN_ADD),
	BT_GENL_OP(BT_CMD_LUN_DEL),
	BT_GENL_OP(BT_CMD_ACL_ADD),
	BT_GENL_OP(BT_CMD_ACL_DEL),
	BT_GENL_OP(BT_CMD_AUTH_SET),
	BT_GENL_OP(BT_CMD_DUMP),
	BT_GENL_OP(BT_CMD_SESSIONS),
	BT_GENL_OP(BT_CMD_SUBSCRIBE),
};

static const struct genl_multicast_group bt_genl_mcgrps[] = {
	{ .name = BT_MGMT_GENL_MCGRP, .flags = GENL_UNS_ADMIN_PERM },
};

static struct genl_family bt_genl_family = {
	.name = BT_MGMT_GENL_NAME,
	.version = BT_MGMT_VERSION,
	.maxattr = 0,
	.netnsok = false,
	.module = THIS_MODULE,
	.ops = bt_genl_ops,
	.n_ops = ARRAY_SIZE(bt_genl_ops),
	.resv_start_op = __BT_CMD_MAX,
	.mcgrps = bt_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(bt_genl_mcgrps),
};

void bt_genl_event(void *host, const struct bt_event *ev)
{
	struct sk_buff *skb;
	void *buf;
	int n;

	if (!genl_has_listeners(&bt_genl_family, &init_net, 0))
		return;
	buf = kmalloc(1024, GFP_KERNEL);
	if (!buf)
		return;
	n = bt_mgmt_event_msg(ev, bt_genl_family.id, buf, 1024);
	if (n > 0) {
		skb = bt_genl_skb(buf, n, 0);
		if (skb)
			genlmsg_multicast(&bt_genl_family, skb, 0, 0, GFP_KERNEL);
	}
	kfree(buf);
}

int bt_genl_init(struct bt_kmod *km)
{
	bt_genl_km = km;
	return genl_register_family(&bt_genl_family);
}

void bt_genl_exit(struct bt_kmod *km)
{
	genl_unregister_family(&bt_genl_family);
	bt_genl_km = NULL;
}
