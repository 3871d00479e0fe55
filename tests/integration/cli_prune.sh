#!/usr/bin/env bash
# apply --prune -l key=value deletes stored objects carrying that label
# which the applied files no longer contain, and never touches anything
# without the label. Also: -l filters what apply applies; --prune without
# -l is refused; a prune that would orphan a reference is refused.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD

volume() { # name labels-flow
	cat <<YAML
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $1, labels: $2}
spec:
  cluster: c
  size: 64Mi
  backing: {type: file, path: $1.img}
  replication: none
YAML
}
{
	cat <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: c}
spec:
  nodes: [{name: n1, address: 127.0.0.1}]
YAML
} >"$T/cluster.yaml"
"$B" apply -f "$T/cluster.yaml" >/dev/null || die "apply cluster"

mkdir -p "$T/git" "$T/other"
{ volume a '{app: web}'; volume b '{app: web}'; volume c '{app: web}'; } >"$T/git/vols.yaml"
volume keep '{}' >"$T/other/keep.yaml"           # no label at all
volume db '{app: db}' >>"$T/other/keep.yaml"     # a different label value
"$B" apply -f "$T/other" >/dev/null || die "apply unlabelled"
"$B" apply -f "$T/git" --prune -l app=web >"$T/out" 2>&1 || die "first prune apply: $(cat "$T/out")"
grep -c ' created$' "$T/out" | grep -qx 3 || die "first apply: $(cat "$T/out")"
grep -q pruned "$T/out" && die "first apply pruned something: $(cat "$T/out")"

"$B" apply -f "$T/git" --prune >"$T/out" 2>&1 && die "--prune without -l was accepted"
grep -q 'requires a selector' "$T/out" || die "no explanation: $(cat "$T/out")"

# b leaves the files: it is pruned; keep and db stay.
{ volume a '{app: web}'; volume c '{app: web}'; } >"$T/git/vols.yaml"
"$B" apply -f "$T/git" --prune -l app=web --dry-run >"$T/out" 2>&1 || die "dry-run prune: $(cat "$T/out")"
grep -qx 'volume/b pruned (dry run)' "$T/out" || die "dry-run prune output: $(cat "$T/out")"
"$B" get volume b >/dev/null 2>&1 || die "dry-run prune deleted b"
"$B" diff -f "$T/git" --prune -l app=web >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || die "diff --prune exit $rc, want 1"
grep -q '^--- live/volume/b$' "$T/out" || die "diff --prune lacks the pruned object: $(cat "$T/out")"
"$B" apply -f "$T/git" --prune -l app=web >"$T/out" 2>&1 || die "prune apply: $(cat "$T/out")"
grep -qx 'volume/b pruned' "$T/out" || die "prune output: $(cat "$T/out")"
grep -qx 'volume/a unchanged' "$T/out" || die "prune output: $(cat "$T/out")"
"$B" get volume b >/dev/null 2>&1 && die "b still stored after prune"
"$B" get volume keep db a c >/dev/null || die "prune deleted something it must not"

# -l also filters what is applied
volume d '{app: other}' >>"$T/git/vols.yaml"
"$B" apply -f "$T/git" -l app=web >"$T/out" 2>&1 || die "apply -l: $(cat "$T/out")"
grep -q 'volume/d' "$T/out" && die "apply -l app=web applied volume d"

# A labelled Target referring to a pruned Volume it does not itself drop is
# refused, before anything is written.
cat >"$T/other/t.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t}
spec:
  cluster: c
  iqn: iqn.2026-11.io.bollard:t
  luns: [{lun: 0, volume: c}]
YAML
"$B" apply -f "$T/other/t.yaml" >/dev/null || die "apply target"
volume a '{app: web}' >"$T/git/vols.yaml"
"$B" apply -f "$T/git" --prune -l app=web >"$T/out" 2>&1 && die "prune of a referenced volume was accepted"
grep -q 'cannot prune volume/c: target/t still refers to it' "$T/out" || die "message: $(cat "$T/out")"
"$B" get volume c >/dev/null || die "refused prune still deleted c"
echo "cli_prune: ok"
