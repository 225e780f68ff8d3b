#!/usr/bin/env python3
"""The ELF path: a fixture rewritten as QEMU's physical-only ELF vmcore
(tools/kdump-to-elf.py) must analyse exactly like the kdump it came from.
Usage: elf_format.py BINARY KDUMP CONVERTER"""
import json

import jsondoc
import os
import subprocess
import struct
import sys
import tempfile

from tap import case, done


def doc(binary, dump, *args):
    p = subprocess.run([binary, "-j", dump, *args], capture_output=True, text=True, timeout=300)
    d = jsondoc.load(p.stdout) if p.stdout else {}
    d.pop("dump", None)
    return p.returncode, d


def main():
    binary, kdump, conv = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as t:
        elf = os.path.join(t, "vmcore.elf")
        subprocess.run([sys.executable, conv, kdump, elf], check=True)
        with open(elf, "rb") as f:
            h = f.read(64)
            phoff, = struct.unpack_from("<Q", h, 32)
            phnum, = struct.unpack_from("<H", h, 56)
            f.seek(phoff)
            ph = [struct.unpack("<IIQQQQQQ", f.read(56)) for _ in range(phnum)]
        loads = [p for p in ph if p[0] == 1]
        case("ELF is physical-only like QEMU's (p_vaddr == p_paddr)",
             loads and all(p[3] == p[4] for p in loads), ph[:3])
        rc, info = doc(binary, elf, "info")
        case("info: format elf", rc == 0 and info.get("format") == "elf", info.get("format"))
        for cmd in ("vms", "memslots", "roots", "sptes", "check"):
            a = doc(binary, kdump, cmd)
            b = doc(binary, elf, cmd)
            case(f"{cmd}: ELF analyses exactly like the kdump", a == b and a[0] == 0,
                 (a[0], b[0]))
        p = subprocess.run([binary, elf, "dis", "cpu0", "2"], capture_output=True, text=True)
        case("ELF: CPU registers from the notes (dis cpu0)", p.returncode == 0 and
             p.stdout.count("\n") == 2, p.stderr)
    return done()


if __name__ == "__main__":
    sys.exit(main())
