# tests/lib/common.sh - sourced by test scripts.
#   free_port            print a free TCP port on 127.0.0.1
#   mk_tmp VAR           make a temp dir removed at exit, path in $VAR
#   cleanup_add CMD      run CMD at exit (LIFO)
#   skip MSG             exit 77 with a reason (counts as failed under CI=true)
#   die MSG              exit 1
#   wait_for SECS CMD..  poll CMD until it succeeds or SECS pass
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
BOLLARD=$BUILD/bollard

_cleanups=()
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
}
trap _run_cleanups EXIT
cleanup_add() { _cleanups+=("$*"); }

skip() { echo "SKIP: $*" >&2; exit 77; }
die()  { echo "FAIL: $*" >&2; exit 1; }

# Ports below the kernel's ephemeral range (32768-60999 by default): a
# port there can be the local end of someone's outgoing connection, which
# the "does it accept?" probe below cannot see, and the test's bind then
# fails with EADDRINUSE (target_pr_persist did, once, with a second HA
# run's guests connecting beside the CI). tests/lib/etcd_proc.c picks from
# the same 20000-31999.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( (RANDOM % 12000) + 20000 ))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

mk_tmp() { # VAR: make a temp dir, removed at exit, and store its path in VAR
	local d
	d=$(mktemp -d /tmp/bollard-test.XXXXXX)
	cleanup_add "rm -rf '$d'"
	eval "$1=\$d"
}

wait_for() {
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
