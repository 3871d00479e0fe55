#!/usr/bin/env bash
# mgmt_cli.sh - `bollard target` against a real bollard-target over its unix
# management socket: the scripting contract verbatim, the JSON it shows,
# typed errors and exit codes, secrets never shown, a real initiator
# (libiscsi) after enable, and LUN removal refused while a session is
# logged in unless --force.
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
