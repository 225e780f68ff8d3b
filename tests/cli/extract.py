#!/usr/bin/env python3
"""extract: a KVM-only kdump of a fixture gives the same answers as the
fixture and holds no guest frame.

  extract.py SPTE_INSPECT FIXTURE_DIR DUMP [KDUMP_INJECT]

1. `extract OUT`; every command, text and JSON, on OUT equals the same
   command on the fixture, the dump's own name, format and extract lines
   aside: summary, info, vms, memslots, roots, sptes (and a bit filter), check,
   gfn walks of every leaf's gfn and every memslot's first gfn, dis of the KVM
   functions offset recovery reads and of every CPU's saved RIP, and the exit
   status of each.
2. OUT's page bitmap (parsed here, from the kdump format) holds no frame that
   an SPTE leaf maps (a huge leaf: all of its frames) and no page the VMM's
   pagemap listed (ground-truth.json), and such a page reads as "not in this
   extract" (an error, exit bit 4 for __rd64), never as zeros.
3. `info` says what it was cut from (text and JSON).
4. --with-gfn LO-HI keeps exactly the frames of those gfns.
5. (with KDUMP_INJECT, kdump files) what the analysis could not read when
   the extract was cut -- here a page table dropped from a copy of the dump --
   is recorded in the extract and reported as incomplete by every analysis of
   it (the path a live host's unsettled objects take).
Prints the sizes for the README.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import jsondoc
from tap import check, done, triple_runner

BIN, FIXDIR, DUMP = sys.argv[1:4]
run = triple_runner(BIN)


def norm_text(out):
    return "\n".join(l for l in out.splitlines()
                     if not l.startswith(("dump:", "format:", "extract:")))


def norm_json(out):
    d = jsondoc.load(out)
    for k in ("dump", "format", "flattened", "extract"):
        d.pop(k, None)
    return d


def stored_pfns(path):
    """pfns whose bit is set in bitmap 2 of a kdump-compressed file."""
    with open(path, "rb") as f:
        h = f.read(4096)
        assert h[:8] == b"KDUMP   "
        bs, sub, bmblocks = struct.unpack_from("<iiI", h, 428)
        f.seek((1 + sub) * bs + bmblocks * bs // 2)
        bm = f.read(bmblocks * bs // 2)
    out = set()
    for i, byte in enumerate(bm):
        if byte:
            for b in range(8):
                if byte >> b & 1:
                    out.add(i * 8 + b)
    return out


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "kvm-only.kdump")
    rc, o, e = run(DUMP, "extract", out)
    check(rc == 0 and os.path.exists(out), f"extract: exit {rc} {e.strip()}")
    rc, jo, e = run("-j", DUMP, "extract", os.path.join(tmp, "again.kdump"))
    ext = jsondoc.load(jo)
    check(rc == 0 and ext["pages"] > 0 and ext["bytes"] == os.path.getsize(os.path.join(tmp, "again.kdump")),
          f"extract -j: {ext['pages']} pages, {ext['bytes']} bytes")
    src, size = os.path.getsize(DUMP), os.path.getsize(out)
    print(f"SIZE {os.path.basename(FIXDIR)}: {DUMP} {src} bytes -> extract {size} bytes "
          f"({100.0 * size / src:.1f}%), {ext['pages']} pages")
    check(size < src // 4, f"extract is small: {size} of {src} bytes")

    # ---- 1. same answers
    sp = jsondoc.load(run("-j", DUMP, "sptes")[1])["sptes"]
    leaves = [s for s in sp if s.get("leaf")]
    ms = jsondoc.load(run("-j", DUMP, "memslots")[1])["memslots"]
    gfns = sorted({s["gfn"] for s in leaves} | {m["base_gfn"] for m in ms})
    cmds = [["summary"], ["info"], ["vms"], ["memslots"], ["roots"], ["sptes"], ["sptes", "W=1,D=0"],
            ["check"], ["dis", "cpu0"]]
    cmds += [["gfn", hex(g)] for g in gfns[:16]]
    for fn in ("make_spte", "tdp_iter_start", "tdp_mmu_init_sp", "gfn_to_memslot", "mark_page_dirty_in_slot",
               "kvm_vm_ioctl", "vm_stat_clear", "kvm_tdp_mmu_put_root", "kvm_dirty_ring_push"):
        cmds.append(["dis", "kvm:" + fn])
    for c in cmds:
        for js in (False, True):
            a = run(*(["-j"] if js else []), DUMP, *c)
            b = run(*(["-j"] if js else []), out, *c)
            if js and a[0] < 4 and b[0] < 4:
                same = norm_json(a[1]) == norm_json(b[1])
            else:
                same = norm_text(a[1]) == norm_text(b[1])
            same = same and a[0] == b[0] and a[2] == b[2].replace(out, DUMP)
            check(same, f"{'-j ' if js else ''}{' '.join(c)}: same on the extract (exit {a[0]})")
            if not same:
                print("   original:", a[0], a[1][:300], a[2][:300])
                print("   extract: ", b[0], b[1][:300], b[2][:300])
    # the checks with their evidence, every one enabled, at the lowest floor
    a = norm_json(run("-j", DUMP, "check", "--severity", "info")[1])
    b = norm_json(run("-j", out, "check", "--severity", "info")[1])
    check(a == b, f"check --severity info: {len(a['findings'])} findings, same evidence")

    # ---- 2. no guest frame
    stored = stored_pfns(out)
    guest = set()
    for s in leaves:
        n = 512 ** (s["level"] - 1)
        guest.update(range(s["pfn"], s["pfn"] + n))
    gt = json.load(open(os.path.join(FIXDIR, "ground-truth.json")))
    vmm = {p["host_pfn"] for vm in gt["vms"] for p in vm["pages"] if p["host_present"]}
    check(not (stored & guest), f"no frame of the {len(leaves)} leaves ({len(guest)} frames) is stored")
    check(not (stored & vmm), f"no page of the VMM's pagemap ({len(vmm)} pfns) is stored")
    check(len(stored) == ext["pages"], f"bitmap holds {len(stored)} pages, as extract said")
    info = jsondoc.load(run("-j", DUMP, "info")[1])
    pob = int(info["page_offset_base"], 16)
    small = [s for s in leaves if s["level"] == 1]
    probe = small[0]["pfn"] if small else sorted(guest)[0]
    rc, o2, e2 = run(out, "__rd64", hex(pob + probe * 4096))
    check(rc & 4 and "not in this extract" in e2 and not o2,
          f"guest frame 0x{probe:x} reads as not in this extract (exit {rc}: {e2.strip()})")
    rc, o1, _ = run(DUMP, "__rd64", hex(pob + probe * 4096))
    check(rc == 0, "... and reads on the original")

    # ---- 3. info
    rc, t, _ = run(out, "info")
    check(f"cut from {DUMP}" in t, "info says what it was cut from")
    ji = jsondoc.load(run("-j", out, "info")[1])
    check(ji.get("extract", {}).get("from") == DUMP and ji["extract"]["pages"] == len(stored),
          "info -j: extract.from, extract.pages")
    check("extract" not in info, "info -j on the original: no extract record")

    # ---- 4. --with-gfn
    g0 = small[0]["gfn"] if small else leaves[0]["gfn"]
    want = {s["pfn"] + (g - s["gfn"]) for s in leaves for g in range(g0, g0 + 2)
            if s["gfn"] <= g < s["gfn"] + 512 ** (s["level"] - 1)}
    out2 = os.path.join(tmp, "with.kdump")
    rc, _, e = run(DUMP, "extract", out2, "--with-gfn", f"{g0:#x}-{g0 + 1:#x}")
    st2 = stored_pfns(out2)
    check(rc == 0 and st2 & guest == want and want,
          f"--with-gfn 0x{g0:x}-0x{g0 + 1:x}: exactly those {len(want)} frames stored")
    a = run(DUMP, "__rd64", hex(pob + probe * 4096 + 8))
    b = run(out2, "__rd64", hex(pob + probe * 4096 + 8))
    check(probe not in want or a[1] == b[1], "... and they read as on the original")
    ji = jsondoc.load(run("-j", out2, "info")[1])
    check(ji["extract"]["with_gfn"] == f"{g0:#x}-{g0 + 1:#x}", "info records --with-gfn")
    # an extract of the extract: the same again
    out3 = os.path.join(tmp, "twice.kdump")
    rc, _, _ = run(out, "extract", out3)
    check(rc == 0 and stored_pfns(out3) <= stored and norm_json(run("-j", out3, "sptes")[1]) ==
          norm_json(run("-j", DUMP, "sptes")[1]), "an extract of the extract: same SPTEs, no new page")
    rc, _, e = run(DUMP, "extract", DUMP)
    check(rc == 8 and "the dump itself" in e, f"extract onto the dump itself: refused, exit {rc}")

    # ---- 5. incomplete parts are recorded and reported
    if len(sys.argv) > 4 and open(DUMP, "rb").read(8) == b"KDUMP   ":
        table = next(s for s in sp if s["kind"] == "present" and not s["leaf"] and s["level"] == 2)
        damaged = os.path.join(tmp, "dropped.kdump")
        subprocess.run([sys.executable, sys.argv[4], DUMP, damaged, "--drop-pfn", hex(table["pfn"])],
                       check=True, capture_output=True)
        out4 = os.path.join(tmp, "from-damaged.kdump")
        rc, jo, e = run("-j", damaged, "extract", out4)
        rec = jsondoc.load(jo)["extract_incomplete"] if rc < 4 else []
        check(rc == 2 and any(f"{table['pfn']:x}" in m for m in rec),
              f"extract of a dump missing table 0x{table['pfn']:x}: exit 2, recorded ({len(rec)} notes)")
        rc, jo, e = run("-j", out4, "vms")
        inc = jsondoc.load(jo)["incomplete"] if rc < 4 else []
        check(rc & 2 and any(m.startswith("recorded when extracted:") for m in inc),
              f"the extract reports them as incomplete (exit {rc})")
        ji = jsondoc.load(run("-j", out4, "info")[1])
        check(ji["extract"]["incomplete"] == len(rec), "info: extract.incomplete counts them")

sys.exit(done())
