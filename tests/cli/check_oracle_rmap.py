#!/usr/bin/env python3
"""The shadow MMU's books as spte-inspect reads them (hidden __rmaps: every
memslot's rmap entries with slot, level and gfn, every shadow page's
parent_ptes and unsync_child_bitmap) equal, exactly, what the fixture's
oracle.json (fixtures/oracle.py: drgn and DWARF) recorded.  A fixture whose
oracle has no shadow page passes with nothing compared only if spte-inspect
finds none either.  Usage: check_oracle_rmap.py BINARY FIXTURE_DIR"""
import json
import os
import sys

from tap import case, done, runner


def main():
    binary, fixture = sys.argv[1:3]
    dump = next(os.path.join(fixture, n) for n in ("vmcore.kdump", "vmcore.flat", "vmcore.elf")
                if os.path.exists(os.path.join(fixture, n)))
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))
    run, _ = runner(binary)
    p = run(dump, "__rmaps")
    case("__rmaps exits 0", p.returncode == 0, p.stderr)
    got = {}
    for line in p.stdout.splitlines():
        w = line.split()
        vm = got.setdefault(w[1], {"rmap": set(), "parent": set(), "bitmap": {}, "ok": None})
        if w[0] == "vm":
            vm["ok"] = (w[3], w[5], w[7])
        elif w[0] == "rmap":
            vm["rmap"].add((int(w[2]), int(w[3]), int(w[4]), int(w[5], 16), int(w[6], 16)))
        elif w[0] == "parent":
            vm["parent"].add((int(w[2], 16), int(w[3], 16)))
        elif w[0] == "bitmap":
            vm["bitmap"][int(w[2], 16)] = [int(x) for x in w[3:]]
    total = 0
    for vm in oracle["vms"]:
        sh = vm.get("shadow")
        if sh is None:
            continue
        g = got.get(vm["kvm"])
        case(f"VM {vm['kvm']}: listed, books read whole", g and g["ok"] == ("1", "1", "1"),
             g and g["ok"])
        if not g:
            continue
        want = {(r["as_id"], r["slot"], r["level"], r["gfn"], int(s["sptep"], 16))
                for r in sh.get("rmaps", []) for s in r["sptes"]}
        total += len(want)
        case(f"VM {vm['kvm']}: {len(want)} rmap entries (as, slot, level, gfn, sptep) equal the oracle's",
             g["rmap"] == want, f"missing {sorted(want - g['rmap'])[:4]}, extra {sorted(g['rmap'] - want)[:4]}")
        wantp = {(int(pg["sp"], 16), int(x, 16)) for pg in sh["pages"] for x in pg["parent_ptes"]}
        case(f"VM {vm['kvm']}: {len(wantp)} parent_ptes equal the oracle's", g["parent"] == wantp,
             f"missing {sorted(wantp - g['parent'])[:4]}, extra {sorted(g['parent'] - wantp)[:4]}")
        wantb = {int(pg["sp"], 16): pg["unsync_child_bitmap"] for pg in sh["pages"]}
        case(f"VM {vm['kvm']}: unsync_child_bitmap of {len(wantb)} pages equal the oracle's",
             g["bitmap"] == wantb, f"got {g['bitmap']}, want {wantb}")
    if not total:
        case("no rmap entry in the oracle: none read either",
             all(not v["rmap"] for v in got.values()))
    return done()


if __name__ == "__main__":
    sys.exit(main())
