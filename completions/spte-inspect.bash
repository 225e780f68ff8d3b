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
		--vm | --root | --gfn-range | --level | --pfn | --vmlinux | --module | --system-map | --check | \
			--severity | --color | --with-gfn | -J | --jobs)
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
	# -n :: "kvm:sym" is one word to us (readline still splits at ':')
	_init_completion -s -n : || return
	local commands="summary info vms memslots roots sptes gfn pfn check browse dis extract diff"
	local opts="-j --json -p --pretty --json-lines --color -r --reverse --att --vm --root --gfn-range --level --pfn
		--vmlinux --module --system-map -J --jobs --check --severity --with-gfn --list-checks -h --help -V --version"
	local -a _spte_inspect_pos
	case $prev in
	--vmlinux | --module | --system-map)
		_filedir
		return ;;
	--severity)
		COMPREPLY=($(compgen -W "info warning error" -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return ;;
	--level)
		COMPREPLY=($(compgen -W "1 2 3 4 5" -- "$cur"))
		return ;;
	--check)
		# ids from the binary's catalogue; a static copy when it cannot say
		local ids
		ids=$("${words[0]}" --list-checks -j 2>/dev/null | grep -o '"id":"[A-Z0-9]*"' | cut -d'"' -f4)
		[ -n "$ids" ] || ids="S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14 S15 S16 S17 S18 S19 D1 D2 D3 D4 D5 D6 D7 H1 H2 H3 H4 H5"
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
	-J | --jobs)
		COMPREPLY=($(compgen -W "$(seq 1 "$(nproc 2>/dev/null || echo 1)")" -- "$cur"))
		return ;;
	--root | --gfn-range | --pfn | --with-gfn)
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
	2)
		# extract OUT, diff DUMP2: file names
		if [ "${_spte_inspect_pos[1]}" = extract ] || [ "${_spte_inspect_pos[1]}" = diff ]; then
			_filedir
		# sptes BITS: NAME=0|1, comma-separated
		elif [ "${_spte_inspect_pos[1]}" = sptes ]; then
			local prefix=${cur%,*} b bits=""
			[ "$prefix" = "$cur" ] && prefix="" || prefix="$prefix,"
			for b in P R U W X XU A D PS HW MW AT leaf; do bits+=" $b=0 $b=1"; done
			COMPREPLY=($(compgen -P "$prefix" -W "$bits" -- "${cur##*,}"))
			compopt -o nospace 2>/dev/null
		# dis SYMBOL: the code symbols of the dump on the line
		elif [ "${_spte_inspect_pos[1]}" = dis ] && [ -r "${_spte_inspect_pos[0]}" ]; then
			COMPREPLY=($("${words[0]}" "${_spte_inspect_pos[0]}" __symbols "$cur" 2>/dev/null))
			__ltrim_colon_completions "$cur" 2>/dev/null
		fi ;;
	esac
}
complete -F _spte_inspect spte-inspect
