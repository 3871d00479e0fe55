#!/usr/bin/env bash
# bench/controller.sh - the controller's figures (issue: Controller).
#   1. plan time for one changed LUN among 10,000 (pure plan(), in-process)
#   2. cold converge of N LUNs (default 10,000) into the userspace engine:
#      bollardd started on a fresh engine until the target's status is Ready
#   3. bollard apply -> live state converged, over 100 changes: p50 / p99
#   4. controller RSS with N LUNs
# Goals: < 5 ms, < 10 s, p50 < 50 ms and p99 < 250 ms, < 30 MB.
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
N=${BENCH_LUNS:-10000}
CHANGES=${BENCH_CHANGES:-100}

"$BUILD/bollard-bench-plan" "$N" || echo "plan bench failed"

mk_tmp T
etcd_start
ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$T/b"
{
	printf 'apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\n'
	printf 'spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}\n'
	for i in $(seq 0 $((N - 1))); do
		printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Volume\nmetadata: {name: v%d}\n' $i
		printf 'spec: {cluster: c, size: 1Mi, backing: {type: file, path: %s/b/v%d.img}, replication: none}\n' "$T" $i
	done
	printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: big}\n'
	printf 'spec:\n  cluster: c\n  iqn: iqn.2026-11.io.bollard:big\n  acls: [{initiator: "*"}]\n  luns:\n'
	for i in $(seq 0 $((N - 1))); do printf '  - {lun: %d, volume: v%d}\n' $i $i; done
} >"$T/big.yaml"
for i in $(seq 0 $((N - 1))); do : >"$T/b/v$i.img"; done
truncate -s 1M "$T"/b/*.img 2>/dev/null || for f in "$T"/b/*.img; do truncate -s 1M "$f"; done
t0=$(date +%s.%N)
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/big.yaml" >/dev/null || { echo "apply of $N LUNs failed"; exit 1; }
echo "apply: $(echo "$(date +%s.%N) - $t0" | bc) s for $((N + 2)) objects"

PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || { echo "bollard-target did not start"; exit 1; }
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/big/local; }
t0=$(date +%s.%N)
"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T" --target-socket "$T/t.sock" \
	--only target >"$T/ctl.log" 2>&1 &
CPID=$!
cleanup_add "kill $CPID 2>/dev/null; wait $CPID 2>/dev/null"
ready() { status | grep -q '"reason":"Converged","status":"True","type":"Ready"'; }
if wait_for 300 ready; then
	echo "cold converge: $(echo "$(date +%s.%N) - $t0" | bc) s for $N LUNs (goal < 10 s)"
else
	echo "cold converge: did not converge in 300 s"; tail -5 "$T/ctl.log"; exit 1
fi
# RSS once the loop is idle (the status write above comes from the last
# reconcile; the parsed objects are dropped when the queue drains, a moment
# later), and the peak (VmHWM): a full reconcile of the 10,000-LUN target
# parses every Volume and the engine's dump.
sleep 2
mem() { awk -v k="$1:" '$1 == k {printf "%.1f MB", $2/1024}' /proc/$CPID/status; }
echo "controller RSS at $N LUNs: $(mem VmRSS) idle (anonymous $(mem RssAnon), mapped files $(mem RssFile)); peak during a full reconcile $(mem VmHWM) (goal < 30 MB)"

# apply -> converged, one ACL change at a time on a small target next to the
# 10,000-LUN one, measured at the engine: from the start of `bollard apply`
# (the CLI's own start-up, ~0.1-0.3 s of loading gRPC, is included) to the
# engine showing the new ACL (polled every 2 ms with `bollard target show`,
# which adds one CLI start-up of resolution).
cat >"$T/small.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: small}
spec: {cluster: c, size: 1Mi, backing: {type: file, path: $T/b/v0.img}, replication: none}
YAML
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/small.yaml" >/dev/null
lat=()
for i in $(seq 1 "$CHANGES"); do
	cat >"$T/acl.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: small}
spec:
  cluster: c
  iqn: iqn.2026-11.io.bollard:small
  luns: [{lun: 0, volume: small}]
  acls: [{initiator: "*"}, {initiator: "iqn.2026-11.io.bench:init$i"}]
YAML
	t0=$(date +%s%N)
	"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/acl.yaml" >/dev/null
	until "$BUILD/bollard" target --socket "$T/t.sock" show iqn.2026-11.io.bollard:small -o json 2>/dev/null |
		grep -q "bench:init$i\""; do sleep 0.002; done
	lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
printf '%s\n' "${lat[@]}" | sort -n >"$T/lat"
p50=$(awk -v n="${#lat[@]}" 'NR == int(n * 0.5 + 0.5) {print}' "$T/lat")
p99=$(awk -v n="${#lat[@]}" 'NR == int(n * 0.99 + 0.5) {print}' "$T/lat")
echo "apply -> converged over ${#lat[@]} changes (small target; $N LUNs on another): p50 ${p50} ms, p99 ${p99} ms (goals 50 / 250 ms; includes two CLI start-ups)"
