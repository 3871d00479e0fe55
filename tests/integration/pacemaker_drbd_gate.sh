#!/usr/bin/env bash
# tests/integration/pacemaker_drbd_gate.sh - the elected bollardd adds a
# replicated Volume's DRBD clone (and the Target group that runs on it) to
# the CIB only once every node of the Cluster reports, in its Volume status,
# that its DRBD config is rendered (drbd.configured); until then the plan
# says why it waits, and a status that disappears later (a dead node) never
# removes what is in the CIB.
#
# Real etcd, real bollardd (--only pacemaker, the leader of its cluster),
# real cibadmin/crm_verify on a CIB file (CIB_file). The other node's
# Volume status is written with etcdctl, in the shape bollardd writes it.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
for t in cibadmin crm_verify crm_resource; do
	command -v $t >/dev/null || skip "$t not installed (pacemaker-cli-utils)"
done
mk_tmp T
PLANS=$TOP/tests/plans
export CIB_file=$T/cib.xml
cp "$PLANS/_shared/cib-base.xml" "$CIB_file"
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
B apply -f "$PLANS/pcmk-new-target/desired.yaml" >/dev/null || die apply
vstatus() {  # node configured(true|false)
	etcdctl_t put "/bollard/v1/status/Volume/db/$1" \
		"{\"node\":\"$1\",\"observedGeneration\":1,\"drbd\":{\"role\":\"Secondary\",\"diskState\":\"UpToDate\",\"configured\":$2}}" \
		>/dev/null || die "etcdctl put"
}
vstatus nodea true
vstatus nodeb false
in_cib() { cibadmin -Q 2>/dev/null | grep -q "id=\"$1\""; }
export -f in_cib; export CIB_file

"$BUILD/bollardd" --etcd "$ETCD_URL" --node nodea --only pacemaker --lease-ttl 3 \
	--resync 3600 >"$T/d.log" 2>&1 &
DPID=$!
cleanup_add "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
# The cluster options go in; the clone and the group wait, and say why.
wait_for 30 bash -c 'in_cib bollard-options' || { cat "$T/d.log"; die "the leader wrote nothing"; }
cst() { etcdctl_t get --print-value-only /bollard/v1/status/Cluster/lab/nodea; }
wait_for 15 sh -c "etcdctl --endpoints $ETCD_URL get --print-value-only /bollard/v1/status/Cluster/lab/nodea | grep -q WaitingForPeers" ||
	die "Cluster status does not say it waits: $(cst)"
cst | grep -q "nodeb has not rendered the DRBD config of bollard-db" || die "the reason is not given: $(cst)"
in_cib bollard-drbd-db-clone && die "DRBD clone added while nodeb's config is not rendered"
in_cib bollard-t1 && die "target group added before its DRBD clone"
B plan --node nodea --only pacemaker >"$T/plan.txt" 2>&1
grep -q "WaitingForPeers: not added yet: waiting for every node's DRBD config of Volume db" "$T/plan.txt" ||
	{ cat "$T/plan.txt"; die "bollard plan does not show the wait"; }
echo "ok: DRBD clone and target group held back while nodeb's DRBD config is not rendered"

# nodeb renders its config: the waiting leader looks again by itself (no
# object changes, periodic resync 1 h away) and adds everything.
vstatus nodeb true
wait_for 30 bash -c 'in_cib bollard-drbd-db-clone && in_cib bollard-t1 && in_cib bollard-t1-with-db' ||
	{ cat "$T/d.log"; cibadmin -Q | grep -o 'id="bollard-[a-z0-9-]*"' | sort -u; die "not added once every node is ready"; }
echo "ok: added once every node reports its DRBD config rendered"

# nodeb's status disappears (its lease lapsed: a dead node): the plan
# takes nothing away from the CIB (`bollard plan` runs the leader's
# observe and plan, reading the same status from etcd).
etcdctl_t del /bollard/v1/status/Volume/db/nodeb >/dev/null
B plan --node nodea --only pacemaker >"$T/plan2.txt" 2>&1
head -1 "$T/plan2.txt" | grep -q ': 0 actions, ' && ! grep -q WaitingForPeers "$T/plan2.txt" ||
	{ cat "$T/plan2.txt"; die "a missing peer status changes the CIB"; }
in_cib bollard-drbd-db-clone && in_cib bollard-t1 || die "the clone or group went away"
grep -q 'delete' "$T/d.log" && { cat "$T/d.log"; die "the leader deleted something"; }
echo "ok: a peer's missing status removes nothing from the CIB"
