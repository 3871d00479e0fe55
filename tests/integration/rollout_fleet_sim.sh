#!/usr/bin/env bash
# 200 simulated clusters (`bollard fleet-sim`) driven by the real
# `bollardd --rollouts-only`: a change to 200 Targets completes through the
# canary and three waves with maxUnavailable 25; `bollard rollout status`
# exits 0; every cluster's admission is the new generation; the canary was
# admitted alone first; no cluster admitted twice; the status summary
# stays small (per-cluster keys) and the CLI still tables every cluster.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
for b in bollard bollardd; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built"
done
N=${ROLLOUT_SIM_CLUSTERS:-200}   # e.g. 1000 for a manual scale run

mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
# Not through B: "B ... &" would put a subshell in $! and the kill at exit
# would leave the simulator running.
"$BUILD/bollard" --etcd "$ETCD_URL" fleet-sim --clusters $N --labels env=prod,region=eu \
	--ready-after 0.2 >"$T/sim.log" 2>&1 &
SPID=$!
cleanup_add "kill $SPID 2>/dev/null; wait $SPID 2>/dev/null"
nclusters() { etcdctl_t get --prefix --keys-only /bollard/v1/objects/Cluster/ | grep -c .; }
nnodes() { etcdctl_t get --prefix --keys-only /bollard/v1/nodes/ | grep -c .; }
all_clusters() { test "$(nclusters)" = $N; }
all_nodes() { test "$(nnodes)" = $N; }
wait_for 60 all_clusters || die "fleet-sim registered $(nclusters) clusters"
wait_for 20 all_nodes || die "fleet-sim heartbeats: $(nnodes)"
B get cluster sim-0001 -o json | grep -q '"region": "eu"' || die "labels not set"

targets() { # acl-host-number
	for i in $(seq -f %04g 1 $N); do cat <<Y
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: ds-$i, labels: {app: ds}}
spec:
  cluster: sim-$i
  iqn: iqn.2026-11.io.bollard:ds-$i
  acls: [{initiator: "iqn.1998-01.com.vmware:esx-$1"}]
Y
	done
}
targets 1 | B apply -f - >/dev/null || die "apply targets"
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt --lease-ttl 2 \
	>"$T/fleet.log" 2>&1 &
FPID=$!
cleanup_add "kill $FPID 2>/dev/null; wait $FPID 2>/dev/null"
cat <<'Y' | B apply -f - >/dev/null || die "apply rollout"
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: ds}
spec:
  clusterSelector: {matchLabels: {env: prod}}
  objectSelector: {matchLabels: {app: ds}}
  strategy: {canary: 1, waves: ["10%", "50%"], maxUnavailable: 25}
  healthGate: {stableFor: 0s, timeout: 30s}
Y
nrecords() { etcdctl_t get --prefix --keys-only /bollard/v1/rollouts/ds/admitted/ | grep -c .; }
all_records() { test "$(nrecords)" = $N; }
wait_for 30 all_records || die "baselines: $(nrecords) of $N"
B rollout status ds --timeout 30s >/dev/null || die "baseline rollout not complete"

targets 2 | B apply -f - >/dev/null || die "apply generation 2"
B rollout status ds --timeout 180s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { tail -5 "$T/st.out"; tail -20 "$T/fleet.log"; die "status: exit $rc, want 0"; }
etcdctl_t get --prefix --print-value-only /bollard/v1/rollouts/ds/admitted/ | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.strip()]
bad = [r for r in recs if set(r["objects"].values()) != {2}]
assert len(recs) == '$N' and not bad, (len(recs), bad[:3])' || die "admissions not all at generation 2"
grep "cluster sim-" "$T/fleet.log" | grep admitted >"$T/adm"
[ "$(wc -l <"$T/adm")" = $N ] || die "$(wc -l <"$T/adm") admissions logged, want $N (once each)"
[ "$(sort -u -k6,6 "$T/adm" | wc -l)" = $N ] || die "a cluster admitted twice"
head -1 "$T/adm" | grep -q "sim-0001: admitted (wave 0)" || die "the canary was not first"
sed -n 2p "$T/adm" | grep -q "(wave 1)" || die "second admission not in wave 1"
grep -q "Complete: $N cluster(s) updated and healthy" "$T/fleet.log" || die "no completion logged"
# The status is split (controller/rollout/status_store.c): a summary whose
# size does not grow with the fleet, one key per cluster; the CLI's table
# still lists every cluster, and its exit code still says Complete.
ssize=$(etcdctl_t get --print-value-only /bollard/v1/rollouts/ds/status | wc -c)
[ "$ssize" -lt 4096 ] || die "the status summary is $ssize bytes at $N clusters (want < 4 KB)"
nentries=$(etcdctl_t get --prefix --keys-only /bollard/v1/rollouts/ds/clusters/ | grep -c .)
[ "$nentries" = $N ] || die "$nentries per-cluster status keys, want $N"
# Written only when it changes: the last cluster (the one that waited
# longest) was written a few times per state change, not every round.
ver=$(etcdctl_t get -w json /bollard/v1/rollouts/ds/clusters/sim-$(printf %04d $N) |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["version"])')
echo "per-cluster status key of sim-$(printf %04d $N): written $ver times"
[ "$ver" -le 30 ] || die "sim-$(printf %04d $N)'s status key was written $ver times (an unchanged entry rewritten?)"
B rollout status ds --no-wait >"$T/nw.out"; rc=$?
[ $rc = 0 ] || { head -5 "$T/nw.out"; die "status --no-wait: exit $rc, want 0"; }
[ "$(grep -c '^sim-[0-9]* *Healthy' "$T/nw.out")" = $N ] ||
	{ head -20 "$T/nw.out"; die "the table does not list $N Healthy clusters"; }
echo "PASS: rollout_fleet_sim ($N clusters)"
