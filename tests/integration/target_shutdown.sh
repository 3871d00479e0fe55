#!/usr/bin/env bash
# Orderly shutdown: SIGTERM while a session is doing I/O. The initiator gets
# an Async Message asking it to log out, the daemon exits 0 within a few
# seconds, and data acknowledged before the signal is on the backing file
# when a new daemon serves it. Also: --daemon detaches.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
bt_start
IQN=iqn.2026-01.io.bollard.test:shutdown
bt_target "$IQN" "$BT_TMP/lun0.img" 16M
btctl set "$IQN" nopIntervalMs=0 >/dev/null || die "set attr"
"$BT_RW" -s 21 "$BT_URL/$IQN/0" verify 128 || die "first write"

# A second session keeps writing (other blocks are not touched: the
# verify tool rewrites 0..127 with new seeds, so read back only after).
"$BT_RW" -s 100 "$BT_URL/$IQN/0" verify 64 30 >"$BT_TMP/busy" 2>&1 &
busy=$!
sleep 1
start=$SECONDS
kill -TERM "$BT_PID"
wait "$BT_PID"; rc=$?
took=$((SECONDS - start))
[ "$rc" = 0 ] || { cat "$BT_LOG" >&2; die "exit code $rc after SIGTERM"; }
[ "$took" -le 8 ] || die "shutdown took ${took}s"
grep -q "shutting down" "$BT_LOG" || die "no shutdown logged"
# The busy initiator (libiscsi) answered the Async Message with a Logout.
grep -q "dropped: logout" "$BT_LOG" || { cat "$BT_LOG" >&2; die "no logout after the async request"; }
# libiscsi then keeps trying to reconnect to the stopped target: end it.
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null

# Blocks 64..127 still hold seed 21's data (never rewritten); blocks 0..63
# hold whatever round was acknowledged last, checked by rereading below.
bt_start --target "$IQN" --lun "0:$BT_TMP/lun0.img"
python3 - "$BT_TMP/lun0.img" <<'PY' || die "blocks 64..127 changed"
import sys
# Recompute the tool's pattern for seed 21, LBAs 64..127 (chunks of 8).
def fill(n, s, lba):
    out = bytearray(n)
    x = (s * 2654435761 ^ lba * 40503) & 0xffffffff
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xffffffff
        out[i] = (x >> 16) & 0xff
    return bytes(out)
data = open(sys.argv[1], "rb").read()
for lba in range(64, 128, 8):
    if data[lba * 512:(lba + 8) * 512] != fill(8 * 512, 21, lba):
        sys.exit(1)
PY
bt_stop

# --daemon: the command returns, the daemon serves, SIGTERM ends it.
P=$(free_port)
"$BT_TARGET_BIN" --daemon --listen "127.0.0.1:$P" --target "$IQN" \
	--lun "0:$BT_TMP/lun0.img" || die "--daemon start"
wait_for 10 bt_port_open "$P" || die "daemon not listening"
iscsi-inq "iscsi://127.0.0.1:$P/$IQN/0" >/dev/null || die "daemon does not serve"
dpid=$(ss -ltnpH "sport = :$P" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$dpid" ] || die "cannot find the daemon's pid"
kill -TERM "$dpid"
wait_for 10 bash -c "! kill -0 $dpid 2>/dev/null" || { kill -KILL "$dpid"; die "daemon did not stop"; }
echo "target_shutdown: ok"
