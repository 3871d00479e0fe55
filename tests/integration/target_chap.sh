#!/usr/bin/env bash
# CHAP (MD5) through the management CLI: the right secret logs in, a wrong
# one or none is refused; mutual CHAP: the target proves its own secret.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/target_lib.bash"
bt_need
bt_start
IQN=iqn.2026-01.io.bollard.test:chap
bt_target "$IQN" "$BT_TMP/lun0.img" 16M
export BT_SECRET=alicesecret0123
btctl auth set "$IQN" --chap-user alice --chap-secret-env BT_SECRET >/dev/null ||
	die "auth set"
H=127.0.0.1:$BT_PORT

"$BT_RW" "iscsi://alice%alicesecret0123@$H/$IQN/0" login || die "good CHAP refused"
"$BT_RW" "iscsi://alice%wrongsecret9999@$H/$IQN/0" login 2>/dev/null &&
	die "wrong CHAP secret admitted"
"$BT_RW" "iscsi://mallory%alicesecret0123@$H/$IQN/0" login 2>/dev/null &&
	die "wrong CHAP user admitted"
"$BT_RW" "iscsi://$H/$IQN/0" login 2>/dev/null && die "login without CHAP admitted"
"$BT_RW" -s 3 "iscsi://alice%alicesecret0123@$H/$IQN/0" verify 32 || die "I/O after CHAP"

# Mutual CHAP: the initiator checks the target's answer.
export BT_MSECRET=targetsecret4567
btctl auth set "$IQN" --chap-user alice --chap-secret-env BT_SECRET \
	--mutual-user tgt --mutual-secret-env BT_MSECRET >/dev/null || die "mutual auth set"
"$BT_RW" -m tgt:targetsecret4567 "iscsi://alice%alicesecret0123@$H/$IQN/0" login ||
	die "mutual CHAP refused"
"$BT_RW" -m tgt:notthesecret000 "iscsi://alice%alicesecret0123@$H/$IQN/0" login 2>/dev/null &&
	die "initiator accepted a wrong mutual CHAP answer"
bt_alive || die "daemon died"
grep -q "CHAP failed" "$BT_LOG" || die "no CHAP failure logged"
bt_stop
echo "target_chap: ok"
