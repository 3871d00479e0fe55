#!/usr/bin/env bash
# tests/vm/conformance.sh - bollard_target.ko and LIO side by side in one
# guest, the same iscsi-test-cu families (VM_CU_FAMILIES in lib/vm.sh) run
# from the host against each through hostfwd, counts printed side by side.
#
#   module: guest port 3260, configured through generic netlink with
#           `bollard target` (no --socket), LUN 0 = 64 MiB file in tmpfs
#   LIO:    guest port 3261, fileio backstore of the same size, demo mode
#
# Fails on: boot or setup failure, a kernel BUG/Oops/WARNING, a cut-off
# iscsi-test-cu run, any test the module fails that is not listed with its
# reason in tests/vm/conformance.known (the goal: that list is empty and
# everything in the families really passes), the module not unloading
# afterwards. LIO's figure is the peer and is only printed.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu (libiscsi-bin) not installed"
KO=$BUILD/kmod/bollard_target.ko
# kernel/linux/linux.mk prefixes BUILD with $(CURDIR) for kbuild's M=, so
# the module is built with BUILD relative to the top when it lies below it
# (vm_make passes the absolute path).
( cd "$TOP" && make --no-print-directory BUILD="${BUILD#"$TOP"/}" kmod ) >"$BUILD/kmod-conformance.log" 2>&1 ||
	{ tail -25 "$BUILD/kmod-conformance.log"; die "make kmod failed"; }
vm_make "$BUILD/bollard"
mk_tmp T
IQN=iqn.2024-01.io.bollard:vm
LIQN=iqn.2003-01.org.linux-iscsi.vmguest:lio
cat >"$T/guest.sh" <<G
B=$BUILD/bollard
insmod $KO || exit 1
truncate -s 64M /tmp/disk.img
\$B target create $IQN && \$B target lun add $IQN 0 /tmp/disk.img &&
	\$B target acl add $IQN '*' && \$B target enable $IQN || exit 1
lio_setup $LIQN /tmp/lio.img 64 3261 || exit 1
vm_ready
vm_wait_stop
\$B target sessions
# Every initiator logged out: the module must unload.
sleep 1
rmmod bollard_target || { echo "guest: rmmod failed"; exit 1; }
G
vm_start "$T/guest.sh" PORT_MOD PORT_LIO
vm_wait_ready 180
s0=$SECONDS
read -r mp ms mf < <(cu_run "iscsi://127.0.0.1:$PORT_MOD/$IQN/0" "$T/mod")
s1=$SECONDS
read -r lp ls lf < <(cu_run "iscsi://127.0.0.1:$PORT_LIO/$LIQN/0" "$T/lio")
s2=$SECONDS
vm_stop
# Keep the raw logs for a look (build output, not part of the tree).
mkdir -p "$BUILD/vm"
for f in mod lio; do cp "$T/$f.log" "$BUILD/vm/conformance-$f.log"; cp "$T/$f.tests" "$BUILD/vm/conformance-$f.tests"; done
cp "$VM_SHARE/dmesg" "$BUILD/vm/conformance-dmesg.log" 2>/dev/null
echo "iscsi-test-cu wall time: module $((s1 - s0)) s, LIO $((s2 - s1)) s (logs in $BUILD/vm/conformance-*)"
rc=$(vm_guest_rc)
expect=$(cu_count_tests)
printf '%-28s %8s %8s %8s %8s\n' "iscsi-test-cu ($expect tests)" passed skipped failed total
printf '%-28s %8d %8d %8d %8d\n' "bollard_target.ko" "$mp" "$ms" "$mf" $((mp + ms + mf))
printf '%-28s %8d %8d %8d %8d\n' "LIO $VM_KVER" "$lp" "$ls" "$lf" $((lp + ls + lf))
echo "bollard_target.ko, not passed:"
grep -v ' passed$' "$T/mod.tests" | sed 's/^/  /'
join -a1 -a2 -e - -o 0,1.2,2.2 <(sort "$T/mod.tests") <(sort "$T/lio.tests") |
	awk '$2 != $3 { if (!h++) print "differences (test module LIO):"; print "  " $0 }'
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
[ $((mp + ms + mf)) = "$expect" ] || { tail -30 "$T/mod.log"; die "module run classified $((mp + ms + mf)) of $expect tests"; }
[ $((lp + ls + lf)) = "$expect" ] || { tail -30 "$T/lio.log"; die "LIO run classified $((lp + ls + lf)) of $expect tests"; }
# Known failures (tests/vm/conformance.known, each with its reason) are
# reported; any other failure fails the test.
known=$(grep -vE '^#|^ *$' "$TOP/tests/vm/conformance.known" | awk '{ print $1 }')
new=$(awk '$2 == "failed" { print $1 }' "$T/mod.tests" | grep -vxF -f <(echo "$known") || true)
fixed=$(echo "$known" | grep -xF -f <(awk '$2 == "passed" { print $1 }' "$T/mod.tests") || true)
[ -z "$fixed" ] || { echo "known failures that pass now (remove them from conformance.known):"; echo "$fixed" | sed 's/^/  /'; }
if [ -n "$(echo "$known" | grep .)" ] && [ "$mf" -gt 0 ]; then
	echo "known failures ($(echo "$known" | grep -c .) listed in tests/vm/conformance.known, with reasons)"
fi
[ -z "$new" ] || die "bollard_target.ko failed tests not in conformance.known: $(echo $new)"
