# fish completion for spte-inspect(1)

# The positional words before the cursor (DUMP, COMMAND, ARGS...), options
# and their arguments left out.
function __spte_inspect_positionals
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --vm --root --gfn-range --level --pfn --vmlinux --module --system-map --check --severity --color --with-gfn -J --jobs
                set skip 1
            case '-*'
            case '*'
                echo $w
        end
    end
end

function __spte_inspect_needs_command
    test (count (__spte_inspect_positionals)) -eq 1
end

function __spte_inspect_has_command
    test (count (__spte_inspect_positionals)) -ge 2
end

# the dump already on the line lists its VMs' owner pids
function __spte_inspect_pids
    set -l dump (__spte_inspect_positionals)[1]
    test -n "$dump" -a -r "$dump"; or return 1
    set -l bin (commandline -opc)[1]
    $bin $dump __pids 2>/dev/null
end

# ids from the binary's catalogue (a static copy when it cannot say), after
# the ids already given in a comma list
function __spte_inspect_checks
    set -l bin (commandline -opc)[1]
    set -l ids ($bin --list-checks -j 2>/dev/null | string match -ar '"id":"[A-Z0-9]+"' | string replace -r '"id":"(.*)"' '$1')
    set -q ids[1]; or set ids S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14 S15 S16 S17 S18 S19 D1 D2 D3 D4 D5 D6 D7 H1 H2 H3 H4 H5
    set -l tok (commandline -ct | string replace -r '^--check=' '')
    set -l prefix (string match -r '^.*,' -- $tok); or set prefix ''
    printf '%s\n' $prefix$ids
end

# sptes BITS: NAME=0|1 after the names already given in a comma list
function __spte_inspect_bits
    set -l pos (__spte_inspect_positionals)
    test "$pos[2]" = sptes -a (count $pos) -eq 2; or return 1
    set -l prefix (string match -r '^.*,' -- (commandline -ct)); or set prefix ''
    for b in P R U W X XU A D PS HW MW AT leaf
        printf '%s%s=0\n%s%s=1\n' $prefix $b $prefix $b
    end
end

# dis SYMBOL: the code symbols of the dump on the line
function __spte_inspect_symbols
    set -l pos (__spte_inspect_positionals)
    test "$pos[2]" = dis -a (count $pos) -eq 2 -a -r "$pos[1]"; or return 1
    set -l bin (commandline -opc)[1]
    $bin $pos[1] __symbols (commandline -ct) 2>/dev/null
end

function __spte_inspect_sptes_args
    set -l pos (__spte_inspect_positionals)
    test "$pos[2]" = sptes -a (count $pos) -eq 2
end

# the commands, with what each does
complete -c spte-inspect -n __spte_inspect_needs_command -f -a summary -d 'kernel, MMU mode, every VM and its SPTE counts'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a info -d 'dump format, release, sources of symbols and types'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a vms -d 'every VM on vm_list'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a memslots -d 'memslots with dirty-bitmap state'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a roots -d 'every TDP MMU root'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a sptes -d 'every non-empty SPTE, filtered by bits'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a gfn -d 'the walk from each root to a gfn'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a pfn -d 'who maps a host frame'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a check -d 'audit every SPTE'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a browse -d 'full-screen browser'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a dis -d 'disassemble kernel or module code'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a extract -d 'write a KVM-only dump of what spte-inspect reads (also of /proc/kcore)'
complete -c spte-inspect -n __spte_inspect_needs_command -f -a diff -d 'what changed between two dumps'
complete -c spte-inspect -n __spte_inspect_sptes_args -f -a '(__spte_inspect_bits)' -d 'bit state'
complete -c spte-inspect -f -a '(__spte_inspect_symbols)' -d 'code symbol'
# a command's arguments (BITS, GFN, SYMBOL) are not file names; extract OUT
# and diff DUMP2 are
function __spte_inspect_file_arg
    set -l pos (__spte_inspect_positionals)
    test (count $pos) -eq 2; and contains -- $pos[2] extract diff
end
complete -c spte-inspect -n '__spte_inspect_has_command; and not __spte_inspect_file_arg' -f
complete -c spte-inspect -n __spte_inspect_file_arg -F
complete -c spte-inspect -s j -l json -d 'JSON output'
complete -c spte-inspect -s p -l pretty -d 'indented JSON'
complete -c spte-inspect -l json-lines -d 'JSON Lines: one record per line'
complete -c spte-inspect -s r -l reverse -d 'dis: the instructions leading up to the address'
complete -c spte-inspect -l att -d 'dis: AT&T syntax'
complete -c spte-inspect -l color -x -a 'auto always never' -d 'highlight severities'
complete -c spte-inspect -l pfn -x -d 'only leaves mapping these host frames'
complete -c spte-inspect -l vm -x -a '(__spte_inspect_pids)' -d 'only this VM (owner pid)'
complete -c spte-inspect -l root -x -d 'only this root'
complete -c spte-inspect -l gfn-range -x -d 'only these gfns'
complete -c spte-inspect -l level -x -a '1 2 3 4 5' -d 'only this level'
complete -c spte-inspect -l vmlinux -r -F -d 'vmlinux with .BTF'
complete -c spte-inspect -l module -r -F -d 'module .ko with .BTF'
complete -c spte-inspect -l system-map -r -F -d 'System.map'
complete -c spte-inspect -s J -l jobs -x -d 'threads reading the dump'
complete -c spte-inspect -l check -x -a '(__spte_inspect_checks)' -d 'run only these checks'
complete -c spte-inspect -l severity -x -a 'info warning error' -d 'report floor'
complete -c spte-inspect -l with-gfn -x -d 'extract: keep the guest frames of these gfns'
complete -c spte-inspect -l list-checks -d 'print the catalogue of checks'
complete -c spte-inspect -s h -l help -d help
complete -c spte-inspect -s V -l version -d version
