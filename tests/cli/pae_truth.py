#!/usr/bin/env python3
"""The PAE special roots of a fixture (6.12-npt0: kvm_amd.npt=0, 32-bit and
non-paging guests under shadow paging) against its oracle (fixtures/oracle.py,
drgn + DWARF, which walks them apart from this tool), exactly:
every vCPU whose root.hpa is __pa(mmu->pae_root) has that page listed as a
root of its own (roots: special, level, holder, refcount = its pages'
root_count); each of the 4 PAE entries as the oracle read it (index, value,
the shadow page it reaches and that page's gfn); the pages it reaches are
no roots of their own; every SPTE under it (level, input frame, value, page,
index, gfn); gfn through it to the oracle's pfn; summary counts it once;
--root selects it by its page's address;
check is clean (exit 0, no S14).
Injected (tools/kdump-inject.py) into one PAE entry: PT_PRESENT cleared
(S1 at that entry of that pae_root), an entry reaching a page that is no
shadow page, or outside memory (S1, not walked), and an entry naming the
page another entry reaches (a loop note at that entry): no crash, exit
status as documented.
Usage: pae_truth.py BINARY FIXTURE_DIR INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

from tap import case, done, dump_of, runner

MMUS = ("root_mmu", "guest_mmu", "nested_mmu")


def specials(oracle):
    """[(vm, vcpu idx, mmu name, root info, walk, pae entries)] of the oracle."""
    out = []
    for vm in oracle["vms"]:
        for vc in vm["vcpus"]:
            for name in MMUS:
                m = vc["mmus"][name]
                if not m["root"].get("special"):
                    continue
                wk = next(w for w in m["walks"] if w.get("special") and w["hpa"] == m["root"]["hpa"])
                out.append((vm, vc["idx"], name, m, wk))
    return out


def main():
    binary, fixture, injector = sys.argv[1:4]
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))
    dump = dump_of(fixture)
    run, jrun = runner(binary)
    want = specials(oracle)
    name = os.path.basename(os.path.normpath(fixture))
    if not case(f"{name}: the oracle has vCPUs on their pae_root", want, "none: not a PAE fixture"):
        return done()
    rc, roots = jrun(dump, "roots")
    rc2, sptes = jrun(dump, "sptes")
    case("roots and sptes: exit 0, complete", rc == 0 and rc2 == 0 and not roots["incomplete"]
         and not sptes["incomplete"], (rc, rc2, roots["incomplete"], sptes["incomplete"]))
    for vm, idx, mname, m, wk in want:
        k, hpa = vm["kvm"], m["root"]["hpa"]
        pages = {p["sp"]: p for p in vm["shadow"]["pages"]}
        tag = f"VM {vm['pid']} {k} vCPU {idx} {mname} pae_root {hpa}"
        mine = [r for r in roots["roots"] if r["kvm"] == k and r.get("special")]
        r = next((r for r in mine if r["spt_pa"] == hpa), None)
        kids = [pages[e["child_sp"]] for e in wk["sptes"] if e["level"] == 3 and e["child_sp"]]
        case(f"{tag}: listed, level 3, held by vCPU {idx} {mname}, refcount of its 4 pages",
             r is not None and r["special"] == "pae_root" and r["sp"] == "0x0" and r["level"] == 3
             and r["list"] == "none" and r["held_by"] == {"vcpu": idx, "mmu": mname, "prev_root": None}
             and r["refcount"] == sum(p["root_count"] for p in kids)
             and r["spt"] == m["pae_root"], r)
        # the 4 PAE entries the oracle read from the page
        entries = [int(v, 16) for v in m["pae_root_entries"]]
        got = [(e["index"], e["spte"], e["gfn"]) for e in sptes["sptes"]
               if e["kvm"] == k and e.get("root_pa") == hpa and e["level"] == 3]
        exp = [(i, hex(v), pages[next(x["child_sp"] for x in wk["sptes"] if x["level"] == 3
                                      and x["index"] == i)]["gfn"])
               for i, v in enumerate(entries) if v not in (0, 2**64 - 1)]
        case(f"{tag}: its PAE entries {[hex(v) for v in entries]} and their pages' gfns", got == exp,
             f"got {got}\nwant {exp}")
        # the pages reached: level 2, on active_mmu_pages, no roots of their own
        by_pa = {int(p["spt_pa"], 16): p["sp"] for p in vm["shadow"]["pages"]}
        reach = {by_pa.get(e["bits"]["pfn"] << 12) for e in sptes["sptes"] if e["kvm"] == k
                 and e.get("root_pa") == hpa and e["level"] == 3}
        case(f"{tag}: reaches the oracle's {len(kids)} level-2 shadow pages, none a root of its own",
             reach == {p["sp"] for p in kids} and all(p["role"]["level"] == 2 for p in kids)
             and not any(x["sp"] in reach for x in roots["roots"] if x["kvm"] == k),
             f"{sorted(reach)} vs {sorted(p['sp'] for p in kids)}")
        # every SPTE under it, in the walk's order
        got = [(e["level"], e["addr_gfn"], e["spte"], e["kind"] == "present" and e["bits"]["leaf"],
                e.get("sp"), e.get("index"), e["gfn"])
               for e in sptes["sptes"] if e["kvm"] == k and e.get("root_pa") == hpa
               and e["kind"] == "present"]
        exp = [(e["level"], e["addr_gfn"], e["spte"], e["leaf"], e["sp"], e["index"], e["gfn"])
               for e in wk["sptes"]]
        diff = [(g, x) for g, x in zip(got, exp) if g != x][:3]
        case(f"{tag}: all {len(exp)} SPTEs under it", got == exp, f"{len(got)} got; {diff}")
        got = [(e["addr_gfn"], e["spte"]) for e in sptes["sptes"]
               if e["kvm"] == k and e.get("root_pa") == hpa and e["kind"] == "mmio"]
        case(f"{tag}: its {len(wk['mmio'])} MMIO SPTEs",
             got == [(e["addr_gfn"], e["spte"]) for e in wk["mmio"]], got)
        # gfn: a 4K leaf of a direct page (position = gfn) resolves to its pfn
        leaf = next((e for e in wk["sptes"] if e["leaf"] and e["level"] == 1
                     and pages[e["sp"]]["role"]["direct"] and e["addr_gfn"] == e["gfn"]), None)
        if leaf:
            rc, g = jrun(dump, "--vm", str(vm["pid"]), "gfn", hex(leaf["gfn"]))
            w = [x for x in g.get("walks", []) if x["kvm"] == k and x.get("special") == "pae_root"]
            case(f"{tag}: gfn {leaf['gfn']:#x} through it to pfn {leaf['pfn']:#x}",
                 rc == 0 and w and w[0]["result"] == "mapped" and w[0]["pfn"] == leaf["pfn"]
                 and w[0]["walk"][0]["table_pa"] == hpa, w)
    rc, summ = jrun(dump, "summary")
    for vm in oracle["vms"]:
        sv = next((v for v in summ.get("vms", []) if v["kvm"] == vm["kvm"]), None)
        mine = [w for w in want if w[0] is vm]
        under = {e["child_sp"] for w in mine for e in w[4]["sptes"] if e["level"] == 3}
        nroots = len(mine) + sum(1 for p in vm["shadow"]["pages"]
                                 if p["root_count"] > 0 and p["sp"] not in under)
        leaves = sum(1 for w in mine for e in w[4]["sptes"] if e["leaf"])
        case(f"summary VM {vm['pid']} {vm['kvm']}: {nroots} shadow root(s), its pages not "
             f"counted as roots, the {leaves} leaves under them once",
             rc == 0 and sv and sv["shadow_roots"] == nroots
             and sum(sv["leaves_by_level"].values()) == leaves, sv)
    # --root names a special root by its page
    vm, idx, mname, m, wk = want[0]
    rc, sel = jrun(dump, "--root", m["root"]["hpa"], "sptes")
    case(f"--root {m['root']['hpa']}: exactly that pae_root's {len(wk['sptes'])} SPTEs",
         rc == 0 and [e["spte"] for e in sel["sptes"] if e["kind"] == "present"]
         == [e["spte"] for e in wk["sptes"]] and all(e.get("root_pa") == m["root"]["hpa"]
                                                    for e in sel["sptes"]), rc)
    p = run(dump, "check")
    case("check: clean (exit 0, no finding, no S14)", p.returncode == 0 and "S14" not in p.stdout
         and "findings: 0 " in p.stdout, p.stdout[-600:])

    # injected faults, all in the first vCPU's pae_root with an entry 1
    vm, idx, mname, m, wk = next(w for w in want if len([e for e in w[4]["sptes"] if e["level"] == 3]) > 1)
    hpa = int(m["root"]["hpa"], 16)
    e3 = [e for e in wk["sptes"] if e["level"] == 3]
    victim, other = e3[1], e3[0]
    at = hpa + 8 * victim["index"]
    v = int(victim["spte"], 16)
    tmp = tempfile.mkdtemp(prefix="pae-truth-")
    pfx = f"{vm['pid']}"

    def inject(value):
        out = os.path.join(tmp, "x.kdump")
        subprocess.run([sys.executable, injector, dump, out, "--u64", f"{at:#x}={value:#x}"],
                       check=True, capture_output=True)
        return out

    def text(f):
        ev = f["evidence"]
        return ev if isinstance(ev, str) else ev["text"]

    def check_on(d):
        rc, doc = jrun(d, "check")
        return rc, doc, [f for f in doc["findings"] if f["vm"].startswith(pfx)]

    where = f"entry {victim['index']} of the vCPU's pae_root {hpa:#x}"
    rc, doc, fs = check_on(inject(v & ~1))
    case(f"PT_PRESENT cleared in {where}: one S1 there (exit 1)",
         rc == 1 and [f["check"] for f in doc["findings"]] == ["S1"] and where in text(fs[0])
         and fs[0]["level"] == 3, (rc, doc["findings"]))
    for what, value in (("a guest page", (int(next(e for e in wk["sptes"] if e["leaf"])["spte"], 16)
                                          & 0xffffffffff000) | 1),
                        ("beyond memory", (1 << 44) | 1), ("its own pae_root", hpa | 1)):
        rc, doc, fs = check_on(inject(value))
        case(f"{where} reaching {what}: one S1 (no shadow page, not walked), exit 1, no crash",
             rc == 1 and [f["check"] for f in doc["findings"]] == ["S1"]
             and "is no shadow page of the VM" in text(fs[0]), (rc, doc["findings"]))
    rc, doc, fs = check_on(inject(int(other["spte"], 16)))
    notes = " ".join(str(n) for n in doc["incomplete"])
    case(f"{where} naming entry {other['index']}'s page: a loop note at that entry (exit 2), no crash",
         rc == 2 and "table already reached" in notes and f"entry {victim['index']} of table {hpa:#x}" in notes,
         (rc, doc["incomplete"], doc["findings"][:2]))
    return done()


if __name__ == "__main__":
    sys.exit(main())
