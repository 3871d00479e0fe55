#!/usr/bin/env bash
# tests/integration/drbd_apply.sh - the DRBD reconciler's full loop with the
# real executor: observe -> plan -> apply -> observe again.
#
# There is no DRBD kernel module here, so drbdsetup, lvs, lvcreate, lvremove
# and drbdmeta are fakes on PATH that keep their "kernel" state in files.
# drbdadm is a wrapper: `sh-nop` (the validation step) runs the REAL
# drbdadm under unshare --uts as the node; other subcommands are logged, and
# `adjust` also asks the real drbdadm what it would do (-d with the fake
# drbdsetup) before the fake state is brought up to the config.
. "$(dirname "$0")/../lib/common.sh"

REAL_DRBDADM=$(command -v drbdadm) || skip "drbdadm not installed (drbd-utils)"
unshare --uts true 2>/dev/null || skip "unshare --uts not permitted here"
DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
PLANS=$TOP/tests/plans
mk_tmp T
mkdir -p "$T/bin" "$T/etc" "$T/state"
export STATE=$T/state REAL_DRBDADM
export BOLLARD_DRBD_DIR=$T/etc

# The live form of bollard-db once it is up, from the golden recording.
awk '/^>>> /{p = ($0 == ">>> drbdsetup show"); next} p' \
	"$PLANS/drbd-unchanged/observed.rec" > "$STATE/show.up"
awk '/^>>> /{p = ($0 == ">>> drbdsetup status --json"); next} p' \
	"$PLANS/drbd-unchanged/observed.rec" > "$STATE/status.up"
: > "$STATE/show"; echo '[]' > "$STATE/status"
echo "  vg0|other|1073741824" > "$STATE/lvs"; : > "$STATE/log"

cat > "$T/bin/drbdsetup" <<'EOF'
#!/bin/sh
echo "drbdsetup $*" >> "$STATE/log"
case "$1" in
show) cat "$STATE/show" ;;
status) cat "$STATE/status" ;;
down) : > "$STATE/show"; echo '[]' > "$STATE/status" ;;
*) exit 20 ;;
esac
EOF
cat > "$T/bin/lvs" <<'EOF'
#!/bin/sh
cat "$STATE/lvs"
EOF
cat > "$T/bin/lvcreate" <<'EOF'
#!/bin/sh
echo "lvcreate $*" >> "$STATE/log"
# lvcreate --yes --wipesignatures y -n NAME -L SIZEb VG
while [ $# -gt 1 ]; do case "$1" in -n) n=$2 ;; -L) s=${2%b} ;; esac; shift; done
echo "  $1|$n|$s" >> "$STATE/lvs"
EOF
cat > "$T/bin/lvremove" <<'EOF'
#!/bin/sh
echo "lvremove $*" >> "$STATE/log"
EOF
cat > "$T/bin/drbdmeta" <<'EOF'
#!/bin/sh
echo "drbdmeta $*" >> "$STATE/log"
[ -e "$STATE/md" ] && exit 0
echo "No valid meta data found" >&2; exit 1
EOF
cat > "$T/bin/drbdadm" <<'EOF'
#!/bin/sh
case " $* " in
*" sh-nop "*)
	echo "drbdadm sh-nop" >> "$STATE/log"
	[ -n "$FAIL_SHNOP" ] && { echo "injected: bad config" >&2; exit 10; }
	exec "$REAL_DRBDADM" "$@" ;;
esac
echo "drbdadm $*" >> "$STATE/log"
case "$1" in
create-md) touch "$STATE/md" ;;
adjust)
	# what would the real one do? (config from the file bollard installed)
	cfg=$BOLLARD_DRBD_DIR/$2.res
	unshare --uts sh -c 'hostname nodea && exec "$0" -c "$1" -s "$2" -d adjust "$3"' \
		"$REAL_DRBDADM" "$cfg" "$(dirname "$0")/drbdsetup" "$2" 2>/dev/null |
		grep -v modinfo > "$STATE/adjust.would"
	cp "$STATE/show.up" "$STATE/show"; cp "$STATE/status.up" "$STATE/status" ;;
down) : > "$STATE/show"; echo '[]' > "$STATE/status" ;;
esac
EOF
chmod +x "$T/bin"/*
export PATH=$T/bin:$PATH

run() { # label case-dir [expect-rc]
	out=$("$DRV" --live --apply drbd "$2" 2>&1); rc=$?
	[ "$rc" = "${3:-0}" ] || { echo "$out"; die "$1: driver exit $rc, expected ${3:-0}"; }
}
replan_empty() { # label case-dir
	out=$("$DRV" --live drbd "$2" 2>&1) || { echo "$out"; die "$1: re-plan failed"; }
	[ "$(head -1 <<<"$out")" = "plan drbd node=nodea: 0 actions, 0 conditions" ] ||
		{ echo "$out"; die "$1: not converged"; }
}

# 1. validation fails: nothing installed, nothing created past the stage.
FAIL_SHNOP=1 run bad-config "$PLANS/drbd-new-volume" 4
grep -q 'action 2: command failed' <<<"$out" || { echo "$out"; die "bad-config: wrong failure"; }
[ -e "$T/etc/bollard-db.res" ] && die "bad-config: config installed despite failed validation"
grep -qE 'lvcreate|drbdadm (create-md|adjust)' "$STATE/log" && die "bad-config: went on after validation failed"
echo "ok: a config drbdadm rejects is never installed or acted on"

# 2. new volume: validated config, LV, metadata, adjust - in that order.
: > "$STATE/log"
run new "$PLANS/drbd-new-volume"
grep -q '^apply: 6 done, 0 failed, 0 skipped' <<<"$out" || { echo "$out"; die "new: not all done"; }
order=$(grep -oE '^(lvcreate|drbdadm sh-nop|drbdadm create-md|drbdadm adjust)' "$STATE/log" | tr '\n' ,)
[ "$order" = "drbdadm sh-nop,lvcreate,drbdadm create-md,drbdadm adjust," ] ||
	{ cat "$STATE/log"; die "new: wrong order: $order"; }
cmp -s "$T/etc/bollard-db.res" <("$DRV" --payload drbd-config/bollard-db/stage drbd "$PLANS/drbd-new-volume") ||
	die "new: installed config differs from the rendered one"
ls -A "$T/etc" | grep -q tmp && die "new: temp file left behind"
grep -q 'new-resource bollard-db' "$STATE/adjust.would" ||
	{ cat "$STATE/adjust.would"; die "new: real drbdadm would not bring the resource up"; }
replan_empty new "$PLANS/drbd-new-volume"
echo "ok: new volume applied in order; the next plan is empty"

# 3. protocol change: config rewritten, adjust; drbdadm would change net options.
run protocol "$PLANS/drbd-changed-protocol"
grep -q 'protocol=A' "$STATE/adjust.would" ||
	{ cat "$STATE/adjust.would"; die "protocol: real drbdadm sees no protocol change"; }
grep -q 'protocol A;' "$T/etc/bollard-db.res" || die "protocol: config not rewritten"
echo "ok: protocol change written and adjusted"

# 4. deleted with Retain: down + config removed, LV kept, no lvremove.
run new-again "$PLANS/drbd-new-volume"
: > "$STATE/log"
run deleted "$PLANS/drbd-deleted-retain"
grep -q '^drbdadm down bollard-db' "$STATE/log" || { cat "$STATE/log"; die "deleted: not taken down"; }
[ -e "$T/etc/bollard-db.res" ] && die "deleted: config left behind"
grep -q lvremove "$STATE/log" && die "deleted: lvremove despite deletionPolicy Retain"
replan_empty deleted "$PLANS/drbd-deleted-retain"
echo "ok: deleted volume (Retain) taken down, config removed, LV kept"
exit 0
