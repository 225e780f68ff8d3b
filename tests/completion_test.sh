#!/bin/bash
# Shell completion, exercised as the shells call it: bash through
# COMP_WORDS/COMP_CWORD and the completion function, zsh and fish by loading
# their files.  Usage: completion_test.sh BINARY DUMP SOURCE_DIR
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DUMP=$2
SRC=$3
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1: $2"; }
# the completion calls "spte-inspect" by the name on the line: put it on PATH
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ln -s "$BIN" "$TMP/spte-inspect"
export PATH="$TMP:$PATH"

complete_bash() { # words... -> the candidates, one per line
	bash -c '
		source /usr/share/bash-completion/bash_completion 2>/dev/null || true
		source "$0"
		COMP_WORDS=("${@}")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_spte_inspect spte-inspect "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' "$SRC/completions/spte-inspect.bash" "$@"
}

out=$(complete_bash spte-inspect "$DUMP" sp)
[ "$out" = "sptes" ] && ok "bash: a command after the dump" || nok "bash: a command after the dump" "$out"
out=$(complete_bash spte-inspect "$DUMP" "")
[ "$(echo "$out" | wc -l)" = 9 ] && ok "bash: all nine commands" || nok "bash: all nine commands" "$out"
out=$(complete_bash spte-inspect --pr)
[ "$out" = "--pretty" ] && ok "bash: an option prefix" || nok "bash: an option prefix" "$out"
pid=$("$BIN" -j "$DUMP" vms | grep -o '"pid":[0-9]*' | head -1 | cut -d: -f2)
out=$(complete_bash spte-inspect "$DUMP" --vm "")
[ "$out" = "$pid" ] && ok "bash: --vm offers the dump's VM pid ($pid)" || nok "bash: --vm pid" "$out"
out=$(complete_bash spte-inspect "$DUMP" check --check D)
want=$("$BIN" --list-checks -j | grep -o '"id":"D[0-9]*"' | cut -d'"' -f4)
[ "$out" = "$want" ] && ok "bash: --check D offers the D checks" || nok "bash: --check D" "$out"
out=$(complete_bash spte-inspect "$DUMP" check --check S1,H)
echo "$out" | grep -qx 'S1,H1' && ok "bash: --check after a comma keeps the list" || nok "bash: --check list" "$out"
out=$(complete_bash spte-inspect --severity w)
[ "$out" = "warning" ] && ok "bash: --severity" || nok "bash: --severity" "$out"
if command -v zsh >/dev/null; then
	zsh -c "autoload -Uz compinit && compinit -u -d $TMP/zcd && source $SRC/completions/_spte-inspect" 2>"$TMP/zerr" </dev/null
	# sourcing a #compdef file outside completion only defines functions; errors would show
	! grep -qi 'parse error\|command not found' "$TMP/zerr" && ok "zsh: the completion file loads" ||
		nok "zsh: loads" "$(cat "$TMP/zerr")"
else
	echo "# zsh not installed: skipped"
fi
if command -v fish >/dev/null; then
	out=$(fish -c "source $SRC/completions/spte-inspect.fish; complete -C 'spte-inspect --sev'" 2>&1)
	echo "$out" | grep -q -- '--severity' && ok "fish: loads and completes --severity" || nok "fish" "$out"
else
	echo "# fish not installed: skipped"
fi
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
