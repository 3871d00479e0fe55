#!/usr/bin/env bash
# ALUA over the wire against bollard-target (alua.py, a minimal initiator
# that can stay logged in to a standby port, which libiscsi's tools cannot):
# TPGS, VPD 83h group/port, REPORT TARGET PORT GROUPS with a peer group,
# and what standby / unavailable / active-non-optimized serve, the states
# changed with `bollard target set` while the session is logged in.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../integration/target_lib.bash"
bt_need
command -v python3 >/dev/null || skip "python3 not installed"
bt_start -q
IQN=iqn.2026-01.io.bollard.test:alua
bt_target "$IQN" "$BT_TMP/lun0.img" 16M
python3 "$(dirname "$0")/alua.py" "$BT_PORT" "$IQN" "$BOLLARD" target --socket "$BT_SOCK" ||
	die "ALUA checks failed"
bt_alive || die "bollard-target died"
bt_stop
echo "alua: ok"
