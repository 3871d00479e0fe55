#!/usr/bin/env bash
# bench/vm_iops.sh - 4 KiB random reads, 32 in flight (iscsi-perf -r -m 32
# -b 8), from the host through qemu's hostfwd, against bollard_target.ko and
# against LIO in the same guest boot (same 64 MiB tmpfs-backed LUN size):
# a warm-up of each, then module, LIO, LIO, module. Prints both mean IOPS
# figures and the ratio bollard/LIO.
#
# Under TCG the guest CPU is emulated: absolute figures are small and only
# the ratio in the same boot means anything. BENCH_SECS (default 20) is
# each run's length.
set -u
cd "$(dirname "$0")/.."
. tests/lib/common.sh
. tests/vm/lib/vm.sh
vm_require
command -v iscsi-perf >/dev/null || skip "iscsi-perf (libiscsi-bin) not installed"
SECS=${BENCH_SECS:-20}
vm_make kmod
vm_make "$BUILD/bollard"
mk_tmp T
IQN=iqn.2024-01.io.bollard:bench
LIQN=iqn.2003-01.org.linux-iscsi.vmguest:bench
cat >"$T/guest.sh" <<G
B=$BUILD/bollard
insmod $BUILD/kmod/bollard_target.ko || exit 1
dd if=/dev/urandom of=/tmp/disk.img bs=1M count=64 status=none
\$B target create $IQN && \$B target lun add $IQN 0 /tmp/disk.img &&
	\$B target acl add $IQN '*' && \$B target enable $IQN || exit 1
lio_setup $LIQN /tmp/lio.img 64 3261 || exit 1
dd if=/dev/urandom of=/tmp/lio.img bs=1M count=64 conv=notrunc status=none
vm_ready
vm_wait_stop
G
vm_start "$T/guest.sh" PORT_MOD PORT_LIO
vm_wait_ready 180

perf() { # URL NAME [SECS]: prints the IOPS of the run
	timeout -s KILL $((${3:-$SECS} + 60)) iscsi-perf -r -m 32 -b 8 -t "${3:-$SECS}" \
		-i iqn.1994-05.com.example.bollard:perf "$1" >"$T/$2.log" 2>&1
	# iscsi-perf ends with "iops average N (M MB/s)" over the whole run.
	tr '\r' '\n' <"$T/$2.log" | grep -oE 'iops average [0-9]+' | tail -n 1 | grep -oE '[0-9]+'
}
MURL=iscsi://127.0.0.1:$PORT_MOD/$IQN/0
LURL=iscsi://127.0.0.1:$PORT_LIO/$LIQN/0
# Under TCG the first run through a code path pays for translating it, and
# the host's load drifts: warm both up, then measure in ABBA order and
# average.
perf "$MURL" warm-mod 5 >/dev/null
perf "$LURL" warm-lio 5 >/dev/null
m1=$(perf "$MURL" mod1); l1=$(perf "$LURL" lio1)
l2=$(perf "$LURL" lio2); m2=$(perf "$MURL" mod2)
vm_stop
for v in m1 m2 l1 l2; do
	[ -n "${!v}" ] || { tail -n 5 "$T"/*.log; die "iscsi-perf gave no figure ($v)"; }
done
mod=$(( (m1 + m2) / 2 )); lio=$(( (l1 + l2) / 2 ))
echo "4k random read, 32 in flight, 2 x ${SECS} s each (ABBA), qemu TCG guest ($VM_KVER):"
printf '  %-22s %8s IOPS  (%s, %s)\n' "bollard_target.ko" "$mod" "$m1" "$m2" "LIO" "$lio" "$l1" "$l2"
awk -v m="$mod" -v l="$lio" 'BEGIN { printf "  ratio bollard/LIO    %8.2f\n", l ? m / l : 0 }'
