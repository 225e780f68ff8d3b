#!/usr/bin/env python3
"""Compare spte-inspect's view of KVM's shadow MMU with a fixture's
oracle.json (fixtures/oracle.py, drgn + DWARF): every vCPU's MMUs (which is
current, guest mode, root and prev_roots, root role, PAE root), every shadow
root (role decoded, unsync, obsolete, root count, which list, who holds it)
and every SPTE under every shadow root (level, input frame, value, page and
index, the gfn mapped), exactly.  A fixture without shadow pages passes with
nothing compared only if the oracle has none either.
Usage: check_oracle_shadow.py BINARY FIXTURE_DIR"""
import json
import os
import sys

import tap
from tap import dump_of, oracle_run as run

INVALID = "0xffffffffffffffff"
MMUS = ("root_mmu", "guest_mmu", "nested_mmu")


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def expected_roots(ov):
    """Shadow roots as the tool lists them: every root and prev_root a vCPU
    MMU holds that is a shadow page (vCPU, MMU, root then prev_roots order),
    then any other page with a root count; with the first holder."""
    pages = {p["sp"]: p for p in ov["shadow"]["pages"]}
    out, seen = [], set()
    for vc in ov["vcpus"]:
        for name in MMUS:
            m = vc["mmus"][name]
            for k, ri in enumerate([m["root"]] + m["prev_roots"]):
                if ri["sp"] and ri["sp"] not in seen:
                    seen.add(ri["sp"])
                    out.append((pages[ri["sp"]], {"vcpu": vc["idx"], "mmu": name,
                                                   "prev_root": None if k == 0 else k - 1}))
                elif k == 0 and ri.get("special") and ("special", ri["hpa"]) not in seen:
                    # the vCPU's own pae_root (pml4_root, pml5_root): a root
                    # of its own; the pages of its PAE entries are under it
                    seen.add(("special", ri["hpa"]))
                    wk = next(w for w in m["walks"] if w.get("special") and w["hpa"] == ri["hpa"])
                    kids = [pages[e["child_sp"]] for e in wk["sptes"]
                            if e["level"] == 3 and e["sp"] is None and e["child_sp"]]
                    seen.update(p["sp"] for p in kids)
                    out.append(({"special": ri["special"], "hpa": ri["hpa"], "level": wk["level"],
                                 "kids": kids, "role_word": m["root_role"]["word"]},
                                {"vcpu": vc["idx"], "mmu": name, "prev_root": None}))
    for p in sorted(ov["shadow"]["pages"], key=lambda p: int(p["spt_pa"], 16)):
        if p["root_count"] > 0 and p["sp"] not in seen:
            seen.add(p["sp"])
            out.append((p, None))
    return out


def main():
    binary, fixture = sys.argv[1], sys.argv[2]
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))
    dump = dump_of(fixture)
    vms = {v["kvm"]: v for v in run(binary, dump, "vms")["vms"]}
    roots = run(binary, dump, "roots")["roots"]
    sptes = run(binary, dump, "sptes")["sptes"]
    nroots = nsptes = nvcpus = 0
    lists = {"active_mmu_pages": "active_mmu_pages", "zapped_obsolete_pages": "zapped_obsolete_pages",
             "none (held by a vCPU)": "none"}
    if any("shadow" not in ov for ov in oracle["vms"]):
        # an oracle from before the shadow-MMU part: those hosts ran the TDP
        # MMU without nested guests, so KVM built no shadow root
        extra = [r["sp"] for r in roots if r["mmu"] != "tdp"]
        if extra:
            tap.case("no shadow root where the fixture's VMs ran no nested guest", False, extra)
            return tap.done()
        tap.case(f"oracle without a shadow-MMU part; no shadow root listed in {fixture}", True)
        return tap.done()
    for ov in oracle["vms"]:
        k = ov["kvm"]
        v = vms.get(k)
        check(v is not None, f"VM {k} missing")
        if v is None:
            continue
        # every vCPU's three MMUs
        mine_vc = {c["idx"]: c for c in v["vcpus"]}
        for oc in ov["vcpus"]:
            c = mine_vc.get(oc["idx"])
            check(c is not None and "mmus" in c, f"VM {k} vCPU {oc['idx']}: no MMUs")
            if c is None or "mmus" not in c:
                continue
            nvcpus += 1
            om, m = oc["mmus"], c["mmus"]
            check(m["current"] == om["current"], f"VM {k} vCPU {oc['idx']} current {m['current']} != {om['current']}")
            check(m["guest_mode"] == om["guest_mode"], f"VM {k} vCPU {oc['idx']} guest_mode")
            for name in MMUS:
                a, b = m[name], om[name]
                w = f"VM {k} vCPU {oc['idx']} {name}"
                check(a["root_hpa"] == b["root"]["hpa"], f"{w} root hpa {a['root_hpa']} != {b['root']['hpa']}")
                check(a["root_pgd"] == b["root"]["pgd"], f"{w} root pgd {a['root_pgd']} != {b['root']['pgd']}")
                check([(r["hpa"], r["pgd"]) for r in a["prev_roots"]] ==
                      [(r["hpa"], r["pgd"]) for r in b["prev_roots"]], f"{w} prev_roots")
                check(a["root_role"] == b["root_role"]["word"], f"{w} root_role {a['root_role']} != {b['root_role']['word']}")
                for sk in ("pae_root", "pml4_root", "pml5_root"):
                    check(a[sk] == b[sk], f"{w} {sk} {a[sk]} != {b[sk]}")
        # shadow roots, in the tool's order, every role field
        mine = [r for r in roots if r["kvm"] == k and r["mmu"] == "shadow"]
        want = expected_roots(ov)
        rid = lambda r: r["spt_pa"] if r.get("special") else r["sp"]
        wid = lambda p: p["hpa"] if "special" in p else p["sp"]
        check([rid(r) for r in mine] == [wid(p) for p, _ in want],
              f"VM {k} shadow roots {[rid(r) for r in mine]} != oracle {[wid(p) for p, _ in want]}")
        for r, (p, held) in zip(mine, want):
            nroots += 1
            if "special" in p:
                # no page of its own: the role is its pages'
                kid = p["kids"][0]["role"] if p["kids"] else {}
                exp = {"special": p["special"], "sp": "0x0", "spt_pa": p["hpa"], "level": p["level"],
                       "role": p["role_word"], "list": "none", "held_by": held,
                       "refcount": sum(x["root_count"] for x in p["kids"]),
                       "direct": bool(kid.get("direct")), "smm": kid.get("smm", 0),
                       "guest_mode": bool(kid.get("guest_mode")),
                       "obsolete": any(x["obsolete"] for x in p["kids"])}
                for f, want_v in exp.items():
                    check(r.get(f) == want_v, f"special root {p['hpa']} {f}: {r.get(f)} != oracle {want_v}")
                continue
            check(r.get("special") is None, f"shadow root {p['sp']}: special {r.get('special')}")
            ro = p["role"]
            exp = {"spt_pa": p["spt_pa"], "role": ro["word"], "level": ro["level"], "smm": ro["smm"],
                   "guest_mode": bool(ro["guest_mode"]), "ad_disabled": bool(ro["ad_disabled"]),
                   "invalid": bool(ro["invalid"]), "direct": bool(ro["direct"]),
                   "quadrant": ro["quadrant"], "access": ro["access"],
                   "passthrough": bool(ro.get("passthrough", 0)), "obsolete": p["obsolete"],
                   "unsync": p["unsync"], "refcount": p["root_count"], "list": lists[p["list"]],
                   "held_by": held}
            for f, want_v in exp.items():
                check(r[f] == want_v, f"shadow root {p['sp']} {f}: {r[f]} != oracle {want_v}")
        # every SPTE under every shadow root the oracle walked
        walks = {}
        for oc in ov["vcpus"]:
            for name in MMUS:
                for wk in oc["mmus"][name]["walks"]:
                    walks.setdefault(wk["hpa"] if wk.get("special") else wk["sp"], wk)
        check(set(walks) <= {rid(r) for r in mine}, f"VM {k}: walked roots {set(walks)} not all listed")
        # a special root's entries name it by its page (root_pa), the others by sp
        eid = lambda e: e["root_pa"] if e.get("special") else e["root"]
        for sp, wk in walks.items():
            got = [(e["level"], e["addr_gfn"], e["spte"], e["leaf"], e.get("sp"), e.get("index"), e["gfn"])
                   for e in sptes if e["kvm"] == k and eid(e) == sp and e["kind"] == "present"]
            exp = [(e["level"], e["addr_gfn"], e["spte"], e["leaf"], e["sp"], e["index"], e["gfn"])
                   for e in wk["sptes"]]
            nsptes += len(exp)
            if got != exp:
                diff = [(g, x) for g, x in zip(got, exp) if g != x][:3]
                check(False, f"shadow root {sp}: {len(got)} present SPTEs vs oracle {len(exp)}; "
                             f"first differences {diff}")
            got = [(e["level"], e["addr_gfn"], e["spte"]) for e in sptes
                   if e["kvm"] == k and eid(e) == sp and e["kind"] == "mmio"]
            exp = [(e["level"], e["addr_gfn"], e["spte"]) for e in wk["mmio"]]
            check(got == exp, f"shadow root {sp} MMIO SPTEs: {got[:3]} != oracle {exp[:3]}")
            for e in sptes:
                if e["kvm"] == k and eid(e) == sp:
                    check(e["kind"] in ("present", "mmio"), f"shadow root {sp}: unexpected {e['kind']} {e}")
    tap.case(f"vCPU MMUs, shadow roots and their SPTEs match {fixture}/oracle.json",
             not failures, "\n".join(failures[:20] + [f"{len(failures)} mismatches"]))
    print(f"# {len(oracle['vms'])} VMs, {nvcpus} vCPUs' MMUs, {nroots} shadow roots, "
          f"{nsptes} SPTEs under shadow roots match {fixture}/oracle.json exactly")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
