#!/usr/bin/env python3
"""Bad input: each case must end with the documented exit code and a clear
one-line error naming what and where -- never a crash, a hang, or exit 0.
Usage: bad_input.py BINARY GOOD_KDUMP"""
import os
import struct
import subprocess
import sys
import tempfile

from tap import case, done


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def expect(name, p, codes, needle):
    err = p.stderr.strip().splitlines()
    why = None
    if p.returncode < 0:
        why = f"killed by signal {-p.returncode}"
    elif p.returncode not in codes:
        why = f"exit {p.returncode}, expected {codes}; stderr {p.stderr!r}"
    elif p.returncode & 4 and (len(err) != 1 or not err[0].startswith("spte-inspect: ")):
        why = f"fatal error is not one 'spte-inspect: ' line: {p.stderr!r}"
    elif needle and needle not in p.stderr:
        why = f"stderr lacks {needle!r}: {p.stderr!r}"
    case(f"{name}: exit {p.returncode}: {err[0] if err else ''}" if why is None else name,
         why is None, why)


def minimal_elf_core(path):
    """An ELF64 core file with one PT_LOAD of zeroes and no notes at all."""
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 4, 62, 1, 0,
                       64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 6, 4096, 0, 0, 65536, 65536, 4096)
    with open(path, "wb") as f:
        f.write(ehdr + phdr)
        f.write(b"\0" * (4096 - len(ehdr) - len(phdr)))
        f.write(b"\0" * 65536)


def main():
    binary, good = sys.argv[1], sys.argv[2]
    data = open(good, "rb").read()
    with tempfile.TemporaryDirectory() as d:
        def f(name, content):
            p = os.path.join(d, name)
            with open(p, "wb") as fh:
                fh.write(content)
            return p

        expect("missing file", run(binary, os.path.join(d, "nope")), {4}, "No such file")
        expect("directory", run(binary, d), {4}, "not a regular file")
        expect("empty file", run(binary, f("empty", b"")), {4}, "empty file")
        expect("random bytes", run(binary, f("random", os.urandom(1 << 20))), {4},
               "not a crash dump (neither kdump nor ELF)")
        expect("text file", run(binary, f("text", b"hello\n" * 1000)), {4}, "not a crash dump (neither kdump nor ELF)")
        el = os.path.join(d, "novmcoreinfo.elf")
        minimal_elf_core(el)
        expect("ELF without VMCOREINFO", run(binary, el), {4}, "no VMCOREINFO")
        for cut in (16, 512, 4096, 8192, 65536):
            expect(f"kdump cut at {cut} bytes", run(binary, f(f"cut{cut}", data[:cut])), {4}, good and "")
        for frac in (0.25, 0.5, 0.9):
            cut = int(len(data) * frac)
            p = run(binary, f(f"cutf{frac}", data[:cut]), "sptes")
            expect(f"kdump cut at {int(frac * 100)}%", p, {2, 4}, "")
        # Debian's image packages ship a one-line stand-in for System.map
        stub = f("System.map", b"ffffffffffffffff B The real System.map is in the "
                 b"linux-image-6.1.0-56-amd64-dbg package\n")
        expect("placeholder System.map", run(binary, "--system-map", stub, good, "vms"), {4},
               "a placeholder, not a System.map")
        expect("System.map of another kernel",
               run(binary, "--system-map", f("other.map", b"ffffffff81000000 T _stext\n"
                                             b"ffffffff82000000 D init_uts_ns\n"), good, "vms"),
               {4}, "does not belong to this dump")
        flat_hdr = b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)
        flat = flat_hdr.ljust(4096, b"\0") + struct.pack(">qq", 0, 100) + b"x" * 50
        expect("flattened, truncated record", run(binary, f("flat1", flat)), {4}, "truncated")
        flat = flat_hdr.ljust(4096, b"\0") + struct.pack(">qq", -5, 100)
        expect("flattened, negative offset", run(binary, f("flat2", flat)), {4}, "corrupt")
        flat = flat_hdr.ljust(4096, b"\0") + struct.pack(">qq", 0, 1 << 40)
        expect("flattened, huge record", run(binary, f("flat3", flat)), {4}, "corrupt")
        flat = flat_hdr.ljust(4096, b"\0")
        expect("flattened, no end marker", run(binary, f("flat4", flat)), {4}, "truncated")
    return done()


if __name__ == "__main__":
    sys.exit(main())
