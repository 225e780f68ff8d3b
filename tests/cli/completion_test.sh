#!/bin/bash
# Shell completion, exercised as the shells call it: bash through
# COMP_WORDS/COMP_CWORD/COMP_LINE and the completion function, zsh through a
# real interactive zsh on a pseudo-terminal (zpty) pressing Tab, fish through
# `complete -C`.  zsh and fish parts are skipped (and say so) when the shell is
# not installed.  Prints TAP; exits non-zero on any failure.
# Usage: completion_test.sh BINARY DUMP SOURCE_DIR
# Word splitting of candidate lists ($commands, $2 in expect) is intended.
# shellcheck disable=SC2086,SC2116
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DUMP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
SRC=$(cd "$3" && pwd)
COMP=$SRC/completions
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
expect() { # name got want
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  $(echo $2)" "want: $(echo $3)"; fi
}
# the completions call "spte-inspect" by the name on the line: put it on PATH
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ln -s "$BIN" "$TMP/spte-inspect"
export PATH="$TMP:$PATH"
cd "$TMP" || exit 1
touch vmlinux-file # a file for --vmlinux, and for file-name completion
# a binary that cannot list its checks: the completions fall back to their copy
mkdir "$TMP/broken"
printf '#!/bin/sh\nexit 4\n' >"$TMP/broken/spte-inspect"
chmod +x "$TMP/broken/spte-inspect"

pid=$("$BIN" -j "$DUMP" vms | grep -o '"pid":[0-9]*' | head -1 | cut -d: -f2)
pids=$("$BIN" "$DUMP" __pids)
ids=$("$BIN" --list-checks -j | grep -o '"id":"[A-Z0-9]*"' | cut -d'"' -f4)
s_ids=$(echo "$ids" | grep '^S')
d_ids=$(echo "$ids" | grep '^D')
h_ids=$(echo "$ids" | grep '^H' | sed 's/^/S1,/')
commands=$("$BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
if [ -n "$pid" ] && [ "$pids" = "$pid" ] && [ -n "$ids" ] && [ "$(echo "$commands" | wc -l)" = 11 ]; then
	ok "the binary lists pids (__pids), check ids (--list-checks -j) and commands (--help)"
else
	nok "the binary lists pids, check ids and commands" "pid=$pid pids=$pids" "ids=$ids" "commands=$commands"
fi

# -- the static fallback lists are the binary's catalogue ------------------
for f in spte-inspect.bash _spte-inspect spte-inspect.fish; do
	static=$(grep -o 'S1 S2 S3[ A-Z0-9]*' "$COMP/$f" | head -1 | tr ' ' '\n')
	expect "$f: the fallback list of check ids is --list-checks'" "$static" "$ids"
	case $f in
	*.bash) got=$(grep -o 'summary info vms[ a-z]*' "$COMP/$f" | head -1 | tr ' ' '\n') ;;
	_*) got=$(grep -oE "^[[:space:]]+'[a-z]+:" "$COMP/$f" | tr -d "\t ':") ;;
	*.fish) got=$(grep -oE '__spte_inspect_needs_command -f -a [a-z]+' "$COMP/$f" | awk '{print $4}') ;;
	esac
	expect "$f: the list of commands is --help's" "$got" "$commands"
done
bits="P R U W X A D PS HW MW AT leaf"
bits_w=$(for b in W; do echo "W=0"; echo "W=1"; done)

# -- bash ------------------------------------------------------------------
complete_bash() { # words... -> the candidates, sorted, one per line
	bash -c '
		source /usr/share/bash-completion/bash_completion 2>/dev/null || {
			echo "bash-completion is not installed" >&2; exit 1; }
		source "$0"
		COMP_WORDS=("${@}")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		# the line as typed: "--vm = 1" was "--vm=1"
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_LINE=${COMP_LINE// = /=}
		[[ $COMP_LINE == *" =" ]] && COMP_LINE="${COMP_LINE% =}="
		COMP_POINT=${#COMP_LINE}
		_spte_inspect "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' "$COMP/spte-inspect.bash" "$@" | sort -V
}
sorted() { printf '%s\n' "$@" | sort -V; }

expect "bash: a command after the dump" "$(complete_bash spte-inspect "$DUMP" sp)" "sptes"
expect "bash: every command after the dump" "$(complete_bash spte-inspect "$DUMP" "")" "$(sorted $commands)"
expect "bash: a command after an option with its argument" \
	"$(complete_bash spte-inspect --level 1 "$DUMP" ro)" "roots"
expect "bash: nothing more after a command's argument" "$(complete_bash spte-inspect "$DUMP" gfn 0x10 "")" ""
expect "bash: an option prefix" "$(complete_bash spte-inspect --pr)" "--pretty"
expect "bash: option prefix after the dump" "$(complete_bash spte-inspect "$DUMP" --list)" "--list-checks"
expect "bash: file names for the dump" "$(complete_bash spte-inspect vmlinux-f)" "vmlinux-file"
expect "bash: --vm offers the dump's VM pid ($pid)" "$(complete_bash spte-inspect "$DUMP" --vm "")" "$pid"
expect "bash: --vm before the dump" "$(complete_bash spte-inspect --vm "" )" ""
expect "bash: --vm finds the dump behind --vmlinux FILE" \
	"$(complete_bash spte-inspect --vmlinux vmlinux-file "$DUMP" --vm "")" "$pid"
expect "bash: --vm=PID" "$(complete_bash spte-inspect "$DUMP" --vm = "")" "$pid"
expect "bash: --check S offers the S checks" "$(complete_bash spte-inspect "$DUMP" check --check S)" "$s_ids"
expect "bash: --check D offers the D checks" "$(complete_bash spte-inspect "$DUMP" --check D)" "$d_ids"
expect "bash: --check after a comma keeps the list" \
	"$(complete_bash spte-inspect "$DUMP" check --check S1,H)" "$h_ids"
expect "bash: --check falls back to the static list" \
	"$(complete_bash "$TMP/broken/spte-inspect" "$DUMP" --check S)" "$s_ids"
expect "bash: --severity" "$(complete_bash spte-inspect --severity w)" "warning"
expect "bash: --severity=" "$(complete_bash spte-inspect --severity = e)" "error"
expect "bash: --level" "$(complete_bash spte-inspect --level "")" "$(seq 1 5)"
expect "bash: sptes BITS: bit names" "$(complete_bash spte-inspect "$DUMP" sptes W)" "$bits_w"
expect "bash: sptes BITS after a comma keeps the list" \
	"$(complete_bash spte-inspect "$DUMP" sptes W=1,D)" "$(sorted W=1,D=0 W=1,D=1)"
expect "bash: --color" "$(complete_bash spte-inspect "$DUMP" --color a)" "$(sorted always auto)"
expect "bash: the pfn command" "$(complete_bash spte-inspect "$DUMP" pf)" "pfn"
syms=$("$BIN" "$DUMP" __symbols kvm:mark_page_dirty | sort -V)
# bash inserts after the ':' (a word break for readline): the candidates lose "kvm:"
expect "bash: dis SYMBOL from the dump on the line" \
	"$(complete_bash spte-inspect "$DUMP" dis kvm:mark_page_dirty)" "$(echo "$syms" | sed 's/^kvm://')"

# -- zsh -------------------------------------------------------------------
cat >"$TMP/zcomp.zsh" <<'EOF'
# zcomp.zsh FPATH_DIR LINE: every match zsh's completion offers at the end
# of LINE, one per line.  A real interactive zsh on a pty gets LINE and a Tab;
# compadd is wrapped to record what it adds.
zmodload zsh/zpty || exit 1
out=$(mktemp)
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -d ${out}.dump"
zpty -w z "(( \$+_comps[spte-inspect] )) || print -r -- NOT-REGISTERED >> $out"
zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __h; builtin compadd -O __h \"\$@\"; print -rl -- \$__h >> $out; builtin compadd \"\$@\"; }"
zpty -w z "comppostfuncs=(exit)"
zpty -w z "$2"$'\t'
while zpty -r z; do :; done >/dev/null 2>&1
zpty -d z
sort -uV $out
rm -f $out ${out}.dump
EOF
complete_zsh() { timeout 30 zsh -f "$TMP/zcomp.zsh" "$COMP" "$*" 2>&1; }
if command -v zsh >/dev/null; then
	out=$(zsh -n "$COMP/_spte-inspect" 2>&1)
	expect "zsh: the completion file parses" "$out" ""
	expect "zsh: compinit registers it; commands after the dump" \
		"$(complete_zsh spte-inspect "$DUMP" "")" "$(sorted $commands)"
	expect "zsh: a command after an option with its argument" \
		"$(complete_zsh spte-inspect --level 1 "$DUMP" ro)" "roots"
	expect "zsh: an option prefix" "$(complete_zsh spte-inspect --pr)" "--pretty"
	expect "zsh: --vm offers the dump's VM pid" \
		"$(complete_zsh spte-inspect --vmlinux vmlinux-file "$DUMP" --vm "")" "$pid"
	expect "zsh: --check S offers the S checks" "$(complete_zsh spte-inspect "$DUMP" --check S)" "$s_ids"
	got=$(complete_zsh spte-inspect "$DUMP" --check S1,H)
	expect "zsh: --check after a comma offers the rest" "$got" "$(echo "$ids" | grep '^H')"
	expect "zsh: --severity" "$(complete_zsh spte-inspect "$DUMP" --severity "")" "$(sorted error info warning)"
	expect "zsh: sptes BITS: bit names" "$(complete_zsh spte-inspect "$DUMP" sptes W)" "$bits_w"
	expect "zsh: dis SYMBOL from the dump on the line" \
		"$(complete_zsh spte-inspect "$DUMP" dis kvm:mark_page_dirty)" "$syms"
	# the check ids come from the binary on the line, not from whichever is on PATH
	mkdir -p "$TMP/one"
	printf '#!/bin/sh\necho %s\n' "'{\"checks\":[{\"id\":\"S1\"},{\"id\":\"S2\"}]}'" >"$TMP/one/spte-inspect"
	chmod +x "$TMP/one/spte-inspect"
	expect "zsh: --check from the binary on the command line" \
		"$(complete_zsh "$TMP/one/spte-inspect" "$DUMP" --check S)" "$(sorted S1 S2)"
else
	for t in "the completion file parses" "commands, options, pids, check ids"; do
		skip "zsh: $t" "zsh not installed"
	done
fi

# -- fish ------------------------------------------------------------------
complete_fish() { # LINE -> candidates without descriptions
	fish -N -c "source '$COMP/spte-inspect.fish'; complete -C '$1'" 2>&1 | cut -f1 | sort -V
}
if command -v fish >/dev/null; then
	out=$(fish -n "$COMP/spte-inspect.fish" 2>&1)
	expect "fish: the completion file parses" "$out" ""
	expect "fish: commands after the dump" "$(complete_fish "spte-inspect $DUMP ")" "$(sorted $commands)"
	expect "fish: a command after an option with its argument" \
		"$(complete_fish "spte-inspect --level 1 $DUMP ro")" "roots"
	expect "fish: no file names after a command" "$(complete_fish "spte-inspect $DUMP gfn ")" ""
	expect "fish: an option prefix" "$(complete_fish "spte-inspect --sev")" "--severity"
	expect "fish: --vm offers the dump's VM pid" \
		"$(complete_fish "spte-inspect --vmlinux vmlinux-file $DUMP --vm ")" "$pid"
	expect "fish: --check S offers the S checks" "$(complete_fish "spte-inspect $DUMP --check S")" "$s_ids"
	expect "fish: --check after a comma keeps the list" \
		"$(complete_fish "spte-inspect $DUMP --check S1,H")" "$h_ids"
	expect "fish: sptes BITS: bit names" "$(complete_fish "spte-inspect $DUMP sptes W")" "$bits_w"
	expect "fish: dis SYMBOL from the dump on the line" \
		"$(complete_fish "spte-inspect $DUMP dis kvm:mark_page_dirty")" "$syms"
	got=$(fish -N -c "source '$COMP/spte-inspect.fish'; complete -C 'spte-inspect $DUMP pf'" 2>&1)
	expect "fish: commands with their descriptions" "$got" "pfn	who maps a host frame"
	expect "fish: --check falls back to the static list" \
		"$(PATH="$TMP/broken:$PATH" complete_fish "spte-inspect $DUMP --check S")" "$s_ids"
else
	for t in "the completion file parses" "commands, options, pids, check ids"; do
		skip "fish: $t" "fish not installed"
	done
fi

echo "1..$n"
echo "# $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
