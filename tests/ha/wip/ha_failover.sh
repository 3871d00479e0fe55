#!/usr/bin/env bash
# tests/ha/wip/ha_failover.sh - work in progress (not run by make check):
# two qemu guests (tests/ha/lib.sh) with real DRBD 8.4, corosync/Pacemaker,
# bollard_target.ko and bollardd; bollard apply from the host; then the
# client/kill/failover flow of issue 8 as far as it gets.
# HA_HOLD=SECS keeps everything up that long after a failure.
. "$(dirname "$0")/../../lib/common.sh"
. "$TOP/tests/vm/lib/vm.sh"
. "$TOP/tests/ha/lib.sh"
ha_require
VM_MEM=${VM_MEM:-768}
for b in bollard bollardd; do [ -x "$BUILD/$b" ] || die "$BUILD/$b not built"; done
vm_make kmod
# Not under /tmp: the guests have their own tmpfs there.
mkdir -p "$BUILD/ha"
HA_DIR=$(mktemp -d "$BUILD/ha/run.XXXXXX") || die "mktemp"
[ "${HA_KEEP:-}" = 1 ] || cleanup_add "rm -rf '$HA_DIR'"
chmod 755 "$HA_DIR"
T0=$SECONDS
log() { echo "[$(date +%T) +$((SECONDS - T0))s] $*"; }
fail() {
	local n
	for n in nodea nodeb; do
		[ -n "${HA_SHARE[$n]:-}" ] || continue
		for f in guest.out bollardd.log corosync.out pacemakerd.out; do
			[ -s "${HA_SHARE[$n]}/$f" ] && { echo "--- $n/$f (tail)"; tail -30 "${HA_SHARE[$n]}/$f"; }
		done
	done >&2
	[ -n "${HA_HOLD:-}" ] && { echo "HOLD: $*"; sleep "$HA_HOLD"; }
	die "$*"
}

# A snapshot of what the guests run: 9p caches, others relink build/.
HA_BIN=$HA_DIR/bin
mkdir -p "$HA_BIN"
cp "$BUILD/bollard" "$BUILD/bollardd" "$BUILD/kmod/bollard_target.ko" "$HA_BIN/"
HA_AGENT=$TOP/deploy/ocf/bollard-target
HA_GUEST_VARS="HA_BIN HA_AGENT HA_DIR"

# --- etcd on the host's loopback; guests reach it as 10.0.2.2 ---------------------
EP=$(free_port) PP=$(free_port)
etcd --name ha --data-dir "$HA_DIR/etcd" \
	--listen-client-urls "http://127.0.0.1:$EP" --advertise-client-urls "http://127.0.0.1:$EP" \
	--listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
	--initial-cluster "ha=http://127.0.0.1:$PP" --initial-cluster-state new \
	--log-level error --logger zap >"$HA_DIR/etcd.log" 2>&1 &
ETCD_PID=$!
cleanup_add "kill $ETCD_PID 2>/dev/null; wait $ETCD_PID 2>/dev/null"
etcd_ok() { curl -fsS --max-time 1 "http://127.0.0.1:$EP/health" | grep -q '"health":"true"'; }
wait_for 20 etcd_ok || { cat "$HA_DIR/etcd.log"; die "etcd not healthy"; }
HA_ETCD=http://10.0.2.2:$EP
B() { timeout 30 "$HA_BIN/bollard" --etcd "http://127.0.0.1:$EP" "$@"; }

# --- cluster seeds -----------------------------------------------------------------
cat >"$HA_DIR/corosync.conf" <<C
totem {
	version: 2
	cluster_name: bollardha
	transport: knet
	token: 3000
	crypto_cipher: none
	crypto_hash: none
}
nodelist {
	node {
		ring0_addr: ${HA_ADDR[nodea]}
		name: nodea
		nodeid: 1
	}
	node {
		ring0_addr: ${HA_ADDR[nodeb]}
		name: nodeb
		nodeid: 2
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
	timestamp: on
}
C
cat >"$HA_DIR/cib.xml" <<'C'
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="3s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
    <op_defaults>
      <meta_attributes id="op-defaults">
        <nvpair id="op-defaults-timeout" name="timeout" value="180s"/>
      </meta_attributes>
    </op_defaults>
  </configuration>
  <status/>
</cib>
C

# --- boot ----------------------------------------------------------------------------
ha_start nodea "$TOP/tests/ha/guest/node.sh"
ha_start nodeb "$TOP/tests/ha/guest/node.sh"
ha_wait_ready nodea 300 || fail "nodea not ready"
ha_wait_ready nodeb 300 || fail "nodeb not ready"
log "both guests ready"

both_online() { ha_exec nodea 'crm_mon -1' 20 | grep -qE 'Online: \[ nodea nodeb \]'; }
wait_for 180 both_online || { ha_exec nodea 'crm_mon -1'; fail "cluster not up with both nodes"; }
log "cluster up"

# --- desired state ---------------------------------------------------------------------
IQN=iqn.2026-11.io.bollard:ha
VOL=hadisk
GROUP=bollard-ha
cat >"$HA_DIR/ha.yaml" <<Y
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata:
  name: halab
spec:
  ha: pacemaker
  quorum: none
  nodes:
    - name: nodea
      address: ${HA_ADDR[nodea]}
      replicationAddress: ${HA_ADDR[nodea]}
    - name: nodeb
      address: ${HA_ADDR[nodeb]}
      replicationAddress: ${HA_ADDR[nodeb]}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata:
  name: $VOL
spec:
  cluster: halab
  size: 64Mi
  backing:
    type: device
    path: /dev/vda
  replication:
    protocol: C
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata:
  name: ha
spec:
  cluster: halab
  iqn: $IQN
  serviceAddresses: ["10.99.0.100/24"]
  port: 3260
  luns:
    - lun: 0
      volume: $VOL
  acls:
    - initiator: "*"
Y
B apply -f "$HA_DIR/ha.yaml" || fail "bollard apply"
log "applied"
drbd_res() { ha_exec "$1" "cat /etc/drbd.d/bollard-$VOL.res" 10; }
wait_for 120 drbd_res nodea || fail "nodea: no bollard-$VOL.res rendered"
drbd_res nodea
wait_for 120 drbd_res nodeb || fail "nodeb: no bollard-$VOL.res rendered"
log "DRBD config rendered on both"
connected() { ha_exec nodea 'cat /proc/drbd' 10 | grep -q 'cs:\(Connected\|SyncSource\|SyncTarget\)'; }
wait_for 180 connected || { ha_exec nodea 'cat /proc/drbd; tail -20 /vm/bollardd.log'; fail "DRBD never connected"; }
log "DRBD connected: $(ha_exec nodea 'cat /proc/drbd' | grep cs:)"
