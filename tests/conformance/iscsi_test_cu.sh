#!/usr/bin/env bash
# libiscsi conformance (iscsi-test-cu --dataloss) against bollard-target,
# judged: every test of the ALL suite (= the SCSI and iSCSI families) must
# pass, or be skipped with a reason listed in tests/conformance/allowed_skips
# (pattern AND libiscsi's skip message must match; iscsi_judge.py).
#
# One bollard-target listening on two ports of 127.0.0.1 (two portals of
# the same target, both advertised by SendTargets), three runs:
#   1. ALL, one portal;
#   2. ALL, both portals (iscsi-test-cu's second URL): the MultipathIO
#      tests must pass here;
#   3. the ReadOnly family against a second target whose LUN is read-only:
#      ReadOnly.ReadOnlySBC must pass here;
#   4. a daemon reporting 4 KiB physical blocks for files: the five tests
#      that need LBPPBE > 0 must pass there.
# Prints pass/fail/skip counts and the wall time of each run.
#
# CUnit counts "[SKIPPED] ... not implemented" as passed, so every test line
# is classified here (iscsi_classify.py) into passed / failed / skipped. A
# run that classifies fewer tests than `iscsi-test-cu --list` names (cut off,
# crashed) fails too.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../integration/target_lib.bash"
bt_need
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu (libiscsi-bin) not installed"
command -v python3 >/dev/null || skip "python3 not installed"
HERE=$(cd "$(dirname "$0")" && pwd)
CLASSIFY="python3 $HERE/iscsi_classify.py"
JUDGE="python3 $HERE/iscsi_judge.py"
ALLOWED=$HERE/allowed_skips

P2=$(free_port) || die "no free port"
bt_start -q --listen "127.0.0.1:$P2"
IQN=iqn.2026-01.io.bollard.test:conformance
RO=iqn.2026-01.io.bollard.test:conformance-ro
bt_target "$IQN" "$BT_TMP/lun0.img" 64M
btctl portal add "$IQN" "127.0.0.1:$BT_PORT" >/dev/null || die "portal add"
btctl portal add "$IQN" "127.0.0.1:$P2" >/dev/null || die "portal add"
truncate -s 16M "$BT_TMP/ro.img"
btctl create "$RO" >/dev/null && btctl lun add "$RO" 0 "$BT_TMP/ro.img" --readonly >/dev/null &&
	btctl acl add "$RO" '*' >/dev/null && btctl enable "$RO" >/dev/null || die "read-only target"
I1=iqn.2026-01.io.bollard.test:cu-init1
I2=iqn.2026-01.io.bollard.test:cu-init2

# Leaf tests under FAMILY in `iscsi-test-cu --list`.
count_tests() {
	iscsi-test-cu --list | awk -v f="$1" -F. '$1 == f && NF == 3' | wc -l
}

rc=0
# cu NAME TEST EXPECTED [--must-pass PATTERN...] -- URL...
cu() {
	local name=$1 test=$2 expect=$3 s out n
	shift 3
	local judge_args=()
	while [ "$1" != -- ]; do judge_args+=("$1"); shift; done
	shift
	out=$BT_TMP/$name
	s=$SECONDS
	timeout 900 stdbuf -oL -eL iscsi-test-cu --dataloss --test="$test" \
		-i "$I1" -I "$I2" "$@" >"$out.out" 2>&1
	$CLASSIFY "$out.out" >"$out.res"
	n=$(grep -vc '^counts:' "$out.res")
	echo "$name: $(tail -1 "$out.res" | sed 's/^counts: //') of $expect ($((SECONDS - s)) s)"
	bt_alive || die "bollard-target died during $name"
	if [ "$n" != "$expect" ]; then
		tail -20 "$out.out"
		echo "  $name classified $n tests, expected $expect"
		rc=1
	fi
	$JUDGE "$out.res" "$ALLOWED" "${judge_args[@]}" || rc=1
}

all=$(count_tests ALL)
[ "$all" -gt 0 ] || die "iscsi-test-cu --list names no ALL tests"
ro=$(iscsi-test-cu --list | grep -c '^ALL\.ReadOnly\.[^.]*$')
cu one-portal ALL "$all" -- "$BT_URL/$IQN/0"
cu two-portals ALL "$all" --must-pass 'MultipathIO.*' -- \
	"$BT_URL/$IQN/0" "iscsi://127.0.0.1:$P2/$IQN/0"
cu read-only ALL.ReadOnly "$ro" --must-pass 'ReadOnly.*' -- "$BT_URL/$RO/0"
bt_stop

# 4. The tests that need more than one logical block per physical block
# (READ CAPACITY(16) LBPPBE > 0) skip against a plain file; a daemon that
# reports 4 KiB physical blocks for files must pass them.
export BOLLARD_TARGET_FILE_PHYS_BLOCK=4096
bt_start -q
unset BOLLARD_TARGET_FILE_PHYS_BLOCK
PB=iqn.2026-01.io.bollard.test:conformance-4k
bt_target "$PB" "$BT_TMP/lun4k.img" 64M
for t in CompareAndWrite.InvalidDataOutSize WriteSame10.UnmapUnaligned \
	 WriteSame10.InvalidDataOutSize WriteSame16.UnmapUnaligned \
	 WriteSame16.InvalidDataOutSize; do
	cu "4k-${t}" "ALL.$t" 1 --must-pass "$t" -- "$BT_URL/$PB/0"
done
bt_stop
[ "$rc" = 0 ] || die "conformance: failures or skips not in tests/conformance/allowed_skips (above)"
echo "iscsi_test_cu: ok"
