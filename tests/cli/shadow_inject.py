#!/usr/bin/env python3
"""The shadow MMU's checks fired on injected faults in a copy of a fixture.
S15: every unsync shadow page (of a VM whose shadow pages are not obsolete)
has its `unsync` byte cleared in a copy (tools/kdump-inject.py); `check` must
then report S15 at exactly the writable leaves (any root of either MMU) that
map the gfn the page shadows, and nothing else.
S16-S18, per VM with live shadow pages: one rmap entry removed (its head
zeroed), one spurious entry (the empty head of the next gfn given a leaf's
sptep), the unsync byte of a sync 4K guest page table set (its parents'
bitmaps do not mark it), and an orphan (the one entry linking a page
zeroed, its parent_ptes left naming it): `check` must report exactly the
injected check at the gfn and level the fault is about.  Usage:
shadow_inject.py BINARY FIXTURE_DIR INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

from tap import case, done, runner


def findings(jrun, path):
    rc, doc = jrun(path, "check")
    return rc, sorted((f["check"], f["gfn"], f["level"]) for f in doc["findings"]), doc["findings"]


def books_faults(run, jrun, dump, oracle, inject):
    """S16, S17, S18 on faults injected in a copy of DUMP."""
    tmp = tempfile.TemporaryDirectory()
    out = os.path.join(tmp.name, "books.kdump")
    heads = {}
    for line in run(dump, "__rmaps").stdout.splitlines():
        w = line.split()
        if w[0] == "rmap":
            heads.setdefault((w[1], int(w[2]), int(w[3]), int(w[4]), int(w[5], 16)), []).append(
                (int(w[6], 16), int(w[7], 16)))
    off_unsync = int(run(dump, "__offset", "kvm_mmu_page.unsync").stdout.split()[0])

    def pa(va):
        return int(run(dump, "__vtop", hex(va)).stdout, 16)

    def poke(*pokes):
        args = []
        for addr, val in pokes:
            args += ["--u64" if isinstance(val, int) else "--poke", f"{addr:#x}={val if isinstance(val, str) else hex(val)}"]
        subprocess.run([sys.executable, inject, dump, out] + args, check=True)
        return findings(jrun, out)

    done_vms = 0
    for vm in oracle["vms"]:
        pages = [p for p in vm.get("shadow", {}).get("pages", []) if not p["obsolete"]]
        if not pages or done_vms == 3:
            continue  # three VMs are enough: each injection is a whole check run
        done_vms += 1
        kvm = vm["kvm"]
        # S16: a 4K rmap head holding one sptep, and the empty head after it
        single = sorted((k, v) for k, v in heads.items() if k[0] == kvm and k[3] == 1 and len(v) == 1)
        if single:
            (_, as_id, slot, level, gfn), [(sptep, head)] = single[0]
            rc, got, raw = poke((pa(head), 0))
            case(f"S16 {kvm}: rmap entry of gfn {gfn:#x} removed: found there, nothing else",
                 rc == 1 and got == [("S16", gfn, 1)], f"rc {rc}, {got}, {[f['evidence'] for f in raw][:2]}")
        else:
            case(f"S16 {kvm}: a 4K rmap head with one entry to remove", False, "none in __rmaps")
        # gfn + 1 empty and inside the slot (a later gfn of the slot has a head)
        free = [(k, v) for k, v in single if (kvm, k[1], k[2], 1, k[4] + 1) not in heads
                and any(o[:4] == k[:4] and o[4] > k[4] + 1 for o in heads)]
        if free:
            (_, as_id, slot, level, gfn), [(sptep, head)] = free[0]
            rc, got, raw = poke((pa(head + 8), sptep))
            case(f"S16 {kvm}: spurious rmap entry at gfn {gfn + 1:#x}: found there, nothing else",
                 rc == 1 and got == [("S16", gfn + 1, 1)], f"rc {rc}, {got}, {[f['evidence'] for f in raw][:2]}")
        by_spt = {int(p["spt"], 16): p for p in pages}
        # S17: a sync 4K guest page table marked unsync; no parent's bitmap has it
        cand = [p for p in pages if p["role"]["level"] == 1 and not p["role"]["direct"] and not p["unsync"]
                and p["parent_ptes"]]
        cand = [p for p in cand if all(
            by_spt.get(int(x, 16) & ~0xfff) and ((int(x, 16) & 0xfff) // 8) not in
            by_spt[int(x, 16) & ~0xfff]["unsync_child_bitmap"] for x in p["parent_ptes"])]
        if cand:
            p = cand[0]
            rc, got, raw = poke((pa(int(p["sp"], 16) + off_unsync), "01"))
            want = [("S17", p["gfn"], 2)] * len(p["parent_ptes"])
            case(f"S17 {kvm}: unsync set on {p['sp']} (gfn {p['gfn']:#x}): found at its parents' entries",
                 rc == 1 and got == want, f"rc {rc}, {got}, want {want}, {[f['evidence'] for f in raw][:2]}")
        # S18: the one entry linking a page below the root zeroed
        cand = [p for p in pages if p["root_count"] == 0 and len(p["parent_ptes"]) == 1
                and not p["unsync"] and not p["unsync_children"]]
        if cand:
            p = cand[-1]
            rc, got, raw = poke((pa(int(p["parent_ptes"][0], 16)), 0))
            want = [("S18", p["gfn"], p["role"]["level"])]
            case(f"S18 {kvm}: page {p['sp']} (gfn {p['gfn']:#x}) cut off from its parent: found there",
                 rc == 1 and got == want and all(p["sp"] in f["evidence"] for f in raw),
                 f"rc {rc}, {got}, want {want}, {[f['evidence'] for f in raw][:2]}")
    if not done_vms:
        case("S16-S18: no live shadow page in this fixture: nothing to inject", True)
        return
    # hostile: a pte_list_desc whose `more` points at itself; the walk stops,
    # S16 is not judged for that VM (a note naming the desc), exit 2
    chains = [(vm["kvm"], r) for vm in oracle["vms"] for r in vm.get("shadow", {}).get("rmaps", []) if r["descs"]]
    if chains:
        desc = int(chains[0][1]["head"], 16) & ~3
        more = int(run(dump, "__offset", "pte_list_desc.more").stdout.split()[0])
        subprocess.run([sys.executable, inject, dump, out, "--u64", f"{pa(desc + more):#x}={desc:#x}"], check=True)
        rc, doc = jrun(out, "check")
        notes = [n if isinstance(n, str) else n["text"] for n in doc["incomplete"]]
        case("S16: a pte_list_desc loop: not judged, said, exit 2",
             rc == 2 and doc["findings"] == [] and any(f"{desc:#x} met twice" in n for n in notes), (rc, notes))
    # D2 under the shadow MMU: the dirty bit of a writable logged 4K shadow
    # leaf cleared; its evidence says whether the leaf is on its rmap
    # (where write protection would have found it), and with the rmap
    # entry removed as well that it is not (and S16 fires there).
    slots = jrun(dump, "memslots")[1]["memslots"]
    roots = {r["sp"]: r for r in jrun(dump, "roots")[1]["roots"]}
    sptes = jrun(dump, "sptes")[1]["sptes"]
    for e in sptes:
        r = roots[e["root"]]
        if not (r["mmu"] == "shadow" and not r["invalid"] and not r.get("obsolete") and e["kind"] == "present"
                and e["leaf"] and e["level"] == 1 and e["writable"]):
            continue
        sl = [x for x in slots if x["kvm"] == e["kvm"] and x["flags"] & 1 and x["dirty_bitmap"]
              and x["base_gfn"] <= e["gfn"] < x["base_gfn"] + x["npages"]]
        key = [k for k, v in heads.items() if k[0] == e["kvm"] and k[3] == 1 and k[4] == e["gfn"] and len(v) == 1]
        if not sl or not key:
            continue
        rel = e["gfn"] - sl[0]["base_gfn"]
        bit = pa(int(sl[0]["dirty_bitmap"], 16) + rel // 64 * 8) + (rel % 64) // 8
        rc, got, raw = poke((bit, "00"))
        ev = [f["evidence"] for f in raw if f["check"] == "D2" and f["gfn"] == e["gfn"]]
        case(f"D2 on shadow leaf gfn {e['gfn']:#x}: evidence says it is on its rmap",
             rc == 1 and ev and "is on the rmap" in ev[0] and all(f["check"] == "D2" for f in raw),
             f"rc {rc}, {got}, {ev}")
        rc, got, raw = poke((bit, "00"), (pa(heads[key[0]][0][1]), 0))
        ev = [f["evidence"] for f in raw if f["check"] == "D2" and f["gfn"] == e["gfn"]]
        case(f"D2 on shadow leaf gfn {e['gfn']:#x} off its rmap: evidence says so, S16 there too",
             rc == 1 and ev and "on no rmap" in ev[0] and ("S16", e["gfn"], 1) in got, f"rc {rc}, {got}, {ev}")
        break


def main():
    binary, fixture, inject = sys.argv[1:4]
    dump = os.path.join(fixture, "vmcore.kdump")
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))

    run, jrun = runner(binary)
    books_faults(run, jrun, dump, oracle, inject)

    targets = [(vm, p) for vm in oracle["vms"] for p in vm.get("shadow", {}).get("pages", [])
               if p["unsync"] and not p["obsolete"]]
    if not targets:
        case("no unsync shadow page in this fixture: nothing to inject", True)
        return done()
    off = int(run(dump, "__offset", "kvm_mmu_page.unsync").stdout.split()[0])
    rc, clean = jrun(dump, "check")
    case("clean fixture: no findings, exit 0", rc == 0 and clean["findings"] == [], clean["findings"][:2])
    sptes = jrun(dump, "sptes")[1]["sptes"]
    roots = {r["sp"]: r for r in jrun(dump, "roots")[1]["roots"]}
    tmp = tempfile.TemporaryDirectory()
    for vm, p in targets:
        pa = int(run(dump, "__vtop", hex(int(p["sp"], 16) + off)).stdout, 16)
        out = os.path.join(tmp.name, "s15.kdump")
        subprocess.run([sys.executable, inject, dump, out, "--poke", f"{pa:#x}=00"], check=True)
        rc, doc = jrun(out, "check")
        got = sorted((f["check"], f["root"], f["gfn"], f["level"]) for f in doc["findings"])
        want = sorted(("S15", e["root"], e["gfn"], e["level"]) for e in sptes
                      if e["kvm"] == vm["kvm"] and e["kind"] == "present" and e["leaf"] and e["writable"]
                      and e["gfn"] <= p["gfn"] < e["gfn"] + 512 ** (e["level"] - 1)
                      and not roots[e["root"]]["invalid"] and not roots[e["root"]].get("obsolete"))
        case(f"S15: unsync cleared on {p['sp']} (gfn {p['gfn']:#x}): exactly its writable leaves",
             got == want and want and rc == 1, f"rc {rc}, got {got}, want {want}")
        ev = [f["evidence"] for f in doc["findings"]]
        case(f"S15: evidence names shadow page {p['sp']}", ev and all(p["sp"] in x for x in ev), ev[:1])
    return done()


if __name__ == "__main__":
    sys.exit(main())
