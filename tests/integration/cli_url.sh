#!/usr/bin/env bash
# apply -f http://... fetches with libcurl: a tiny local HTTP server
# (python3 -m http.server on 127.0.0.1) serves examples/quickstart.
# Errors name the URL; a 404 fails without writing.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
command -v python3 >/dev/null || skip "python3 missing"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD

cp "$TOP/examples/quickstart/"*.yaml "$T/"
printf 'apiVersion: bollard.io/v1alpha1\nkind: Volume\nmetadata: {name: x}\nspec: {cluster: local, size: 1Gi, backing: {type: file, path: x}, replication: none, nope: 1}\n' >"$T/broken.yml"
port=$(free_port)
(cd "$T" && exec python3 -m http.server "$port" --bind 127.0.0.1 >"$T/http.log" 2>&1) &
srv=$!
cleanup_add "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$port/" || die "http server did not start"

url=http://127.0.0.1:$port/bollard.yaml
"$B" apply -f "$url" >"$T/out" 2>&1 || die "apply from URL: $(cat "$T/out")"
grep -qx 'target/demo created' "$T/out" || die "URL apply output: $(cat "$T/out")"
"$B" apply -f "$url" >"$T/out" 2>&1 || die "second apply from URL"
grep -vq ' unchanged$' "$T/out" && die "second URL apply changed something: $(cat "$T/out")"
"$B" diff -f "$url" >/dev/null 2>&1 || die "diff of URL not clean"

"$B" apply -f "http://127.0.0.1:$port/broken.yml" >"$T/out" 2>&1 && die "broken URL document applied"
grep -q "^http://127.0.0.1:$port/broken.yml:4:[0-9]*: spec.nope: " "$T/out" || die "URL diagnostics: $(cat "$T/out")"
"$B" get volume x >/dev/null 2>&1 && die "broken document was written"

"$B" apply -f "http://127.0.0.1:$port/missing.yaml" >"$T/out" 2>&1 && die "404 applied"
grep -q "missing.yaml.*404" "$T/out" || die "404 message: $(cat "$T/out")"
echo "cli_url: ok"
