#!/usr/bin/env python3
"""The nested guests of a fixture against the VMM's ground truth: for every
VM that ran an L2 (and whose shadow roots were not zapped), the vCPU's
guest_mmu root is a guest-mode shadow root, and every page L2 touched that
the root maps goes L2 gfn -> L1 gfn (L1's own NPT12 walk, in the ground
truth) -> host pfn (/proc/self/pagemap) exactly, in `sptes`; `gfn` shows the
same for a sample (first, aliased, and last page).  Pages not mapped must be
few: only those KVM zapped (L1's rewritten NPT12 entry).
Usage: nested_truth.py BINARY FIXTURE_DIR"""
import json
import os
import sys

import tap


def run(binary, dump, *args):
    rc, doc = tap.runner(binary)[1](dump, *args)
    if rc not in (0, 1):
        raise AssertionError(f"{' '.join(args)}: exit {rc}")
    return doc


def main():
    binary, fixture = sys.argv[1], sys.argv[2]
    dump = os.path.join(fixture, "vmcore.kdump")
    gt = json.load(open(os.path.join(fixture, "ground-truth.json")))
    nested = [v for v in gt["vms"] if v.get("nested") and not v["nested"]["memslot_deleted_after"]]
    if not nested:
        tap.case("no nested VM in this fixture: nothing to compare", True)
        return tap.done()
    vms = run(binary, dump, "vms")["vms"]
    roots = run(binary, dump, "roots")["roots"]
    sptes = run(binary, dump, "sptes")["sptes"]
    fails, checked, sampled = [], 0, 0
    # the guest_mmu root each vCPU holds (a live, guest-mode shadow root)
    l2_roots = []
    for v in vms:
        for c in v["vcpus"]:
            hpa = c["mmus"]["guest_mmu"]["root_hpa"]
            r = [r for r in roots if r["kvm"] == v["kvm"] and r["spt_pa"] == hpa]
            if r and not r[0]["obsolete"]:
                l2_roots.append(r[0])
    for g in nested:
        pages = [p for p in g["nested"]["l2_pages"] if p["host_present"]]
        # the root whose leaves map these pages to their host frames
        leaves_of = {}
        for r in l2_roots:
            leaves_of[r["sp"]] = {e["addr_gfn"]: e for e in sptes
                                  if e["root"] == r["sp"] and e["kind"] == "present" and e["leaf"]}
        # (a shared frame, the zero page, can be in several VMs: most pages decide)
        match = [r for r in l2_roots
                 if 2 * sum(leaves_of[r["sp"]].get(p["l2_gfn"], {}).get("pfn") == p["host_pfn"]
                            for p in pages) > len(pages)]
        if len(match) != 1:
            fails.append(f"{g['name']}: {len(match)} guest_mmu roots map its L2 pages")
            continue
        r = match[0]
        # held in guest_mmu makes it L2's; role.guest_mode is 0 there on
        # 5.10, which computes the nested NPT role before entering guest mode
        # (check_oracle_shadow.py compares the role bit with the oracle)
        if not (r["mmu"] == "shadow" and not r["direct"] and
                r["held_by"] and r["held_by"]["mmu"] == "guest_mmu"):
            fails.append(f"{g['name']}: root {r['sp']} is not a nested shadow root held in guest_mmu: {r}")
        leaves = leaves_of[r["sp"]]
        unmapped = []
        for p in pages:
            e = leaves.get(p["l2_gfn"])
            if e is None:
                unmapped.append(p["l2_gfn"])
                continue
            checked += 1
            if (e["gfn"], e["pfn"]) != (p["l1_gfn"], p["host_pfn"]):
                fails.append(f"{g['name']} L2 gfn {p['l2_gfn']:#x}: L1 gfn {e['gfn']:#x} pfn "
                             f"{e['pfn']:#x} != ground truth {p['l1_gfn']:#x} {p['host_pfn']:#x}")
        if len(unmapped) > 1:
            fails.append(f"{g['name']}: L2 gfns {[hex(x) for x in unmapped]} not mapped by {r['sp']}")
        mapped = [p for p in pages if p["l2_gfn"] in leaves]
        for p in {id(p): p for p in (mapped[0], mapped[-1], *[q for q in mapped if q["l2_gfn"] == 0x31])}.values():
            w = run(binary, dump, "--root", r["sp"], "gfn", hex(p["l2_gfn"]))["walks"]
            sampled += 1
            got = (len(w), w[0]["result"], w[0].get("mapped_gfn"), w[0].get("pfn"),
                   (w[0]["memslot"] or {}).get("id"))
            want = (1, "mapped", p["l1_gfn"], p["host_pfn"], p["slot"])
            if got != want:
                fails.append(f"{g['name']} gfn {p['l2_gfn']:#x}: {got} != ground truth {want}")
    tap.case("nested guests: L2 gfn -> L1 gfn -> host pfn as the ground truth says",
             not fails, "\n".join(fails[:20]))
    print(f"# {len(nested)} nested VMs, {checked} L2 pages L2 gfn -> L1 gfn -> host pfn as the "
          f"ground truth, {sampled} through `gfn`")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
