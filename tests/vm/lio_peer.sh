#!/usr/bin/env bash
# tests/vm/lio_peer.sh - the peer figure: LIO (Linux's in-kernel target,
# fileio backstore, demo mode) in a guest, the iscsi-test-cu families of
# the VM tier run against it from the host through hostfwd. Prints
# "passed skipped failed" and the tests LIO does not pass.
#
# What can fail here: the boot, LIO's configuration, the login through the
# forwarded port, a kernel BUG/WARNING in the guest, iscsi-test-cu not
# running every test of the families (a crash or a cut-off run), or LIO
# failing the basic TestUnitReady/Inquiry/Read10/Write10 simple tests (then
# the guest, not LIO, is broken).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib.sh"
vm_require
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu (libiscsi-bin) not installed"
mk_tmp T
IQN=iqn.2003-01.org.linux-iscsi.vmguest:lio
cat >"$T/guest.sh" <<G
lio_setup $IQN /tmp/lio.img 64 3261 || exit 1
vm_ready
vm_wait_stop
G
# Guest port 3260 is the module's; LIO listens on 3261.
vm_start "$T/guest.sh" PORT_MOD PORT_LIO
vm_wait_ready 180
read -r pass skipped failed < <(cu_run "iscsi://127.0.0.1:$PORT_LIO/$IQN/0" "$T/lio")
vm_stop
total=$((pass + skipped + failed))
echo "LIO (Linux $VM_KVER, fileio 64 MiB) iscsi-test-cu [$VM_CU_FAMILIES]:"
echo "  passed $pass  skipped $skipped  failed $failed  (of $total)"
grep -v ' passed$' "$T/lio.tests" | sed 's/^/  /'
expect=$(cu_count_tests)
[ "$total" = "$expect" ] || { tail -30 "$T/lio.log"; die "iscsi-test-cu classified $total tests, the families have $expect"; }
for t in TestUnitReady.Simple Inquiry.Standard Read10.Simple Write10.Simple; do
	grep -qx "$t passed" "$T/lio.tests" || die "LIO did not pass $t: the guest setup is broken"
done
