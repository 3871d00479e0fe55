#!/usr/bin/env bash
# A governed Volume reaches a Target's LUN at the generation its rollout
# admitted (a real bollardd, which also leads the fleet role, and a real
# bollard-target): Volume v1 (file-backed, replication none) and Target t1
# both labelled app=demo.
#   1. paused: v1's backing file changes (generation 2): across resyncs
#      and sweeps t1 and t2 (ungoverned, also on v1) stay Ready on the old
#      file (the target reconciler loads the admitted copy of v1; with the
#      newest one their status would report CreateOnlyDrift);
#   2. resumed: the admitted generation 2 reaches the reconcile, which
#      reports the path change as CreateOnlyDrift (a live LUN is never
#      recreated): t1 is not Ready, the gate fails, the rollout halts
#      (exit 1), and LUN 0 still serves the old file;
#   3. v1 back to the old file (generation 3): a new revision, complete;
#   4. paused again: a new governed Volume v2 and a change of t1 adding it
#      as LUN 1, in one change; Target t2, ungoverned, also gets v2 as a
#      LUN: its reconcile is not applied while v2 waits for its admission
#      (never the newest v2 before its cluster gets it), then, resumed,
#      both get LUN 1.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"

ctl_setup
CTL_ARGS="--lease-ttl 2 --resync 2"
start_ctl
show() { "$BUILD/bollard" target --socket "$T/t.sock" show -o json; }
lun_path() { # iqn-suffix lun
	show | python3 -c '
import json, sys
ts = json.load(sys.stdin)
ts = ts if isinstance(ts, list) else ts.get("targets", ts)
for t in ts:
    if t["iqn"].endswith(":" + sys.argv[1]):
        for l in t.get("luns", []):
            if l["lun"] == int(sys.argv[2]):
                print(l["path"])' "$1" "$2"; }
path_is() { lun_path "$1" "$2" | grep -q "$3"; }
fail() { echo "--- ctl.log"; tail -30 "$T/ctl.log"; show; etcdctl_t get --prefix /bollard/v1/status/; B rollout status demo --no-wait; die "$*"; }
vol_yaml() { # name file [labels]
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: $1, labels: {${3:-app: demo}}}
spec: {cluster: local, size: 16Mi, backing: {type: file, path: volumes/$2.img}, replication: none}
Y
}
target_yaml() { # name labels luns
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: $1, labels: {$2}}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:$1
  luns: [$3]
  acls: [{initiator: "*"}]
Y
}
cat >"$T/base.yaml" <<Y
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: local}
spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}
---
$(vol_yaml v1 a)
---
$(target_yaml t1 "app: demo" "{lun: 0, volume: v1}")
---
$(target_yaml t2 "app: other" "{lun: 0, volume: v1}")
---
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  clusterSelector: {}
  objectSelector: {matchLabels: {app: demo}}
  healthGate: {stableFor: 1s, timeout: 30s}
  paused: true
Y
B apply -f "$T/base.yaml" >/dev/null || die "apply base"
wait_for 20 path_is t1 0 volumes/a.img || fail "t1 LUN 0 never served from a.img"
rec() { etcdctl_t get --print-value-only /bollard/v1/rollouts/demo/admitted/local; }
baseline() { rec | grep -q '"objects":{"Target/t1":1,"Volume/v1":1}'; }
wait_for 10 baseline || fail "no baseline record naming t1 and v1: $(rec)"

# 1. paused: the new backing file is not what the reconcile sees
tst() { etcdctl_t get --print-value-only "/bollard/v1/status/Target/$1/local"; }
ready() { tst "$1" | grep -q '"reason":"Converged","status":"True","type":"Ready"'; }
vol_yaml v1 b | B apply -f - >/dev/null || die "apply v1 b"
sleep 5   # resyncs and sweeps
path_is t1 0 volumes/a.img || fail "t1 LUN 0 left a.img: $(lun_path t1 0)"
ready t1 || fail "t1 not Ready while paused (did it see the newest v1?): $(tst t1)"
ready t2 || fail "t2 not Ready while paused (did it see the newest v1?): $(tst t2)"
echo "ok: paused: t1 and t2 Ready on a.img, v1 at its admitted generation"

# 2. resume: generation 2 is reconciled, its drift fails the gate
B rollout resume demo >/dev/null || die resume
B rollout status demo --timeout 60s >"$T/st.out"; rc=$?
[ $rc = 1 ] || { cat "$T/st.out"; fail "status after resume: exit $rc, want 1 (halted)"; }
grep -q Halted "$T/st.out" || { cat "$T/st.out"; fail "not Halted"; }
tst t1 | grep -q 'CreateOnlyDrift.*wants [^ ]*volumes/b.img' || fail "t1 does not report the admitted path: $(tst t1)"
path_is t1 0 volumes/a.img || fail "LUN 0 recreated: $(lun_path t1 0)"
echo "ok: admitted: generation 2 reached the reconcile (CreateOnlyDrift), the gate halted the rollout"

# 3. fix: back to the old file
vol_yaml v1 a | B apply -f - >/dev/null || die "apply v1 a"
B rollout status demo --timeout 60s >"$T/st1.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st1.out"; fail "status after the fix: exit $rc, want 0"; }
wait_for 10 ready t1 || fail "t1 not Ready after the fix: $(tst t1)"
echo "ok: generation 3 rolled out"

# 4. a governed Volume's creation gates an ungoverned Target using it
B rollout pause demo >/dev/null || die pause
{ vol_yaml v2 c; echo ---; target_yaml t1 "app: demo" "{lun: 0, volume: v1}, {lun: 1, volume: v2}"; echo ---;
  target_yaml t2 "app: other" "{lun: 0, volume: v1}, {lun: 1, volume: v2}"; } | B apply -f - >/dev/null ||
	die "apply v2, t1, t2"
sleep 5
[ -n "$(lun_path t1 1)" ] && fail "t1 got LUN 1 while paused"
[ -n "$(lun_path t2 1)" ] && fail "t2 got LUN 1 from a Volume not admitted yet"
path_is t2 0 volumes/a.img || fail "t2 lost LUN 0 while v2 waits: $(lun_path t2 0)"
grep -q "Target/t2: .*not admitted yet" "$T/ctl.log" || fail "t2's held reconcile not logged"
B rollout resume demo >/dev/null || die resume
B rollout status demo --timeout 60s >"$T/st2.out"; rc=$?
[ $rc = 0 ] || { cat "$T/st2.out"; fail "status after the second resume: exit $rc, want 0"; }
wait_for 20 path_is t1 1 volumes/c.img || fail "t1 LUN 1 not on c.img after the admission"
wait_for 20 path_is t2 1 volumes/c.img || fail "t2 LUN 1 not on c.img after v2's admission"
echo "PASS: rollout_volume_target"
