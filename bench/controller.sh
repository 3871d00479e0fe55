#!/usr/bin/env bash
# bench/controller.sh - the controller's figures (issue: Controller).
#   1. plan time for one changed LUN among 10,000 (pure plan(), in-process)
#   2. cold converge of N LUNs (default 10,000) into the userspace engine:
#      bollardd started on a fresh engine until the target's status is Ready
#   3. bollard apply -> live state converged, over 100 changes: p50 / p99
#      (and the CLI's start-up against /bin/true, which every figure of the
#      CLI includes)
#   4. controller RSS with N LUNs
# Volumes are 4 MiB sparse files (the engine keeps the last MiB of a LUN
# for persistent reservations). Goals: < 5 ms, < 10 s, p50 < 50 ms and p99 < 250 ms, < 30 MB.
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
		printf 'spec: {cluster: c, size: 4Mi, backing: {type: file, path: %s/b/v%d.img}, replication: none}\n' "$T" $i
	done
	printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: big}\n'
	printf 'spec:\n  cluster: c\n  iqn: iqn.2026-11.io.bollard:big\n  acls: [{initiator: "*"}]\n'
	# BENCH_PR_STORE=off: LUNs without the engine's persistent-reservation
	# store (each attach then does no I/O on the backing's tail).
	[ "${BENCH_PR_STORE:-on}" = off ] && printf '  features: {persistentReservations: false}\n'
	printf '  luns:\n'
	for i in $(seq 0 $((N - 1))); do printf '  - {lun: %d, volume: v%d}\n' $i $i; done
} >"$T/big.yaml"
for i in $(seq 0 $((N - 1))); do : >"$T/b/v$i.img"; done
truncate -s 4M "$T"/b/*.img 2>/dev/null || for f in "$T"/b/*.img; do truncate -s 4M "$f"; done
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
# BOLLARD_MEMLOG=1: bollardd logs its memory at each phase (memlog.h), so
# the peak of the start-up listing can be told from the reconciles'.
BOLLARD_MEMLOG=1 "$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T" --target-socket "$T/t.sock" \
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
listed=$(awk '/MEM listed / {for (i = 1; i < NF; i++) if ($i == "hwm") {print $(i + 1); exit}}' "$T/ctl.log")
echo "controller RSS at $N LUNs: $(mem VmRSS) idle (anonymous $(mem RssAnon), mapped files $(mem RssFile)); peak during a full reconcile $(mem VmHWM) (goal < 30 MB; peak by the end of the start-up listing ${listed:-?} MB)"

# apply -> converged, on a small target next to the 10,000-LUN one.
# Three figures, so the controller's share is not hidden by the CLI's:
#   a. the controller alone: bollard-bench-converge puts the Target with
#      the etcd client library and stops the clock at the engine's LUN
#      change event (no process start-up anywhere in the measurement);
#   b. `bollard apply` alone (one process: start-up, reads, transaction);
#   c. end to end: from the start of `bollard apply` to the engine showing
#      the new ACL, polled every 2 ms with `bollard target show` (which
#      adds one more CLI start-up of resolution);
#   d. end to end as a user gets it: `bollard apply --wait`, from its start
#      to its exit, which is when bollardd's status says Ready at the new
#      generation (then the engine is checked once: it must show the ACL).
small_target() { # INITIATOR...: the small Target allowing these initiators
	local acls=() a
	for a in "$@"; do acls+=("{initiator: \"$a\"}"); done
	cat <<YAML
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: small}
spec:
  cluster: c
  iqn: iqn.2026-11.io.bollard:small
  luns: [{lun: 0, volume: small}]
  acls: [$(IFS=,; echo "${acls[*]}")]
YAML
}
{
	cat <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: small}
spec: {cluster: c, size: 4Mi, backing: {type: file, path: $T/b/v0.img}, replication: none}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: small1}
spec: {cluster: c, size: 4Mi, backing: {type: file, path: $T/b/v1.img}, replication: none}
---
YAML
	small_target '*'
} >"$T/small.yaml"
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/small.yaml" >/dev/null
small_up() { "$BUILD/bollard" target --socket "$T/t.sock" show iqn.2026-11.io.bollard:small -o json | grep -q '"lun": 0'; }
wait_for 30 small_up || { echo "small target never served"; exit 1; }
"$BUILD/bollard-bench-converge" --etcd "$ETCD_URL" --socket "$T/t.sock" --target small \
	--volume small1 --changes "$CHANGES" | sed 's/^/controller alone: /' || echo "probe failed"
pctl() { # file: "p50 X ms, p99 Y ms"
	sort -n "$1" >"$1.s"
	awk '{v[NR] = $1} END {i = int(NR * 0.5 + 0.5); j = int(NR * 0.99 + 0.5); if (j < 1) j = 1; if (i < 1) i = 1;
		printf "p50 %d ms, p99 %d ms", v[i], v[j]}' "$1.s"
}
# acl_changes TAG [apply flags...]: $CHANGES applies of the small Target, the
# i-th adding the ACL iqn.2026-11.io.bench:TAG<i>. Per change, the ms from the
# start of `bollard apply` to its exit go to $T/TAG.apply and to the engine
# showing the new ACL (polled every 2 ms with `bollard target show`) to
# $T/TAG.seen; $behind counts the changes the engine lacked when apply returned.
engine_has() { "$BUILD/bollard" target --socket "$T/t.sock" show iqn.2026-11.io.bollard:small -o json 2>/dev/null |
	grep -q "bench:$1\""; }
acl_changes() {
	local tag=$1 i t0 polls
	shift
	: >"$T/$tag.apply"
	: >"$T/$tag.seen"
	behind=0
	for i in $(seq 1 "$CHANGES"); do
		small_target '*' "iqn.2026-11.io.bench:$tag$i" >"$T/acl.yaml"
		t0=$(date +%s%N)
		"$BUILD/bollard" --etcd "$ETCD_URL" apply "$@" -f "$T/acl.yaml" >/dev/null ||
			{ echo "apply $* failed at change $i"; exit 1; }
		echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$T/$tag.apply"
		polls=0
		until engine_has "$tag$i"; do polls=$((polls + 1)); sleep 0.002; done
		echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$T/$tag.seen"
		[ "$polls" -eq 0 ] || behind=$((behind + 1))
	done
}
acl_changes init
echo "bollard apply alone over $CHANGES changes ($((N + 4)) objects stored): $(pctl "$T/init.apply")"
echo "apply -> converged end to end over $CHANGES changes: $(pctl "$T/init.seen") (goals 50 / 250 ms; apply + polling with target show)"
acl_changes wait --wait --timeout 30s
echo "apply --wait end to end over $CHANGES changes: $(pctl "$T/wait.apply") (goals 50 / 250 ms; engine lacked the change on return: $behind times)"
# Start-up of the CLI, which every figure above pays once or twice, next to
# /bin/true and bollard-target (no etcd client) on this machine now.
startup() { # cmd...: median ms of 50 runs
	for k in $(seq 50); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - t0) / 1000 ))
	done | sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[int(NR / 2) + 1] / 1000}'
}
echo "start-up (median of 50): bollard version $(startup "$BUILD/bollard" version) ms," \
	"/bin/true $(startup /bin/true) ms, bollard-target --help $(startup "$BUILD/bollard-target" --help) ms;" \
	"bollard maps $(ldd "$BUILD/bollard" | wc -l) shared objects"
