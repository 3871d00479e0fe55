#!/usr/bin/env bash
# etcd outage: etcd stops for OUTAGE_S seconds (default 30) under a running
# controller. The target keeps serving I/O throughout, the controller makes
# no destructive change (the target and its LUN stay), and when etcd comes
# back a new change is applied.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
command -v iscsi-readcapacity16 >/dev/null || skip "libiscsi-bin not installed"
OUTAGE_S=${OUTAGE_S:-30}
mk_tmp T
etcd_start
PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
	--target-socket "$T/t.sock" --resync 2 >"$T/ctl.log" 2>&1 &
CPID=$!
cleanup_add "kill $CPID 2>/dev/null; wait $CPID 2>/dev/null"
IQN=iqn.2026-11.io.bollard:demo
URL="iscsi://127.0.0.1:$PORT/$IQN/0"
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$TOP/examples/quickstart/" >/dev/null || die apply
wait_for 20 iscsi-readcapacity16 "$URL" || die "LUN never served"

etcd_stop
echo "etcd stopped for $OUTAGE_S s"
end=$((SECONDS + OUTAGE_S)) ok=0 bad=0
while [ $SECONDS -lt $end ]; do
	if iscsi-readcapacity16 "$URL" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	kill -0 $CPID 2>/dev/null || { cat "$T/ctl.log"; die "bollardd exited during the outage"; }
	sleep 0.5
done
echo "during the outage: $ok reads served, $bad failed"
[ $bad = 0 ] && [ $ok -gt 0 ] || die "I/O failed while etcd was down"
"$BUILD/bollard" target --socket "$T/t.sock" show $IQN -o json | tr -d ' \n' |
	grep -q '"enabled":true' || die "target changed during the outage"

etcd_restart
cat >"$T/more.yaml" <<YAML
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: demo}
spec:
  cluster: local
  iqn: $IQN
  luns: [{lun: 0, volume: demo}]
  acls: [{initiator: "*"}, {initiator: "iqn.2026-11.io.bollard.test:after-outage"}]
YAML
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/more.yaml" || die "apply after outage"
has_acl() { "$BUILD/bollard" target --socket "$T/t.sock" show $IQN -o json | grep -q after-outage; }
wait_for 30 has_acl || { tail -20 "$T/ctl.log"; die "change after the outage not applied"; }
echo "after the outage: the new ACL was applied"
