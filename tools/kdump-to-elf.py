#!/usr/bin/env python3
"""kdump-to-elf: rewrite a kdump-compressed dump (zlib, as QEMU writes it) as
an ELF vmcore laid out the way QEMU's `dump-guest-memory` with paging=false
lays it out: physical-only PT_LOADs (p_vaddr == p_paddr), one per run of RAM,
and the dump's own ELF notes (VMCOREINFO, CPU registers) in a PT_NOTE.  The
memory is the dump's, page for page; zero and excluded pages become holes of
a sparse file.  For testing the ELF path on the committed fixtures.

  kdump-to-elf.py IN.kdump|IN.flat OUT.elf"""
import importlib.util
import os
import struct
import sys
import zlib

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("ki", os.path.join(here, "kdump-inject.py"))
ki = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ki)

PAGE = 4096


def main():
    src, dst = sys.argv[1:3]
    k = ki.Kdump(open(src, "rb").read())
    d = k.data
    sub = k.block_size
    off_note, size_note = struct.unpack_from("<QQ", d, sub + 48)
    notes = bytes(d[off_note:off_note + size_note])
    bm1 = k.bitmap_off
    # runs of valid (RAM) pages from the first bitmap
    runs, start = [], None
    for pfn in range(k.max_mapnr):
        valid = d[bm1 + pfn // 8] >> (pfn % 8) & 1
        if valid and start is None:
            start = pfn
        elif not valid and start is not None:
            runs.append((start, pfn))
            start = None
    if start is not None:
        runs.append((start, k.max_mapnr))
    nph = 1 + len(runs)
    hdr = 64 + 56 * nph
    note_off = hdr
    data_off = (note_off + len(notes) + PAGE - 1) // PAGE * PAGE
    with open(dst, "wb") as f:
        f.write(struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 4, 62, 1, 0,
                            64, 0, 0, 64, 56, nph, 0, 0, 0))
        f.write(struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(notes), len(notes), 0))
        pos = data_off
        offsets = []
        for s, e in runs:
            size = (e - s) * PAGE
            f.write(struct.pack("<IIQQQQQQ", 1, 7, pos, s * PAGE, s * PAGE, size, size, 0))
            offsets.append(pos)
            pos += size
        f.write(notes)
        f.truncate(pos)
        index = 0  # descriptor index: dumpable pages in pfn order
        bm2 = k.bm2
        for (s, e), base in zip(runs, offsets):
            for pfn in range(s, e):
                if not d[bm2 + pfn // 8] >> (pfn % 8) & 1:
                    continue
                off, size, flags, _ = ki.DESC.unpack_from(d, k.desc_off + ki.DESC.size * index)
                index += 1
                raw = bytes(d[off:off + size])
                page = zlib.decompress(raw) if flags & ki.DH_ZLIB else raw
                if page.count(0) != PAGE:
                    f.seek(base + (pfn - s) * PAGE)
                    f.write(page)


if __name__ == "__main__":
    main()
