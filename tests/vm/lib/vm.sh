# tests/vm/lib/vm.sh - boot Debian's kernel under qemu (TCG) with the host's
# userland, run a guest script, collect the console, power off.
#
# Sourced by tests/vm/*.sh and bench/vm_*.sh after tests/lib/common.sh.
#
# Why 9p and not a hand-made initramfs with copied binaries: the guest then
# runs exactly what is installed here (iscsiadm, mkfs, the project's build/)
# without ldd archaeology. The initramfs only carries busybox and the modules
# needed to reach the share (virtio, 9p, overlay); /init mounts the host root
# read-only, lays a tmpfs over it (overlayfs) and switch_roots into
# tests/vm/lib/guest/stage2.sh, which runs the test's guest script.
#
# A second, uncached and writable 9p share ($VM_SHARE on the host, /vm in
# the guest) carries the guest script in and results out, and is the control
# channel: the guest touches /vm/ready when its target is up, the host
# touches $VM_SHARE/stop when done (vm_stop), the guest then powers off.
#
# Host API:
#   vm_require                 skip (77) unless qemu, kernel, busybox exist
#   vm_start SCRIPT [PORTVAR]..  boot; SCRIPT runs in the guest (bash).
#                              Each PORTVAR names a variable that receives a
#                              free host port forwarded to guest port 3260,
#                              3261, ... in order.
#   vm_wait_ready [SECS]       wait for the guest's vm_ready (default 180 s)
#   vm_stop [SECS]             ask the guest to power off, wait, kill on
#                              timeout; then vm_check_log
#   vm_run SCRIPT [SECS]       vm_start + wait for poweroff + vm_check_log
#   vm_check_log               fail on BUG:/Oops/WARNING:/KASAN/general
#                              protection in the console log or guest dmesg
#   vm_guest_rc                the guest script's exit status (from /vm/rc)
#   VM_LOG, VM_SHARE           console log path, share directory
#
# Guest side (tests/vm/lib/guest/lib.sh, sourced before SCRIPT runs):
#   vm_ready, vm_wait_stop, vm_result NAME VALUE, lio_* helpers.
#
# Environment: VM_KVER (default: newest /lib/modules with a vmlinuz),
# VM_TIMEOUT (hard cap on one boot, default 900 s), VM_MEM (MiB, 1024),
# VM_KEEP=1 keeps $VM_SHARE and the console log for inspection,
# VM_QEMU_EXTRA adds qemu arguments (e.g. a second NIC for a two-guest test:
# "-netdev socket,id=n1,listen=127.0.0.1:P -device virtio-net-pci,netdev=n1"),
# VM_GUEST_VARS names host variables exported to the guest script.
#
# One guest per test process: the state is in VM_PID/VM_SHARE/VM_LOG. A
# two-guest test saves them after the first vm_start and swaps them back
# around vm_stop / vm_check_log calls.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_MEM=${VM_MEM:-1024}
VM_PID=
VM_SHARE=
VM_LOG=
VM_STARTED=

# Modules the initramfs needs before it can see the host root, in load
# order (dependencies first). Everything else is loaded after switch_root
# with modprobe from the host's /lib/modules, which is then visible.
VM_INITRD_MODS="virtio_pci virtio_net 9pnet_virtio 9p overlay"

vm_default_kver() {
	local v best=
	for v in $(ls /lib/modules 2>/dev/null | sort -V); do
		[ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ] && best=$v
	done
	echo "$best"
}

vm_require() {
	VM_KVER=${VM_KVER:-$(vm_default_kver)}
	[ -n "$VM_KVER" ] || skip "no Debian kernel (/boot/vmlinuz-* with /lib/modules) installed"
	VM_KERNEL=/boot/vmlinuz-$VM_KVER
	[ -r "$VM_KERNEL" ] || skip "$VM_KERNEL not readable"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	VM_BUSYBOX=$(command -v busybox) || skip "busybox not installed"
	# A dynamic busybox has a program interpreter; the initramfs has no libc.
	if readelf -l "$(readlink -f "$VM_BUSYBOX")" 2>/dev/null | grep -q 'interpreter'; then
		skip "busybox is not static (install busybox-static)"
	fi
	[ "$(id -u)" = 0 ] || skip "qemu's 9p share of / needs root"
	export VM_KVER VM_KERNEL
}

# Paths of module NAME (dashes and underscores alike) for VM_KVER and of
# its dependencies, in load order (modules.dep lists a module's
# dependencies so that loading them right to left works).
vm_mod_paths() {
	local n=${1//-/_} d=/lib/modules/$VM_KVER
	awk -F': *' -v n="$n" '{ p = $1; b = p; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b);
		gsub(/-/, "_", b);
		if (b == n) { k = split($2, dep, " "); for (i = k; i >= 1; i--) print dep[i];
			print p; exit } }' "$d/modules.dep" | sed "s|^|$d/|"
}

# Build (once per kernel version and vm.sh revision) the initramfs.
vm_initrd() {
	local out=$BUILD/vm/initrd-$VM_KVER.cpio.gz stamp
	stamp=$(cat "$VM_LIB_DIR/vm.sh" "$VM_LIB_DIR/guest/init" | md5sum | cut -c1-12)
	if [ -s "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "$out"; return 0
	fi
	local root m p
	root=$(mktemp -d /tmp/bollard-initrd.XXXXXX) || return 1
	mkdir -p "$root"/{bin,dev,proc,sys,lower,upper,newroot,mods}
	cp "$VM_BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	# A module missing from modules.dep is built in (or absent, and then
	# /init says so when the mount fails).
	for m in $VM_INITRD_MODS; do
		for p in $(vm_mod_paths "$m"); do
			[ -e "$root/mods/$(basename "$p")" ] && continue
			cp "$p" "$root/mods/"
			basename "$p" >>"$root/mods/order"
		done
	done
	cp "$VM_LIB_DIR/guest/init" "$root/init"
	chmod +x "$root/init"
	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" &&
		mv "$out.tmp" "$out" && echo "$stamp" >"$out.stamp"
	rm -rf "$root"
	[ -s "$out" ] && echo "$out"
}

vm_start() { # SCRIPT [PORTVAR...]
	local script=$1; shift
	local initrd fwd= gport=3260 v p
	[ -r "$script" ] || die "vm_start: no guest script $script"
	initrd=$(vm_initrd) || die "could not build the initramfs"
	VM_SHARE=$(mktemp -d /tmp/bollard-vm.XXXXXX)
	VM_LOG=$VM_SHARE/console.log
	if [ "${VM_KEEP:-}" = 1 ]; then
		echo "vm: keeping $VM_SHARE" >&2
	else
		cleanup_add "rm -rf '$VM_SHARE'"
	fi
	cp "$VM_LIB_DIR/guest/stage2.sh" "$VM_LIB_DIR/guest/lib.sh" "$VM_SHARE/"
	cp "$script" "$VM_SHARE/guest.sh"
	# Variables the guest script may use.
	{
		printf 'TOP=%q\n' "$TOP"
		printf 'BUILD=%q\n' "$BUILD"
		printf 'VM_KVER=%q\n' "$VM_KVER"
		for v in ${VM_GUEST_VARS:-}; do printf '%s=%q\n' "$v" "${!v}"; done
	} >"$VM_SHARE/env"
	for v in "$@"; do
		p=$(free_port) || die "no free port"
		printf -v "$v" '%s' "$p"
		fwd+=",hostfwd=tcp:127.0.0.1:$p-:$gport"
		gport=$((gport + 1))
	done
	cleanup_add vm_kill
	VM_STARTED=$SECONDS
	timeout -s KILL "$VM_TIMEOUT" qemu-system-x86_64 \
		-accel tcg,tb-size=256 -cpu max -smp 2 -m "$VM_MEM" \
		-nographic -no-reboot -monitor none -serial "file:$VM_LOG" \
		-kernel "$VM_KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic quiet" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$VM_SHARE",mount_tag=vmshare,security_model=none \
		-netdev user,id=n0"$fwd" -device virtio-net-pci,netdev=n0 \
		${VM_QEMU_EXTRA:-} </dev/null >"$VM_SHARE/qemu.out" 2>&1 &
	VM_PID=$!
}

# Build a make target of the project (the module: kmod) before booting;
# on failure show the end of the build log and fail the test.
vm_make() { # TARGET
	local log
	log=$(mktemp /tmp/bollard-make.XXXXXX)
	# BUILD on the command line: the Makefile's own `BUILD := build` would
	# override the environment, and the test then uses another tree's .ko.
	if ! make -C "$TOP" --no-print-directory BUILD="$BUILD" "$1" >"$log" 2>&1; then
		tail -25 "$log" >&2; rm -f "$log"; die "make $1 failed"
	fi
	rm -f "$log"
}

vm_alive() { [ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null; }

vm_kill() {
	# VM_PID is timeout(1); SIGKILL to it alone would orphan qemu, so the
	# qemu child goes first.
	if vm_alive; then
		pkill -KILL -P "$VM_PID" 2>/dev/null
		kill -KILL "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
	fi
	VM_PID=
}

vm_wait_ready() { # [SECS]
	local end=$((SECONDS + ${1:-180}))
	while [ ! -e "$VM_SHARE/ready" ]; do
		if ! vm_alive; then
			vm_dump_tail; die "guest died before it was ready"
		fi
		if [ -e "$VM_SHARE/rc" ]; then
			vm_dump_tail; die "guest script ended (rc=$(cat "$VM_SHARE/rc")) before it was ready"
		fi
		[ $SECONDS -lt $end ] || { vm_dump_tail; die "guest not ready after ${1:-180} s"; }
		sleep 0.2
	done
	echo "vm: guest ready after $((SECONDS - VM_STARTED)) s" >&2
}

vm_wait_exit() { # SECS
	local end=$((SECONDS + $1))
	while vm_alive; do
		if [ $SECONDS -ge $end ]; then
			echo "vm: guest did not power off in $1 s, killing it" >&2
			vm_kill; return 1
		fi
		sleep 0.2
	done
	wait "$VM_PID" 2>/dev/null
	VM_PID=
	echo "vm: guest off after $((SECONDS - VM_STARTED)) s" >&2
}

vm_stop() { # [SECS]
	touch "$VM_SHARE/stop"
	vm_wait_exit "${1:-120}" || { vm_dump_tail; die "guest hung at power-off"; }
	vm_check_log
}

vm_run() { # SCRIPT [SECS]
	vm_start "$1"
	vm_wait_exit "${2:-$VM_TIMEOUT}" || { vm_dump_tail; die "guest timed out"; }
	vm_check_log
}

vm_guest_rc() {
	if [ -s "$VM_SHARE/rc" ]; then cat "$VM_SHARE/rc"; else echo 255; fi
}

vm_dump_tail() {
	echo "---- last 60 console lines ($VM_LOG) ----" >&2
	tail -n 60 "$VM_LOG" >&2 2>/dev/null
	[ -s "$VM_SHARE/qemu.out" ] && { echo "---- qemu ----" >&2; cat "$VM_SHARE/qemu.out" >&2; }
	echo "----" >&2
}

# The kernel's own verdict. 'quiet' hides KERN_WARNING on the console, so
# the guest also saves dmesg into the share before powering off.
VM_BAD_RE='BUG:|Oops|WARNING:|KASAN|general protection|Kernel panic|kernel BUG|UBSAN|stack-protector|list_(add|del) corruption'
vm_check_log() {
	local f bad=0
	for f in "$VM_LOG" "$VM_SHARE/dmesg"; do
		[ -e "$f" ] || continue
		if grep -aEn "$VM_BAD_RE" "$f" >&2; then
			echo "vm: kernel trouble in $f" >&2
			bad=1
		fi
	done
	if [ $bad = 1 ]; then vm_dump_tail; die "kernel BUG/Oops/WARNING in the guest"; fi
	grep -q 'stage2: up' "$VM_LOG" || { vm_dump_tail; die "guest never reached stage 2"; }
	return 0
}

# The iscsi-test-cu families the VM tier runs against the module and LIO.
VM_CU_FAMILIES=${VM_CU_FAMILIES:-SCSI.TestUnitReady,SCSI.Inquiry,SCSI.ReadCapacity10,SCSI.ReadCapacity16,SCSI.Read6,SCSI.Read10,SCSI.Read12,SCSI.Read16,SCSI.Write10,SCSI.Write12,SCSI.Write16,SCSI.ReportSupportedOpcodes,SCSI.ModeSense6,iSCSI}

# cu_run URL OUT: run the families against URL; OUT.log is the raw output,
# OUT.tests one "Suite.Test verdict" line per test, and the function prints
# "passed skipped failed". stdbuf keeps libiscsi's own messages ([SKIPPED]
# ...) in order with CUnit's "Test:" lines.
cu_run() {
	timeout -s KILL "${CU_TIMEOUT:-600}" stdbuf -oL -eL iscsi-test-cu --dataloss \
		--test="$VM_CU_FAMILIES" \
		-i iqn.1994-05.com.example.bollard:init1 \
		-I iqn.1994-05.com.example.bollard:init2 "$1" >"$2.log" 2>&1
	cu_classify "$2.log" >"$2.tests"
	awk '{ n[$2]++ } END { printf "%d %d %d\n", n["passed"], n["skipped"], n["failed"] }' "$2.tests"
}

# Number of tests (leaves of --list) in VM_CU_FAMILIES.
cu_count_tests() {
	iscsi-test-cu --list | awk -v fams="$VM_CU_FAMILIES" '
	BEGIN { n = split(fams, f, ",") }
	{ name[NR] = $1; seen[$1] = 1; parent = $1; sub(/\.[^.]*$/, "", parent); haskid[parent] = 1 }
	END {
		for (k = 1; k <= NR; k++) {
			if (name[k] in haskid) continue
			for (i = 1; i <= n; i++) if (index(name[k], f[i] ".") == 1) { c++; break }
		}
		print c + 0
	}'
}

# libiscsi's CUnit prints "Suite: S", then per test "  Test: T ..." and,
# possibly after lines of libiscsi messages, the verdict "passed" or
# "FAILED" at the start of a line. CUnit counts a test that only printed "[SKIPPED] ... is not
# implemented" as passed, so classify each test ourselves from the text
# between "Test:" and its verdict: FAILED -> failed; else a [SKIPPED] before
# the verdict -> skipped; else passed. Messages after the verdict come from
# the suite's teardown (e.g. "PERSISTENT RESERVE IN is not implemented"
# while it clears registrations) and do not count. No verdict (crash, cut
# off) -> failed.
cu_classify() { # LOGFILE
	awk '
	function flush() {
		if (name == "") return
		# Verdicts start a line; "[FAILED] ..." inside is a libiscsi message
		# (tests that expect a command to fail print it and still pass).
		fp = match(text, /(^|\n)FAILED/) ? RSTART : 0
		pp = match(text, /(^|\n)passed/) ? RSTART : 0
		sp = index(text, "[SKIPPED]")
		if (fp && (!pp || fp < pp)) v = "failed"
		else if (!pp) v = "failed"
		else if (sp && sp < pp) v = "skipped"
		else v = "passed"
		print suite "." name, v
		name = ""
	}
	/^Suite: / { flush(); suite = $2; next }
	/^  Test: / { flush(); name = $2; text = $0; sub(/^  Test: [^ ]* \.\.\./, "", text); next }
	/^Run Summary/ { flush(); next }
	name != "" { text = text "\n" $0 }
	END { flush() }' "$1"
}
