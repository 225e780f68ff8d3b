#!/usr/bin/env python3
"""S19 and kvm->arch.mmu_page_hash on one fixture.
Oracle: every VM's hash as spte-inspect reads it (__hash: bucket, chain
order, kvm_mmu_page) equals the oracle's (fixtures/oracle.py, drgn + DWARF);
every shadow page of the oracle (active_mmu_pages, zapped_obsolete_pages, a
root only a vCPU holds) is hashed exactly once, on bucket hash_64(gfn, 12)
computed here; the clean dump gives no S19 finding and no S19 note.
Injected (tools/kdump-inject.py, on kdump fixtures with shadow pages): a page
unlinked from its bucket, a page moved to an empty bucket, another VM's page
linked at a bucket's end, a bucket whose last node links back to its first:
S19 names exactly that page and gfn (inconclusive under a held mmu_lock; the
foreign page also ends the bucket's
walk: a note too, exit 3; the loop: no finding, a note, exit 2).
Usage: hash_test.py BINARY FIXTURE_DIR INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

from tap import case, done, dump_of, runner

GOLDEN_RATIO_64 = 0x61C8864680B583EB


def bucket_of(gfn, shift=12):
    return ((gfn * GOLDEN_RATIO_64) & (2 ** 64 - 1)) >> (64 - shift)


def read_hash(run, dump):
    """{kvm: {"state", "nbuckets", "addr", "off", "entries": [(bucket, pos, sp, pprev_ok, list)]}}"""
    out = {}
    for line in run(dump, "__hash").stdout.splitlines():
        w = line.split()
        if w[0] == "hash":
            out[w[1]] = {"state": w[2], "nbuckets": int(w[3]), "addr": int(w[4], 16), "off": int(w[5]),
                         "ncut": int(w[6]), "entries": []}
        elif w[0] == "count":
            out[w[1]]["count_from"] = " ".join(w[2:])
        elif w[0] == "entry":
            out[w[1]]["entries"].append((int(w[2]), int(w[3]), w[4], w[5] == "1", w[6]))
    return out


def s19(doc):
    return sorted((f["check"], f["gfn"], f["level"]) for f in doc["findings"] if f["check"] == "S19")


def main():
    binary, fixture, inject = sys.argv[1:4]
    dump = dump_of(fixture)
    oracle = json.load(open(os.path.join(fixture, "oracle.json")))
    run, jrun = runner(binary)
    mine = read_hash(run, dump)

    pages_of = {}
    for vm in oracle["vms"]:
        k = vm["kvm"]
        sh = vm.get("shadow")
        if sh is None:
            case(f"{k}: oracle without a shadow part; no hash entry read", not mine.get(k, {}).get("entries"),
                 mine.get(k))
            continue
        got = [[b, sp] for b, _, sp, _, _ in mine[k]["entries"]]
        case(f"{k}: mmu_page_hash equals the oracle's ({len(sh['hash'])} entries)", got == sh["hash"],
             f"got {got[:4]}, want {sh['hash'][:4]}")
        pages = {p["sp"]: p for p in sh["pages"]}
        pages_of[k] = pages
        hashed = {}
        for b, sp in sh["hash"]:
            hashed.setdefault(sp, []).append(b)
        bad = [(sp, p["gfn"], hashed.get(sp)) for sp, p in pages.items() if hashed.get(sp) != [bucket_of(p["gfn"])]]
        extra = [sp for sp in hashed if sp not in pages]
        if pages or hashed:
            case(f"{k}: {len(pages)} shadow pages, each hashed once on hash_64(gfn, 12); nothing else hashed",
                 not bad and not extra and all(pp for _, _, _, pp, _ in mine[k]["entries"]), (bad, extra))
    # the bucket count from the dump: the array type, or the pointer era's
    # allocation (an order-3 compound page), never the fallback assumption
    read = {k: h for k, h in mine.items() if h["state"] == "read"}
    case(f"{len(read)} hashes read: 4096 buckets each, counted from the dump",
         all(h["nbuckets"] == 4096 and not h["count_from"].startswith("assumed") for h in read.values()),
         [(k, h["nbuckets"], h.get("count_from")) for k, h in read.items()][:3])
    rc, clean = jrun(dump, "check")
    notes = [n if isinstance(n, str) else n["text"] for n in clean["incomplete"]]
    case("clean dump: no S19 finding, no S19 note", s19(clean) == [] and not [n for n in notes if "S19" in n],
         (s19(clean), notes))

    if not dump.endswith(".kdump") or not any(pages_of.values()):
        case("no shadow page in a kdump fixture: nothing to inject", True)
        return done()

    tmp = tempfile.TemporaryDirectory()
    out = os.path.join(tmp.name, "hash.kdump")

    frames = {}

    def pa(va):
        if va >> 12 not in frames:  # one translation per page
            frames[va >> 12] = int(run(dump, "__vtop", hex(va & ~0xfff)).stdout, 16)
        return frames[va >> 12] + (va & 0xfff)

    def poke(*pokes):
        args = []
        for addr, val in pokes:
            args += ["--u64", f"{pa(addr):#x}={val:#x}"]
        subprocess.run([sys.executable, inject, dump, out] + args, check=True)
        rc, doc = jrun(out, "check")
        return rc, s19(doc), [f for f in doc["findings"] if f["check"] == "S19"], doc

    # the VM with the most hashed pages, and one of its pages last in its bucket
    kvm = max((k for k in pages_of if pages_of[k]), key=lambda k: len(mine[k]["entries"]))
    h = mine[kvm]
    ents = h["entries"]
    by_bucket = {}
    for e in ents:
        by_bucket.setdefault(e[0], []).append(e)
    node = {e[2]: int(e[2], 16) + h["off"] for e in ents}
    head = lambda b: h["addr"] + 8 * b  # noqa: E731
    last = sorted((e for e in ents if e[1] == len(by_bucket[e[0]]) - 1), key=lambda e: (-e[1], e[0]))[0]
    b, pos, sp, _, _ = last
    p = pages_of[kvm][sp]
    want = [("S19", p["gfn"], p["role"]["level"])]
    pred = head(b) if pos == 0 else node[by_bucket[b][pos - 1][2]]  # hlist_node.next is at 0

    rc, got, raw, _ = poke((pred, 0))
    case(f"S19 {kvm}: page {sp} (gfn {p['gfn']:#x}) unlinked from bucket {b}: found there, nothing else",
         rc == 1 and got == want and "not on mmu_page_hash" in raw[0]["message"] and sp in raw[0]["evidence"]
         and f"bucket {b} " in raw[0]["evidence"], (rc, got, want, raw[:1]))

    # the same under a held mmu_lock: inconclusive (a page is freed, or
    # hashed and listed, one step after the other under it), exit 2
    lock = int(kvm, 16) + int(run(dump, "__offset", "kvm.mmu_lock").stdout.split()[0])
    subprocess.run([sys.executable, inject, dump, out, "--u64", f"{pa(pred):#x}=0x0",
                    "--poke", f"{pa(lock):#x}=ff000000"], check=True)
    rc, doc = jrun(out, "check")
    raw = [f for f in doc["findings"] if f["check"] == "S19"]
    case(f"S19 {kvm}: the same with mmu_lock held: inconclusive, exit 2",
         rc == 2 and s19(doc) == want and all(f["inconclusive"] for f in raw)
         and "mmu_lock held" in raw[0]["evidence"], (rc, s19(doc), raw[:1]))

    c = next(x for x in range(h["nbuckets"]) if x not in by_bucket and x != b)
    rc, got, raw, _ = poke((pred, 0), (head(c), node[sp]), (node[sp] + 8, head(c)))
    case(f"S19 {kvm}: page {sp} moved to empty bucket {c}: found, bucket expected and found named",
         rc == 1 and got == want and "wrong" in raw[0]["message"] and sp in raw[0]["evidence"]
         and f"bucket {c} " in raw[0]["evidence"] and f"bucket {b} " in raw[0]["evidence"], (rc, got, want, raw[:1]))

    other = [k for k in pages_of if k != kvm and pages_of[k]]
    if other:
        k2 = other[0]
        sp2 = mine[k2]["entries"][-1][2]
        p2 = pages_of[k2][sp2]
        rc, got, raw, doc = poke((node[sp], int(sp2, 16) + mine[k2]["off"]))
        notes = [n if isinstance(n, str) else n["text"] for n in doc["incomplete"]]
        # the walk stops there (what follows is the other VM's chain): the
        # rest of the bucket is not judged, exit 1 | 2
        case(f"S19 {kvm}: VM {k2}'s page {sp2} (gfn {p2['gfn']:#x}) linked after {sp}: named, nothing else",
             rc == 3 and got == [("S19", p2["gfn"], p2["role"]["level"])] and sp2 in raw[0]["evidence"]
             and raw[0]["kvm"] == kvm and any("does not point back" in n for n in notes), (rc, got, raw[:1], notes))

    first = by_bucket[b][0][2]
    rc, got, raw, doc = poke((node[sp], node[first]))
    notes = [n if isinstance(n, str) else n["text"] for n in doc["incomplete"]]
    case(f"S19 {kvm}: bucket {b} loops: no finding, not judged (a note), exit 2",
         rc == 2 and got == [] and any("met twice" in n and "not judged" in n for n in notes), (rc, got, notes))
    return done()


if __name__ == "__main__":
    sys.exit(main())
