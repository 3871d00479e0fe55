# tests/integration/target_lib.bash - helpers for the bollard-target
# integration tests (sourced after tests/lib/common.sh; not a test itself).
#
#   bt_need                    skip (77) unless the binaries and tools exist
#   bt_start [ARGS...]         start bollard-target on a free port with a
#                              management socket; sets BT_PORT BT_SOCK BT_PID
#                              BT_LOG; stopped at exit
#   btctl ARGS...              bollard target --socket $BT_SOCK ARGS
#   bt_target IQN FILE [SIZE]  create a target with LUN 0 on FILE, admit any
#                              initiator, enable it (management CLI)
#   bt_alive                   the daemon still runs
#   bt_stop                    SIGTERM and wait (fails if exit code != 0)

BT_TARGET_BIN=$BUILD/bollard-target
BT_RW=$BUILD/tests/bt-iscsi-rw
# The management CLI may come from another build (the sanitizer run builds
# only the daemon and the test client): BT_CLI=/path/to/bollard.
BOLLARD=${BT_CLI:-$BOLLARD}

bt_need() {
	[ -x "$BT_TARGET_BIN" ] || skip "$BT_TARGET_BIN not built"
	[ -x "$BT_RW" ] || skip "$BT_RW not built"
	[ -x "$BOLLARD" ] || skip "$BOLLARD (management CLI) not built"
	command -v iscsi-inq >/dev/null || skip "libiscsi-bin not installed"
	mk_tmp BT_TMP
}

bt_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bt_start() {
	BT_PORT=$(free_port) || die "no free port"
	BT_SOCK=$BT_TMP/target.sock
	BT_LOG=$BT_TMP/target.log
	"$BT_TARGET_BIN" --listen "127.0.0.1:$BT_PORT" --socket "$BT_SOCK" -v "$@" \
		>"$BT_LOG" 2>&1 &
	BT_PID=$!
	cleanup_add "bt_kill $BT_PID"
	if ! wait_for 10 bt_port_open "$BT_PORT"; then
		cat "$BT_LOG" >&2
		die "bollard-target did not start"
	fi
	wait_for 10 test -S "$BT_SOCK" || die "no management socket"
	BT_URL=iscsi://127.0.0.1:$BT_PORT
}

bt_kill() { # PID: stop a daemon left running by a failed test
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null || true
}

btctl() { "$BOLLARD" target --socket "$BT_SOCK" "$@"; }

bt_target() { # IQN FILE [SIZE]
	truncate -s "${3:-64M}" "$2"
	btctl create "$1" >/dev/null || die "create $1"
	btctl lun add "$1" 0 "$2" >/dev/null || die "lun add $1"
	btctl acl add "$1" '*' >/dev/null || die "acl add $1"
	btctl enable "$1" >/dev/null || die "enable $1"
}

bt_alive() { kill -0 "$BT_PID" 2>/dev/null; }

bt_stop() {
	local rc
	kill -TERM "$BT_PID"
	wait "$BT_PID"; rc=$?
	[ "$rc" = 0 ] || { cat "$BT_LOG" >&2; die "bollard-target exited with $rc"; }
}
