#!/usr/bin/env bash
# The rollout history is bounded (docs/rollouts.md, "Keys"): the real
# `bollardd --rollouts-only` and one cluster simulated by `bollard
# fleet-sim`, a Rollout over Targets ta and tb.
#   1. tb is deleted: its history stays while a record can return to it
#      (its deletion pending, then admitted: the record's "previous" names
#      it), and goes once no record names it (the cluster's next admission,
#      a change of ta);
#   2. ta changed 12 more times: at most 10 of its generations are kept,
#      the current one among them;
#   3. the Rollout is deleted: its records, status and per-cluster status
#      keys go within seconds, and with them everything a rollout could
#      return to: ta's history goes too.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
for b in bollard bollardd; do [ -x "$BUILD/$b" ] || die "$BUILD/$b not built"; done
mk_tmp T
etcd_start
B() { "$BUILD/bollard" --etcd "$ETCD_URL" "$@"; }
"$BUILD/bollard" --etcd "$ETCD_URL" fleet-sim --clusters 1 --ready-after 0 >"$T/sim.log" 2>&1 &
SPID=$!
cleanup_add "kill $SPID 2>/dev/null; wait $SPID 2>/dev/null"
"$BUILD/bollardd" --rollouts-only --etcd "$ETCD_URL" --node mgmt --lease-ttl 2 >"$T/fleet.log" 2>&1 &
FPID=$!
cleanup_add "kill $FPID 2>/dev/null; wait $FPID 2>/dev/null"
has_node() { etcdctl_t get --prefix --keys-only /bollard/v1/nodes/sim-0001/ | grep -q .; }
wait_for 30 has_node || die "fleet-sim did not register sim-0001"
target() { # name acl-number
	cat <<Y
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: $1, labels: {app: ds}}
spec:
  cluster: sim-0001
  iqn: iqn.2026-11.io.bollard:$1
  acls: [{initiator: "iqn.1998-01.com.vmware:esx-$2"}]
Y
}
{ target ta 1; echo ---; target tb 1; echo ---; cat <<'Y'; } | B apply -f - >/dev/null || die "apply"
apiVersion: bollard.io/v1alpha1
kind: Rollout
metadata: {name: ds}
spec:
  clusterSelector: {}
  objectSelector: {matchLabels: {app: ds}}
  healthGate: {stableFor: 0s, timeout: 30s}
Y
fail() { echo "--- fleet"; tail -20 "$T/fleet.log"; echo "--- history"; hist_keys; echo "--- record: $(rec)"; die "$*"; }
hist_keys() { etcdctl_t get --prefix --keys-only /bollard/v1/history/ | grep .; }
hist_n() { etcdctl_t get --prefix --keys-only "/bollard/v1/history/Target/$1/" | grep -c .; }
has_hist() { [ "$(hist_n "$1")" -gt 0 ]; }
no_hist() { [ "$(hist_n "$1")" = 0 ]; }
rec() { etcdctl_t get --print-value-only /bollard/v1/rollouts/ds/admitted/sim-0001; }
wait_for 20 has_hist ta || fail "no history for ta"
wait_for 20 has_hist tb || fail "no history for tb"
done_() { B rollout status ds --no-wait >/dev/null; }

# 1. a deleted Target's history lives as long as a record names it
B delete target tb >/dev/null || die "delete tb"
B rollout status ds --timeout 60s >"$T/st.out" || { cat "$T/st.out"; fail "the deletion did not roll out"; }
rec | grep -q '"previous":{[^}]*"Target/tb":1' || fail "the record's previous does not name tb"
sleep 7    # more than a GC period (5 s)
has_hist tb || fail "tb's history removed while the record's previous names it (a rollback returns to it)"
echo "ok: tb's history kept while its record can return to it"
target ta 2 | B apply -f - >/dev/null || die "change ta"
B rollout status ds --timeout 60s >"$T/st.out" || { cat "$T/st.out"; fail "ta's change did not roll out"; }
rec | grep -q 'Target/tb' && fail "the record still names tb after the next admission"
wait_for 15 no_hist tb || fail "tb's history not removed once no record names it"
grep -q "history of Target/tb removed" "$T/fleet.log" || fail "the removal is not logged"
has_hist ta || fail "ta's history removed with tb's"
echo "ok: tb's history removed once no record names it"

# 2. bounded: the last 10 generations
for i in $(seq 3 14); do
	target ta $i | B apply -f - >/dev/null || die "change ta ($i)"
	sleep 0.4
done
B rollout status ds --timeout 60s >"$T/st.out" || { cat "$T/st.out"; fail "ta's changes did not roll out"; }
gen=$(B get target ta -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])')
[ "$gen" = 14 ] || fail "ta is at generation $gen, want 14"
at_cur() { etcdctl_t get --keys-only "/bollard/v1/history/Target/ta/$gen" | grep -q .; }
wait_for 10 at_cur || fail "ta's current generation $gen is not kept"
n=$(hist_n ta)
[ "$n" -le 10 ] || fail "ta keeps $n generations, want at most 10"
echo "ok: ta keeps $n generations (<= 10), the current one among them"

# 3. no rollout: nothing to return to
B delete rollout ds >/dev/null || die "delete rollout"
ro_keys() { etcdctl_t get --prefix --keys-only /bollard/v1/rollouts/ds/ | grep .; }
no_ro_keys() { [ -z "$(ro_keys)" ]; }
# (well before the 30 s safety pass: the deletion itself triggers it)
wait_for 10 no_ro_keys || fail "records or status of the deleted Rollout left: $(ro_keys | head -3)"
wait_for 20 no_hist ta || fail "ta's history kept after its Rollout was deleted"
[ -z "$(hist_keys)" ] || fail "history left: $(hist_keys)"
echo "PASS: rollout_history_prune"
