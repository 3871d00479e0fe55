#!/usr/bin/env bash
# Crash injection: bollardd is killed (SIGKILL, no cleanup) after N actions
# of the quickstart's multi-action plan, for every N. Restarted without the
# fault it must converge: the LUN is served and a further reconcile plans
# zero actions. Each round starts from an empty engine and state dir, so
# every round runs the same plan and each of its actions is a crash point.
# All of it twice: with plans applied whole (the default window of 1,024
# actions), and one action per window (BOLLARD_PLAN_WINDOW=1, as a cold
# start of more than 1,024 LUNs runs: controller.c, run_one), where every
# dep and every crash point crosses a window.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"
mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
B apply -f "$TOP/examples/quickstart/" >/dev/null || die "apply"
IQN=iqn.2026-11.io.bollard:demo

for W in 1024 1; do
export BOLLARD_PLAN_WINDOW=$W
N=0 total=
while :; do
	PORT=$(free_port)
	rm -rf "$T/t.sock" "$T/state"
	"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
	TPID=$!
	wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
	CTL=("$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state"
	     --target-socket "$T/t.sock" --only target --once)
	BOLLARD_FAULT=apply:$N:die "${CTL[@]}" >"$T/crash.log" 2>&1
	rc=$?
	if [ $rc != 137 ]; then
		# The plan had fewer than N+1 actions: every crash point is done.
		[ $rc = 0 ] || { cat "$T/crash.log"; die "W=$W N=$N: exit $rc, want 137 (killed) or 0"; }
		total=$N
		kill $TPID; wait $TPID 2>/dev/null
		break
	fi
	"${CTL[@]}" >"$T/ctl.log" 2>&1 || { cat "$T/ctl.log"; die "W=$W N=$N: restart did not converge"; }
	iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >/dev/null || die "W=$W N=$N: LUN not served after restart"
	"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
		--target-socket "$T/t.sock" --only target --once --dry-run >"$T/dry.log" 2>&1 ||
		die "W=$W N=$N: dry run failed"
	grep -q " [1-9][0-9]* action" "$T/dry.log" && { cat "$T/dry.log"; die "W=$W N=$N: not converged"; }
	kill $TPID; wait $TPID 2>/dev/null
	N=$((N + 1))
	[ $N -lt 50 ] || die "runaway: more than 50 actions"
done
[ "$total" -ge 5 ] || die "expected a multi-action plan, crashed at only $total points"
echo "crash injection (window $W): converged after a crash at each of $total points"
done
