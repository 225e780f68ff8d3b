#!/usr/bin/env python3
"""Modules other than KVM's are read only when asked for.  A host loads a
hundred modules; the analysis reads the symbols and BTF of kvm and its vendor
module only.  On a copy of a real dump whose other modules' symbol tables and
BTF blobs are dropped (as makedumpfile's filtering would drop pages), every
analysis (vms, memslots, roots, sptes, check, summary) gives the same JSON and
exit status as on the intact dump; what asks for every module (`info`) or for
one of those modules (`dis MODULE:SYMBOL`) fails with a one-line error naming
the module, where the intact dump answers.
Usage: lazy_modules.py BINARY DUMP INJECTOR"""
import os
import subprocess
import sys
import tempfile

import jsondoc
from tap import case, done, runner

KVM = {"kvm", "kvm_intel", "kvm_amd"}
COMMANDS = ["vms", "memslots", "roots", "sptes", "check", "summary"]


def doc(text):
    """The JSON without the dump's path; None if there is none."""
    try:
        d = jsondoc.load(text)
    except ValueError:
        return None
    if isinstance(d, dict):
        d.pop("dump", None)
    return d


def main():
    global run
    binary, dump, inject = sys.argv[1:4]
    run, jrun = runner(binary)

    def out(*args):
        p = run(dump, *args)
        if p.returncode != 0:
            raise AssertionError(f"{args}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    rd = lambda va: int(out("__rd64", hex(va)), 16)
    pfn = lambda va: int(out("__vtop", hex(va)), 16) >> 12

    def off(member):  # the byte offset, None where the type info lacks it
        line = out("__offset", member, "x.y").splitlines()[0]
        return None if line.strip() == "-" else int(line.split()[0])

    rc, info = jrun(dump, "info")
    case("info on the intact dump", rc == 0, rc)
    others = [dict(m, module=int(m["module"], 16) if isinstance(m["module"], str) else m["module"])
              for m in info["modules"] if m["name"] not in KVM]
    case("the fixture has modules besides KVM's", others, [m["name"] for m in info["modules"]])
    if not others:
        return done()

    # a page of every other module's symbol table dropped, one that does not
    # hold its struct module or mod_kallsyms (which the module list reads:
    # from 6.4 they may share pages), and its BTF blob
    ks, st, num = off("module.kallsyms"), off("mod_kallsyms.symtab"), off("mod_kallsyms.num_symtab")
    drops, named = set(), []
    for m in others:
        kallsyms = rd(m["module"] + ks)
        keep = {pfn(m["module"]), pfn(m["module"] + 0x7ff), pfn(kallsyms), pfn(kallsyms + 0x3f)}
        symtab, n = rd(kallsyms + st), rd(kallsyms + num) & 0xffffffff
        pages = {pfn(va) for va in range(symtab & ~0xfff, symtab + 24 * n, 0x1000)} - keep
        if pages:
            drops.add(max(pages))
            named.append(m)
    nbtf = 0
    has_btf = run(dump, "dis", "vmlinux:btf_modules", "1")  # 5.11+
    if has_btf.returncode == 0 and off("btf_module.list") is not None:
        head = int(has_btf.stdout.split()[0], 16)
        l, mo, b, d = (off("btf_module.list"), off("btf_module.module"), off("btf_module.btf"),
                       off("btf.data"))
        addrs = {m["module"] for m in others}
        pos, k = rd(head), 0
        while pos != head and k < 256:
            if rd(pos - l + mo) in addrs:
                drops.add(pfn(rd(rd(pos - l + b) + d)))
                nbtf += 1
            pos, k = rd(pos), k + 1
    # a page another object shares with KVM's own would change the answers
    # for a reason of its own: the modules' allocations are their own
    with tempfile.TemporaryDirectory() as tmp:
        hidden = os.path.join(tmp, "hidden.kdump")
        args = [a for p in sorted(drops) for a in ("--drop-pfn", hex(p))]
        subprocess.run([sys.executable, inject, dump, hidden, *args], check=True,
                       capture_output=True)
        case(f"{len(drops)} pages of {len(named)} modules' symbol tables and {nbtf} BTF blobs "
             "dropped", named, [m["name"] for m in others])
        for cmd in COMMANDS:
            a, b = run(dump, "-j", cmd), run(hidden, "-j", cmd)
            da, db = doc(a.stdout), doc(b.stdout)
            case(f"{cmd}: same exit status and JSON without the other modules' symbols and BTF",
                 a.returncode == b.returncode and da == db,
                 f"exit {a.returncode} / {b.returncode}: {b.stderr.strip()[:300]}")
        p = run(hidden, "info")
        err = p.stderr.strip()
        case("info fails with one line naming a module whose symbols cannot be read",
             p.returncode != 0 and len(err.splitlines()) == 1 and
             any(f"{m['name']} symbols" in err for m in named), f"exit {p.returncode}: {err}")
        if not named:
            return done()
        name = named[0]["name"]
        sym = next(iter(out("__symbols", f"{name}:").split()), None)
        case(f"{name} has code symbols on the intact dump", sym)
        if sym:
            p = run(hidden, "dis", sym, "1")
            case(f"dis {sym}: a one-line error on the copy, an answer on the intact dump",
                 p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and
                 run(dump, "dis", sym, "1").returncode == 0, f"exit {p.returncode}: {p.stderr}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
