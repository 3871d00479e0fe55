#!/usr/bin/env bash
# Fleet rollouts against a real etcd and the real `bollardd --rollouts-only`,
# with five simulated clusters (tests/integration/rollout_agent.py acts as
# their bollardd: heartbeats, admitted generation, Ready after a delay or
# never). Checked from the agents' own timeline, not from the controller's
# status:
#   1. pause holds a new generation back (status --no-wait 3, --timeout 2);
#      after resume the canary goes first, waves follow in order, and at no
#      instant are more than maxUnavailable clusters admitted-but-not-Ready;
#      status exits 0; history lists both generations;
#   2. a canary that never gets Ready halts everything (status exits 1,
#      nothing else admitted);
#   3. onFailure: rollback, a failure in the second wave: the clusters
#      already updated get their previous admission back (status exits 1);
#   4. undo: a new generation with the old spec rolls out to completion;
#   5. the controller is killed mid-rollout; a second one finishes it, no
#      cluster admitted twice or skipped;
#   6. deleting the Rollout removes its records.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
for b in bollard bollardd; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built"
done
command -v python3 >/dev/null || skip "python3 not installed"

mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
CLUSTERS=c1,c2,c3,c4,c5

clusters_yaml() {
	for c in c1 c2 c3 c4 c5; do cat <<Y
---
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: $c, labels: {region: eu, env: prod}}
spec:
  ha: none
  nodes: [{name: $c-a, address: 192.0.2.1}]
Y
	done
	# not selected: never touched by the rollout
	cat <<Y
---
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: lab, labels: {region: eu, env: staging}}
spec:
  ha: none
  nodes: [{name: lab-a, address: 192.0.2.9}]
Y
}
targets_yaml() { # ESX-HOST-NUMBER
	for c in c1 c2 c3 c4 c5 lab; do cat <<Y
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: $c-ds, labels: {app: datastore}}
spec:
  cluster: $c
  iqn: iqn.2026-11.io.bollard:$c-ds
  acls: [{initiator: "iqn.1998-01.com.vmware:esx-$1"}]
Y
	done
}
rollout_yaml() { # onFailure paused [timeout]
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: ds}
spec:
  clusterSelector: {matchLabels: {env: prod}}
  objectSelector: {matchLabels: {app: datastore}}
  strategy: {canary: 1, waves: [1, "50%"], maxUnavailable: 2}
  healthGate: {stableFor: 1s, timeout: ${3:-4s}}
  onFailure: $1
  paused: $2
Y
}
record_gen() { # CLUSTER -> admitted generation of its target
	etcdctl_t get --print-value-only "/bollard/v1/rollouts/ds/admitted/$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"]["Target/'"$1"'-ds"])'
}
phase() {
	etcdctl_t get --print-value-only /bollard/v1/rollouts/ds/status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["phase"])' 2>/dev/null
}
is_phase() { test "$(phase)" = "$1"; }

clusters_yaml >"$T/clusters.yaml"
targets_yaml 1 >"$T/t1.yaml"
B apply -f "$T/clusters.yaml" >/dev/null || die "apply clusters"
B apply -f "$T/t1.yaml" >/dev/null || die "apply targets"

python3 "$TOP/tests/integration/rollout_agent.py" "$ETCD_URL" ds "$T" 0.3 "$CLUSTERS,lab" \
	2>"$T/agent.err" &
APID=$!
cleanup_add "touch '$T/stop'; wait $APID 2>/dev/null"
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt --lease-ttl 2 \
	>"$T/fleet.log" 2>&1 &
FPID=$!
cleanup_add "kill $FPID 2>/dev/null; wait $FPID 2>/dev/null"
fail() { echo "--- fleet.log"; tail -30 "$T/fleet.log"; echo "--- status";
	B rollout status ds --no-wait; echo "--- timeline"; tail -40 "$T/timeline"
	die "$*"; }

# The rollout, created paused: the current generation is its baseline.
rollout_yaml halt true | B apply -f - >/dev/null || die "apply rollout"
wait_for 10 is_phase Complete || fail "baseline never recorded"
for c in c1 c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 1 ] || fail "$c: baseline is not generation 1"
done
etcdctl_t get --print-value-only /bollard/v1/rollouts/ds/admitted/lab | grep -q . &&
	fail "cluster lab is not selected, yet has an admission record"

# 1. pause holds the change back
targets_yaml 2 | B apply -f - >/dev/null || die "apply generation 2"
wait_for 10 is_phase Paused || fail "not Paused"
sleep 1
for c in c1 c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 1 ] || fail "$c admitted while paused"
done
B rollout status ds --no-wait >"$T/st.out"; rc=$?
[ $rc = 3 ] || { cat "$T/st.out"; fail "status --no-wait while paused: exit $rc, want 3"; }
grep -q Paused "$T/st.out" || fail "status does not show Paused"
B rollout status ds --timeout 1s >/dev/null; rc=$?
[ $rc = 2 ] || fail "status --timeout 1s while paused: exit $rc, want 2"
# the lab cluster is not governed: it runs generation 2 already
grep -q "lab admit lab-ds 2" "$T/timeline" || fail "ungoverned target not reconciled at its newest generation"
B rollout resume ds >/dev/null || die "resume"
B rollout status ds --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 0"; }
for c in c1 c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 2 ] || fail "$c not at generation 2 after completion"
done
python3 - "$T/timeline" 2 2 c1 c2 c3 c4,c5 <<'P' || fail "timeline check (generation 2)"
import sys
path, gen, maxu, waves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
adm, rdy = {}, {}
for line in open(path):
    t, c, ev, tgt, g = line.split()
    if int(g) != gen or c == "lab":
        continue
    (adm if ev == "admit" else rdy).setdefault(c, float(t))
order = sorted(adm, key=adm.get)
print("admitted in order:", order)
# waves in order: every cluster of wave k admitted after all of wave k-1 were ready
for k in range(1, len(waves)):
    for c in waves[k].split(","):
        for p in waves[k - 1].split(","):
            assert adm[c] >= rdy[p], "%s admitted before %s was ready" % (c, p)
assert order[0] == waves[0], "canary is " + order[0]
# never more than maxUnavailable admitted-but-not-ready at once
for c in adm:
    t = adm[c]
    busy = [d for d in adm if adm[d] <= t and rdy.get(d, 1e18) > t]
    assert len(busy) <= maxu, "at %.3f: %s" % (t, busy)
assert len(adm) == 5 and len(rdy) == 5
P
B rollout history ds >"$T/hist.out" || die "history"
grep -Eq '^c1-ds +1 ' "$T/hist.out" && grep -Eq '^c1-ds +2 +\* +c1' "$T/hist.out" ||
	{ cat "$T/hist.out"; fail "history does not list generations 1 and 2"; }

# 2. a canary that never gets Ready halts everything
echo c1 >"$T/fail"
rollout_yaml halt false | B apply -f - >/dev/null || die "apply rollout"
targets_yaml 3 | B apply -f - >/dev/null || die "apply generation 3"
B rollout status ds --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 1 ] || { cat "$T/st.out"; fail "status with a failing canary: exit $rc, want 1"; }
grep -q "Halted" "$T/st.out" || fail "status does not say Halted"
[ "$(record_gen c1)" = 3 ] || fail "canary not admitted generation 3"
for c in c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 2 ] || fail "$c admitted after the canary failed"
done

# 3. rollback: the canary passes, c3 (the "50%" wave) fails
: >"$T/fail"
rollout_yaml rollback false | B apply -f - >/dev/null || die "apply rollout"
wait_for 10 grep -q "c1 ready c1-ds 3" "$T/timeline" || fail "c1 never recovered"
echo c3 >"$T/fail"
targets_yaml 4 | B apply -f - >/dev/null || die "apply generation 4"
B rollout status ds --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 1 ] || { cat "$T/st.out"; fail "status after a rollback: exit $rc, want 1"; }
grep -q "RolledBack" "$T/st.out" || fail "status does not say RolledBack"
grep -q "c3 admit c3-ds 4" "$T/timeline" || fail "c3 never admitted generation 4"
[ "$(record_gen c1)" = 3 ] || fail "c1 not back at its previous generation 3"
[ "$(record_gen c2)" = 2 ] || fail "c2 not back at its previous generation 2"
[ "$(record_gen c3)" = 2 ] || fail "c3 not back at its previous generation 2"
[ "$(record_gen c4)" = 2 ] || fail "c4 touched"
# the agents reconcile what is admitted again
wait_for 10 grep -q "c2 admit c2-ds 2" <(grep -A1000 "c2 admit c2-ds 4" "$T/timeline") ||
	fail "c2's agent never went back to generation 2"

# 4. undo: generation 5 has the spec of generation 3 and rolls out
: >"$T/fail"
B rollout undo ds >"$T/undo.out" || { cat "$T/undo.out"; fail "undo"; }
grep -q "c1-ds: generation 5 restores the spec of generation 3" "$T/undo.out" ||
	{ cat "$T/undo.out"; fail "undo output"; }
B get target c1-ds -o json | grep -q 'esx-3' || fail "undo did not restore the spec"
B rollout status ds --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after undo: exit $rc, want 0"; }
for c in c1 c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 5 ] || fail "$c not at generation 5 after undo"
done
# undo writes Target by Target: every cluster still went through the gate
grep -E '^c[1-5] ' "$T/st.out" | grep -v Healthy && fail "a cluster skipped the health gate"
grep -q "fleet\[mgmt\]: leading the fleet role" "$T/fleet.log" || fail "no election logged"

# 5. the controller dies (SIGKILL) in the middle; another one, elected once
#    the dead one's lease expires, finishes: every cluster admitted once.
# The gate of a cluster admitted just before the kill runs on across the
# election gap (the dead leader's lease, the new one's start): a timeout
# long enough that a loaded machine does not fail it.
rollout_yaml rollback false 30s | B apply -f - >/dev/null || die "apply the longer timeout"
n0=$(wc -l <"$T/fleet.log")
admitted_since() { tail -n +$((n0 + 1)) "$T/fleet.log" | grep -q "cluster $1: admitted"; }
targets_yaml 6 | B apply -f - >/dev/null || die "apply generation 6"
wait_for 20 admitted_since c2 || fail "c2 never admitted generation 6"
kill -9 $FPID; wait $FPID 2>/dev/null
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt2 --lease-ttl 2 \
	>"$T/fleet2.log" 2>&1 &
F2PID=$!
cleanup_add "kill $F2PID 2>/dev/null; wait $F2PID 2>/dev/null"
B rollout status ds --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; cat "$T/fleet2.log"; fail "status after a controller restart: exit $rc, want 0"; }
grep -q "fleet\[mgmt2\]: leading the fleet role" "$T/fleet2.log" || fail "the second controller never led"
for c in c1 c2 c3 c4 c5; do
	[ "$(record_gen $c)" = 6 ] || fail "$c not at generation 6 after the restart"
	k=$( (tail -n +$((n0 + 1)) "$T/fleet.log"; cat "$T/fleet2.log") | grep -c "cluster $c: admitted")
	[ "$k" = 1 ] || { cat "$T/fleet2.log"; fail "$c admitted $k times across the restart"; }
done
# 6. deleting the Rollout removes its records; its Targets are then
#    reconciled at their newest generation again (nothing governs them)
B delete rollout ds >/dev/null || die "delete rollout"
no_records() { ! etcdctl_t get --prefix --keys-only /bollard/v1/rollouts/ds/ | grep -q .; }
wait_for 10 no_records || fail "records of the deleted rollout left behind"
echo "PASS: rollout_waves"
