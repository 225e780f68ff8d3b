#!/usr/bin/env python3
"""`check` looks only at what --vm, --root and --gfn-range select (issue 15):
on a real dump of several VMs, the leaves each selection checks equal the
present leaves `sptes` lists for the same selection, and no finding lies
outside it.  Before the fix every selection checked the whole dump.

usage: check_select.py SPTE-INSPECT DUMP"""
import json
import subprocess
import sys
from collections import Counter

from tap import case, done

B, D = sys.argv[1], sys.argv[2]


def run(*args):
    p = subprocess.run([B, "-j", *args[:-1], D, args[-1]], capture_output=True, text=True, timeout=300)
    assert p.returncode >= 0, f"signal {-p.returncode}: {args}"
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else {})


def present_leaf(s):
    return s["bits"].get("leaf") and s["bits"].get("present")


rc, whole = run("sptes")
sptes = whole["sptes"]
rc, allc = run("check")
total = allc["finding_counts"]["leaves_checked"]
case("whole dump: check's leaves = sptes' present leaves",
     total == sum(1 for s in sptes if present_leaf(s)), f"{total}")
per_vm = Counter(s["vm"] for s in sptes if present_leaf(s))
per_root = Counter((s["vm"], s["root"]) for s in sptes if present_leaf(s))
case("the dump has several VMs with leaves", len(per_vm) >= 2, str(per_vm))
for vm, want in sorted(per_vm.items()):
    rc, d = run("--vm", vm, "check")
    got = d.get("finding_counts", {}).get("leaves_checked")
    case(f"--vm {vm}: {want} leaves checked", got == want, f"got {got} (exit {rc})")
    case(f"--vm {vm}: every finding is that VM's",
         all(f.get("vm") in (None, vm) for f in d.get("findings", [])))
for (vm, root), want in sorted(per_root.items())[:6]:
    rc, d = run("--vm", vm, "--root", root, "check")
    got = d.get("finding_counts", {}).get("leaves_checked")
    case(f"--vm {vm} --root {root}: {want} leaves checked", got == want, f"got {got} (exit {rc})")
# the range selects by position in the tree (addr_gfn): under a shadow page
# of guest tables the mapped gfn is another
gfns = sorted(s["addr_gfn"] for s in sptes if present_leaf(s))
mid = gfns[len(gfns) // 2]
want = sum(1 for s in sptes if present_leaf(s) and s["addr_gfn"] <= mid)
rc, d = run("--gfn-range", f"0-{mid:#x}", "check")
got = d.get("finding_counts", {}).get("leaves_checked")
case(f"--gfn-range 0-{mid:#x}: {want} leaves checked", got == want, f"got {got} (exit {rc})")
sys.exit(done())
