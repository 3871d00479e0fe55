#!/bin/sh
# mk/deps.sh: install the Debian packages bollard needs, only those missing.
#
# Usage: mk/deps.sh [--check] [GROUP...]
#   GROUP is one of: build test vm ha bench (default: all)
#   --check  print what is missing and exit 1 if anything is, install nothing.
#
# Uses apt-get, through sudo when not root, and prints what it installs.
set -eu

build="build-essential pkg-config libyaml-dev libjansson-dev libgrpc-dev \
libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libmnl-dev \
libcurl4-openssl-dev liburing-dev libiscsi-dev clang-14 libclang-rt-14-dev libxml2-dev libqb-dev libbz2-dev"
test="etcd-server etcd-client libiscsi-bin curl pacemaker pacemaker-cli-utils \
corosync drbd-utils resource-agents iproute2 iptables procps psmisc jq openssl \
python3 python3-jsonschema python3-yaml libxml2-utils strace"
vm="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio \
kmod sparse open-iscsi dkms"
bench="tgt bc"

check=0
groups=""
for a in "$@"; do
	case "$a" in
	--check) check=1 ;;
	build|test|vm|bench) groups="$groups $a" ;;
	*) echo "deps.sh: unknown group '$a'" >&2; exit 2 ;;
	esac
done
[ -n "$groups" ] || groups="build test vm bench"

want=""
for g in $groups; do
	eval "want=\"\$want \$$g\""
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "$check" = 1 ]; then
	echo "missing packages:$missing"
	exit 1
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine.
$SUDO apt-get update -qq || true
# Daemons from these packages (tgt, etcd, pacemaker, corosync) must not be
# started by their maintainer scripts: tests start their own copies.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	cleanup_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
[ "${cleanup_policy:-0}" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
echo "deps: done"
