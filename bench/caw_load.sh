#!/usr/bin/env bash
# bench/caw_load.sh - COMPARE AND WRITE (ESXi's ATS heartbeat) latency while
# the LUN is saturated with large reads and writes, tgt (tgtd) and
# bollard-target on 127.0.0.1 in the same run, identical backing files.
#
# bollard-bench-caw (bench/caw_probe.c) runs CAW_LOADERS sessions, each its
# own initiator, keeping CAW_DEPTH commands of CAW_KIB KiB in flight (half
# READ(16), half WRITE(16)), and one more session that issues a one-block
# COMPARE AND WRITE every 100 ms (and a PERSISTENT RESERVE IN after it),
# timing each. Goal (issue 4): CAW p99 < 50 ms, none over 1 s.
#
#   BENCH_SECONDS (default 20) per target; CAW_LOADERS (4), CAW_DEPTH (16),
#   CAW_KIB (1024); CAW_DIR: where the 1 GiB backing files live (default a
#   temporary directory under /tmp, i.e. the machine's disk, so the load
#   queues at a real device; /dev/shm measures the engine alone).
#   CAW_NICE (default 10): the probe (the initiators) runs at this nice
#   level. In production the initiators are other machines; here they
#   share this machine's cores with the target, and on a small box their
#   threads would otherwise starve the target's event loop and measure the
#   CPU scheduler rather than the target. Both targets get the same.
set -u
cd "$(dirname "$0")/.."
. tests/lib/common.sh
. bench/lib/peers.sh
SECS=${BENCH_SECONDS:-20}
BT=$BUILD/bollard-target
PROBE=$BUILD/bollard-bench-caw
command -v tgtd >/dev/null || { echo "tgtd (Debian tgt) missing"; exit 77; }
[ -x "$BT" ] || { echo "$BT not built"; exit 77; }
[ -x "$PROBE" ] || { echo "$PROBE not built"; exit 77; }
mk_tmp T
D=${CAW_DIR:-$T}
if [ -n "${CAW_DIR:-}" ]; then
	D=$(mktemp -d "$CAW_DIR/bollard-caw.XXXXXX")
	cleanup_add "rm -rf '$D'"
fi
fallocate -l 1G "$D/tgt.img" 2>/dev/null || truncate -s 1G "$D/tgt.img"
fallocate -l 1G "$D/bt.img" 2>/dev/null || truncate -s 1G "$D/bt.img"
IQN_T=iqn.2026-01.io.bollard.bench:caw-tgt
IQN_B=iqn.2026-01.io.bollard.bench:caw-bt
ARGS=(-n "${CAW_LOADERS:-4}" -q "${CAW_DEPTH:-16}" -k "${CAW_KIB:-1024}" -t "$SECS")

# --- tgt and bollard-target (bench/lib/peers.sh) ----------------------------
tgt_start "$IQN_T" "$D/tgt.img" 4000
bt_start BPORT "$IQN_B" "$D/bt.img" "$T/bt.log"
# The same daemon with its priority lane and bulk limit off (kernel/user/
# bdev.c), for the before/after figure; CAW_AB=0 skips it.
if [ "${CAW_AB:-1}" != 0 ]; then
	cp --sparse=always "$D/bt.img" "$D/bt0.img"
	bt_start NPORT "$IQN_B" "$D/bt0.img" "$T/bt0.log" BOLLARD_TARGET_NO_PRIO=1
fi

run() { # NAME URL -> prints the probe's lines prefixed, keeps them in $T/NAME
	timeout $((SECS + 60)) nice -n "${CAW_NICE:-10}" "$PROBE" "${ARGS[@]}" -i "iqn.2026-01.io.bollard.bench:$1" "$2" \
		>"$T/$1.out" 2>"$T/$1.err"
	local rc=$?
	sed "s/^/  $1 /" "$T/$1.out"
	[ $rc = 0 ] || { echo "  $1: probe failed (rc=$rc):"; sed 's/^/    /' "$T/$1.err"; }
	return $rc
}
field() { # FILE LINE KEY
	sed -n "s/^$2: .* $3=\([0-9.]*\).*/\1/p" "$1" | head -1
}

echo "CAW every 100 ms under ${CAW_LOADERS:-4} sessions x ${CAW_DEPTH:-16} x ${CAW_KIB:-1024} KiB (50% writes), ${SECS}s, backing in $D:"
ok=0
run tgt "iscsi://127.0.0.1:$TPORT/$IQN_T/1" || ok=1
[ "${CAW_AB:-1}" = 0 ] || run bollard-nolane "iscsi://127.0.0.1:$NPORT/$IQN_B/0" || ok=1
run bollard "iscsi://127.0.0.1:$BPORT/$IQN_B/0" || ok=1
[ $ok = 0 ] || exit 1
grep -q 'mode=rw' "$T/tgt.out" && echo "  note: tgt has no COMPARE AND WRITE (INVALID OPERATION CODE); its figure is a one-block READ(16) + WRITE(16) FUA, what an initiator without ATS does"
tp99=$(field "$T/tgt.out" caw p99_ms) bp99=$(field "$T/bollard.out" caw p99_ms)
tmax=$(field "$T/tgt.out" caw max_ms) bmax=$(field "$T/bollard.out" caw max_ms)
bover=$(field "$T/bollard.out" caw over_1s)
np99= nmax=
if [ -f "$T/bollard-nolane.out" ]; then
	np99=$(field "$T/bollard-nolane.out" caw p99_ms) nmax=$(field "$T/bollard-nolane.out" caw max_ms)
fi
tmib=$(awk '/^load:/ { split($2, r, "="); split($3, w, "="); print r[2] + w[2] }' "$T/tgt.out")
bmib=$(awk '/^load:/ { split($2, r, "="); split($3, w, "="); print r[2] + w[2] }' "$T/bollard.out")
awk -v tp="$tp99" -v bp="$bp99" -v tm="$tmax" -v bm="$bmax" -v bo="$bover" \
    -v tl="$tmib" -v bl="$bmib" -v nl="$np99" -v nm="$nmax" 'BEGIN {
	printf "  CAW p99: tgt %.2f ms, bollard %.2f ms; ratio tgt/bollard %.2f (higher is better)\n", tp, bp, (bp > 0) ? tp / bp : 0
	printf "  CAW max: tgt %.2f ms, bollard %.2f ms\n", tm, bm
	printf "  bulk throughput meanwhile: tgt %.1f MiB/s, bollard %.1f MiB/s; ratio bollard/tgt %.2f\n", tl, bl, (tl > 0) ? bl / tl : 0
	if (nl != "") printf "  bollard with its priority lane and bulk limit off: CAW p99 %.2f ms, max %.2f ms\n", nl, nm
	printf "  goal (p99 < 50 ms, none over 1 s): %s\n", (bp < 50 && bo == 0) ? "met" : "NOT met"
}'
