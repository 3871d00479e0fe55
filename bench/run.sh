#!/usr/bin/env bash
# bench/run.sh - run every benchmark under bench/ and print their figures.
# Each bench/*.sh measures bollard against a peer in the same run and prints
# ratios; a benchmark that cannot run here prints why and is listed at the end.
set -u
cd "$(dirname "$0")/.."
export TOP=$PWD BUILD=${BUILD:-build}
shopt -s nullglob
failed=()
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	[ -n "${BENCH:-}" ] && [[ "$(basename "$b" .sh)" != ${BENCH} ]] && continue
	echo "=== bench: $(basename "$b" .sh)"
	bash "$b" || failed+=("$(basename "$b" .sh) (rc=$?)")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "benchmarks that did not complete:"; printf '  %s\n' "${failed[@]}"
	exit 1
fi
