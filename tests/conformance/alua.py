#!/usr/bin/env python3
"""tests/conformance/alua.py PORT IQN CLI... - ALUA over the wire against a
running bollard-target: a minimal iSCSI initiator (one connection, no
digests) that, unlike libiscsi's tools, does not give up when TEST UNIT
READY answers NOT READY after login, so it can look at a standby port.
CLI is the `bollard target --socket ...` command line used to change the
ALUA attributes while the session stays logged in. Prints one line per
check; exit 1 on any failure."""
import os
import socket
import struct
import subprocess
import sys

PORT, IQN, CLI = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
INIT = "iqn.2026-01.io.bollard.test:alua-client"
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok     " if ok else "FAILED ") + name + (f" ({detail})" if detail and not ok else ""))
    if not ok:
        failures += 1


class Session:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.cmdsn, self.itt = 1, 1
        keys = [f"InitiatorName={INIT}", f"TargetName={IQN}", "SessionType=Normal",
                "HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=65536"]
        bhs = bytearray(48)
        bhs[0] = 0x43
        bhs[1] = 0x80 | (1 << 2) | 3              # T, CSG 1, NSG 3
        bhs[8:14] = b"\x80" + os.urandom(5)
        struct.pack_into(">II", bhs, 16, self.itt, 0)
        struct.pack_into(">I", bhs, 24, self.cmdsn)
        self.send(bhs, ("\0".join(keys) + "\0").encode())
        rsp, _ = self.recv()
        if rsp[0] & 0x3f != 0x23 or rsp[36] != 0 or not rsp[1] & 0x80:
            raise RuntimeError("login failed")

    def send(self, bhs, data=b""):
        bhs[5:8] = len(data).to_bytes(3, "big")
        self.s.sendall(bytes(bhs) + data + b"\0" * ((4 - len(data) % 4) % 4))

    def exact(self, n):
        buf = b""
        while len(buf) < n:
            c = self.s.recv(n - len(buf))
            if not c:
                raise RuntimeError("connection closed")
            buf += c
        return buf

    def recv(self):
        bhs = self.exact(48)
        dsl = int.from_bytes(bhs[5:8], "big")
        data = self.exact(dsl + (4 - dsl % 4) % 4)[:dsl] if dsl else b""
        return bhs, data

    def cmd(self, cdb, alloc=0):
        """(status, data-in, (key, asc, ascq) or None)"""
        self.itt += 1
        bhs = bytearray(48)
        bhs[0] = 0x01
        bhs[1] = 0x80 | (0x40 if alloc else 0) | 1   # F, R, SIMPLE
        struct.pack_into(">IIII", bhs, 16, self.itt, alloc, self.cmdsn, 0)
        self.cmdsn += 1
        bhs[32:32 + len(cdb)] = cdb
        self.send(bhs)
        data = b""
        while True:
            rsp, seg = self.recv()
            op = rsp[0] & 0x3f
            if op == 0x25:                         # Data-In
                data += seg
                if rsp[1] & 0x01:                  # S: status included
                    return rsp[3], data, None
            elif op == 0x21:                       # SCSI Response
                sense = None
                if rsp[3] == 0x02 and len(seg) >= 2 + 14:
                    sd = seg[2:]
                    sense = (sd[2] & 0x0f, sd[12], sd[13])
                return rsp[3], data, sense


def set_alua(*kv):
    subprocess.run(CLI + ["set", IQN] + list(kv), check=True)


def tur(s):
    return s.cmd(bytes([0x00, 0, 0, 0, 0, 0]))


def rtpg(s, ext=True):
    return s.cmd(bytes([0xa3, (0x20 if ext else 0) | 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), 256)


def groups(data):
    """[(group, state, rel_port)] from an extended-header RTPG reply."""
    out, off = [], 8
    end = 4 + struct.unpack_from(">I", data, 0)[0]
    while off + 8 <= end:
        n = data[off + 7]
        ports = [struct.unpack_from(">H", data, off + 8 + 4 * i + 2)[0] for i in range(n)]
        out.append((struct.unpack_from(">H", data, off + 2)[0], data[off] & 0x0f, ports))
        off += 8 + 4 * n
    return out


def vpd83_group(s):
    st, d, _ = s.cmd(bytes([0x12, 0x01, 0x83, 0x04, 0x00, 0]), 1024)
    off, end = 4, 4 + struct.unpack_from(">H", d, 2)[0]
    res = {}
    while off + 4 <= end:
        if d[off + 1] & 0x3f in (0x14, 0x15) and d[off + 3] == 4:
            res[d[off + 1] & 0x0f] = struct.unpack_from(">H", d, off + 6)[0]
        off += 4 + d[off + 3]
    return res.get(5), res.get(4)                  # group, relative port


set_alua("aluaGroup=1", "aluaPeerGroup=2", "aluaPeerState=standby")
s = Session()
for _ in range(4):                                 # eat the power-on UA
    if tur(s)[0] == 0:
        break
st, d, _ = s.cmd(bytes([0x12, 0, 0, 0, 96, 0]), 96)
check("INQUIRY TPGS = implicit", st == 0 and d[5] & 0x30 == 0x10, f"byte 5 = {d[5]:#x}")
check("VPD 83h: target port group 1, relative port 1", vpd83_group(s) == (1, 1), str(vpd83_group(s)))
st, d, _ = rtpg(s)
check("RTPG (extended): group 1 active/optimized, group 2 standby",
      st == 0 and d[4] & 0x70 == 0x10 and groups(d) == [(1, 0, [1]), (2, 2, [2])], str(groups(d)))

set_alua("aluaPeerState=activeOptimized", "aluaState=standby")
st, _, sense = tur(s)
if sense == (0x6, 0x2a, 0x06):                     # ASYMMETRIC ACCESS STATE CHANGED
    print("ok     unit attention ASYMMETRIC ACCESS STATE CHANGED")
    st, _, sense = tur(s)
else:
    print("note   no ASYMMETRIC ACCESS STATE CHANGED unit attention (needs UA_ALUA_CHANGED, docs/kernel.md)")
check("standby: TEST UNIT READY -> NOT READY 04/0B", st == 2 and sense == (2, 4, 0x0b), str(sense))
st, _, sense = s.cmd(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 512)
check("standby: READ(10) -> NOT READY 04/0B", st == 2 and sense == (2, 4, 0x0b), str(sense))
st, d, _ = rtpg(s)
check("standby: RTPG served, group 1 standby, group 2 active/optimized",
      st == 0 and groups(d) == [(1, 2, [1]), (2, 0, [2])], str(groups(d)))
st, d, _ = s.cmd(bytes([0x03, 0, 0, 0, 18, 0]), 18)
check("standby: REQUEST SENSE reports NOT READY 04/0B",
      st == 0 and len(d) >= 14 and (d[2] & 0x0f, d[12], d[13]) == (2, 4, 0x0b))
st, _, _ = s.cmd(bytes([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), 256)
check("standby: REPORT LUNS served", st == 0)

set_alua("aluaState=unavailable")
tur(s)                                             # a UA, if any
st, _, sense = tur(s)
check("unavailable: TEST UNIT READY -> NOT READY 04/0C", st == 2 and sense == (2, 4, 0x0c), str(sense))

set_alua("aluaState=activeNonOptimized")
tur(s)
st, _, sense = s.cmd(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 512)
check("active/non-optimized: READ(10) served", st == 0, str(sense))
sys.exit(1 if failures else 0)
