#!/usr/bin/env bash
# mgmt_attach.sh - LUN backings attach when a target is enabled and detach
# when it is disabled, against a real bollard-target (the HA staging flow:
# bollardd stages every target on every node, the OCF agent enables it on
# the one Pacemaker picks; a passive node's backing cannot be opened).
#   1. lun add on a disabled target with a backing that does not exist yet:
#      staged, accepted, shown with "attached": false.
#   2. enable fails naming the LUN and path; the target stays disabled.
#   3. the backing appears; enable succeeds; an initiator reads LUN 0.
#   4. disable: bollard-target no longer holds the backing open
#      (/proc/<pid>/fd), and the LUN is still listed, "attached": false.
. "$(dirname "$0")/../lib/common.sh"

[ -x "$BUILD/bollard-target" ] || skip "no $BUILD/bollard-target (make first)"
[ -x "$BOLLARD" ] || skip "no $BOLLARD (make first)"
command -v iscsi-inq >/dev/null || skip "iscsi-inq missing (Debian libiscsi-bin)"
command -v jq >/dev/null || skip "jq missing"

mk_tmp T
# Private copies: other builds may relink build/ while we run.
cp "$BUILD/bollard-target" "$BUILD/bollard" "$T/"
TGT=$T/bollard-target
BL=$T/bollard
PORT=$(free_port) || die "no free port"
SOCK=$T/run/target.sock
IQN=iqn.2024-01.io.bollard.test:attach
DISK=$T/later.img

"$TGT" --listen 127.0.0.1:$PORT --socket "$SOCK" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$SOCK" || { cat "$T/target.log"; die "socket $SOCK never appeared"; }

bt() { "$BL" target --socket "$SOCK" "$@"; }
show() { bt show -o json >"$T/show.json" || die "show"; }
j() { jq -e "$1" "$T/show.json" >/dev/null || die "show -o json: $1 is false: $(cat "$T/show.json")"; }
# Is the backing open in bollard-target? (fd links name the file)
holds_backing() {
	local fd
	for fd in /proc/$TPID/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$DISK" ] && return 0
	done
	return 1
}

# ---- 1. staged: the backing does not exist yet ----
bt create "$IQN" || die "create"
bt acl add "$IQN" '*' || die "acl add"
bt lun add "$IQN" 0 "$DISK" || die "lun add of a not-yet-existing backing on a disabled target was refused"
show
j '.targets[0].enabled == false'
j '.targets[0].luns | length == 1'
j ".targets[0].luns[0].path == \"$DISK\""
j '.targets[0].luns[0].attached == false'
j '.targets[0].luns[0].blocks == 0'
j ".targets[0].luns[0].uid == \"$IQN:0\""
bt show -o table >"$T/show.table" || die "show -o table"
grep -q 'ATTACHED' "$T/show.table" || die "table lacks the ATTACHED column: $(cat "$T/show.table")"

# ---- 2. enable fails, clearly, and the target stays disabled ----
bt enable "$IQN" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || die "enable with a missing backing: exit $rc, want 1 ($(cat "$T/err"))"
grep -q "lun 0: $DISK: backing store could not be opened" "$T/err" ||
	die "enable error does not name the LUN and path: $(cat "$T/err")"
show
j '.targets[0].enabled == false'
j '.targets[0].luns[0].attached == false'

# ---- 3. the backing appears: enable works, an initiator reads LUN 0 ----
truncate -s 16M "$DISK"
bt enable "$IQN" || die "enable after the backing appeared"
show
j '.targets[0].enabled == true'
j '.targets[0].luns[0].attached == true'
j '.targets[0].luns[0].blocks == 32768'
j '.targets[0].luns[0].naa | test("^[0-9A-Fa-f]{32}$")'
holds_backing || die "enabled, yet bollard-target does not hold $DISK open"
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >"$T/inq" 2>&1 || die "iscsi-inq failed: $(cat "$T/inq")"
grep -q 'DIRECT_ACCESS' "$T/inq" || die "iscsi-inq: $(cat "$T/inq")"

# ---- 4. disable: the backing is closed, the map is kept ----
bt disable "$IQN" || die "disable"
closed() { ! holds_backing; }
wait_for 10 closed || die "disabled, yet bollard-target still holds $DISK open: $(ls -l /proc/$TPID/fd)"
show
j '.targets[0].enabled == false'
j '.targets[0].luns | length == 1'
j ".targets[0].luns[0].path == \"$DISK\""
j '.targets[0].luns[0].attached == false'
iscsi-inq "iscsi://127.0.0.1:$PORT/$IQN/0" >"$T/inq2" 2>&1 && die "iscsi-inq worked against a disabled target"
# and enable again reopens it
bt enable "$IQN" || die "re-enable"
holds_backing || die "re-enabled, yet $DISK is not open"
bt disable "$IQN" || die "disable 2"
bt delete "$IQN" || die "delete"

kill -0 $TPID 2>/dev/null || die "bollard-target died: $(cat "$T/target.log")"
echo "mgmt_attach: ok"
