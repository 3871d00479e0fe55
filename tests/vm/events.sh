#!/usr/bin/env bash
# tests/vm/events.sh - `bollard target events` and the ALUA attributes over
# generic netlink, inside one guest: the CLI (no --socket) subscribes to the
# module's "events" multicast group, then a target is created, a LUN added
# (lun-change), libiscsi's iscsi-inq logs in and out over the guest's
# loopback (login, logout) and reads VPD 83h; `bollard target set` moves
# the target's ALUA state to standby with a peer group and `bollard target
# show` reads it back from the module. Fails when an event is missing, on
# any step, or on a kernel BUG/Oops/WARNING.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"
KO=$BUILD/kmod/bollard_target.ko
# kernel/linux/linux.mk prefixes BUILD with $(CURDIR) for kbuild's M=, so
# the module is built with BUILD relative to the top when it lies below it
# (vm_make passes the absolute path).
( cd "$TOP" && make --no-print-directory BUILD="${BUILD#"$TOP"/}" kmod ) >"$BUILD/kmod-events.log" 2>&1 ||
	{ tail -25 "$BUILD/kmod-events.log"; die "make kmod failed"; }
vm_make "$BUILD/bollard"
mk_tmp T
IQN=iqn.2024-01.io.bollard:vm-events
cat >"$T/guest.sh" <<G
set -u
B=$BUILD/bollard
fail() { echo "guest: FAIL: \$*"; cat /tmp/ev.out /tmp/ev.err 2>/dev/null; dmesg | tail -20; exit 1; }
insmod $KO portals=127.0.0.1:3260 || fail insmod
\$B target events > /tmp/ev.out 2> /tmp/ev.err &
ev=\$!
for i in \$(seq 1 100); do grep -q subscribed /tmp/ev.err && break; sleep 0.1; done
grep -q subscribed /tmp/ev.err || fail "bollard target events did not subscribe"
truncate -s 16M /tmp/disk.img
\$B target create $IQN && \$B target lun add $IQN 0 /tmp/disk.img &&
	\$B target acl add $IQN '*' && \$B target enable $IQN || fail configure
iscsi-inq -e 1 -c 131 iscsi://127.0.0.1:3260/$IQN/0 > /tmp/vpd83 || fail "iscsi-inq"
grep -q 'TARGET_PORT_GROUP' /tmp/vpd83 || fail "no target port group designator in VPD 83h"
\$B target set $IQN aluaGroup=2 aluaPeerGroup=1 aluaPeerState=activeOptimized aluaState=standby || fail "set alua"
\$B target show $IQN | tee /tmp/show
grep -q 'ALUA: *group 2 standby, peer group 1 activeOptimized' /tmp/show || fail "ALUA state not read back"
if \$B target set $IQN aluaState=offline 2>/dev/null; then fail "offline accepted"; fi
# the logout event may trail the command that caused it
for i in \$(seq 1 50); do grep -q '^logout ' /tmp/ev.out && break; sleep 0.1; done
kill -INT \$ev; wait \$ev
echo "guest: events:"; cat /tmp/ev.out
grep -q "^lun-change target=$IQN .*lun=0 " /tmp/ev.out || fail "no lun-change event"
grep -q "^login target=$IQN initiator=iqn" /tmp/ev.out || fail "no login event"
grep -q "^logout target=$IQN " /tmp/ev.out || fail "no logout event"
\$B target delete $IQN || fail delete
rmmod bollard_target || fail rmmod
echo "guest: events ok"
G
vm_run "$T/guest.sh" 300
rc=$(vm_guest_rc)
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: events ok' "$VM_SHARE/guest.out" || die "guest did not finish"
grep -E '^(login|logout|lun-change) ' "$VM_SHARE/guest.out"
echo "events: lun-change, login, logout seen by bollard target events over genl; ALUA attributes set and read back"
