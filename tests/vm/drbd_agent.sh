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
#   4. stop twice succeeds, monitor says 7;
#   5. promote's first try reads /proc/drbd instead of `drbdsetup status`
#      when every disk of the node is UpToDate. With a second resource r1
#      (minor 2, second disk) beside r0 (minor 1), and each of them in turn
#      Outdated while the other is UpToDate (so that reading one device
#      line, the first or the last, instead of all of them is caught):
#      promote of the Outdated one is refused by the agent itself (its
#      "not UpToDate: not promoted" reason, not DRBD's refusal), promote of
#      the UpToDate one works; with both UpToDate, promote (and promote of
#      a Primary) works and the only program the agent starts is drbdadm
#      (strace -f: the agent's direct children), and promote of r0 while
#      it is down, r1 UpToDate, fails with "r0 is not up".
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
truncate -s 64M "$T/disk" "$T/disk1"
cat >"$T/guest.sh" <<'G'
set -u
fail() { echo "guest: FAIL: $*"; drbdsetup status r0 2>&1; dmesg | grep -i drbd | tail -10; exit 1; }
hostname nodea
vm_mod crc32c_generic virtio_blk drbd || fail "modules"
for _ in $(seq 50); do [ -b /dev/vda ] && [ -b /dev/vdb ] && break; sleep 0.1; done
[ -b /dev/vda ] && [ -b /dev/vdb ] || fail "no /dev/vda or /dev/vdb"
mkdir -p /etc/drbd.d /var/lib/drbd
cat >/etc/drbd.conf <<EOC
global { usage-count no; }
resource r0 {
	net { protocol C; }
	on nodea { address 127.0.0.1:7790; volume 0 { device minor 1; disk /dev/vda; meta-disk internal; } }
	on nodeb { address 127.0.0.2:7790; volume 0 { device minor 1; disk /dev/vda; meta-disk internal; } }
}
resource r1 {
	net { protocol C; }
	on nodea { address 127.0.0.1:7791; volume 0 { device minor 2; disk /dev/vdb; meta-disk internal; } }
	on nodeb { address 127.0.0.2:7791; volume 0 { device minor 2; disk /dev/vdb; meta-disk internal; } }
}
EOC
for r in r0 r1; do
	drbdadm create-md $r </dev/null >/tmp/md.out 2>&1 || { cat /tmp/md.out; fail "create-md $r"; }
	drbdadm up $r || fail "up $r"
	drbdadm primary --force $r && drbdadm secondary $r || fail "initial primary --force $r"
	drbdadm down $r || fail "down $r"
done

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
echo "guest: stop: not running, no score"

# 5. promote's first try: /proc/drbd when it vouches for every disk.
# children RES: promote RES under strace -f; prints the programs the
# agent's own process started (one word per direct child: the basename of
# its first successful execve, or "subshell" for a fork that ran none),
# then the agent's exit status. strace may split a call across two lines
# ("<unfinished ...>" and "<... NAME resumed>"), so a clone's child pid is
# taken from whichever line ends with "= PID", and an execve's path from
# the last line of that pid naming one.
children() {
	OCF_RESKEY_drbd_resource=$1 strace -f -qq -e trace=execve,clone,clone3,fork,vfork \
		-o /tmp/promote.trace "$A" promote 2>>/tmp/agent.err
	rc=$?
	awk 'NR == 1 { agent = $1 }
	     $1 == agent && /(clone|clone3|fork|vfork)[( ]/ && / = [0-9]+$/ { kids[++n] = $NF }
	     $1 != agent && /execve\("/ { p = $0; sub(/^[^"]*"/, "", p); sub(/".*/, "", p); path[$1] = p }
	     $1 != agent && /execve/ && / = 0$/ && !($1 in prog) { q = path[$1]; sub(/.*\//, "", q); prog[$1] = q }
	     END { for (i = 1; i <= n; i++) printf "%s ", (kids[i] in prog) ? prog[kids[i]] : "subshell"; print "" }' \
		/tmp/promote.trace
	echo "rc=$rc"
}
role() { drbdsetup status "$1" --color=never 2>&1 | head -1; }
runr() { OCF_RESKEY_drbd_resource=$1 OCF_RESOURCE_INSTANCE=drbd-$1 "$A" "$2" 2>>/tmp/agent.err; echo $?; }
drbdadm up r0 && drbdadm up r1 || fail "up r0 r1"
# r0 (minor 1) is still Outdated from 3.; r1 (minor 2) is UpToDate.
: >/tmp/agent.err
[ "$(run promote)" = 1 ] || fail "promote of the Outdated r0 beside an UpToDate r1 must fail (1)"
grep -q 'not UpToDate: not promoted' /tmp/agent.err || { cat /tmp/agent.err; fail "r0 (minor 1) Outdated: not refused by the agent itself"; }
role r0 | grep -q 'role:Secondary' || fail "the Outdated r0 became Primary: $(role r0)"
[ "$(runr r1 promote)" = 0 ] || { cat /tmp/agent.err; fail "promote of the UpToDate r1 beside an Outdated r0"; }
role r1 | grep -q 'role:Primary' || fail "r1 not Primary after promote: $(role r1)"
[ "$(runr r1 demote)" = 0 ] || fail "demote r1"
echo "guest: r0 (minor 1) Outdated, r1 UpToDate: r0 refused by the agent, r1 promoted"

drbdadm primary --force r0 && drbdadm secondary r0 || fail "r0 back to UpToDate"
out=$(children r0)
echo "guest: promote r0, all UpToDate: started: $out"
[ "$out" = "drbdadm 
rc=0" ] || fail "promote r0 with every disk UpToDate: want only drbdadm and rc=0, got: $out"
role r0 | grep -q 'role:Primary' || fail "r0 not Primary after promote: $(role r0)"
out=$(children r0)
[ "$out" = "drbdadm 
rc=0" ] || fail "promote of the Primary r0: want only drbdadm and rc=0, got: $out"
role r0 | grep -q 'role:Primary' || fail "r0 not Primary after a second promote: $(role r0)"
[ "$(run demote)" = 0 ] || fail "demote r0"
echo "guest: every disk UpToDate: promote (and promote of a Primary) starts drbdadm only"

drbdadm outdate r1 || fail "drbdadm outdate r1"
: >/tmp/agent.err
[ "$(runr r1 promote)" = 1 ] || fail "promote of the Outdated r1 beside an UpToDate r0 must fail (1)"
grep -q 'not UpToDate: not promoted' /tmp/agent.err || { cat /tmp/agent.err; fail "r1 (minor 2) Outdated: not refused by the agent itself"; }
role r1 | grep -q 'role:Secondary' || fail "the Outdated r1 became Primary: $(role r1)"
[ "$(run promote)" = 0 ] || { cat /tmp/agent.err; fail "promote of the UpToDate r0 beside an Outdated r1"; }
[ "$(run demote)" = 0 ] || fail "demote r0"
echo "guest: r1 (minor 2) Outdated, r0 UpToDate: r1 refused by the agent, r0 promoted"

drbdadm primary --force r1 && drbdadm secondary r1 || fail "r1 back to UpToDate"
[ "$(run stop)" = 0 ] || fail "stop r0"
: >/tmp/agent.err
[ "$(run promote)" = 1 ] || fail "promote of r0 while it is down must fail (1)"
grep -q 'r0 is not up' /tmp/agent.err || { cat /tmp/agent.err; fail "promote of a down r0: no 'r0 is not up'"; }
grep -q . /proc/drbd && ! grep -q '^ 1:' /proc/drbd || fail "r0's minor 1 appeared: $(cat /proc/drbd)"
drbdadm down r1 || fail "down r1"
echo "guest: promote of a down r0 beside an UpToDate r1: 'r0 is not up'"
echo "guest: drbd agent ok"
G
VM_GUEST_VARS="AGENT" VM_QEMU_EXTRA="-drive file=$T/disk,if=virtio,format=raw,cache=none -drive file=$T/disk1,if=virtio,format=raw,cache=none" \
	vm_run "$T/guest.sh" 600
rc=$(vm_guest_rc)
grep -E '^guest: ' "$VM_SHARE/guest.out"
[ "$rc" = 0 ] || { cat "$VM_SHARE/guest.out"; die "guest script failed (rc=$rc)"; }
grep -q 'guest: drbd agent ok' "$VM_SHARE/guest.out" || die "guest did not finish"
echo "drbd agent: ocf-tester passed on DRBD 8.4; scores only for UpToDate; an Outdated disk is never promoted; promote's /proc/drbd first try: drbdadm only, each Outdated minor refused"
