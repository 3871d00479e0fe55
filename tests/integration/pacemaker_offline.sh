#!/usr/bin/env bash
# tests/integration/pacemaker_offline.sh - the Pacemaker reconciler against
# the real Pacemaker tools, offline (no cluster running):
#   1. every golden pcmk case's would-be CIB passes crm_verify, and a broken
#      one does not (the check can fail);
#   2. crm_simulate on the new-target CIBs: both nodes up, promotion score on
#      nodea -> the target group runs on nodea, where DRBD is promoted; nodea
#      fails -> the group moves to nodeb; in both transitions the target's
#      start and its service address's run beside the promote, not after it
#      (transition graph: the target's start waits for Primary itself);
#      nodea back with the same promotion score -> the role stays on nodeb;
#      nodeb in standby -> the role moves back, and nodeb's demote waits for
#      the target's stop there;
#   3. apply for real with cibadmin on a CIB file (CIB_file), then re-plan:
#      nothing left to do; changes (added IP, deleted target, ha none) converge
#      too and foreign elements survive all of it;
#   4. fault injection: BOLLARD_FAULT=apply:N stops half way; the next
#      reconcile finishes the job.
. "$(dirname "$0")/../lib/common.sh"

for t in crm_verify crm_simulate cibadmin crm_attribute crm_resource; do
	command -v $t >/dev/null || skip "$t not installed (pacemaker-cli-utils)"
done
DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
PLANS=$TOP/tests/plans
AGENT=$TOP/deploy/ocf/bollard-target
[ -x "$AGENT" ] || skip "deploy/ocf/bollard-target missing"
mk_tmp T

# --- 1. crm_verify on every would-be CIB --------------------------------------
n=0
for dir in "$PLANS"/pcmk-*/; do
	c=$(basename "$dir")
	if "$DRV" --payload cib/configuration/validate pacemaker "$dir" > "$T/$c.xml" 2>"$T/err"; then
		crm_verify --xml-file "$T/$c.xml" >"$T/verify.out" 2>&1 ||
			{ cat "$T/verify.out"; die "$c: crm_verify rejected the would-be CIB"; }
		n=$((n + 1))
	fi
done
[ $n -ge 5 ] || die "only $n cases had a validate step"
echo "ok: crm_verify accepted $n would-be CIBs"
# The check can fail: a constraint naming a resource that is not there.
sed 's/with-rsc="bollard-drbd-db-clone"/with-rsc="bollard-nothing"/' \
	"$T/pcmk-new-target.xml" > "$T/broken.xml"
if crm_verify --xml-file "$T/broken.xml" >/dev/null 2>&1; then
	die "crm_verify accepted a CIB with a dangling reference"
fi
echo "ok: crm_verify rejects a broken CIB"

# --- 2. simulated failover ------------------------------------------------------
# group_node FILE GROUP: the node every member of GROUP is Started on ("" if
# they are not all started on one node).
group_node() {
	crm_simulate -x "$1" 2>/dev/null | awk -v g="$2" '
		/^ *\* (Clone Set|Resource Group)/ { ing = ($0 ~ ("Resource Group: " g ":$")); next }
		ing && /^ *\* / && /Started/ { nodes[$NF]++; total++; next }
		ing && /^ *\* / { total++; bad = 1 }
		END { if (bad || total == 0) exit; for (n in nodes) if (nodes[n] == total) print n }'
}
# after DOT ACTION: every action ACTION (an action key prefix, e.g.
# bollard-t1-ip-0_start_0) waits for in crm_simulate's graph (-D), directly
# or not.
after() {
	awk -v a="$2" -F'"' '
		/->/ { n++; from[n] = $2; to[n] = $4 }
		END {
			for (i = 1; i <= n; i++) if (index(to[i], a) == 1) want[to[i]] = 1
			do {
				grew = 0
				for (i = 1; i <= n; i++)
					if ((to[i] in want) && !(from[i] in want)) { want[from[i]] = 1; grew = 1 }
			} while (grew)
			for (k in want) if (index(k, a) != 1) print k
		}' "$1"
}
# beside_promote CASE LOG DOT RSC NODE TARGET: RSC was promoted on NODE in
# the transition (LOG), and TARGET's start does not wait for any promote in
# its graph (DOT): it runs beside it, its agent waiting for a Primary
# (reconcilers/pacemaker.c says why).
beside_promote() {
	grep -q "Resource action: *$4 *promote on $5" "$2" ||
		{ cat "$2"; die "$1: $4 was not promoted on $5"; }
	[ -z "$(after "$3" "$6"_start_0 | grep "_promote_0")" ] ||
		{ cat "$3"; die "$1: $6's start on $5 waits for a promote"; }
}
simulate() { # case group drbd-primitive target-primitive
	local c=$1 g=$2 d=$3 tg=$4 x=$T/sim-$1
	cp "$T/$c.xml" "$x.0.xml"
	crm_simulate -x "$x.0.xml" -S -u nodea -u nodeb -O "$x.1.xml" > "$x.1.log" 2>&1 ||
		die "$c: crm_simulate (nodes up) failed"
	CIB_file=$x.1.xml crm_attribute -N nodea -n "master-$d" -v 10000 -l reboot ||
		die "$c: crm_attribute nodea"
	CIB_file=$x.1.xml crm_attribute -N nodeb -n "master-$d" -v 5000 -l reboot ||
		die "$c: crm_attribute nodeb"
	crm_simulate -x "$x.1.xml" -S -O "$x.2.xml" -D "$x.2.dot" > "$x.2.log" 2>&1 ||
		die "$c: crm_simulate (promote) failed"
	[ "$(group_node "$x.2.xml" "$g")" = nodea ] ||
		{ crm_simulate -x "$x.2.xml"; die "$c: $g is not running on nodea"; }
	beside_promote "$c" "$x.2.log" "$x.2.dot" "$d" nodea "$tg"
	# A failed start of the target on nodeb at 12:00:00 (the fail-count
	# and last-failure attributes the controller writes for one) bans it
	# there (start-failure-is-fatal); the group's failure-timeout (60 s)
	# lifts the ban: nodea failing 30 s later leaves the group stopped,
	# 5 minutes later moves it to nodeb.
	cp "$x.2.xml" "$x.f1.xml"
	CIB_file=$x.f1.xml crm_attribute -N nodeb -n "fail-count-$tg#start_0" -v INFINITY -l reboot &&
		CIB_file=$x.f1.xml crm_attribute -N nodeb -n "last-failure-$tg#start_0" \
			-v "$(date -u -d '2026-01-01 12:00:00' +%s)" -l reboot ||
		die "$c: crm_attribute (failed start)"
	crm_simulate -x "$x.f1.xml" -S -t "2026-01-01 12:00:30" --node-fail nodea \
		-O "$x.f2.xml" > "$x.f2.log" 2>&1 || die "$c: crm_simulate (node-fail at +30 s) failed"
	[ "$(group_node "$x.f2.xml" "$g")" != nodeb ] ||
		{ cat "$x.f2.log"; die "$c: $g went to nodeb 30 s after its start failed there"; }
	crm_simulate -x "$x.f1.xml" -S -t "2026-01-01 12:05:00" --node-fail nodea \
		-O "$x.f3.xml" > "$x.f3.log" 2>&1 || die "$c: crm_simulate (node-fail at +5 min) failed"
	[ "$(group_node "$x.f3.xml" "$g")" = nodeb ] ||
		{ cat "$x.f3.log"; die "$c: $g not on nodeb 5 min after its start failed there (failure-timeout)"; }
	crm_simulate -x "$x.2.xml" -S --node-fail nodea -O "$x.3.xml" -D "$x.3.dot" > "$x.3.log" 2>&1 ||
		die "$c: crm_simulate (node-fail) failed"
	[ "$(group_node "$x.3.xml" "$g")" = nodeb ] ||
		{ crm_simulate -x "$x.3.xml"; die "$c: $g did not move to nodeb"; }
	# In the failover's transition graph neither the target's start nor
	# the service address's waits for the promote: they run beside it.
	beside_promote "$c" "$x.3.log" "$x.3.dot" "$d" nodeb "$tg"
	[ -z "$(after "$x.3.dot" "$g-ip-0_start_0" | grep "_promote_0")" ] ||
		{ cat "$x.3.dot"; die "$c: $g-ip-0's start waits for the promote"; }
	# nodea comes back (fenced, so with no resource history) and its
	# disk is UpToDate again: ocf:bollard:drbd gives both nodes the same
	# score (1000 whatever the role, so a promotion changes no attribute
	# and aborts no transition); the role must stay on nodeb.
	python3 - "$x.3.xml" "$x.4.xml" <<'PY' || die "$c: could not drop nodea's history"
import sys
s = open(sys.argv[1]).read()
a = s.index('<node_state id="1"')
b = s.index('</node_state>', a) + len('</node_state>')
open(sys.argv[2], 'w').write(s[:a] + s[b:])
PY
	crm_simulate -x "$x.4.xml" -S -u nodea -O "$x.5.xml" > "$x.5.log" 2>&1 ||
		die "$c: crm_simulate (nodea back) failed"
	for n in nodea nodeb; do
		CIB_file=$x.5.xml crm_attribute -N $n -n "master-$d" -v 1000 -l reboot ||
			die "$c: crm_attribute $n"
	done
	crm_simulate -x "$x.5.xml" -S -O "$x.6.xml" > "$x.6.log" 2>&1 &&
		crm_simulate -x "$x.6.xml" -S -O "$x.7.xml" > "$x.7.log" 2>&1 ||
		die "$c: crm_simulate (equal scores) failed"
	! grep -q "Resource action: *$d *demote on nodeb" "$x.6.log" "$x.7.log" &&
		[ "$(group_node "$x.7.xml" "$g")" = nodeb ] ||
		{ cat "$x.6.log" "$x.7.log"; die "$c: equal scores moved the role back to nodea"; }
	# A planned move (nodeb to standby): the target stops before DRBD
	# demotes under it (DRBD refuses to demote a device held open).
	CIB_file=$x.7.xml crm_attribute -N nodeb -n standby -v on ||
		die "$c: crm_attribute standby"
	crm_simulate -x "$x.7.xml" -S -O "$x.8.xml" -D "$x.8.dot" > "$x.8.log" 2>&1 ||
		die "$c: crm_simulate (nodeb standby) failed"
	[ "$(group_node "$x.8.xml" "$g")" = nodea ] ||
		{ crm_simulate -x "$x.8.xml"; die "$c: $g did not move to nodea"; }
	[ -n "$(after "$x.8.dot" "${d}_demote_0 nodeb" | grep "^${tg}_stop_0 nodeb")" ] ||
		{ cat "$x.8.dot"; die "$c: $d's demote on nodeb does not wait for $tg's stop"; }
	echo "ok: $c: $g on nodea (target beside the promote), a failed start's ban expires; then on nodeb after nodea failed (address and target beside the promote); stays on nodeb when nodea returns with an equal score; back to nodea on standby, demote after the target's stop"
}
simulate pcmk-new-target bollard-t1 bollard-drbd-db bollard-t1-target
simulate pcmk-new-two-targets bollard-t2 bollard-drbd-logs bollard-t2-target
simulate pcmk-no-portblock bollard-t1 bollard-drbd-db bollard-t1-target

# --- 3. real apply on a CIB file -----------------------------------------------
export CIB_file=$T/live.xml
cp "$PLANS/_shared/cib-base.xml" "$CIB_file"
# A foreign resource that must survive everything.
cibadmin --create -o resources --xml-text \
	'<primitive id="web" class="ocf" provider="heartbeat" type="Dummy"/>' ||
	die "cibadmin --create web"
case_dir() { # desired file -> a case dir with it
	local d=$T/case-$1
	mkdir -p "$d"; cp "$2" "$d/desired.yaml"; echo "$d"
}
converge() { # label desired.yaml
	local d out
	d=$(case_dir "$1" "$2")
	out=$("$DRV" --live --apply --agent "$AGENT" pacemaker "$d") ||
		{ echo "$out"; die "$1: apply failed"; }
	grep -q '^apply: .* 0 failed' <<<"$out" || { echo "$out"; die "$1: apply failed"; }
	out=$("$DRV" --live --agent "$AGENT" pacemaker "$d") || die "$1: re-plan failed"
	[ "$(head -1 <<<"$out")" = "plan pacemaker node=nodea: 0 actions, 0 conditions" ] ||
		{ echo "$out"; die "$1: not converged after apply"; }
	cibadmin -Q | grep -q 'id="web"' || die "$1: the foreign resource is gone"
	echo "ok: $1: applied with cibadmin, re-plan is empty"
}
converge new-target "$PLANS/pcmk-new-target/desired.yaml"
converge added-ip "$PLANS/pcmk-added-ip/desired.yaml"
converge changed-port "$PLANS/pcmk-changed-port/desired.yaml"
cibadmin -Q > "$T/applied.xml"
crm_verify --xml-file "$T/applied.xml" || die "applied CIB does not verify"
converge target-deleted "$PLANS/pcmk-target-deleted/desired.yaml"
cibadmin -Q | grep -q 'id="bollard-t1"' && die "group still there after delete"
converge ha-none "$PLANS/pcmk-ha-none/desired.yaml"
cibadmin -Q | grep -q 'id="bollard-' && die "bollard elements left with ha: none"

# --- 4. fault injection -----------------------------------------------------------
cp "$PLANS/_shared/cib-base.xml" "$CIB_file"
cibadmin --create -o resources --xml-text \
	'<primitive id="web" class="ocf" provider="heartbeat" type="Dummy"/>' ||
	die "cibadmin --create web"
d=$(case_dir fault "$PLANS/pcmk-new-two-targets/desired.yaml")
out=$(BOLLARD_FAULT=apply:2 "$DRV" --live --apply --agent "$AGENT" pacemaker "$d")
[ $? = 4 ] || { echo "$out"; die "fault: expected the apply to fail"; }
grep -q '^apply: 2 done' <<<"$out" || { echo "$out"; die "fault: expected 2 actions done"; }
grep -q 'injected fault' <<<"$out" || { echo "$out"; die "fault: no injected fault reported"; }
left=$("$DRV" --live --agent "$AGENT" pacemaker "$d" | head -1)
case "$left" in
"plan pacemaker node=nodea: 0 actions"*) die "fault: nothing left after a partial apply?" ;;
esac
# die variant: the process is killed with SIGKILL mid-apply
BOLLARD_FAULT=apply:1:die "$DRV" --live --apply --agent "$AGENT" pacemaker "$d" >/dev/null
rc=$?
[ $rc = 137 ] || die "fault die: expected SIGKILL (137), got $rc"
converge fault-recovery "$d/desired.yaml"
echo "ok: fault injection: partial apply, crash, then convergence"
exit 0
