#!/usr/bin/env bash
# bench/rollout_fleet.sh - a rollout over N simulated clusters (default
# 1,000) with maxUnavailable 10% and stableFor 0, driven by the real
# `bollardd --rollouts-only`; the clusters are `bollard fleet-sim`.
#
# 1. A change applied while the rollout runs: the time from the apply to
#    `bollard rollout status` completing (goal < 60 s), and etcd's own
#    counters over that window (everything: controller, simulator, CLI).
# 2. The fleet controller's etcd requests alone, for a second change made
#    while the rollout is paused: the window runs from the resume (one
#    etcdctl put of the Rollout) to the controller logging Complete (no CLI
#    polls etcd meanwhile). etcd counts requests for all clients together
#    (gRPC: unary calls handled, and messages received on streams such as
#    lease keepalives), and the simulator counts its own (fleet-sim prints
#    them on SIGUSR1); the controller's = etcd's - the simulator's - the
#    resume. The two snapshots are a simulator round apart at most (two
#    ranges), which is the error of the figure.
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
N=${BENCH_CLUSTERS:-1000}
mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
metric() { curl -s "http://127.0.0.1:$ETCD_METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
# The binary itself in the background, not the B function: $! would be a
# subshell, and killing it would leave the simulator running.
"$BUILD/bollard" --etcd "$ETCD_URL" fleet-sim --clusters $N --labels env=prod --ready-after 0.2 >"$T/sim.log" 2>&1 &
SIM_PID=$!
cleanup_add "kill $SIM_PID 2>/dev/null"
nnodes() { etcdctl_t get --prefix --keys-only /bollard/v1/nodes/ | grep -c .; }
all_nodes() { test "$(nnodes)" = $N; }
wait_for 120 all_nodes || { echo "fleet-sim registered $(nnodes) of $N"; exit 1; }
targets() {
	for i in $(seq -f %04g 1 $N); do
		printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: ds-%s, labels: {app: ds}}\n' "$i"
		printf 'spec: {cluster: sim-%s, iqn: "iqn.2026-11.io.bollard:ds-%s", acls: [{initiator: "iqn.1998-01.com.vmware:esx-%s"}]}\n' "$i" "$i" "$1"
	done
}
targets 1 | B apply -f - >/dev/null || { echo "apply targets failed"; exit 1; }
# The default election lease (5 s), as a management host runs it.
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt >"$T/fleet.log" 2>&1 &
cleanup_add "kill $! 2>/dev/null"
cat <<'Y' | B apply -f - >/dev/null || { echo "apply rollout failed"; exit 1; }
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: ds}
spec:
  clusterSelector: {matchLabels: {env: prod}}
  objectSelector: {matchLabels: {app: ds}}
  strategy: {canary: 1, waves: ["10%", "50%", "100%"], maxUnavailable: "10%"}
  healthGate: {stableFor: 0s, timeout: 60s}
Y
B rollout status ds --timeout 120s >/dev/null || { echo "baseline rollout did not complete"; exit 1; }
puts0=$(metric etcd_debugging_mvcc_put_total); ranges0=$(metric etcd_debugging_mvcc_range_total)
t0=$(date +%s.%N)
targets 2 | B apply -f - >/dev/null || { echo "apply of the change failed"; exit 1; }
B rollout status ds --timeout 300s >/dev/null; rc=$?
t1=$(date +%s.%N)
puts1=$(metric etcd_debugging_mvcc_put_total); ranges1=$(metric etcd_debugging_mvcc_range_total)
[ $rc = 0 ] || { echo "rollout did not complete (status exit $rc)"; tail -5 "$T/fleet.log"; exit 1; }
printf 'rollout: %d clusters, maxUnavailable 10%%, stableFor 0: completed in %.1f s (goal < 60 s)\n' \
	"$N" "$(echo "$t1 - $t0" | bc)"
echo "rollout: etcd during the rollout: $((puts1 - puts0)) puts, $((ranges1 - ranges0)) ranges; per cluster $(echo "scale=1; ($puts1 - $puts0) / $N" | bc) puts, $(echo "scale=1; ($ranges1 - $ranges0) / $N" | bc) ranges (fleet controller + simulator + CLI)"

# 2. the controller alone
grpc_reqs() { curl -s "http://127.0.0.1:$ETCD_METRICS_PORT/metrics" | awk '
	/^grpc_server_handled_total/ && /grpc_type="unary"/ { n += $2 }
	/^grpc_server_msg_received_total/ && /grpc_type="bidi_stream"/ { n += $2 }
	END { printf "%d\n", n }'; }
sim_reported() { test "$(grep -c "etcd requests" "$T/sim.log")" -gt "$1"; }
sim_ops() { # the simulator's count, after one more SIGUSR1
	local before
	before=$(grep -c "etcd requests" "$T/sim.log")
	kill -USR1 "$SIM_PID"
	# (a round over 1,000 Targets may take seconds on a loaded machine)
	wait_for 120 sim_reported "$before" ||
		{ echo "fleet-sim did not report its requests" >&2; return 1; }
	grep "etcd requests" "$T/sim.log" | tail -1 | sed 's/.*requests: \([0-9]*\) total.*/\1/'
}
completes() { test "$(grep -c "rollout ds: Complete" "$T/fleet.log")" -gt "$1"; }
paused() { grep "rollout ds: Paused" "$T/fleet.log" | grep -q .; }
B rollout pause ds >/dev/null || { echo "pause failed"; exit 1; }
targets 3 | B apply -f - >/dev/null || { echo "apply of the second change failed"; exit 1; }
wait_for 30 paused || { echo "the controller never reported Paused"; tail -5 "$T/fleet.log"; exit 1; }
sleep 2   # the simulator has seen the new generations (not admitted: nothing to report)
ncomplete=$(grep -c "rollout ds: Complete" "$T/fleet.log")
RO_KEY=/bollard/v1/objects/Rollout/ds
etcdctl_t get --print-value-only $RO_KEY | python3 -c '
import json, sys
o = json.load(sys.stdin)
o["spec"]["paused"] = False
m = o.get("metadata", o)
m["generation"] = m.get("generation", 1) + 1
print(json.dumps(o, separators=(",", ":")))' >"$T/resumed.json" || { echo "reading the Rollout failed"; exit 1; }
g0=$(grpc_reqs); s0=$(sim_ops) || exit 1
t0=$(date +%s.%N)
etcdctl_t put $RO_KEY -- "$(cat "$T/resumed.json")" >/dev/null || { echo "resume put failed"; exit 1; }
wait_for 300 completes "$ncomplete" || { echo "second rollout did not complete"; tail -5 "$T/fleet.log"; exit 1; }
t1=$(date +%s.%N)
g1=$(grpc_reqs); s1=$(sim_ops) || exit 1
ctl=$((g1 - g0 - (s1 - s0) - 1))
printf 'rollout: resume to Complete over %d clusters: %.1f s\n' "$N" "$(echo "$t1 - $t0" | bc)"
printf 'rollout: etcd requests in that window: %d in all, simulator %d, fleet controller alone %d = %.1f per cluster\n' \
	"$((g1 - g0))" "$((s1 - s0))" "$ctl" "$(echo "scale=1; $ctl / $N" | bc)"
echo "rollout: fleet role: led $(grep -c "leading the fleet role" "$T/fleet.log") time(s), lost $(grep -c "lost the fleet role" "$T/fleet.log") time(s) (a slow round under load can outlast the lease)"
echo "rollout: load average: $(cut -d' ' -f1-3 /proc/loadavg)"
