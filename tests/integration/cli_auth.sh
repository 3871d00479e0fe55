#!/usr/bin/env bash
# --etcd-user/--etcd-password against an etcd with authentication on:
# without credentials (or with a wrong password) commands fail with an
# authentication error and write nothing; with them everything works.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
mk_tmp T
B=$BOLLARD
cd "$TOP"

etcdctl_t user add root:rootpw >/dev/null || die "user add"
etcdctl_t user grant-role root root >/dev/null || die "grant-role"
etcdctl_t auth enable >/dev/null || die "auth enable"

"$B" --etcd "$ETCD_URL" apply -f examples/quickstart >"$T/out" 2>&1 && die "apply without credentials succeeded"
grep -q 'Error: .*authentication' "$T/out" || die "no authentication error: $(cat "$T/out")"
"$B" apply --etcd "$ETCD_URL" --etcd-user root --etcd-password nope -f examples/quickstart >"$T/out" 2>&1 &&
	die "apply with a wrong password succeeded"
grep -q 'Error: .*authentication' "$T/out" || die "no authentication error: $(cat "$T/out")"
n=$(etcdctl_t --user root:rootpw get /bollard/ --prefix --keys-only | grep -c .)
[ "$n" = 0 ] || die "failed applies wrote $n keys"

export BOLLARD_ETCD=$ETCD_URL
"$B" apply --etcd-user root --etcd-password rootpw -f examples/quickstart >"$T/out" 2>&1 || die "apply with credentials: $(cat "$T/out")"
grep -qx 'target/demo created' "$T/out" || die "apply output: $(cat "$T/out")"
"$B" get targets --etcd-user=root --etcd-password=rootpw >"$T/out" 2>&1 || die "get with credentials: $(cat "$T/out")"
grep -q '^demo ' "$T/out" || die "get output: $(cat "$T/out")"
echo "cli_auth: ok"
