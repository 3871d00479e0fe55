# tests/vm/guest/lib.sh - sourced in the guest before the test's script.
#   vm_ready              tell the host the guest's services are up
#   vm_wait_stop [SECS]   block until the host calls vm_stop (default 1200)
#   vm_result NAME VALUE  leave a value for the host in $VM_SHARE/NAME
#   vm_mod NAME...        modprobe from the host's /lib/modules (visible
#                         over 9p), failing loudly
#   lio_setup IQN FILE SIZE_MIB [PORT]
#                         LIO iSCSI target on 0.0.0.0:PORT (3261) with one
#                         fileio LUN 0 backed by FILE, demo mode, no auth
vm_ready() { touch /vm/ready; echo "guest: ready"; }

vm_wait_stop() {
	local end=$((SECONDS + ${1:-1200}))
	while [ ! -e /vm/stop ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
}

vm_result() { printf '%s\n' "$2" > "/vm/$1"; }

vm_mod() {
	local m
	for m in "$@"; do
		modprobe "$m" || { echo "guest: modprobe $m failed"; return 1; }
	done
}

lio_setup() { # IQN FILE SIZE_MIB [PORT]
	local iqn=$1 file=$2 mib=$3 port=${4:-3261}
	local cfs=/sys/kernel/config/target
	vm_mod configfs crc32c_generic target_core_mod target_core_file iscsi_target_mod || return 1
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config || return 1
	mkdir -p /var/target/pr /var/target/alua
	truncate -s "${mib}M" "$file" || return 1
	mkdir -p $cfs/core/fileio_0/lun0 || return 1
	echo "fd_dev_name=$file,fd_dev_size=$((mib * 1024 * 1024))" > $cfs/core/fileio_0/lun0/control
	echo 1 > $cfs/core/fileio_0/lun0/enable || return 1
	# Features the anchors' LIO figure was measured with.
	local a
	for a in emulate_caw emulate_tpu emulate_tpws emulate_3pc; do
		echo 1 > $cfs/core/fileio_0/lun0/attrib/$a 2>/dev/null || true
	done
	mkdir -p $cfs/iscsi/$iqn/tpgt_1/lun/lun_0 || return 1
	ln -s $cfs/core/fileio_0/lun0 $cfs/iscsi/$iqn/tpgt_1/lun/lun_0/lio_lun || return 1
	mkdir -p "$cfs/iscsi/$iqn/tpgt_1/np/0.0.0.0:$port" || return 1
	local t=$cfs/iscsi/$iqn/tpgt_1/attrib
	echo 1 > $t/generate_node_acls
	echo 1 > $t/cache_dynamic_acls
	echo 0 > $t/authentication
	echo 0 > $t/demo_mode_write_protect
	echo 1 > $cfs/iscsi/$iqn/tpgt_1/enable || return 1
	echo "guest: LIO $iqn on port $port, fileio $file ${mib} MiB"
}
