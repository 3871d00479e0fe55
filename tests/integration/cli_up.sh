#!/usr/bin/env bash
# `bollard up` in the background: prints "etcd: http://127.0.0.1:PORT" once
# ready, runs bollard-target and bollardd and prints an
# "iscsi: iscsi://127.0.0.1:PORT/IQN/LUN" line that iscsi-inq can read,
# `get targets` against it (found through the state dir, no
# --etcd) shows the quickstart target, a second `up` on the same state dir
# is refused, and SIGTERM stops it with exit 0 and no etcd left behind.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
command -v etcd >/dev/null || skip "etcd (etcd-server) not installed"
mk_tmp T
unset BOLLARD_ETCD
export BOLLARD_STATE_DIR=$T/state
cd "$TOP"

"$BOLLARD" up >"$T/up.out" 2>"$T/up.err" &
pid=$!
cleanup_add "kill -9 $pid 2>/dev/null; pkill -9 -f -- '--data-dir $T/state/etcd' 2>/dev/null"
wait_for 30 grep -q '^etcd: ' "$T/up.out" || { cat "$T/up.out" "$T/up.err" >&2; die "no etcd: line"; }
line=$(grep '^etcd: ' "$T/up.out")
[[ $line =~ ^etcd:\ http://127\.0\.0\.1:[0-9]+$ ]] || die "malformed line: $line"
[ "$(grep -c '^etcd: ' "$T/up.out")" = 1 ] || die "more than one etcd: line"
url=${line#etcd: }
curl -sf "$url/health" | grep -q '"health":"true"' || die "etcd at $url not healthy"
[ "$(cat "$T/state/etcd.url")" = "$url" ] || die "state dir etcd.url does not hold $url"
wait_for 30 grep -q 'Press Ctrl-C' "$T/up.out" || die "up never finished starting: $(cat "$T/up.out")"
grep -qx 'target/demo created' "$T/up.out" || die "quickstart not applied: $(cat "$T/up.out")"
iline=$(grep '^iscsi: ' "$T/up.out") || die "no iscsi: line: $(cat "$T/up.out")"
[[ $iline =~ ^iscsi:\ iscsi://127\.0\.0\.1:[0-9]+/iqn\.2026-11\.io\.bollard:demo/0$ ]] ||
	die "malformed line: $iline"
iscsi-inq "${iline#iscsi: }" >"$T/inq.out" 2>&1 || die "iscsi-inq ${iline#iscsi: }: $(cat "$T/inq.out")"
grep -q 'Vendor:BOLLARD' "$T/inq.out" || die "not our LUN: $(cat "$T/inq.out")"

"$BOLLARD" get targets >"$T/get.out" 2>&1 || die "get targets: $(cat "$T/get.out")"
grep -qE '^demo +1/1 +iqn\.2026-11\.io\.bollard:demo +1 +local ' "$T/get.out" || die "get targets: $(cat "$T/get.out")"
"$BOLLARD" up >"$T/up2.out" 2>&1 && die "second up on the same state dir started"
grep -q 'already running' "$T/up2.out" || die "second up: $(cat "$T/up2.out")"

epid=$(pgrep -f -- "--data-dir $T/state/etcd") || die "no etcd process found"
kill -TERM "$pid"
wait "$pid"; rc=$?
[ "$rc" = 0 ] || die "up exited $rc after SIGTERM: $(cat "$T/up.err")"
kill -0 "$epid" 2>/dev/null && die "etcd $epid still running after up stopped"
pgrep -f -- "--data-dir $T/state/etcd" >/dev/null && die "an etcd for this state dir is still running"
[ -e "$T/state/etcd.url" ] && die "etcd.url left behind"
pgrep -f -- "--socket $T/state/target.sock" >/dev/null && die "bollard-target still running"
pgrep -f -- "--state-dir $T/state" >/dev/null && die "bollardd still running"
grep -q '^stopped\.$' "$T/up.out" || die "no clean stop message"

# Even a SIGKILLed `up` (no chance to clean up) leaves no etcd behind when
# util-linux's setpriv is there to set the children's parent-death signal.
if [ -x /usr/bin/setpriv ]; then
	"$BOLLARD" up --no-examples >"$T/up3.out" 2>&1 &
	pid=$!
	wait_for 30 grep -q '^etcd: ' "$T/up3.out" || die "second run: no etcd: line: $(cat "$T/up3.out")"
	epid=$(pgrep -f -- "--data-dir $T/state/etcd") || die "second run: no etcd process"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	wait_for 10 bash -c "! kill -0 $epid 2>/dev/null" || die "etcd $epid survived a SIGKILLed up"
else
	echo "note: /usr/bin/setpriv missing, SIGKILL phase not run" >&2
fi
echo "cli_up: ok"
