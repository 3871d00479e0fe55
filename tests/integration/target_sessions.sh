#!/usr/bin/env bash
# Sessions per initiator: with maxSessionsPerInitiator=2 one initiator IQN
# gets two sessions (distinct ISIDs, the ESXi case) and a third is refused;
# another initiator still gets in; a login reusing an ISID reinstates.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
bt_start
IQN=iqn.2026-01.io.bollard.test:sess
bt_target "$IQN" "$BT_TMP/lun0.img" 16M
btctl set "$IQN" maxSessionsPerInitiator=2 >/dev/null || die "set attr"
U=$BT_URL/$IQN/0
I1=iqn.2026-01.io.bollard.test:esx1

out=$("$BT_RW" -i "$I1" "$U" sessions 3 3 2>/dev/null) || die "sessions tool: $out"
grep -q "logged_in=2" <<<"$out" || die "expected 2 of 3 sessions: $out"
grep -q "session 3: refused" <<<"$out" || die "third session not refused: $out"

# While two sessions of I1 are held, another initiator gets in.
"$BT_RW" -i "$I1" "$U" sessions 2 60 >"$BT_TMP/held" 2>&1 &
held=$!
cleanup_add "kill $held 2>/dev/null"
wait_for 10 grep -q "logged_in=2" "$BT_TMP/held" || die "two sessions: $(cat "$BT_TMP/held")"
btctl sessions "$IQN" >"$BT_TMP/list" 2>&1 || die "sessions listing"
[ "$(grep -c "$I1" "$BT_TMP/list")" = 2 ] || die "sessions listing: $(cat "$BT_TMP/list")"
"$BT_RW" -i iqn.2026-01.io.bollard.test:other "$U" login || die "second initiator refused"
"$BT_RW" -i "$I1" "$U" login 2>/dev/null && die "third session of $I1 admitted"
kill "$held"; wait "$held" 2>/dev/null
# Its connections are gone: the initiator may log in again.
wait_for 10 "$BT_RW" -i "$I1" "$U" login || die "sessions not released"

# Limit 1: the same initiator's second session is refused.
btctl set "$IQN" maxSessionsPerInitiator=1 >/dev/null || die "set attr"
out=$("$BT_RW" -i "$I1" "$U" sessions 2 0 2>/dev/null)
grep -q "logged_in=1" <<<"$out" || die "limit 1: $out"
bt_alive || die "daemon died"
bt_stop
echo "target_sessions: ok"
