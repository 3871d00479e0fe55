#!/usr/bin/env bash
# tests/vm/boot.sh - boot Debian's kernel, insmod bollard_target.ko, check it
# registered its generic netlink family and listens on its default portal,
# rmmod it, power off. Fails on a load or unload error or any kernel
# BUG/Oops/WARNING (lib/vm.sh checks the console and the guest's dmesg).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
KO=$BUILD/kmod/bollard_target.ko
vm_make kmod
[ -e "$KO" ] || die "no $KO after make kmod"
mk_tmp T
cat >"$T/guest.sh" <<G
set -e
insmod $KO
grep -q '^bollard_target ' /proc/modules
genl ctrl get name bollard_target | grep -q 'events'
ss -ltn | grep -q ':3260 '
rmmod bollard_target
if grep -q '^bollard_target ' /proc/modules; then echo "still loaded"; exit 1; fi
if ss -ltn | grep -q ':3260 '; then echo "port 3260 still open"; exit 1; fi
# Load again: the exit path left nothing behind (genl family, port).
insmod $KO portals=127.0.0.1:3260
ss -ltn | grep -q '127.0.0.1:3260 '
rmmod bollard_target
echo "guest: insmod/rmmod ok"
G
vm_run "$T/guest.sh" 300
rc=$(vm_guest_rc)
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: insmod/rmmod ok' "$VM_SHARE/guest.out" || die "guest did not finish"
echo "boot: insmod/rmmod clean"
