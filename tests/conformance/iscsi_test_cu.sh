#!/usr/bin/env bash
# libiscsi conformance (iscsi-test-cu --dataloss) against bollard-target.
#
# Tier 1 (must pass, the script fails otherwise): the families Inquiry,
# ReadCapacity10/16, Read6/10/12/16, Write6/10/12/16, TestUnitReady,
# ReportSupportedOpcodes, ModeSense6 and every iSCSI.* test.
# Tier 2 (reported only): the whole ALL suite; counts printed, not judged.
#
# CUnit counts "[SKIPPED] ... not implemented" as passed, so every test line
# is classified here (iscsi_classify.py) into passed / failed / skipped.
# Set CONFORMANCE_FULL=0 to skip tier 2.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../integration/target_lib.bash"
bt_need
command -v iscsi-test-cu >/dev/null || skip "iscsi-test-cu (libiscsi-bin) not installed"
command -v python3 >/dev/null || skip "python3 not installed"
CLASSIFY="python3 $(dirname "$0")/iscsi_classify.py"

bt_start -q
IQN=iqn.2026-01.io.bollard.test:conformance
bt_target "$IQN" "$BT_TMP/lun0.img" 64M
URL=$BT_URL/$IQN/0
I1=iqn.2026-01.io.bollard.test:cu-init1
I2=iqn.2026-01.io.bollard.test:cu-init2

families="SCSI.Inquiry SCSI.ReadCapacity10 SCSI.ReadCapacity16 SCSI.Read6
SCSI.Read10 SCSI.Read12 SCSI.Read16 SCSI.Write6 SCSI.Write10 SCSI.Write12
SCSI.Write16 SCSI.TestUnitReady SCSI.ReportSupportedOpcodes SCSI.ModeSense6
iSCSI"
: >"$BT_TMP/tier1.res"
for f in $families; do
	timeout 300 iscsi-test-cu --dataloss --test="$f" -i "$I1" -I "$I2" "$URL" \
		>"$BT_TMP/t1.out" 2>&1
	$CLASSIFY "$BT_TMP/t1.out" | grep -v '^counts:' >>"$BT_TMP/tier1.res"
	bt_alive || die "bollard-target died during $f"
done
t1p=$(grep -c '^passed ' "$BT_TMP/tier1.res")
t1f=$(grep -c '^failed ' "$BT_TMP/tier1.res")
t1s=$(grep -c '^skipped ' "$BT_TMP/tier1.res")
echo "tier 1 (required families): $t1p passed, $t1f failed, $t1s skipped"
grep -E '^(failed|skipped) ' "$BT_TMP/tier1.res" | sed 's/^/  /'

if [ "${CONFORMANCE_FULL:-1}" != 0 ]; then
	timeout 900 iscsi-test-cu --dataloss --test=ALL -i "$I1" -I "$I2" "$URL" \
		>"$BT_TMP/all.out" 2>&1
	$CLASSIFY "$BT_TMP/all.out" >"$BT_TMP/all.res"
	echo "ALL suite (informational): $(tail -1 "$BT_TMP/all.res" | sed 's/^counts: //')"
	grep '^failed ' "$BT_TMP/all.res" | sed 's/^/  /'
	bt_alive || die "bollard-target died during the ALL suite"
fi
bt_stop
[ "$t1p" -gt 0 ] || die "no tier 1 test ran"
[ "$t1f" = 0 ] || die "$t1f required conformance tests failed"
echo "iscsi_test_cu: ok"
