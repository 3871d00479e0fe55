#!/usr/bin/env bash
# tests/golden/plans.sh - the golden plan tier.
#
# For every case directory tests/plans/<case>/ (names starting with "_" are
# shared fixtures, not cases) run build/bollard-plan-test on its desired
# objects and recorded observation and compare the printed plan with
# <case>/expected.plan. A mismatch fails and prints the diff.
#   UPDATE_GOLDEN=1   rewrite expected.plan from the current output instead
#   GOLDEN_CASES="a b" run only these cases
# The reconciler is named by the case prefix: drbd-* -> drbd, pcmk-* ->
# pacemaker. An optional <case>/args file adds driver options.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/golden.sh"

DRIVER=$BUILD/bollard-plan-test
[ -x "$DRIVER" ] || die "$DRIVER not built (make build/bollard-plan-test)"

pass=0 fail=0 failed=()
for c in $(golden_cases); do
	dir=$PLANS/$c
	if ! rec=$(golden_rec "$c"); then
		echo "golden: $c: unknown prefix"; fail=$((fail + 1)); failed+=("$c"); continue
	fi
	golden_args "$dir"
	out=$("$DRIVER" "${golden_argv[@]}" "$rec" "$dir" 2>&1)
	rc=$?
	[ $rc = 0 ] || out="$out
(driver exit status $rc)"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		printf '%s\n' "$out" > "$dir/expected.plan"
		echo "golden: $c: updated"
		pass=$((pass + 1))
		continue
	fi
	if [ ! -f "$dir/expected.plan" ]; then
		echo "golden: $c: no expected.plan (run with UPDATE_GOLDEN=1 and review)"
		fail=$((fail + 1)); failed+=("$c"); continue
	fi
	if d=$(diff -u "$dir/expected.plan" - <<<"$out"); then
		pass=$((pass + 1))
	else
		echo "golden: $c: plan differs from expected.plan:"
		printf '%s\n' "$d"
		fail=$((fail + 1)); failed+=("$c")
	fi
done
echo "golden: $pass passed, $fail failed${failed:+ (${failed[*]})}"
[ $fail = 0 ] && [ $pass -gt 0 ]
