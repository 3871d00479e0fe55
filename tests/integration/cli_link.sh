#!/usr/bin/env bash
# The `bollard` CLI must stay light to start (docs/etcd.md, "Why the CLI
# does not use gRPC"): it must not link gRPC (nor abseil, protobuf-c),
# libcurl, OpenSSL or libxml2; those are loaded only by the commands that
# need them (dlopen for URLs and https://, bollard-plan for `plan`). And
# `plan` must still work through bollard-plan, with the same arguments.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BUILD/bollard" ] || die "$BUILD/bollard not built"
[ -x "$BUILD/bollard-plan" ] || die "$BUILD/bollard-plan not built"
command -v ldd >/dev/null || skip "ldd not installed"

libs=$(ldd "$BUILD/bollard") || die "ldd $BUILD/bollard failed"
echo "$libs"
for bad in libgrpc libgpr libabsl libprotobuf-c libcurl libssl libcrypto libxml2 libicu libstdc++; do
	if grep -q "$bad" <<<"$libs"; then
		die "build/bollard links $bad (start-up cost for every command)"
	fi
done
# bollard-plan is what `bollard plan` runs: global flags pass through.
out=$("$BUILD/bollard" plan --help 2>&1) || die "bollard plan --help failed: $out"
grep -qi "usage" <<<"$out" || die "bollard plan --help printed no usage: $out"
out=$("$BUILD/bollard" --etcd http://127.0.0.1:1 --timeout 300ms plan --node x 2>&1) &&
	die "plan against a dead etcd succeeded"
grep -q "127.0.0.1:1" <<<"$out" || die "plan did not get the global --etcd flag: $out"
echo "cli link: ok ($(wc -l <<<"$libs") shared objects)"
