#!/usr/bin/env bash
# bench/target_iops.sh - 4 KiB random reads, 32 in flight (iscsi-perf -r -m 32
# -b 8 on 512-byte blocks), against tgt (tgtd) and bollard-target on
# 127.0.0.1, same machine, same run, identical 256 MiB backing files.
# Prints IOPS for each and the ratio bollard/tgt. The goal is >= 2x.
#   BENCH_SECONDS (default 10) per target; BENCH_ROUNDS (default 1): the run
#   alternates tgt and bollard this many times and reports the averages.
set -u
cd "$(dirname "$0")/.."
. tests/lib/common.sh
. bench/lib/peers.sh
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-1}
BT=$BUILD/bollard-target
command -v iscsi-perf >/dev/null || { echo "iscsi-perf (libiscsi-bin) missing"; exit 77; }
command -v tgtd >/dev/null || { echo "tgtd (Debian tgt) missing"; exit 77; }
[ -x "$BT" ] || { echo "$BT not built"; exit 77; }
mk_tmp T
# tmpfs-backed files when /dev/shm has room: both targets then measure the
# protocol engine, not the disk.
D=$T
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 600000 ] 2>/dev/null; then
	D=$(mktemp -d /dev/shm/bollard-bench.XXXXXX)
	cleanup_add "rm -rf '$D'"
fi
head -c $((256 << 20)) /dev/urandom >"$D/tgt.img"
cp "$D/tgt.img" "$D/bt.img"
IQN_T=iqn.2026-01.io.bollard.bench:tgt
IQN_B=iqn.2026-01.io.bollard.bench:bt

# --- tgt and bollard-target (bench/lib/peers.sh) ----------------------------
tgt_start "$IQN_T" "$D/tgt.img" 3000
bt_start BPORT "$IQN_B" "$D/bt.img" "$T/bt.log"

perf() { # URL -> IOPS
	local out
	out=$(timeout $((SECS + 15)) iscsi-perf -r -m 32 -b 8 -t "$SECS" "$1" 2>&1 | tr '\r' '\n')
	grep -o 'iops average [0-9]*' <<<"$out" | tail -1 | awk '{print $3}'
}

sum_t=0 sum_b=0
for r in $(seq 1 "$ROUNDS"); do
	t=$(perf "iscsi://127.0.0.1:$TPORT/$IQN_T/1")
	b=$(perf "iscsi://127.0.0.1:$BPORT/$IQN_B/0")
	[ -n "$t" ] && [ -n "$b" ] || { echo "iscsi-perf produced no figure (tgt='$t' bollard='$b')"; exit 1; }
	echo "round $r: tgt $t IOPS, bollard-target $b IOPS"
	sum_t=$((sum_t + t)) sum_b=$((sum_b + b))
done
avg_t=$((sum_t / ROUNDS)) avg_b=$((sum_b / ROUNDS))
echo "4k random read, 32 in flight, ${SECS}s x $ROUNDS:"
echo "  tgt:            $avg_t IOPS"
echo "  bollard-target: $avg_b IOPS"
awk -v b="$avg_b" -v t="$avg_t" 'BEGIN { if (t > 0) printf "  ratio bollard/tgt: %.2f (goal >= 2.00)\n", b / t }'
