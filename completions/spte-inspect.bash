# bash completion for spte-inspect(1)

# The positional words before the cursor (DUMP, COMMAND, ARGS...), skipping
# options and their arguments, into the array _spte_inspect_pos.
_spte_inspect_positionals()
{
	local i skip=0
	_spte_inspect_pos=()
	for ((i = 1; i < cword; i++)); do
		if ((skip)); then skip=0; continue; fi
		case ${words[i]} in
		--vm | --root | --gfn-range | --level | --vmlinux | --module | --system-map | --check | --severity)
			skip=1 ;;
		--) ;;
		-*) ;;
		*) _spte_inspect_pos+=("${words[i]}") ;;
		esac
	done
}

_spte_inspect()
{
	local cur prev words cword split
	_init_completion -s || return
	local commands="summary info vms memslots roots sptes gfn check browse dis"
	local opts="-j --json -p --pretty --vm --root --gfn-range --level --vmlinux --module
		--system-map --check --severity --list-checks -h --help -V --version"
	local -a _spte_inspect_pos
	case $prev in
	--vmlinux | --module | --system-map)
		_filedir
		return ;;
	--severity)
		COMPREPLY=($(compgen -W "info warning error" -- "$cur"))
		return ;;
	--level)
		COMPREPLY=($(compgen -W "1 2 3 4 5" -- "$cur"))
		return ;;
	--check)
		# ids from the binary's catalogue; a static copy when it cannot say
		local ids
		ids=$("${words[0]}" --list-checks -j 2>/dev/null | grep -o '"id":"[A-Z0-9]*"' | cut -d'"' -f4)
		[ -n "$ids" ] || ids="S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14 S15 D1 D2 D3 D4 D5 D6 D7 H1 H2 H3 H4 H5"
		local prefix=${cur%,*}
		[ "$prefix" = "$cur" ] && prefix="" || prefix="$prefix,"
		COMPREPLY=($(compgen -P "$prefix" -W "$ids" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return ;;
	--vm)
		# the dump already on the line lists its VMs' owner pids
		_spte_inspect_positionals
		local dump=${_spte_inspect_pos[0]-}
		[ -n "$dump" ] && [ -r "$dump" ] &&
			COMPREPLY=($(compgen -W "$("${words[0]}" "$dump" __pids 2>/dev/null)" -- "$cur"))
		return ;;
	--root | --gfn-range)
		return ;;
	esac
	$split && return
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# positional words: DUMP, then COMMAND
	_spte_inspect_positionals
	case ${#_spte_inspect_pos[@]} in
	0) _filedir ;;
	1) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	esac
}
complete -F _spte_inspect spte-inspect
