#!/usr/bin/env python3
"""Damaged real dumps: page tables with loops, children outside memory,
filtered table pages and garbage entries, made from a fixture with the
project's own injector (tools/kdump-inject.py).  Each must end with the
documented exit bits, a note naming the table and entry, and everything
still readable reported exactly as before.
Usage: damaged.py BINARY DUMP INJECTOR"""
import json

import jsondoc
import os
import subprocess
import sys
import tempfile

from tap import case, done, runner


def sptes(dump):
    p = run("-j", dump, "sptes")
    return p.returncode, jsondoc.load(p.stdout)


def main():
    global BIN, run
    BIN, dump, inject = sys.argv[1:4]
    run = runner(BIN, timeout=120)[0]
    rc, base = sptes(dump)
    case("fixture is clean", rc == 0 and base["incomplete"] == [], base["incomplete"])
    entries = base["sptes"]
    # A level-2 table entry (a pointer to a level-1 table) and a 4K leaf below it.
    tbl = next(e for e in entries if e["level"] == 2 and e["kind"] == "present" and not e["leaf"])
    leaf = next(e for e in entries if e["level"] == 1 and e["root"] == tbl["root"] and
                tbl["gfn"] <= e["gfn"] < tbl["gfn"] + 512)
    walk = jsondoc.load(run("-j", dump, "gfn", hex(leaf["gfn"]), "--root", tbl["root"]).stdout)
    steps = walk["walks"][0]["walk"]
    pde = next(s for s in steps if s["level"] == 2)
    pte = next(s for s in steps if s["level"] == 1)
    root = next(s for s in steps if s["level"] == max(x["level"] for x in steps))
    below = [e for e in entries if e["root"] == tbl["root"] and e["level"] == 1 and
             tbl["gfn"] <= e["gfn"] < tbl["gfn"] + 512]
    flags = int(tbl["spte"], 16) & 0xfff

    with tempfile.TemporaryDirectory() as d:
        def damaged(name, *args):
            out = os.path.join(d, name)
            subprocess.run([sys.executable, inject, dump, out, *args], check=True)
            return out

        # 1. a table pointer back to the root table: a loop
        x = damaged("loop", "--u64", f"{pde['entry_pa']}={int(root['table_pa'], 16) | flags:#x}")
        p = run("-j", x, "sptes")
        doc = jsondoc.load(p.stdout)
        case("loop: exit 2 (incomplete)", p.returncode == 2, p.returncode)
        case("loop: note names table and entry",
             any("already reached" in m and pde["table_pa"] in m and f"entry {pde['index']} " in m
                 for m in doc["incomplete"]), doc["incomplete"])
        others = [e for e in doc["sptes"] if not (tbl["gfn"] <= e["gfn"] < tbl["gfn"] + 512
                                                  and e["level"] <= 2 and e["root"] == tbl["root"])]
        want = [e for e in entries if not (tbl["gfn"] <= e["gfn"] < tbl["gfn"] + 512
                                           and e["level"] <= 2 and e["root"] == tbl["root"])]
        case("loop: every other SPTE still reported", others == want,
             f"{len(others)} vs {len(want)}")
        p = run(x)
        case("loop: summary sets exit bit 2, says INCOMPLETE on stderr",
             p.returncode & 2 and not p.returncode & 4 and "INCOMPLETE" in p.stderr and
             "INCOMPLETE" not in p.stdout, p.returncode)

        # 2. a table pointer beyond the host's memory
        x = damaged("oom", "--u64", f"{pde['entry_pa']}={0x7fff000000 | flags:#x}")
        p = run("-j", x, "sptes")
        doc = jsondoc.load(p.stdout)
        case("outside memory: exit 2", p.returncode == 2, p.returncode)
        case("outside memory: note says so",
             any("beyond the end of the host's memory" in m for m in doc["incomplete"]),
             doc["incomplete"])

        # 3. the level-1 table page filtered out of the dump
        x = damaged("filtered", "--drop-pfn", hex(int(pte["table_pa"], 16) >> 12))
        p = run("-j", x, "sptes")
        doc = jsondoc.load(p.stdout)
        case("filtered table: exit 2", p.returncode == 2, p.returncode)
        case("filtered table: reported as filtered, not corruption",
             any("filtered out" in m and pte["table_pa"].replace("0x", "") in m
                 for m in doc["incomplete"]), doc["incomplete"])
        got = [e for e in doc["sptes"]]
        want = [e for e in entries if e not in below]
        case("filtered table: exactly its SPTEs are missing", got == want,
             f"{len(got)} vs {len(want)}")

        # 4. garbage in a leaf slot: reported as such, never as a mapping
        x = damaged("garbage", "--u64", f"{pte['entry_pa']}=0x1234")
        p = run("-j", x, "sptes")
        doc = jsondoc.load(p.stdout)
        g = [e for e in doc["sptes"] if e["gfn"] == leaf["gfn"] and e["level"] == 1 and
             e["root"] == tbl["root"]]
        case("garbage entry: kind garbage, raw value kept",
             len(g) == 1 and g[0]["kind"] == "garbage" and g[0]["spte"] == "0x1234", g)
        walk = jsondoc.load(run("-j", x, "gfn", hex(leaf["gfn"]), "--root", tbl["root"]).stdout)
        case("garbage entry: gfn walk stops there", walk["walks"][0]["result"] == "garbage",
             walk["walks"][0])
        # 5. KVM's own structures: a looping vm_list, a huge vCPU count, a
        #    memslot rb-tree pointing at itself.
        def off(spec):
            return int(run(dump, "__offset", spec).stdout.split()[0])

        def vtop(va):
            return int(run(dump, "__vtop", hex(va)).stdout, 16)

        vm = jsondoc.load(run("-j", dump, "vms").stdout)["vms"][0]
        kvm = int(vm["kvm"], 16)
        link = kvm + off("kvm.vm_list")
        x = damaged("vmlist", "--u64", f"{vtop(link):#x}={link:#x}")
        p = run(x)
        case("vm_list pointing at itself: a clear one-line error, exit 4",
             p.returncode == 4 and "vm_list" in p.stderr and len(p.stderr.splitlines()) == 1,
             (p.returncode, p.stderr))
        x = damaged("vcpus", "--poke", f"{vtop(kvm + off('kvm.online_vcpus')):#x}=ffffff7f")
        p = run("-j", x, "sptes")
        doc = jsondoc.load(p.stdout)
        case("huge online_vcpus: incomplete (exit 2), noted, SPTEs still all there",
             p.returncode == 2 and any("online_vcpus" in m for m in doc["incomplete"]) and
             doc["sptes"] == entries, (p.returncode, doc["incomplete"]))
        slot = jsondoc.load(run("-j", dump, "memslots").stdout)["memslots"][0]
        # the active set uses gfn_node[0] or [1] (kvm_memslots.node_idx): both
        node = int(slot["memslot"], 16) + off("kvm_memory_slot.gfn_node")
        size = off("rb_node.rb_left") + 8  # rb_left is the last of its three words
        pokes = []
        for k in range(2):
            nk = node + k * size
            pokes += ["--u64", f"{vtop(nk + off('rb_node.rb_left')):#x}={nk:#x}"]
        x = damaged("rbloop", *pokes)
        p = run("-j", x, "memslots")
        doc = jsondoc.load(p.stdout)
        case("memslot rb-tree loop: bounded, incomplete, noted",
             p.returncode == 2 and any("rb-tree" in m for m in doc["incomplete"]),
             (p.returncode, doc["incomplete"]))
    return done()


if __name__ == "__main__":
    sys.exit(main())
