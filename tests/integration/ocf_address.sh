#!/usr/bin/env bash
# The OCF agent deploy/ocf/bollard-address (ocf:bollard:address) in network
# namespaces of its own: "node" (where the agent runs: veth d0 with
# 10.213.5.1/24 and 2001:db8:213::1/64, a default route through a gateway,
# a second veth d1 without addresses) and "peer" (the other end of the veth, p0).
#   - ocf-tester (resource-agents) runs its compliance checks;
#   - start adds the address with the connected route's prefix on the
#     route's interface (or on nic with cidr_netmask), start twice succeeds,
#     monitor says 0 / 7, stop deletes it, stop twice succeeds;
#   - the announcement reaches the wire: a capture (AF_PACKET, python3) on
#     the peer's p0 sees a gratuitous ARP from the address (IPv4) or an
#     unsolicited neighbour advertisement (IPv6);
#   - start does not wait for the announcer: with 50 announcements (10 s)
#     start returns (and its output pipe closes) while the announcer still
#     runs, and stop ends it;
#   - an interface that is down makes monitor fail (1); a bad ip or prefix
#     is OCF_ERR_CONFIGURED (6); an address on no connected network without
#     nic fails with a reason that says so, and adds nothing.
. "$(dirname "$0")/../lib/common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for t in ip ocf-tester python3; do
	command -v $t >/dev/null || skip "$t not installed"
done
[ -x /usr/libexec/heartbeat/send_arp ] || [ -x /usr/lib/heartbeat/send_arp ] ||
	skip "send_arp (resource-agents) not installed"
AGENT=$TOP/deploy/ocf/bollard-address
[ -x "$AGENT" ] || die "$AGENT missing"

mk_tmp T
NODE=bladn$$ PEER=bladp$$
ip netns add $NODE || die "ip netns add"
cleanup_add "ip netns del $NODE 2>/dev/null"
ip netns add $PEER || die "ip netns add"
cleanup_add "ip netns del $PEER 2>/dev/null"
ip -n $NODE link add d0 type veth peer name p0 netns $PEER || die "veth"
ip -n $NODE link set lo up
ip -n $NODE link set d0 up
ip -n $NODE addr add 10.213.5.1/24 dev d0
ip -n $NODE addr add 2001:db8:213::1/64 dev d0 nodad
ip -n $NODE route add default via 10.213.5.254
ip -n $NODE link add d1 type veth peer name p1 netns $PEER || die "veth d1"
ip -n $NODE link set d1 up
ip -n $PEER link set p1 up
ip -n $PEER link set lo up
ip -n $PEER link set p0 up
ip -n $PEER addr add 10.213.5.2/24 dev p0

export OCF_ROOT=/usr/lib/ocf
innode() { ip netns exec $NODE "$@"; }
# agent ACTION [param=value...] -> prints the exit code; stderr in $T/err
agent() {
	local a=$1 kv env=()
	shift
	for kv in "$@"; do env+=("OCF_RESKEY_$kv"); done
	innode env "${env[@]}" "$AGENT" "$a" >/dev/null 2>"$T/err"
	echo $?
}
has_addr() { # DEV ADDR/LEN
	innode ip -o addr show dev "$1" | grep -q " inet6\? $2 "
}
# capture KIND ADDR: in the peer, until a frame of KIND (arp: an ARP whose
# sender IP is ADDR; na: an ICMPv6 neighbour advertisement for ADDR)
# arrives on p0 (exit 0) or 20 s pass (exit 1). Ready when $T/cap.ready
# exists (the socket is bound).
capture() {
	rm -f "$T/cap.ready"
	ip netns exec $PEER python3 - "$1" "$2" "$T/cap.ready" <<'EOF' &
import socket, struct, sys, time
kind, addr, ready = sys.argv[1:4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
s.bind(("p0", 0))
s.settimeout(0.5)
open(ready, "w").close()
end = time.time() + 20
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    et = struct.unpack("!H", f[12:14])[0]
    if kind == "arp" and et == 0x0806 and socket.inet_ntoa(f[28:32]) == addr:
        print("ARP op %d from %s" % (struct.unpack("!H", f[20:22])[0], addr))
        sys.exit(0)
    if (kind == "na" and et == 0x86DD and f[20] == 58 and len(f) >= 78 and f[54] == 136
            and socket.inet_ntop(socket.AF_INET6, f[62:78]) == addr):
        print("neighbour advertisement for %s" % addr)
        sys.exit(0)
sys.exit(1)
EOF
	CAP=$!
	wait_for 60 test -e "$T/cap.ready" || die "capture did not start"
}

# --- ocf-tester --------------------------------------------------------------------
innode ocf-tester -n addr -o ip=10.213.5.10 -o cidr_netmask=24 "$AGENT" >"$T/ocf-tester.log" 2>&1
rc=$?
cat "$T/ocf-tester.log"
[ $rc = 0 ] || die "ocf-tester failed (rc=$rc)"
has_addr d0 10.213.5.10/24 && die "ocf-tester left 10.213.5.10 behind"

# --- start/monitor/stop on the connected network, each family ----------------------
# cycle FAMILY ADDR PREFIX: ADDR on the node's connected network of that
# family (4: 10.213.5.0/24, announced by a gratuitous ARP; 6:
# 2001:db8:213::/64, by an unsolicited neighbour advertisement), PREFIX that
# network's (what start must take from the connected route).
cycle() {
	local fam=$1 vip=$2 len=$3 kind=arp host=32 what="gratuitous ARP from"
	[ "$fam" = 6 ] && kind=na host=128 what="neighbour advertisement for"
	[ "$(agent monitor ip="$vip")" = 7 ] || die "IPv$fam probe on a node that never ran it must be 7"
	capture $kind "$vip"
	[ "$(agent start ip="$vip")" = 0 ] || { cat "$T/err"; die "start $vip"; }
	has_addr d0 "$vip/$len" ||
		{ innode ip -o addr; die "$vip/$len (the connected route's prefix) not on d0"; }
	wait $CAP || die "no $what $vip reached the peer"
	echo "ok: IPv$fam start added $vip/$len to d0 and announced it"
	[ "$(agent start ip="$vip")" = 0 ] || die "IPv$fam start twice must succeed"
	[ "$(innode ip -o addr show to "$vip/$host" | wc -l)" = 1 ] || die "start twice added $vip twice"
	[ "$(agent monitor ip="$vip")" = 0 ] || die "IPv$fam monitor of a started address must be 0"
	[ "$(agent stop ip="$vip")" = 0 ] || die "IPv$fam stop"
	has_addr d0 "$vip/$len" && die "$vip still on d0 after stop"
	[ "$(agent monitor ip="$vip")" = 7 ] || die "IPv$fam monitor after stop must be 7"
	[ "$(agent stop ip="$vip")" = 0 ] || die "IPv$fam stop twice must succeed"
	echo "ok: IPv$fam start twice, monitor 0/7, stop, stop twice"
}
VIP=10.213.5.100
cycle 4 $VIP 24
cycle 6 2001:db8:213::100 64

# --- start does not wait for the announcer; stop ends it ---------------------------
# The announcer (50 pairs, 200 ms apart: 10 s) must still run when start
# has returned: a start that waited for it (or for the end of its output)
# would find it gone.
innode env OCF_RESKEY_ip=$VIP OCF_RESKEY_arp_count=50 OCF_RESOURCE_INSTANCE=t-ann$$ \
	"$AGENT" start 2>"$T/err" | cat >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] || { cat "$T/err"; die "start with arp_count=50"; }
read -r apid </run/bollard-address.t-ann$$.announce || die "no announcer pid file"
[ "$(cat /proc/$apid/comm 2>/dev/null)" = send_arp ] ||
	die "the announcer is not running after start returned (start waited for it)"
innode env OCF_RESKEY_ip=$VIP OCF_RESOURCE_INSTANCE=t-ann$$ "$AGENT" stop 2>"$T/err" ||
	{ cat "$T/err"; die "stop with a running announcer"; }
wait_for 5 sh -c "[ \"\$(cat /proc/$apid/comm 2>/dev/null)\" != send_arp ]" ||
	die "stop left the announcer $apid running"
[ -e /run/bollard-address.t-ann$$.announce ] && die "stop left the pid file"
echo "ok: start returns while the announcer runs; stop ends it"

# --- nic and cidr_netmask; an interface that is down -------------------------------
[ "$(agent start ip=192.0.2.33 nic=d1 cidr_netmask=28)" = 0 ] || { cat "$T/err"; die "start on d1"; }
has_addr d1 192.0.2.33/28 || { innode ip -o addr; die "192.0.2.33/28 not on d1"; }
[ "$(agent monitor ip=192.0.2.33 nic=d1)" = 0 ] || die "monitor on d1"
innode ip link set d1 down
[ "$(agent monitor ip=192.0.2.33 nic=d1)" = 1 ] || die "monitor on a down interface must fail (1)"
grep -q "ocf-exit-reason:.*down" "$T/err" || { cat "$T/err"; die "no reason for the down interface"; }
innode ip link set d1 up
[ "$(agent stop ip=192.0.2.33 nic=d1)" = 0 ] || die "stop on d1"
has_addr d1 192.0.2.33/28 && die "192.0.2.33 still on d1"
[ "$(agent monitor ip=192.0.2.33 nic=nosuch0)" = 7 ] || die "probe with a nic that does not exist here must be 7"
echo "ok: nic + cidr_netmask, a down interface fails the monitor"

# --- bad parameters; no connected network -------------------------------------------
for bad in 10.213.5.300 10.213.5 not-an-ip 127.0.0.5 224.0.0.9 "10.213.5.1;x"; do
	[ "$(agent validate-all ip="$bad")" = 6 ] || die "validate-all ip=$bad must be 6"
	[ "$(agent start ip="$bad")" = 6 ] || die "start ip=$bad must be 6"
done
[ "$(agent validate-all ip=$VIP cidr_netmask=33)" = 6 ] || die "cidr_netmask=33 must be 6"
[ "$(agent validate-all ip=$VIP cidr_netmask=255.255.255.0)" = 6 ] || die "a dotted netmask must be 6"
[ "$(agent validate-all ip=$VIP arp_count=x)" = 6 ] || die "arp_count=x must be 6"
[ "$(agent validate-all)" = 6 ] || die "no ip must be 6"
grep -q "ocf-exit-reason:parameter ip is required" "$T/err" || die "no reason for the missing ip"
[ "$(agent validate-all ip=2001:db8::1::2)" = 6 ] || die "a bad IPv6 address must be 6"
[ "$(agent validate-all ip=$VIP)" = 0 ] || die "validate-all of a good ip"
[ "$(agent start ip=198.51.100.7)" = 1 ] || die "start on no connected network must fail (1)"
grep -q "ocf-exit-reason:no connected network covers 198.51.100.7" "$T/err" ||
	{ cat "$T/err"; die "no clear reason for an address on no connected network"; }
innode ip -o addr | grep -q 198.51.100.7 && die "198.51.100.7 added anyway"
[ "$(agent start ip=198.51.100.7 nic=nosuch0 cidr_netmask=24)" = 1 ] || die "start on a missing nic must fail (1)"
echo "ok: bad parameters are 6, no connected network fails with a reason"

echo "ocf address agent: compliant; start/stop/monitor/announce behave"
