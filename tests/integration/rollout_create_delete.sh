#!/usr/bin/env bash
# Creation and deletion of governed Targets are gated by their rollout, like
# changes (a real bollardd, which also leads the fleet role, and a real
# bollard-target; resync every 2 s so the target sweep runs often):
#   1. rollout paused; a new Target in its scope is NOT created in the
#      engine (its status: Ready False, AwaitingAdmission), and a deleted
#      one is NOT removed, through several resyncs and sweeps, and after a
#      bollardd restart;
#   2. resume: the cluster's admission brings both: the new Target is
#      served, the deleted one is gone; `bollard rollout status` exits 0;
#   3. a Target outside the rollout's scope is created and deleted at once
#      all along.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"

ctl_setup
CTL_ARGS="--lease-ttl 2 --resync 2"
start_ctl

served() { "$BUILD/bollard" target --socket "$T/t.sock" show -o json | grep -q "\"iqn\": \"iqn.2026-11.io.bollard:$1\""; }
fail() { echo "--- ctl.log"; tail -20 "$T/ctl.log"; B rollout status demo --no-wait; die "$*"; }
target_yaml() { # name app
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: $1, labels: {app: $2}}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:$1
  luns: [{lun: 0, volume: demo}]
  acls: [{initiator: "*"}]
Y
}
python3 -c '
import sys
docs = sys.stdin.read().split("\n---\n")
print("\n---\n".join(d for d in docs if "kind: Target" not in d))' \
	<"$TOP/examples/quickstart/bollard.yaml" >"$T/base.yaml"
cat >"$T/ro.yaml" <<'Y'
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  clusterSelector: {matchLabels: {}}
  objectSelector: {matchLabels: {app: demo}}
  healthGate: {stableFor: 1s, timeout: 30s}
  paused: true
Y
# Target old exists before the rollout: the rollout's baseline names it.
B apply -f "$T/base.yaml" >/dev/null || die "apply base"
target_yaml old demo | B apply -f - >/dev/null || die "apply old"
wait_for 20 served old || fail "Target old never served"
B apply -f "$T/ro.yaml" >/dev/null || die "apply rollout"
baseline() { etcdctl_t get --print-value-only /bollard/v1/rollouts/demo/admitted/local |
	grep -q '"objects":{"Target/old":1}'; }
wait_for 10 baseline || fail "no baseline admission naming Target/old"

# 1. paused: creation and deletion wait
target_yaml new demo | B apply -f - >/dev/null || die "apply new"
B delete target old >/dev/null || die "delete old"
target_yaml free other | B apply -f - >/dev/null || die "apply free (not governed)"
wait_for 20 served free || fail "ungoverned Target free not created"
sleep 5   # two resyncs and sweeps
served new && fail "Target new created while its rollout is paused"
served old || fail "Target old removed while its rollout is paused"
grep -q "Target/new: not admitted" "$T/ctl.log" || fail "no log of the held creation"
etcdctl_t get --print-value-only /bollard/v1/status/Target/new/local |
	grep -q '"reason":"AwaitingAdmission","status":"False","type":"Ready"' ||
	fail "Target new's status does not say it awaits its admission"
grep -q "Target/old: deleted, deletion not admitted" "$T/ctl.log" || fail "no log of the held deletion"
kill $CPID; wait $CPID 2>/dev/null
start_ctl
sleep 4
served new && fail "Target new created after a restart while paused"
served old || fail "Target old removed after a restart while paused"
B delete target free >/dev/null || die "delete free"
gone() { ! served "$1"; }
wait_for 20 gone free ||
	fail "ungoverned Target free not removed"
B rollout status demo --no-wait >/dev/null; rc=$?
[ $rc = 3 ] || fail "status --no-wait while paused: exit $rc, want 3"

# 2. resume: admitted, both happen
B rollout resume demo >/dev/null || die "resume"
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 0"; }
wait_for 20 served new || fail "Target new not created after its admission"
wait_for 20 gone old ||
	fail "Target old not removed after its deletion was admitted"
echo "PASS: rollout_create_delete"
