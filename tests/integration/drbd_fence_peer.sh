#!/usr/bin/env bash
# tests/integration/drbd_fence_peer.sh - DRBD's fence-peer handler
# deploy/drbd/bollard-fence-peer against a real CIB: cibadmin on a CIB
# file (CIB_file), node states made by crm_simulate (both nodes up; nodeb
# failed: out of the membership, not yet fenced; nodeb down: fenced), the
# local disk from a /proc/drbd-format file (8.4) or DRBD 9's environment.
#   - peer reachable -> constraint (the shape and id crm-unfence-peer
#     lifts), exit 4; peer fenced -> exit 7; Pacemaker 2.1.7's timestamp
#     node_state -> reachable too;
#   - peer neither -> the constraint, then waiting: exit 1 at --timeout; a
#     peer fenced while the handler waits -> exit 7;
#   - local disk Outdated (8.4) or not in UP_TO_DATE_NODES (9) -> exit 5,
#     CIB unchanged;
#   - the constraint exists for the other node -> exit 1, CIB unchanged; it
#     exists for this node -> kept (one constraint), exit 7;
#   - a refusal leaves the CIB's constraints as it found them although the
#     handler starts its cibadmin -C beside its first query: DRBD's peer
#     not a node of the CIB, this node not among them, no single peer ->
#     exit 1 and this run's constraint removed again; a constraint that was
#     there before (another node's, or this node's from an earlier run)
#     stays untouched on such a refusal;
#   - the handler leaves no process behind (every run goes through a
#     session of its own, waited for until it is empty);
#   - every answer is logged (kmsg stand-in) with its exit code;
#   - drbd-utils' crm-unfence-peer.sh removes the constraint the handler
#     placed (same id), run in a mount namespace whose /proc/drbd says
#     UpToDate/UpToDate (it reads only /proc/drbd).
. "$(dirname "$0")/../lib/common.sh"

for t in cibadmin crm_simulate; do
	command -v $t >/dev/null || skip "$t not installed (pacemaker-cli-utils)"
done
H=$TOP/deploy/drbd/bollard-fence-peer
[ -x "$H" ] || die "$H missing"
DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
mk_tmp T

CLONE=bollard-drbd-db-clone RES=bollard-db
CID=drbd-fence-by-handler-$RES-$CLONE
# CIBs: the would-be CIB of a golden case with the clone, then node states.
"$DRV" --payload cib/configuration/validate pacemaker "$TOP/tests/plans/pcmk-new-target" \
	>"$T/base.xml" 2>"$T/err" || { cat "$T/err"; die "no would-be CIB"; }
grep -q "<clone id=\"$CLONE\"" "$T/base.xml" || die "no $CLONE in the would-be CIB"
crm_simulate -x "$T/base.xml" -S -u nodea -u nodeb -O "$T/up.xml" >/dev/null 2>&1 ||
	die "crm_simulate (nodes up)"
crm_simulate -x "$T/up.xml" -S --node-fail nodeb -O "$T/failed.xml" >/dev/null 2>&1 ||
	die "crm_simulate (node-fail)"
crm_simulate -x "$T/up.xml" -S --node-down nodeb -O "$T/down.xml" >/dev/null 2>&1 ||
	die "crm_simulate (node-down)"
state() { grep "<node_state id=\"2\"" "$1"; }
state "$T/up.xml" | grep -q 'in_ccm="true" crmd="online"' || die "up.xml: $(state "$T/up.xml")"
state "$T/failed.xml" | grep -q 'in_ccm="false"' || die "failed.xml: $(state "$T/failed.xml")"
state "$T/failed.xml" | grep -q 'expected="down"' && die "failed.xml: $(state "$T/failed.xml")"
state "$T/down.xml" | grep -q 'in_ccm="false" crmd="offline" join="down" expected="down"' ||
	die "down.xml: $(state "$T/down.xml")"

proc84() { # LOCAL/PEER disk states
	printf 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0\n 0: cs:WFConnection ro:Secondary/Unknown ds:%s C r-----\n    ns:0 nr:0 dw:0 dr:0\n' \
		"$1" >"$T/proc_drbd"
}
# The handler runs in a session of its own (setsid; it must not fork
# here, so that the session's id is the handler's pid): after it exits,
# any process left in that session is one it did not wait for (the
# cibadmin -C it starts beside its query), which would change the CIB
# after the handler's answer and race the checks below.
setsid sh -c 'echo $$' >"$T/sid" &
pid=$!
wait $pid
[ "$(cat "$T/sid")" = $pid ] || die "setsid forked: cannot watch the handler's session"
alive() { kill -0 -- "-$1" 2>/dev/null; }
gone() { ! alive "$1"; }
# fence CIB [ARGS...]: run the handler as nodea on a copy of CIB ($T/cib.xml),
# 8.4-style environment, DRBD_PEER=$FPEER (default nodeb); its exit code in
# $rc, its log in $T/kmsg. Fails if the handler left a process running.
# DRBD_MINOR is $FMINOR (default 0).
fence() {
	local c=$1 pid; shift
	[ "$c" = keep ] || cp "$c" "$T/cib.xml"
	: >"$T/kmsg"
	CIB_file=$T/cib.xml BOLLARD_PROC_DRBD=$T/proc_drbd BOLLARD_FENCE_KMSG=$T/kmsg BOLLARD_FENCE_RUNDIR=$T \
		DRBD_RESOURCE=$RES DRBD_MINOR=${FMINOR-0} DRBD_PEER=${FPEER-nodeb} \
		setsid "$H" --master-id=$CLONE --node=nodea "$@" 2>"$T/stderr" &
	pid=$!
	wait $pid
	rc=$?
	if alive $pid; then
		wait_for 30 gone $pid || die "the handler's session $pid is still running 30 s after it exited"
		cat "$T/stderr"
		die "the handler (exit $rc) left a process running after its answer"
	fi
	return $rc   # for a run in the background
}
constraints() { grep -c "<rsc_location id=\"$CID\"" "$T/cib.xml"; }
ours() { # the constraint allows only nodea, role Promoted, -INFINITY
	CIB_file=$T/cib.xml cibadmin -Q -l -o constraints >"$T/c.xml" || die "cibadmin -Q"
	grep -q "<rsc_location id=\"$CID\" rsc=\"$CLONE\">" "$T/c.xml" &&
		grep -q 'role="Promoted" score="-INFINITY"' "$T/c.xml" &&
		grep -q 'attribute="#uname" operation="ne" value="nodea"' "$T/c.xml"
}
logged() { grep -q "exit $1\$" "$T/kmsg" && grep -q "exit $1\$" "$T/stderr"; }

# --- peer reachable / fenced ----------------------------------------------------
proc84 UpToDate/DUnknown
fence "$T/up.xml"
[ $rc = 4 ] || { cat "$T/stderr"; die "peer reachable: exit $rc, not 4"; }
ours || { cat "$T/c.xml"; die "peer reachable: no constraint allowing only nodea"; }
logged 4 || { cat "$T/kmsg"; die "exit 4 not logged"; }
grep -q '^<13>bollard-fence-peer\[[0-9]*\]: bollard-db: ' "$T/kmsg" || { cat "$T/kmsg"; die "kmsg format"; }
echo "ok: peer reachable: constraint allowing only nodea, exit 4, logged"
fence "$T/down.xml"
[ $rc = 7 ] || { cat "$T/stderr"; die "peer fenced: exit $rc, not 7"; }
ours || die "peer fenced: no constraint"
echo "ok: peer fenced: constraint, exit 7"
# Pacemaker >= 2.1.7 writes join times instead of true/online.
sed '/<node_state id="2"/s/in_ccm="true" crmd="online"/in_ccm="1764000000" crmd="1764000001"/' \
	"$T/up.xml" >"$T/up-2.1.7.xml"
fence "$T/up-2.1.7.xml"
[ $rc = 4 ] || { cat "$T/stderr"; die "peer reachable (timestamps): exit $rc, not 4"; }
echo "ok: peer reachable with timestamp in_ccm/crmd: exit 4"
# Without DRBD_PEER the peer is the CIB's one other node.
cp "$T/down.xml" "$T/cib.xml"
CIB_file=$T/cib.xml BOLLARD_PROC_DRBD=$T/proc_drbd BOLLARD_FENCE_KMSG=$T/kmsg BOLLARD_FENCE_RUNDIR=$T \
	DRBD_RESOURCE=$RES DRBD_MINOR=0 "$H" --master-id=$CLONE --node=nodea 2>"$T/stderr"
rc=$?
[ $rc = 7 ] || { cat "$T/stderr"; die "no DRBD_PEER, peer fenced: exit $rc, not 7"; }
echo "ok: without DRBD_PEER the other node of <nodes> is the peer"

# --- peer neither: wait, then refuse; or fenced while waiting --------------------
fence "$T/failed.xml" --timeout=2
[ $rc = 1 ] || { cat "$T/stderr"; die "peer undecided: exit $rc, not 1"; }
ours || die "peer undecided: the constraint was not placed"
grep -q "waiting up to 2s" "$T/stderr" || { cat "$T/stderr"; die "no wait"; }
echo "ok: peer neither reachable nor fenced: constraint placed, exit 1 after --timeout"
cp "$T/failed.xml" "$T/cib.xml"
fence keep --timeout=60 &
pid=$!
wait_for 30 grep -q "waiting up to 60s" "$T/stderr" || { kill $pid; die "handler did not wait"; }
CIB_file=$T/cib.xml cibadmin -M -o status \
	-X '<node_state id="2" uname="nodeb" in_ccm="false" crmd="offline" join="down" expected="down"/>' ||
	die "cibadmin -M (fence nodeb)"
wait $pid
rc=$?
[ $rc = 7 ] || { cat "$T/stderr"; die "peer fenced during the wait: exit $rc, not 7"; }
echo "ok: peer fenced while the handler waited: exit 7"

# --- local disk not UpToDate ------------------------------------------------------
proc84 Outdated/DUnknown
cp "$T/up.xml" "$T/cib.xml"; cp "$T/cib.xml" "$T/before.xml"
fence keep
[ $rc = 5 ] || { cat "$T/stderr"; die "local Outdated: exit $rc, not 5"; }
cmp -s "$T/cib.xml" "$T/before.xml" || die "local Outdated: the CIB changed"
logged 5 || die "exit 5 not logged"
echo "ok: local disk Outdated: nothing placed, exit 5"
# A minor the handler cannot find (or find no disk state for) in /proc/drbd
# is not evidence that our disk is not UpToDate: DRBD 8.4 reads 5 as "peer
# unreachable, assumed dead" and outdates the peer when its own disk IS
# UpToDate (conn_try_outdate_peer). So 1 (helper broken), nothing placed.
proc84 UpToDate/DUnknown
FMINOR=3 fence keep
[ $rc = 1 ] || { cat "$T/stderr"; die "minor not in /proc/drbd: exit $rc, not 1"; }
cmp -s "$T/cib.xml" "$T/before.xml" || die "minor not in /proc/drbd: the CIB changed"
logged 1 || die "minor not in /proc/drbd: exit 1 not logged"
printf 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0\n 0: cs:Unconfigured\n' >"$T/proc_drbd"
fence keep
[ $rc = 1 ] || { cat "$T/stderr"; die "minor Unconfigured: exit $rc, not 1"; }
cmp -s "$T/cib.xml" "$T/before.xml" || die "minor Unconfigured: the CIB changed"
echo "ok: a minor absent from /proc/drbd or without a disk state: nothing placed, exit 1 (not 5)"
proc84 UpToDate/DUnknown
# DRBD 9: UP_TO_DATE_NODES / DRBD_MY_NODE_ID, the peer by node id.
fence9() { # MASK
	cp "$T/down.xml" "$T/cib.xml"
	CIB_file=$T/cib.xml BOLLARD_PROC_DRBD=/nonexistent BOLLARD_FENCE_KMSG=$T/kmsg BOLLARD_FENCE_RUNDIR=$T \
		DRBD_RESOURCE=$RES UP_TO_DATE_NODES=$1 DRBD_MY_NODE_ID=0 DRBD_PEER_NODE_ID=1 \
		DRBD_NODE_ID_0=nodea DRBD_NODE_ID_1=nodeb \
		"$H" --master-id=$CLONE --node=nodea 2>"$T/stderr"
	rc=$?
}
fence9 0x1
[ $rc = 7 ] || { cat "$T/stderr"; die "DRBD 9, UpToDate, peer fenced: exit $rc, not 7"; }
fence9 0x2
[ $rc = 5 ] || { cat "$T/stderr"; die "DRBD 9, not UpToDate: exit $rc, not 5"; }
[ "$(constraints)" = 0 ] || die "DRBD 9, not UpToDate: a constraint was placed"
echo "ok: DRBD 9 environment: UpToDate -> 7, not UpToDate -> 5 and nothing placed"

# --- the constraint exists already ------------------------------------------------
# For nodeb (nodeb's handler fenced nodea): nodea must not go ahead.
cp "$T/down.xml" "$T/cib.xml"
CIB_file=$T/cib.xml BOLLARD_PROC_DRBD=$T/proc_drbd BOLLARD_FENCE_KMSG=/dev/null BOLLARD_FENCE_RUNDIR=$T \
	DRBD_RESOURCE=$RES DRBD_MINOR=0 "$H" --master-id=$CLONE --node=nodeb 2>/dev/null
[ "$(constraints)" = 1 ] || die "nodeb's handler placed no constraint"
cp "$T/cib.xml" "$T/before.xml"
fence keep
[ $rc = 1 ] || { cat "$T/stderr"; die "constraint for nodeb: exit $rc, not 1"; }
cmp -s "$T/cib.xml" "$T/before.xml" || die "constraint for nodeb: the CIB changed"
grep -q "allowing only 'nodeb'" "$T/stderr" || { cat "$T/stderr"; die "reason not logged"; }
echo "ok: constraint allowing nodeb exists: nodea refused (exit 1), CIB unchanged"
# For nodea: kept as it is.
fence "$T/down.xml"
cp "$T/cib.xml" "$T/before.xml"
fence keep
[ $rc = 7 ] && [ "$(constraints)" = 1 ] && cmp -s "$T/cib.xml" "$T/before.xml" ||
	{ cat "$T/stderr"; die "own constraint present: exit $rc, $(constraints) constraints"; }
echo "ok: own constraint present: kept, exit 7"

# --- a refusal leaves the CIB as it found it ----------------------------------------
# The cibadmin -C started beside the query succeeds on these CIBs; the
# handler then refuses for a reason found in the query and must remove
# this run's constraint again. The epoch changes with the two writes, so
# the constraints section is compared, not the file.
cons() { CIB_file=$T/cib.xml cibadmin -Q -l -o constraints; }
refused() { # WHAT REASON-PATTERN UNDO-PATTERN
	[ $rc = 1 ] || { cat "$T/stderr"; die "$1: exit $rc, not 1"; }
	grep -q "$2" "$T/stderr" || { cat "$T/stderr"; die "$1: reason not logged"; }
	grep -q "$3" "$T/kmsg" || { cat "$T/kmsg"; die "$1: what it did to the constraint is not logged"; }
	logged 1 || { cat "$T/kmsg"; die "$1: exit 1 not logged"; }
}
# undone WHAT REASON [FENCE-ARGS]: the handler (FENCE-ARGS, on the CIB as it
# is) refuses with REASON, removes the constraint this run placed, and the
# constraints section is as before.
undone() {
	local what=$1 reason=$2; shift 2
	cons >"$T/before.c"
	grep -q "$CID" "$T/before.c" && die "$what: constraint $CID there before the run"
	fence keep "$@"
	refused "$what" "$reason" "removed constraint $CID"
	cons | cmp -s - "$T/before.c" || { cons; die "$what: constraints changed"; }
	echo "ok: $what: exit 1, this run's constraint removed again"
}
# kept WHAT: with a constraint already in the CIB, a refusal (DRBD's peer
# nodec is no node) leaves the CIB file byte-identical.
kept() {
	cp "$T/cib.xml" "$T/before.xml"
	FPEER=nodec fence keep
	refused "$1" "DRBD's peer 'nodec' is not a node" "nothing of this run's to remove"
	cmp -s "$T/cib.xml" "$T/before.xml" || { cons; die "$1: the CIB changed"; }
	echo "ok: $1: refusal, constraint left as it was"
}
cp "$T/up.xml" "$T/cib.xml"
FPEER=nodec undone "DRBD's peer not a node of the CIB" "DRBD's peer 'nodec' is not a node of the CIB"
undone "this node not among the CIB's nodes" "this node 'nodex' is not among the CIB's nodes" --node=nodex
CIB_file=$T/cib.xml cibadmin -C -o nodes -X '<node id="3" uname="nodec"/>' || die "cibadmin -C node nodec"
FPEER="" undone "no single peer among three nodes" "cannot tell the peer among"
# A constraint that was there before is not this run's: a refusal keeps it
# (the create fails on its id; the CIB is not written at all).
cp "$T/up.xml" "$T/cib.xml"
CIB_file=$T/cib.xml BOLLARD_PROC_DRBD=$T/proc_drbd BOLLARD_FENCE_KMSG=/dev/null BOLLARD_FENCE_RUNDIR=$T \
	DRBD_RESOURCE=$RES DRBD_MINOR=0 DRBD_PEER=nodea "$H" --master-id=$CLONE --node=nodeb 2>/dev/null
[ "$(constraints)" = 1 ] || die "nodeb's handler placed no constraint"
kept "nodeb's constraint present"
fence "$T/up.xml"
[ $rc = 4 ] && ours || die "setup (own constraint): exit $rc"
kept "an earlier run's constraint present"

# --- crm-unfence-peer lifts it ------------------------------------------------------
UNF=/usr/lib/drbd/crm-unfence-peer.sh
[ -x "$UNF" ] || skip "$UNF not installed (drbd-utils)"
command -v unshare >/dev/null || skip "unshare not installed"
fence "$T/up.xml"
[ $rc = 4 ] && [ "$(constraints)" = 1 ] || die "setup for unfence: exit $rc"
mkdir -p "$T/fakeproc" "$T/realproc"
unshare -m bash -c '
	T=$1
	# 99: no mount namespace here (not the script under test)
	mount -t proc proc "$T/realproc" || exit 99
	for e in /proc/*; do ln -s "$T/realproc/${e##*/}" "$T/fakeproc/"; done
	rm -f "$T/fakeproc/drbd"
	printf "version: 8.4.11\n 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n" >"$T/fakeproc/drbd"
	mount --bind "$T/fakeproc" /proc || exit 99
	CIB_file=$T/cib.xml DRBD_RESOURCE=bollard-db DRBD_MINOR=0 \
		'"$UNF"' --master-id='"$CLONE"'
' _ "$T" >"$T/unfence.out" 2>&1
rc=$?
[ $rc = 99 ] && { cat "$T/unfence.out"; skip "no mount namespace for crm-unfence-peer (CAP_SYS_ADMIN?)"; }
[ $rc = 0 ] || { cat "$T/unfence.out"; die "crm-unfence-peer.sh failed ($rc)"; }
[ "$(constraints)" = 0 ] || { cat "$T/unfence.out"; die "crm-unfence-peer left constraint $CID"; }
echo "ok: crm-unfence-peer.sh removed the handler's constraint"
