#!/usr/bin/env bash
# `bollard get volume`'s DRBD column and `describe volume`'s status, read
# from the per-node Volume status bollardd writes under
# /bollard/v1/status/Volume/<name>/<node> (written here with etcdctl, in
# the shape controller.c's volume_status() writes).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
EX=$TOP/examples/vmware-ha
B apply -f "$EX/cluster.yaml" -f "$EX/volumes.yaml" >/dev/null || die apply

row() { B get volume | awk -v n="$1" '$1 == n'; }
hdr=$(B get volume | head -1)
case $hdr in *DRBD*) ;; *) die "no DRBD column: $hdr" ;; esac
# No bollardd ever ran: no status, no heartbeat: every node offline.
row ds-gold-01 | grep -q ' stor-a:offline stor-b:offline ' || die "no status yet, want offline nodes: $(row ds-gold-01)"
# A node that heartbeats but has not reported: Unknown, not offline.
etcdctl_t put /bollard/v1/nodes/vmware-ha/stor-b '{"node":"stor-b"}' >/dev/null || die "etcdctl put"
row ds-gold-01 | grep -q ' stor-a:offline stor-b:Unknown ' || die "alive, not reported: $(row ds-gold-01)"
etcdctl_t del /bollard/v1/nodes/vmware-ha/stor-b >/dev/null

st() {  # node role disk conn peerdisk [pct [repl]]
	local extra=
	[ -n "${6:-}" ] && extra=",\"syncPercent\":$6"
	[ -n "${7:-}" ] && extra="$extra,\"replicationState\":\"$7\""
	etcdctl_t put "/bollard/v1/status/Volume/ds-gold-01/$1" \
		"{\"node\":\"$1\",\"observedGeneration\":1,\"conditions\":[],\"drbd\":{\"role\":\"$2\",\"diskState\":\"$3\",\"connectionState\":\"$4\",\"peerDiskState\":\"$5\"$extra}}" \
		>/dev/null || die "etcdctl put"
}
# Resyncing (DRBD 8.4 words: the sync is in the connection state): the
# lowest percent reported is shown once, at the end.
st stor-a Primary UpToDate SyncSource Inconsistent 43
st stor-b Secondary Inconsistent SyncTarget UpToDate 42
r=$(row ds-gold-01); echo "$r"
echo "$r" | grep -q 'stor-a:Primary/UpToDate stor-b:Secondary/Inconsistent 42%' ||
	die "resync not shown: $r"
# other volumes have no status
row ds-gold-02 | grep -q 'Primary\|Secondary\|%' && die "status leaked to another volume: $(row ds-gold-02)"
# In sync (DRBD 9 words): no percent.
st stor-a Primary UpToDate Connected UpToDate "" Established
st stor-b Secondary UpToDate Connected UpToDate "" Established
r=$(row ds-gold-01); echo "$r"
echo "$r" | grep -q 'stor-a:Primary/UpToDate stor-b:Secondary/UpToDate' || die "in sync not shown: $r"
echo "$r" | grep -q '%' && die "a percent without a resync: $r"
# The peer is gone: the connection state is shown.
st stor-a Primary UpToDate Connecting DUnknown
r=$(row ds-gold-01); echo "$r"
echo "$r" | grep -q 'stor-a:Primary/UpToDate(Connecting)' || die "disconnect not shown: $r"
# describe prints each node's status, drbd included.
st stor-b Secondary Inconsistent Connected UpToDate 7 SyncTarget
B describe volume ds-gold-01 >"$T/desc.txt" || die describe
grep -q 'Node stor-b' "$T/desc.txt" && grep -q 'syncPercent.*7' "$T/desc.txt" ||
	{ cat "$T/desc.txt"; die "describe does not show the DRBD status"; }
row ds-gold-01 | grep -q 'stor-b:Secondary/Inconsistent 7%' || die "DRBD 9 resync not shown: $(row ds-gold-01)"
echo "ok: get volume: DRBD column per node with sync percent; describe shows it"

# ---- bollardd writes it: a fake drbdsetup (no DRBD here) answers status
# --json with a resync; everything else DRBD would do fails, which must not
# keep the status from being written.
etcdctl_t del --prefix /bollard/v1/status/Volume/ >/dev/null || die "etcdctl del"
mkdir -p "$T/bin" "$T/etc" "$T/state"
cat >"$T/bin/drbdsetup" <<SH
#!/bin/sh
case "\$1" in
show) exit 0 ;;
status) cat "$T/status.json" ;;
*) exit 1 ;;
esac
SH
for f in lvs drbdadm drbdmeta lvcreate lvremove; do printf '#!/bin/sh\nexit 1\n' >"$T/bin/$f"; done
chmod +x "$T"/bin/*
status_json() {  # percent of ds-gold-01's resync
	cat >"$T/status.json" <<JSON
[{"name":"bollard-ds-gold-01","role":"Secondary","devices":[{"volume":0,"disk-state":"Inconsistent"}],
  "connections":[{"name":"stor-b","connection-state":"Connected","peer_devices":[{"volume":0,
  "replication-state":"SyncTarget","peer-disk-state":"UpToDate","percent-in-sync":$1}]}]},
 {"name":"bollard-ds-gold-02","role":"Primary","devices":[{"volume":0,"disk-state":"UpToDate"}],
  "connections":[{"name":"stor-b","connection-state":"Connected","peer_devices":[{"volume":0,
  "replication-state":"Established","peer-disk-state":"UpToDate","percent-in-sync":100.0}]}]}]
JSON
}
status_json 42.7
D=("$BUILD/bollardd" --etcd "$ETCD_URL" --node stor-a --state-dir "$T/state"
   --drbd-dir "$T/etc" --only drbd)
PATH="$T/bin:$PATH" "${D[@]}" --once >"$T/once.log" 2>&1   # fails: no lvcreate
r=$(row ds-gold-01); echo "$r"
# stor-b runs no bollardd here: no status, no heartbeat, shown offline.
echo "$r" | grep -q 'stor-a:Secondary/Inconsistent stor-b:offline 42%' || { cat "$T/once.log"; die "bollardd wrote no resync status: $r"; }
row ds-gold-02 | grep -q 'stor-a:Primary/UpToDate ' || die "in-sync volume: $(row ds-gold-02)"
row ds-templates | grep -q 'stor-a:Unconfigured' || die "volume without a live resource: $(row ds-templates)"
etcdctl_t get /bollard/v1/status/Volume/ds-gold-01/stor-a | grep -q '"reason":"Resyncing"' ||
	die "no Resyncing condition"
# A running bollardd looks again by itself (no etcd change, long periodic
# resync) and the percentage moves. NOTE: here the DRBD round fails (the
# fakes refuse lvcreate), so its retry backoff also re-runs it: this checks
# that each round rewrites a changed percentage, not the 5 s resync poll
# in tick() alone (that needs a reconcile that converges).
PATH="$T/bin:$PATH" "${D[@]}" --resync 3600 --lease-ttl 3 >"$T/d.log" 2>&1 &
DPID=$!
cleanup_add "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
wait_for 20 sh -c "\"$BUILD/bollard\" --etcd $ETCD_URL get volume ds-gold-01 | grep -q 'Inconsistent stor-b:offline 42%'" ||
	die "bollardd (running) did not report 42%"
status_json 80.2
wait_for 30 sh -c "\"$BUILD/bollard\" --etcd $ETCD_URL get volume ds-gold-01 | grep -q 'Inconsistent stor-b:offline 80%'" ||
	{ cat "$T/d.log"; die "resync progress not polled: $(row ds-gold-01)"; }
# Rounds that see the same state write nothing (two more failed rounds,
# each logged, leave the key's mod_revision alone).
modrev() { etcdctl_t get -w json /bollard/v1/status/Volume/ds-gold-01/stor-a |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'; }
rev=$(modrev); n=$(grep -c 'drbd: plan' "$T/d.log")
wait_for 60 sh -c "[ \$(grep -c 'drbd: plan' '$T/d.log') -ge $((n + 2)) ]" || die "no further DRBD rounds"
[ "$(modrev)" = "$rev" ] || die "unchanged Volume status rewritten ($rev -> $(modrev))"
# deleting the Volume removes this node's status
B delete volume ds-gold-02 >/dev/null || die "delete volume"
wait_for 30 sh -c "! etcdctl --endpoints $ETCD_URL get --prefix /bollard/v1/status/Volume/ds-gold-02/ | grep -q ."  ||
	die "status of a deleted Volume kept"
echo "ok: bollardd writes Volume status with the DRBD state and polls resync progress"

# ---- A dead node's status goes with its heartbeat: both keys are bound to
# one lease, so once bollardd is killed (no clean exit, no revoke) and the
# lease TTL (3 s) has passed, get volume shows the node offline instead of
# its last role; restarted, it reports again.
lease_of() { etcdctl_t get -w json "$1" |
	python3 -c 'import json,sys; k=json.load(sys.stdin).get("kvs",[]); print(k[0].get("lease",0) if k else "none")'; }
sl=$(lease_of /bollard/v1/status/Volume/ds-gold-01/stor-a)
hl=$(lease_of /bollard/v1/nodes/vmware-ha/stor-a)
[ "$sl" != none ] && [ "$sl" != 0 ] && [ "$sl" = "$hl" ] ||
	die "Volume status not bound to the heartbeat lease (status $sl, heartbeat $hl)"
row ds-gold-01 | grep -q 'stor-a:Secondary/Inconsistent' || die "before the kill: $(row ds-gold-01)"
# The heartbeat key lives with its lease: it is put once per third of the
# TTL (1 s here), not on every 250 ms tick of the loop (was 4 puts a second).
hbver() { etcdctl_t get -w json /bollard/v1/nodes/vmware-ha/stor-a |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["version"])'; }
v0=$(hbver); sleep 4; v1=$(hbver)
[ $((v1 - v0)) -le 8 ] || die "heartbeat put $((v1 - v0)) times in 4 s"
kill -9 $DPID; wait $DPID 2>/dev/null
wait_for 30 sh -c "\"$BUILD/bollard\" --etcd $ETCD_URL get volume ds-gold-01 | grep -q 'stor-a:offline'" ||
	die "dead node not shown offline: $(row ds-gold-01)"
r=$(row ds-gold-01); echo "$r"
echo "$r" | grep -q 'Secondary\|Inconsistent\|%' && die "a dead node's last state still shown: $r"
B describe volume ds-gold-01 >"$T/desc2.txt" || die describe
grep -q 'Node stor-a: offline' "$T/desc2.txt" || { cat "$T/desc2.txt"; die "describe: dead node not offline"; }
PATH="$T/bin:$PATH" "${D[@]}" --resync 3600 --lease-ttl 3 >"$T/d2.log" 2>&1 &
DPID=$!
cleanup_add "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
wait_for 30 sh -c "\"$BUILD/bollard\" --etcd $ETCD_URL get volume ds-gold-01 | grep -q 'stor-a:Secondary/Inconsistent stor-b:offline 80%'" ||
	{ cat "$T/d2.log"; die "restarted node's status not back: $(row ds-gold-01)"; }
echo "ok: a killed node's Volume status expires with its heartbeat lease (shown offline), back after restart"
