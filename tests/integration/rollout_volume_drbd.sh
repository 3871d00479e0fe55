#!/usr/bin/env bash
# A Rollout gates replicated Volumes: bollardd's DRBD round reconciles the
# generation admitted to its cluster, its Volume status reports that
# generation, the fleet controller's health gate waits for it on every
# node, and a rolled-back Volume creation keeps the Volume and its data.
#
# Real etcd, a real bollardd (--only drbd) for node nodea, a real
# `bollardd --rollouts-only`. There is no DRBD kernel module here, so
# drbdsetup, drbdadm, drbdmeta, lvs, lvcreate and lvremove are fakes on
# bollardd's PATH that keep their "kernel" state in files (as in
# drbd_apply.sh): `drbdadm adjust R` brings R up as its .res file says
# (minor, port), an LV is a file under $S/lv (its data). The second node,
# nodeb, is simulated by this script: a heartbeat bound to a lease, and
# for every Volume its cluster's admission record names, a Volume status
# at the admitted generation, Ready (or not, for the Volumes in $S/fail).
#   1. paused: Volume db's port changes (generation 2); nodea keeps its
#      DRBD config at generation 1 (.res, no adjust) across resyncs, and
#      its status says observedGeneration 1;
#   2. resumed: the config moves to generation 2, the status says 2, the
#      rollout completes (exit 0);
#   3. a new Volume db2 (deletionPolicy Delete) is held while paused
#      (no LV, status AwaitingAdmission), created once admitted (the test
#      writes a marker into its LV), then nodeb never gets it Ready: the
#      gate fails, onFailure: rollback. The rollback keeps db2 at its
#      admitted generation (record "objects", never "absent"): no
#      lvremove, no down, its .res and the marker stay, across resyncs;
#      db, changed back to port 7789 in the same change (generation 3),
#      goes back to generation 2 (port 7790);
#   4. undo: db's last change (generation 3, port 7789) is undone as
#      generation 4 (generation 2's spec, port 7790); db2, which the
#      rollback kept (its record's "previous" names it), is left alone;
#      that rolls out (exit 0).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
[ -e /proc/drbd ] && skip "a DRBD module is loaded here: the fakes would not be asked for everything"
for b in bollard bollardd; do [ -x "$BUILD/$b" ] || die "$BUILD/$b not built"; done
mk_tmp T
S=$T/s
mkdir -p "$T/bin" "$T/etc" "$T/state" "$S/res" "$S/lv"
REC=$TOP/tests/plans/drbd-unchanged/observed.rec
sect() { awk -v k=">>> $1" '/^>>> /{p = ($0 == k); next} p' "$REC"; }
sect "drbdsetup show" > "$S/show.tpl"
sect "file /etc/drbd.d/bollard-db.res" > "$T/etc/bollard-db.res"
[ -s "$S/show.tpl" ] && [ -s "$T/etc/bollard-db.res" ] || die "recording not found in $REC"
echo "  vg0|bollard-db|67108864" > "$S/lvs"
: > "$S/log"; : > "$S/fail"
export S ETC=$T/etc

# up RES: the live state of RES as its .res file says (minor, nodea port)
cat > "$T/bin/drbd-up" <<'EOF'
#!/bin/sh
res=$1 cfg=$ETC/$1.res
minor=$(sed -n 's/.*device minor \([0-9]*\);.*/\1/p' "$cfg" | head -1)
port=$(sed -n 's/.*address ipv4 10.0.0.1:\([0-9]*\);.*/\1/p' "$cfg" | head -1)
sed -e "s/bollard-db/$res/g" -e "s/minor 100/minor $minor/" -e "s/:7789/:$port/g" \
	"$S/show.tpl" > "$S/res/$res.show"
printf '{"name":"%s","node-id":0,"role":"Secondary","suspended":false,"devices":[{"volume":0,"minor":%s,"disk-state":"UpToDate"}],"connections":[{"peer-node-id":1,"name":"nodeb","connection-state":"Connected"}]}' \
	"$res" "$minor" > "$S/res/$res.status"
EOF
cat > "$T/bin/drbdsetup" <<'EOF'
#!/bin/sh
echo "drbdsetup $*" >> "$S/log"
case "$1" in
show) cat "$S"/res/*.show 2>/dev/null; exit 0 ;;
status) printf '['; first=1
	for f in "$S"/res/*.status; do [ -e "$f" ] || continue
		[ $first = 1 ] || printf ','; first=0; cat "$f"; done
	echo ']' ;;
down) rm -f "$S/res/$2".* ;;
*) exit 20 ;;
esac
EOF
cat > "$T/bin/drbdadm" <<'EOF'
#!/bin/sh
case " $* " in *" sh-nop "*) echo "drbdadm sh-nop" >> "$S/log"; exit 0 ;; esac
echo "drbdadm $*" >> "$S/log"
case "$1" in
adjust) "$(dirname "$0")/drbd-up" "$2" ;;
down) rm -f "$S/res/$2".* ;;
esac
exit 0
EOF
cat > "$T/bin/drbdmeta" <<'EOF'
#!/bin/sh
echo "drbdmeta $*" >> "$S/log"
exit 0
EOF
cat > "$T/bin/lvs" <<'EOF'
#!/bin/sh
cat "$S/lvs"
EOF
cat > "$T/bin/lvcreate" <<'EOF'
#!/bin/sh
echo "lvcreate $*" >> "$S/log"
while [ $# -gt 1 ]; do case "$1" in -n) n=$2 ;; -L) s=${2%b} ;; esac; shift; done
echo "  $1|$n|$s" >> "$S/lvs"
: > "$S/lv/$n"
EOF
cat > "$T/bin/lvremove" <<'EOF'
#!/bin/sh
echo "lvremove $*" >> "$S/log"
for a; do case "$a" in */*) lv=${a#*/}
	grep -v "|$lv|" "$S/lvs" > "$S/lvs.new"; mv "$S/lvs.new" "$S/lvs"; rm -f "$S/lv/$lv" ;; esac; done
EOF
chmod +x "$T"/bin/*
PATH="$T/bin:$PATH" "$T/bin/drbd-up" bollard-db

etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
vol_yaml() { # name port minor policy
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $1, labels: {app: demo}}
spec:
  cluster: lab
  size: 64Mi
  backing: {type: lvm, vg: vg0}
  replication: {protocol: C, port: $2, minor: $3}
  deletionPolicy: $4
Y
}
cat > "$T/base.yaml" <<Y
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  ha: pacemaker
  quorum: none
  nodes:
    - {name: nodea, address: 192.0.2.1, replicationAddress: 10.0.0.1}
    - {name: nodeb, address: 192.0.2.2, replicationAddress: 10.0.0.2}
---
$(vol_yaml db 7789 100 Retain)
---
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: vols}
spec:
  clusterSelector: {}
  objectSelector: {matchLabels: {app: demo}}
  healthGate: {stableFor: 1s, timeout: 15s}
  onFailure: rollback
  paused: true
Y
B apply -f "$T/base.yaml" >/dev/null || die "apply base"

# nodeb, simulated: heartbeat and Volume status at the admitted generation.
LEASE=$(etcdctl_t lease grant 30 | awk '{print $2}')
[ -n "$LEASE" ] || die "no lease"
etcdctl_t lease keep-alive "$LEASE" >/dev/null 2>&1 &
KPID=$!
cleanup_add "kill $KPID 2>/dev/null; wait $KPID 2>/dev/null"
etcdctl_t put --lease="$LEASE" /bollard/v1/nodes/lab/nodeb '{"node":"nodeb","version":"v1"}' >/dev/null ||
	die "nodeb heartbeat"
rec() { etcdctl_t get --print-value-only /bollard/v1/rollouts/vols/admitted/lab; }
nodeb() {
	local last=""
	while :; do
		local r; r=$(rec)
		if [ -n "$r" ] && [ "$r|$(cat "$S/fail")" != "$last" ]; then
			last="$r|$(cat "$S/fail")"
			python3 - "$r" "$(cat "$S/fail")" <<'PY' | while read -r v st; do
import json, sys
rec, fail = json.loads(sys.argv[1]), sys.argv[2].split()
for k, g in rec.get("objects", {}).items():
    if not k.startswith("Volume/"):
        continue
    v = k[7:]
    ok = v not in fail
    print(v, json.dumps({"node": "nodeb", "observedGeneration": g,
        "conditions": [{"type": "Ready", "status": "True" if ok else "False",
                        "reason": "Converged" if ok else "Disconnected", "message": ""}],
        "drbd": {"role": "Secondary", "diskState": "UpToDate", "configured": True}},
        separators=(",", ":")))
PY
				etcdctl_t put "/bollard/v1/status/Volume/$v/nodeb" "$st" >/dev/null
			done
		fi
		sleep 0.5
	done
}
nodeb &
NPID=$!
cleanup_add "kill $NPID 2>/dev/null; wait $NPID 2>/dev/null"

PATH="$T/bin:$PATH" "$BUILD/bollardd" --etcd "$ETCD_URL" --node nodea --only drbd \
	--state-dir "$T/state" --drbd-dir "$T/etc" --resync 3 --lease-ttl 3 >"$T/d.log" 2>&1 &
DPID=$!
cleanup_add "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node fleet >"$T/fleet.log" 2>&1 &
FPID=$!
cleanup_add "kill $FPID 2>/dev/null; wait $FPID 2>/dev/null"
fail() {
	echo "--- bollardd"; tail -25 "$T/d.log"; echo "--- fleet"; tail -15 "$T/fleet.log"
	echo "--- drbd calls"; tail -20 "$S/log"; echo "--- record: $(rec)"
	B rollout status vols --no-wait; die "$*"
}
vst() { etcdctl_t get --print-value-only "/bollard/v1/status/Volume/$1/nodea"; }
vgen() { vst "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["observedGeneration"])'; }
vready() { vst "$1" | grep -q '"reason":"Converged","status":"True","type":"Ready"'; }
at_gen() { [ "$(vgen "$1")" = "$2" ] && vready "$1"; }
wait_for 20 at_gen db 1 || fail "nodea's status of db never Ready at generation 1: $(vst db)"
baseline() { rec | grep -q '"objects":{"Volume/db":1}'; }
wait_for 10 baseline ||
	fail "no baseline record naming Volume/db"
grep -q '^drbdadm adjust' "$S/log" && fail "the recorded state did not converge: adjust ran"
echo "ok: db converged at generation 1, baseline recorded"

# 1. paused: a new port is not reconciled
vol_yaml db 7790 100 Retain | B apply -f - >/dev/null || die "apply db port 7790"
[ "$(B get volume db -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])')" = 2 ] ||
	die "db is not at generation 2 in the store"
sleep 7    # two resyncs (3 s)
grep -q ':7790' "$T/etc/bollard-db.res" && fail "the paused change reached the DRBD config"
grep -q '^drbdadm adjust bollard-db' "$S/log" && fail "adjust ran for a paused change"
[ "$(vgen db)" = 1 ] || fail "status of db says generation $(vgen db), want 1 (admitted)"
B rollout status vols --no-wait >/dev/null; rc=$?
[ $rc = 3 ] || fail "status --no-wait of the paused rollout: exit $rc, want 3"
echo "ok: paused: db's DRBD config stays at generation 1, status says 1"

# 2. resume: admitted, reconciled, gate passes
B rollout resume vols >/dev/null || die resume
B rollout status vols --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 0"; }
grep -q ':7790' "$T/etc/bollard-db.res" || fail "db's config not at generation 2 after its admission"
grep -q '^drbdadm adjust bollard-db' "$S/log" || fail "no adjust after the admission"
at_gen db 2 || fail "status of db not Ready at generation 2: $(vst db)"
echo "ok: admitted: db's config and status at generation 2, rollout complete"

# 3. a Volume creation rolled back keeps the Volume and its data
B rollout pause vols >/dev/null || die pause
echo db2 > "$S/fail"
vol_yaml db2 7791 101 Delete | B apply -f - >/dev/null || die "apply db2"
vol_yaml db 7789 100 Retain | B apply -f - >/dev/null || die "apply db back to 7789"
# (db back to port 7789 as generation 3, with db2, in one paused change)
sleep 5
grep -q 'lvcreate.*bollard-db2' "$S/log" && fail "db2's LV created while its creation waits"
[ -e "$T/etc/bollard-db2.res" ] && fail "db2's config written while its creation waits"
vst db2 | grep -q '"reason":"AwaitingAdmission"' || fail "db2's status does not say it awaits admission: $(vst db2)"
B rollout resume vols >/dev/null || die resume
wait_for 20 test -e "$S/lv/bollard-db2" || fail "db2's LV not created after its admission"
printf 'bollard-volume-marker' > "$S/lv/bollard-db2"
wait_for 20 at_gen db2 1 || fail "db2 not up on nodea at generation 1: $(vst db2)"
B rollout status vols --timeout 60s >"$T/st2.out"; rc=$?
[ $rc = 1 ] || { cat "$T/st2.out"; fail "status of the failing rollout: exit $rc, want 1"; }
grep -q RolledBack "$T/st2.out" || { cat "$T/st2.out"; fail "not RolledBack"; }
python3 - "$(rec)" <<'PY' || fail "rollback record: $(rec)"
import json, sys
r = json.loads(sys.argv[1])
assert r["objects"].get("Volume/db2") == 1, "db2 not kept in objects"
assert r["previous"].get("Volume/db2") == 1, "db2 not kept in previous"
assert "Volume/db2" not in r.get("absent", {}), "db2 listed absent"
assert r["objects"].get("Volume/db") == 2, "db not rolled back to generation 2"
PY
sleep 7    # resyncs
grep -E 'lvremove|drbdsetup down bollard-db2|drbdadm down bollard-db2' "$S/log" &&
	fail "the rollback took db2 down or removed its LV"
[ -e "$T/etc/bollard-db2.res" ] || fail "db2's config removed by the rollback"
grep -q bollard-volume-marker "$S/lv/bollard-db2" || fail "db2's data lost by the rollback"
at_gen db2 1 || fail "db2's status after the rollback: $(vst db2)"
grep -q ':7790' "$T/etc/bollard-db.res" || fail "db not back at generation 2 (port 7790) after the rollback"
[ "$(vgen db)" = 2 ] || fail "db's status says generation $(vgen db) after the rollback, want 2"
echo "ok: rolled back: db2 kept (no down, no lvremove, data there), db back at generation 2"

# 4. undo: db's last change undone, db2 kept, rolls out
: > "$S/fail"
B rollout undo vols >"$T/undo.out" || { cat "$T/undo.out"; fail "undo failed"; }
grep -q "volume/db2" "$T/undo.out" && { cat "$T/undo.out"; fail "undo touched db2 (the rollback kept it: nothing to undo)"; }
grep -q "volume/db: generation 4 restores the spec of generation 2" "$T/undo.out" ||
	{ cat "$T/undo.out"; fail "undo did not restore db"; }
B get volume db2 >/dev/null || fail "undo deleted db2"
B rollout status vols --timeout 60s >"$T/st3.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st3.out"; fail "status after undo: exit $rc, want 0"; }
grep -q ':7790' "$T/etc/bollard-db.res" || fail "db not at port 7790 after undo"
wait_for 10 at_gen db 4 || fail "db's status not at generation 4: $(vst db)"
grep -q bollard-volume-marker "$S/lv/bollard-db2" || fail "db2's data lost after undo"
grep -q lvremove "$S/log" && fail "an LV was removed"
echo "PASS: rollout_volume_drbd"
