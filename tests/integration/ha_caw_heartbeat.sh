#!/usr/bin/env bash
# The CAW heartbeat of the HA test (tests/ha/ha_client.c + caw.c) against
# the userspace engine, without VMs: it must pass through a lost connection
# and a restart, explain the MISCOMPARE of a CAW that landed without an
# answer, and FAIL (exit 4, caw-check non-zero) on what the failover must
# never produce: an unexplained MISCOMPARE, a third value in the block, a
# hard error from the target.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
C=$BUILD/tests/ha/ha_client
[ -x "$C" ] || skip "$C not built (make ha-client)"
IQN=iqn.2026-01.io.bollard.test:cawhb
IMG=$BT_TMP/lun0.img
ST=$BT_TMP/caw.state
LOG=$BT_TMP/caw.log
ACK=$BT_TMP/acked
bt_start
bt_target "$IQN" "$IMG" 16M
URL=$BT_URL/$IQN/0

"$C" caw-init "$URL" "$ST" || die "caw-init"
"$C" write "$URL" 0 20 "$ACK" "$ST" "$LOG" || die "20 writes with the heartbeat"
"$C" caw-check "$URL" "$ST" "$LOG" | tee "$BT_TMP/check" || die "caw-check after clean beats"
grep -q 'ok=20 .*fatal=0 generation=21$' "$BT_TMP/check" || die "expected 20 ok beats: $(cat "$BT_TMP/check")"
read -r lba cur unk inf <"$ST"

# A client that died with CAW cur -> cur+1 in flight, which did land: the
# next beat miscompares, reads cur+1 back, and goes on.
echo "$lba $((cur - 1)) 0 1" >"$ST"
"$C" write "$URL" 20 2 "$ACK" "$ST" "$LOG" || die "beat after an unknown outcome that landed"
grep -q ' miscompare gen=' "$LOG" || die "no explained miscompare logged"
"$C" caw-check "$URL" "$ST" "$LOG" || die "caw-check after an explained miscompare"

# The same, but the CAW in flight did not land: the retry just succeeds.
read -r lba cur unk inf <"$ST"
echo "$lba $cur 0 1" >"$ST"
n=$(grep -c ' miscompare ' "$LOG")
"$C" write "$URL" 22 1 "$ACK" "$ST" "$LOG" || die "beat after an unknown outcome that did not land"
[ "$(grep -c ' miscompare ' "$LOG")" = "$n" ] || die "a miscompare where the CAW had not landed"

# A lost connection: the engine is SIGKILLed under the beating client,
# which must stop with exit 2 (retryable) and an unknown outcome, then go
# on against a new engine on the same file. (Heartbeats only, so the
# command in flight is a CAW.)
"$C" caw-beat "$URL" "$ST" "$LOG" 1000000 2>"$BT_TMP/w.err" &
w=$!
sleep 1
kill -KILL "$BT_PID"; wait "$BT_PID" 2>/dev/null
wait "$w"; rc=$?
[ "$rc" = 2 ] || die "client after the engine was killed: exit $rc (want 2): $(cat "$BT_TMP/w.err")"
tail -1 "$LOG" | grep -q 'retry-conn' || { tail -3 "$LOG"; die "the lost connection was not logged as retry-conn"; }
bt_start
bt_target "$IQN" "$IMG" 16M
URL=$BT_URL/$IQN/0
"$C" write "$URL" 200 3 "$ACK" "$ST" "$LOG" || die "beats after the restart"
"$C" caw-check "$URL" "$ST" "$LOG" | tee "$BT_TMP/check" || die "caw-check after the restart"
grep -q 'retry-conn=[1-9]' "$BT_TMP/check" || die "no retry-conn counted"

# From here on every case must fail. Each on a copy of the log, so the
# failures do not leak into one another.
must_fail() { # WHAT STATE-LINE
	cp "$LOG" "$BT_TMP/bad.log"
	echo "$2" >"$BT_TMP/bad.state"
	"$C" write "$URL" 300 1 "$ACK" "$BT_TMP/bad.state" "$BT_TMP/bad.log" 2>>"$BT_TMP/bad.err"
	rc=$?
	[ "$rc" = 4 ] || die "$1: client exit $rc (want 4)"
	tail -1 "$BT_TMP/bad.log" | grep -q FATAL || die "$1: not logged as FATAL"
	if "$C" caw-check "$URL" "$BT_TMP/bad.state" "$BT_TMP/bad.log" >/dev/null 2>&1; then
		die "$1: caw-check passed"
	fi
	echo "ok: $1 fails ($(tail -1 "$BT_TMP/bad.log" | cut -d' ' -f2-))"
}
read -r lba cur unk inf <"$ST"
must_fail "a MISCOMPARE without any unknown outcome" "$lba $((cur - 1)) 0 0"
must_fail "a third value in the block" "$lba $((cur - 2)) $((cur - 1)) 0"
cap=$(( 16 * 1024 * 1024 / 512 ))
must_fail "a hard error (LBA out of range: ILLEGAL REQUEST)" "$((cap + 8)) $cur 0 0"
echo "PASS"
