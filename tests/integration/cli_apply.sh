#!/usr/bin/env bash
# bollard apply/get/diff/delete against a real etcd:
#   apply examples/, get -o yaml round-trips (re-apply: all unchanged);
#   a second apply prints only "unchanged" and etcd's revision stays put;
#   --dry-run writes nothing; bad YAML -> file:line:col, exit 1, nothing
#   written; dangling reference -> error; diff exit codes 0/1/2; delete
#   and not-found errors; generation bumps only on spec changes; minors.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$BOLLARD" ] || skip "$BOLLARD not built"
[ -f "$TOP/tests/lib/etcd.sh" ] || skip "tests/lib/etcd.sh not there yet"
. "$TOP/tests/lib/etcd.sh"
etcd_start || skip "cannot start etcd (etcd-server installed?)"
export BOLLARD_ETCD=$ETCD_URL
mk_tmp T
B=$BOLLARD

rev() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get /nonexistent -w json |
		grep -o '"revision":[0-9]*' | cut -d: -f2
}
nkeys() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get /bollard/v1/objects/ \
		--prefix --keys-only | grep -c .
}
expect_rc() { # want cmd...
	local want=$1 rc; shift
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" = "$want" ] || { cat "$T/out" "$T/err" >&2; die "$* exited $rc, want $want"; }
}

cd "$TOP"

# -- first apply of examples/ ---------------------------------------------
expect_rc 0 "$B" apply -f examples/
grep -q '^target/demo created$' "$T/out" || die "no 'target/demo created' line"
grep -vqE '^[a-z]+/[a-z0-9-]+ created$' "$T/out" && die "unexpected apply output: $(cat "$T/out")"
n=$(wc -l <"$T/out")
[ "$(nkeys)" = "$n" ] || die "etcd holds $(nkeys) objects, apply printed $n lines"

# -- second apply: all unchanged, no write at all ---------------------------
r1=$(rev)
expect_rc 0 "$B" apply -f examples/
grep -vq ' unchanged$' "$T/out" && die "second apply changed something: $(cat "$T/out")"
[ "$(wc -l <"$T/out")" = "$n" ] || die "second apply printed a different number of lines"
r2=$(rev)
[ "$r1" = "$r2" ] || die "revision moved from $r1 to $r2 on an unchanged apply"

# -- get round trip ---------------------------------------------------------
expect_rc 0 "$B" get target -o yaml
cp "$T/out" "$T/targets.yaml"
grep -q '^kind: Target$' "$T/targets.yaml" || die "get -o yaml has no Target"
grep -q 'resourceVersion:' "$T/targets.yaml" || die "get -o yaml lacks resourceVersion"
expect_rc 0 "$B" apply -f "$T/targets.yaml"
grep -vq ' unchanged$' "$T/out" && die "re-applying get output changed: $(cat "$T/out")"
[ "$(rev)" = "$r1" ] || die "re-applying get output wrote to etcd"
expect_rc 0 "$B" get volumes -o json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="List" and d["items"], d' "$T/out" ||
	die "get volumes -o json is not a non-empty List"
# a JSON List (get -o json of several objects) applies back too, from stdin
"$B" apply -f - <"$T/out" >"$T/out2" 2>&1 || die "apply of a JSON List from stdin: $(cat "$T/out2")"
grep -q '^volume/demo unchanged$' "$T/out2" || die "JSON List apply: $(cat "$T/out2")"
grep -vq ' unchanged$' "$T/out2" && die "JSON List apply changed something: $(cat "$T/out2")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["items"][0]["spec"]["size"]="lots"; json.dump(d, open(sys.argv[2],"w"))' "$T/out" "$T/badlist.json"
expect_rc 1 "$B" apply -f "$T/badlist.json"
grep -q "^$T/badlist.json#items\[0\]:[0-9]*:[0-9]*: spec.size: " "$T/err" || die "List item error: $(cat "$T/err")"
[ "$(rev)" = "$r1" ] || die "JSON List re-apply wrote to etcd"
expect_rc 0 "$B" get targets
head -1 "$T/out" | grep -qE '^NAME +READY +IQN +LUNS +CLUSTER +AGE$' || die "bad table header: $(head -1 "$T/out")"
expect_rc 0 "$B" get volumes,targets
grep -qE '^volume/demo ' "$T/out" && grep -qE '^target/demo ' "$T/out" || die "get volumes,targets: $(cat "$T/out")"
expect_rc 0 "$B" get all -o name
[ "$(wc -l <"$T/out")" = "$n" ] || die "get all -o name: $(cat "$T/out")"
expect_rc 0 "$B" get target demo -o name
[ "$(cat "$T/out")" = "target/demo" ] || die "get -o name: $(cat "$T/out")"
expect_rc 1 "$B" get target nosuch
grep -qx 'Error: target "nosuch" not found' "$T/err" || die "not-found message: $(cat "$T/err")"
expect_rc 1 "$B" get frobs

# -- a second cluster with replicated volumes, a secret -------------------
cat >"$T/ha.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Cluster
metadata: {name: ha}
spec:
  ha: pacemaker
  nodes:
    - {name: alpha, address: 10.0.0.1}
    - {name: bravo, address: 10.0.0.2}
---
apiVersion: bollard.io/v1alpha1
kind: Secret
metadata: {name: chap}
data: {username: user, password: s3cret-password-1}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v1}
spec:
  cluster: ha
  size: 1Gi
  backing: {type: lvm, vg: vg0}
  replication: {protocol: C}
---
apiVersion: bollard.io/v1alpha1
kind: Volume
metadata: {name: v2}
spec:
  cluster: ha
  size: 2Gi
  backing: {type: lvm, vg: vg0}
  replication: {protocol: C}
---
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: t1}
spec:
  cluster: ha
  iqn: iqn.2026-11.io.bollard:t1
  luns: [{lun: 0, volume: v1}, {lun: 1, volume: v2}]
  auth: {chapSecretRef: chap}
YAML
# dry run first: prints what would happen, writes nothing
r1=$(rev)
expect_rc 0 "$B" apply -f "$T/ha.yaml" --dry-run
grep -qx 'volume/v1 created (dry run)' "$T/out" || die "dry-run output: $(cat "$T/out")"
[ "$(rev)" = "$r1" ] || die "dry-run wrote to etcd"
expect_rc 1 "$B" diff -f "$T/ha.yaml"
grep -q '^+++ merged/volume/v1$' "$T/out" || die "diff of a new object lacks header"
grep -q '^@@ -0,0 +1,' "$T/out" || die "diff of a new object is not against empty"
expect_rc 0 "$B" apply -f "$T/ha.yaml"
expect_rc 0 "$B" diff -f "$T/ha.yaml"
[ -s "$T/out" ] && die "diff after apply is not empty: $(cat "$T/out")"
expect_rc 0 "$B" get volume v1 v2 -o json
python3 - "$T/out" <<'PY' || die "minors/ports not allocated 0/7788, 1/7789"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
got = sorted((i["spec"]["replication"]["minor"], i["spec"]["replication"]["port"]) for i in items)
assert got == [(0, 7788), (1, 7789)], got
PY
# secrets never show values
expect_rc 0 "$B" get secret chap -o yaml
grep -q 's3cret' "$T/out" && die "get printed a secret value"
expect_rc 0 "$B" describe secret chap
grep -q 's3cret' "$T/out" && die "describe printed a secret value"
expect_rc 0 "$B" describe target t1
grep -q 'volume/v2 (spec.luns\[1\].volume)' "$T/out" || die "describe lacks references: $(cat "$T/out")"

# describe shows what nodes report under /bollard/v1/status/<Kind>/<name>/<node>
grep -q '<none reported>' "$T/out" || die "describe without status: $(cat "$T/out")"
etcdctl_t put /bollard/v1/status/Target/t1/alpha \
	'{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"Serving"}]}' >/dev/null
expect_rc 0 "$B" describe target t1
grep -q '^  Node alpha:$' "$T/out" || die "describe lacks the node status: $(cat "$T/out")"
grep -q 'reason: Serving' "$T/out" || die "describe lacks the condition: $(cat "$T/out")"

# generation: spec change bumps, labels-only change does not
gen() { "$B" get "$1" "$2" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])'; }
uid() { "$B" get "$1" "$2" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"])'; }
u0=$(uid volume v1)
sed -i 's/^metadata: {name: v1}$/metadata: {name: v1, labels: {tier: gold}}/' "$T/ha.yaml"
expect_rc 0 "$B" apply -f "$T/ha.yaml"
grep -qx 'volume/v1 configured' "$T/out" || die "label change not 'configured': $(cat "$T/out")"
[ "$(gen volume v1)" = 1 ] || die "labels-only change bumped generation"
sed -i 's/size: 1Gi/size: 4Gi/' "$T/ha.yaml"
expect_rc 1 "$B" diff -f "$T/ha.yaml"
grep -q '^+  size: 4294967296$' "$T/out" || die "diff lacks the size change: $(cat "$T/out")"
expect_rc 0 "$B" apply -f "$T/ha.yaml"
[ "$(gen volume v1)" = 2 ] || die "spec change did not bump generation to 2"
[ "$(uid volume v1)" = "$u0" ] || die "uid changed on update"
expect_rc 0 "$B" get volume v1 -o json
grep -q '"minor": 0' "$T/out" || die "minor not kept across an update"

# -- validation errors: every message, file:line:col, nothing written ------
cat >"$T/bad.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Target
metadata:
  name: bad
spec:
  cluster: ha
  iqn: not-an-iqn
  luns:
    - lun: 0
      volume: v1
  bogus: 1
YAML
r1=$(rev)
expect_rc 1 "$B" apply -f "$T/bad.yaml" -f "$T/ha.yaml"
grep -q "^$T/bad.yaml:7:[0-9]*: spec.iqn: " "$T/err" || die "no file:line:col for spec.iqn: $(cat "$T/err")"
grep -q "^$T/bad.yaml:11:[0-9]*: spec.bogus: " "$T/err" || die "no message for spec.bogus: $(cat "$T/err")"
[ -s "$T/out" ] && die "failed apply printed results"
[ "$(rev)" = "$r1" ] || die "failed apply wrote to etcd"
printf 'kind: [unclosed\n' >"$T/syntax.yaml"
expect_rc 1 "$B" apply -f "$T/syntax.yaml"
grep -q "^$T/syntax.yaml:[0-9]*:[0-9]*: " "$T/err" || die "syntax error without position: $(cat "$T/err")"
expect_rc 2 "$B" diff -f "$T/syntax.yaml"

# -- dangling references ---------------------------------------------------
cat >"$T/dangle.yaml" <<'YAML'
apiVersion: bollard.io/v1alpha1
kind: Target
metadata: {name: dangle}
spec:
  cluster: ha
  iqn: iqn.2026-11.io.bollard:dangle
  luns: [{lun: 0, volume: nosuch}]
YAML
expect_rc 1 "$B" apply -f "$T/dangle.yaml"
grep -q "^$T/dangle.yaml:7:[0-9]*: spec.luns\[0\].volume: .*nosuch" "$T/err" || die "dangling ref message: $(cat "$T/err")"
[ "$(rev)" = "$r1" ] || die "dangling apply wrote to etcd"
# ...but a reference satisfied by etcd (v2 stored, not in this file) is fine
sed -i 's/volume: nosuch/volume: v2/' "$T/dangle.yaml"
expect_rc 0 "$B" apply -f "$T/dangle.yaml"
grep -qx 'target/dangle created' "$T/out" || die "ref to stored volume refused"

# -- delete ---------------------------------------------------------------
expect_rc 1 "$B" delete volume v2
grep -q 'still refers to it' "$T/err" || die "deleting a referenced volume was not refused"
expect_rc 0 "$B" delete target dangle
grep -qx 'target/dangle deleted' "$T/out" || die "delete output: $(cat "$T/out")"
expect_rc 1 "$B" delete target dangle
grep -qx 'Error: target "dangle" not found' "$T/err" || die "delete not-found message: $(cat "$T/err")"
expect_rc 0 "$B" delete target dangle --ignore-not-found
expect_rc 0 "$B" delete -f "$T/ha.yaml"
[ "$(wc -l <"$T/out")" = 5 ] || die "delete -f printed: $(cat "$T/out")"
head -1 "$T/out" | grep -qx 'target/t1 deleted' || die "delete -f did not start with the target"
expect_rc 1 "$B" get volume v1
echo "cli_apply: ok"
