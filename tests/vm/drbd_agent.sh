#!/usr/bin/env bash
# tests/vm/drbd_agent.sh - the OCF agent deploy/ocf/bollard-drbd
# (ocf:bollard:drbd) against a real DRBD 8.4 (Debian's in-kernel drbd.ko)
# in one qemu guest; the host has no DRBD module, so this cannot run there.
#
# In the guest: a DRBD resource r0 on a virtio disk whose peer never
# answers (WFConnection), made UpToDate once with `primary --force` (the
# operator's initial-sync decision), then taken down. The promotion score
# goes to a CIB file (CIB_file, with a node_state for nodea: crm_attribute
# writes transient attributes into the status section there), so the
# scores the agent sets are read back with the real crm_attribute.
#   1. ocf-tester (resource-agents): meta-data, validate-all, probes,
#      start/stop idempotence, promote/demote (and again), monitor codes;
#   2. scores: 1000 for UpToDate, Secondary or Primary (promote and the
#      Promoted monitor leave it alone), stopped none;
#   3. an Outdated disk (drbdadm outdate): monitor deletes the score and
#      promote fails, the resource staying Secondary (never forced);
#   4. stop twice succeeds, monitor says 7.
# Fails on any step or on a kernel BUG/Oops/WARNING.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
vm_require
command -v ocf-tester >/dev/null || skip "ocf-tester (resource-agents) not installed"
command -v crm_attribute >/dev/null || skip "crm_attribute (pacemaker-cli-utils) not installed"
command -v drbdadm >/dev/null || skip "drbdadm (drbd-utils) not installed"
[ -e "/lib/modules/$VM_KVER/kernel/drivers/block/drbd/drbd.ko" ] ||
	skip "no drbd.ko for $VM_KVER"
# Not under /tmp: the guest has its own tmpfs there. A snapshot of the
# agent (the guest reads it through the host root share).
T=$(mktemp -d "$BUILD/vm-drbd-agent.XXXXXX") || die "mktemp"
cleanup_add "rm -rf '$T'"
chmod 755 "$T"
AGENT=$T/bollard-drbd
cp "$TOP/deploy/ocf/bollard-drbd" "$AGENT"
truncate -s 64M "$T/disk"
cat >"$T/guest.sh" <<'G'
set -u
fail() { echo "guest: FAIL: $*"; drbdsetup status r0 2>&1; dmesg | grep -i drbd | tail -10; exit 1; }
hostname nodea
vm_mod crc32c_generic virtio_blk drbd || fail "modules"
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
[ -b /dev/vda ] || fail "no /dev/vda"
mkdir -p /etc/drbd.d /var/lib/drbd
cat >/etc/drbd.conf <<EOC
global { usage-count no; }
resource r0 {
	net { protocol C; }
	on nodea { address 127.0.0.1:7790; volume 0 { device minor 1; disk /dev/vda; meta-disk internal; } }
	on nodeb { address 127.0.0.2:7790; volume 0 { device minor 1; disk /dev/vda; meta-disk internal; } }
}
EOC
drbdadm create-md r0 </dev/null >/tmp/md.out 2>&1 || { cat /tmp/md.out; fail "create-md"; }
drbdadm up r0 || fail "up"
drbdadm primary --force r0 && drbdadm secondary r0 || fail "initial primary --force"
drbdadm down r0 || fail "down"

# The CIB file crm_attribute writes the promotion score into.
cat >/tmp/cib.xml <<EOC
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes><node id="1" uname="nodea"/></nodes><resources/><constraints/></configuration>
  <status><node_state id="1" uname="nodea" in_ccm="true" crmd="online" join="member" expected="member"/></status>
</cib>
EOC
export CIB_file=/tmp/cib.xml OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=drbd-r0
export OCF_RESKEY_CRM_meta_on_node=nodea
score() { crm_attribute -N nodea -n master-drbd-r0 -l reboot -G -q 2>/dev/null || echo none; }
A=$AGENT
ocf-tester -n drbd-r0 -o drbd_resource=r0 "$A" >/tmp/ocf-tester.log 2>&1
rc=$?
cat /tmp/ocf-tester.log
[ $rc = 0 ] || fail "ocf-tester (rc=$rc)"
echo "guest: ocf-tester passed"

run() { OCF_RESKEY_drbd_resource=r0 "$A" "$1" 2>>/tmp/agent.err; echo $?; }
# A recurring monitor writes the score only when it changed (the agent
# remembers the last one it wrote); a probe (interval 0) always writes.
rmon() { OCF_RESKEY_CRM_meta_interval=31000 run monitor; }
[ "$(run monitor)" = 7 ] || fail "monitor after ocf-tester must be 7"
[ "$(run start)" = 0 ] || fail "start"
[ "$(run monitor)" = 0 ] || fail "monitor of a started Secondary must be 0"
[ "$(score)" = 1000 ] || fail "UpToDate Secondary: score $(score), want 1000"
[ "$(run promote)" = 0 ] || fail "promote"
drbdsetup status r0 | grep -q 'role:Primary' || fail "not Primary after promote"
[ "$(rmon)" = 8 ] || fail "monitor of the Primary must be 8"
[ "$(score)" = 1000 ] || fail "Primary: score $(score), want 1000"
[ "$(run demote)" = 0 ] || fail "demote"
[ "$(score)" = 1000 ] || fail "after demote: score $(score), want 1000"
echo "guest: scores: Secondary 1000, Primary 1000"

drbdadm outdate r0 || fail "drbdadm outdate"
drbdsetup status r0 | grep -q 'disk:Outdated' || fail "disk not Outdated"
[ "$(rmon)" = 0 ] || fail "monitor of an Outdated Secondary must be 0"
[ "$(score)" = none ] || fail "Outdated: score $(score), want none"
[ "$(run promote)" = 1 ] || fail "promote of an Outdated disk must fail (1)"
drbdsetup status r0 | grep -q 'role:Secondary' || fail "an Outdated disk became Primary"
grep -q 'not UpToDate: not promoted' /tmp/agent.err || fail "no exit reason for the refused promote"
echo "guest: an Outdated disk: no score, promote refused"

[ "$(run stop)" = 0 ] || fail "stop"
[ "$(run monitor)" = 7 ] || fail "monitor of a stopped resource must be 7"
[ "$(run stop)" = 0 ] || fail "stop twice"
[ "$(score)" = none ] || fail "stopped: score $(score), want none"
echo "guest: drbd agent ok"
G
VM_GUEST_VARS="AGENT" VM_QEMU_EXTRA="-drive file=$T/disk,if=virtio,format=raw,cache=none" \
	vm_run "$T/guest.sh" 600
rc=$(vm_guest_rc)
grep -E '^guest: ' "$VM_SHARE/guest.out"
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: drbd agent ok' "$VM_SHARE/guest.out" || die "guest did not finish"
echo "drbd agent: ocf-tester passed on DRBD 8.4; scores only for UpToDate; an Outdated disk is never promoted"
