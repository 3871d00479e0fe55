/*
 * bt_mgmt.h - the engine's management API: one TLV message schema shared by
 * both hosts. Version 1 (BT_MGMT_VERSION). Full prose: docs/management-api.md.
 *
 * Wire format. Every message is a netlink message: the same bytes the kernel
 * module carries as generic netlink and the userspace host carries as one
 * SOCK_SEQPACKET datagram on its unix socket (kernel/user/mgmt_sock.h):
 *
 *   struct bt_nlmsghdr  (16 bytes: len, type, flags, seq, pid)
 *   struct bt_genlhdr   ( 4 bytes: cmd, version, reserved)
 *   attributes          netlink attributes: {u16 len, u16 type} + payload,
 *                       each padded to 4 bytes; len counts header+payload
 *                       without the padding; nests have BT_NLA_F_NESTED set
 *
 * All integers are in host byte order (netlink's rule; both transports are
 * local to the machine). nlmsg_type is the generic netlink family id in the
 * kernel and BT_MGMT_MSG_TYPE on the unix socket; the engine ignores it.
 *
 * Exchange. The client sends one request (NLM_F_REQUEST) with a seq number.
 * The engine answers with one or more reply messages echoing cmd and seq.
 * Every reply but the last carries BT_NLM_F_MULTI; the last one always
 * carries BT_A_ERROR (s32: 0 or a negative bt_err / -errno code) and, on
 * failure, BT_A_ERRMSG (a human sentence such as
 * "iqn.2020-01.com.example:t1: lun 3: already exists"). Data attributes may
 * precede BT_A_ERROR in the last message too. So a client reads until it sees
 * a message with BT_A_ERROR.
 *
 * Forward compatibility: unknown attributes are ignored by both sides; an
 * unknown command is answered with -BT_ENOTSUP. A new attribute never changes
 * the meaning of an old one; an incompatible change bumps BT_MGMT_VERSION
 * (genlhdr.version), and the engine refuses requests whose version is newer
 * than its own with -BT_ENOTSUP.
 *
 * One attribute space (enum bt_mgmt_attr) is used at every nesting level,
 * except inside BT_A_ATTRS, whose member types are enum bt_target_attr
 * (bt_engine.h) with a u64 payload each.
 *
 * Secrets (BT_A_CHAP_SECRET, BT_A_MUTUAL_SECRET) appear only in requests.
 * The engine never puts a secret in a reply or an event; a dump carries a
 * salted, slow digest of each (BT_A_CHAP_DIGEST, BT_A_MUTUAL_DIGEST: see
 * chap_digest.h), so a reconciler can tell that a secret differs from the
 * one it wants.
 */
#ifndef BT_MGMT_H
#define BT_MGMT_H

#include "bt_os.h"

struct bt_engine;
struct bt_event;

#define BT_MGMT_VERSION       1
#define BT_MGMT_GENL_NAME     "bollard_target" /* generic netlink family  */
#define BT_MGMT_GENL_MCGRP    "events"         /* multicast group: events */
#define BT_MGMT_MSG_TYPE      0x20             /* nlmsg_type, unix socket */
#define BT_MGMT_SOCK_DEFAULT  "/run/bollard/target.sock"

/* Sizes. A reply message never exceeds the max_msg the host passes to
 * bt_mgmt_handle (at least BT_MGMT_MSG_MIN); requests may be up to
 * BT_MGMT_MSG_MAX. Strings are bounded as below (bytes, without the NUL). */
#define BT_MGMT_MSG_MIN       8192
#define BT_MGMT_MSG_MAX       65536
#define BT_MGMT_NAME_MAX      223    /* iSCSI names, RFC 7143              */
#define BT_MGMT_PATH_MAX      1023
#define BT_MGMT_STR_MAX       255    /* uid, portal, CHAP user/secret      */

/* netlink message header (struct nlmsghdr) */
struct bt_nlmsghdr {
	u32 len;                      /* whole message, headers included      */
	u16 type;
	u16 flags;                    /* BT_NLM_F_*                           */
	u32 seq;
	u32 pid;
};
#define BT_NLM_F_REQUEST 0x1
#define BT_NLM_F_MULTI   0x2
#define BT_NLM_F_ACK     0x4

/* generic netlink header (struct genlmsghdr) */
struct bt_genlhdr {
	u8  cmd;                      /* enum bt_mgmt_cmd                     */
	u8  version;                  /* BT_MGMT_VERSION                      */
	u16 reserved;
};
#define BT_MGMT_HDRLEN (sizeof(struct bt_nlmsghdr) + sizeof(struct bt_genlhdr))

/*
 * Commands. Request attributes: R required, O optional. Every reply ends with
 * BT_A_ERROR as above. "IQN" is BT_A_IQN, the target's name.
 */
enum bt_mgmt_cmd {
	BT_CMD_UNSPEC = 0,
	BT_CMD_TARGET_ADD,    /* R IQN, O ATTRS (set in the same message; the
	                       * add is undone if one is refused).
	                       * -> BT_E_EXISTS, BT_E_BAD_NAME, BT_E_BAD_ATTR */
	BT_CMD_TARGET_DEL,    /* R IQN, O FORCE. -> BT_E_NOT_FOUND, BT_E_IN_USE
	                       * (sessions logged in and no FORCE)             */
	BT_CMD_ENABLE,        /* R IQN. Logins admitted from now on.           */
	BT_CMD_DISABLE,       /* R IQN. Sessions of the target are dropped.    */
	BT_CMD_SET_ATTR,      /* R IQN, R ATTRS (nest of bt_target_attr: u64).
	                       * Applied in order; stops at the first error.   */
	BT_CMD_PORTAL_ADD,    /* R IQN, R PORTAL ("ip:port", "[v6]:port")      */
	BT_CMD_PORTAL_DEL,    /* R IQN, R PORTAL                               */
	BT_CMD_LUN_ADD,       /* R IQN, R LUN, R PATH, O UID, BLOCK_SIZE,
	                       * READONLY, FEATURES. -> BT_E_EXISTS,
	                       * BT_E_BACKEND (open failed)                    */
	BT_CMD_LUN_DEL,       /* R IQN, R LUN, O FORCE. -> BT_E_IN_USE         */
	BT_CMD_ACL_ADD,       /* R IQN, R INITIATOR ("*": any), O CHAP_USER +
	                       * CHAP_SECRET (per-initiator CHAP)              */
	BT_CMD_ACL_DEL,       /* R IQN, R INITIATOR                            */
	BT_CMD_AUTH_SET,      /* R IQN, O CHAP_USER+CHAP_SECRET, O MUTUAL_USER+
	                       * MUTUAL_SECRET. An absent pair is cleared.     */
	BT_CMD_DUMP,          /* O IQN (only that target), O LUN_FROM, O
	                       * LUN_MAX (a page of each target's LUNs, see
	                       * below). Reply: BT_A_TARGET nests, see below;
	                       * may span many messages.                       */
	BT_CMD_SESSIONS,      /* O IQN. Reply: BT_A_SESSION nests.             */
	BT_CMD_SUBSCRIBE,     /* no attributes. The host then sends BT_CMD_EVENT
	                       * messages (seq 0) on this connection.          */
	BT_CMD_EVENT,         /* host -> subscriber only: EVENT_TYPE, IQN,
	                       * INITIATOR, LUN, SESSION_ID (those known)       */
	__BT_CMD_MAX,
};
#define BT_CMD_MAX (__BT_CMD_MAX - 1)

/*
 * Attributes (type: payload).
 *
 * BT_A_TARGET (dump reply), nested:
 *   IQN, ENABLED (u8), NSESSIONS (u32), ATTRS (nest), PORTALS (nest of
 *   PORTAL), ACLS (nest of ACL{INITIATOR, CHAP_USER, CHAP_DIGEST}), AUTH
 *   (nest: CHAP_USER, MUTUAL_USER, CHAP_DIGEST, MUTUAL_DIGEST), LUNS (nest of LUN_ENTRY{LUN, PATH, UID, NAA,
 *   SERIAL, BLOCKS, BLOCK_SIZE, READONLY, FEATURES}).
 *   A target with many LUNs spans messages: later fragments carry only IQN,
 *   CONT (flag) and LUNS with the following LUNs. Targets come in IQN order,
 *   LUNs in LUN order, so a client appends fragments as they arrive.
 *   Paging: with LUN_FROM (u64) in the request only LUNs numbered >=
 *   LUN_FROM are listed, with LUN_MAX (u32) at most that many per target;
 *   a target whose list was cut short says where to go on with LUN_NEXT
 *   (u64, in its first fragment). So a client that cannot hold 10,000
 *   LUNs at once (bollardd) reads a big target page by page. An engine
 *   that predates paging ignores both and lists everything, without
 *   LUN_NEXT: still a complete answer.
 *
 * BT_A_SESSION (sessions reply), nested: IQN, INITIATOR, ISID (6 bytes),
 *   TSIH (u16), SESSION_ID (u64), NCONNS (u32), PEER, LOCAL, CMDS (u64).
 */
enum bt_mgmt_attr {
	BT_A_UNSPEC = 0,
	BT_A_ERROR,           /* s32 (as u32)                                 */
	BT_A_ERRMSG,          /* string                                       */
	BT_A_IQN,             /* string, target name                          */
	BT_A_FORCE,           /* flag                                         */
	BT_A_ATTRS,           /* nest of {enum bt_target_attr: u64}           */
	BT_A_PORTAL,          /* string "ip:port"                             */
	BT_A_LUN,             /* u64                                          */
	BT_A_PATH,            /* string                                       */
	BT_A_UID,             /* string, LU identity seed                     */
	BT_A_BLOCK_SIZE,      /* u32                                          */
	BT_A_READONLY,        /* flag                                         */
	BT_A_FEATURES,        /* u32 BT_FEAT_*                                */
	BT_A_INITIATOR,       /* string, initiator name or "*"                */
	BT_A_CHAP_USER,       /* string                                       */
	BT_A_CHAP_SECRET,     /* string, requests only                        */
	BT_A_MUTUAL_USER,     /* string                                       */
	BT_A_MUTUAL_SECRET,   /* string, requests only                        */
	BT_A_ENABLED,         /* u8                                           */
	BT_A_TARGET,          /* nest                                         */
	BT_A_PORTALS,         /* nest of PORTAL                               */
	BT_A_LUNS,            /* nest of LUN_ENTRY                            */
	BT_A_LUN_ENTRY,       /* nest                                         */
	BT_A_NAA,             /* string, 32 hex digits                        */
	BT_A_SERIAL,          /* string                                       */
	BT_A_BLOCKS,          /* u64                                          */
	BT_A_ACLS,            /* nest of ACL                                  */
	BT_A_ACL,             /* nest                                         */
	BT_A_AUTH,            /* nest                                         */
	BT_A_NSESSIONS,       /* u32                                          */
	BT_A_CONT,            /* flag: continues the previous BT_A_TARGET     */
	BT_A_SESSION,         /* nest                                         */
	BT_A_ISID,            /* 6 bytes                                      */
	BT_A_TSIH,            /* u16                                          */
	BT_A_SESSION_ID,      /* u64                                          */
	BT_A_NCONNS,          /* u32                                          */
	BT_A_PEER,            /* string                                       */
	BT_A_LOCAL,           /* string                                       */
	BT_A_CMDS,            /* u64                                          */
	BT_A_EVENT_TYPE,      /* u32 enum bt_event_type                       */
	BT_A_ATTACHED,        /* flag, in LUN_ENTRY: backing open (target
	                       * enabled); absent: recorded only, BLOCKS 0,
	                       * no NAA/SERIAL                                */
	BT_A_LUN_FROM,        /* u64, dump request: first LUN number listed   */
	BT_A_LUN_MAX,         /* u32, dump request: LUNs listed per target    */
	BT_A_LUN_NEXT,        /* u64, in TARGET: more LUNs from this number   */
	BT_A_CHAP_DIGEST,     /* string, dump (ACL, AUTH): digest of the CHAP
	                       * secret held (chap_digest.h), never the secret */
	BT_A_MUTUAL_DIGEST,   /* string, dump (AUTH): of the mutual secret    */
	__BT_A_MAX,
};
#define BT_A_MAX (__BT_A_MAX - 1)

/*
 * ALUA asymmetric access states (SPC-4 table 305): the values of the target
 * attributes BT_TA_ALUA_STATE and BT_TA_ALUA_PEER_STATE. LBA-dependent and
 * offline are not supported.
 */
#define BT_ALUA_ACTIVE_OPTIMIZED     0x0
#define BT_ALUA_ACTIVE_NONOPTIMIZED  0x1
#define BT_ALUA_STANDBY              0x2
#define BT_ALUA_UNAVAILABLE          0x3
#define BT_ALUA_TRANSITIONING        0xf

/*
 * Send one reply message (len bytes, a complete netlink message). Returns 0
 * or -errno; on error bt_mgmt_handle stops and returns it.
 */
typedef int (*bt_mgmt_send_fn)(void *arg, const void *msg, bt_size_t len);

/*
 * Handle one request message: run it against e and send the reply messages
 * through send (each at most max_msg bytes; max_msg below BT_MGMT_MSG_MIN is
 * raised to it). Never trusts the bytes: anything malformed gets an error
 * reply (-BT_EINVAL / -BT_EPROTO with a message), never a crash.
 * Returns 0 once the reply was sent (whatever the command's outcome),
 * -BT_EPROTO if req is not even a message header (nothing sent: the host
 * should drop the peer), -BT_ENOMEM, or send's error.
 * BT_CMD_SUBSCRIBE is only acknowledged here; the host keeps the subscriber
 * list (see bt_mgmt_req_cmd).
 */
int bt_mgmt_handle(struct bt_engine *e, const void *req, bt_size_t len,
		   bt_size_t max_msg, bt_mgmt_send_fn send, void *arg);

/* The command of a request message, or -BT_EPROTO if len is too short or
 * the header's length is inconsistent. */
int bt_mgmt_req_cmd(const void *req, bt_size_t len);

/*
 * Build a BT_CMD_EVENT message for ev into buf (seq 0, type msg_type).
 * Returns its length, or -BT_EMSGSIZE if size is too small (640 always
 * suffices for names within the limits above).
 */
int bt_mgmt_event_msg(const struct bt_event *ev, u16 msg_type,
		      void *buf, bt_size_t size);

#endif
