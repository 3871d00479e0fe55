#!/usr/bin/env bash
# tests/vm/badpdu.sh - malformed iSCSI from the host (tests/vm/lib/badpdu.py:
# garbage, impossible lengths, truncated headers, resets, 50 parallel
# half-logins, commands before login) against bollard_target.ko in a guest.
# Passes when the guest kernel logged no BUG/Oops/WARNING, a proper login
# (iscsi-inq) still works afterwards, and the module unloads (no connection
# or thread left behind).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v python3 >/dev/null || skip "python3 not installed"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"
vm_make kmod
vm_make "$BUILD/bollard"
mk_tmp T
IQN=iqn.2024-01.io.bollard:vm-bad
cat >"$T/guest.sh" <<G
B=$BUILD/bollard
insmod $BUILD/kmod/bollard_target.ko || exit 1
truncate -s 16M /tmp/disk.img
\$B target create $IQN && \$B target lun add $IQN 0 /tmp/disk.img &&
	\$B target acl add $IQN '*' && \$B target enable $IQN || exit 1
vm_ready
vm_wait_stop
for i in \$(seq 1 50); do
	rmmod bollard_target 2>/dev/null && { echo "guest: unloaded"; exit 0; }
	sleep 0.2
done
echo "guest: rmmod still refused after 10 s:"; rmmod bollard_target
\$B target sessions
exit 1
G
vm_start "$T/guest.sh" PORT_MOD
vm_wait_ready 180
python3 "$TOP/tests/vm/lib/badpdu.py" 127.0.0.1 "$PORT_MOD" "$IQN" || die "badpdu.py failed"
timeout 60 iscsi-inq "iscsi://127.0.0.1:$PORT_MOD/$IQN/0" >"$T/inq" 2>&1 ||
	{ cat "$T/inq"; vm_stop; die "the target no longer answers a proper login"; }
grep -q 'Vendor:BOLLARD' "$T/inq" || { cat "$T/inq"; die "unexpected INQUIRY answer"; }
vm_stop
rc=$(vm_guest_rc)
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
echo "badpdu: target survived every case, a proper login works after, the module unloads"
