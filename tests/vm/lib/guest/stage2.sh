#!/bin/bash
# tests/vm/guest/stage2.sh - runs as PID 1 on the host's userland (9p +
# tmpfs overlay). Mounts the usual filesystems, brings up the network,
# runs /vm/guest.sh with /vm/lib.sh sourced, records its exit status in
# /vm/rc, saves dmesg into /vm/dmesg and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

mkdir -p /run/lock /var/lock /var/run
hostname vmguest
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "stage2: up ($(cut -d' ' -f1 /proc/uptime) s since boot)"
rc=255
(
	set -a; . /vm/env; set +a
	. /vm/lib.sh
	cd /tmp
	. /vm/guest.sh
) > >(tee /vm/guest.out) 2>&1
rc=$?
sleep 0.2
echo "$rc" > /vm/rc
echo "stage2: guest script exited with $rc"
dmesg > /vm/dmesg 2>/dev/null
sync
poweroff -f
