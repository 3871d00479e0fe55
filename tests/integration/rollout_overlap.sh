#!/usr/bin/env bash
# Two Rollouts that govern the same object (a Target, a Volume) are refused
# at apply time, with a clear error, and nothing of that apply is written.
# So are Targets of two Rollouts that use one Secret on one node (the node
# would serve one generation of it for both): whichever apply makes the
# second use, the Rollout's or the Target's, is refused.
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

# A Volume governed by two rollouts: "first" governs app=db objects, and a
# third rollout selecting tier=store Volumes would govern v2 too.
cat >"$T/v2.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v2, labels: {app: db, tier: store}}
spec: {cluster: c1, size: 1Mi, backing: {type: file, path: /tmp/v2.img}, replication: none}
YAML
cat >"$T/store.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: store}
spec:
  clusterSelector: {matchLabels: {tier: gold}}
  objectSelector: {matchLabels: {tier: store}}
YAML
B apply -f "$T/v2.yaml" >/dev/null || die "v2 apply"
B apply -f "$T/store.yaml" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || { cat "$T/out"; die "a Rollout overlapping on a Volume was accepted (rc=$rc)"; }
grep -q "volume/v2 is already governed by rollout first" "$T/out" ||
	{ cat "$T/out"; die "no clear error for the Volume"; }
B get rollout store >/dev/null 2>&1 && die "the refused Rollout was stored"

# One Secret on one node, Targets of two rollouts: t1 (rollout first) and
# t3 (rollout other, app=web) both use Secret chap on node n1.
cat >"$T/chap.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: chap}
data: {username: esx, password: a-long-chap-secret}
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t1, labels: {app: db}}
spec: {cluster: c1, iqn: "iqn.2026-11.io.bollard:t1", luns: [{lun: 0, volume: v1}],
       auth: {chapSecretRef: chap}}
YAML
cat >"$T/t3.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t3, labels: {app: web}}
spec: {cluster: c1, iqn: "iqn.2026-11.io.bollard:t3",
       acls: [{initiator: "iqn.1998-01.com.vmware:esx1", chapSecretRef: chap}]}
YAML
B apply -f "$T/chap.yaml" >/dev/null || die "chap apply (one rollout uses it: allowed)"
B apply -f "$T/t3.yaml" >"$T/out" 2>&1; rc=$?
[ $rc = 1 ] || { cat "$T/out"; die "a Secret shared on a node by two rollouts' Targets was accepted (rc=$rc)"; }
grep -q "secret/chap is used on node n1 by target/t1 (rollout first) and by target/t3 (rollout other)" "$T/out" ||
	{ cat "$T/out"; die "no clear error for the shared Secret"; }
B get target t3 >/dev/null 2>&1 && die "the refused Target was stored"
echo "rollout overlap: refused with a clear error (Target, Volume, a Secret shared on a node); disjoint rollouts accepted"
