#!/usr/bin/env bash
# `bollard apply --wait`: real etcd + bollard-target + bollardd.
#   1. apply the quickstart with --wait: it returns 0 only once bollardd
#      reports Ready at generation 1, so the LUN is served the moment apply
#      returns (no polling in this test after apply);
#   2. add a LUN with --wait: LUN 1 is served at once, status at generation 2;
#   3. bollardd stopped: --wait --timeout 2s exits 1 and says which node has
#      not observed the generation;
#   4. a Target whose Volume cannot be made (its backing path is under a
#      regular file): --wait exits 1 on Degraded
#      with bollardd's reason, well before its timeout;
#   5. objects without per-node status (a Secret) are not waited for.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"

ctl_setup
CTL_ARGS="--resync 2"
start_ctl

IQN=iqn.2026-11.io.bollard:demo
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/demo/local; }

# 1. quickstart, waited for.
B apply --wait --timeout 30s -f "$TOP/examples/quickstart/" >"$T/out1" 2>&1 ||
	{ cat "$T/out1" "$T/ctl.log"; die "apply --wait quickstart failed"; }
cat "$T/out1"
grep -q '^target/demo created$' "$T/out1" || die "apply's own lines are missing"
grep -q '^target/demo: 1/1 nodes ready (generation 1)$' "$T/out1" || die "no final progress line"
status | grep -q '"observedGeneration":1,' || { status; die "apply --wait returned before generation 1 was observed"; }
status | grep -q '"reason":"Converged","status":"True","type":"Ready"' ||
	{ status; die "apply --wait returned before Ready"; }
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1 || die "LUN 0 not served when apply --wait returned"

# 2. add a LUN.
quickstart_lun1 "$T/add.yaml"
B apply --wait -f "$T/add.yaml" >"$T/out2" 2>&1 || { cat "$T/out2"; die "apply --wait add failed"; }
grep -q '^target/demo: 1/1 nodes ready (generation 2)$' "$T/out2" || { cat "$T/out2"; die "no progress at generation 2"; }
status | grep -q '"observedGeneration":2,' || die "returned before generation 2 was observed"
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/1" >/dev/null 2>&1 || die "LUN 1 not served when apply --wait returned"

# 3. nobody reconciles: timeout, exit 1, with the reason.
kill $CPID; wait $CPID 2>/dev/null
sed 's/initiator: "\*"/initiator: "iqn.2026-11.io.test:one"/' "$T/add.yaml" >"$T/acl.yaml"
t0=$(date +%s)
if B apply --wait --timeout 2s -f "$T/acl.yaml" >"$T/out3" 2>&1; then
	cat "$T/out3"; die "apply --wait succeeded with no controller running"
fi
cat "$T/out3"
grep -q 'timed out after 2.0s waiting for target/demo (generation 3)' "$T/out3" || die "no timeout message"
grep -q 'node local: has not observed this generation yet' "$T/out3" || die "timeout does not say what is missing"
grep -q '^target/demo configured$' "$T/out3" || die "the write itself was not reported"
# The write happened: a restarted controller converges it, and a plain
# --wait now succeeds.
start_ctl
B apply --wait --timeout 30s -f "$T/acl.yaml" >"$T/out3b" 2>&1 || { cat "$T/out3b" "$T/ctl.log"; die "wait after restart"; }
grep -q '^target/demo unchanged$' "$T/out3b" || die "second apply of the same file changed something"
status | grep -q '"observedGeneration":3,' || die "not at generation 3 after the wait"

# 4. Degraded: a volume whose backing path cannot exist (parent is a file).
cat >"$T/bad.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: broken}
spec:
  cluster: local
  size: 32Mi
  backing: {type: file, path: $T/extra.img/broken.img}
  replication: none
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: broken}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:broken
  luns:
    - {lun: 0, volume: broken}
YAML
t0=$(date +%s)
if B apply --wait --timeout 60s -f "$T/bad.yaml" >"$T/out4" 2>&1; then
	cat "$T/out4"; die "apply --wait succeeded on a broken volume"
fi
cat "$T/out4"
grep -q 'target/broken is Degraded on node local at generation 1' "$T/out4" ||
	{ etcdctl_t get --print-value-only /bollard/v1/status/Target/broken/local; die "Degraded not reported"; }
[ $(( $(date +%s) - t0 )) -lt 50 ] || die "Degraded was only noticed at the timeout"
B delete -f "$T/bad.yaml" >/dev/null || die "delete broken"

# 5. nothing with per-node status: returns at once.
cat >"$T/secret.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: s1}
data: {username: dXNlcg==, password: c2VjcmV0c2VjcmV0}
YAML
B apply --wait --timeout 1s -f "$T/secret.yaml" >"$T/out5" 2>&1 || { cat "$T/out5"; die "wait on a Secret failed"; }
grep -q 'nodes ready' "$T/out5" && die "waited for a Secret"
echo "apply --wait: ok"
