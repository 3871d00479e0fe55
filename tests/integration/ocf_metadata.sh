#!/usr/bin/env bash
# The meta-data action of the three OCF agents in deploy/ocf. Pacemaker runs
# it again before every start and the start waits for it, so on a failover
# it is on the survivor's critical path; the agents print it with the printf
# builtin only. For each agent:
#   - meta-data exits 0 and starts no process: under strace -f the only
#     execve is the agent's own (the kernel runs its #!/bin/sh in the same
#     process) and there is no clone, clone3, fork or vfork. A control run
#     (a shell that runs cat) must show the fork and the exec, else this
#     check could not see one;
#   - the output is valid against the OCF ra-api-1.dtd (resource-agents);
#   - every parameter's advertised default (content default="...") equals the
#     script's OCF_RESKEY_<name>_default, and every OCF_RESKEY_*_default the
#     script sets is advertised: the meta-data text holds the defaults as
#     literals, so this is what keeps the two from drifting apart.
. "$(dirname "$0")/../lib/common.sh"

command -v strace >/dev/null || skip "strace not installed (mk/deps.sh test)"
command -v xmllint >/dev/null || skip "xmllint (libxml2-utils) not installed"
DTD=/usr/share/resource-agents/ra-api-1.dtd
[ -r $DTD ] || skip "$DTD (resource-agents) not installed"
mk_tmp T

TRACE=(strace -f -qq -e trace=execve,clone,clone3,fork,vfork)
# processes FILE: "EXECS FORKS" of a strace -f output
processes() {
	local e f
	e=$(grep -c ' execve(' "$1")
	f=$(grep -cE ' (clone|clone3|fork|vfork)\(' "$1")
	echo "$e $f"
}

"${TRACE[@]}" -o "$T/control.trace" sh -c 'cat </dev/null; exit 0' ||
	skip "strace cannot trace here (ptrace refused?)"
read -r e f < <(processes "$T/control.trace")
[ "$e" -ge 2 ] && [ "$f" -ge 1 ] ||
	die "control: strace saw $e execve and $f forks for a shell running cat (want >= 2 and >= 1)"

for name in address drbd target; do
	AGENT=$TOP/deploy/ocf/bollard-$name
	[ -x "$AGENT" ] || die "$AGENT missing or not executable"
	out=$T/$name.xml

	"${TRACE[@]}" -o "$T/$name.trace" "$AGENT" meta-data >"$out"
	rc=$?
	[ $rc = 0 ] || die "$name: meta-data exited $rc"
	[ -s "$out" ] || die "$name: meta-data printed nothing"
	read -r e f < <(processes "$T/$name.trace")
	if [ "$e" != 1 ] || [ "$f" != 0 ]; then
		cat "$T/$name.trace"
		die "$name: meta-data ran $e execve and $f forks (want 1 execve, the agent's own, and 0 forks)"
	fi

	xmllint --noout --dtdvalid $DTD "$out" 2>"$T/$name.xmllint" ||
		{ cat "$T/$name.xmllint"; die "$name: meta-data is not valid against ra-api-1.dtd"; }

	# The script's defaults: lines OCF_RESKEY_<name>_default=VALUE, the value
	# evaluated by sh (it may be quoted).
	declare -A want=()
	while IFS= read -r line; do
		p=${line#OCF_RESKEY_}; p=${p%%_default=*}
		want[$p]=$(sh -c "$line"'
			eval "printf %s \"\$OCF_RESKEY_'"$p"'_default\""') ||
			die "$name: cannot evaluate '$line'"
	done < <(grep -E '^OCF_RESKEY_[A-Za-z0-9_]+_default=' "$AGENT")

	n=$(xmllint --xpath 'count(/resource-agent/parameters/parameter)' "$out")
	[ "$n" -ge 1 ] || die "$name: meta-data advertises no parameter"
	declare -A seen=()
	for ((i = 1; i <= n; i++)); do
		P="/resource-agent/parameters/parameter[$i]"
		p=$(xmllint --xpath "string($P/@name)" "$out")
		[ "$(xmllint --xpath "count($P/content/@default)" "$out")" = 1 ] || continue
		d=$(xmllint --xpath "string($P/content/@default)" "$out")
		[ -n "${want[$p]+set}" ] ||
			die "$name: parameter $p advertises default '$d' but the script sets no OCF_RESKEY_${p}_default"
		[ "$d" = "${want[$p]}" ] ||
			die "$name: parameter $p advertises default '$d', the script's OCF_RESKEY_${p}_default is '${want[$p]}'"
		seen[$p]=1
	done
	for p in "${!want[@]}"; do
		[ -n "${seen[$p]+set}" ] ||
			die "$name: the script sets OCF_RESKEY_${p}_default='${want[$p]}' but meta-data advertises no default for $p"
	done
	echo "ok: $name: meta-data exit 0, 1 execve, 0 forks, valid, ${#seen[@]} default(s) match"
	unset want seen
done
