#!/usr/bin/env bash
# mgmt_cli.sh - `bollard target` against a real bollard-target over its unix
# management socket: the scripting contract verbatim, the JSON it shows,
# typed errors and exit codes, secrets never shown, enable --wait giving up
# early on a DRBD minor that cannot become Primary here (a fake /proc/drbd),
# a real initiator (libiscsi) after enable, and LUN removal refused while a
# session is logged in unless --force.
. "$(dirname "$0")/../lib/common.sh"

[ -x "$BUILD/bollard-target" ] || skip "no $BUILD/bollard-target (make first)"
[ -x "$BOLLARD" ] || skip "no $BOLLARD (make first)"
command -v iscsi-inq >/dev/null || skip "iscsi-inq missing (Debian libiscsi-bin)"
command -v iscsi-perf >/dev/null || skip "iscsi-perf missing (Debian libiscsi-bin)"
command -v jq >/dev/null || skip "jq missing"

mk_tmp T
# Private copies: other builds may relink build/ while we run.
cp "$BUILD/bollard-target" "$BUILD/bollard" "$T/"
TGT=$T/bollard-target
BL=$T/bollard
PORT=$(free_port) || die "no free port"
SOCK=$T/run/target.sock
IQN=iqn.2024-01.io.bollard.test:mgmt
INI=iqn.1994-05.com.redhat:mgmt-test
truncate -s 64M "$T/disk0.img"
truncate -s 32M "$T/disk1.img"

"$TGT" --listen 127.0.0.1:$PORT --socket "$SOCK" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$SOCK" || { cat "$T/target.log"; die "socket $SOCK never appeared"; }

# The socket is root-only.
[ "$(stat -c %a "$SOCK")" = 600 ] || die "socket mode is $(stat -c %a "$SOCK"), want 600"

# expect_fail WHAT PATTERN CMD...: exit 1 and PATTERN in stderr.
expect_fail() {
	local what=$1 pat=$2 rc; shift 2
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] || die "$what: exit $rc, want 1 ($(cat "$T/err"))"
	grep -q -- "$pat" "$T/err" || die "$what: stderr lacks '$pat': $(cat "$T/err")"
}

# ---- the scripting contract, exactly as documented ----
"$BL" target --socket "$SOCK" create "$IQN" || die "create"
"$BL" target --socket "$SOCK" lun add "$IQN" 0 "$T/disk0.img" || die "lun add"
"$BL" target --socket "$SOCK" acl add "$IQN" '*' || die "acl add"
"$BL" target --socket "$SOCK" enable "$IQN" || die "enable"
"$BL" target --socket "$SOCK" show -o json >"$T/show.json" || die "show"

j() { jq -e "$1" "$T/show.json" >/dev/null || die "show -o json: $1 is false: $(cat "$T/show.json")"; }
j '.targets | length == 1'
j ".targets[0].iqn == \"$IQN\""
j '.targets[0].enabled == true'
j '.targets[0].sessions == 0'
j '.targets[0].luns | length == 1'
j ".targets[0].luns[0].lun == 0 and .targets[0].luns[0].path == \"$T/disk0.img\""
j '.targets[0].luns[0].blocks == 131072 and .targets[0].luns[0].blockSize == 512'
j ".targets[0].luns[0].uid == \"$IQN:0\""
j '.targets[0].luns[0].naa | test("^[0-9A-Fa-f]{32}$")'
j '.targets[0].acls == [{"initiator":"*","chapUser":null}]'
j '.targets[0].attributes.maxSessionsPerInitiator == 2 and .targets[0].attributes.maxSessions == 64'
j '.targets[0].attributes.nopIntervalMs == 5000 and .targets[0].attributes.nopTimeoutMs == 15000'

# ---- typed errors ----
expect_fail "duplicate create" "bollard target: create: .*already exists" \
	"$BL" target --socket "$SOCK" create "$IQN"
expect_fail "duplicate lun" "lun add: .*already exists" \
	"$BL" target --socket "$SOCK" lun add "$IQN" 0 "$T/disk0.img"
expect_fail "lun del missing" "lun del: .*not found" \
	"$BL" target --socket "$SOCK" lun del "$IQN" 5
expect_fail "bad name" "bad iSCSI name" \
	"$BL" target --socket "$SOCK" create "not-an-iqn"
expect_fail "missing backing" "backing store could not be opened" \
	"$BL" target --socket "$SOCK" lun add "$IQN" 3 "$T/does-not-exist.img"
expect_fail "unknown target" "not found" \
	"$BL" target --socket "$SOCK" enable iqn.2024-01.io.bollard.test:none
expect_fail "unknown target, waited" "not found" \
	"$BL" target --socket "$SOCK" enable iqn.2024-01.io.bollard.test:none --wait 1
expect_fail "bad --wait" "want whole seconds" \
	"$BL" target --socket "$SOCK" enable "$IQN" --wait soon
expect_fail "--wait on disable" "for enable only" \
	"$BL" target --socket "$SOCK" disable "$IQN" --wait 1
expect_fail "no daemon" "cannot connect" \
	"$BL" target --socket "$T/nope.sock" show

# ---- enable --wait gives up early when DRBD cannot become Primary here ----
# A staged target only records its LUN map, so a LUN can name a DRBD minor
# that does not exist on this host: every enable is then refused (the
# device does not open), as on a Secondary. A fake /proc/drbd
# (BOLLARD_PROC_DRBD) says what DRBD would; the grace is cut to 300 ms.
# `timeout 30` turns a wait that never gives up into a failure (exit 124)
# instead of a hang; nothing here measures time.
N=147
while [ -e /dev/drbd$N ]; do N=$((N + 1)); done
DIQN=iqn.2024-01.io.bollard.test:drbd
"$BL" target --socket "$SOCK" create "$DIQN" || die "create $DIQN"
"$BL" target --socket "$SOCK" lun add "$DIQN" 0 "$T/disk1.img" || die "lun add $DIQN 0"
"$BL" target --socket "$SOCK" lun add "$DIQN" 1 /dev/drbd$N || die "lun add /dev/drbd$N (staged, not opened)"
waitd() { # PROC-FILE SECONDS: enable --wait with that /proc/drbd
	env BOLLARD_PROC_DRBD="$1" BOLLARD_DRBD_GRACE_MS=300 timeout 30 \
		"$BL" target --socket "$SOCK" enable "$DIQN" --wait "$2"
}
no_give_up() { ! grep -q "giving up" "$T/err" || die "$1: gave up: $(cat "$T/err")"; }
printf 'version: 8.4.11 (api:1/proto:86-101)\n%s: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0\n' \
	$N >"$T/drbd.peer"
expect_fail "peer Primary" \
	"enable: $DIQN: /dev/drbd$N is Secondary and its peer Primary for 300 ms (.*ro:Secondary/Primary.*): the promote is not coming here; giving up" \
	waitd "$T/drbd.peer" 60
tail -n 1 "$T/err" | grep -q "giving up" || die "peer Primary: the reason is not the last line: $(cat "$T/err")"
printf '%s: cs:WFConnection ro:Secondary/Unknown ds:Outdated/DUnknown C r-----\n' $N >"$T/drbd.outdated"
expect_fail "Outdated" "/dev/drbd$N's local disk is Outdated for 300 ms" waitd "$T/drbd.outdated" 60
printf ' 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n' >"$T/drbd.other"
expect_fail "minor missing" "/dev/drbd$N (minor $N) is not in $T/drbd.other for 300 ms" \
	waitd "$T/drbd.other" 60
# The peer died, our promote may be under way: keep trying to the end, past the grace.
printf '%s: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n' $N >"$T/drbd.wait"
expect_fail "peer gone" "retrying for up to 2 s" waitd "$T/drbd.wait" 2
grep -q "enable: .*backing store could not be opened" "$T/err" || die "peer gone: not the engine's refusal: $(cat "$T/err")"
no_give_up "peer gone"
# No /proc/drbd, or DRBD 9's (no minors listed): as before, the plain wait.
expect_fail "no /proc/drbd" "backing store could not be opened" waitd "$T/absent" 1
no_give_up "no /proc/drbd"
printf 'version: 9.2.4 (api:2/proto:86-122)\nTransports (api:18): tcp (9.2.4)\n' >"$T/drbd.9"
expect_fail "DRBD 9" "backing store could not be opened" waitd "$T/drbd.9" 1
no_give_up "DRBD 9"
"$BL" target --socket "$SOCK" show "$DIQN" -o json | jq -e '.targets[0].enabled == false' >/dev/null ||
	die "$DIQN enabled after refused enables"
"$BL" target --socket "$SOCK" delete "$DIQN" || die "delete $DIQN"
# Staged only after the wait began (bollardd still at it at set-up): the
# LUNs are looked at once the target exists, so it still gives up. The
# waiter is stopped while the target is created and its LUN added, else it
# could enable the target in between (no LUN yet: nothing to refuse); a
# `show` after the stop lets the engine answer any try already sent.
BOLLARD_PROC_DRBD="$T/drbd.peer" BOLLARD_DRBD_GRACE_MS=300 \
	"$BL" target --socket "$SOCK" enable "$DIQN" --wait 60 >"$T/out" 2>"$T/err" &
WPID=$!
cleanup_add "kill -CONT $WPID 2>/dev/null; kill $WPID 2>/dev/null"
began() { grep -q "not found; retrying" "$T/err"; }
wait_for 10 began || die "staged later: the wait did not begin: $(cat "$T/err")"
kill -STOP $WPID
stopped() { [ "$(awk '{print $3}' /proc/$WPID/stat)" = T ]; }
wait_for 10 stopped || die "staged later: the waiter did not stop"
"$BL" target --socket "$SOCK" show >/dev/null || die "show"
"$BL" target --socket "$SOCK" create "$DIQN" || die "create $DIQN again"
"$BL" target --socket "$SOCK" lun add "$DIQN" 0 /dev/drbd$N || die "lun add /dev/drbd$N again"
kill -CONT $WPID
exited() { ! kill -0 $WPID 2>/dev/null; }
wait_for 30 exited || die "staged later: still waiting after 30 s: $(cat "$T/err")"
wait $WPID; rc=$?
[ $rc = 1 ] || die "staged later: exit $rc, want 1: $(cat "$T/err")"
grep -q "/dev/drbd$N is Secondary and its peer Primary for 300 ms" "$T/err" ||
	die "staged later: did not give up: $(cat "$T/err")"
"$BL" target --socket "$SOCK" delete "$DIQN" || die "delete $DIQN"

# ---- events: a subscriber sees the LUN change ----
"$BL" target --socket "$SOCK" events >"$T/events.log" 2>&1 &
EVPID=$!
cleanup_add "kill $EVPID 2>/dev/null; wait $EVPID 2>/dev/null"
subscribed() { grep -q 'events: subscribed' "$T/events.log"; }
wait_for 10 subscribed || die "events never subscribed: $(cat "$T/events.log")"

# ---- --uid identity, CHAP secrets never shown ----
"$BL" target --socket "$SOCK" lun add "$IQN" 1 "$T/disk1.img" --uid vol-1 || die "lun add --uid"
printf 'Sup3rSecretChap\n' >"$T/secret"
"$BL" target --socket "$SOCK" acl add "$IQN" "$INI" --chap-user alice \
	--chap-secret-file "$T/secret" || die "acl add --chap"
MUTUAL=MutualSecret123 "$BL" target --socket "$SOCK" auth set "$IQN" \
	--chap-user tgt --chap-secret TargetSecret99 \
	--mutual-user mut --mutual-secret-env MUTUAL || die "auth set"
for fmt in json yaml table; do
	"$BL" target --socket "$SOCK" show -o $fmt >"$T/show.$fmt" 2>&1 || die "show -o $fmt"
	if grep -qE 'Sup3rSecretChap|TargetSecret99|MutualSecret123' "$T/show.$fmt"; then
		die "show -o $fmt printed a secret"
	fi
done
jq -e ".targets[0].luns[1].uid == \"vol-1\"" "$T/show.json" >/dev/null || die "uid not shown"
# users as they are; secrets only as salted digests (kernel/core/chap_digest.h)
jq -e ".targets[0].acls[1] | del(.chapDigest) == {\"initiator\":\"$INI\",\"chapUser\":\"alice\"}" "$T/show.json" \
	>/dev/null || die "ACL with CHAP user not shown: $(cat "$T/show.json")"
jq -e '.targets[0].auth | del(.chapDigest, .mutualDigest) == {"chapUser":"tgt","mutualUser":"mut"}' "$T/show.json" \
	>/dev/null || die "auth users not shown"
jq -e '[.targets[0].acls[1].chapDigest, .targets[0].auth.chapDigest, .targets[0].auth.mutualDigest]
       | all(test("^pbkdf2-sha256:1000:[0-9a-f]{32}:[0-9a-f]{32}$"))' "$T/show.json" \
	>/dev/null || die "CHAP digests not shown: $(cat "$T/show.json")"
python3 - "$T/show.json" <<'PY' || die "a digest does not check against its secret"
import hashlib, json, sys
t = json.load(open(sys.argv[1]))["targets"][0]
for d, secret in ((t["acls"][1]["chapDigest"], "Sup3rSecretChap"),
                  (t["auth"]["chapDigest"], "TargetSecret99"),
                  (t["auth"]["mutualDigest"], "MutualSecret123")):
    _, it, salt, dk = d.split(":")
    assert hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(it), 16).hex() == dk, d
PY
"$BL" target --socket "$SOCK" auth set "$IQN" || die "auth clear"
has_event() { grep -q "^lun-change target=$IQN .*lun=1 " "$T/events.log"; }
wait_for 5 has_event || die "no lun-change event: $(cat "$T/events.log")"
kill -INT $EVPID; wait $EVPID || die "events did not exit cleanly on SIGINT"
"$BL" target --socket "$SOCK" acl del "$IQN" "$INI" || die "acl del"

# ---- a real initiator after enable ----
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >"$T/inq" 2>&1 || die "iscsi-inq failed: $(cat "$T/inq")"
grep -q 'DIRECT_ACCESS' "$T/inq" || die "iscsi-inq: $(cat "$T/inq")"

# ---- LUN removal with a session logged in ----
# iscsi-perf keeps one session busy; it does not die on SIGTERM, hence KILL.
iscsi-perf -m 1 -b 1 -x 0 "iscsi://127.0.0.1:$PORT/$IQN/1" >"$T/perf.log" 2>&1 &
PERF=$!
cleanup_add "kill -KILL $PERF 2>/dev/null; wait $PERF 2>/dev/null"
has_session() {
	"$BL" target --socket "$SOCK" sessions "$IQN" -o json 2>/dev/null |
		jq -e '.sessions | length >= 1' >/dev/null
}
wait_for 15 has_session || die "no session appeared: $(cat "$T/perf.log")"
"$BL" target --socket "$SOCK" sessions -o json >"$T/sess.json" || die "sessions"
jq -e ".sessions[0].target == \"$IQN\" and (.sessions[0].initiator | length > 0)" \
	"$T/sess.json" >/dev/null || die "sessions: $(cat "$T/sess.json")"
expect_fail "lun del in use" "lun del: .*in use" \
	"$BL" target --socket "$SOCK" lun del "$IQN" 0
expect_fail "delete in use" "delete: .*in use" \
	"$BL" target --socket "$SOCK" delete "$IQN"
"$BL" target --socket "$SOCK" show -o json | jq -e '.targets[0].luns | length == 2' >/dev/null ||
	die "refused lun del removed the LUN anyway"
"$BL" target --socket "$SOCK" lun del "$IQN" 0 --force || die "lun del --force"
"$BL" target --socket "$SOCK" show -o json | jq -e '[.targets[0].luns[].lun] == [1]' >/dev/null ||
	die "lun 0 still there after --force"
# disable drops the sessions
"$BL" target --socket "$SOCK" disable "$IQN" || die "disable"
no_session() { ! has_session; }
wait_for 10 no_session || die "disable kept the session"
"$BL" target --socket "$SOCK" delete "$IQN" || die "delete"
"$BL" target --socket "$SOCK" show -o json | jq -e '.targets == []' >/dev/null || die "target not deleted"

# ---- SO_PEERCRED: even with the file mode opened up, a non-root peer is
# turned away by the server ----
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$T" "$T/run" "$BL"
	chmod 666 "$SOCK"
	expect_fail "non-root peer" "connection closed by the target engine" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$BL" target --socket "$SOCK" show
	chmod 600 "$SOCK"
fi

kill -0 $TPID 2>/dev/null || die "bollard-target died: $(cat "$T/target.log")"
echo "mgmt_cli: ok"
