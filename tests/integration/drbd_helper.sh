#!/usr/bin/env bash
# tests/integration/drbd_helper.sh - deploy/drbd/bollard-drbd-helper, DRBD's
# usermode helper on bollard's nodes, on a configuration the DRBD reconciler
# renders (golden case drbd-84-new-volume, through bollard-plan-test):
#   - fence-peer of that resource runs the handler named in the file
#     directly, with DRBD_RESOURCE, DRBD_MINOR and DRBD_PEER as drbdadm-84
#     derives them from the same file (drbdadm-84 sh-minor is the oracle
#     for the minors) and the handler's exit code;
#   - everything else goes to the real /sbin/drbdadm, unchanged: another
#     command, a DRBD 9 kernel, a file bollardd did not write, a missing
#     file, a resource with two peers. (Here drbdadm then says it knows no
#     such resource: that message is the evidence it ran.)
# The handler is a recorder, put in place of bollard-fence-peer's path in
# a copy of the rendered file.
. "$(dirname "$0")/../lib/common.sh"

H=$TOP/deploy/drbd/bollard-drbd-helper DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
[ -x /lib/drbd/drbdadm-84 ] && [ -x /sbin/drbdadm ] || skip "drbd-utils (drbdadm, drbdadm-84) not installed"
command -v unshare >/dev/null || skip "unshare not installed"
mk_tmp T
mkdir "$T/d"
"$DRV" --payload drbd-config/bollard-hadisk/stage drbd "$TOP/tests/plans/drbd-84-new-volume" >"$T/rendered.res" ||
	die "bollard-plan-test rendered nothing"
grep -q '^	\+fence-peer "/usr/lib/bollard/bollard-fence-peer ' "$T/rendered.res" ||
	die "the rendered configuration has no bollard-fence-peer handler: $(cat "$T/rendered.res")"
sed 's|"/usr/lib/bollard/bollard-fence-peer|"'"$T"'/recorder|' "$T/rendered.res" >"$T/d/bollard-hadisk.res"
cat >"$T/recorder" <<EOS
#!/bin/sh
{ echo "args: \$*"; env | grep '^DRBD_' | sort; } >"$T/recorded"
exit 7
EOS
chmod 755 "$T/recorder"
echo "version: 8.4.11 (api:1/proto:86-101)" >"$T/proc84"
echo "version: 9.2.2 (api:2/proto:86-121)" >"$T/proc9"

helper() { # PROC NODE ARGS...: run the helper; output in $OUT, exit in $RC
	local proc=$1 node=$2; shift 2
	rm -f "$T/recorded"
	OUT=$(BOLLARD_DRBD_DIR="$T/d" BOLLARD_PROC_DRBD="$proc" BOLLARD_NODENAME="$node" \
		sh "$H" "$@" 2>&1); RC=$?
}
for node in nodea nodeb; do
	helper "$T/proc84" $node fence-peer bollard-hadisk
	[ $RC = 7 ] || die "$node: fence-peer: exit $RC, want the handler's 7 ($OUT)"
	[ -s "$T/recorded" ] || die "$node: fence-peer did not run the handler ($OUT)"
	want=$(unshare -u sh -c "hostname $node; /lib/drbd/drbdadm-84 -c '$T/d/bollard-hadisk.res' sh-minor bollard-hadisk") ||
		die "drbdadm-84 sh-minor failed on $node"
	[ -n "$want" ] || die "drbdadm-84 sh-minor printed nothing"
	peer=nodeb; [ $node = nodeb ] && peer=nodea
	printf '%s\n' "args: --master-id=bollard-drbd-hadisk-clone" "DRBD_CONF=$T/d/bollard-hadisk.res" \
		"DRBD_MINOR=$(echo $want)" "DRBD_PEER=$peer" "DRBD_RESOURCE=bollard-hadisk" >"$T/want"
	diff "$T/want" "$T/recorded" || die "$node: the handler's arguments or environment differ"
	echo "ok: $node: fence-peer ran the handler directly (minor $want, peer $peer), exit 7 passed on"
done

drbdadm_ran() { # WHAT
	[ ! -e "$T/recorded" ] || die "$1: the handler ran ($(cat "$T/recorded"))"
	[ $RC != 0 ] && [[ $OUT == *"no resources defined"* || $OUT == *"not defined in your config"* ]] ||
		die "$1: no sign of /sbin/drbdadm (exit $RC: $OUT)"
	echo "ok: $1: /sbin/drbdadm ran"
}
helper "$T/proc84" nodea before-resync-target minor-0
drbdadm_ran "another command"
helper "$T/proc9" nodea fence-peer bollard-hadisk
drbdadm_ran "a DRBD 9 kernel"
helper "$T/nonexistent" nodea fence-peer bollard-hadisk
drbdadm_ran "no /proc/drbd"
helper "$T/proc84" nodec fence-peer bollard-hadisk
drbdadm_ran "a node not in the file"
helper "$T/proc84" nodea fence-peer bollard-other
drbdadm_ran "no such file"
sed 1d "$T/rendered.res" | sed 's|"/usr/lib/bollard/bollard-fence-peer|"'"$T"'/recorder|' >"$T/d/bollard-hand.res"
helper "$T/proc84" nodea fence-peer bollard-hand
drbdadm_ran "a file bollardd did not write"
awk '/^\ton nodeb/ { on = 1 } on { sub(/nodeb/, "nodec"); print; if ($0 ~ /^\t}/) on = 0; next } 1' \
	"$T/d/bollard-hadisk.res" | sed '$d' >"$T/d/bollard-three.res"
awk '/^\ton nodeb/ { on = 1 } on { print; if ($0 ~ /^\t}/) on = 0 }' "$T/d/bollard-hadisk.res" >>"$T/d/bollard-three.res"
echo "}" >>"$T/d/bollard-three.res"
grep -c '^	on ' "$T/d/bollard-three.res" | grep -qx 3 || die "could not make a three-node file: $(cat "$T/d/bollard-three.res")"
helper "$T/proc84" nodea fence-peer bollard-three
drbdadm_ran "two peers"
helper "$T/proc84" nodea fence-peer ../hadisk
drbdadm_ran "a resource name with a slash"
