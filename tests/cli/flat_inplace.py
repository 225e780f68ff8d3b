#!/usr/bin/env python3
"""Flattened dumps are read in place (issue 16): no temporary copy.  Each
command on the flattened file, run with a 1 MiB limit on the size of any file
it writes (RLIMIT_FSIZE; the rearranged dump would be ~20 MB), prints exactly
what it prints on the rearranged file this test writes itself
(makedumpfile -R's rule: records in order, the later one winning).  A
damaged descriptor, patched in the flattened file's record that holds it,
reads as the same damage in the rearranged file.
Usage: flat_inplace.py BINARY FLAT_DUMP"""
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile

from tap import case, done

BIN, FLAT = sys.argv[1], sys.argv[2]
FSIZE = 1 << 20


def records(data):
    """(offset in the rearranged file, offset in the flattened one, size)."""
    pos, out = 4096, []
    while True:
        off, size = struct.unpack_from(">qq", data, pos)
        pos += 16
        if off == -1:
            return out
        out.append((off, pos, size))
        pos += size


def rearrange(data):
    out = bytearray()
    for off, src, size in records(data):
        if len(out) < off + size:
            out += b"\0" * (off + size - len(out))
        out[off:off + size] = data[src:src + size]
    return out


def limited():
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE, FSIZE))


def run(dump, *args, limit=False, tmp=None):
    env = dict(os.environ)
    if tmp:
        env["TMPDIR"] = tmp
    p = subprocess.run([BIN, *args[:-1], dump, *args[-1:]] if args else [BIN, dump],
                       capture_output=True, text=True, timeout=300, env=env,
                       preexec_fn=limited if limit else None)
    return p


def same_but_path(a, b, flat_path, kdump_path):
    return a.replace(flat_path, "DUMP") == b.replace(kdump_path, "DUMP")


with open(FLAT, "rb") as f:
    data = f.read()
with tempfile.TemporaryDirectory() as d:
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    kd = os.path.join(d, "rearranged.kdump")
    with open(kd, "wb") as f:
        f.write(rearrange(data))

    p = run(FLAT, "-j", "info", limit=True, tmp=tmp)
    info = json.loads(p.stdout) if p.returncode == 0 else {}
    case("info: diskdump, flattened, read under a 1 MiB file-size limit",
         info.get("format") == "diskdump" and info.get("flattened") is True,
         f"exit {p.returncode}, {p.stderr[-300:]}")
    for args in (("vms",), ("memslots",), ("roots",), ("-j", "sptes"), ("summary",),
                 ("-j", "check"), ("gfn", "0x1000")):
        a = run(FLAT, *args, limit=True, tmp=tmp)
        b = run(kd, *args)
        case(f"{' '.join(args)}: in place (no file over 1 MiB written) = on the rearranged file",
             a.returncode == b.returncode and a.returncode >= 0
             and same_but_path(a.stdout, b.stdout, FLAT, kd),
             f"exit {a.returncode} vs {b.returncode}\n{a.stderr[-300:]}")
    case("nothing left in TMPDIR", os.listdir(tmp) == [], os.listdir(tmp))

    # a page descriptor claiming more than a block, in both files
    rear = bytearray(rearrange(data))
    bs, sub, bmp = struct.unpack_from("<iiI", rear, 428)
    bm2 = (1 + sub) * bs + bmp // 2 * bs
    desc = (1 + sub + bmp) * bs
    g = json.loads(run(kd, "-j", "gfn", "0x1000").stdout)
    pfn = int(g["walks"][0]["walk"][-1]["table_pa"], 16) >> 12
    r = sum(bin(b).count("1") for b in rear[bm2:bm2 + pfn // 8])
    r += bin(rear[bm2 + pfn // 8] & ((1 << (pfn % 8)) - 1)).count("1")
    at = desc + 24 * r + 8
    struct.pack_into("<I", rear, at, 0x10000)
    flat = bytearray(data)
    hits = [(off, src) for off, src, size in records(data) if off <= at and at + 4 <= off + size]
    for off, src in hits:
        struct.pack_into("<I", flat, src + at - off, 0x10000)
    fb, kb = os.path.join(d, "bad.flat"), os.path.join(d, "bad.kdump")
    with open(fb, "wb") as f:
        f.write(flat)
    with open(kb, "wb") as f:
        f.write(rear)
    a, b = run(fb, "gfn", "0x1000", tmp=tmp), run(kb, "gfn", "0x1000")
    case("a damaged descriptor in a flattened dump: the same answer as in the rearranged file",
         hits and a.returncode == b.returncode and a.returncode & 2
         and same_but_path(a.stdout + a.stderr, b.stdout + b.stderr, fb, kb)
         and "65536 bytes for a 4096-byte page" in a.stdout + a.stderr,
         f"exit {a.returncode} vs {b.returncode}\n{a.stdout[-300:]}{a.stderr[-300:]}")
sys.exit(done())
