#!/usr/bin/env python3
"""The SPTE iterator (src/mmu/iter.c) against the oracle: every TDP MMU
root of every VM, over gfn ranges and minimum levels, must yield exactly the oracle's
SPTEs and MMIO entries (drgn's walk of the same dump) whose span meets the range at or above
that level, in the oracle's pre-order; and the path it keeps must hold the
entry and re-check as unchanged (a dump does not change).

  iter_oracle.py ITER_DUMP DUMP (its oracle.json beside it)
"""
import json
import os
import subprocess
import sys

from tap import case, done


def expected(oracle, lo, hi, min_level):
    out = []
    for vm in oracle["vms"]:
        for r in vm["roots"]:
            # present and MMIO entries, in pre-order: by gfn, a table before
            # what it holds
            for e in sorted(r["sptes"] + r.get("mmio", []), key=lambda e: (e["gfn"], -e["level"])):
                span = 512 ** (e["level"] - 1)
                if e["level"] >= min_level and e["gfn"] <= hi and e["gfn"] + span - 1 >= lo:
                    out.append(f"{r['sp']} {e['level']} {e['gfn']:#x} {e['spte']}")
    return out


def main():
    tool, dump = sys.argv[1:3]
    fx = os.path.dirname(os.path.abspath(dump))
    oracle = json.load(open(os.path.join(fx, "oracle.json")))
    name = os.path.basename(fx)
    leaves = sorted({e["gfn"] for vm in oracle["vms"] for r in vm["roots"] for e in r["sptes"]
                     if e["leaf"] and e["level"] == 1})
    mid = leaves[len(leaves) // 2] if leaves else 0x10000
    ranges = [(0, 2**64 - 1, 1), (0, 2**64 - 1, 2), (0, 2**64 - 1, 4),
              (mid, mid, 1), (max(mid - 0x100, 0), mid + 0x100, 1), (mid, mid + 0x1ff, 3),
              (2**40, 2**64 - 1, 1)]
    for lo, hi, lvl in ranges:
        p = subprocess.run([tool, dump, hex(lo), hex(hi), str(lvl)], capture_output=True,
                           text=True, timeout=600)
        lines = p.stdout.splitlines()
        # the oracle's roots: the TDP MMU's (shadow roots have their own test)
        roots = {r["sp"] for vm in oracle["vms"] for r in vm["roots"]}
        got = [l for l in lines if l.startswith("0x") and l.split()[0] in roots]
        want = expected(oracle, lo, hi, lvl)
        what = f"{name}: gfns {lo:#x}-{hi:#x}, level >= {lvl}"
        case(f"{what}: exit 0, no event", p.returncode == 0 and
             not any(l.startswith(("EVENT", "ERROR")) for l in lines), p.stderr + p.stdout[:300])
        missing = [x for x in want if x not in set(got)]
        extra = [x for x in got if x not in set(want)]
        case(f"{what}: the oracle's {len(want)} SPTEs, in its order", got == want,
             f"{len(got)} yielded; missing {missing[:3]}; extra {extra[:3]}")
        paths = [l for l in lines if l.startswith("PATH") and l.split()[1] in roots]
        case(f"{what}: the path holds and re-checks as unchanged ({len(paths)} roots)",
             all(l.endswith(" holds same") for l in paths) and (paths or not want or lvl > 3),
             paths[:3])
    return done()


if __name__ == "__main__":
    sys.exit(main())
