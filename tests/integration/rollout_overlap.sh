#!/usr/bin/env bash
# Two Rollouts that govern the same object are refused at apply time, with a
# clear error, and nothing of that apply is written.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
cat >"$T/base.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: c1, labels: {tier: gold}}
spec: {ha: none, nodes: [{name: n1, address: 127.0.0.1}]}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v1}
spec: {cluster: c1, size: 1Mi, backing: {type: file, path: /tmp/v1.img}, replication: none}
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t1, labels: {app: db}}
spec: {cluster: c1, iqn: "iqn.2026-11.io.bollard:t1", luns: [{lun: 0, volume: v1}]}
---
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: first}
spec:
  clusterSelector: {matchLabels: {tier: gold}}
  objectSelector: {matchLabels: {app: db}}
YAML
cat >"$T/second.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: second}
spec:
  clusterSelector: {matchLabels: {tier: gold}}
  objectSelector: {matchLabels: {app: db}}
YAML
cat >"$T/other.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: other}
spec:
  clusterSelector: {matchLabels: {tier: gold}}
  objectSelector: {matchLabels: {app: web}}
YAML
B apply -f "$T/base.yaml" >/dev/null || die "base apply"
B apply -f "$T/second.yaml" >"$T/out" 2>&1; rc=$?
cat "$T/out"
[ $rc = 1 ] || die "an overlapping Rollout was accepted (rc=$rc)"
grep -q "already governed by rollout" "$T/out" || die "no clear error"
B get rollout second >/dev/null 2>&1 && die "the refused Rollout was stored"
B apply -f "$T/other.yaml" >/dev/null || die "a disjoint Rollout was refused"
echo "rollout overlap: refused with a clear error; disjoint rollouts accepted"
