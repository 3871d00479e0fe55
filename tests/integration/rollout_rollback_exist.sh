#!/usr/bin/env bash
# A rollback, and `bollard rollout undo`, give back existence too (a real
# bollardd, which also leads the fleet role, and a real bollard-target):
#   1. one change, made while the rollout is paused: Target new created,
#      Target old deleted, Target keep given a LUN on a device that does
#      not exist (so the cluster never gets Ready: the gate fails);
#   2. resume: the canary is admitted: new is served (the test writes a
#      marker into its volume's file), old is removed; the gate times out,
#      onFailure: rollback: new is removed from the engine again (its
#      status: Ready False, AwaitingAdmission), old is served again (from
#      its kept copy: it is still deleted in the store), keep is back at
#      generation 1; new's volume file still holds the marker (a rollback
#      removes an export, never data); `rollout status` exits 1;
#   3. undo: deletes new and creates old again in the store (generation
#      after its newest kept one), keep gets generation 1's spec as
#      generation 3; that rolls out (status exits 0) and the engine
#      matches: old and keep served without the bad LUN, new not served,
#      the marker still there.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"

ctl_setup
CTL_ARGS="--lease-ttl 2 --resync 3"
start_ctl

show() { "$BUILD/bollard" target --socket "$T/t.sock" show -o json; }
served() { show | grep -q "\"iqn\": \"iqn.2026-11.io.bollard:$1\""; }
gone() { ! served "$1"; }
fail() { echo "--- ctl.log"; tail -30 "$T/ctl.log"; B rollout status demo --no-wait; die "$*"; }
vol_yaml() { # name
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $1}
spec: {cluster: local, size: 16Mi, backing: {type: file, path: volumes/$1.img}, replication: none}
Y
}
target_yaml() { # name volume [extra LUN line]
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: $1, labels: {app: demo}}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:$1
  luns:
    - {lun: 0, volume: $2}
${3:-}
  acls: [{initiator: "*"}]
Y
}
cat >"$T/base.yaml" <<Y
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: local}
spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}
---
$(vol_yaml v-old)
---
$(vol_yaml v-keep)
---
$(vol_yaml v-new)
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v-bad}
spec: {cluster: local, size: 16Mi, backing: {type: device, path: /dev/bollard-test-no-such-device}, replication: none}
Y
cat >"$T/ro.yaml" <<'Y'
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  clusterSelector: {matchLabels: {}}
  objectSelector: {matchLabels: {app: demo}}
  healthGate: {stableFor: 1s, timeout: 10s}
  onFailure: rollback
  paused: true
Y
B apply -f "$T/base.yaml" >/dev/null || die "apply base"
target_yaml old v-old | B apply -f - >/dev/null || die "apply old"
target_yaml keep v-keep | B apply -f - >/dev/null || die "apply keep"
wait_for 20 served old || fail "Target old never served"
wait_for 20 served keep || fail "Target keep never served"
B apply -f "$T/ro.yaml" >/dev/null || die "apply rollout"
rec() { etcdctl_t get --print-value-only /bollard/v1/rollouts/demo/admitted/local; }
baseline() { rec | grep -q '"objects":{"Target/keep":1,"Target/old":1}'; }
wait_for 10 baseline || fail "no baseline admission naming keep and old"
hist() { etcdctl_t get --print-value-only /bollard/v1/history/Target/$1/$2 | grep -q "$1"; }
wait_for 10 hist old 1 || fail "old's generation 1 not kept in the history"

# 1. the change, paused
target_yaml new v-new | B apply -f - >/dev/null || die "apply new"
target_yaml keep v-keep "    - {lun: 1, volume: v-bad}" | B apply -f - >/dev/null || die "apply keep 2"
B delete target old >/dev/null || die "delete old"
sleep 2
served new && fail "new served while paused"
served old || fail "old removed while paused"

# 2. resume: admitted, fails, rolled back
B rollout resume demo >/dev/null || die "resume"
wait_for 10 served new || fail "new not served after its admission"
wait_for 10 gone old || fail "old not removed after its deletion was admitted"
IMG="$T/state/volumes/v-new.img"
wait_for 10 test -f "$IMG" || fail "no file for v-new"
printf 'bollard-rollback-marker' | dd of="$IMG" bs=1 seek=4096 conv=notrunc status=none ||
	die "writing the marker"
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 1 ] || { cat "$T/st.out"; fail "status of the failing rollout: exit $rc, want 1"; }
grep -q "RolledBack" "$T/st.out" || { cat "$T/st.out"; fail "not RolledBack"; }
rec | grep -q '"absent":{"Target/new":1}' || fail "rollback record has no absent Target/new: $(rec)"
wait_for 20 gone new || fail "new still served after its creation was rolled back"
wait_for 20 served old || fail "old not served again after its deletion was rolled back"
B get target old >/dev/null 2>&1 && fail "the rollback wrote old back into the store (only undo does)"
no_bad_lun() { show | python3 -c '
import json, sys
ts = json.load(sys.stdin)
ts = ts if isinstance(ts, list) else ts.get("targets", ts)
k = [t for t in ts if t["iqn"].endswith(":keep")]
sys.exit(0 if k and len(k[0].get("luns", [])) == 1 else 1)'; }
wait_for 20 no_bad_lun || fail "keep not back at generation 1 (one LUN)"
etcdctl_t get --print-value-only /bollard/v1/status/Target/new/local |
	grep -q '"reason":"AwaitingAdmission","status":"False","type":"Ready"' ||
	fail "new's status does not say it awaits admission"
grep -q "Target/new: creation rolled back" "$T/ctl.log" || fail "no log of the undone creation"
sleep 4   # a resync and sweep: nothing comes back or goes
gone new || fail "new served again by a resync"
served old || fail "old removed again by a resync"
grep -q bollard-rollback-marker "$IMG" || fail "v-new's data lost by the rollback"

# 3. undo: the store follows, and that rolls out
B rollout undo demo >"$T/undo.out" || { cat "$T/undo.out"; fail "undo failed"; }
grep -q "target/new: deleted" "$T/undo.out" || { cat "$T/undo.out"; fail "undo did not delete new"; }
grep -q "target/old: created again as generation 2" "$T/undo.out" ||
	{ cat "$T/undo.out"; fail "undo did not create old again"; }
grep -q "target/keep: generation 3 restores the spec of generation 1" "$T/undo.out" ||
	{ cat "$T/undo.out"; fail "undo did not restore keep"; }
B get target new >/dev/null 2>&1 && fail "new still in the store after undo"
B get target old >/dev/null || fail "old not in the store after undo"
B rollout status demo --timeout 60s >"$T/st2.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st2.out"; fail "status after undo: exit $rc, want 0"; }
served old || fail "old not served after undo"
gone new || fail "new served after undo"
no_bad_lun || fail "keep has the bad LUN after undo"
grep -q bollard-rollback-marker "$IMG" || fail "v-new's data lost after undo"
echo "PASS: rollout_rollback_exist"
