#!/usr/bin/env python3
"""Hostile iSCSI client for target_badinput.sh: each case opens its own TCP
connection to bollard-target and sends something wrong; the expected
reaction is checked. Usage: target_badinput.py PORT TARGET_IQN"""
import os
import socket
import struct
import sys

PORT = int(sys.argv[1])
IQN = sys.argv[2]
INIT = "iqn.2026-01.io.bollard.test:hostile"


def crc32c_table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


TAB = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ TAB[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=3)
        self.hd = False
        self.dd = False
        self.cmdsn = 1
        self.itt = 1

    def send(self, bhs, data=b"", bad_hd=False, bad_dd=False, dsl=None):
        bhs = bytearray(bhs)
        n = len(data) if dsl is None else dsl
        bhs[5:8] = n.to_bytes(3, "big")
        out = bytes(bhs)
        if self.hd:
            d = crc32c(bhs) ^ (1 if bad_hd else 0)
            out += struct.pack("<I", d)
        if data:
            pad = b"\0" * ((4 - len(data) % 4) % 4)
            out += data + pad
            if self.dd:
                out += struct.pack("<I", crc32c(data + pad) ^ (1 if bad_dd else 0))
        self.s.sendall(out)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def recv(self, timeout=3):
        """(bhs, data), None on EOF/reset, 'timeout' if nothing came."""
        self.s.settimeout(timeout)
        try:
            bhs = self.recv_exact(48)
            if bhs is None:
                return None
            if self.hd:
                self.recv_exact(4)
            dsl = int.from_bytes(bhs[5:8], "big")
            data = b""
            if dsl:
                data = self.recv_exact(dsl + (4 - dsl % 4) % 4 + (4 if self.dd else 0))
            return bhs, data[:dsl]
        except socket.timeout:
            return "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return None

    def closed(self, timeout=3):
        """True if the target closes the connection (after any PDUs)."""
        for _ in range(8):
            r = self.recv(timeout)
            if r is None:
                return True
            if r == "timeout":
                return False
        return False

    def login(self, hd=False, dd=False, session_type="Normal"):
        keys = [f"InitiatorName={INIT}", f"SessionType={session_type}",
                f"HeaderDigest={'CRC32C' if hd else 'None'}",
                f"DataDigest={'CRC32C' if dd else 'None'}",
                "MaxRecvDataSegmentLength=65536", "ImmediateData=Yes",
                "InitialR2T=No", "MaxBurstLength=262144", "FirstBurstLength=65536"]
        if session_type == "Normal":
            keys.insert(1, f"TargetName={IQN}")
        data = ("\0".join(keys) + "\0").encode()
        bhs = bytearray(48)
        bhs[0] = 0x43
        bhs[1] = 0x80 | (1 << 2) | 3      # T, CSG=1, NSG=3
        bhs[8:14] = os.urandom(6)
        bhs[8] = 0x80
        struct.pack_into(">I", bhs, 16, 0x1000)
        struct.pack_into(">I", bhs, 24, self.cmdsn)
        self.send(bhs, data)
        r = self.recv()
        if not isinstance(r, tuple) or r[0][0] != 0x23 or r[0][36] != 0:
            raise RuntimeError(f"login failed: {r!r}")
        if not r[0][1] & 0x80:
            raise RuntimeError("login did not transit")
        self.hd, self.dd = hd, dd
        self.statsn = struct.unpack_from(">I", r[0], 24)[0]
        return r

    def nop(self, cmdsn=None, data=b"", bad_dd=False, bad_hd=False):
        bhs = bytearray(48)
        bhs[0] = 0x00
        bhs[1] = 0x80
        self.itt += 1
        struct.pack_into(">I", bhs, 16, self.itt)
        struct.pack_into(">I", bhs, 20, 0xFFFFFFFF)
        struct.pack_into(">I", bhs, 24, (self.cmdsn if cmdsn is None else cmdsn) & 0xFFFFFFFF)
        if cmdsn is None:
            self.cmdsn += 1
        self.send(bhs, data, bad_dd=bad_dd, bad_hd=bad_hd)
        return self.itt


failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    if not ok:
        failures += 1


def is_nop_in(r, itt):
    return isinstance(r, tuple) and r[0][0] == 0x20 and \
        struct.unpack_from(">I", r[0], 16)[0] == itt


# 1. random bytes instead of a login
c = Conn()
junk = bytearray(os.urandom(48))
junk[0] = 0x01                         # a SCSI Command, not a Login
junk[4:8] = b"\0\0\0\0"                # no AHS, no data: a whole PDU
c.s.sendall(bytes(junk))
check("garbage before login closes the connection", c.closed())

# 2. oversized data segment (16 MiB - 1) in a login
c = Conn()
bhs = bytearray(48)
bhs[0] = 0x43
bhs[1] = 0x87
c.send(bhs, dsl=0xFFFFFF)
c.s.sendall(b"A" * 4096)
check("oversized data segment closes the connection", c.closed())

# 3. a login request in full feature phase
c = Conn()
c.login()
bhs = bytearray(48)
bhs[0] = 0x43
bhs[1] = 0x87
c.send(bhs)
r = c.recv()
check("login in full feature phase is rejected",
      isinstance(r, tuple) and r[0][0] == 0x3F and r[0][2] == 0x04, repr(r)[:60])
check("... and the connection closed", c.closed())

# 4. unknown opcode: Reject (command not supported), the connection lives on
c = Conn()
c.login()
bhs = bytearray(48)
bhs[0] = 0x1C
c.send(bhs)
r = c.recv()
check("unknown opcode gets Reject 0x05",
      isinstance(r, tuple) and r[0][0] == 0x3F and r[0][2] == 0x05, repr(r)[:60])
itt = c.nop(data=b"ping")
r = c.recv()
check("... and the connection still answers a ping", is_nop_in(r, itt) and r[1] == b"ping")

# 5. CmdSN far outside the window: silently ignored; the right one works
c = Conn()
c.login()
itt = c.nop(cmdsn=c.cmdsn + 100000)
r = c.recv(timeout=1.5)
check("CmdSN beyond MaxCmdSN is ignored", r == "timeout", repr(r)[:60])
itt = c.nop(cmdsn=c.cmdsn - 5)
r = c.recv(timeout=1.5)
check("CmdSN below ExpCmdSN is ignored", r == "timeout", repr(r)[:60])
itt = c.nop()
r = c.recv()
check("... and an in-window CmdSN is answered", is_nop_in(r, itt))

# 6. header digest error: the connection is dropped
c = Conn()
c.login(hd=True)
itt = c.nop()
r = c.recv()
check("NOP with a good header digest", is_nop_in(r, itt))
c.nop(bad_hd=True)
check("bad header digest closes the connection", c.closed())

# 7. data digest error: Reject (data digest), the connection lives on
c = Conn()
c.login(dd=True)
c.nop(data=b"hello", bad_dd=True)
r = c.recv()
check("bad data digest gets Reject 0x02",
      isinstance(r, tuple) and r[0][0] == 0x3F and r[0][2] == 0x02, repr(r)[:60])
itt = c.nop(data=b"again")
r = c.recv()
check("... and a good one is answered", is_nop_in(r, itt) and r[1] == b"again")

# 8. SNACK (ERL 0) is rejected; Data-Out for no task is ignored
c = Conn()
c.login()
bhs = bytearray(48)
bhs[0] = 0x10
bhs[1] = 0x80
c.send(bhs)
r = c.recv()
check("SNACK gets Reject 0x03",
      isinstance(r, tuple) and r[0][0] == 0x3F and r[0][2] == 0x03, repr(r)[:60])
bhs = bytearray(48)
bhs[0] = 0x05
bhs[1] = 0x80
struct.pack_into(">I", bhs, 16, 0xDEAD)
c.send(bhs, b"x" * 512)
itt = c.nop()
r = c.recv()
check("Data-Out for an unknown task is ignored", is_nop_in(r, itt))

# 9. a data segment over our MaxRecvDataSegmentLength in full feature phase
c = Conn()
c.login()
bhs = bytearray(48)
bhs[0] = 0x00
bhs[1] = 0x80
c.send(bhs, dsl=300000)
c.s.sendall(b"B" * 8192)
check("segment over MaxRecvDataSegmentLength closes the connection", c.closed())

# 10. a truncated PDU, then hang up
c = Conn()
c.login()
c.s.sendall(b"\x01\x80\x00")
c.s.close()
check("truncated PDU + hangup", True)

# 11. discovery session: a SCSI command is rejected
c = Conn()
c.login(session_type="Discovery")
bhs = bytearray(48)
bhs[0] = 0x01
bhs[1] = 0xC0
struct.pack_into(">I", bhs, 24, c.cmdsn)
c.send(bhs)
r = c.recv()
check("SCSI command in a discovery session is rejected",
      isinstance(r, tuple) and r[0][0] == 0x3F, repr(r)[:60])

sys.exit(1 if failures else 0)
