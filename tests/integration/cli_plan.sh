#!/usr/bin/env bash
# `bollard plan`: what bollardd would change on this node, nothing changed.
# Exit 1 while changes are pending, 0 once converged; -o json is valid JSON;
# CHAP secrets appear in neither form.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
mk_tmp T
etcd_start
PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
P=(plan --node local --state-dir "$T/state" --target-socket "$T/t.sock")
SECRET=plan-test-secret-value-42
cat >"$T/chap.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: esx}
data: {username: esx01, password: $SECRET}
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:demo
  luns: [{lun: 0, volume: demo}]
  acls: [{initiator: "iqn.1998-01.com.vmware:esx01", chapSecretRef: esx}]
YAML
B apply -f "$TOP/examples/quickstart/" >/dev/null || die apply
B apply -f "$T/chap.yaml" >/dev/null || die "apply chap"
B "${P[@]}" >"$T/plan.txt" 2>"$T/plan.err"; rc=$?
cat "$T/plan.txt"
[ $rc = 1 ] || { cat "$T/plan.err"; die "plan with pending changes exited $rc, want 1"; }
grep -q "bollard target lun add iqn.2026-11.io.bollard:demo 0" "$T/plan.txt" || die "no lun add in the plan"
grep -q "acl add .*--chap-user esx01 --chap-secret-env BOLLARD_CHAP_SECRET" "$T/plan.txt" || die "no CHAP acl add"
B "${P[@]}" -o json >"$T/plan.json" 2>/dev/null
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert any(a["verb"]=="add" for r in p for a in r["actions"])' "$T/plan.json" ||
	die "plan -o json is not the expected JSON"
grep -q "$SECRET" "$T/plan.txt" "$T/plan.json" "$T/plan.err" && die "the CHAP secret was printed"
# nothing was changed by planning
"$BUILD/bollard" target --socket "$T/t.sock" show -o json | grep -q demo && die "plan changed the engine"
"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
	--target-socket "$T/t.sock" --once >"$T/ctl.log" 2>&1 || { cat "$T/ctl.log"; die "bollardd --once"; }
B "${P[@]}" >"$T/plan2.txt" 2>&1; rc=$?
[ $rc = 0 ] || { cat "$T/plan2.txt"; die "plan after converging exited $rc, want 0"; }
echo "plan: exit 1 with changes pending, 0 when converged; secrets never shown"
