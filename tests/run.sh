#!/usr/bin/env bash
# tests/run.sh - run every test tier and print one closing summary.
#
#   tests/run.sh [TIER...]      TIER: unit golden integration conformance vm
#                               sanitizer ha
#                               (default: all of them, in that order)
#
# Tiers:
#   unit         every cmocka binary build/tests/unit/test_* (cmocka summaries)
#   golden       tests/plans golden plan cases (tests/golden.sh)
#   integration  tests/integration/*.sh against real processes
#   conformance  tests/conformance/*.sh (libiscsi iscsi-test-cu)
#   vm           tests/vm/*.sh (qemu, the kernel module)
#   sanitizer    tests/sanitizer/*.sh (integration tests on an ASan build)
#   ha           tests/ha/*.sh (two qemu guests: DRBD, Pacemaker, failover)
#
# A test script exits 0 (passed), 77 (cannot run here: it prints why) or
# anything else (failed). Under CI=true a test that cannot run counts as
# failed: CI must never go green by skipping. The last line is
#   check: N passed, N failed, N skipped
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
TOP=$PWD
export TOP

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit golden integration conformance vm sanitizer ha)

pass=0 fail=0 skip=0
failed_names=()

note() { printf '%s\n' "$*"; }

record() { # name rc
	local name=$1 rc=$2
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1)); note "PASS: $name"
	elif [ "$rc" = 77 ]; then
		if [ "${CI:-}" = true ]; then
			fail=$((fail + 1)); failed_names+=("$name (could not run)")
			note "FAIL: $name (could not run, and CI=true)"
		else
			skip=$((skip + 1)); note "SKIP: $name"
		fi
	else
		fail=$((fail + 1)); failed_names+=("$name"); note "FAIL: $name (rc=$rc)"
	fi
}

run_unit() {
	local t out rc n
	shopt -s nullglob
	local bins=("$BUILD"/tests/unit/test_*)
	if [ ${#bins[@]} = 0 ]; then
		note "unit: no cmocka binaries in $BUILD/tests/unit"; record unit 1; return
	fi
	for t in "${bins[@]}"; do
		[ -x "$t" ] || continue
		case "$t" in *.d|*.o) continue ;; esac
		out=$("$t" 2>&1); rc=$?
		printf '%s\n' "$out" | grep -E '^\[ *(PASSED|FAILED|  FAILED|SKIPPED) *\]|^\[  ERROR' || true
		# Count each cmocka test, not each binary.
		n=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
		pass=$((pass + n))
		n=$(printf '%s\n' "$out" | grep -cE '^\[  FAILED  \] [A-Za-z_]')
		if [ "$rc" != 0 ]; then
			printf '%s\n' "$out" | tail -40
			[ "$n" -gt 0 ] || n=1
			failed_names+=("$(basename "$t")")
		fi
		fail=$((fail + n))
		n=$(printf '%s\n' "$out" | grep -cE '^\[  SKIPPED \] [A-Za-z_]')
		skip=$((skip + n))
	done
}

run_scripts() { # tier dir
	local tier=$1 dir=$2 s rc
	shopt -s nullglob
	local scripts=("$dir"/*.sh)
	if [ ${#scripts[@]} = 0 ]; then
		note "$tier: no tests yet in $dir"
		return
	fi
	for s in "${scripts[@]}"; do
		note "== $tier: $(basename "$s")"
		bash "$s"; rc=$?
		record "$tier/$(basename "$s" .sh)" "$rc"
	done
}

for tier in "${tiers[@]}"; do
	note "=== tier: $tier"
	case "$tier" in
	unit)        run_unit ;;
	golden)      run_scripts golden tests/golden ;;
	integration) run_scripts integration tests/integration ;;
	conformance) run_scripts conformance tests/conformance ;;
	vm)          run_scripts vm tests/vm ;;
	sanitizer)   run_scripts sanitizer tests/sanitizer ;;
	ha)          run_scripts ha tests/ha ;;
	*) note "unknown tier $tier"; fail=$((fail + 1)) ;;
	esac
done

if [ ${#failed_names[@]} -gt 0 ]; then
	note "failed:"; printf '  %s\n' "${failed_names[@]}"
fi
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
