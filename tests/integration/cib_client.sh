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
#     create was answered).
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

