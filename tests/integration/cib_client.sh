#!/usr/bin/env bash
# tests/integration/cib_client.sh - bollard-cib (the fence-peer handler's
# CIB client) against answers a real CIB manager cannot be made to give,
# from build/tests/fake-cib in a network namespace of its own (the IPC
# service name is an abstract socket, one per namespace):
#   - an answer it does not understand: --no-fallback exits 4 and says why;
#     without it, cibadmin runs with the same arguments (a stand-in
#     cibadmin in PATH records them);
#   - a bzip2-compressed answer (pacemaker-based compresses what does not
#     fit its buffer): decompressed and printed;
#   - a refusal (cib_rc -203): exit 1 with Pacemaker's reason;
#   - a service run by uid 65534, not root or hacluster: not believed;
#   - a service whose IPC buffer is larger than the one bollard-cib asks
#     for (pacemaker-based with PCMK_ipc_buffer above 512 KiB) answering
#     uncompressed with more than that: received whole;
#   - no service at all: exit 3;
#   - a service that accepts no connection (fake-cib stopped with
#     SIGSTOP, as a stuck pacemaker-based): -t still ends the wait, exit 3
#     (libqb's connect has no timeout of its own; a bollard-cib still
#     running long after its -t is killed and reported as a hang);
#   - --then-query (a create, then the query, on one connection), against
#     fake-cib's "store" modes, which keep a CIB and log every
#     registration and call: a create applied and the query after it
#     printed (exit 0; -l on the query only), a create refused with the
#     query still printed (exit 1), no service (exit 3), a refused query
#     (exit 3), answers not understood before or after the create (exit
#     4, nothing printed, cibadmin NOT run, stderr telling whether the
#     create was answered);
#   - DRBD's fence-peer handler (deploy/drbd/bollard-fence-peer) run
#     through bollard-cib on the fake's CIB: ONE registration (the
#     combined call) for a run that places its constraint (4), finds it
#     in place (4), or finds the peer fenced (7); a foreign constraint
#     (1, CIB unchanged); a refusal after this run's create (1, the
#     constraint removed again); and the fallback to a create beside a
#     query when the combined call fails after its create was answered
#     (removed on a refusal: this run's) or got no answer (kept on a
#     refusal: it may be an earlier run's; a foreign one untouched).
# pacemaker_live.sh runs bollard-cib against the real CIB manager.
. "$(dirname "$0")/../lib/common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (a network namespace; the fake service as uid 65534)"
command -v unshare >/dev/null || skip "unshare not installed"
CIB=$BUILD/bollard-cib FAKE=$BUILD/tests/fake-cib
[ -x "$CIB" ] && [ -x "$FAKE" ] || die "$CIB or $FAKE not built"
if [ -z "${CIB_CLIENT_NETNS:-}" ]; then
	exec unshare -n env CIB_CLIENT_NETNS=1 bash "$0" "$@"
fi

mk_tmp T
chmod 755 "$T"
mkdir "$T/path" "$T/rdy"
chmod 777 "$T/rdy"   # fake-cib nobody writes its ready file there
cat >"$T/path/cibadmin" <<EOS
#!/bin/sh
echo "stand-in cibadmin: \$*"
echo "\$*" >>"$T/cibadmin.ran"
EOS
chmod 755 "$T/path/cibadmin"
export PATH="$T/path:$PATH"

FPID=""
serve() { # MODE [CIB-FILE LOG-FILE]
	[ -n "$FPID" ] && { kill "$FPID"; wait "$FPID" 2>/dev/null; }
	rm -f "$T/rdy/ready"
	"$FAKE" "$1" "$T/rdy/ready" "${@:2}" 2>"$T/fake.err" &
	FPID=$!
	wait_for 10 test -e "$T/rdy/ready" || { cat "$T/fake.err"; die "fake-cib $1 did not come up"; }
}
cleanup_add '[ -n "$FPID" ] && kill $FPID 2>/dev/null'
run() { # WANT-EXIT ARGS...: bollard-cib ARGS; stdout in $OUT, stderr in $ERR
	local want=$1 rc; shift
	"$CIB" "$@" >"$T/out" 2>"$T/err"; rc=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	[ $rc = "$want" ] || die "bollard-cib $*: exit $rc, want $want (out: $OUT; err: $ERR)"
}

run 3 --no-fallback -Q
[[ $ERR == *"cannot connect to the CIB manager"* ]] || die "no service: $ERR"
echo "ok: no CIB manager: exit 3 ($ERR)"

serve garbage
run 4 --no-fallback -Q -l
[[ $ERR == *"unexpected answer to the registration"* ]] || die "garbage: $ERR"
[ -z "$OUT" ] || die "garbage, --no-fallback: printed '$OUT'"
run 0 -Q -l -o status
[ "$OUT" = "stand-in cibadmin: -Q -l -o status" ] || die "garbage: fallback ran '$OUT'"
[[ $ERR == *"running cibadmin instead"* && $ERR != *"<"* ]] || die "garbage: fallback said '$ERR'"
echo "ok: an answer not understood: exit 4 with --no-fallback, else cibadmin with the same arguments"

serve bz2
run 0 --no-fallback -Q -l
[ "$OUT" = '<cib fake="bz2"/>' ] || die "bz2: printed '$OUT'"
echo "ok: a compressed answer is decompressed: $OUT"

serve refuse
run 1 --no-fallback -C -o constraints -X '<rsc_location id="x"/>'
[[ $ERR == *"cib_create constraints: update does not conform to the configured schema (cib_rc=-203)"* ]] ||
	die "refuse: $ERR"
echo "ok: a refusal: exit 1 ($ERR)"

serve nobody
run 4 --no-fallback -Q
[[ $ERR == *"runs as uid 65534 gid 65534, not root or hacluster"* ]] || die "nobody: $ERR"
echo "ok: a service not run by root or hacluster is not believed"

serve big
run 0 --no-fallback -Q -l
# fake-cib's answer is 600 KiB; bollard-cib prints what is inside <cib_calldata>
head='<cib-reply t="cib" cib_op="cib_query" cib_callid="1" cib_rc="0"><cib_calldata>'
tail='</cib_calldata></cib-reply>'
[ ${#OUT} = $((600 * 1024 - ${#head} - ${#tail})) ] && [[ $OUT == '<cib fake="big" pad="xxx'*'xxx"/>' ]] ||
	die "big: printed ${#OUT} bytes: ${OUT:0:80}...; err: $ERR"
echo "ok: a 600 KB uncompressed answer from a service with a 1 MiB IPC buffer is received (${#OUT} bytes)"

serve bz2
kill -STOP "$FPID"
timeout 30 "$CIB" -t 1 --no-fallback -Q -l >"$T/out" 2>"$T/err"; rc=$?
kill -CONT "$FPID"
ERR=$(cat "$T/err")
[ $rc != 124 ] || die "a stuck service: bollard-cib -t 1 still waiting after 30 s (err: $ERR)"
[ $rc = 3 ] && [[ $ERR == *"no answer from the CIB manager in time"* ]] ||
	die "a stuck service: exit $rc, want 3 (err: $ERR)"
echo "ok: a service that does not answer the connection: -t ends the wait, exit 3"

run 2 -Q -X '<x/>'
run 2 -C -o constraints
run 2 -t 0 -Q
echo "ok: usage errors exit 2"

# --- --then-query: a create, then the query, on one connection -------------------
# The CIBs the store modes start from (one line each).
cib() { # NODEB-STATE CONSTRAINTS
	printf '<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes><node id="1" uname="nodea"/><node id="2" uname="nodeb"/></nodes><resources/>%s</configuration><status><node_state id="1" uname="nodea" in_ccm="true" crmd="online" join="member" expected="member"/><node_state id="2" uname="nodeb" %s/></status></cib>\n' \
		"$2" "$1"
}
UP='in_ccm="true" crmd="online" join="member" expected="member"'
DOWN='in_ccm="false" crmd="offline" join="down" expected="down"'
cib "$UP" '<constraints/>' >"$T/up.xml"
cib "$DOWN" '<constraints/>' >"$T/down.xml"
LOG=$T/fake.log
store() { # MODE CIB-FILE: a fresh store, its log empty
	: >"$LOG"
	serve "$1" "$2" "$LOG"
}
calls() { tr '\n' '|' <"$LOG"; }
registrations() { grep -c '^register$' "$LOG"; }
# the CIB the fake holds now (a query of its own, logged after the checks;
# an emptied <constraints></constraints> written as the files have it)
held() {
	"$CIB" --no-fallback -Q >"$T/held" 2>"$T/held.err" || die "reading the fake's CIB: $(cat "$T/held.err")"
	sed 's|<constraints></constraints>|<constraints/>|' "$T/held"
}
rm -f "$T/cibadmin.ran"

X1='<rsc_location id="c1" rsc="x" node="nodea" score="0"/>'
store store "$T/up.xml"
run 0 --no-fallback -C -o constraints -X "$X1" --then-query -l
[[ $OUT == '<cib '*'<constraints><rsc_location id="c1" rsc="x" node="nodea" score="0"/></constraints>'*'</cib>' ]] ||
	die "then-query: printed '$OUT'"
[ -z "$ERR" ] || die "then-query, create applied: said '$ERR'"
# SYNC_CALL 0x1000 = 4096 on the create; with SCOPE_LOCAL 0x100: 4352 on the query
[ "$(calls)" = "register|cib_create constraints opts=4096 rc=0|cib_query - opts=4352|" ] ||
	die "then-query: the fake saw '$(calls)'"
echo "ok: --then-query: one registration, the create (no local scope) then the query (local), which shows the new constraint; exit 0"

: >"$LOG"
run 1 --no-fallback -C -o constraints -X "$X1" --then-query
[[ $OUT == '<cib '*'<rsc_location id="c1" '*'</cib>' ]] || die "then-query, create refused: printed '$OUT'"
[ "$ERR" = "bollard-cib: cib_create constraints: File exists (cib_rc=-17)" ] ||
	die "then-query, create refused: said '$ERR'"
[ "$(calls)" = "register|cib_create constraints opts=4096 rc=-17|cib_query - opts=4096|" ] ||
	die "then-query, refused: the fake saw '$(calls)'"
echo "ok: --then-query, the create refused (id taken): exit 1, the reason on stderr, the query printed all the same"

kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=""
run 3 -C -o constraints -X "$X1" --then-query -l
[ -z "$OUT" ] && [[ $ERR == *"cannot connect to the CIB manager"* ]] || die "then-query, no service: '$OUT' '$ERR'"
echo "ok: --then-query, no service: exit 3, nothing printed"

serve refuse
run 3 -C -o constraints -X "$X1" --then-query -l
[ -z "$OUT" ] || die "then-query, query refused: printed '$OUT'"
[ "$ERR" = "bollard-cib: cib_create constraints: update does not conform to the configured schema; then cib_query failed: update does not conform to the configured schema (cib_rc=-203)" ] ||
	die "then-query, query refused: said '$ERR'"
echo "ok: --then-query, the query refused: exit 3, nothing printed, stderr says the create was answered (refused)"

serve garbage
run 4 -C -o constraints -X "$X1" --then-query -l
[ -z "$OUT" ] && [ ! -e "$T/cibadmin.ran" ] || die "then-query, garbage: cibadmin ran or printed '$OUT'"
[[ $ERR == *"unexpected answer to the registration; not running cibadmin"* && $ERR != *"then cib_query failed"* ]] ||
	die "then-query, garbage: said '$ERR'"
# bz2 answers every call as a query with cib_callid 1: the create (call 1)
# is "done", the query (call 2) gets an answer that is not its own.
serve bz2
run 4 -C -o constraints -X "$X1" --then-query -l
[ -z "$OUT" ] && [ ! -e "$T/cibadmin.ran" ] || die "then-query, bz2: cibadmin ran or printed '$OUT'"
[[ $ERR == "bollard-cib: cib_create constraints: OK; then cib_query failed: unexpected answer to cib_query; not running cibadmin"* ]] ||
	die "then-query, answer to the query not understood: said '$ERR'"
echo "ok: --then-query, answers not understood (registration; the query after the create): exit 4, nothing printed, no cibadmin"
run 2 -Q --then-query
run 2 -D -o constraints -X "$X1" --then-query
echo "ok: --then-query with -Q or -D: usage, exit 2"

# --- the fence-peer handler through bollard-cib ------------------------------------
RES=r0 CLONE=clone-r0
FCID=drbd-fence-by-handler-$RES-$CLONE
echo " 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----" >"$T/proc-drbd"
fence() { # WANT-EXIT [VAR=VALUE...]: the handler as nodea, peer nodeb
	local want=$1 rc; shift
	: >"$LOG"
	env DRBD_RESOURCE=$RES DRBD_MINOR=0 DRBD_PEER=nodeb BOLLARD_PROC_DRBD="$T/proc-drbd" \
		BOLLARD_FENCE_KMSG=/dev/null BOLLARD_FENCE_RUNDIR="$T" BOLLARD_CIB="$CIB" "$@" \
		sh "$TOP/deploy/drbd/bollard-fence-peer" --master-id=$CLONE --node=nodea --timeout=10 \
		>"$T/fence.out" 2>&1
	rc=$?
	[ $rc = "$want" ] || { cat "$T/fence.out"; die "handler: exit $rc, want $want (the fake saw: $(calls))"; }
	[ ! -e "$T/cibadmin.ran" ] || die "handler: ran cibadmin ($(cat "$T/cibadmin.ran"))"
}
said() { grep -q "$1" "$T/fence.out" || { cat "$T/fence.out"; die "handler did not say '$1'"; }; }
ours() { [[ $(held) == *"<rsc_location id=\"$FCID\" rsc=\"$CLONE\"><rule id=\"$FCID-rule\" role=\"Promoted\" score=\"-INFINITY\"><expression id=\"$FCID-expr\" attribute=\"#uname\" operation=\"ne\" value=\"nodea\"/></rule></rsc_location>"* ]]; }
one_call() { # WHAT: one registration, the combined create and query, nothing else
	[ "$(calls)" = "register|cib_create constraints opts=4096 rc=$2|cib_query - opts=4352|" ] ||
		die "$1: the handler's calls: $(calls) (want one registration, a create, a query)"
}

store store "$T/up.xml"
fence 4
one_call "peer reachable" 0
said "placed constraint $FCID: .*with bollard-cib"
ours || die "peer reachable: the fake's CIB has no constraint of ours: $(held)"
echo "ok: handler through bollard-cib, peer reachable: ONE registration (create, then query), constraint placed, exit 4"
fence 4
one_call "second run" -17
said "already in place"
echo "ok: handler, second run: ONE registration, the constraint found in place (the create refused: File exists), exit 4"

store store "$T/down.xml"
fence 7
one_call "peer fenced" 0
ours || die "peer fenced: no constraint: $(held)"
echo "ok: handler, peer fenced: ONE registration, constraint placed, exit 7"

# nodeb's constraint (nodeb's handler fenced nodea) is there: refused, untouched.
sed "s|<constraints/>|<constraints><rsc_location id=\"$FCID\" rsc=\"$CLONE\"><rule id=\"$FCID-rule\" role=\"Promoted\" score=\"-INFINITY\"><expression id=\"$FCID-expr\" attribute=\"#uname\" operation=\"ne\" value=\"nodeb\"/></rule></rsc_location></constraints>|" \
	"$T/up.xml" >"$T/nodeb.xml"
grep -q 'value="nodeb"' "$T/nodeb.xml" || die "no nodeb constraint in the test CIB"
store store "$T/nodeb.xml"
fence 1
one_call "nodeb's constraint" -17
said "allowing only 'nodeb'"
[ "$(held)" = "$(cat "$T/nodeb.xml")" ] || die "nodeb's constraint: the CIB changed: $(held)"
echo "ok: handler, nodeb's constraint present: ONE registration, exit 1, CIB unchanged"

# A refusal after this run's create (DRBD's peer nodec is not a node): removed again.
store store "$T/up.xml"
fence 1 DRBD_PEER=nodec
said "DRBD's peer 'nodec' is not a node"
said "removed constraint $FCID, which this run had placed"
[ "$(registrations)" = 2 ] || die "refusal after the create: $(calls) (want the combined call and the delete)"
[ "$(held)" = "$(cat "$T/up.xml")" ] || die "refusal after the create: the CIB changed: $(held)"
echo "ok: handler, refusal after this run's create: exit 1, the constraint removed (one more process), CIB as before"

# The combined call fails after its create was answered OK (the query's
# answer not understood): the handler falls back to a create beside a
# query; that create fails on this run's constraint, which is found ours.
store store-badquery1 "$T/up.xml"
fence 4
said "bollard-cib -C --then-query failed (exit 4: bollard-cib: cib_create constraints: OK; then cib_query failed"
said "already in place"
[ "$(registrations)" = 3 ] && grep -q "^cib_create constraints opts=4096 rc=-17$" "$LOG" ||
	die "fallback: $(calls) (want the combined call, then a create and a query)"
ours || die "fallback: no constraint: $(held)"
echo "ok: handler, the combined call's query not understood: fallback to a create beside a query, exit 4"
store store-badquery1 "$T/up.xml"
fence 1 DRBD_PEER=nodec
said "removed constraint $FCID, which this run had placed"
[ "$(held)" = "$(cat "$T/up.xml")" ] || die "fallback, refusal: the CIB changed: $(held)"
echo "ok: handler, fallback then refusal: the combined call's create (answered OK) is this run's: removed, CIB as before"

# The combined call's create is applied but never answered (connection
# dropped): its fate is unknown to the handler.
store store-dropcreate1 "$T/up.xml"
fence 4
said "bollard-cib -C --then-query failed (exit 3"
said "already in place"
ours || die "create unanswered: no constraint: $(held)"
echo "ok: handler, the combined call's create unanswered: fallback, exit 4"
store store-dropcreate1 "$T/up.xml"
fence 1 DRBD_PEER=nodec
said "constraint $FCID may be this run's .*left in place"
ours || die "create unanswered, refusal: the constraint was removed: $(held)"
echo "ok: handler, create unanswered then refusal: a constraint of ours that may be an earlier run's is left in place, and said"
store store-dropcreate1 "$T/nodeb.xml"
fence 1
said "allowing only 'nodeb'"
said "nothing of this run's to remove"
[ "$(held)" = "$(cat "$T/nodeb.xml")" ] || die "create unanswered, nodeb's constraint: the CIB changed: $(held)"
echo "ok: handler, create unanswered, nodeb's constraint present: exit 1, it is not ours, untouched"
