#!/usr/bin/env python3
"""-J/--jobs: read-ahead threads change nothing but speed.  On a real dump,
and on damaged copies of it (a filtered SPTE table, a table entry pointing
past the host's memory), `summary -j`, `sptes -j` and
`check -j` print the same bytes on stdout and stderr, with the same exit
status, with one thread and with four.  The threads run strict
(SPTE_INSPECT_TEST_READAHEAD=strict): every page announced is read by a
worker and none by the caller, so what the workers read, or failed to read,
is what the output is made of.  Also: an extract written with four threads
is the same file (SOURCE_DATE_EPOCH fixing its date); -J's usage errors.
Usage: jobs.py BINARY DUMP KDUMP_INJECT"""
import json
import os
import subprocess
import sys
import tempfile

from tap import case, done

BIN, DUMP, INJECT = sys.argv[1:4]
ENV = dict(os.environ, SPTE_INSPECT_TEST_READAHEAD="strict")
COMMANDS = [["summary"], ["sptes"], ["check"]]


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, env=ENV, timeout=300)
    return p.returncode, p.stdout, p.stderr


def same(dump, what):
    for cmd in COMMANDS:
        one = run("-J", "1", "-j", dump, *cmd)
        four = run("-J", "4", "-j", dump, *cmd)
        case(f"{what}: {cmd[0]}: the same bytes and exit status with 1 and 4 threads "
             f"(exit {one[0]}, {len(one[1])} bytes)", one == four,
             f"1 thread: exit {one[0]}, stderr {one[2][:200]!r}; "
             f"4 threads: exit {four[0]}, stderr {four[2][:200]!r}")
    return one


def inject(out, *args):
    subprocess.run([sys.executable, INJECT, DUMP, out, *args], check=True,
                   capture_output=True, timeout=300)


def main():
    rc, out, _ = run("-J", "1", "-j", DUMP, "sptes")
    sptes = json.loads(out)["sptes"]
    same(DUMP, "the dump")
    # A 4K-leaf table (one its parent announces to the workers) and an
    # entry in it, for the damaged copies; KDUMP_INJECT edits kdump files.
    leaf = next((s for s in sptes if s["level"] == 1), None)
    kdump = open(DUMP, "rb").read(8) == b"KDUMP   "
    if leaf is None or not kdump:
        return done()
    mask = 0xffffffffff000

    def entry(level, gfn):
        span = 1 << (9 * (level - 1))
        return next(s for s in sptes if s["root"] == leaf["root"] and s["level"] == level
                    and s["gfn"] == gfn - gfn % span)
    gfn = leaf["gfn"]
    table = int(entry(2, gfn)["spte"], 0) & mask
    l2_table = int(entry(3, gfn)["spte"], 0) & mask
    pa = l2_table + 8 * ((gfn >> 9) & 511)  # the entry pointing at TABLE
    with tempfile.TemporaryDirectory() as tmp:
        filtered = os.path.join(tmp, "filtered.kdump")
        inject(filtered, "--drop-pfn", hex(table >> 12))
        one = same(filtered, "a leaf table filtered out")
        case("a leaf table filtered out: reported, incomplete", one[0] & 2 and b"filtered" in one[1],
             f"exit {one[0]}")
        wild = os.path.join(tmp, "wild.kdump")
        inject(wild, "--u64", f"{pa:#x}={int(entry(2, gfn)['spte'], 0) & ~mask | 0xfff000000:#x}")
        one = same(wild, "a table pointer past the host's memory")
        case("a table pointer past the host's memory: reported", one[0] & 2 and b"beyond the end" in one[1] + one[2],
             f"exit {one[0]}")
        # an extract: the same file either way
        outs = []
        for jobs in ("1", "4"):
            path = os.path.join(tmp, f"x{jobs}.kdump")
            p = subprocess.run([BIN, "-J", jobs, DUMP, "extract", path], capture_output=True,
                               env=dict(ENV, SOURCE_DATE_EPOCH="1700000000"), timeout=300)
            outs.append((p.returncode, open(path, "rb").read() if p.returncode in (0, 1) else p.stderr))
        case("extract: the same file with 1 and 4 threads", outs[0] == outs[1] and outs[0][0] in (0, 1),
             f"exit {outs[0][0]} / {outs[1][0]}")
        rc, info, _ = run(os.path.join(tmp, "x4.kdump"), "info")
        case("extract: SOURCE_DATE_EPOCH is the date it records", b"on 2023-11-14T22:13:20Z" in info,
             info[:400])
    for bad in ("0", "65", "x", "-1"):
        rc, _, err = run("-J", bad, DUMP, "vms")
        case(f"-J {bad}: usage error", rc == 8 and b"--jobs" in err, f"exit {rc}: {err!r}")
    rc, _, err = run(DUMP, "vms", "--jobs")
    case("--jobs without a value: usage error", rc == 8 and b"needs a number of threads" in err,
         f"exit {rc}: {err!r}")
    return done()


sys.exit(main())
