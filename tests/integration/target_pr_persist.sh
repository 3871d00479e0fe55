#!/usr/bin/env bash
# Persistent reservations survive a restart of bollard-target on the same
# backing file (BT_FEAT_PR_STORE: the state lives in the last MiB of the
# backing), and a corrupt slot falls back to the other one:
#   1. a LUN with the PR store: capacity excludes the 1 MiB region;
#   2. register a key, re-register with another (APTPL=1), reserve;
#   3. SIGTERM, start again, attach the same file: keys, generation,
#      reservation and APTPL are what they were;
#   4. stop, corrupt the newest slot with dd, start: the state before the
#      last PR OUT is back;
#   5. stop, put foreign bytes in the region of a fresh file: the LUN is
#      refused (BT_E_PR_FOREIGN) and the bytes are untouched.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
# The PR client is only a client: a sanitised run (BUILD=build-asan) may use
# the normal build's.
PRT=${BT_PR_TOOL:-$BUILD/tests/bt-pr-tool}
[ -x "$PRT" ] || PRT=build/tests/bt-pr-tool
[ -x "$PRT" ] || skip "bt-pr-tool not built (make $BUILD/tests/bt-pr-tool)"
command -v dd >/dev/null || skip "dd not installed"

IQN=iqn.2026-01.io.bollard.test:prpersist
IMG=$BT_TMP/lun0.img
SIZE=$((64 * 1024 * 1024))
REGION=$(( (SIZE - 1048576) / 65536 * 65536 ))   # region offset
SLOT=524288
FEAT=caw,xcopy,unmap,writesame,prstore

setup_target() { # FILE
	btctl create "$IQN" >/dev/null || die "create"
	btctl lun add "$IQN" 0 "$1" --features "$FEAT" >/dev/null || return 1
	btctl acl add "$IQN" '*' >/dev/null || die "acl add"
	btctl enable "$IQN" >/dev/null || return 1
}

show() { "$PRT" show "$BT_URL/$IQN/0" || die "show failed"; }

truncate -s "$SIZE" "$IMG"
bt_start
setup_target "$IMG" || die "target with a PR store LUN"
out=$(show)
grep -qx "capacity $((REGION / 512))" <<<"$out" || die "capacity: $out"
grep -qx "keys " <<<"$out" || die "fresh store has keys: $out"
grep -qx "ptpl_c 1 ptpl_a 0" <<<"$out" || die "caps: $out"

"$PRT" register "$BT_URL/$IQN/0" 0x1111 || die "register 0x1111"
"$PRT" register "$BT_URL/$IQN/0" 0xabcdef aptpl || die "register 0xabcdef"
"$PRT" reserve "$BT_URL/$IQN/0" 0xabcdef 1 || die "reserve"
before=$(show)
grep -qx "keys 0xabcdef" <<<"$before" || die "keys: $before"
grep -qx "reservation 0xabcdef 1" <<<"$before" || die "reservation: $before"
grep -qx "ptpl_c 1 ptpl_a 1" <<<"$before" || die "aptpl: $before"
bt_stop
# the slots are on the file (seq 3 in slot 1, seq 2 in slot 0)
magic=$(dd if="$IMG" bs=1 skip=$((REGION + SLOT)) count=8 status=none)
[ "$magic" = BLPRSTOR ] || die "no slot on the backing: '$magic'"

# Restart on the same file: the same state.
bt_start
setup_target "$IMG" || die "re-attach after restart"
after=$(show)
[ "$after" = "$before" ] || die "state changed across restart:
before: $before
after:  $after"

# Corrupt the newest slot (slot 1: seq 3, the RESERVE) while stopped: the
# state of seq 2 (both registrations done, no reservation) comes back.
bt_stop
printf '\xff\xff\xff\xff' | dd of="$IMG" bs=1 seek=$((REGION + SLOT + 64)) \
	conv=notrunc status=none
bt_start
setup_target "$IMG" || die "re-attach with one corrupt slot"
out=$(show)
grep -qx "keys 0xabcdef" <<<"$out" || die "keys after corrupt slot: $out"
grep -qx "reservation none" <<<"$out" || die "reservation after corrupt slot: $out"
# (RESERVE does not move the PR generation, so it is the same either way)
grep -q "corrupt\|not valid" "$BT_LOG" || die "no log line about the bad slot"
# and the store keeps working: reserve again, restart, it is there
"$PRT" reserve "$BT_URL/$IQN/0" 0xabcdef 3 || die "reserve after fallback"
bt_stop
bt_start
setup_target "$IMG" || die "re-attach"
out=$(show)
grep -qx "reservation 0xabcdef 3" <<<"$out" || die "reservation after rewrite: $out"
bt_stop

# Foreign data in the tail of a fresh file: refused, never overwritten.
IMG2=$BT_TMP/foreign.img
truncate -s "$SIZE" "$IMG2"
printf 'somebody else' | dd of="$IMG2" bs=1 seek=$((REGION + 4096)) conv=notrunc status=none
bt_start
if setup_target "$IMG2" 2>"$BT_TMP/err"; then
	die "a LUN with foreign data in its tail was attached"
fi
grep -q "foreign data" "$BT_TMP/err" "$BT_LOG" || die "no clear error: $(cat "$BT_TMP/err")"
[ "$(dd if="$IMG2" bs=1 skip=$((REGION + 4096)) count=13 status=none)" = "somebody else" ] ||
	die "foreign bytes were overwritten"
bt_alive || die "daemon died"
bt_stop
echo "target_pr_persist: ok"
