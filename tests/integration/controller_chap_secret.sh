#!/usr/bin/env bash
# A Secret's password changes, its username does not: bollardd re-applies
# the ACL's credentials. The engine never reveals a secret; its dump carries
# a salted digest of each (kernel/core/chap_digest.h) that the reconciler
# checks the Secret's password against.
#   1. Target with an ACL for one initiator, CHAP from Secret esx-chap:
#      the initiator logs in with the first password, not without CHAP;
#   2. the Secret gets a new password: the new one logs in, the old one is
#      refused, and nothing is re-applied afterwards (resync every 2 s);
#   3. bollardd stopped, the password changed again, bollardd started: the
#      restarted controller re-applies it (once) and the newest password
#      works, the previous one does not; restarted again with nothing
#      changed, it applies nothing;
#   4. with bollardd stopped, the password is changed by hand with
#      `bollard target`: `bollard plan` shows the pending re-apply (exit 1)
#      without printing a password; bollardd started restores the Secret's
#      password, the hand-set one is refused;
#   5. no password ever appears in bollardd's log or status.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"

ctl_setup
CTL_ARGS="--resync 2"
start_ctl

IQN=iqn.2026-11.io.bollard:chap
INI=iqn.1998-01.com.vmware:esx01
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/demo/local; }
engine_ops() { status | sed -n 's/.*"engineOps":\([0-9]*\).*/\1/p'; }
login() { # password
	iscsi-inq -i "$INI" "iscsi://esx01%$1@127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1
}
secret() { # password
	cat >"$T/secret.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: esx-chap}
data: {username: esx01, password: $1}
YAML
	B apply -f "$T/secret.yaml" >/dev/null || die "apply Secret"
}
P1=first-pass-0001 P2=second-pass-002 P3=third-pass-0003

cat >"$T/objs.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: local}
spec:
  ha: none
  nodes: [{name: local, address: 127.0.0.1}]
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: demo}
spec:
  cluster: local
  size: 16Mi
  backing: {type: file, path: volumes/demo.img}
  replication: none
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo}
spec:
  cluster: local
  iqn: $IQN
  luns: [{lun: 0, volume: demo}]
  acls:
    - {initiator: "$INI", chapSecretRef: esx-chap}
YAML
secret "$P1"
B apply -f "$T/objs.yaml" >/dev/null || die "apply objects"

# 1. first password
wait_for 20 login "$P1" || { cat "$T/ctl.log"; die "initiator with the first password never admitted"; }
iscsi-inq -i "$INI" "iscsi://127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1 && die "login without CHAP admitted"
echo "1: first password admitted"

# 2. password changed, same user
ops0=$(engine_ops)
secret "$P2"
wait_for 20 login "$P2" || { status; cat "$T/ctl.log"; die "new password never admitted"; }
login "$P1" && die "old password still admitted after the Secret changed"
ops1=$(engine_ops)
[ $((ops1 - ops0)) = 2 ] || die "re-applying one ACL took $((ops1 - ops0)) engine operations, want 2 (del + add)"
sleep 5   # two resyncs: a remembered digest must not re-apply again
ops2=$(engine_ops)
[ "$ops2" = "$ops1" ] || die "credentials re-applied again without a change ($ops1 -> $ops2 engine ops)"
echo "2: new password admitted, old refused, $((ops1 - ops0)) engine ops, then none"

# 3. changed while bollardd was down
kill "$CPID"; wait "$CPID" 2>/dev/null
secret "$P3"
sleep 1
login "$P2" || die "with bollardd down, the engine changed anyway"
start_ctl
wait_for 20 login "$P3" || { cat "$T/ctl.log"; die "restarted bollardd never applied the newest password"; }
login "$P2" && die "previous password still admitted after the restart"
sleep 5
ops3=$(engine_ops)
sleep 5
[ "$(engine_ops)" = "$ops3" ] || die "restarted bollardd keeps re-applying ($ops3 -> $(engine_ops))"
applied() { grep -c "Target/demo: applied" "$T/ctl.log"; }
n0=$(applied)
[ "$n0" -gt 0 ] || die "no 'Target/demo: applied' line in bollardd's log (the count below would prove nothing)"
kill "$CPID"; wait "$CPID" 2>/dev/null
start_ctl
sleep 5   # the first reconcile and two resyncs of the restarted controller
[ "$(applied)" = "$n0" ] || die "restarted bollardd with nothing changed applied something"
echo "3: restarted bollardd re-applied once; newest password admitted; a restart without a change applies nothing"

# 4. changed by hand while bollardd is down: plan shows it, bollardd restores it
PH=typed-by-hand-04
kill "$CPID"; wait "$CPID" 2>/dev/null
T_() { "$BUILD/bollard" target --socket "$T/t.sock" "$@"; }
T_ acl del "$IQN" "$INI" || die "acl del by hand"
T_ acl add "$IQN" "$INI" --chap-user esx01 --chap-secret "$PH" || die "acl add by hand"
login "$PH" || die "the hand-set password is not live"
PLAN=(plan --node local --state-dir "$T/state" --target-socket "$T/t.sock" --only target)
B "${PLAN[@]}" >"$T/plan.txt" 2>"$T/plan.err"; rc=$?
cat "$T/plan.txt"
[ $rc = 1 ] || { cat "$T/plan.err"; die "plan with a hand-changed password exited $rc, want 1"; }
grep -q "replace CHAP secret of $INI" "$T/plan.txt" || die "plan does not show the pending secret change"
B "${PLAN[@]}" -o json >"$T/plan.json" 2>/dev/null
for p in "$P3" "$PH"; do
	grep -q -- "$p" "$T/plan.txt" "$T/plan.json" "$T/plan.err" && die "plan printed a password"
done
grep -q "pbkdf2" "$T/plan.txt" "$T/plan.json" && die "plan printed a digest"
start_ctl
wait_for 20 login "$P3" || { cat "$T/ctl.log"; die "bollardd never restored the Secret's password"; }
login "$PH" && die "the hand-set password is still admitted"
echo "4: hand-set password shown by plan (no secret printed), restored by bollardd"

# 5. never printed
for p in "$P1" "$P2" "$P3" "$PH"; do
	grep -q -- "$p" "$T/ctl.log" && die "a password is in bollardd's log"
	status | grep -q -- "$p" && die "a password is in the status"
done
echo "5: no password in the log or status"
exit 0
