#!/usr/bin/env bash
# Concurrent applies never lose an update: two processes modify the same
# Volume N times each, in parallel, every apply a real spec change; the
# final generation must be 1 + 2N. And two processes creating Volumes in
# the same cluster in parallel never get the same DRBD minor.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD
N=15

cluster() {
	cat <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: ha}
spec:
  nodes: [{name: alpha, address: 10.0.0.1}, {name: bravo, address: 10.0.0.2}]
YAML
}
volume() { # name sizeMi
	cat <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $1}
spec:
  cluster: ha
  size: ${2}Mi
  backing: {type: lvm, vg: vg0}
  replication: {protocol: C}
YAML
}

cluster >"$T/cluster.yaml"
"$B" apply -f "$T/cluster.yaml" >/dev/null || die "apply cluster"
volume shared 10 >"$T/v0.yaml"
"$B" apply -f "$T/v0.yaml" >/dev/null || die "apply shared volume"

writer() { # id base
	local i f
	for ((i = 1; i <= N; i++)); do
		f=$T/w$1.$i.yaml
		volume shared $(($2 + i)) >"$f"
		"$B" apply -f "$f" >"$T/w$1.$i.out" 2>&1 || { echo "writer $1 apply $i failed" >&2; cat "$T/w$1.$i.out" >&2; return 1; }
		grep -qx 'volume/shared configured' "$T/w$1.$i.out" || { echo "writer $1: $(cat "$T/w$1.$i.out")" >&2; return 1; }
	done
}
# Widen the window between read and compare-and-swap so the two writers
# really race (without it, process start-up dominates and they rarely do).
export BOLLARD_TEST_APPLY_PAUSE_MS=40
writer 1 1000 & p1=$!
writer 2 2000 & p2=$!
wait $p1 || die "writer 1 failed"
wait $p2 || die "writer 2 failed"
gen=$("$B" get volume shared -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])')
[ "$gen" = $((1 + 2 * N)) ] || die "generation $gen after $((2 * N)) changes from 1: an update was lost"

creator() { # id
	local i
	for ((i = 1; i <= 8; i++)); do
		volume "c$1-$i" 64 >"$T/c$1.$i.yaml"
		"$B" apply -f "$T/c$1.$i.yaml" >/dev/null 2>"$T/c$1.$i.err" || { cat "$T/c$1.$i.err" >&2; return 1; }
	done
}
export BOLLARD_TEST_APPLY_PAUSE_MS=60
creator 1 & p1=$!
creator 2 & p2=$!
wait $p1 || die "creator 1 failed"
wait $p2 || die "creator 2 failed"
"$B" get volumes -o json >"$T/vols.json" || die "get volumes"
python3 - "$T/vols.json" <<'PY' || die "duplicate or missing minors"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
minors = [i["spec"]["replication"]["minor"] for i in items]
assert len(items) == 17, len(items)
assert len(set(minors)) == len(minors), sorted(minors)
assert sorted(minors) == list(range(17)), sorted(minors)
PY
echo "cli_concurrent: ok"
