#!/usr/bin/env bash
# tests/integration/drbd_status_poll.sh - bollardd's Volume status during a
# DRBD resync: the percentage is refreshed by a cheap look at DRBD's state
# (`drbdsetup status --json`), not by re-running the DRBD reconciler (whose
# observe also lists LVs and whose plan may adjust), and the polling stops
# once the resource is in sync.
#
# No DRBD here: drbdsetup and lvs are fakes on PATH that log every call and
# answer from files. The recorded state is the golden case drbd-unchanged
# (config installed, resource up, LV present), so a DRBD round converges
# with 0 actions and nothing re-runs it (no retries, periodic resync 1 h).
# A DRBD round is told apart from a poll by its `lvs` call.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
[ -e /proc/drbd ] && skip "a DRBD module is loaded here: the fakes would not be asked for everything"
mk_tmp T
CASE=$TOP/tests/plans/drbd-unchanged
mkdir -p "$T/bin" "$T/etc" "$T/state"
sect() { awk -v k=">>> $1" '/^>>> /{p = ($0 == k); next} p' "$CASE/observed.rec"; }
sect "file /etc/drbd.d/bollard-db.res" > "$T/etc/bollard-db.res"
sect "drbdsetup show" > "$T/show"
sect "lvs --noheadings --separator | --units b --nosuffix -o vg_name,lv_name,lv_size" > "$T/lvs"
[ -s "$T/etc/bollard-db.res" ] && [ -s "$T/show" ] && [ -s "$T/lvs" ] || die "recording not found in $CASE"
status_json() {  # "sync PCT" or "insync"
	local pd
	case $1 in
	sync) pd="\"replication-state\":\"SyncSource\",\"peer-disk-state\":\"Inconsistent\",\"percent-in-sync\":$2" ;;
	insync) pd="\"replication-state\":\"Established\",\"peer-disk-state\":\"UpToDate\",\"percent-in-sync\":100.0" ;;
	esac
	printf '[{"name":"bollard-db","node-id":0,"role":"Primary","devices":[{"volume":0,"minor":100,"disk-state":"UpToDate"}],"connections":[{"peer-node-id":1,"name":"nodeb","connection-state":"Connected","peer_devices":[{"volume":0,%s}]}]}]\n' "$pd" > "$T/status.json.new"
	mv "$T/status.json.new" "$T/status.json"
}
cat > "$T/bin/drbdsetup" <<SH
#!/bin/sh
echo "drbdsetup \$*" >> "$T/calls"
case "\$1" in
show) cat "$T/show" ;;
status) cat "$T/status.json" ;;
*) exit 20 ;;
esac
SH
cat > "$T/bin/lvs" <<SH
#!/bin/sh
echo "lvs" >> "$T/calls"
cat "$T/lvs"
SH
for f in drbdadm drbdmeta lvcreate lvremove; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 1\n' "$f" "$T" > "$T/bin/$f"
done
chmod +x "$T"/bin/*
: > "$T/calls"

etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
B apply -f "$CASE/desired.yaml" >/dev/null || die apply
status_json sync 12.5
PATH="$T/bin:$PATH" "$BUILD/bollardd" --etcd "$ETCD_URL" --node nodea --only drbd \
	--state-dir "$T/state" --drbd-dir "$T/etc" --resync 3600 >"$T/d.log" 2>&1 &
DPID=$!
cleanup_add "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
row() { B get volume db | awk '$1 == "db"'; }
has() { "$BUILD/bollard" --etcd "$ETCD_URL" get volume db | grep -q -- "$1"; }
insync() { local r; r=$("$BUILD/bollard" --etcd "$ETCD_URL" get volume db) &&
	grep -q 'nodea:Primary/UpToDate nodeb:offline' <<<"$r" && ! grep -q '%' <<<"$r"; }
export -f has insync; export BUILD ETCD_URL
wait_for 30 bash -c "has 'nodea:Primary/UpToDate nodeb:offline 12%'" ||
	{ cat "$T/d.log" "$T/calls"; die "no resync status: $(row)"; }
count() { grep -c "^$1" "$T/calls"; }
rounds=$(count lvs)
[ "$rounds" -ge 1 ] || die "no DRBD round ran (no lvs call)"
grep -qE '^(drbdadm|lvcreate|drbdmeta)' "$T/calls" &&
	{ cat "$T/calls"; die "the recorded state did not converge: something was applied or probed"; }
# A converged round: this node's DRBD config is rendered, and says so
# (what the Pacemaker leader waits for before it adds the DRBD clone).
etcdctl_t get --print-value-only /bollard/v1/status/Volume/db/nodea | grep -q '"configured":true' ||
	die "status lacks drbd.configured: $(etcdctl_t get --print-value-only /bollard/v1/status/Volume/db/nodea)"

# The percentage moves through polls alone: more status calls, no round.
polls=$(count "drbdsetup status")
status_json sync 57.9
wait_for 30 bash -c "has 'nodea:Primary/UpToDate nodeb:offline 57%'" ||
	{ cat "$T/d.log"; die "resync progress not polled: $(row)"; }
[ "$(count "drbdsetup status")" -gt "$polls" ] || die "status changed without a status call?"
[ "$(count lvs)" = "$rounds" ] ||
	{ cat "$T/calls"; die "a DRBD round ran to refresh the percentage ($rounds -> $(count lvs) lvs calls)"; }
[ "$(count "drbdsetup show")" = "$rounds" ] || { cat "$T/calls"; die "the poll ran drbdsetup show"; }
echo "ok: resync percent refreshed by drbdsetup status alone ($((\
	$(count "drbdsetup status") - polls)) poll(s)), no DRBD round"

# In sync: the status says so, and the polling stops.
status_json insync
wait_for 30 bash -c insync || { cat "$T/d.log"; die "in-sync state not written: $(row)"; }
n=$(count "drbdsetup status")
sleep 12    # more than two poll periods (5 s)
[ "$(count "drbdsetup status")" = "$n" ] ||
	{ tail "$T/calls"; die "still polling after the resync ended ($n -> $(count "drbdsetup status"))"; }
[ "$(count lvs)" = "$rounds" ] || die "a DRBD round ran while idle"
echo "ok: in sync, DRBD is no longer polled"

# The lease is lost under the running bollardd (revoked here; in life: etcd
# unreachable, or the loop stalled past the TTL): etcd drops the status
# with it. Nothing changes in DRBD and no round or poll runs now, so only
# the re-put on the new lease brings it back.
lease_of() { etcdctl_t get -w json "$1" |
	python3 -c 'import json,sys; k=json.load(sys.stdin).get("kvs",[]); print(k[0].get("lease",0) if k else "none")'; }
K=/bollard/v1/status/Volume/db/nodea
sl=$(lease_of $K)
[ "$sl" != none ] && [ "$sl" != 0 ] || die "status not lease-bound: $sl"
etcdctl_t lease revoke "$(printf '%x' "$sl")" >/dev/null || die "lease revoke"
wait_for 30 sh -c "[ -n \"\$(ETCDCTL_API=3 etcdctl --endpoints=$ETCD_URL get --print-value-only $K)\" ]" ||
	{ cat "$T/d.log"; die "Volume status not put again after its lease was lost"; }
nl=$(lease_of $K)
[ "$nl" != "$sl" ] && [ "$nl" = "$(lease_of /bollard/v1/nodes/lab/nodea)" ] ||
	die "status lease after re-grant: $nl (old $sl, heartbeat $(lease_of /bollard/v1/nodes/lab/nodea))"
[ "$(count lvs)" = "$rounds" ] || die "a DRBD round ran"
insync || die "after re-grant: $(row)"
echo "ok: a lost lease: the Volume status is put again under the new one, with no DRBD round"
