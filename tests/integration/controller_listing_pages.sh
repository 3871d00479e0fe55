#!/usr/bin/env bash
# bollardd lists etcd in pages (controller/daemon/informer.c, relist): the
# keys first, then the values of at most 1,024 objects per read, each page
# a prefix of keys, all at the key listing's revision. 3,000 Volumes named
# v0..v2999 make the split work: "v1" and "v2" each lead 1,111 keys (more
# than a page), and are keys themselves (read alone). The controller must
# see every object (its start-up line counts them) and the right values:
# a Target whose LUNs use Volumes from different pages plans one LUN add
# per Volume, with no VolumeMissing condition.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/etcd.sh"
mk_tmp T
etcd_start
N=3000
{
	printf 'apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\n'
	printf 'spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}\n'
	for i in $(seq 0 $((N - 1))); do
		printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Volume\nmetadata: {name: v%d}\n' $i
		printf 'spec: {cluster: c, size: 4Mi, backing: {type: file, path: %s/v%d.img}, replication: none}\n' "$T" $i
	done
	printf -- '---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: t}\n'
	printf 'spec:\n  cluster: c\n  iqn: iqn.2026-11.io.bollard:pages\n  acls: [{initiator: "*"}]\n  luns:\n'
	l=0
	for v in v0 v1 v10 v1000 v1999 v2 v2999 v999; do printf '  - {lun: %d, volume: %s}\n' $l $v; l=$((l + 1)); done
} >"$T/all.yaml"
"$BUILD/bollard" --etcd "$ETCD_URL" apply -f "$T/all.yaml" >/dev/null || die "apply"
PORT=$(free_port)
"$BUILD/bollard-target" --listen 127.0.0.1:$PORT --socket "$T/t.sock" >"$T/target.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID 2>/dev/null; wait $TPID 2>/dev/null"
wait_for 10 test -S "$T/t.sock" || die "bollard-target did not start"
"$BUILD/bollardd" --etcd "$ETCD_URL" --node local --state-dir "$T" --target-socket "$T/t.sock" \
	--only target --once --dry-run >"$T/ctl.log" 2>&1 || { cat "$T/ctl.log"; die "bollardd --once --dry-run failed"; }
grep -q " $((N + 2)) objects)" "$T/ctl.log" || { grep watching "$T/ctl.log"; die "not every object listed"; }
grep -q VolumeMissing "$T/ctl.log" && { cat "$T/ctl.log"; die "a Volume's value was not listed"; }
for v in v0 v1 v10 v1000 v1999 v2 v2999 v999; do
	grep -q "map Volume $v as LUN" "$T/ctl.log" || { cat "$T/ctl.log"; die "no LUN add for $v"; }
done
echo "listing in pages: $((N + 2)) objects, every value read"
