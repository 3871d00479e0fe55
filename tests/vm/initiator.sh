#!/usr/bin/env bash
# tests/vm/initiator.sh - the Linux initiator against the module, inside one
# guest over its loopback: open-iscsi (iscsid + iscsi_tcp) logs in to a
# target configured through generic netlink whose LUN is a brd RAM disk (the
# module's bio path: reads, writes, FUA, flushes, mkfs's discards), mkfs.ext4 on the disk, files
# written, unmounted, caches dropped, remounted and verified by checksum,
# rmmod refused while the session is live (the module keeps serving),
# logout, rmmod; login/logout events seen on the genl "events" group
# (genl_events.py). Fails on any step, a checksum mismatch or a kernel
# BUG/Oops/WARNING.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v iscsiadm >/dev/null && command -v iscsid >/dev/null || skip "open-iscsi not installed"
command -v mkfs.ext4 >/dev/null || skip "e2fsprogs not installed"
KO=$BUILD/kmod/bollard_target.ko
vm_make kmod
vm_make "$BUILD/bollard"
mk_tmp T
IQN=iqn.2024-01.io.bollard:vm-init
cat >"$T/guest.sh" <<G
set -u
B=$BUILD/bollard
fail() { echo "guest: FAIL: \$*"; dmesg | tail -30; exit 1; }
insmod $KO portals=127.0.0.1:3260 || fail insmod
# A brd RAM disk: the module's block device (bio) path.
modprobe brd rd_nr=1 rd_size=262144 || fail "brd"
\$B target create $IQN && \$B target lun add $IQN 0 /dev/ram0 &&
	\$B target portal add $IQN 127.0.0.1:3260 &&
	\$B target acl add $IQN '*' && \$B target enable $IQN || fail "configure"
vm_mod iscsi_tcp sd_mod ext4 || fail modules
echo "InitiatorName=iqn.1993-08.org.debian:01:vmguest" > /etc/iscsi/initiatorname.iscsi
mkdir -p /run/lock/iscsi /var/lib/iscsi
iscsid || fail "iscsid"
sleep 1
python3 $TOP/tests/vm/lib/genl_events.py 600 > /tmp/events 2>&1 &
for i in \$(seq 1 50); do grep -q joined /tmp/events && break; sleep 0.1; done
iscsiadm -m discovery -t sendtargets -p 127.0.0.1:3260 || fail discovery
iscsiadm -m node -T $IQN -p 127.0.0.1:3260 --login || fail login
dev=
for i in \$(seq 1 100); do
	for b in /sys/class/iscsi_session/session*/device/target*/*/block/*; do
		[ -e "\$b" ] && dev=/dev/\$(basename "\$b")
	done
	[ -n "\$dev" ] && [ -b "\$dev" ] && break
	sleep 0.2
done
[ -n "\$dev" ] && [ -b "\$dev" ] || fail "no disk after login"
echo "guest: disk \$dev (\$(blockdev --getsize64 \$dev) bytes)"
mkfs.ext4 -q -F \$dev || fail mkfs
mkdir -p /mnt/t && mount \$dev /mnt/t || fail mount
for i in 1 2 3 4; do dd if=/dev/urandom of=/mnt/t/f\$i bs=1M count=\$((i * 4)) status=none || fail "write f\$i"; done
(cd /mnt/t && sha256sum f*) > /tmp/sums
umount /mnt/t || fail umount
echo 3 > /proc/sys/vm/drop_caches
mount \$dev /mnt/t || fail remount
(cd /mnt/t && sha256sum -c /tmp/sums) || fail "checksums differ"
umount /mnt/t
# A live session pins the module: rmmod must refuse, and leave it working.
if rmmod bollard_target 2>/tmp/rmmod.err; then fail "rmmod succeeded with a live session"; fi
cat /tmp/rmmod.err
grep -q '^bollard_target ' /proc/modules || fail "module gone after a refused rmmod"
dd if=\$dev of=/dev/null bs=1M count=4 iflag=direct status=none || fail "read after refused rmmod"
iscsiadm -m node -T $IQN -p 127.0.0.1:3260 --logout || fail logout
sleep 1
rmmod bollard_target || fail rmmod
cat /tmp/events
grep -q "event type=1 iqn=$IQN initiator=iqn.1993-08.org.debian:01:vmguest" /tmp/events || fail "no login event on the genl events group"
grep -q "event type=2 iqn=$IQN" /tmp/events || fail "no logout event on the genl events group"
echo "guest: initiator round trip ok"
G
vm_run "$T/guest.sh" 600
rc=$(vm_guest_rc)
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: initiator round trip ok' "$VM_SHARE/guest.out" || die "guest did not finish"
grep -E 'guest: disk|OK$' "$VM_SHARE/guest.out"
echo "initiator: mkfs.ext4, 40 MiB written and verified through the Linux initiator"
