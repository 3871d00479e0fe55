#!/bin/sh
# mk/etcd-protos.sh: generate the protobuf-c sources for etcd's v3 API.
#
# Usage: mk/etcd-protos.sh BUILD_DIR
#
# The .proto files come from Debian's golang-etcd-server-dev (the same
# version as the etcd-server we test against). The package is fetched with
# `apt-get download` (not installed: its Go dependencies are huge) into
# BUILD_DIR/etcd-proto/, once. A .deb already in /var/cache/apt/archives is
# used when present, so a machine without network can still build.
#
# etcd's protos carry gogoproto options and grpc-gateway HTTP annotations;
# protoc-c needs neither (and would need their imports), so they are
# stripped: the imports, file options, [(gogoproto.x) = y] field options and
# the nested `option (google.api.http) = { ... }` blocks.
#
# Output: BUILD_DIR/gen/etcd/{mvcc/mvccpb/kv,auth/authpb/auth,
#         etcdserver/etcdserverpb/rpc}.pb-c.{c,h}
set -eu

build=${1:-build}
work=$build/etcd-proto
gen=$build/gen
pkg=golang-etcd-server-dev

mkdir -p "$work" "$gen"

deb=$(ls "$work"/${pkg}_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	cached=$(ls /var/cache/apt/archives/${pkg}_*.deb 2>/dev/null | head -n1 || true)
	if [ -n "$cached" ]; then
		cp "$cached" "$work/"
	else
		# apt-get download writes into the current directory. It warns when
		# the _apt user cannot write there; that is harmless.
		(cd "$work" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
	fi
	deb=$(ls "$work"/${pkg}_*.deb 2>/dev/null | head -n1 || true)
	[ -n "$deb" ] || { echo "etcd-protos: could not get $pkg (apt-get download failed)" >&2; exit 1; }
fi

rm -rf "$work/x" "$work/src"
dpkg -x "$deb" "$work/x"
srcroot=$work/x/usr/share/gocode/src/go.etcd.io/etcd

strip_proto() { # in out
	mkdir -p "$(dirname "$2")"
	awk '
		depth > 0 {
			o = gsub(/\{/, "{"); c = gsub(/\}/, "}")
			depth += o - c
			next
		}
		/option[ \t]*\(google\.api\.http\)/ {
			o = gsub(/\{/, "{"); c = gsub(/\}/, "}")
			depth = o - c
			next
		}
		/^import "gogoproto\//    { next }
		/^import "google\/api\//  { next }
		/^option \(gogoproto\./   { next }
		{ gsub(/[ \t]*\[\(gogoproto\.[^]]*\]/, ""); print }
	' "$1" > "$2.tmp"
	if grep -q 'gogoproto\|google\.api' "$2.tmp"; then
		echo "etcd-protos: $1: annotations left after stripping" >&2
		exit 1
	fi
	mv "$2.tmp" "$2"
}

for p in mvcc/mvccpb/kv auth/authpb/auth etcdserver/etcdserverpb/rpc; do
	strip_proto "$srcroot/$p.proto" "$work/src/etcd/$p.proto"
done

gen_abs=$(cd "$gen" && pwd)
(cd "$work/src" && protoc-c --c_out="$gen_abs" \
	etcd/mvcc/mvccpb/kv.proto etcd/auth/authpb/auth.proto \
	etcd/etcdserver/etcdserverpb/rpc.proto)
echo "etcd-protos: generated into $gen/etcd"
