#!/usr/bin/env python3
"""Every page compression libkdumpfile reads, on real kdump files made from a
fixture: zlib (the fixture itself), lzo and none written by makedumpfile from
the fixture rewritten as an ELF vmcore, snappy and zstd by kdump-recompress
(Debian's makedumpfile is built without them).  Each file's page descriptors
must carry its compression (so uncompressed pages cannot pass), and
vms, memslots and sptes must equal the fixture's exactly (check_oracle.py
proves those equal to oracle.json).  A control per recompressed file: the root
page's compressed data cut short must change the result.
Usage: compression.py BINARY KDUMP RECOMPRESS KDUMP_TO_ELF MAKEDUMPFILE"""
import json

import jsondoc
import os
import struct
import subprocess
import sys
import tempfile

from tap import case, done

FLAGS = {"zlib": 0x1, "lzo": 0x2, "snappy": 0x4, "zstd": 0x20, "none": 0}
ALL = 0x1 | 0x2 | 0x4 | 0x20
DESC = struct.Struct("<qIIQ")  # offset, size, flags, page_flags


def doc(binary, dump, *args):
    p = subprocess.run([binary, "-j", dump, *args], capture_output=True, text=True, timeout=300)
    d = jsondoc.load(p.stdout) if p.stdout else {}
    d.pop("dump", None)
    return p.returncode, d


class Layout:
    """Header, bitmaps and page descriptors of a kdump-compressed file, read
    independently of kdump-recompress."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        assert d[:8] == b"KDUMP   ", d[:8]
        self.status, bs, sub, bitmap_blocks = struct.unpack_from("<IiiI", d, 424)
        self.bitmap_len = bitmap_blocks * bs // 2
        self.bm2 = (1 + sub) * bs + self.bitmap_len
        self.desc_off = (1 + sub + bitmap_blocks) * bs
        self.ndesc = sum(bin(b).count("1") for b in d[self.bm2:self.bm2 + self.bitmap_len])

    def descs(self):
        return [DESC.unpack_from(self.data, self.desc_off + DESC.size * i) for i in range(self.ndesc)]

    def desc_at(self, pfn):
        """File offset of pfn's descriptor (the count of dumped pages below it)."""
        d = self.data
        assert d[self.bm2 + pfn // 8] >> (pfn % 8) & 1, f"pfn {pfn:#x} not dumped"
        below = sum(bin(b).count("1") for b in d[self.bm2:self.bm2 + pfn // 8])
        below += bin(d[self.bm2 + pfn // 8] & ((1 << (pfn % 8)) - 1)).count("1")
        return self.desc_off + DESC.size * below


def check_compression(name, path, alg):
    k = Layout(path)
    flag = FLAGS[alg]
    case(f"{name}: header status names {alg}", k.status & ALL == flag, f"status {k.status:#x}")
    pages = {}  # distinct stored pages (makedumpfile shares one zero page)
    for off, size, flags, _ in k.descs():
        pages[off] = (size, flags & ALL)
    other = sorted({f for _, f in pages.values() if f not in (0, flag)})
    comp = sum(1 for s, f in pages.values() if f == flag and flag)
    case(f"{name}: no page descriptor names another compression", not other,
         [hex(f) for f in other])
    if flag:
        # pages that do not shrink are stored raw; page tables and code do shrink
        case(f"{name}: {comp} of {len(pages)} stored pages {alg}-compressed (at least 90%)",
             comp * 10 >= len(pages) * 9 and all(s < 4096 for s, f in pages.values() if f),
             f"{comp} of {len(pages)}")
    else:
        case(f"{name}: all {len(pages)} stored pages raw", all(s == 4096 for s, _ in pages.values()))


def main():
    binary, kdump, recompress, to_elf, makedumpfile = sys.argv[1:6]
    ref = {c: doc(binary, kdump, c) for c in ("vms", "memslots", "sptes")}
    assert all(rc == 0 for rc, _ in ref.values()), {c: r[0] for c, r in ref.items()}
    case("fixture has SPTEs to compare", len(ref["sptes"][1]["sptes"]) > 0)
    root_pfn = int(doc(binary, kdump, "roots")[1]["roots"][0]["spt_pa"], 16) >> 12

    with tempfile.TemporaryDirectory() as t:
        dumps = {"zlib (fixture)": (kdump, "zlib")}
        elf = os.path.join(t, "vmcore.elf")
        subprocess.run([sys.executable, to_elf, kdump, elf], check=True)
        try:
            for alg, opts in (("lzo", ["-l"]), ("none", [])):
                out = os.path.join(t, f"{alg}.kdump")
                level = "31"
                p = subprocess.run([makedumpfile, *opts, "-d", level, elf, out],
                                   capture_output=True, text=True, timeout=300)
                if "kernel version is not supported" in p.stdout + p.stderr:
                    # makedumpfile older than the kernel misreads its page
                    # flags and drops pages in use (7.x with Debian 12's
                    # 1.7.2): exclude only zero pages, which it reads by content
                    os.unlink(out)
                    level = "1"
                    p = subprocess.run([makedumpfile, *opts, "-d", level, elf, out],
                                       capture_output=True, text=True, timeout=300)
                case(f"makedumpfile {' '.join(opts + ['-d', level])} writes a kdump",
                     p.returncode == 0 and os.path.exists(out), p.stderr[-300:])
                dumps[f"{alg} (makedumpfile)"] = (out, alg)
        finally:
            os.unlink(elf)  # 400 MB, not needed past makedumpfile
        for alg in ("snappy", "zstd"):
            out = os.path.join(t, f"{alg}.kdump")
            p = subprocess.run([recompress, kdump, out, alg], capture_output=True, text=True,
                               timeout=300)
            case(f"kdump-recompress {alg}", p.returncode == 0, p.stderr)
            dumps[f"{alg} (kdump-recompress)"] = (out, alg)

        for name, (path, alg) in dumps.items():
            if not os.path.exists(path):
                continue
            check_compression(name, path, alg)
            rc, info = doc(binary, path, "info")
            case(f"{name}: info names the format diskdump", rc == 0 and
                 info.get("format") == "diskdump" and info.get("flattened") is False,
                 info.get("format"))
            for c in ("vms", "memslots", "sptes"):
                got = doc(binary, path, c)
                case(f"{name}: {c} equal to the fixture's", got == ref[c],
                     (got[0], len(json.dumps(got[1])), len(json.dumps(ref[c][1]))))

        # control: the root page table page's compressed data one byte short
        for alg in ("snappy", "zstd"):
            path = dumps[f"{alg} (kdump-recompress)"][0]
            if not os.path.exists(path):
                continue
            k = Layout(path)
            at = k.desc_at(root_pfn)
            off, size, flags, pflags = DESC.unpack_from(k.data, at)
            cut = os.path.join(t, f"{alg}-cut.kdump")
            data = bytearray(k.data)
            DESC.pack_into(data, at, off, size - 1, flags, pflags)
            with open(cut, "wb") as f:
                f.write(data)
            got = doc(binary, cut, "sptes")
            case(f"control: {alg} root page (pfn {root_pfn:#x}, flags {flags:#x}) cut short "
                 "changes sptes", flags & ALL == FLAGS[alg] and got != ref["sptes"],
                 f"flags {flags:#x}")
            os.unlink(cut)
    return done()


if __name__ == "__main__":
    sys.exit(main())
