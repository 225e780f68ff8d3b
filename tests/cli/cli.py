#!/usr/bin/env python3
"""The command line as a user meets it: help, version, usage errors with
suggestions, and the text output of each command on a real fixture.
Usage: cli.py BINARY DUMP VERSION"""
import json
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
    case("no dump: usage error 8", p.returncode == 8 and "Usage:" in p.stderr, p.stderr)
    p = run(dump, "sptse")
    case("unknown command suggests the closest", p.returncode == 8 and
         p.stderr.strip() == "spte-inspect: sptse: unknown command; did you mean 'sptes'?",
         p.stderr)
    p = run("--jsno", dump)
    case("unknown option suggests the closest", p.returncode == 8 and "did you mean '--json'" in
         p.stderr, p.stderr)
    p = run(dump, "gfn")
    case("gfn without GFN: usage error", p.returncode == 8 and "expected one GFN" in p.stderr,
         p.stderr)
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
         "TDP MMU on" in p.stdout and "VM pid" in p.stdout, p.stdout + p.stderr)
    q = run(dump, "summary")
    case("summary equals the default", q.stdout == p.stdout)
    p = run(dump, "-j")  # options after the dump
    doc = json.loads(p.stdout) if p.returncode == 0 else {}
    case("options anywhere; summary JSON has a schema version",
         doc.get("schema_version") == 1 and doc.get("command") == "summary", p.stdout[:200])
    p = run("-p", dump, "vms")
    case("--pretty is indented JSON", p.returncode == 0 and p.stdout.startswith("{\n  \""),
         p.stdout[:100])
    p = run(dump, "info")
    case("info names sources", p.returncode == 0 and "kallsyms" in p.stdout and "BTF" in
         p.stdout and "shadow_mmu_writable_mask" in p.stdout, p.stdout)

    # gfn walks end at the pfn the sptes listing gives for the same leaf.
    leaves = [e for e in json.loads(run("-j", dump, "sptes", "leaf=1").stdout)["sptes"]
              if e["level"] == 1]
    case("there are 4K leaves", len(leaves) > 0)
    if leaves:
        e = leaves[0]
        p = run("-j", dump, "gfn", hex(e["gfn"]), "--vm", str(e["vm"]), "--root", e["root"])
        doc = json.loads(p.stdout)
        w = doc["walks"][0]
        case("gfn walk reaches the leaf", w["result"] == "mapped" and w["pfn"] == e["pfn"] and
             w["walk"][-1]["spte"] == e["spte"] and len(w["walk"]) == 4, p.stdout)
        p = run(dump, "gfn", hex(e["gfn"]), "--root", e["root"])
        case("gfn text: one line per level and the pfn", p.stdout.count("[0x") == 4 and
             f"=> pfn {hex(e['pfn'])}" in p.stdout, p.stdout)
        p = run("-j", dump, "sptes", "--gfn-range", hex(e["gfn"]), "--level", "1")
        got = json.loads(p.stdout)["sptes"]
        case("--gfn-range + --level select exactly that leaf",
             [x["spte"] for x in got if x["kvm"] == e["kvm"] and x["root"] == e["root"]] ==
             [e["spte"]], got)
    p = run("-j", dump, "sptes", "W=1,D=0")
    got = json.loads(p.stdout)["sptes"]
    case("bit filter W=1,D=0 yields only such leaves",
         all(x["writable"] and not x["dirty"] and x["leaf"] for x in got), got[:2])
    p = run("-j", dump, "sptes", "W=0")
    got = json.loads(p.stdout)["sptes"]
    case("bit filter W=0 yields only read-only leaves",
         len(got) > 0 and all(not x["writable"] and x["leaf"] for x in got), got[:2])
    p = run("-j", dump, "dis", "kvm:mark_page_dirty_in_slot", "6")
    ins = json.loads(p.stdout)["instructions"] if p.returncode == 0 else []
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
        d = json.loads(run("-j", dump, cmd, *args).stdout)
        keys = set(d) | {k for v in d.values() if isinstance(v, list) and v and
                         isinstance(v[0], dict) for k in v[0]}
        case(f"{cmd} --help: usage, details and real JSON keys",
             h.startswith(f"Usage: spte-inspect [OPTIONS] DUMP {cmd}")
             and not h.split("\n")[0].endswith(" ") and bool(named) and set(named) <= keys,
             (h, set(named) - keys))
    p = run(dump, "dis", "no_such_symbol_xyz")
    case("dis of an unknown symbol: usage error", p.returncode == 8 and "no symbol" in p.stderr,
         p.stderr)
    p = run("--vm", "999999", "-j", dump, "sptes")
    case("--vm of no VM: empty list", json.loads(p.stdout)["sptes"] == [], p.stdout[:200])
    return done()


if __name__ == "__main__":
    sys.exit(main())
