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
row ds-gold-01 | grep -q ' - ' || die "no status yet, want '-': $(row ds-gold-01)"

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
row ds-gold-02 | grep -q 'stor-a:' && die "status leaked to another volume"
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
echo "get volume: DRBD column per node with sync percent; describe shows it"
