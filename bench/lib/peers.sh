# bench/lib/peers.sh - start the targets a benchmark compares, the same way
# in every bench. Sourced after tests/lib/common.sh (free_port, cleanup_add,
# wait_for, $T). Each function exits the bench with a message on failure.

# tgt_start IQN IMAGE CTL_BASE: tgtd with one target (tid 1) and LUN 1 on
# IMAGE, open to every initiator. Sets TPORT (iSCSI) and CPORT (control).
# CTL_BASE keeps two benches' control ports apart.
tgt_start() {
	TPORT=$(free_port)
	CPORT=$((TPORT % 1000 + $3))
	tgtd -f -C "$CPORT" --iscsi "portal=127.0.0.1:$TPORT" >"$T/tgtd.log" 2>&1 &
	local pid=$!
	# tgtd ignores SIGTERM while targets exist: delete the target, then KILL.
	cleanup_add "tgtadm -C $CPORT --lld iscsi --op delete --force --mode target --tid 1 >/dev/null 2>&1; kill -KILL $pid 2>/dev/null"
	for _ in $(seq 1 100); do
		tgtadm -C "$CPORT" --lld iscsi --op show --mode target >/dev/null 2>&1 && break
		sleep 0.05
	done
	tgtadm -C "$CPORT" --lld iscsi --op new --mode target --tid 1 -T "$1" || exit 1
	tgtadm -C "$CPORT" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$2" || exit 1
	tgtadm -C "$CPORT" --lld iscsi --op bind --mode target --tid 1 -I ALL || exit 1
}

# bt_start VAR IQN IMAGE LOG [ENV=VALUE ...]: bollard-target ($BT) with LUN 0
# on IMAGE, no NOP-Ins; the port it listens on is stored in VAR. Extra
# ENV=VALUE words go to its environment.
bt_start() {
	local var=$1 iqn=$2 img=$3 log=$4 port pid
	shift 4
	port=$(free_port)
	env "$@" "$BT" -q --listen "127.0.0.1:$port" --target "$iqn" --lun "0:$img" \
		--nop-interval 0 >"$log" 2>&1 &
	pid=$!
	cleanup_add "kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
		{ echo "bollard-target did not start ($log)"; exit 1; }
	printf -v "$var" '%s' "$port"
}
