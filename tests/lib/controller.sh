# tests/lib/controller.sh - the single-node controller bootstrap that the
# integration tests share: a real etcd (tests/lib/etcd.sh), bollard-target
# serving on a free port with its management socket in $T, and bollardd.
# Sourced after tests/lib/common.sh.
#   ctl_setup          check the binaries, mk_tmp T, etcd_start, start
#                      bollard-target on 127.0.0.1:$PORT, socket $T/t.sock
#   start_ctl          start bollardd (node "local", state in $T/state, log
#                      appended to $T/ctl.log, pid in CPID) with the flags in
#                      CTL_ARGS (e.g. "--lease-ttl 2 --resync 2"); call again
#                      after stopping it to restart; the last one is killed
#                      at exit
#   B ARGS..           bollard --etcd $ETCD_URL ARGS..
#   quickstart_lun1 FILE  write FILE: examples/quickstart's Target "demo"
#                      with a second LUN 1 on a new 32 MiB Volume "extra"
#                      backed by $T/extra.img (created here)
. "$TOP/tests/lib/etcd.sh"

ctl_setup() {
	local b
	for b in bollard bollardd bollard-target; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built"
	done
	mk_tmp T
	etcd_start
	PORT=$(free_port)
	"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
	TPID=$!
	cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
	wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
	CPID=
	cleanup_add '[ -n "$CPID" ] && { kill $CPID 2>/dev/null; wait $CPID 2>/dev/null; }'
}

start_ctl() {
	# shellcheck disable=SC2086 # CTL_ARGS is a list of flags
	"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
		--target-socket "$T/t.sock" ${CTL_ARGS:-} >>"$T/ctl.log" 2>&1 &
	CPID=$!
}

B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }

quickstart_lun1() {
	truncate -s 32M "$T/extra.img"
	cat >"$1" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: extra}
spec:
  cluster: local
  size: 32Mi
  backing: {type: file, path: $T/extra.img}
  replication: none
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo}
spec:
  cluster: local
  iqn: iqn.2026-11.io.bollard:demo
  luns:
    - {lun: 0, volume: demo}
    - {lun: 1, volume: extra}
  acls:
    - initiator: "*"
YAML
}
