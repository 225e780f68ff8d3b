#!/usr/bin/env python3
"""The shadow MMU's checks fired on injected faults in a copy of a fixture.
S15: every unsync shadow page (of a VM whose shadow pages are not obsolete)
has its `unsync` byte cleared in a copy (tools/kdump-inject.py); `check` must
then report S15 at exactly the writable leaves (any root of either MMU) that
map the gfn the page shadows, and nothing else.  Usage:
shadow_inject.py BINARY FIXTURE_DIR INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

from tap import case, done, runner


def main():
    binary, fixture, inject = sys.argv[1:4]
    dump = os.path.join(fixture, "vmcore.kdump")
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))

    run, jrun = runner(binary)

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
