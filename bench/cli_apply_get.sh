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

# timed LABEL RUNS CMD...: run CMD RUNS times (output of the last run in
# $T/last), print the median wall time and the median CPU time (user+sys of
# the process and its threads). CPU time shows the work itself when the
# machine is loaded by other jobs; wall time is the goal's measure.
timed() {
	python3 - "$T/last" "$@" <<'PY' || { echo "cli_apply_get: '${*:3}' failed:"; cat "$T/last.err"; exit 1; }
import os, resource, statistics, subprocess, sys, time
out, label, runs, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
walls, cpus = [], []
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(out, "w") as f, open(out + ".err", "w") as e:
        rc = subprocess.call(cmd, stdout=f, stderr=e)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(1)
    walls.append(t1 - t0)
    cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
w, c = statistics.median(walls), statistics.median(cpus)
print(f"{label:<22} {w*1000:7.1f} ms wall  {c*1000:6.1f} ms cpu  "
      f"(median of {runs}; {w:.2f} of the 1 s goal)")
PY
}

echo "cli_apply_get: 1 Cluster + $NV Volumes + $NT Targets = $((1 + NV + NT)) objects, etcd $ETCD_URL"
timed "apply (create)" 1 "$BOLLARD" apply -f "$T/objs"
n=$(grep -c ' created$' "$T/last")
[ "$n" = $((1 + NV + NT)) ] || { echo "cli_apply_get: only $n created"; exit 1; }
timed "apply (unchanged)" 5 "$BOLLARD" apply -f "$T/objs"
n=$(grep -c ' unchanged$' "$T/last")
[ "$n" = $((1 + NV + NT)) ] || { echo "cli_apply_get: only $n unchanged"; exit 1; }
timed "get volumes -o json" 5 "$BOLLARD" get volumes -o json
n=$(grep -c '"kind": "Volume"' "$T/last")
[ "$n" = "$NV" ] || { echo "cli_apply_get: get returned $n volumes"; exit 1; }
timed "get targets (table)" 5 "$BOLLARD" get targets
timed "diff (no changes)" 5 "$BOLLARD" diff -f "$T/objs"
echo "cli_apply_get: done"
