#!/usr/bin/env bash
# bench/cli_apply_get.sh - `bollard apply` and `get` of 1,000 objects against
# a real etcd (tests/lib/etcd.sh, tmpfs data dir).
#
# Objects: 1 Cluster, 500 replicated Volumes (minors allocated by apply),
# 499 Targets of one LUN each, in one directory of 10 files. Timed, each
# as one whole `build/bollard` process (start-up included):
#   apply (create)     first apply: 1,000 creates, in 8 transactions
#   apply (unchanged)  the same files again: reads and compares, no write
#   get volumes -o json, get targets (table)
# Goal: each under 1 s. Prints one line per figure and the ratio to goal.
set -u
cd "$(dirname "$0")/.."
export TOP=${TOP:-$PWD}
. "$TOP/tests/lib/common.sh"
[ -x "$BOLLARD" ] || { echo "cli_apply_get: $BOLLARD not built"; exit 1; }
[ -f "$TOP/tests/lib/etcd.sh" ] || { echo "cli_apply_get: tests/lib/etcd.sh missing"; exit 1; }
. "$TOP/tests/lib/etcd.sh"
etcd_start || { echo "cli_apply_get: cannot start etcd"; exit 1; }
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
NV=500 NT=499

mkdir -p "$T/objs"
cat >"$T/objs/00-cluster.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: bench, labels: {bench: "1"}}
spec:
  ha: pacemaker
  nodes: [{name: alpha, address: 10.0.0.1}, {name: bravo, address: 10.0.0.2}]
YAML
python3 - "$T/objs" "$NV" "$NT" <<'PY'
import sys
d, nv, nt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for part in range(5):
    with open(f"{d}/10-volumes-{part}.yaml", "w") as f:
        for i in range(part, nv, 5):
            f.write(f"""---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {{name: vol{i:04d}, labels: {{bench: "1"}}}}
spec:
  cluster: bench
  size: {1 + i % 64}Gi
  backing: {{type: lvm, vg: vg0}}
  replication: {{protocol: C}}
""")
    with open(f"{d}/20-targets-{part}.yaml", "w") as f:
        for i in range(part, nt, 5):
            f.write(f"""---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {{name: tgt{i:04d}, labels: {{bench: "1"}}}}
spec:
  cluster: bench
  iqn: iqn.2026-11.io.bollard:tgt{i:04d}
  luns: [{{lun: 0, volume: vol{i:04d}}}]
  acls: [{{initiator: "*"}}]
YAML_END""".replace("YAML_END", "\n"))
PY

now() { date +%s.%N; }
timed() { # label cmd... ; output to $T/last
	local t0 t1 label=$1
	shift
	t0=$(now)
	"$@" >"$T/last" 2>"$T/last.err" || { echo "cli_apply_get: '$*' failed:"; cat "$T/last.err"; exit 1; }
	t1=$(now)
	python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]:<28} {t*1000:8.1f} ms   ({t/1.0:.2f} of the 1 s goal)')" "$t0" "$t1" "$label"
}

echo "cli_apply_get: 1 Cluster + $NV Volumes + $NT Targets = $((1 + NV + NT)) objects, etcd $ETCD_URL"
timed "apply (create)" "$BOLLARD" apply -f "$T/objs"
n=$(grep -c ' created$' "$T/last")
[ "$n" = $((1 + NV + NT)) ] || { echo "cli_apply_get: only $n created"; exit 1; }
timed "apply (unchanged)" "$BOLLARD" apply -f "$T/objs"
n=$(grep -c ' unchanged$' "$T/last")
[ "$n" = $((1 + NV + NT)) ] || { echo "cli_apply_get: only $n unchanged"; exit 1; }
timed "get volumes -o json" "$BOLLARD" get volumes -o json
n=$(grep -c '"kind": "Volume"' "$T/last")
[ "$n" = "$NV" ] || { echo "cli_apply_get: get returned $n volumes"; exit 1; }
timed "get targets (table)" "$BOLLARD" get targets
timed "diff (no changes)" "$BOLLARD" diff -f "$T/objs"
echo "cli_apply_get: done"
