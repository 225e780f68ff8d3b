# bash completion for spte-inspect(1)
_spte_inspect()
{
	local cur prev words cword
	_init_completion || return
	local commands="summary info vms memslots roots sptes gfn check dis"
	local opts="-j --json -p --pretty --vm --root --gfn-range --level --vmlinux --module
		--system-map --check --severity --list-checks -h --help -V --version"
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
		local ids
		ids=$("${words[0]}" --list-checks -j 2>/dev/null | grep -o '"id":"[A-Z0-9]*"' | cut -d'"' -f4)
		[ -n "$ids" ] || ids="S1 S2 S3 S4 S5 S6 S7 S8 S9 S12 S13 S14 D1 D2 D4 D5 D6 D7 H1 H2 H3 H4 H5"
		local prefix=${cur%,*}
		[ "$prefix" = "$cur" ] && prefix="" || prefix="$prefix,"
		COMPREPLY=($(compgen -P "$prefix" -W "$ids" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return ;;
	--vm)
		# the dump already on the line lists its VMs' owner pids
		local w dump=
		for w in "${words[@]:1:cword-1}"; do
			[ -f "$w" ] && { dump=$w; break; }
		done
		[ -n "$dump" ] && COMPREPLY=($(compgen -W "$("${words[0]}" "$dump" __pids 2>/dev/null)" -- "$cur"))
		return ;;
	--root | --gfn-range)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# positional words: DUMP, then COMMAND
	local i n=0 skip=0
	for ((i = 1; i < cword; i++)); do
		if ((skip)); then skip=0; continue; fi
		case ${words[i]} in
		--vm | --root | --gfn-range | --level | --vmlinux | --module | --system-map | --check | --severity) skip=1 ;;
		-*) ;;
		*) n=$((n + 1)) ;;
		esac
	done
	if ((n == 0)); then
		_filedir
	elif ((n == 1)); then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
	fi
}
complete -F _spte_inspect spte-inspect
