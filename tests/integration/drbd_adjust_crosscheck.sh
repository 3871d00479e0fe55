#!/usr/bin/env bash
# tests/integration/drbd_adjust_crosscheck.sh - bollard's "adjust needed?"
# decision against drbd-utils' own.
#
# For each golden DRBD case with a wanted resource, give the real drbdadm
# (drbd-utils 9.22) the config bollard renders and a fake drbdsetup that
# prints the case's recorded `drbdsetup show`; `drbdadm -s FAKE -d adjust`
# then prints the commands drbdadm would run. drbdadm wants changes exactly
# when bollard's plan has a `drbdadm adjust` for that resource. Every
# rendered config must also pass `drbdadm sh-nop` as the node.
. "$(dirname "$0")/../lib/common.sh"

command -v drbdadm >/dev/null || skip "drbdadm not installed (drbd-utils)"
command -v unshare >/dev/null || skip "unshare not available"
unshare --uts true 2>/dev/null || skip "unshare --uts not permitted here"
DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
PLANS=$TOP/tests/plans
mk_tmp T

# section REC KEY: the body of the ">>> KEY" section of a recording.
section() {
	awk -v k=">>> $2" '/^>>> /{p = ($0 == k); next} /^@include /{p = 0} p' "$1"
}
# one_resource NAME: the "resource NAME {...}" block from `drbdsetup show`.
# (DRBD 8.4's drbdsetup prints the name unquoted.)
one_resource() {
	awk -v r="resource \"$1\" {" -v r84="resource $1 {" \
		'$0 == r || $0 == r84 {p = 1} p {print} p && /^}/ {p = 0}'
}

cat > "$T/drbdsetup" <<EOF
#!/bin/sh
# fake drbdsetup: only "show RES" is answered, from \$FAKE_SHOW
case "\$1" in
show) cat "\$FAKE_SHOW" ;;
*) echo "fake drbdsetup: unexpected \$*" >&2; exit 20 ;;
esac
EOF
chmod +x "$T/drbdsetup"

checked=0 agree_adjust=0 agree_none=0
for dir in "$PLANS"/drbd-*/; do
	c=$(basename "$dir")
	plan=$("$DRV" drbd "$dir") || die "$c: driver failed"
	node=$(cat "$dir/node" 2>/dev/null || echo nodea)
	# A case recorded under DRBD 8.4 (/proc/drbd) is checked with the
	# 8.4 drbdadm that drbd-utils dispatches to under such a kernel.
	adm=drbdadm
	if section "$dir/observed.rec" "file /proc/drbd" | grep -q '^version: 8\.'; then
		adm=$(ls /lib/drbd/drbdadm-84 /usr/lib/drbd/drbdadm-84 2>/dev/null | head -1)
		[ -n "$adm" ] || die "$c: drbdadm-84 not found (drbd-utils)"
	fi
	# The resources this case wants: those with a rendered or kept config.
	for res in $( { grep -oE '(drbd-config|drbd-resource)/bollard-[a-z0-9-]+' <<<"$plan" |
		       cut -d/ -f2
		       grep -oE '^>>> file /etc/drbd.d/bollard-[a-z0-9-]+\.res' "$dir/observed.rec" |
		       sed 's#.*/##; s#\.res$##'; } | sort -u); do
		# Only resources the desired state wants: skip those the plan
		# removes and those it holds (in use, Primary, pending).
		grep -qE "^\[[0-9]+\] -[a-z]+ drbd-[a-z]+/$res " <<<"$plan" && continue
		grep -qE "^! Volume/${res#bollard-} (InUse|Primary|Pending):" <<<"$plan" && continue
		cfg=$T/$c-$res.res
		if grep -q "drbd-config/$res stage" <<<"$plan"; then
			"$DRV" --payload "drbd-config/$res/stage" drbd "$dir" > "$cfg"
		else
			section "$dir/observed.rec" "file /etc/drbd.d/$res.res" > "$cfg"
		fi
		[ -s "$cfg" ] || continue
		grep -q '^# bollard:' "$cfg" || continue # not ours: never touched
		unshare --uts sh -c 'hostname "$1" && exec "$3" -c "$2" sh-nop' \
			- "$node" "$cfg" "$adm" 2>"$T/shnop.err" ||
			{ cat "$T/shnop.err"; die "$c: $res: drbdadm sh-nop rejects the config"; }
		# Metadata unknown: bollard refuses to adjust on purpose (not a
		# live-state question), so there is nothing to compare.
		grep -q "MetadataUnknown" <<<"$plan" && continue
		section "$dir/observed.rec" "drbdsetup show" | one_resource "$res" > "$T/show"
		out=$(FAKE_SHOW=$T/show unshare --uts sh -c \
			'hostname "$1" && exec "$5" -c "$2" -s "$3" -d adjust "$4"' \
			- "$node" "$cfg" "$T/drbdsetup" "$res" "$adm" 2>&1 | grep -v '^modinfo')
		if grep -q "drbd-resource/$res adjust" <<<"$plan"; then ours=yes; else ours=no; fi
		if [ -n "$out" ]; then theirs=yes; else theirs=no; fi
		if [ $ours != $theirs ]; then
			echo "$plan"
			echo "--- drbdadm -d adjust $res:"; echo "$out"
			die "$c: $res: bollard says adjust=$ours, drbdadm says $theirs"
		fi
		checked=$((checked + 1))
		[ $ours = yes ] && agree_adjust=$((agree_adjust + 1)) || agree_none=$((agree_none + 1))
		echo "ok: $c: $res: both say adjust=$ours"
	done
done
# Both kinds of answer must have been exercised, or the check proves little.
[ $agree_adjust -ge 2 ] && [ $agree_none -ge 2 ] ||
	die "cross-check too weak: $agree_adjust adjust, $agree_none unchanged"
echo "ok: drbdadm agrees with bollard on $checked resources ($agree_adjust adjust, $agree_none unchanged)"
exit 0
