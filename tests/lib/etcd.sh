# tests/lib/etcd.sh - a throwaway, real etcd for shell tests. Source it
# after tests/lib/common.sh.
#
#   etcd_start      start one node on free 127.0.0.1 ports with its data in
#                   a fresh dir under /dev/shm (else /tmp); wait for /health.
#                   Sets ETCD_URL (http://127.0.0.1:PORT), ETCD_PID,
#                   ETCD_DIR (data in $ETCD_DIR/data, log in $ETCD_DIR/etcd.log),
#                   ETCD_PORT, ETCD_PEER_PORT, ETCD_METRICS_PORT.
#                   Registers its stop and removal with cleanup_add.
#                   Skips the test (exit 77) when etcd is not installed.
#                   TLS: set ETCD_SCHEME=https and ETCD_ARGS to etcd's TLS
#                   flags (--cert-file ... --client-cert-auth ...) first;
#                   /health stays on the plain-http metrics port.
#   etcd_stop       SIGTERM, then SIGKILL after 5 s
#   etcd_kill       SIGKILL (a crash)
#   etcd_restart    stop if running, start again on the same ports and data
#   etcd_healthy    0 if /health answers true
#   etcdctl_t ...   etcdctl (API v3) against $ETCD_URL
#
# One etcd per test script (the variables are plain globals of the script).
# The node runs with --heartbeat-interval=10 --election-timeout=100 and is
# ready in ~0.2 s.

ETCD_URL= ETCD_PID= ETCD_DIR= ETCD_PORT= ETCD_PEER_PORT= ETCD_METRICS_PORT=

etcd_healthy() {
	curl -fsS --max-time 1 "http://127.0.0.1:$ETCD_METRICS_PORT/health" 2>/dev/null |
		grep -q '"health":"true"'
}

_etcd_launch() {
	local name=t$ETCD_PORT pdeath=
	# etcd dies with the test script even if its cleanup never runs.
	[ -x /usr/bin/setpriv ] && pdeath="/usr/bin/setpriv --pdeathsig KILL --"
	# shellcheck disable=SC2086 # ETCD_ARGS is a list of flags
	$pdeath etcd --name "$name" --data-dir "$ETCD_DIR/data" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT" \
		--initial-cluster "$name=http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster-state new \
		--heartbeat-interval=10 --election-timeout=100 \
		--log-level error --logger zap ${ETCD_ARGS:-} >>"$ETCD_DIR/etcd.log" 2>&1 &
	ETCD_PID=$!
	local end=$((SECONDS + 10))
	while ! etcd_healthy; do
		if ! kill -0 "$ETCD_PID" 2>/dev/null; then
			echo "etcd exited; log:" >&2; tail -5 "$ETCD_DIR/etcd.log" >&2
			ETCD_PID=; return 1
		fi
		[ $SECONDS -lt $end ] || { echo "etcd not healthy after 10 s" >&2; return 1; }
		sleep 0.05
	done
}

etcd_start() {
	command -v etcd >/dev/null || skip "etcd not installed (Debian etcd-server)"
	command -v curl >/dev/null || skip "curl not installed"
	local base=/tmp attempt
	[ -w /dev/shm ] && base=/dev/shm
	ETCD_DIR=$(mktemp -d "$base/bollard-etcd.XXXXXX")
	cleanup_add "rm -rf '$ETCD_DIR'"
	cleanup_add "etcd_stop"
	for attempt in 1 2 3; do
		ETCD_PORT=$(free_port) && ETCD_PEER_PORT=$(free_port) &&
			ETCD_METRICS_PORT=$(free_port) || return 1
		[ "$ETCD_PORT" != "$ETCD_PEER_PORT" ] &&
			[ "$ETCD_PEER_PORT" != "$ETCD_METRICS_PORT" ] &&
			[ "$ETCD_PORT" != "$ETCD_METRICS_PORT" ] || continue
		ETCD_URL=${ETCD_SCHEME:-http}://127.0.0.1:$ETCD_PORT
		_etcd_launch && return 0
		etcd_kill
		rm -rf "${ETCD_DIR:?}/data"
	done
	return 1
}

etcd_stop() {
	[ -n "$ETCD_PID" ] || return 0
	kill -CONT "$ETCD_PID" 2>/dev/null
	kill -TERM "$ETCD_PID" 2>/dev/null
	local end=$((SECONDS + 5))
	while kill -0 "$ETCD_PID" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then kill -KILL "$ETCD_PID" 2>/dev/null; fi
		sleep 0.05
	done
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
	return 0
}

etcd_kill() {
	[ -n "$ETCD_PID" ] || return 0
	kill -KILL "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
	return 0
}

etcd_restart() {
	etcd_stop
	_etcd_launch
}

etcdctl_t() {
	ETCDCTL_API=3 etcdctl --endpoints="$ETCD_URL" "$@"
}
