# tests/ha/guest/node.sh - runs in a guest under stage 2 (tests/vm/lib):
# one HA node. Brings up the link, loads drbd + the target module, starts
# corosync, pacemaker and bollardd against the host's etcd, then serves
# ha_exec commands from the share until the host asks it to stop.
# Host-provided: HA_NODE HA_ADDR_A HA_ADDR_B HA_ETCD HA_BIN (a snapshot of
# build/ with bollard, bollardd, bollard_target.ko), HA_AGENT.
set -u
hostname "$HA_NODE"
case $HA_NODE in nodea) me=$HA_ADDR_A ;; *) me=$HA_ADDR_B ;; esac
ip link set eth1 up
ip addr add "$me/24" dev eth1
echo "guest: $HA_NODE on $me"

vm_mod crc32c_generic virtio_blk || exit 1
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
[ -b /dev/vda ] || { echo "guest: no /dev/vda"; exit 1; }
modprobe crc32c_intel 2>/dev/null
# DRBD's usermode helper, as `make install` deploys it (deploy/drbd/
# bollard-drbd.conf in /etc/modprobe.d, the helper in /usr/lib/bollard):
# the fence-peer handler of bollardd's resources without drbdadm's four
# program starts before it (deploy/drbd/bollard-drbd-helper).
mkdir -p /usr/lib/bollard /etc/modprobe.d
ln -sf "$TOP/deploy/drbd/bollard-drbd-helper" /usr/lib/bollard/bollard-drbd-helper
cp "$TOP/deploy/drbd/bollard-drbd.conf" /etc/modprobe.d/bollard-drbd.conf
vm_mod drbd || exit 1
read -r h </sys/module/drbd/parameters/usermode_helper
echo "guest: DRBD usermode helper $h"
cat /proc/drbd | head -2
insmod "$HA_BIN/bollard_target.ko" || { echo "guest: insmod bollard_target.ko failed"; exit 1; }

# The host reaches the Target's service address (10.0.2.100, on eth0 where
# the address agent puts it) through qemu's hostfwd, which delivers to 10.0.2.15:3260.
modprobe -a iptable_nat nf_nat iptable_filter ipt_REJECT nf_reject_ipv4 >/dev/null 2>&1
iptables -w -t nat -A PREROUTING -i eth0 -p tcp --dport 3260 \
	-j DNAT --to-destination 10.0.2.100:3260 || echo "guest: DNAT rule failed"
# While this node does not hold 10.0.2.100 (the passive node, and the
# survivor until its address agent starts), the DNATed SYN is for an
# address that is not local. Without forwarding the kernel drops it, and
# slirp has already accepted the host side of the connection: the client's
# Login PDU then waits in slirp while slirp retransmits its SYN with
# backoff, the client's login times out (10 s) although the target may be
# up long before, and the abandoned connection is delivered later, when a
# SYN gets through, as a second login with the client's ISID that
# reinstates (ends) the client's new session. A real portal address with
# no owner answers nothing either, but an initiator's own TCP then
# retries; here the host-side socket hides that. So refuse at once: route
# it to FORWARD and reset it there, as a port nobody listens on would.
# Nothing else is forwarded.
iptables -w -P FORWARD DROP || echo "guest: FORWARD policy failed"
iptables -w -A FORWARD -i eth0 -p tcp -d 10.0.2.100 --dport 3260 \
	-j REJECT --reject-with tcp-reset || echo "guest: REJECT rule failed"
sysctl -qw net.ipv4.ip_forward=1 || echo "guest: ip_forward failed"

# drbdadm gets its own config: Debian's global_common.conf carries a DRBD 9
# only option the 8.4 tools reject.
mkdir -p /etc/drbd.d /var/lib/drbd /var/lib/bollard /run/bollard
rm -f /etc/drbd.d/*.conf
cat >/etc/drbd.conf <<EOC
global { usage-count no; }
include "/etc/drbd.d/*.res";
EOC

# Pacemaker + corosync, as in tests/integration/pacemaker_live.sh.
mkdir -p /usr/lib/ocf/resource.d/bollard
ln -sf "$HA_AGENT" /usr/lib/ocf/resource.d/bollard/target
# ocf:bollard:drbd, the DRBD clones' agent (deploy/ocf/bollard-drbd).
ln -sf "${HA_AGENT%/*}/bollard-drbd" /usr/lib/ocf/resource.d/bollard/drbd
# ocf:bollard:address, the service addresses' agent (deploy/ocf/
# bollard-address; its announcer, send_arp, comes from the host's
# resource-agents like IPaddr2's).
ln -sf "${HA_AGENT%/*}/bollard-address" /usr/lib/ocf/resource.d/bollard/address
ln -sf "$HA_BIN/bollard" /usr/sbin/bollard
# DRBD's fence-peer handler, where bollardd's rendered DRBD configuration
# names it (deploy/drbd/bollard-fence-peer; drbd-utils' crm-unfence-peer
# stays the unfence side).
mkdir -p /usr/lib/bollard
ln -sf "$TOP/deploy/drbd/bollard-fence-peer" /usr/lib/bollard/bollard-fence-peer
# and its CIB client beside it, where the handler looks for it.
ln -sf "$HA_BIN/bollard-cib" /usr/lib/bollard/bollard-cib
# The fencing stand-in (fenced finds fence_* agents in /usr/sbin).
ln -sf "$TOP/tests/ha/guest/fence_bollard_vm" /usr/sbin/fence_bollard_vm
mkdir -p /var/lib/pacemaker/{cib,pengine,blackbox,cores} /var/log/pacemaker /var/lib/corosync /run/crm /run/resource-agents
rm -f /var/lib/pacemaker/cib/* /var/lib/pacemaker/pengine/*
cp "$HA_DIR/corosync.conf" /etc/corosync/corosync.conf
cp "$HA_DIR/cib.xml" /var/lib/pacemaker/cib/cib.xml
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker /run/crm
chmod 600 /var/lib/pacemaker/cib/cib.xml
corosync -f >/vm/corosync.out 2>&1 &
for _ in $(seq 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.2; done
# Not with this script's HA_BIN: the OCF shell functions take HA_BIN as
# heartbeat's binary directory (IPaddr2 runs $HA_BIN/send_arp), and the
# test's HA_BIN (bollard's binaries) made its gratuitous ARPs fail.
env -u HA_BIN pacemakerd -f >/vm/pacemakerd.out 2>&1 &
pcmk_pid=$!
# bollardd's default lease TTL (15 s): both of its elections, the
# cluster leader and the fleet role, keep their leases from threads of
# their own (bl_leader_start_keepalive), so a main loop busy for 20-40 s
# under TCG does not cost either role. (Until the fleet role had its
# thread, it flapped 8 times per run with 15 s and the guests ran 60 s.)
# ha_failover.sh prints both roles' changes (FIGURE: bollardd leadership).
# Restarted like deploy/systemd/bollardd.service does (Restart=always,
# RestartSec=2): bollardd exits when etcd does not answer at start, which
# under TCG happened once in a few boots (a slow first connection).
# The full resync runs at bollardd's default period (60 s), as deployed;
# the watch and the resync-progress poll do the rest. With a 5 s period
# every guest observed DRBD (two drbdsetup, each two processes under 8.4)
# and the target, and the leader also the CIB and three agents'
# meta-data, every 5 s: CPU the failover then competed for.
(
	trap 'kill $p 2>/dev/null; exit 0' TERM
	while :; do
		"$HA_BIN/bollardd" --etcd "$HA_ETCD" --node "$HA_NODE" \
			>>/vm/bollardd.log 2>&1 &
		p=$!
		wait $p
		echo "guest: bollardd exited ($?), restarting in 2 s" >>/vm/bollardd.log
		sleep 2
	done
) &
bollardd_pid=$!
echo "guest: services started ($(cut -d' ' -f1 /proc/uptime) s since boot)"
vm_ready

# Command channel: cmd.N -> out.N, rc.N. SIGCHLD at default (drbdadm).
n=1
while [ ! -e /vm/stop ]; do
	if [ -e /vm/cmd.$n ]; then
		env --default-signal=CHLD bash /vm/cmd.$n >/vm/out.$n.tmp 2>&1 </dev/null
		rc=$?
		mv /vm/out.$n.tmp /vm/out.$n
		# rc.N appears whole (the host polls for it and reads it at
		# once: an empty file made ha_exec fail with "return: :
		# numeric argument required").
		echo $rc >/vm/rc.$n.tmp && mv /vm/rc.$n.tmp /vm/rc.$n
		n=$((n + 1))
	else
		sleep 0.1
	fi
done
kill "$bollardd_pid" "$pcmk_pid" 2>/dev/null
sleep 2
exit 0
