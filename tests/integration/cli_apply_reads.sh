#!/usr/bin/env bash
# bollard apply reads only what the applied objects can depend on
# (store_load_for), and still checks everything it must:
#   - an unreadable stored object unrelated to the apply is never read
#     (no warning about it), while --prune, which reads everything, warns;
#   - a reference to a stored Volume is satisfied, a reference to a missing
#     one is refused (nothing written);
#   - a stored object's copy is found: re-applying it is "unchanged";
#   - replicated Volumes applied one at a time get distinct minors (the
#     allocation reads every Volume);
#   - a second Rollout over the same Target is still refused.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD
nkeys() { etcdctl_t get /bollard/v1/objects/ --prefix --keys-only | grep -c .; }

cat >"$T/base.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: c}
spec: {ha: none, nodes: [{name: a, address: 127.0.0.1}]}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v0}
spec: {cluster: c, size: 1Mi, backing: {type: file, path: /tmp/v0.img}, replication: none}
YAML
"$B" apply -f "$T/base.yaml" >/dev/null || die "apply base"
etcdctl_t put /bollard/v1/objects/Volume/junk 'not json' >/dev/null || die "etcdctl put"

# A Target using the stored Volume: no word about the unrelated junk.
cat >"$T/t.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t, labels: {app: x}}
spec:
  cluster: c
  iqn: iqn.2026-11.io.bollard:t
  luns: [{lun: 0, volume: v0}]
YAML
"$B" apply -f "$T/t.yaml" >"$T/out" 2>"$T/err" || { cat "$T/err"; die "apply target"; }
grep -qx 'target/t created' "$T/out" || die "apply output: $(cat "$T/out")"
grep -q junk "$T/err" && die "apply read an object it does not depend on: $(cat "$T/err")"
"$B" apply -f "$T/t.yaml" >"$T/out" 2>&1 || die "re-apply target"
grep -qx 'target/t unchanged' "$T/out" || die "re-apply not unchanged: $(cat "$T/out")"

# A missing Volume is still refused, and nothing is written.
n0=$(nkeys)
sed 's/volume: v0/volume: nope/; s/name: t,/name: t2,/; s/:t$/:t2/' "$T/t.yaml" >"$T/t2.yaml"
"$B" apply -f "$T/t2.yaml" >"$T/out" 2>&1 && die "dangling reference accepted"
grep -q nope "$T/out" || die "no error naming the missing Volume: $(cat "$T/out")"
[ "$(nkeys)" = "$n0" ] || die "a refused apply wrote keys"

# --prune reads everything: the unreadable value is reported there.
"$B" apply --prune -l app=x -f "$T/t.yaml" >"$T/out" 2>"$T/err" || die "apply --prune"
grep -q junk "$T/err" || die "--prune did not read every object: $(cat "$T/err")"

# Minors: each replicated Volume applied alone gets a distinct one.
for v in r1 r2; do
	cat >"$T/$v.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $v}
spec:
  cluster: c
  size: 1Mi
  backing: {type: lvm, vg: vg0}
  replication: {protocol: C}
YAML
	"$B" apply -f "$T/$v.yaml" >/dev/null 2>"$T/err" || { cat "$T/err"; die "apply $v"; }
done
m1=$("$B" get volume r1 -o json | sed -n 's/.*"minor": *\([0-9]*\).*/\1/p')
m2=$("$B" get volume r2 -o json | sed -n 's/.*"minor": *\([0-9]*\).*/\1/p')
[ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ] || die "minors r1=$m1 r2=$m2"

# Two Rollouts over the same Target: the second is refused.
for r in ro1 ro2; do
	cat >"$T/$r.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: $r}
spec:
  clusterSelector: {}
  objectSelector: {matchLabels: {app: x}}
YAML
done
"$B" apply -f "$T/ro1.yaml" >/dev/null 2>"$T/err" || { cat "$T/err"; die "apply ro1"; }
"$B" apply -f "$T/ro2.yaml" >"$T/out" 2>&1 && die "overlapping Rollout accepted"
grep -qi "ro1" "$T/out" || die "overlap error does not name the other Rollout: $(cat "$T/out")"
echo "cli_apply_reads: ok"
