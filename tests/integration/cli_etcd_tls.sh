#!/usr/bin/env bash
# The `bollard` CLI (etcd's JSON gateway over HTTP/1.1, controller/etcd/http)
# against a real etcd that serves https:// only and requires client
# certificates (--client-cert-auth). A throwaway CA, a server certificate
# (IP SAN 127.0.0.1) and client certificates are made with the openssl CLI.
#   1. with --cacert, --cert, --key: apply, get and apply --wait work (the
#      wait's watch is its own TLS connection: it sees a status written by
#      etcdctl while it waits); etcdctl with the same files reads what the
#      CLI wrote;
#   2. no client certificate: fails, and says the server refused the client;
#   3. a client certificate from another CA: the same;
#   4. the wrong CA for the server (and no --cacert: system roots): fails
#      with "certificate verify failed";
#   5. plain http:// to the TLS port fails;
#   6. bollardd (gRPC) cannot start without a client certificate, and with
#      BOLLARD_ETCD_CACERT/_CERT/_KEY (or --cacert/--cert/--key) reconciles
#      the quickstart into bollard-target and writes its status.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
[ -x "$BUILD/bollard" ] || die "$BUILD/bollard not built"
command -v openssl >/dev/null || skip "openssl not installed (mk/deps.sh installs it)"
command -v etcdctl >/dev/null || skip "etcdctl not installed (Debian etcd-client)"
command -v jq >/dev/null || skip "jq not installed (mk/deps.sh installs it)"

mk_tmp T
C=$T/pki
mkdir "$C"
ossl() { openssl "$@" >>"$C/openssl.log" 2>&1 || { cat "$C/openssl.log"; die "openssl $1 failed"; }; }
mk_ca() { # name
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$C/$1.key" -out "$C/$1.crt" -days 2 -subj "/CN=bollard-test-$1"
}
mk_cert() { # name CN CA extensions
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$2"
	printf '%b\n' "$4" >"$C/$1.ext"
	ossl x509 -req -in "$C/$1.csr" -CA "$C/$3.crt" -CAkey "$C/$3.key" \
		-CAcreateserial -out "$C/$1.crt" -days 2 -extfile "$C/$1.ext"
}
mk_ca ca
mk_ca other
# clientAuth on the server's certificate too: etcd's gateway dials its own
# gRPC port with it when client certificates are required.
mk_cert server 127.0.0.1 ca 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'
mk_cert client bollard-test-client ca 'extendedKeyUsage=clientAuth'
mk_cert rogue bollard-test-client other 'extendedKeyUsage=clientAuth'

ETCD_SCHEME=https
ETCD_ARGS="--cert-file $C/server.crt --key-file $C/server.key --client-cert-auth --trusted-ca-file $C/ca.crt"
etcd_start || die "etcd did not start with TLS"
case "$ETCD_URL" in https://*) ;; *) die "etcd_start gave $ETCD_URL, not https://" ;; esac
export ETCDCTL_CACERT=$C/ca.crt ETCDCTL_CERT=$C/client.crt ETCDCTL_KEY=$C/client.key

# A refused attempt is retried until --timeout, so on a loaded machine the
# last error is still the refusal rather than one slow connect; each
# failing case below takes that long.
B() { "$BUILD/bollard" --etcd "$ETCD_URL" --timeout "${TMO:-10s}" "$@"; }
GOOD=(--cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key")

# 1. the right files: the quickstart with --wait (its Target is waited for:
# a read of the status prefix, then a watch on a second TLS connection;
# bollardd's report is written with etcdctl once the CLI waits).
B "${GOOD[@]}" apply --wait --timeout 30s -f "$TOP/examples/quickstart/" >"$T/out1" 2>&1 &
WPID=$!
cleanup_add "kill $WPID 2>/dev/null; wait $WPID 2>/dev/null"
waiting() { grep -q 'waiting for a node to report' "$T/out1"; }
wait_for 20 waiting || { cat "$T/out1"; die "apply --wait over TLS never started waiting"; }
grep -q '^volume/demo created$' "$T/out1" || { cat "$T/out1"; die "apply over TLS did not create volume/demo"; }
etcdctl_t put /bollard/v1/status/Target/demo/local \
	'{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Converged","message":""}]}' \
	>/dev/null || die "etcdctl put of the status failed"
wait $WPID || { cat "$T/out1"; die "apply --wait over TLS did not end with 0 after the status write"; }
grep -q '^target/demo: 1/1 nodes ready (generation 1)$' "$T/out1" ||
	{ cat "$T/out1"; die "apply --wait over TLS did not see the status through its watch"; }
B "${GOOD[@]}" get volumes -o name >"$T/out2" 2>&1 || { cat "$T/out2"; die "get over TLS failed"; }
grep -q 'demo' "$T/out2" || { cat "$T/out2"; die "get over TLS does not list volume/demo"; }
etcdctl_t get --prefix /bollard/v1/ --keys-only | grep -q 'Volume/demo' ||
	die "etcdctl (same certificates) does not see what the CLI wrote"
# the same files from the environment bollardd's unit reads
BOLLARD_ETCD_CACERT=$C/ca.crt BOLLARD_ETCD_CERT=$C/client.crt BOLLARD_ETCD_KEY=$C/client.key \
	B get volumes -o name >"$T/out3" 2>&1 || { cat "$T/out3"; die "get with BOLLARD_ETCD_CACERT/_CERT/_KEY failed"; }
grep -q 'demo' "$T/out3" || { cat "$T/out3"; die "get with the environment does not list volume/demo"; }
echo "TLS with client certificate: apply, get, apply --wait (watch), environment ok"

fails() { # what expect-in-message bollard-args...: the command must fail saying expect
	local what=$1 want=$2 out
	shift 2
	if out=$(TMO=5s B "$@" get volumes 2>&1); then
		die "$what: get succeeded: $out"
	fi
	grep -q "$want" <<<"$out" || die "$what: the error does not say '$want': $out"
	echo "$what: $out"
}
# 2. no client certificate
fails "no client certificate" "refused this client" --cacert "$C/ca.crt"
# 3. a client certificate etcd does not trust
fails "client certificate from another CA" "refused this client" \
	--cacert "$C/ca.crt" --cert "$C/rogue.crt" --key "$C/rogue.key"
# 4. a CA that did not sign the server's certificate; system roots
fails "wrong CA" "certificate verify failed" \
	--cacert "$C/other.crt" --cert "$C/client.crt" --key "$C/client.key"
fails "system roots" "certificate verify failed" --cert "$C/client.crt" --key "$C/client.key"
# 4b. TLS files that cannot be read: the error names the file (it is found
# while opening the connection, before any handle can carry a message)
fails "unreadable CA file" "$T/no-such-ca.pem" --cacert "$T/no-such-ca.pem"
fails "key without certificate" "needs both cert_file and key_file" \
	--cacert "$C/ca.crt" --key "$C/client.key"
# 5. plain http to the TLS port
if out=$("$BUILD/bollard" --etcd "http://127.0.0.1:$ETCD_PORT" --timeout 3s get volumes 2>&1); then
	die "plain http:// to the TLS port succeeded: $out"
fi

# 6. bollardd (the gRPC client) with the same files, from the environment
# /etc/default/bollard sets for its unit. Without a client certificate it
# cannot start; with one it reconciles the quickstart applied above into a
# real bollard-target and writes the Target's status itself (the status
# etcdctl wrote in 1. is removed first).
[ -x "$BUILD/bollardd" ] && [ -x "$BUILD/bollard-target" ] || die "bollardd/bollard-target not built"
TPORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$TPORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
mkdir -p "$T/state/volumes"
D() { timeout 60 "$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T/state" \
	--target-socket "$T/t.sock" --once "$@"; }
if BOLLARD_ETCD_CACERT=$C/ca.crt D >"$T/d1" 2>&1; then
	cat "$T/d1"; die "bollardd without a client certificate converged"
fi
echo "bollardd without a client certificate: $(tail -1 "$T/d1")"
etcdctl_t del /bollard/v1/status/Target/demo/local >/dev/null || die "etcdctl del of the status failed"
BOLLARD_ETCD_CACERT=$C/ca.crt BOLLARD_ETCD_CERT=$C/client.crt BOLLARD_ETCD_KEY=$C/client.key \
	D >"$T/d2" 2>&1 || { cat "$T/d2"; die "bollardd with the client certificate did not converge"; }
"$BUILD/bollard" target --socket "$T/t.sock" show iqn.2026-11.io.bollard:demo >"$T/show" 2>&1 ||
	{ cat "$T/d2" "$T/show"; die "bollardd over TLS did not create the target"; }
etcdctl_t get /bollard/v1/status/Target/demo/local --print-value-only >"$T/st" || die "etcdctl get of the status failed"
ready() { jq -e '.node == "local" and any(.conditions[]; .type == "Ready" and .status == "True")' >/dev/null; }
ready <"$T/st" ||
	{ cat "$T/d2" "$T/st"; die "bollardd over TLS wrote no Ready status for target/demo"; }
# the options do the same as the environment
etcdctl_t del /bollard/v1/status/Target/demo/local >/dev/null
D --cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key" >"$T/d3" 2>&1 ||
	{ cat "$T/d3"; die "bollardd --cacert/--cert/--key did not converge"; }
etcdctl_t get /bollard/v1/status/Target/demo/local --print-value-only | ready ||
	die "bollardd --cacert/--cert/--key wrote no status"
echo "bollardd over TLS with a client certificate (environment and options): converged, status written"
echo "cli etcd TLS: ok"
