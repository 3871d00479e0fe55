# tests/lib/golden.sh - what the golden plan scripts (tests/golden/*.sh)
# share: the case list and which reconciler a case names.
#   golden_cases        the cases to run: $GOLDEN_CASES, or every directory
#                       of tests/plans not starting with "_" (fixtures)
#   golden_rec CASE     the reconciler its prefix names (drbd-* -> drbd,
#                       pcmk-* -> pacemaker, target-* -> target); fails for
#                       an unknown prefix
#   golden_args DIR     fills the array golden_argv from DIR/args (extra
#                       driver options), empty without one
PLANS=$TOP/tests/plans

golden_cases() {
	if [ -n "${GOLDEN_CASES:-}" ]; then
		echo "$GOLDEN_CASES"
	else
		(cd "$PLANS" && ls -d */ | tr -d / | grep -v '^_')
	fi
}

golden_rec() {
	case "$1" in
	drbd-*) echo drbd ;;
	pcmk-*) echo pacemaker ;;
	target-*) echo target ;;
	*) return 1 ;;
	esac
}

golden_args() {
	golden_argv=()
	[ -f "$1/args" ] && read -r -a golden_argv < "$1/args"
	return 0
}
