#!/usr/bin/env bash
# Applies larger than etcd's 128 operations per transaction: 1 Cluster +
# 150 replicated Volumes + 150 Targets are split into chunks (and say so),
# every object lands, minors are 0..149 without gaps or repeats, the
# re-apply is unchanged without a write, and delete -f removes them all.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD
N=150

rev() { etcdctl_t get /nonexistent -w json | grep -o '"revision":[0-9]*' | cut -d: -f2; }

mkdir -p "$T/site"
python3 - "$T/site" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(f"{d}/cluster.yaml", "w") as f:
    f.write("""apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: big}
spec:
  nodes: [{name: alpha, address: 10.0.0.1}, {name: bravo, address: 10.0.0.2}]
""")
with open(f"{d}/objects.yaml", "w") as f:
    for i in range(n):
        f.write(f"""---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {{name: t{i}}}
spec:
  cluster: big
  iqn: iqn.2026-11.io.bollard:t{i}
  luns: [{{lun: 0, volume: v{i}}}]
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {{name: v{i}}}
spec:
  cluster: big
  size: 1Gi
  backing: {{type: lvm, vg: vg0}}
  replication: {{protocol: C}}
""")
PY
"$B" apply -f "$T/site" >"$T/out" 2>"$T/err" || die "apply: $(cat "$T/err")"
[ "$(grep -c ' created$' "$T/out")" = $((2 * N + 1)) ] || die "not all created: $(grep -vc ' created$' "$T/out") other lines"
grep -q '^note: applied in [3-9] transactions' "$T/err" || die "no chunking note: $(cat "$T/err")"
# apply order: the cluster, then all volumes, then all targets
head -1 "$T/out" | grep -qx 'cluster/big created' || die "first line: $(head -1 "$T/out")"
sed -n 2p "$T/out" | grep -q '^volume/' || die "volumes do not come before targets"
tail -1 "$T/out" | grep -q '^target/' || die "targets do not come last"
"$B" get volumes -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
m = sorted(i["spec"]["replication"]["minor"] for i in items)
assert m == list(range(len(items))), m
' || die "minors are not 0..$((N - 1))"
r1=$(rev)
"$B" apply -f "$T/site" >"$T/out" 2>"$T/err" || die "re-apply: $(cat "$T/err")"
[ "$(grep -c ' unchanged$' "$T/out")" = $((2 * N + 1)) ] || die "re-apply not all unchanged"
[ "$(rev)" = "$r1" ] || die "unchanged re-apply moved the revision"
"$B" delete -f "$T/site" >"$T/out" 2>"$T/err" || die "delete -f: $(cat "$T/err")"
[ "$(grep -c ' deleted$' "$T/out")" = $((2 * N + 1)) ] || die "not all deleted"
[ "$(etcdctl_t get /bollard/v1/objects/ --prefix --keys-only | grep -c .)" = 0 ] || die "objects left after delete -f"
echo "cli_large: ok"
