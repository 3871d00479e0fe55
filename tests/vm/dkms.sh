#!/usr/bin/env bash
# tests/vm/dkms.sh - install bollard_target.ko the Debian way (DKMS) and load
# the installed module in a VM running the kernel it was built for.
#
# `make kmod-dist` produces the DKMS source tree (deploy/dkms/dkms.conf with
# the version filled in). Here Debian's dkms runs add, build and install
# against the VM kernel's headers, with --dkmstree/--sourcetree/--installtree
# pointing into a temp dir so the host's /var/lib/dkms and /lib/modules are
# left alone. depmod then indexes the install tree, and the guest loads the
# module with `modprobe -d` from it: the same lookup a user's `modprobe
# bollard_target` does after `dkms install`. Fails if any DKMS step fails,
# the module is not where DEST_MODULE_LOCATION says, its version is not the
# tree's, or it does not load/serve/unload in the guest.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v dkms >/dev/null || skip "dkms not installed (make deps)"
KDIR=/lib/modules/$VM_KVER/build
[ -d "$KDIR" ] || skip "no headers for $VM_KVER ($KDIR; install linux-headers-amd64)"
vm_make kmod-dist
SRC=$(ls -td "$BUILD"/dkms/bollard-target-* 2>/dev/null | head -n 1)
[ -n "$SRC" ] && [ -f "$SRC/dkms.conf" ] || die "make kmod-dist left no DKMS tree in $BUILD/dkms"
VER=${SRC##*/bollard-target-}
grep -q "^PACKAGE_VERSION=\"$VER\"" "$SRC/dkms.conf" || die "dkms.conf has no PACKAGE_VERSION $VER"

mk_tmp T
mkdir -p "$T/src" "$T/tree" "$T/root/lib/modules/$VM_KVER"
cp -r "$SRC" "$T/src/"
D=(--dkmstree "$T/tree" --sourcetree "$T/src" --installtree "$T/root/lib/modules"
   -m bollard-target -v "$VER" -k "$VM_KVER")
for step in add build install; do
	if ! dkms "$step" "${D[@]}" >"$T/dkms-$step.log" 2>&1; then
		tail -30 "$T/dkms-$step.log"
		tail -30 "$T/tree/bollard-target/$VER/build/make.log" 2>/dev/null
		die "dkms $step failed"
	fi
done
dkms status --dkmstree "$T/tree" -m bollard-target -v "$VER" -k "$VM_KVER" >"$T/status" 2>&1
grep -q "installed" "$T/status" || { cat "$T/status"; die "dkms status does not say installed"; }
KO=$T/root/lib/modules/$VM_KVER/updates/dkms/bollard_target.ko
[ -f "$KO" ] || die "dkms install did not put the module at updates/dkms (DEST_MODULE_LOCATION)"
# The package version is the module's (git describe) with DKMS-unsafe
# characters turned into dots (kernel/linux/linux.mk KMOD_DIST_VER).
MODVER=$(modinfo -F version "$KO")
[ "$(echo "$MODVER" | tr -c 'A-Za-z0-9.\n' '.')" = "$VER" ] ||
	die "installed module version $MODVER does not match package $VER"
[ "$(modinfo -F vermagic "$KO" | cut -d' ' -f1)" = "$VM_KVER" ] || die "installed module is not built for $VM_KVER"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	cp "/lib/modules/$VM_KVER/$f" "$T/root/lib/modules/$VM_KVER/" 2>/dev/null || :
done
depmod -b "$T/root" "$VM_KVER" || die "depmod of the install tree failed"
grep -q 'updates/dkms/bollard_target.ko' "$T/root/lib/modules/$VM_KVER/modules.dep" ||
	die "depmod did not index the installed module"
echo "dkms: add/build/install ok ($VER for $VM_KVER)"

cat >"$T/guest.sh" <<G
set -e
modprobe -d $T/root bollard_target
grep -q '^bollard_target ' /proc/modules
[ "\$(cat /sys/module/bollard_target/version)" = "$MODVER" ]
genl ctrl get name bollard_target | grep -q 'events'
$BOLLARD target create iqn.2026-01.io.bollard.test:dkms
$BOLLARD target show | grep -q 'iqn.2026-01.io.bollard.test:dkms'
$BOLLARD target delete iqn.2026-01.io.bollard.test:dkms
modprobe -d $T/root -r bollard_target
if grep -q '^bollard_target ' /proc/modules; then echo "still loaded"; exit 1; fi
echo "guest: dkms module ok"
G
vm_run "$T/guest.sh" 300
rc=$(vm_guest_rc)
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: dkms module ok' "$VM_SHARE/guest.out" || die "guest did not finish"
echo "dkms: the DKMS-installed module loads, serves genl and unloads in the VM"
