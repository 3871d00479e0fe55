#!/usr/bin/env bash
# bollard-target end to end with real initiator tools: configure through the
# management CLI, discover (iscsi-ls), inquire (iscsi-inq), read capacity
# (iscsi-readcapacity16), write and read back data, stop with SIGTERM.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
bt_start
IQN=iqn.2026-01.io.bollard.test:basic
bt_target "$IQN" "$BT_TMP/lun0.img" 64M

out=$(iscsi-ls -s "$BT_URL" 2>&1) || die "iscsi-ls: $out"
grep -q "Target:$IQN Portal:127.0.0.1:$BT_PORT,1" <<<"$out" || die "discovery: $out"
grep -q "Lun:0 *Type:DIRECT_ACCESS" <<<"$out" || die "discovery LUN: $out"

out=$(iscsi-inq "$BT_URL/$IQN/0" 2>&1) || die "iscsi-inq: $out"
grep -q "Peripheral Device Type:DIRECT_ACCESS" <<<"$out" || die "inquiry: $out"

out=$(iscsi-readcapacity16 "$BT_URL/$IQN/0" 2>&1) || die "readcapacity16: $out"
grep -q "Total size:67108864" <<<"$out" || die "capacity: $out"

# Data written through the target reads back, and is on the backing file.
"$BT_RW" -s 7 "$BT_URL/$IQN/0" verify 256 || die "write/read back"
"$BT_RW" -s 7 "$BT_URL/$IQN/0" readback 256 || die "read back in a new session"
# Header digests (CRC32C) end to end.
"$BT_RW" -d -s 9 "$BT_URL/$IQN/0" verify 64 || die "write/read with header digest"

# Unknown target and a LUN that is not mapped.
iscsi-inq "$BT_URL/iqn.2026-01.io.bollard.test:nosuch/0" >/dev/null 2>&1 &&
	die "login to an unknown target succeeded"
bt_alive || die "daemon died"

# SIGTERM: exits 0, and what was acknowledged is in the file.
bt_stop

# Restart with the static configuration flags on the same file: the data
# acknowledged before SIGTERM is there.
bt_start --target "$IQN" --lun "0:$BT_TMP/lun0.img"
"$BT_RW" -s 9 "$BT_URL/$IQN/0" readback 64 || die "data lost across restart"
bt_stop
"$BT_TARGET_BIN" --help | grep -q -- "--listen" || die "--help"
echo "target_basic: ok"
