#!/usr/bin/env python3
"""Hostile dump files (issue 15): damaged copies of a real fixture that once
crashed libkdumpfile, hung, allocated without bound or gave a silently wrong
answer.  Each must end with the documented exit bits and a message in our
words -- no signal, no hang, no exit 0 on a file that lost data -- within the
documented memory.
Usage: hostile.py BINARY KDUMP KDUMP_TO_ELF KDUMP_INJECT"""
import json
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile

import jsondoc
from tap import case, done

# README "Reliability": the documented ceiling (ASan's shadow memory and
# quarantine add their own, so a sanitizer build gets more room)
MAX_RSS_MB = 400 if "ASAN_OPTIONS" in os.environ else 100


def run(*args, timeout=120):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, "", "TIMEOUT (hang)")
    return p


def fatal(name, p, needle):
    """Exit 4, one 'spte-inspect: ' line containing NEEDLE."""
    err = p.stderr.strip().splitlines()
    case(name, p.returncode == 4 and len(err) == 1 and err[0].startswith("spte-inspect: ")
         and needle in err[0], f"exit {p.returncode}, stderr {p.stderr[-600:]!r}")


def incomplete(name, p, needle):
    """Exit with bit 2 (never a signal), NEEDLE in the output or stderr."""
    case(name, p.returncode >= 0 and p.returncode & 2 and not p.returncode & 4
         and needle in p.stdout + p.stderr, f"exit {p.returncode}, stderr {p.stderr[-600:]!r}")


def kdump_layout(data):
    bs, sub, bmp = struct.unpack_from("<iiI", data, 428)
    bm_len = bmp // 2 * bs
    bm2 = (1 + sub) * bs + bm_len
    desc = (1 + sub + bmp) * bs
    return bs, bm2, desc


def desc_at(data, pfn):
    bs, bm2, desc = kdump_layout(data)
    full = pfn // 8
    r = sum(bin(b).count("1") for b in data[bm2:bm2 + full])
    r += bin(data[bm2 + full] & ((1 << (pfn % 8)) - 1)).count("1")
    return desc + 24 * r


def elf_offset(path, pa):
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phnum, = struct.unpack_from("<H", eh, 56)
        f.seek(phoff)
        for _ in range(phnum):
            t, _, off, _, paddr, filesz, _, _ = struct.unpack("<IIQQQQQQ", f.read(56))
            if t == 1 and paddr <= pa < paddr + filesz:
                return off + pa - paddr
    raise AssertionError(f"pa {pa:#x} not in the ELF")


def cut_out_page(path, pa):
    """Splits the PT_LOAD holding page PA in three, the page's own segment
    last in the file after a new program header table; returns the offset
    where that page starts: truncating there loses that page alone."""
    pa &= ~4095
    with open(path, "r+b") as f:
        eh = bytearray(f.read(64))
        phoff, = struct.unpack_from("<Q", eh, 32)
        phnum, = struct.unpack_from("<H", eh, 56)
        f.seek(phoff)
        phs = [list(struct.unpack("<IIQQQQQQ", f.read(56))) for _ in range(phnum)]
        out, page = [], None
        for ph in phs:
            t, fl, off, va, paddr, filesz, memsz, al = ph
            if t != 1 or not paddr <= pa < paddr + filesz:
                out.append(ph)
                continue
            k = pa - paddr
            f.seek(off + k)
            page = f.read(4096)
            if k:
                out.append([t, fl, off, va, paddr, k, k, al])
            if filesz - k - 4096 > 0:
                r = filesz - k - 4096
                out.append([t, fl, off + k + 4096, va + k + 4096, pa + 4096, r, r, al])
            mine = [t, fl, None, pa, pa, 4096, 4096, al]
        assert page is not None, f"pa {pa:#x} not in the ELF"
        out.append(mine)
        end = (os.fstat(f.fileno()).st_size + 4095) // 4096 * 4096
        table = end
        page_off = (table + 56 * len(out) + 4095) // 4096 * 4096
        out[-1][2] = page_off
        f.seek(table)
        for ph in out:
            f.write(struct.pack("<IIQQQQQQ", *ph))
        f.seek(page_off)
        f.write(page)
        struct.pack_into("<Q", eh, 32, table)
        struct.pack_into("<H", eh, 56, len(out))
        f.seek(0)
        f.write(eh)
        return page_off


def module_elf(path, modinfo):
    """A relocatable ELF with .modinfo (NUL-separated key=value) and no .BTF."""
    shstr = b"\0.modinfo\0.shstrtab\0"
    data = modinfo
    off_mi = 64
    off_ss = off_mi + len(data)
    shoff = (off_ss + len(shstr) + 7) // 8 * 8
    eh = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 1, 62, 1, 0,
                     0, shoff, 0, 64, 0, 0, 64, 3, 2)
    sh = [b"\0" * 64,
          struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0, off_mi, len(data), 0, 0, 1, 0),
          struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, off_ss, len(shstr), 0, 0, 1, 0)]
    with open(path, "wb") as f:
        f.write(eh + data + shstr)
        f.write(b"\0" * (shoff - off_ss - len(shstr)))
        f.write(b"".join(sh))


def main():
    global BIN
    BIN, kdump, to_elf, inject = sys.argv[1:5]
    data = open(kdump, "rb").read()
    with tempfile.TemporaryDirectory() as d:
        def write(name, content):
            p = os.path.join(d, name)
            with open(p, "wb") as fh:
                fh.write(content)
            return p

        # the first table page of the first root: where damage bites
        g = json.loads(run("-j", kdump, "gfn", "0x1000").stdout)
        walk = g["walks"][0]["walk"]
        table_pa = int(walk[-1]["table_pa"], 16)

        # --- hangs
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        fatal("a FIFO as DUMP is refused at once", run(fifo, timeout=20), "not a regular file (a FIFO)")
        fatal("/dev/zero is refused", run("/dev/zero", timeout=20), "a character device")

        # --- kdump: headers bounded by the file
        bad = bytearray(data)
        size_note, = struct.unpack_from("<Q", bad, 4096 + 56)
        struct.pack_into("<Q", bad, 4096 + 56, size_note | 1 << 32)
        p = run(write("size_note.kdump", bad), "vms")
        fatal("kdump: size_note bit flip is a clear error", p, "beyond the file's")
        bad = bytearray(data)
        struct.pack_into("<i", bad, 432, 0x7fff0000)
        fatal("kdump: sub-header size past the file", run(write("subhdr.kdump", bad)), "truncated at byte")
        # found by the kdump fuzz target: a VMCOREINFO key split at a '.'
        bad = bytearray(data)
        off_vmci, = struct.unpack_from("<Q", bad, 4096 + 32)
        i = bad.find(b"\nOFFSET(uts_namespace.name)=", off_vmci)
        bad[i + 1:i + 3] = b"\n."
        fatal("kdump: a VMCOREINFO key with a stray '.'", run(write("vmci.kdump", bad)), "not KEY=VALUE")
        bad = bytearray(data)
        struct.pack_into("<i", bad, 428, 0)
        fatal("kdump: block size 0", run(write("bs0.kdump", bad)), "block size 0")
        bad = bytearray(data)
        struct.pack_into("<Q", bad, 4096 + 96, 1 << 40)
        fatal("kdump: max_mapnr_64 beyond its bitmaps", run(write("mapnr.kdump", bad)), "max_mapnr")

        # --- kdump: page descriptors checked before libkdumpfile reads the page
        at = desc_at(data, table_pa >> 12)
        for name, size, flags, needle in (
                ("larger than a block", 0x10000, 1, "65536 bytes for a 4096-byte page"),
                ("of size 0", 0, 1, "0 bytes"),
                ("with unknown flags", 4096, 0x40, "unknown flags 0x40"),
                ("uncompressed but short", 100, 0, "stored uncompressed")):
            bad = bytearray(data)
            struct.pack_into("<II", bad, at + 8, size, flags)
            p = run(write("desc.kdump", bad), "gfn", "0x1000")
            incomplete(f"kdump: a page descriptor {name} makes that page unreadable", p,
                       "damaged page descriptor")
            case(f"kdump: ... and says which ({name})", needle in p.stdout + p.stderr,
                 p.stdout[-400:] + p.stderr[-400:])
        # damaged descriptors all over the table, in every share of the threads
        # that check it at opening: the same answer with one thread and four
        bad = bytearray(data)
        _, bm2, desc0 = kdump_layout(data)
        ndesc = sum(bin(b).count("1") for b in data[bm2:desc0])
        ats = sorted({desc0 + 24 * (ndesc * k // 8) for k in range(8)} | {at})
        for a in ats:
            struct.pack_into("<II", bad, a + 8, 0, 1)
        path = write("descs.kdump", bad)
        p1, p4 = run("-J1", path, "-j", "gfn", "0x1000"), run("-J4", path, "-j", "gfn", "0x1000")
        case(f"kdump: {len(ats)} damaged descriptors found alike by one thread and four",
             p1.returncode == p4.returncode and p1.stdout == p4.stdout and
             f"{len(ats)} damaged page descriptors" in p1.stdout + p1.stderr,
             f"exit {p1.returncode} / {p4.returncode}: {(p1.stdout + p1.stderr)[-400:]}")
        bad = bytearray(data)
        struct.pack_into("<q", bad, at, len(data) - 10)
        p = run(write("descoff.kdump", bad), "gfn", "0x1000")
        incomplete("kdump: a page past the end of the file is unreadable", p, "past the end of the file")

        # --- --module: bad files are errors, never a crash; another kernel's refused
        rel = json.loads(run("-j", kdump, "info").stdout)
        release = next(v for k, v in rel.items() if k in ("release", "kernel", "osrelease"))
        fatal("--module missing", run("--module", os.path.join(d, "nope.ko"), kdump, "vms"),
              "No such file")
        fatal("--module not ELF", run("--module", write("text.ko", b"hello\n"), kdump, "vms"),
              "not an ELF file, so not a kernel module")
        fatal("--module a directory", run("--module", d, kdump, "vms"), "not a regular file")
        ko = os.path.join(d, "kvm.ko")
        module_elf(ko, f"vermagic={release} SMP preempt mod_unload modversions\0".encode())
        fatal("--module without BTF", run("--module", ko, kdump, "vms"), "no .BTF section")
        module_elf(ko, b"license=GPL\0vermagic=5.10.0-99-amd64 SMP mod_unload modversions\0")
        p = run("--module", ko, kdump, "vms")
        case("--module of another kernel is a usage error naming both",
             p.returncode == 8 and "a module of kernel 5.10.0-99-amd64, but the dump is of " + release
             in p.stderr, f"exit {p.returncode} {p.stderr!r}")

        # --- exit bit 2 and the "incomplete" list agree, in every command
        dropped = os.path.join(d, "drop.kdump")
        subprocess.run([sys.executable, inject, kdump, dropped, "--drop-pfn", hex(table_pa >> 12)],
                       check=True)
        for cmd in ("gfn", "sptes", "check", "summary", "roots", "vms", "memslots"):
            args = [cmd] + (["0x1000"] if cmd == "gfn" else [])
            p = run("-j", dropped, *args)
            try:
                inc = jsondoc.load(p.stdout)["incomplete"]
            except (ValueError, KeyError):
                inc = None
            case(f"a filtered table page: {cmd}'s exit bit 2 and its incomplete list agree",
                 p.returncode >= 0 and inc is not None and bool(p.returncode & 2) == bool(inc),
                 f"exit {p.returncode}, incomplete {inc!r}")

        # --- a memslot rb-tree whose child points at itself: a cycle, said at once
        ms = json.loads(run("-j", kdump, "memslots").stdout)["memslots"]
        slot = next(m for m in ms if m["id"] == 1 and m["as_id"] == 0)
        va = int(slot["memslot"], 16)
        info = json.loads(run("-j", kdump, "info").stdout)
        pa = va - int(info["page_offset_base"], 16)
        # struct kvm_memory_slot (6.1/6.12): gfn_node[2] at 128, rb_right at +8
        cyc = os.path.join(d, "rbself.kdump")
        subprocess.run([sys.executable, inject, kdump, cyc,
                        "--u64", f"{pa + 128 + 8:#x}={va + 128:#x}",
                        "--u64", f"{pa + 152 + 8:#x}={va + 152:#x}"], check=True)
        p = run("-j", cyc, "memslots")
        incomplete("memslot rb-tree cycle: incomplete, named a cycle", p, "(a cycle)")
        case("... with no duplicate slots", len(p.stdout) < 20000 and p.returncode >= 0 and
             len(json.loads(p.stdout)["memslots"]) <= len(ms), f"{len(p.stdout)} bytes of output")

        # --- --check of any length: nothing dropped silently
        p = run("--check", ",".join(["S1"] * 200 + ["NOPE"]), kdump, "check")
        case("--check longer than 511 characters: its last name is still read",
             p.returncode == 8 and "unknown check 'NOPE'" in p.stderr, f"exit {p.returncode} {p.stderr!r}")

        # --- not dumps, in our words
        fatal("random bytes: not a crash dump", run(write("rnd", os.urandom(65536))),
              "not a crash dump (neither kdump nor ELF)")
        cut = data[:len(data) // 2]
        p = run(write("half.kdump", cut), "check")
        case("kdump cut in half: incomplete or fatal, saying truncated",
             p.returncode >= 0 and p.returncode & 6 and "truncated at byte" in p.stdout + p.stderr,
             f"exit {p.returncode} {p.stderr[-400:]!r}")
        case("... and no libkdumpfile wording", "Decompresion" not in p.stdout + p.stderr
             and "file.set" not in p.stderr, p.stderr[-400:])

        # --- ELF
        elf = os.path.join(d, "vmcore.elf")
        subprocess.run([sys.executable, to_elf, kdump, elf], check=True)
        head = open(elf, "rb").read(1 << 16)
        bad = bytearray(head)
        struct.pack_into("<H", bad, 54, 0)
        fatal("ELF: e_phentsize 0 is refused", run(write("phent0.elf", bad)), "program headers of 0 bytes")
        bad = bytearray(head)
        struct.pack_into("<Q", bad, 40, 0x1234)
        fatal("ELF: section headers where there are none", run(write("shoff.elf", bad)), "section headers")
        i = head.find(b"PAGESIZE=4096")
        assert i > 0
        with open(elf, "r+b") as f:
            f.seek(i)
            f.write(b"PAGESIZE=0000")
        fatal("ELF: VMCOREINFO PAGESIZE=0000 is refused", run(elf), "PAGESIZE=0000")
        with open(elf, "r+b") as f:
            f.seek(i)
            f.write(b"PAGESIZE=4096")
            f.seek(i + 4)
            f.write(b"\0\n")
        fatal("ELF: VMCOREINFO with a NUL inside is refused", run(elf), "not KEY=VALUE")
        with open(elf, "r+b") as f:
            f.seek(i + 4)
            f.write(b"ZE")
        # truncated where the first root's last table page lies, that page
        # moved to the end of the file first (the kernel stays readable)
        cut_at = cut_out_page(elf, table_pa)
        os.truncate(elf, cut_at)
        for cmd in ("check", "sptes", "gfn"):
            args = [cmd] + (["0x1000"] if cmd == "gfn" else [])
            p = run("-j", elf, *args)
            incomplete(f"ELF truncated: {cmd} is incomplete", p, "truncated at byte")
            try:
                inc = jsondoc.load(p.stdout).get("incomplete", [])
            except ValueError:
                inc = []
            case(f"ELF truncated: {cmd}'s JSON says incomplete with the byte counts",
                 any(re.search(r"truncated at byte \d+: .* bytes of memory are missing", s) for s in inc),
                 repr(inc)[:400])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    case(f"every run within {MAX_RSS_MB} MB (peak {peak} MB)", peak <= MAX_RSS_MB)
    return done()


if __name__ == "__main__":
    sys.exit(main())
