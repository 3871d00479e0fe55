#!/usr/bin/env bash
# The OCF agent deploy/ocf/bollard-target against a real bollard-target:
# ocf-tester (Debian resource-agents) runs its compliance checks (meta-data,
# validate-all, start/stop idempotence, monitor exit codes), then the
# agent's own behaviour is checked: start enables a staged target, stop
# disables it (dropping sessions), monitor says 7 (not running) when the
# target is disabled or absent and 0 when enabled. A target whose LUN
# cannot be attached yet (its device missing here; on an appliance, a DRBD
# device not Primary yet, which the Pacemaker reconciler relies on: it does
# not order the start after the promote) is not enabled: start retries until
# it can be, and fails with the reason at its deadline, or at once (after a
# grace) when /proc/drbd shows the LUN's DRBD peer staying Primary.
. "$(dirname "$0")/../lib/common.sh"
command -v ocf-tester >/dev/null || skip "ocf-tester (resource-agents) not installed"
[ -d /usr/lib/ocf/lib/heartbeat ] || skip "OCF shell functions not installed"
mk_tmp T
PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
IQN=iqn.2026-11.io.bollard:ocf
TG() { "$BUILD/bollard" target --socket "$T/t.sock" "$@"; }
truncate -s 16M "$T/disk.img"
TG create $IQN || die create
TG lun add $IQN 0 "$T/disk.img" || die "lun add"
TG acl add $IQN '*' || die "acl add"

AGENT=$TOP/deploy/ocf/bollard-target
export OCF_ROOT=/usr/lib/ocf
ocf-tester -n bt -o iqn=$IQN -o socket="$T/t.sock" -o bollard="$BUILD/bollard" "$AGENT" \
	>"$T/ocf-tester.log" 2>&1
rc=$?
cat "$T/ocf-tester.log"
[ $rc = 0 ] || die "ocf-tester failed (rc=$rc)"

run() { # action -> exit code
	OCF_RESKEY_iqn=$IQN OCF_RESKEY_socket="$T/t.sock" OCF_RESKEY_bollard="$BUILD/bollard" \
		"$AGENT" "$1" >/dev/null 2>&1
	echo $?
}
[ "$(run stop)" = 0 ] || die "stop"
[ "$(run monitor)" = 7 ] || die "monitor of a disabled target must be 7"
[ "$(run start)" = 0 ] || die "start"
[ "$(run monitor)" = 0 ] || die "monitor of an enabled target must be 0"
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >/dev/null || die "not served after start"
[ "$(run stop)" = 0 ] || die "stop"
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >/dev/null 2>&1 && die "still served after stop"
[ "$(run stop)" = 0 ] || die "stop twice must succeed"
OCF_RESKEY_iqn=iqn.2026-11.io.bollard:absent OCF_RESKEY_socket="$T/t.sock" \
	OCF_RESKEY_bollard="$BUILD/bollard" "$AGENT" monitor >/dev/null 2>&1
[ $? = 7 ] || die "monitor of an absent target must be 7"
OCF_RESKEY_iqn=not-an-iqn "$AGENT" validate-all >/dev/null 2>&1
[ $? = 6 ] || die "validate-all of a bad iqn must be 6 (OCF_ERR_CONFIGURED)"

IQN2=iqn.2026-11.io.bollard:later
TG create $IQN2 || die "create $IQN2"
TG lun add $IQN2 0 "$T/later.img" || die "lun add $IQN2 (backing absent)"
run2() { # action [timeout-ms] -> exit code; stderr in $T/start2.err
	OCF_RESKEY_iqn=$IQN2 OCF_RESKEY_socket="$T/t.sock" OCF_RESKEY_bollard="$BUILD/bollard" \
		OCF_RESKEY_CRM_meta_timeout=${2:-60000} "$AGENT" "$1" >/dev/null 2>"$T/start2.err"
	echo $?
}
# Deadline: a 7 s action timeout leaves 2 s of tries (5 s margin).
[ "$(run2 start 7000)" = 1 ] || die "start of a target whose LUN cannot be attached must fail"
grep -q "ocf-exit-reason:enable $IQN2 failed for 2s" "$T/start2.err" ||
	{ cat "$T/start2.err"; die "no exit reason naming the deadline"; }
[ "$(run2 monitor)" = 7 ] || die "a failed start left $IQN2 enabled"
# A LUN on a DRBD minor whose peer stays Primary (a fake /proc/drbd, the
# grace cut to 300 ms): start fails well before its deadline, with
# bollard's reason and no claim of having waited it out. `timeout` turns a
# start that waits the full 55 s into a failure; no time is measured.
IQN3=iqn.2026-11.io.bollard:peerprimary
N=147
while [ -e /dev/drbd$N ]; do N=$((N + 1)); done
TG create $IQN3 || die "create $IQN3"
TG lun add $IQN3 0 /dev/drbd$N || die "lun add $IQN3 (staged, not opened)"
printf '%s: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n' $N >"$T/proc_drbd"
BOLLARD_PROC_DRBD="$T/proc_drbd" BOLLARD_DRBD_GRACE_MS=300 OCF_RESKEY_iqn=$IQN3 \
	OCF_RESKEY_socket="$T/t.sock" OCF_RESKEY_bollard="$BUILD/bollard" OCF_RESKEY_CRM_meta_timeout=60000 \
	timeout 30 "$AGENT" start >/dev/null 2>"$T/start3.err"
rc=$?
[ $rc = 1 ] || { cat "$T/start3.err"; die "start beside a peer that stays Primary: exit $rc, want 1 (OCF_ERR_GENERIC)"; }
grep -q "^ocf-exit-reason:enable $IQN3 failed: bollard target: enable: $IQN3: /dev/drbd$N is Secondary and its peer Primary for 300 ms .*; giving up$" \
	"$T/start3.err" || { cat "$T/start3.err"; die "no exit reason naming the DRBD device and its peer"; }
# The backing appears while start is retrying: start succeeds.
run2 start >"$T/start2.rc" &
SPID=$!
sleep 1
kill -0 $SPID 2>/dev/null || die "start returned before the LUN could be attached: $(cat "$T/start2.rc")"
truncate -s 16M "$T/later.img"
wait $SPID
[ "$(cat "$T/start2.rc")" = 0 ] || { cat "$T/start2.err"; die "start did not succeed once the LUN could be attached"; }
[ "$(run2 monitor)" = 0 ] || die "monitor after the delayed start must be 0"
echo "ocf agent: compliant; start/stop/monitor behave; start waits for an attachable LUN"
