#!/usr/bin/env bash
# kernel/user/tools/asan_integration.sh - the bollard-target integration
# tests against an AddressSanitizer build, kept apart in build-asan/ so the
# normal build/ is untouched:
#
#   bash kernel/user/tools/asan_integration.sh [TEST...]
#
# builds  make BUILD=build-asan SANITIZER=address build-asan/bollard-target
#         (+ the test client, and the management CLI when it builds), then runs
#         tests/integration/target_*.sh (or the named ones) with
#         BUILD=build-asan. ASan aborts the daemon on a memory error and
#         LeakSanitizer makes it exit non-zero on a leak at exit; every test
#         stops the daemon with SIGTERM and checks for exit status 0, so
#         either fails the test. The daemon logs are kept for a failed test.
set -u
cd "$(dirname "$0")/../../.."
ASAN_BUILD=${ASAN_BUILD:-build-asan}
make -j2 BUILD="$ASAN_BUILD" SANITIZER=address "$ASAN_BUILD/bollard-target" \
	"$ASAN_BUILD/tests/bt-iscsi-rw" "$ASAN_BUILD/tests/bt-pr-tool" >"$ASAN_BUILD.make.log" 2>&1 || {
	tail -30 "$ASAN_BUILD.make.log"; echo "asan build failed"; exit 1; }
# The management CLI is only a client here: use the sanitised one when it
# builds, else the normal build's.
if make -j2 BUILD="$ASAN_BUILD" SANITIZER=address "$ASAN_BUILD/bollard" \
	>>"$ASAN_BUILD.make.log" 2>&1; then
	export BT_CLI=$PWD/$ASAN_BUILD/bollard
else
	export BT_CLI=$PWD/build/bollard
	echo "note: $ASAN_BUILD/bollard did not build; using $BT_CLI as the client"
fi
export BUILD=$ASAN_BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=66}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/integration/target_*.sh)
pass=0 fail=0 skip=0
for t in "${tests[@]}"; do
	echo "== asan: $(basename "$t")"
	bash "$t"; rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); echo "FAIL: $t (rc=$rc)" ;;
	esac
done
echo "asan integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
