#!/usr/bin/env python3
"""kdump-inject: make a damaged copy of a real kdump-compressed dump.

Changes bytes at physical addresses, or drops whole pages as makedumpfile's
filtering would, and writes a new dump that libkdumpfile, crash and
spte-inspect read like any other.  The input is never modified.

  kdump-inject.py IN OUT [--poke PA=HEXBYTES]... [--u64 PA=VALUE]...
                         [--drop-pfn PFN]...

--poke 0x1409a018=deadbeef   write those bytes (in file order) at that PA
--u64  0x1409a018=0x1234     write a little-endian u64 at that PA
--drop-pfn 0x14094           mark the page not dumped (filtered out)

Changed pages are stored uncompressed at the end of the file; dropped pages
lose their descriptor and their bit in the dumpable bitmap."""
import argparse
import struct
import sys
import zlib

DH_ZLIB, DH_LZO, DH_SNAPPY, DH_ZSTD = 0x1, 0x2, 0x4, 0x20
DESC = struct.Struct("<qIIQ")  # offset, size, flags, page_flags


def parse_int(s):
    return int(s, 0)


def unflatten(data):
    """makedumpfile's flattened stream -> the random-access file (makedumpfile -R)."""
    out = bytearray()
    pos = 4096
    while True:
        off, size = struct.unpack_from(">qq", data, pos)
        pos += 16
        if off == -1:
            return out
        if len(out) < off + size:
            out += b"\0" * (off + size - len(out))
        out[off:off + size] = data[pos:pos + size]
        pos += size


class Kdump:
    def __init__(self, data):
        if data[:12] == b"makedumpfile":
            data = unflatten(data)
        self.data = bytearray(data)
        if self.data[:8] not in (b"KDUMP   ", b"DISKDUMP"):
            sys.exit("not a kdump-compressed file (flattened? run makedumpfile -R first)")
        (self.block_size, self.sub_hdr_size, self.bitmap_blocks,
         self.max_mapnr) = struct.unpack_from("<iiII", self.data, 428)
        bs = self.block_size
        if bs != 4096:
            sys.exit(f"block size {bs} not supported")
        version = struct.unpack_from("<i", self.data, 8)[0]
        if version >= 6:  # max_mapnr_64 in the sub header
            self.max_mapnr = struct.unpack_from("<Q", self.data, bs + 96)[0] or self.max_mapnr
        self.bitmap_off = (1 + self.sub_hdr_size) * bs
        self.bitmap_len = self.bitmap_blocks * bs // 2
        self.desc_off = (1 + self.sub_hdr_size + self.bitmap_blocks) * bs
        self.bm2 = self.bitmap_off + self.bitmap_len

    def dumpable(self, pfn):
        return self.data[self.bm2 + pfn // 8] >> (pfn % 8) & 1

    def desc_index(self, pfn):
        # count of dumpable pages below pfn
        full = pfn // 8
        n = sum(bin(b).count("1") for b in self.data[self.bm2:self.bm2 + full])
        return n + bin(self.data[self.bm2 + full] & ((1 << (pfn % 8)) - 1)).count("1")

    def ndesc(self):
        return sum(bin(b).count("1") for b in self.data[self.bm2:self.bm2 + self.bitmap_len])

    def read_page(self, pfn):
        if not self.dumpable(pfn):
            sys.exit(f"pfn {pfn:#x} is not in the dump")
        off, size, flags, _ = DESC.unpack_from(self.data, self.desc_off + DESC.size * self.desc_index(pfn))
        raw = bytes(self.data[off:off + size])
        if flags & DH_ZLIB:
            return bytearray(zlib.decompress(raw))
        if flags & (DH_LZO | DH_SNAPPY | DH_ZSTD):
            sys.exit(f"pfn {pfn:#x}: compression {flags:#x} not supported (zlib only)")
        return bytearray(raw)

    def write_page(self, pfn, page):
        assert len(page) == 4096
        i = self.desc_index(pfn)
        at = self.desc_off + DESC.size * i
        _, _, _, pflags = DESC.unpack_from(self.data, at)
        off = len(self.data)
        self.data += page
        DESC.pack_into(self.data, at, off, 4096, 0, pflags)

    def drop(self, pfn):
        if not self.dumpable(pfn):
            return
        i = self.desc_index(pfn)
        n = self.ndesc()
        at = self.desc_off + DESC.size * i
        end = self.desc_off + DESC.size * n
        # shift the later descriptors down over this one
        self.data[at:end - DESC.size] = self.data[at + DESC.size:end]
        self.data[end - DESC.size:end] = b"\0" * DESC.size
        self.data[self.bm2 + pfn // 8] &= ~(1 << (pfn % 8)) & 0xff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--poke", action="append", default=[])
    ap.add_argument("--u64", action="append", default=[])
    ap.add_argument("--drop-pfn", action="append", default=[], type=parse_int)
    a = ap.parse_args()
    k = Kdump(open(a.input, "rb").read())
    edits = {}
    for spec in a.poke:
        pa, hexbytes = spec.split("=")
        edits.setdefault(parse_int(pa), b"")
        edits[parse_int(pa)] = bytes.fromhex(hexbytes)
    for spec in a.u64:
        pa, val = spec.split("=")
        edits[parse_int(pa)] = struct.pack("<Q", parse_int(val) & (2**64 - 1))
    pages = {}
    for pa, b in sorted(edits.items()):
        pfn, off = pa >> 12, pa & 0xfff
        if off + len(b) > 4096:
            sys.exit(f"edit at {pa:#x} crosses a page boundary")
        if pfn not in pages:
            pages[pfn] = k.read_page(pfn)
        pages[pfn][off:off + len(b)] = b
    for pfn, page in pages.items():
        k.write_page(pfn, bytes(page))
    for pfn in a.drop_pfn:
        k.drop(pfn)
    open(a.output, "wb").write(k.data)


if __name__ == "__main__":
    main()
