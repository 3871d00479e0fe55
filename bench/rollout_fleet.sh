#!/usr/bin/env bash
# bench/rollout_fleet.sh - a rollout over N simulated clusters (default
# 1,000) with maxUnavailable 10% and stableFor 0, driven by the real
# `bollardd --rollouts-only`; the clusters are `bollard fleet-sim`.
# Reports the time from the change's apply to `bollard rollout status`
# completing (goal < 60 s), and etcd operations per cluster during that
# window (puts and ranges from etcd's own counters; they include the
# simulator's heartbeats and Ready reports, which a real fleet makes too).
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
cleanup_add "kill $! 2>/dev/null"
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
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt --lease-ttl 2 >"$T/fleet.log" 2>&1 &
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
