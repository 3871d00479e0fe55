#!/usr/bin/env bash
# etcd_interop.sh - our etcd client (build/etcd-kv) against a real etcd and
# Debian's etcdctl: each reads what the other wrote; a watch from our
# client keeps every event across an etcd crash and restart; the shell
# helper (tests/lib/etcd.sh) keeps data across restarts and stops cleanly.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/etcd.sh"

KV=$BUILD/etcd-kv
[ -x "$KV" ] || die "$KV not built (make $KV)"
command -v etcdctl >/dev/null || skip "etcdctl not installed (Debian etcd-client)"

etcd_start || die "etcd did not start"
mk_tmp T

# etcdctl writes, we read; we write, etcdctl reads.
etcdctl_t put /io/from-etcdctl hello >/dev/null || die "etcdctl put"
out=$("$KV" "$ETCD_URL" get /io/from-etcdctl) || die "etcd-kv get"
[ "$out" = "/io/from-etcdctl=hello" ] || die "etcd-kv get: '$out'"
"$KV" "$ETCD_URL" put /io/from-us "a value with spaces" || die "etcd-kv put"
out=$(etcdctl_t get /io/from-us --print-value-only)
[ "$out" = "a value with spaces" ] || die "etcdctl get: '$out'"
out=$("$KV" "$ETCD_URL" get /io/ --prefix | wc -l)
[ "$out" = 2 ] || die "prefix get: $out lines"

# A watch from our client across a crash: 3 events before, 3 after.
rev=$(etcdctl_t get /io/from-us -w json | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
[ -n "$rev" ] || die "no revision"
"$KV" "$ETCD_URL" watch /w/ 6 $((rev + 1)) >"$T/watch.out" 2>"$T/watch.err" &
wpid=$!
cleanup_add "kill $wpid 2>/dev/null"
for i in 1 2 3; do etcdctl_t put /w/$i before >/dev/null || die "put $i"; done
wait_for 10 grep -q '/w/3' "$T/watch.out" || die "watch did not see the first puts"
etcd_kill
etcdctl_t --command-timeout=300ms put /w/lost x >/dev/null 2>&1 && die "put to a dead etcd succeeded"
etcd_restart || die "restart"
for i in 4 5 6; do etcdctl_t put /w/$i after >/dev/null || die "put $i"; done
wait_for 20 sh -c "! kill -0 $wpid 2>/dev/null" || die "watch did not finish: $(cat "$T/watch.out")"
wait $wpid || die "watch failed: $(cat "$T/watch.err")"
keys=$(awk '{print $1, $2}' "$T/watch.out" | tr '\n' ' ')
[ "$keys" = "PUT /w/1 PUT /w/2 PUT /w/3 PUT /w/4 PUT /w/5 PUT /w/6 " ] ||
	die "watch events: '$keys'"

# The helper: data survives a graceful restart, stop leaves no process.
etcd_restart || die "restart 2"
out=$("$KV" "$ETCD_URL" get /w/6) || die "get after restart"
[ "$out" = "/w/6=after" ] || die "after restart: '$out'"
pid=$ETCD_PID
etcd_stop
kill -0 "$pid" 2>/dev/null && die "etcd $pid still running after etcd_stop"
"$KV" -t 500 "$ETCD_URL" get /w/6 2>/dev/null && die "get succeeded with etcd stopped"
echo "etcd_interop: ok"
exit 0
