#!/usr/bin/env python3
"""Damaged real dumps: page tables with loops, children outside memory,
filtered table pages and garbage entries, made from a fixture with the
project's own injector (tools/kdump-inject.py).  Each must end with the
documented exit bits, a note naming the table and entry, and everything
still readable reported exactly as before.
Usage: damaged.py BINARY DUMP INJECTOR [DUMP_OF_SEVERAL_VMS]"""
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
        # 4b. garbage shaped like MMIO SPTEs (on NPT the MMIO mask is two bits,
        #     so 0xff bytes match it): a table of them is S1, 512 times, at
        #     level 1 (their gfns are not their positions) and at the root
        #     (KVM installs MMIO SPTEs only at 4K)
        for name, t in (("level-1", pte), ("root", root)):
            x = damaged("ff-" + name, "--poke", f"{t['table_pa']}={'ff' * 4096}")
            p = run("-j", x, "check")
            doc = jsondoc.load(p.stdout)
            s1 = [f for f in doc["findings"] if f["check"] == "S1" and "MMIO" in f["message"]]
            case(f"table of 0xff at the {name}: 512 S1 findings, exit bit 1",
                 len(s1) == 512 and p.returncode & 1 and
                 all(f["level"] == t["level"] and f["spte"] == "0xffffffffffffffff" for f in s1),
                 (p.returncode, len(s1), [f["message"] for f in doc["findings"][:3]]))
        # a real-shaped MMIO SPTE over RAM: the memslots' generation says
        # whether it is stale (legitimate, refreshed on the next fault) or
        # current (impossible: S1)
        def off(spec):
            return int(run(dump, "__offset", spec).stdout.split()[0])

        def vtop(va):
            return int(run(dump, "__vtop", hex(va)).stdout, 16)

        def rd64(va):
            return int(run(dump, "__rd64", hex(va)).stdout, 16)

        kvm0 = int(jsondoc.load(run("-j", dump, "vms").stdout)["vms"][0]["kvm"], 16)
        gen = rd64(rd64(kvm0 + off("kvm.memslots")) + off("kvm_memslots.generation"))
        masks = jsondoc.load(run("-j", dump, "info").stdout)["masks"]
        mmio_value = int(masks["shadow_mmio_value"], 16)

        def mmio(gfn, g):
            return mmio_value | gfn << 12 | 0x6 | (g & 0xff) << 3 | (g >> 8) << 52

        for g, want in ((gen, 1), (gen - 2, 0), (gen + 2, 1)):
            x = damaged(f"mmio{g}", "--u64", f"{pte['entry_pa']}={mmio(leaf['gfn'], g):#x}")
            w = jsondoc.load(run("-j", x, "gfn", hex(leaf["gfn"])).stdout)["walks"][0]
            p = run("-j", x, "check")
            doc = jsondoc.load(p.stdout)
            s1 = [f for f in doc["findings"] if f["check"] == "S1"]
            case(f"MMIO SPTE of generation {g} (memslots at {gen}) over RAM: "
                 f"{'S1' if want else 'no finding'}",
                 w["result"] == "mmio" and len(s1) == want and
                 (not want or s1[0]["gfn"] == leaf["gfn"]) and bool(p.returncode & 1) == bool(want),
                 (w["result"], p.returncode, doc["findings"]))

        # 4c. check honours --gfn-range, --root and --vm (its help says so)
        x = damaged("garbage2", "--u64", f"{pte['entry_pa']}=0x1234")
        g = leaf["gfn"]
        for args, want in ((["--gfn-range", hex(g)], 1), (["--gfn-range", f"{g + 1:#x}-{g + 600:#x}"], 0),
                           (["--root", tbl["root"]], 1), (["--vm", base["sptes"][0]["kvm"]], 1)):
            p = run("-j", *args, x, "check")
            if p.returncode & 8:
                case(f"check {' '.join(args)}: accepted", False, p.stderr)
                continue
            doc = jsondoc.load(p.stdout)
            lo, hi = (g, g) if args[0] != "--gfn-range" or "-" not in args[1] else (g + 1, g + 600)
            if args[0] != "--gfn-range":
                lo, hi = 0, 1 << 64
            leaves = [e for e in entries if e["kind"] == "present" and e["leaf"] and
                      e["gfn"] <= hi and e["gfn"] + (1 << 9 * (e["level"] - 1)) - 1 >= lo]
            s1 = [f for f in doc["findings"] if f["check"] == "S1"]
            case(f"check {' '.join(args)}: {want} S1 finding(s), the leaves of the range only",
                 len(s1) == want and doc["finding_counts"]["leaves_checked"] ==
                 len(leaves) - (lo <= g <= hi), (len(s1), doc["finding_counts"], len(leaves)))

        # 5. KVM's own structures: a looping vm_list, a huge vCPU count, a
        #    memslot rb-tree pointing at itself.

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
        # a vCPU the count says exists, not on vcpu_array (its xa_head
        # emptied): incomplete, never silently fewer vCPUs
        if run(dump, "__offset", "kvm.vcpu_array").stdout.strip():
            at = kvm + off("kvm.vcpu_array") + off("xarray.xa_head")
        else:
            at = kvm + off("kvm.vcpus")
        x = damaged("vcpu-gone", "--u64", f"{vtop(at):#x}=0")
        p = run("-j", x, "vms")
        doc = jsondoc.load(p.stdout)
        case("online_vcpus 1, vcpu_array empty: incomplete (exit 2), the VM says so",
             p.returncode == 2 and doc["vms"][0]["incomplete"] and
             any("online_vcpus is 1, but 1 of them is not on" in m for m in doc["incomplete"]),
             (p.returncode, doc["incomplete"]))
        # memslots KVM cannot have made: left out and said so, and nothing
        # reasons on them (a leaf outside the rest is inconclusive, not S9)
        slots = jsondoc.load(run("-j", dump, "memslots").stdout)["memslots"]
        s1, s0 = slots[1], slots[0]
        sa = int(s1["memslot"], 16)
        for name, poke, needle, gone in (
                ("npages 2^40", ["--u64", f"{vtop(sa + off('kvm_memory_slot.npages')):#x}={1 << 40:#x}"],
                 "more pages than KVM allows", [s1["id"]]),
                ("slot id 0xffff", ["--poke", f"{vtop(sa + off('kvm_memory_slot.id')):#x}=ffff"],
                 "an impossible id", [s1["id"]]),
                ("overlapping slots", ["--u64", f"{vtop(sa + off('kvm_memory_slot.base_gfn')):#x}="
                                       f"{s0['base_gfn'] + 1:#x}"], "overlap", [s0["id"], s1["id"]])):
            x = damaged("slot", *poke)
            p = run("-j", x, "memslots")
            doc = jsondoc.load(p.stdout)
            left = [m["id"] for m in doc["memslots"]]
            case(f"memslot with {name}: left out, noted, exit 2",
                 p.returncode == 2 and left == [m["id"] for m in slots if m["id"] not in gone] and
                 any(needle in m for m in doc["incomplete"]), (p.returncode, left, doc["incomplete"]))
            p = run("-j", x, "check")
            doc = jsondoc.load(p.stdout)
            case(f"memslot with {name}: check reasons on no slot it cannot trust (no error, exit 2)",
                 p.returncode == 2 and doc["finding_counts"]["error"] == 0,
                 (p.returncode, doc["finding_counts"]))
        # a listed root's refcount 0 or below, an unaligned root table:
        # said (incomplete), the unaligned table never read; and in every
        # command exit bit 2 and the "incomplete" list agree
        sp = int(tbl["root"], 16)
        if run(dump, "__offset", "kvm_mmu_page.tdp_mmu_root_count").stdout.strip():
            rc_at = vtop(sp + off("kvm_mmu_page.tdp_mmu_root_count"))
            for v, needle in (("00000000", "refcount 0: being freed"), ("ffffffff", "refcount -1: impossible")):
                x = damaged("refs", "--poke", f"{rc_at:#x}={v}")
                p = run("-j", x, "roots")
                doc = jsondoc.load(p.stdout)
                case(f"root with {needle.split(':')[0]}: noted, exit 2",
                     p.returncode == 2 and any(needle in m for m in doc["incomplete"]),
                     (p.returncode, doc["incomplete"]))
        spt_at = sp + off("kvm_mmu_page.spt")
        x = damaged("unaligned", "--u64", f"{vtop(spt_at):#x}={rd64(spt_at) + 8:#x}")
        for cmd in ("gfn", "sptes", "check", "summary"):
            args = [cmd] + ([hex(leaf["gfn"])] if cmd == "gfn" else [])
            p = run("-j", x, *args)
            doc = jsondoc.load(p.stdout)
            case(f"unaligned root table: {cmd} refuses it (not page-aligned), exit bit 2 agrees "
                 "with its incomplete list",
                 p.returncode & 2 and any("not page-aligned" in m for m in doc["incomplete"]) and
                 (cmd != "sptes" or not doc["sptes"]), (p.returncode, doc["incomplete"]))
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
    if len(sys.argv) > 4:
        several_vms(sys.argv[4], inject)
    return done()


def several_vms(dump, inject):
    """A dump of several VMs: one VM's struct kvm unreadable loses that VM
    alone, also when the unreadable page holds its vm_list link (the VMs
    after it are reached from the list's tail)."""
    vms = jsondoc.load(run("-j", dump, "vms").stdout)["vms"]
    victim = vms[len(vms) // 2]
    kvm = int(victim["kvm"], 16)
    link = kvm + int(run(dump, "__offset", "kvm.vm_list").stdout.split()[0])
    others = [v["kvm"] for v in vms if v is not victim]
    with tempfile.TemporaryDirectory() as d:
        for name, va in (("struct kvm's first page", kvm), ("the page of its vm_list link", link)):
            pa = int(run(dump, "__vtop", hex(va)).stdout, 16)
            out = os.path.join(d, "x.kdump")
            subprocess.run([sys.executable, inject, dump, out, "--drop-pfn", hex(pa >> 12)], check=True)
            p = run("-j", out, "vms")
            doc = jsondoc.load(p.stdout) if p.stdout else {"vms": [], "incomplete": []}
            got = [v["kvm"] for v in doc["vms"]]
            case(f"{name} filtered out: that VM skipped, noted, every other VM there (exit 2)",
                 p.returncode == 2 and got == others and
                 any(victim["kvm"][2:] in m or "vm_list" in m for m in doc["incomplete"]),
                 (p.returncode, got, others, doc["incomplete"], p.stderr))
            p = run(out, "check")
            case(f"{name} filtered out: check runs on the others, exit 2",
                 p.returncode == 2 and "leaves checked" in p.stdout, (p.returncode, p.stderr))


if __name__ == "__main__":
    sys.exit(main())
