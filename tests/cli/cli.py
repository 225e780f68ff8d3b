#!/usr/bin/env python3
"""The command line as a user meets it: help, version, usage errors with
suggestions, and the text output of each command on a real fixture.
Usage: cli.py BINARY DUMP VERSION"""
import json

import jsondoc
import re
import subprocess
import sys

from tap import case, done


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120)


def main():
    global BIN
    BIN, dump, version = sys.argv[1:4]
    p = run("--version")
    case("--version prints the meson version", p.returncode == 0 and
         p.stdout.strip() == f"spte-inspect {version}", p.stdout)
    p = run("--help")
    for c in ("summary", "info", "vms", "memslots", "roots", "sptes", "gfn"):
        case(f"--help lists {c}", p.returncode == 0 and f"  {c} " in p.stdout, p.stdout)
    p = run(dump, "gfn", "--help")
    case("COMMAND --help is that command's", p.returncode == 0 and "gfn GFN" in p.stdout, p.stdout)
    p = run()
    case("no arguments: one usage line and where to look, exit 8", p.returncode == 8 and
         p.stderr == "Usage: spte-inspect [OPTIONS] DUMP [COMMAND [ARGS]]\n"
         "Try 'spte-inspect --help' for more information.\n" and not p.stdout, p.stderr)
    p = run(dump, "sptse")
    case("unknown command suggests the closest", p.returncode == 8 and
         p.stderr.strip() == "spte-inspect: sptse: unknown command; did you mean 'sptes'?",
         p.stderr)
    p = run("--jsno", dump)
    case("unknown option suggests the closest", p.returncode == 8 and "did you mean '--json'" in
         p.stderr, p.stderr)
    p = run(dump, "gfn")
    case("gfn without GFN: usage error", p.returncode == 8 and p.stderr ==
         "spte-inspect: gfn: missing argument (spte-inspect [OPTIONS] DUMP gfn GFN)\n", p.stderr)
    # a missing option value is said as such, not as an unknown option
    for opt, what in [("--vm", "a VM (PID, PID:N or a struct kvm address)"),
                      ("--root", "a root (a kvm_mmu_page address)"),
                      ("--gfn-range", "a gfn range (LO or LO-HI)")]:
        p = run(dump, opt)
        case(f"DUMP {opt}: needs a value", p.returncode == 8 and
             p.stderr == f"spte-inspect: {opt}: needs {what}\n", p.stderr)
    # stray arguments: one rule for every command, before the dump is read
    for cmd, extra in [("summary", ["x"]), ("info", ["x"]), ("vms", ["x"]), ("memslots", ["x"]),
                       ("roots", ["x"]), ("check", ["x"]), ("browse", ["x"]),
                       ("sptes", ["W=1", "x"]), ("gfn", ["1", "x"]), ("dis", ["cpu0", "1", "x"])]:
        p = run(dump, cmd, *extra)
        case(f"{cmd}: a stray argument is a usage error", p.returncode == 8 and
             p.stderr == f"spte-inspect: {cmd}: unexpected argument 'x'\n" and not p.stdout,
             (p.returncode, p.stderr))
    # the command first, the dump after it
    p, q = run("vms", dump), run(dump, "vms")
    case("COMMAND DUMP equals DUMP COMMAND", p.returncode == 0 and p.stdout == q.stdout and
         p.stdout.startswith("VM "), p.stderr)
    p = run("gfn", dump, "0x1", "-j")
    case("COMMAND DUMP ARGS: the args stay the command's", p.returncode == 0 and
         jsondoc.load(p.stdout)["gfn"] == 1, p.stderr)
    p = run("sptes")
    case("COMMAND without a dump: says the dump is missing", p.returncode == 8 and
         p.stderr == "spte-inspect: sptes: needs a DUMP (spte-inspect [OPTIONS] DUMP sptes)\n",
         p.stderr)
    p = run("help", "sptes")
    case("help COMMAND: that command's help, exit 0", p.returncode == 0 and
         p.stdout.startswith("Usage: spte-inspect [OPTIONS] DUMP sptes [BITS]\n"), p.stderr)
    p = run("help")
    case("help: the general help, exit 0", p.returncode == 0 and "Commands:" in p.stdout, p.stderr)
    p = run("help", "sptse")
    case("help of an unknown command: usage error with a suggestion", p.returncode == 8 and
         "did you mean 'sptes'" in p.stderr, p.stderr)
    p = run("help", "qqqqqqq")
    case("an unknown command far from every name: no empty suggestion", p.returncode == 8 and
         "did you mean" not in p.stderr, p.stderr)
    p = run("sptes", "--help")
    case("COMMAND --help without a dump: the command's help", p.returncode == 0 and
         p.stdout.startswith("Usage: spte-inspect [OPTIONS] DUMP sptes [BITS]\n"), p.stdout[:80])
    p = run(dump, "gfn", "zz")
    case("gfn with garbage: usage error", p.returncode == 8, p.stderr)
    p = run("--level", "7", dump)
    case("--level out of range: usage error", p.returncode == 8, p.stderr)
    p = run(dump, "sptes", "W=2")
    case("bad bit filter: usage error", p.returncode == 8 and "NAME=0 or NAME=1" in p.stderr,
         p.stderr)
    p = run(dump, "sptes", "Q=1")
    case("unknown bit: usage error", p.returncode == 8 and "unknown bit" in p.stderr, p.stderr)

    p = run(dump)
    case("summary is the default command", p.returncode == 0 and "MMU:" in p.stdout and
         "TDP MMU on" in p.stdout and re.search(r"VM \d+:0, pid \d+", p.stdout),
         p.stdout + p.stderr)
    q = run(dump, "summary")
    case("summary equals the default", q.stdout == p.stdout)
    p = run(dump, "-j")  # options after the dump
    doc = jsondoc.load(p.stdout) if p.returncode == 0 else {}
    case("options anywhere; summary JSON has a schema version",
         doc.get("schema_version") == 2 and doc.get("command") == "summary", p.stdout[:200])
    p = run("-p", dump, "vms")
    case("--pretty is indented JSON", p.returncode == 0 and p.stdout.startswith("{\n  \""),
         p.stdout[:100])
    p = run(dump, "info")
    case("info names sources", p.returncode == 0 and "kallsyms" in p.stdout and "BTF" in
         p.stdout and "shadow_mmu_writable_mask" in p.stdout, p.stdout)

    # gfn walks end at the pfn the sptes listing gives for the same leaf.
    leaves = [e for e in jsondoc.load(run("-j", dump, "sptes", "leaf=1").stdout)["sptes"]
              if e["level"] == 1]
    case("there are 4K leaves", len(leaves) > 0)
    if leaves:
        e = leaves[0]
        p = run("-j", dump, "gfn", hex(e["gfn"]), "--vm", str(e["vm"]), "--root", e["root"])
        doc = jsondoc.load(p.stdout)
        w = doc["walks"][0]
        case("gfn walk reaches the leaf", w["result"] == "mapped" and w["pfn"] == e["pfn"] and
             w["walk"][-1]["spte"] == e["spte"] and len(w["walk"]) == 4, p.stdout)
        p = run(dump, "gfn", hex(e["gfn"]), "--root", e["root"])
        case("gfn text: one line per level and the pfn", p.stdout.count("[0x") == 4 and
             f"=> pfn {hex(e['pfn'])}" in p.stdout, p.stdout)
        p = run("-j", dump, "sptes", "--gfn-range", hex(e["gfn"]), "--level", "1")
        got = jsondoc.load(p.stdout)["sptes"]
        case("--gfn-range + --level select exactly that leaf",
             [x["spte"] for x in got if x["kvm"] == e["kvm"] and x["root"] == e["root"]] ==
             [e["spte"]], got)
    p = run("-j", dump, "sptes", "W=1,D=0")
    got = jsondoc.load(p.stdout)["sptes"]
    case("bit filter W=1,D=0 yields only such leaves",
         all(x["writable"] and not x["dirty"] and x["leaf"] for x in got), got[:2])
    p = run("-j", dump, "sptes", "W=0")
    got = jsondoc.load(p.stdout)["sptes"]
    case("bit filter W=0 yields only read-only leaves",
         len(got) > 0 and all(not x["writable"] and x["leaf"] for x in got), got[:2])
    p = run("-j", dump, "dis", "kvm:mark_page_dirty_in_slot", "6")
    ins = jsondoc.load(p.stdout)["instructions"] if p.returncode == 0 else []
    case("dis: six instructions from the symbol, named",
         len(ins) == 6 and ins[0]["symbol"] == "mark_page_dirty_in_slot [kvm]" and
         all(i["symbol"].startswith("mark_page_dirty_in_slot") for i in ins), ins[:2])
    case("dis: addresses ascend by instruction size",
         all(int(b["address"], 16) - int(a["address"], 16) == len(a["bytes"]) // 2
             for a, b in zip(ins, ins[1:])), ins)
    p = run(dump, "dis", "cpu0", "1")
    case("dis cpu0: the saved RIP", p.returncode == 0 and p.stdout.startswith("0x"), p.stderr)
    # data is not code: every byte that does not decode is a "(bad)" line,
    # COUNT lines in all, never silence
    p = run(dump, "dis", "kvm:kvm_x86_ops", "5")
    lines = p.stdout.splitlines()
    case("dis of a data symbol: COUNT lines, undecodable bytes as (bad)",
         p.returncode == 0 and len(lines) == 5 and all(re.match(r"0x[0-9a-f]+ <kvm_x86_ops", l)
                                                        for l in lines), p.stdout)
    # every command's --help: its usage line, and the JSON keys it names exist
    for cmd, args in [("summary", []), ("info", []), ("vms", []), ("memslots", []), ("roots", []),
                      ("sptes", []), ("gfn", ["0x10011"]), ("check", []),
                      ("dis", ["kvm:mark_page_dirty_in_slot", "2"])]:
        h = run(dump, cmd, "--help").stdout
        named = re.findall(r'"([a-z_]+)"', h.split("JSON:")[1]) if "JSON:" in h else []
        d = jsondoc.load(run("-j", dump, cmd, *args).stdout)
        keys = set(d) | {k for v in d.values() if isinstance(v, list) and v and
                         isinstance(v[0], dict) for k in v[0]}
        case(f"{cmd} --help: usage, details and real JSON keys",
             h.startswith(f"Usage: spte-inspect [OPTIONS] DUMP {cmd}")
             and not h.split("\n")[0].endswith(" ") and bool(named) and set(named) <= keys,
             (h, set(named) - keys))
    # dis: whatever names nothing in the dump is a usage error (8), every kind alike
    for spec in (["cpu9999"], ["cpu0x"], ["0x10"], ["kvm:mark_page_dirty_in_slot+zz"],
                 ["kvm:no_such_symbol_xyz"], ["cpu0", "0"], ["cpu0", "x"]):
        p = run(dump, "dis", *spec)
        case(f"dis {' '.join(spec)}: usage error 8", p.returncode == 8 and
             p.stderr.startswith("spte-inspect: dis: ") and p.stderr.count("\n") == 1 and
             not p.stdout, (p.returncode, p.stderr))
    # dis -r: the instructions leading up to an address, from its function's start
    fwd = jsondoc.load(run("-j", dump, "dis", "kvm:mark_page_dirty_in_slot", "8").stdout)["instructions"]
    last = fwd[5]
    off = int(last["address"], 16) - int(fwd[0]["address"], 16)
    p = run("-j", dump, "dis", "-r", f"kvm:mark_page_dirty_in_slot+{off + 1}")
    rev = jsondoc.load(p.stdout)["instructions"] if p.returncode == 0 else []
    case("dis -r SYM+OFF: from the function's start to the instruction holding OFF",
         rev == fwd[:6], (rev[-1:], last))
    p = run("-j", dump, "dis", "-r", f"kvm:mark_page_dirty_in_slot+{off}", "2")
    rev = jsondoc.load(p.stdout)["instructions"] if p.returncode == 0 else []
    case("dis -r SYM N: the last N instructions", rev == fwd[4:6], rev)
    rip = jsondoc.load(run("-j", dump, "dis", "cpu0", "1").stdout)["instructions"][0]["address"]
    p = run(dump, "dis", "-r", "cpu0", "3")
    lines = p.stdout.splitlines()
    case("dis -r cpu0 3: three instructions ending at the saved RIP", p.returncode == 0 and
         len(lines) == 3 and lines[-1].startswith(rip + " "), p.stdout + p.stderr)
    p = run("-j", dump, "dis", "--att", "kvm:mark_page_dirty_in_slot", "8")
    att = jsondoc.load(p.stdout)["instructions"] if p.returncode == 0 else []
    case("dis --att: AT&T syntax (registers with %), the same instructions",
         [i["address"] for i in att] == [i["address"] for i in fwd] and
         any("%" in i["operands"] for i in att) and not any("%" in i["operands"] for i in fwd),
         att[:3])
    p = run(dump, "sptes", "-r")
    case("-r outside dis: usage error", p.returncode == 8 and
         p.stderr == "spte-inspect: -r/--reverse: applies to dis only, not sptes\n", p.stderr)
    p = run(dump, "dis", "no_such_symbol_xyz")
    case("dis of an unknown symbol: usage error", p.returncode == 8 and "no symbol" in p.stderr,
         p.stderr)
    vms = jsondoc.load(run("-j", dump, "vms").stdout)["vms"]
    for cmd in ("sptes", "roots", "memslots", "vms", "summary", "check", "browse"):
        p = run("--vm", "999999", dump, cmd)
        case(f"{cmd} --vm of no VM: usage error listing the VMs", p.returncode == 8 and
             p.stderr.startswith("spte-inspect: --vm: no VM is '999999'; the dump has ") and
             all(v["kvm"] in p.stderr for v in vms) and not p.stdout, p.stderr)
    p = run("--vm", "999999", dump, "gfn", "1")
    case("gfn --vm of no VM: usage error", p.returncode == 8 and "no VM is" in p.stderr, p.stderr)
    p = run("--root", "0x1234", dump, "gfn", "1")
    case("--root of no root: usage error listing the roots", p.returncode == 8 and
         p.stderr.startswith("spte-inspect: --root: no root 0x1234; the roots are 0x"), p.stderr)
    p = run("--vm", "12:x", dump, "vms")
    case("--vm garbage: usage error", p.returncode == 8 and
         "is not a pid, PID:N or a struct kvm address" in p.stderr, p.stderr)
    # --vm by struct kvm address and by PID:N select exactly that VM
    v = vms[-1]
    p = run("-j", "--vm", v["kvm"], dump, "vms")
    case("--vm KVM_ADDRESS selects that VM", p.returncode == 0 and
         [x["kvm"] for x in jsondoc.load(p.stdout)["vms"]] == [v["kvm"]], p.stderr)
    nth = sum(1 for x in vms[:-1] if x["pid"] == v["pid"])
    p = run("-j", "--vm", f"{v['pid']}:{nth}", dump, "roots")
    case("--vm PID:N selects the Nth VM of that process", p.returncode == 0 and
         {x["kvm"] for x in jsondoc.load(p.stdout)["roots"]} == {v["kvm"]}, p.stderr)
    # text: the VM column tells VMs apart (PID:N), sizes in units, SPTEs in 16 digits
    vms = jsondoc.load(run("-j", dump, "vms").stdout)["vms"]
    for cmd in ("vms", "roots", "memslots", "sptes"):
        rows = run(dump, cmd).stdout.splitlines()
        case(f"{cmd}: the first column is VM, PID:N", rows[0].split()[0] == "VM" and
             {r.split()[0] for r in rows[1:]} <= {v["vm"] for v in vms} and len(rows) > 1, rows[:3])
    slots = jsondoc.load(run("-j", dump, "memslots").stdout)["memslots"]
    rows = run(dump, "memslots").stdout.splitlines()
    def units(b):
        u = 0
        while b and b % 1024 == 0 and u < 6:
            b, u = b // 1024, u + 1
        return f"{b}{'BKMGTPE'[u]}"
    case("memslots: SIZE in units, exact", rows[0].split()[5] == "SIZE" and
         [r.split()[5] for r in rows[1:]] == [units(s_["npages"] * 4096) for s_ in slots], rows[:3])
    sp = run(dump, "sptes").stdout.splitlines()[1:]
    case("sptes: every SPTE in 16 hex digits",
         sp and all(re.fullmatch(r"0x[0-9a-f]{16}", r.split()[4]) for r in sp), sp[:2])
    p = run(dump, "summary")
    case("summary text: finding SPTEs in 16 hex digits (none on a clean dump) and no color "
         "into a pipe", "\033[" not in p.stdout, p.stdout[-300:])
    p = run("--color=always", dump, "check")
    q = run("--color=never", dump, "check")
    case("--color=always|never: same text, escapes only with always",
         p.stdout.replace("\033[0m", "").replace("\033[1;31m", "").replace("\033[1;33m", "")
         .replace("\033[36m", "") == q.stdout and "\033[" not in q.stdout, q.stdout[:200])
    p = run("--color=sometimes", dump)
    case("--color=sometimes: usage error", p.returncode == 8 and
         "--color: 'sometimes' is not auto, always or never" in p.stderr, p.stderr)
    return done()


if __name__ == "__main__":
    sys.exit(main())
