#!/usr/bin/env python3
"""tests/vm/lib/genl_events.py SECONDS - join the "events" multicast group of the
generic netlink family "bollard_target" and print each event message as
"event type=N iqn=... initiator=..." until SECONDS pass. A stand-in for
`bollard target events` over genl, whose client does not join the group yet.
Attribute numbers from kernel/core/bt_mgmt.h."""
import socket, struct, sys, time

NETLINK_GENERIC, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 16, 270, 1
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
BT_A_IQN, BT_A_INITIATOR, BT_A_EVENT_TYPE, BT_CMD_EVENT = 3, 13, 39, 16


def attrs(buf):
    out, off = {}, 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        out[atype & 0x3FFF] = buf[off + 4: off + alen]
        off += (alen + 3) & ~3
    return out


def msgs(buf):
    off = 0
    while off + 16 <= len(buf):
        mlen, mtype = struct.unpack_from("=IH", buf, off)
        if mlen < 16:
            break
        yield mtype, buf[off + 16: off + mlen]
        off += (mlen + 3) & ~3


s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
s.bind((0, 0))
name = b"bollard_target\0"
a = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
a += b"\0" * ((4 - len(a) % 4) % 4)
s.send(struct.pack("=IHHII", 16 + 4 + len(a), GENL_ID_CTRL, 1, 1, 0) +
       struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + a)
grp = None
for mtype, payload in msgs(s.recv(65536)):
    if mtype != GENL_ID_CTRL:
        continue
    top = attrs(payload[4:])
    for g in attrs(top.get(CTRL_ATTR_MCAST_GROUPS, b"")).values():
        ga = attrs(g)
        if ga.get(CTRL_ATTR_MCAST_GRP_NAME, b"").rstrip(b"\0") == b"events":
            grp = struct.unpack("=I", ga[CTRL_ATTR_MCAST_GRP_ID])[0]
if grp is None:
    sys.exit("genl_events: family bollard_target or its events group not found")
s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp)
print("genl_events: joined group %d" % grp, flush=True)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        buf = s.recv(65536)
    except socket.timeout:
        break
    for mtype, payload in msgs(buf):
        if payload[0] != BT_CMD_EVENT:
            continue
        at = attrs(payload[4:])
        t = struct.unpack("=I", at[BT_A_EVENT_TYPE])[0] if BT_A_EVENT_TYPE in at else -1
        print("event type=%d iqn=%s initiator=%s" % (
            t, at.get(BT_A_IQN, b"").rstrip(b"\0").decode(),
            at.get(BT_A_INITIATOR, b"").rstrip(b"\0").decode()), flush=True)
