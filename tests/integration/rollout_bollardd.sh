#!/usr/bin/env bash
# A rollout driven by a real bollardd (no --rollouts-only: the node's own
# bollardd wins the fleet election) against a real bollard-target:
#   1. with the rollout paused, a new Target generation is NOT reconciled:
#      the engine keeps the old ACLs and status stays at generation 1, also
#      after a bollardd restart (start-up reconcile and target sweep);
#   2. resume: the one cluster is the canary; bollardd reconciles the
#      admitted generation 2 at once (its admission watch; the resync is the
#      default 60 s), new ACL in the engine, status generation 2;
#      `bollard rollout status` exits 0;
#   3. rollback to generation 1 through the admission record alone (what
#      onFailure: rollback writes): the engine drops the new ACL again.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
for b in bollard bollardd bollard-target; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built"
done

mk_tmp T
etcd_start
PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
# The default resync (60 s) is far longer than the test: admissions must
# reach the node through bollardd's watch, not a periodic resync.
start_ctl() {
	"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
		--target-socket "$T/t.sock" --lease-ttl 2 >>"$T/ctl.log" 2>&1 &
	CPID=$!
	cleanup_add "kill $CPID 2>/dev/null; wait $CPID 2>/dev/null"
}
start_ctl

B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
IQN=iqn.2026-11.io.bollard:demo
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/demo/local; }
ready_at_gen() {
	status | grep -q "\"observedGeneration\":$1," &&
	status | grep -q '"reason":"Converged","status":"True","type":"Ready"'
}
has_acl() { "$BUILD/bollard" target --socket "$T/t.sock" show $IQN -o json | grep -q "$1"; }
fail() { echo "--- ctl.log"; tail -20 "$T/ctl.log"; echo "--- status"; status
	B rollout status demo --no-wait; die "$*"; }
target_yaml() { # extra initiator
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo, labels: {app: demo}}
spec:
  cluster: local
  iqn: $IQN
  luns: [{lun: 0, volume: demo}]
  acls:
    - initiator: iqn.1998-01.com.vmware:esx-1
$1
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
  healthGate: {stableFor: 1s, timeout: 20s}
  paused: true
Y
# The Target exists before its Rollout (a Target created under a rollout
# waits for its admission: rollout_create_delete.sh).
B apply -f "$T/base.yaml" >/dev/null || die "apply base"
target_yaml "" | B apply -f - >/dev/null || die "apply target"
wait_for 20 ready_at_gen 1 || fail "never Ready at generation 1"
B apply -f "$T/ro.yaml" >/dev/null || die "apply rollout"
baseline() { etcdctl_t get --print-value-only /bollard/v1/rollouts/demo/admitted/local |
	grep -q '"objects":{"Target/demo":1}'; }
in_history() { etcdctl_t get --print-value-only /bollard/v1/history/Target/demo/1 | grep -q esx-1; }
wait_for 10 baseline || fail "no baseline admission of generation 1"
wait_for 10 in_history || fail "generation 1 not in the history"

# 1. paused: generation 2 waits
target_yaml "    - initiator: iqn.1998-01.com.vmware:esx-2" | B apply -f - >/dev/null ||
	die "apply generation 2"
sleep 2
has_acl esx-2 && fail "generation 2 reconciled while the rollout is paused"
# a restart reconciles everything (and runs the target sweep): still gen 1
kill $CPID; wait $CPID 2>/dev/null
start_ctl
sleep 3
has_acl esx-2 && fail "generation 2 reconciled while the rollout is paused"
has_acl esx-1 || fail "generation 1's ACL gone"
ready_at_gen 1 || fail "status left generation 1"
B rollout status demo --no-wait >/dev/null; rc=$?
[ $rc = 3 ] || fail "status --no-wait while paused: exit $rc, want 3"

# 2. resume: admitted, reconciled, healthy
B rollout resume demo >/dev/null || die "resume"
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 0"; }
has_acl esx-2 || fail "generation 2 admitted but not in the engine"
ready_at_gen 2 || fail "status not at generation 2"
grep -q "leading the fleet role" "$T/ctl.log" || fail "bollardd never led the fleet role"

# 3. the admission record alone takes the node back to generation 1
etcdctl_t put /bollard/v1/rollouts/demo/admitted/local \
	'{"objects":{"Target/demo":1},"previous":{"Target/demo":1},"revision":"rollback","since":1}' >/dev/null
# (the fleet controller leaves it alone: its revision is Complete already)
wait_for 10 bash -c "! '$BUILD/bollard' target --socket '$T/t.sock' show $IQN -o json | grep -q esx-2" ||
	fail "admission of generation 1 not honoured"
echo "PASS: rollout_bollardd"
