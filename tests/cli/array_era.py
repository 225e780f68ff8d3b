#!/usr/bin/env python3
"""The containers of kernels before 5.17 are distrusted like the later ones.
On a copy of a fixture whose type info has kvm_memslots.used_slots (decided by
the dump, 5.10-all today) one VM's books are damaged in turn: used_slots
beyond id_to_index's length, an id_to_index entry that does not lead to its
slot, a slot whose base_gfn breaks the descending order, online_vcpus beyond
the vcpus[] array.  Each must be named in `incomplete` for that VM (exit bit
2, no crash), the other VMs listed as before.  A fixture with the later
containers has nothing to test here and passes with a SKIP.
Usage: array_era.py BINARY DUMP INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

import jsondoc

from tap import case, done, runner


def jrun(*args):
    p = run("-j", *args)
    return p.returncode, jsondoc.load(p.stdout) if p.stdout.strip() else None


def main():
    global BIN, run
    BIN, dump, inject = sys.argv[1:4]
    run = runner(BIN, timeout=300)[0]
    off = run(dump, "__offset", "kvm_memslots.used_slots", "kvm_memslots.id_to_index",
              "kvm_memslots.memslots", "kvm.memslots", "kvm.online_vcpus", "kvm.vcpus",
              "kvm_memory_slot.base_gfn")
    lines = off.stdout.splitlines()
    if off.returncode != 0 or not lines or lines[0] == "-":
        print("ok 1 # SKIP the memslots are not an array in this kernel")
        print("1..1")
        return 0
    used, idx, arr, kms, online, vcpus, base = (tuple(map(int, l.split())) for l in lines)
    rc, vms = jrun(dump, "vms")
    rc, slots = jrun(dump, "memslots")
    vm = max(vms["vms"], key=lambda v: v["memslots"])
    mine = sorted((s for s in slots["memslots"] if s["kvm"] == vm["kvm"] and s["as_id"] == 0),
                  key=lambda s: -s["base_gfn"])  # KVM's order: gfn descending
    case("a VM with two or more slots in address space 0", len(mine) >= 2, len(mine))
    if len(mine) < 2:
        done()
        return 1
    ms = int(mine[0]["memslot"], 16) - arr[0]  # memslots[0] is the highest gfn
    rd = lambda va: int(run(dump, "__rd64", hex(va)).stdout, 16)
    vtop = lambda va: int(run(dump, "__vtop", hex(va)).stdout, 16)
    case("the set found through kvm.memslots[0]", rd(int(vm["kvm"], 16) + kms[0]) == ms,
         hex(ms))
    tmp = tempfile.TemporaryDirectory()

    def damaged(name, va, value, size):
        path = os.path.join(tmp.name, name + ".kdump")
        subprocess.run([sys.executable, inject, dump, path, "--poke",
                        f"{vtop(va):#x}={(value % (1 << (8 * size))).to_bytes(size, 'little').hex()}"],
                       check=True, capture_output=True)
        return path

    def judged(name, path, cmd, what):
        rc, d = jrun(path, cmd)
        inc = (d or {}).get("incomplete", [])
        others = [v["kvm"] for v in (jrun(path, "vms")[1] or {}).get("vms", [])]
        case(f"{name}: exit bit 2, the VM's {cmd} named incomplete ({what})",
             d is not None and rc & 2 and not rc & 4 and
             any(what in x and vm["kvm"][2:] in x for x in inc), (rc, inc))
        case(f"{name}: every VM still listed", others == [v["kvm"] for v in vms["vms"]], others)

    n_ids = idx[3] // 2
    judged("used_slots past id_to_index", damaged("used", ms + used[0], n_ids + 1, 4),
           "memslots", f"used_slots {n_ids + 1}")
    sid = mine[0]["id"]
    judged("id_to_index leads elsewhere", damaged("idx", ms + idx[0] + 2 * sid, 1, 2),
           "memslots", f"id_to_index[{sid}] is 1")
    judged("memslots[1] above memslots[0]",
           damaged("order", int(mine[1]["memslot"], 16) + base[0], mine[0]["base_gfn"] + 1, 8),
           "memslots", "not sorted by gfn")
    arrlen = vcpus[3]
    judged("online_vcpus past vcpus[]", damaged("vcpus", int(vm["kvm"], 16) + online[0],
                                                arrlen + 1, 4), "vms", "more than the vcpus[] array")
    return done()


if __name__ == "__main__":
    sys.exit(main())
