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

# --- tgt -------------------------------------------------------------------
TPORT=$(free_port)
CPORT=$((TPORT % 1000 + 3000))
tgtd -f -C "$CPORT" --iscsi "portal=127.0.0.1:$TPORT" >"$T/tgtd.log" 2>&1 &
TPID=$!
# tgtd ignores SIGTERM while targets exist: delete the target, then KILL.
cleanup_add "tgtadm -C $CPORT --lld iscsi --op delete --mode target --tid 1 >/dev/null 2>&1; kill -KILL $TPID 2>/dev/null"
for _ in $(seq 1 100); do
	tgtadm -C "$CPORT" --lld iscsi --op show --mode target >/dev/null 2>&1 && break
	sleep 0.05
done
tgtadm -C "$CPORT" --lld iscsi --op new --mode target --tid 1 -T "$IQN_T" || exit 1
tgtadm -C "$CPORT" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$D/tgt.img" || exit 1
tgtadm -C "$CPORT" --lld iscsi --op bind --mode target --tid 1 -I ALL || exit 1

# --- bollard-target --------------------------------------------------------
BPORT=$(free_port)
"$BT" -q --listen "127.0.0.1:$BPORT" --target "$IQN_B" --lun "0:$D/bt.img" \
	--nop-interval 0 >"$T/bt.log" 2>&1 &
BPID=$!
cleanup_add "kill -TERM $BPID 2>/dev/null; wait $BPID 2>/dev/null"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BPORT" || { echo "bollard-target did not start"; exit 1; }

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
