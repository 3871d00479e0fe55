#!/usr/bin/env bash
# A Secret used by a governed Target is governed with it, cluster by
# cluster (a real bollardd, which also leads the fleet role, a real
# bollard-target and a real initiator, libiscsi's iscsi-inq, logging in
# with CHAP; resync every 2 s so the target sweep runs often):
#   1. the rollout's baseline record names the Secret's generation, and
#      the Secret is kept in the history; the Target's status reports
#      observedRefs {"Secret/esx-chap":1};
#   2. rollout paused, the password changed: the old password still logs
#      in and the new one does not, through resyncs, sweeps and a bollardd
#      restart; status still at observedRefs 1; rollout status exits 3;
#   3. resume: the cluster is admitted, the new password logs in, the old
#      one is refused, observedRefs 2, rollout status exits 0;
#   4. the admission record alone (what a rollback writes) brings the old
#      password back;
#   5. `bollard rollout undo` gives the Secret its previous data as
#      generation 3, which rolls out: the old password logs in; `rollout
#      history` lists the Secret's kept generations (never a value).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"

ctl_setup
CTL_ARGS="--lease-ttl 2 --resync 2"
start_ctl

IQN=iqn.2026-11.io.bollard:chap
INI=iqn.1998-01.com.vmware:esx01
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/demo/local; }
refs_at() { status | grep -q "\"observedRefs\":{\"Secret/esx-chap\":$1}"; }
login() { # password
	iscsi-inq -i "$INI" "iscsi://esx01%$1@127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1
}
refused() { ! login "$1"; }
fail() { echo "--- ctl.log"; tail -30 "$T/ctl.log"; echo "--- status"; status; echo
	B rollout status demo --no-wait; die "$*"; }
secret() { # password
	cat >"$T/secret.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: esx-chap}
data: {username: esx01, password: $1}
YAML
	B apply -f "$T/secret.yaml" >/dev/null || die "apply Secret"
}
P1=first-pass-0001 P2=second-pass-002

cat >"$T/objs.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: local}
spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: demo}
spec: {cluster: local, size: 16Mi, backing: {type: file, path: volumes/demo.img}, replication: none}
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo, labels: {app: demo}}
spec:
  cluster: local
  iqn: $IQN
  luns: [{lun: 0, volume: demo}]
  acls:
    - {initiator: "$INI", chapSecretRef: esx-chap}
YAML
secret "$P1"
B apply -f "$T/objs.yaml" >/dev/null || die "apply objects"
wait_for 20 login "$P1" || fail "the first password never logs in"
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
B apply -f "$T/ro.yaml" >/dev/null || die "apply rollout"

# 1. baseline
rec() { etcdctl_t get --print-value-only /bollard/v1/rollouts/demo/admitted/local; }
baseline() { rec | grep -q '"objects":{"Secret/esx-chap":1,"Target/demo":1}'; }
wait_for 10 baseline || fail "baseline record does not name the Secret: $(rec)"
kept() { etcdctl_t get --keys-only /bollard/v1/history/Secret/esx-chap/1 | grep -q esx-chap; }
wait_for 10 kept || fail "Secret generation 1 not kept in the history"
wait_for 20 refs_at 1 || fail "status has no observedRefs at generation 1"

# 2. paused: the new password waits
secret "$P2"
sleep 5     # two resyncs and sweeps
login "$P1" || fail "old password refused while the rollout is paused"
refused "$P2" || fail "new password logs in while the rollout is paused"
kill $CPID; wait $CPID 2>/dev/null
start_ctl
sleep 4
login "$P1" || fail "old password refused after a restart while paused"
refused "$P2" || fail "new password logs in after a restart while paused"
refs_at 1 || fail "observedRefs left generation 1 while paused"
B rollout status demo --no-wait >/dev/null; rc=$?
[ $rc = 3 ] || fail "status --no-wait while paused: exit $rc, want 3"

# 3. resume
B rollout resume demo >/dev/null || die "resume"
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 0"; }
login "$P2" || fail "new password refused after its admission"
refused "$P1" || fail "old password still logs in after the admission"
refs_at 2 || fail "observedRefs not at generation 2"
rec | grep -q '"objects":{"Secret/esx-chap":2,"Target/demo":1}' || fail "record: $(rec)"

# 4. the record alone takes it back (a rollback's record)
etcdctl_t put /bollard/v1/rollouts/demo/admitted/local \
	'{"objects":{"Secret/esx-chap":1,"Target/demo":1},"previous":{"Secret/esx-chap":1,"Target/demo":1},"revision":"rollback","since":1}' >/dev/null
wait_for 20 login "$P1" || fail "record of generation 1 not honoured"
refused "$P2" || fail "new password still logs in after the record went back"

# 5. undo: the Secret's previous data as a new generation, rolled out
B rollout undo demo >"$T/undo.out" 2>&1 || { cat "$T/undo.out"; fail "undo failed"; }
grep -q "secret/esx-chap: generation 3 restores the data of generation 1" "$T/undo.out" ||
	{ cat "$T/undo.out"; fail "undo did not restore the Secret"; }
grep -q "$P1\|$P2" "$T/undo.out" && fail "undo printed a password"
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after undo: exit $rc, want 0"; }
rec | grep -q '"objects":{"Secret/esx-chap":3,"Target/demo":1}' || fail "record after undo: $(rec)"
login "$P1" || fail "old password refused after undo"
refused "$P2" || fail "new password logs in after undo"
refs_at 3 || fail "observedRefs not at generation 3 after undo"
B rollout history demo >"$T/hist.out" || { cat "$T/hist.out"; fail "history failed"; }
grep -Eq '^esx-chap +3 +\* +local' "$T/hist.out" && grep -Eq '^esx-chap +1 ' "$T/hist.out" ||
	{ cat "$T/hist.out"; fail "history does not list the Secret's generations"; }
grep -q "$P1\|$P2" "$T/hist.out" && fail "history printed a password"
grep -q "$P1\|$P2" "$T/ctl.log" && fail "a password in bollardd's log"
status | grep -q "$P1\|$P2" && fail "a password in the status"
echo "PASS: rollout_secret"
