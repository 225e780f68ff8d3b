#!/usr/bin/env python3
"""Compare spte-inspect with a fixture's oracle.json (drgn + DWARF, written
independently by fixtures/oracle.py): every VM, memslot, root and every
present SPTE of every root, exactly.  Usage: check_oracle.py BINARY FIXTURE_DIR"""
import json
import os
import sys

from tap import dump_of, oracle_run as run

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def main():
    binary, fixture = sys.argv[1], sys.argv[2]
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))
    dump = dump_of(fixture)
    vms = run(binary, dump, "vms")["vms"]
    slots = run(binary, dump, "memslots")["memslots"]
    roots = run(binary, dump, "roots")["roots"]
    sptes = [{**e, **e["bits"]} for e in run(binary, dump, "sptes")["sptes"]]

    ovms = oracle["vms"]
    check([v["kvm"] for v in vms] == [v["kvm"] for v in ovms],
          f"VM list: {[v['kvm'] for v in vms]} != oracle {[v['kvm'] for v in ovms]}")
    by_kvm = {v["kvm"]: v for v in vms}
    nsptes = 0
    for ov in ovms:
        k = ov["kvm"]
        v = by_kvm.get(k)
        if v is None:
            continue
        for f in ("pid", "online_vcpus", "manual_dirty_log_protect", "dirty_ring_size"):
            ours = v["pid" if f == "pid" else f]
            check(ours == ov[f], f"VM {k} {f}: {ours} != oracle {ov[f]}")
        if ov.get("comm") is not None:
            check(v["comm"] == ov["comm"], f"VM {k} comm: {v['comm']} != {ov['comm']}")

        # memslots, in (as_id, base_gfn) order
        mine = sorted((s for s in slots if s["kvm"] == k), key=lambda s: (s["as_id"], s["base_gfn"]))
        theirs = sorted(ov["memslots"], key=lambda s: (s["as_id"], s["base_gfn"]))
        check(len(mine) == len(theirs), f"VM {k}: {len(mine)} memslots != oracle {len(theirs)}")
        for a, b in zip(mine, theirs):
            for f in ("as_id", "id", "base_gfn", "npages", "flags", "userspace_addr",
                      "dirty_bitmap", "dirty_gfns"):
                check(a[f] == b[f], f"VM {k} slot {b['id']} {f}: {a[f]} != oracle {b[f]}")

        # roots, in list order
        # the TDP MMU's (the shadow MMU's roots: check_oracle_shadow.py)
        mine = [r for r in roots if r["kvm"] == k and r["mmu"] == "tdp"]
        theirs = ov["roots"]
        check([r["sp"] for r in mine] == [r["sp"] for r in theirs],
              f"VM {k} roots: {[r['sp'] for r in mine]} != oracle {[r['sp'] for r in theirs]}")
        for a, b in zip(mine, theirs):
            for f in ("spt_pa", "role", "level", "guest_mode", "ad_disabled", "invalid",
                      "refcount"):
                check(a[f] == b[f], f"root {b['sp']} {f}: {a[f]} != oracle {b[f]}")
            check(a["smm"] is bool(b["smm"]), f"root {b['sp']} smm: {a['smm']} != oracle {b['smm']}")
        for vc in ov.get("vcpus", []):
            users = [r["sp"] for r in mine if vc["idx"] in [u["idx"] for u in r["vcpus"]]]
            want = [r["sp"] for r in theirs if r["spt_pa"] == vc["root_hpa"]]
            check(users == want, f"vCPU {vc['idx']} root: {users} != oracle {want}")

        # every present SPTE of every root, in walk order; then MMIO SPTEs
        for r in theirs:
            got = [(e["level"], e["gfn"], e["spte"], e["leaf"]) for e in sptes
                   if e["kvm"] == k and e["root"] == r["sp"] and e["kind"] == "present"]
            want = [(e["level"], e["gfn"], e["spte"], e["leaf"]) for e in r["sptes"]]
            nsptes += len(want)
            if got != want:
                diff = [(g, w) for g, w in zip(got, want) if g != w][:3]
                check(False, f"root {r['sp']}: {len(got)} present SPTEs vs oracle {len(want)}; "
                             f"first differences {diff}")
            got = [(e["level"], e["gfn"], e["spte"]) for e in sptes
                   if e["kvm"] == k and e["root"] == r["sp"] and e["kind"] == "mmio"]
            want = [(e["level"], e["gfn"], e["spte"]) for e in r.get("mmio", [])]
            check(got == want, f"root {r['sp']} MMIO SPTEs: {got[:3]} != oracle {want[:3]}")
            for e in sptes:
                if e["kvm"] == k and e["root"] == r["sp"]:
                    check(e["kind"] in ("present", "mmio"),
                          f"root {r['sp']}: unexpected {e['kind']} entry {e}")

    # the reverse map: `pfn N`, `sptes --pfn`, `gfn pfn:N` and `gfn hva:` against
    # the oracle's leaves (pfn from the raw SPTE: bits 12-51)
    leaves = [(ov["kvm"], r["sp"], e["level"], e["gfn"], (int(e["spte"], 16) >> 12) & ((1 << 40) - 1))
              for ov in ovms for r in ov["roots"] for e in r["sptes"] if e["leaf"]]
    def maps(pfn):
        return sorted((k, sp, lv, g + pfn - p) for k, sp, lv, g, p in leaves
                      if p <= pfn < p + 512 ** (lv - 1))
    picks = [x[4] for x in leaves[::max(1, len(leaves) // 6)]]
    huge = [x for x in leaves if x[2] > 1]
    if huge:
        picks.append(huge[0][4] + 5)  # inside a huge leaf: the one gfn that maps it
    # the oracle's leaves are the TDP MMU's (the shadow MMU's: check_oracle_shadow.py)
    tdp_roots = {r["sp"] for r in roots if r["mmu"] == "tdp"}
    for pfn in picks:
        got = [m for m in run(binary, dump, "pfn", hex(pfn))["mappings"] if m["root"] in tdp_roots]
        mine = sorted((m["kvm"], m["root"], m["level"], m["gfn"]) for m in got)
        check(mine == maps(pfn), f"pfn {pfn:#x}: {mine[:4]} != oracle {maps(pfn)[:4]}")
        hvas = {(m["kvm"], m["gfn"]): m["memslot"]["hva"] for m in got if m["memslot"]}
        for ov in ovms:
            for s_ in ov["memslots"]:
                for (k, g), hva in hvas.items():
                    if k == ov["kvm"] and s_["base_gfn"] <= g < s_["base_gfn"] + s_["npages"]:
                        want = int(s_["userspace_addr"], 16) + (g - s_["base_gfn"]) * 4096
                        check(int(hva, 16) == want, f"pfn {pfn:#x} gfn {g:#x}: hva {hva} != {want:#x}")
        walks = [w for w in run(binary, dump, "gfn", f"pfn:{pfn:#x}")["walks"] if w["mmu"] == "tdp"]
        check(sorted((w["kvm"], w["root"], w["gfn"]) for w in walks) ==
              sorted((k, sp, g) for k, sp, _, g in maps(pfn)) and
              all(w["result"] == "mapped" and w["pfn"] == pfn for w in walks),
              f"gfn pfn:{pfn:#x}: {[(w['gfn'], w.get('pfn')) for w in walks][:4]}")
        for k, g in list(hvas)[:1]:
            walks = run(binary, dump, "gfn", f"hva:{hvas[(k, g)]}", "--vm", k)["walks"]
            check(walks and all(w["gfn"] == g for w in walks), f"gfn hva:{hvas[(k, g)]}: {walks[:1]}")
    if picks:
        lo, hi = min(picks), min(picks) + 64
        got = [e for e in run(binary, dump, "sptes", "--pfn", f"{lo:#x}-{hi:#x}")["sptes"]
               if e["mmu"] == "tdp"]
        want = sorted((k, sp, lv, g) for k, sp, lv, g, p in leaves
                      if p <= hi and p + 512 ** (lv - 1) - 1 >= lo)
        check(sorted((e["kvm"], e["root"], e["level"], e["gfn"]) for e in got) == want,
              f"sptes --pfn {lo:#x}-{hi:#x}: {len(got)} leaves != oracle {len(want)}")

    for f in failures[:20]:
        print("FAIL:", f)
    if failures:
        print(f"{len(failures)} mismatches against {fixture}/oracle.json")
        return 1
    print(f"ok: {len(ovms)} VMs, {nsptes} present SPTEs match {fixture}/oracle.json exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
