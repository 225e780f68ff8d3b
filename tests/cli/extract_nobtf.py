#!/usr/bin/env python3
"""extract without type info: a copy of the fixture has every module's BTF
destroyed (and, second stage, vmlinux's too), as recover.py does, so kvm's
layout is recovered from kvm.ko's machine code.  The KVM-only extract of that
copy must hold the code recovery reads: on the extract, with no other file,
the offsets are recovered again (info's "recovered" report equal to the
copy's), every command (vms, memslots, roots, sptes, check, summary) gives the
same JSON and exit status as on the copy, and no frame an SPTE leaf maps (by
the dump with its type info) is stored.  A kernel without module BTF (5.10)
is the first stage as it is.
Usage: extract_nobtf.py BINARY DUMP INJECTOR"""
import os
import struct
import subprocess
import sys
import tempfile

import jsondoc
import recover
from tap import case, done

COMMANDS = ["vms", "memslots", "roots", "sptes", "check", "summary"]


def doc(dump, *args):
    p = subprocess.run([BIN, "-j", dump, *args], capture_output=True, text=True, timeout=300)
    if p.returncode < 0:
        raise AssertionError(f"{args}: killed by signal {-p.returncode}")
    try:
        d = jsondoc.load(p.stdout)
    except ValueError:
        d = None
    if isinstance(d, dict):
        for k in ("dump", "format", "flattened", "extract"):
            d.pop(k, None)
        # what the copy's analysis found incomplete the extract records,
        # and says again
        txt = lambda m: m["text"] if isinstance(m, dict) else m
        if isinstance(d.get("incomplete"), list):
            texts = {txt(m) for m in d["incomplete"]}
            p_ = "recorded when extracted: "
            d["incomplete"] = [m for m in d["incomplete"]
                               if not (txt(m).startswith(p_) and txt(m)[len(p_):] in texts)]
    return p.returncode, d, p.stderr


def stored_pfns(path):
    """pfns whose bit is set in bitmap 2 of a kdump-compressed file."""
    with open(path, "rb") as f:
        h = f.read(4096)
        bs, sub, bmblocks = struct.unpack_from("<iiI", h, 428)
        f.seek((1 + sub) * bs + bmblocks * bs // 2)
        bm = f.read(bmblocks * bs // 2)
    return {i * 8 + b for i, byte in enumerate(bm) if byte for b in range(8) if byte >> b & 1}


def leaf_frames(dump):
    """The host frames the SPTE leaves map, by the dump with its type info
    (both MMUs' leaves)."""
    frames = set()
    for s in (doc(dump, "sptes")[1] or {}).get("sptes", []):
        if s.get("leaf") and s["kind"] == "present":
            frames.update(range(s["pfn"], s["pfn"] + 512 ** (s["level"] - 1)))
    return frames


def stage(hidden, out, label, guest):
    p = subprocess.run([BIN, hidden, "extract", out], capture_output=True, text=True, timeout=600)
    case(f"{label}: extract written", p.returncode == 0 and os.path.exists(out),
         f"exit {p.returncode}: {p.stderr}")
    if not os.path.exists(out):
        return
    a, b = doc(hidden, "info"), doc(out, "info")
    ra, rb = (a[1] or {}).get("recovered") or {}, (b[1] or {}).get("recovered") or {}
    case(f"{label}: on the extract the offsets are recovered from code again",
         rb.get("used") is True and "machine code" in rb.get("method", ""), str(rb)[:300])
    case(f"{label}: the same members, offsets and functions as on the copy",
         ra.get("members") == rb.get("members") and ra.get("not_recovered") == rb.get("not_recovered")
         and ra.get("members"), f"{len(ra.get('members') or [])} vs {len(rb.get('members') or [])}")
    for cmd in COMMANDS:
        x, y = doc(hidden, cmd), doc(out, cmd)
        case(f"{label}: {cmd}: same JSON and exit status as on the copy",
             x[0] == y[0] and x[1] == y[1] and x[1] is not None,
             f"exit {x[0]} vs {y[0]}: {y[2][:300]}")
    stored = stored_pfns(out)
    case(f"{label}: no frame of the leaves stored ({len(guest)} frames, {len(stored)} pages stored)",
         guest and not stored & guest)
    src = os.path.getsize(hidden)
    print(f"# SIZE {label}: {os.path.getsize(out)} of {src} bytes")
    case(f"{label}: the extract is small", os.path.getsize(out) < src // 4,
         f"{os.path.getsize(out)} of {src} bytes")


def main():
    global BIN
    BIN, dump, inject = sys.argv[1:4]
    recover.BIN, recover.INJECT = BIN, inject
    guest = leaf_frames(dump)
    with tempfile.TemporaryDirectory() as tmp:
        hidden = os.path.join(tmp, "nobtf.kdump")
        k = recover.hide_btf(dump, hidden)
        stage(hidden, os.path.join(tmp, "nobtf.extract"),
              f"module BTF destroyed ({k} modules)" if k else "no module BTF in this kernel", guest)
        if k:
            both = os.path.join(tmp, "nobtf-vmlinux.kdump")
            recover.hide_btf(dump, both, vmlinux=True)
            os.unlink(hidden)
            stage(both, os.path.join(tmp, "nobtf-vmlinux.extract"), "module and vmlinux BTF destroyed", guest)
    return done()


if __name__ == "__main__":
    sys.exit(main())
