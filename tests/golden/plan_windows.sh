#!/usr/bin/env bash
# tests/golden/plan_windows.sh - a plan built in windows is the whole plan.
#
# bollardd builds and applies a plan too big to hold at once a window of
# actions at a time (reconcilers/plan.h, "Windows"): a counting run of
# plan(), then one run per window that keeps only that window's actions.
# For every golden case, and windows of 1, 2 and 3 actions, this prints
# the windows end to end (bollard-plan-test --window N) and compares the
# result with the case's expected.plan: same actions, same ids, deps,
# order and conditions as the whole plan. Window 1 makes every dep cross a
# window. Cases whose args print one payload or JSON are run the same way.
#   GOLDEN_CASES="a b" run only these cases
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/golden.sh"

DRIVER=$BUILD/bollard-plan-test
[ -x "$DRIVER" ] || die "$DRIVER not built (make build/bollard-plan-test)"

pass=0 fail=0 failed=() windowed=0
for c in $(golden_cases); do
	dir=$PLANS/$c
	if ! rec=$(golden_rec "$c"); then
		echo "plan_windows: $c: unknown prefix"; fail=$((fail + 1)); failed+=("$c"); continue
	fi
	[ -f "$dir/expected.plan" ] || continue
	golden_args "$dir"
	ok=1
	for w in 1 2 3; do
		out=$("$DRIVER" "${golden_argv[@]}" --window $w "$rec" "$dir" 2>&1)
		rc=$?
		[ $rc = 0 ] || out="$out
(driver exit status $rc)"
		if ! d=$(diff -u "$dir/expected.plan" - <<<"$out"); then
			echo "plan_windows: $c: windows of $w differ from expected.plan:"
			printf '%s\n' "$d"
			ok=0
		fi
	done
	# How many cases really went through windows (more than 1 action).
	n=$(sed -n '1s/.*: \([0-9]*\) action.*/\1/p' "$dir/expected.plan")
	[ -n "$n" ] && [ "$n" -gt 1 ] && windowed=$((windowed + 1))
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$c"); fi
done
echo "plan_windows: $pass passed ($windowed with more than one window), $fail failed${failed:+ (${failed[*]})}"
[ $fail = 0 ] && [ $pass -gt 0 ] && { [ -n "${GOLDEN_CASES:-}" ] || [ $windowed -gt 10 ]; }
