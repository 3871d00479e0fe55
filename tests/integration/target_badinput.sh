#!/usr/bin/env bash
# Bad network input: while a good session writes and verifies data, other
# connections send garbage (target_badinput.py: bytes before login, an
# oversized segment, a login in full feature phase, an unknown opcode,
# CmdSN outside the window, header and data digest errors, SNACK, a stray
# Data-Out, a truncated PDU). The daemon must not crash, each bad connection
# must get the protocol's answer, and the good session must be unaffected.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
command -v python3 >/dev/null || skip "python3 not installed"
bt_start
IQN=iqn.2026-01.io.bollard.test:bad
bt_target "$IQN" "$BT_TMP/lun0.img" 32M

"$BT_RW" -s 11 "$BT_URL/$IQN/0" verify 512 8 >"$BT_TMP/good" 2>&1 &
good=$!
sleep 0.5
python3 "$(dirname "$0")/target_badinput.py" "$BT_PORT" "$IQN"
bad_rc=$?
wait "$good"; good_rc=$?
cat "$BT_TMP/good"
bt_alive || { cat "$BT_LOG" >&2; die "bollard-target died"; }
[ "$good_rc" = 0 ] || die "the good session was disturbed"
grep -q "rounds=[1-9]" "$BT_TMP/good" || die "the good session did no I/O"
[ "$bad_rc" = 0 ] || die "a bad-input case was not handled as expected"
"$BT_RW" "$BT_URL/$IQN/0" login || die "a new login fails afterwards"
bt_stop
echo "target_badinput: ok"
