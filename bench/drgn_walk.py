#!/usr/bin/python3
"""The tool users have today, for comparison: a drgn + DWARF walk of every
TDP MMU root of every VM, emitting every SPTE as JSON (--json) or only
counting them (--count).  Kept minimal, as an engineer would write it.

  drgn_walk.py --json|--count DUMP VMLINUX MODULE_DIR"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import drgn  # noqa: E402
from drgn import Object  # noqa: E402
from drgn.helpers.linux.list import list_for_each_entry  # noqa: E402

import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "oracle", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "oracle.py"))
oracle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(oracle)  # the dump-opening workarounds, not the walk


def main():
    mode, dump, vmlinux, moddir = sys.argv[1:5]
    prog = drgn.Program()
    prog.set_core_dump(oracle.readable_kdump(dump))
    oracle.bootstrap_kernel_mapping(prog, dump)
    mods = [os.path.join(moddir, f) for f in sorted(os.listdir(moddir)) if f.startswith(("kvm.ko", "kvm-amd.ko"))]
    try:
        prog.load_debug_info([vmlinux] + mods, default=False, main=False)
    except drgn.MissingDebugInfoError:
        pass
    syms = oracle.module_symbols(prog, "kvm")
    pob = prog["page_offset_base"].value_()
    out = sys.stdout
    count = 0
    first = True
    if mode == "--json":
        out.write('{"sptes":[')
    head = Object(prog, "struct list_head *", value=syms["vm_list"])
    for kvm in list_for_each_entry("struct kvm", head, "vm_list"):
        pid = kvm.userspace_pid.value_()
        for sp in list_for_each_entry("struct kvm_mmu_page", kvm.arch.tdp_mmu_roots.address_of_(), "link"):
            root = sp.value_()
            stack = [(sp.spt.value_() - pob, sp.role.level.value_(), sp.gfn.value_())]
            while stack:
                pa, lvl, base = stack.pop()
                data = prog.read(pa, 4096, True)
                for i in range(512):
                    v = int.from_bytes(data[i * 8:i * 8 + 8], "little")
                    if not v & (1 << 11):
                        continue
                    g = base + (i << (9 * (lvl - 1)))
                    leaf = lvl == 1 or bool(v & 0x80)
                    count += 1
                    if mode == "--json":
                        out.write(("" if first else ",") + json.dumps(
                            {"vm": pid, "root": hex(root), "level": lvl, "gfn": g, "spte": hex(v),
                             "leaf": leaf, "pfn": (v & 0x000ffffffffff000) >> 12,
                             "writable": bool(v & 2), "accessed": bool(v & 0x20),
                             "dirty": bool(v & 0x40)}))
                        first = False
                    if not leaf:
                        stack.append((v & 0x000ffffffffff000, lvl - 1, g))
    if mode == "--json":
        out.write("]}\n")
    else:
        print(count)


if __name__ == "__main__":
    main()
