#!/usr/bin/env bash
# `make install` into a DESTDIR, then what it installed is run from there:
#   1. PREFIX=/usr: bollard and bollard-plan side by side in usr/bin,
#      bollardd and bollard-target in usr/sbin, all runnable; the installed
#      `bollard plan --help` works with an empty PATH, so only the
#      bollard-plan installed next to it can have answered;
#   2. with that bollard-plan removed, `bollard plan` fails and says what
#      it needs (step 1 cannot pass some other way);
#   1b. DRBD's fence-peer handler is installed where bollardd's rendered
#      DRBD configuration names it (the path taken from a rendered config),
#      and runs (it refuses without DRBD's environment);
#   3. every docs/man page is installed under its section (its .TH line
#      says the section of the directory it lands in) and man renders it;
#   4. PREFIX=/opt/bollard: every program the systemd units' ExecStart and
#      the OCF agent's default name exists in the installed tree, as does
#      the EnvironmentFile (the paths are rewritten for the prefix).
. "$(dirname "$0")/../lib/common.sh"
PROGS=(bollard bollard-plan bollardd bollard-target)
for b in "${PROGS[@]}"; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built"
done
mk_tmp T

install_into() { # DESTDIR PREFIX
	local o=() b
	# -o: install copies what is built, never rebuilds it from here.
	for b in "${PROGS[@]}"; do o+=(-o "$BUILD/$b"); done
	make -C "$TOP" --no-print-directory BUILD="$BUILD" "${o[@]}" \
		DESTDIR="$1" PREFIX="$2" install >"$T/make.log" 2>&1 ||
		{ cat "$T/make.log"; die "make install DESTDIR=$1 PREFIX=$2 failed"; }
}

# 1. programs
R=$T/root
install_into "$R" /usr
for p in usr/bin/bollard usr/bin/bollard-plan usr/sbin/bollardd usr/sbin/bollard-target; do
	[ -x "$R/$p" ] || die "$p not installed"
	cmp -s "$R/$p" "$BUILD/${p##*/}" || die "$p is not $BUILD/${p##*/}"
done
mkdir "$T/empty"
"$R/usr/sbin/bollardd" --help >/dev/null 2>&1 || die "installed bollardd --help failed"
"$R/usr/sbin/bollard-target" --help >/dev/null 2>&1 || die "installed bollard-target --help failed"
out=$(PATH=$T/empty "$R/usr/bin/bollard" plan --help 2>&1) ||
	die "installed bollard plan --help failed: $out"
grep -q '^Usage: bollard plan' <<<"$out" || die "installed bollard plan --help printed no plan usage: $out"
echo "installed: bollard plan runs the bollard-plan next to it"

# 1b. the fence-peer handler, at the path the DRBD reconciler renders
DRV=$BUILD/bollard-plan-test
[ -x "$DRV" ] || die "$DRV not built"
fp=$("$DRV" --payload drbd-config/bollard-db/stage drbd "$TOP/tests/plans/drbd-new-volume" |
	sed -n 's/^[[:space:]]*fence-peer "\([^ "]*\).*/\1/p')
[ -n "$fp" ] || die "no fence-peer handler in the rendered DRBD config"
[ -x "$R$fp" ] || die "fence-peer handler $fp (rendered) not installed"
cmp -s "$R$fp" "$TOP/deploy/drbd/bollard-fence-peer" || die "$fp is not deploy/drbd/bollard-fence-peer"
out=$(env -u DRBD_RESOURCE BOLLARD_FENCE_KMSG=/dev/null "$R$fp" --master-id=x 2>&1)
[ $? = 1 ] && grep -q "DRBD_RESOURCE is not set" <<<"$out" ||
	die "installed fence-peer handler without DRBD_RESOURCE: $out"
# its CIB client beside it (the handler looks there: ${0%/*}/bollard-cib)
[ -x "${R}${fp%/*}/bollard-cib" ] || die "bollard-cib not installed beside the handler (${fp%/*})"
out=$("${R}${fp%/*}/bollard-cib" --help) && grep -q '^usage: bollard-cib' <<<"$out" ||
	die "installed bollard-cib --help: $out"
# DRBD's usermode helper, beside it, named by the modprobe.d file
[ -x "${R}${fp%/*}/bollard-drbd-helper" ] || die "bollard-drbd-helper not installed beside the handler"
mp=$R/etc/modprobe.d/bollard-drbd.conf
[ -f "$mp" ] || die "no $mp installed"
grep -qx "options drbd usermode_helper=/usr/lib/bollard/bollard-drbd-helper" "$mp" ||
	die "$mp does not name the installed helper: $(grep options "$mp")"
echo "installed: fence-peer handler at $fp, as rendered, bollard-cib and bollard-drbd-helper beside it"

# 2. the same without bollard-plan
rm "$R/usr/bin/bollard-plan"
if out=$(PATH=$T/empty "$R/usr/bin/bollard" plan --help 2>&1); then
	die "bollard plan --help succeeded without bollard-plan: $out"
fi
grep -q 'needs bollard-plan' <<<"$out" || die "bollard plan without bollard-plan does not say why: $out"

# 3. man pages
n=0
for m in "$TOP"/docs/man/*.[1-8]; do
	f=${m##*/}
	sec=${f##*.}
	i=$R/usr/share/man/man$sec/$f
	[ -f "$i" ] || die "man page $f not installed at ${i#"$R"}"
	th=$(awk '$1 == ".TH" {print $3; exit}' "$i")
	[ "$th" = "$sec" ] || die "$f installed in man$sec but its .TH says section '$th'"
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$i" 2>/dev/null | grep -q . || die "man -l $f rendered nothing"
	fi
	n=$((n + 1))
done
[ "$n" -ge 3 ] || die "only $n man pages in docs/man"
echo "installed: $n man pages"

# 4. deploy files name what was installed
R2=$T/opt
install_into "$R2" /opt/bollard
units=("$R2"/opt/bollard/lib/systemd/system/*.service)
[ -f "${units[0]}" ] || die "no systemd units installed"
for u in "${units[@]}"; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
	[ -n "$exe" ] || die "${u##*/}: no ExecStart"
	[ -x "$R2$exe" ] || die "${u##*/}: ExecStart $exe is not what was installed"
	env=$(sed -n 's/^EnvironmentFile=-\?//p' "$u")
	[ -z "$env" ] || [ -f "$R2$env" ] || die "${u##*/}: EnvironmentFile $env was not installed"
done
ocf=$R2/opt/bollard/lib/ocf/resource.d/bollard/target
[ -x "$ocf" ] || die "OCF agent not installed"
exe=$(sed -n 's/^OCF_RESKEY_bollard_default=//p' "$ocf")
[ -x "$R2$exe" ] || die "OCF agent's bollard default $exe is not what was installed"
# every OCF agent of deploy/ocf, as ocf:bollard:TYPE, and answering meta-data
for a in "$TOP"/deploy/ocf/bollard-*; do
	t=${a##*/bollard-}
	i=$R2/opt/bollard/lib/ocf/resource.d/bollard/$t
	[ -x "$i" ] || die "OCF agent $t (${a##*/}) not installed"
	OCF_ROOT=/usr/lib/ocf "$i" meta-data | grep -q "<resource-agent name=\"$t\"" ||
		die "installed OCF agent $t: meta-data does not name it $t"
done
echo "installed: units and OCF agents name the installed programs"
echo "install: ok"
