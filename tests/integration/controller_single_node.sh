#!/usr/bin/env bash
# Single node, real processes: etcd + bollard-target + bollardd.
#   1. apply the quickstart: iscsi-inq reads the LUN, whose NAA is derived
#      from the Volume's uid (a second engine given the same uid shows the
#      same NAA: the identity every node of a cluster presents);
#   2. add a LUN: exactly one engine operation is applied;
#   3. remove a LUN by hand with `bollard target`: restored within the
#      resync period;
#   4. delete the objects: the target is gone, the backing file is kept.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/controller.sh"
command -v iscsi-inq >/dev/null || skip "iscsi-inq (libiscsi-bin) not installed"

ctl_setup
CTL_ARGS="--resync 2"
start_ctl

TG() { "$BUILD/bollard" target --socket "$T/t.sock" "$@"; }
IQN=iqn.2026-11.io.bollard:demo
status() { etcdctl_t get --print-value-only /bollard/v1/status/Target/demo/local; }
ready_at_gen() { # generation
	status | grep -q "\"observedGeneration\":$1," &&
	status | grep -q '"reason":"Converged","status":"True","type":"Ready"'
}
engine_ops() { status | sed -n 's/.*"engineOps":\([0-9]*\).*/\1/p'; }

# 1. quickstart
B apply -f "$TOP/examples/quickstart/" || die "apply quickstart"
wait_for 20 iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" || { cat "$T/ctl.log"; die "LUN 0 never served"; }
wait_for 10 ready_at_gen 1 || { status; cat "$T/ctl.log"; die "status never Ready at generation 1"; }
UID_DEMO=$(B get volume demo -o json | sed -n 's/.*"uid": *"\([^"]*\)".*/\1/p' | head -1)
[ -n "$UID_DEMO" ] || die "no uid on volume demo"
NAA=$(TG show $IQN -o json | sed -n 's/.*"naa": *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
[ -n "$NAA" ] || die "no NAA in the engine dump"
iscsi-inq -e 1 -c 131 "iscsi://127.0.0.1:$PORT/$IQN/0" >"$T/vpd83" 2>&1
# iscsi-inq prints the binary NAA designator raw: hex it.
WIRE=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"Designator Type:(3) NAA")
j = d.index(b"Designator:[", i) + len(b"Designator:[")
print(d[j:j + 16].hex().upper())' "$T/vpd83")
[ "$WIRE" = "$(echo "$NAA" | tr a-f A-F)" ] || die "VPD 0x83 NAA $WIRE, engine says $NAA"
# The LUN keeps its PR state on the volume (features.persistentReservations,
# on by default): prstore is set and the last MiB is not in the capacity.
read -r PRS CAP < <(TG show $IQN -o json | python3 -c '
import json, sys
l = json.load(sys.stdin)["targets"][0]["luns"][0]
print(l["features"] & 0x10, l["blocks"] * l["blockSize"])')
FSZ=$(stat -c %s "$T/state/volumes/demo.img")
[ "$PRS" = 16 ] || die "LUN 0 made without the PR store (features lack prstore)"
[ $((FSZ - CAP)) -ge 1048576 ] || die "capacity $CAP includes the PR region of the $FSZ-byte volume"
# Same uid on another engine (another node) -> same NAA.
P2=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$P2 --socket "$T/t2.sock" >"$T/target2.log" 2>&1 &
T2PID=$!
cleanup_add "kill $T2PID 2>/dev/null; wait $T2PID 2>/dev/null"
wait_for 10 test -S "$T/t2.sock" || die "second bollard-target did not start"
"$BUILD/bollard" target --socket "$T/t2.sock" create iqn.2026-11.io.bollard:other
"$BUILD/bollard" target --socket "$T/t2.sock" lun add iqn.2026-11.io.bollard:other 7 \
	"$T/state/volumes/demo.img" --uid "$UID_DEMO" || die "lun add on second engine"
# identity is derived when the LUN attaches, which is on enable
"$BUILD/bollard" target --socket "$T/t2.sock" enable iqn.2026-11.io.bollard:other ||
	die "enable on second engine"
NAA2=$("$BUILD/bollard" target --socket "$T/t2.sock" show -o json | sed -n 's/.*"naa": *"\([0-9A-Fa-f]*\)".*/\1/p' | head -1)
[ "$NAA" = "$NAA2" ] || die "same uid, different NAA: $NAA vs $NAA2"
echo "identity: NAA $NAA from uid $UID_DEMO on both engines"

# 2. add a LUN whose backing file exists: exactly one engine operation.
quickstart_lun1 "$T/add.yaml"
ops0=$(engine_ops)
B apply -f "$T/add.yaml" || die "apply add"
wait_for 20 iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/1" || die "LUN 1 never served"
wait_for 10 ready_at_gen 2 || { status; die "status never Ready at generation 2"; }
ops1=$(engine_ops)
[ $((ops1 - ops0)) = 1 ] || { status; die "adding one LUN took $((ops1 - ops0)) engine operations, want 1"; }
echo "add LUN: $((ops1 - ops0)) engine operation"

# 3. drift: an admin removes LUN 1 by hand; the resync (2 s) restores it.
# (No "is it gone" probe in between: the 2 s resync may already have put it
# back. The delete's exit status says it happened; the controller's engine
# operation counter proves the restore was its doing.)
ops2=$(engine_ops)
TG lun del $IQN 1 --force || die "manual lun del"
wait_for 15 iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/1" || die "LUN 1 not restored by resync"
restored() { [ "$(engine_ops)" -gt "$ops2" ]; }
wait_for 10 restored || die "LUN 1 is back but bollardd applied nothing (engine ops $ops2 -> $(engine_ops))"
echo "drift: LUN 1 restored"

# 4. delete: the target goes, the data stays (deletionPolicy Retain).
B delete target demo || die "delete target"
gone() { ! TG show $IQN -o json >/dev/null 2>&1 || ! TG show $IQN -o json | grep -q "\"iqn\""; }
wait_for 15 gone || die "target still in the engine after delete"
[ -f "$T/state/volumes/demo.img" ] && [ -f "$T/extra.img" ] || die "backing files were removed"
echo "delete: target removed, backing files kept"
exit 0
