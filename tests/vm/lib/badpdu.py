#!/usr/bin/env python3
"""tests/vm/lib/badpdu.py HOST PORT TARGET_IQN - throw malformed iSCSI at a
target: garbage, impossible lengths, truncated headers, abrupt resets, many
connections at once, broken login text, commands before login. Prints one
line per case. Exits 0 once every case was sent (the target's survival is
checked by the caller, which logs in properly afterwards)."""
import os, random, socket, struct, sys, time

host, port, iqn = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(1234)


def conn(timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def bhs(opcode, flags=0, ahs=0, dlen=0, isid=b"\x80\x00\x00\x00\x00\x01",
        tsih=0, itt=1, cid=0, cmdsn=0, expstatsn=0, rest=b""):
    h = struct.pack(">BBBBB", opcode, flags, 0, 0, ahs)
    h += dlen.to_bytes(3, "big") + isid + struct.pack(">HIHHII", tsih, itt, cid, 0,
                                                      cmdsn, expstatsn)
    h += rest
    return h.ljust(48, b"\0")[:48]


def login(data, flags=0x87, dlen=None, ahs=0):
    d = data if isinstance(data, bytes) else data.encode()
    n = len(d) if dlen is None else dlen
    pad = b"\0" * ((4 - len(d) % 4) % 4)
    return bhs(0x43, flags, ahs, n) + d + pad


def drain(s, secs=1.0):
    s.settimeout(secs)
    got = 0
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except (socket.timeout, OSError):
        pass
    return got


def case(name, fn):
    try:
        fn()
        print("badpdu: %-44s sent" % name, flush=True)
    except OSError as e:
        # The target closing on us is the expected answer to most cases.
        print("badpdu: %-44s sent (%s)" % (name, e.__class__.__name__), flush=True)


def send_close(payload, rst=False, wait=0.5):
    s = conn()
    try:
        s.sendall(payload)
        drain(s, wait)
    finally:
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


good_text = ("InitiatorName=iqn.1994-05.com.example:bad\0TargetName=%s\0"
             "SessionType=Normal\0AuthMethod=None\0" % iqn)

case("48 random bytes", lambda: send_close(bytes(rnd.randrange(256) for _ in range(48))))
case("1 MiB of random bytes", lambda: send_close(os.urandom(1 << 20)))
case("login, DataSegmentLength 16M-1, short data",
     lambda: send_close(login(b"A" * 1000, dlen=0xFFFFFF)))
case("login, TotalAHSLength 255", lambda: send_close(login(good_text, ahs=255)))
case("half a header then close", lambda: send_close(login(good_text)[:20]))
case("half a header then RST", lambda: send_close(login(good_text)[:20], rst=True))
case("login text without NULs", lambda: send_close(login(good_text.replace("\0", "&"))))
case("login text, 8000-byte value",
     lambda: send_close(login("InitiatorName=" + "A" * 8000 + "\0")))
case("login text, keys without '='",
     lambda: send_close(login("InitiatorName\0TargetName\0===\0\0\0")))
case("login text, 500 duplicate keys",
     lambda: send_close(login("".join("MaxRecvDataSegmentLength=%d\0" % i for i in range(500)))))
case("login, bad version / CSG=3 NSG=0", lambda: send_close(login(good_text, flags=0xC0)))
case("SCSI command before login",
     lambda: send_close(bhs(0x01, 0xC1, 0, 0, rest=b"") + b""))
case("logout before login", lambda: send_close(bhs(0x46, 0x80)))
case("data-out before login", lambda: send_close(bhs(0x05, 0x80, 0, 512) + b"\0" * 512))
case("unknown opcodes 0x1f..0x3f",
     lambda: send_close(b"".join(bhs(op, 0x80) for op in range(0x1f, 0x40))))
case("login then garbage PDU", lambda: send_close(login(good_text) + os.urandom(4096)))
case("login then RST", lambda: send_close(login(good_text), rst=True, wait=0.2))


def many():
    socks = []
    for _ in range(50):
        try:
            socks.append(conn())
        except OSError:
            break
    for i, s in enumerate(socks):
        try:
            s.sendall(login(good_text)[: (i * 7) % 60])
        except OSError:
            pass
    time.sleep(0.5)
    for i, s in enumerate(socks):
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


case("50 connections, partial logins, closed/RST", many)
sys.exit(0)
