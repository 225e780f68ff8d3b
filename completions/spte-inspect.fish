# fish completion for spte-inspect(1)
function __spte_inspect_dump
    for w in (commandline -opc)[2..-1]
        if test -f "$w"
            echo $w
            return 0
        end
    end
    return 1
end

function __spte_inspect_needs_command
    set -l n 0
    for w in (commandline -opc)[2..-1]
        switch $w
            case '-*'
            case '*'
                set n (math $n + 1)
        end
    end
    test $n -eq 1
end

function __spte_inspect_checks
    spte-inspect --list-checks -j 2>/dev/null | string match -ar '"id":"[A-Z0-9]+"' | string replace -r '"id":"(.*)"' '$1'
end

set -l cmds summary info vms memslots roots sptes gfn check dis
complete -c spte-inspect -n __spte_inspect_needs_command -f -a "$cmds"
complete -c spte-inspect -s j -l json -d 'JSON output'
complete -c spte-inspect -s p -l pretty -d 'indented JSON'
complete -c spte-inspect -l vm -x -a '(spte-inspect (__spte_inspect_dump) __pids 2>/dev/null)' -d 'only this VM (owner pid)'
complete -c spte-inspect -l root -x -d 'only this root'
complete -c spte-inspect -l gfn-range -x -d 'only these gfns'
complete -c spte-inspect -l level -x -a '1 2 3 4 5' -d 'only this level'
complete -c spte-inspect -l vmlinux -r -F -d 'vmlinux with .BTF'
complete -c spte-inspect -l module -r -F -d 'module .ko with .BTF'
complete -c spte-inspect -l system-map -r -F -d 'System.map'
complete -c spte-inspect -l check -x -a '(__spte_inspect_checks)' -d 'run only these checks'
complete -c spte-inspect -l severity -x -a 'info warning error' -d 'report floor'
complete -c spte-inspect -l list-checks -d 'print the catalogue of checks'
complete -c spte-inspect -s h -l help -d help
complete -c spte-inspect -s V -l version -d version
