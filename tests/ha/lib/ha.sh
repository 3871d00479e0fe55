# tests/ha/lib/ha.sh - two qemu guests, nodea and nodeb, for the HA tier.
#
# Sourced after tests/lib/common.sh and tests/vm/lib/vm.sh (whose initramfs,
# 9p root + tmpfs overlay and stage 2 it reuses: each guest is one vm_start,
# and the per-guest state VM_PID/VM_SHARE/VM_LOG is swapped in and out).
#
# Per guest:
#   - eth0: qemu user networking; host port HA_PORT[node] -> guest 3260
#     (iSCSI). Inside, 10.0.2.2 is the host's 127.0.0.1, so bollardd in the
#     guest reaches etcd on the host at http://10.0.2.2:PORT without any
#     guestfwd.
#   - eth1: the back-to-back link, -netdev socket over UDP between
#     127.0.0.1:HA_LINK_A (nodea) and 127.0.0.1:HA_LINK_B (nodeb), static
#     HA_ADDR[node]/24. UDP, not listen/connect: connectionless, so a
#     killed guest can be booted again and find its peer (a TCP
#     "connect" side never reconnects).
#   - /dev/vda: a raw file on the host ($HA_DIR/NODE.disk), the DRBD
#     backing.
#   - the guest script (ha_start's argument) runs under stage 2 with
#     HA_NODE, HA_ADDR_A, HA_ADDR_B and HA_ETCD set, then serves commands:
#     ha_exec NODE 'shell text' runs it in the guest (through the uncached
#     share: cmd.N -> out.N + rc.N) and prints its output, with the exit
#     status of the guest command.
#
# Host API:
#   ha_require              vm_require + the tools used here
#   ha_start NODE SCRIPT    boot NODE (nodea first: it listens on the link)
#   ha_wait_ready NODE [S]  wait for the guest's vm_ready
#   ha_exec NODE CMD [S]    run CMD in NODE (timeout S, default 60 s)
#   ha_kill NODE            SIGKILL NODE's qemu (no clean shutdown)
#   ha_stop NODE [S]        power NODE off cleanly (kill on timeout), then
#                           check its console for kernel trouble
#   ha_fence_service &      the host half of the fencing stand-in
#                           (guest/fence_bollard_vm): a guest asking to
#                           fence NODE gets NODE's qemu SIGKILLed; logged
#                           to $HA_DIR/fence.log
#   HA_PORT[NODE]           host port forwarded to NODE's 3260
#   HA_SHARE[NODE], HA_LOG[NODE]

declare -A HA_QPID=() HA_PID=() HA_SHARE=() HA_LOG=() HA_STARTED=() HA_PORT=()
declare -A HA_ADDR=([nodea]=10.99.0.1 [nodeb]=10.99.0.2)
HA_LINK_A= HA_LINK_B=
HA_DISK_MIB=${HA_DISK_MIB:-80}

ha_require() {
	vm_require
	local t
	for t in etcd curl timeout; do
		command -v $t >/dev/null || skip "$t not installed"
	done
	[ -e "/lib/modules/$VM_KVER/kernel/drivers/block/drbd/drbd.ko" ] ||
		skip "no drbd.ko for $VM_KVER"
}

# Swap one guest's state into vm.sh's globals and back.
_ha_in() { VM_PID=${HA_PID[$1]:-}; VM_SHARE=${HA_SHARE[$1]}; VM_LOG=${HA_LOG[$1]}; VM_STARTED=${HA_STARTED[$1]}; }
_ha_out() { HA_PID[$1]=$VM_PID; }

ha_start() { # NODE SCRIPT
	local n=$1 script=$2 net disk port mac
	[ -n "$HA_DIR" ] || die "HA_DIR not set"
	[ -n "$HA_LINK_A" ] || HA_LINK_A=$(free_port) || die "no free port"
	[ -n "$HA_LINK_B" ] || HA_LINK_B=$(free_port) || die "no free port"
	case $n in
	nodea) net="udp=127.0.0.1:$HA_LINK_B,localaddr=127.0.0.1:$HA_LINK_A"; mac=52:54:00:99:00:01 ;;
	nodeb) net="udp=127.0.0.1:$HA_LINK_A,localaddr=127.0.0.1:$HA_LINK_B"; mac=52:54:00:99:00:02 ;;
	*) die "ha_start: unknown node $n" ;;
	esac
	disk=$HA_DIR/$n.disk
	[ -e "$disk" ] || truncate -s "${HA_DISK_MIB}M" "$disk" || die "disk $disk"
	HA_NODE=$n HA_ADDR_A=${HA_ADDR[nodea]} HA_ADDR_B=${HA_ADDR[nodeb]}
	export HA_NODE HA_ADDR_A HA_ADDR_B
	VM_GUEST_VARS="HA_NODE HA_ADDR_A HA_ADDR_B HA_ETCD ${HA_GUEST_VARS:-}" \
	VM_QEMU_EXTRA="-netdev socket,id=n1,$net -device virtio-net-pci,netdev=n1,mac=$mac \
-drive file=$disk,if=virtio,format=raw,cache=none" \
		vm_start "$script" port
	HA_PORT[$n]=$port
	# VM_PID is timeout(1)'s pid; qemu is its child. SIGKILL to timeout
	# would orphan qemu, so ha_kill kills qemu itself.
	local q= i
	for i in $(seq 50); do q=$(pgrep -P "$VM_PID" -x qemu-system-x86) && break; sleep 0.1; done
	[ -n "$q" ] || q=$(pgrep -P "$VM_PID" | head -1)
	[ -n "$q" ] || die "ha_start: no qemu under pid $VM_PID"
	HA_QPID[$n]=$q
	HA_PID[$n]=$VM_PID HA_SHARE[$n]=$VM_SHARE HA_LOG[$n]=$VM_LOG HA_STARTED[$n]=$VM_STARTED
	# vm_start registered vm_kill for the guest that is current at exit;
	# make sure every guest goes.
	cleanup_add "ha_kill $n"
	echo "ha: $n started (pid $VM_PID, iSCSI on 127.0.0.1:$port, share $VM_SHARE)" >&2
}

ha_wait_ready() { # NODE [SECS]
	_ha_in "$1"; vm_wait_ready "${2:-240}"; _ha_out "$1"
}

ha_alive() { _ha_in "$1"; vm_alive; }

ha_exec() { # NODE CMD [SECS]
	local n=$1 cmd=$2 secs=${3:-60} s id end
	s=${HA_SHARE[$n]}
	# The counter lives in the share: ha_exec often runs in a subshell
	# (a pipeline, wait_for), where a variable would not survive.
	id=$(( $(cat "$s/.seq" 2>/dev/null || echo 0) + 1 ))
	echo "$id" >"$s/.seq"
	printf '%s\n' "$cmd" >"$s/cmd.$id.tmp" && mv "$s/cmd.$id.tmp" "$s/cmd.$id"
	end=$((SECONDS + secs))
	while [ ! -e "$s/rc.$id" ]; do
		if ! ha_alive "$n"; then echo "ha_exec: $n is dead" >&2; return 255; fi
		[ $SECONDS -lt $end ] || { echo "ha_exec: '$cmd' on $n: no answer in $secs s" >&2; return 254; }
		sleep 0.1
	done
	cat "$s/out.$id"
	return "$(cat "$s/rc.$id")"
}

ha_kill() { # NODE
	[ -n "${HA_SHARE[$1]:-}" ] || return 0
	[ -n "${HA_QPID[$1]:-}" ] && kill -KILL "${HA_QPID[$1]}" 2>/dev/null
	HA_QPID[$1]=
	_ha_in "$1"; vm_kill; _ha_out "$1"
}

ha_stop() { # NODE [SECS]
	_ha_in "$1"
	touch "$VM_SHARE/stop"
	vm_wait_exit "${2:-120}" || { vm_dump_tail; _ha_out "$1"; die "$1 hung at power-off"; }
	_ha_out "$1"
	vm_check_log
}

ha_check_log() { _ha_in "$1"; vm_check_log; }
ha_dump() { _ha_in "$1"; echo "==== $1" >&2; vm_dump_tail; }

# The host half of the fencing stand-in. Runs in the background (a copy of
# HA_QPID/HA_SHARE as of its start: restart it after a guest restarts).
# Guest G asks with $share(G)/fence-req.V; V's qemu is SIGKILLed (whether
# or not it still runs: a victim cut off by a network split dies here too)
# and fence-done.V confirms it to G.
ha_fence_service() {
	local n r v
	while :; do
		for n in nodea nodeb; do
			[ -n "${HA_SHARE[$n]:-}" ] || continue
			for r in "${HA_SHARE[$n]}"/fence-req.*; do
				[ -e "$r" ] || continue
				v=${r##*/fence-req.}
				case $v in nodea|nodeb) ;; *) continue ;; esac
				[ -n "${HA_QPID[$v]:-}" ] && kill -KILL "${HA_QPID[$v]}" 2>/dev/null
				echo "$(date +%T.%N | cut -c1-12) $n fenced $v (qemu ${HA_QPID[$v]:-?} SIGKILLed)" >>"$HA_DIR/fence.log"
				rm -f "$r"
				touch "${HA_SHARE[$n]}/fence-done.$v"
			done
		done
		# Fencing is on the failover's critical path: poll often (a
		# glob over two directories costs nothing).
		sleep 0.05
	done
}
