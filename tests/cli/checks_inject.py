#!/usr/bin/env python3
"""Every check that can fire is shown to fire on a real dump: a fault is
injected into a copy of a fixture with tools/kdump-inject.py, and `check`
must report exactly that fault -- the right check id at the injected gfn, with
its evidence -- and nothing else.  Documented exceptions are shown not to fire.
Usage: checks_inject.py BINARY DUMP INJECTOR"""
import json

import jsondoc
import os
import re
import subprocess
import sys
import tempfile

from tap import case, done, runner


def key(f):
    return (f["check"], f["gfn"], f["level"])


def main():
    global BIN, run, jrun
    BIN, dump, inject = sys.argv[1:4]
    run, jrun = runner(BIN)
    tmp = tempfile.TemporaryDirectory()

    def damaged(name, *args):
        out = os.path.join(tmp.name, name)
        subprocess.run([sys.executable, inject, dump, out, *args], check=True)
        return out

    def offset(spec):
        return int(run(dump, "__offset", spec).stdout.split()[0])

    def vtop(va):
        return int(run(dump, "__vtop", hex(va)).stdout, 16)

    rc, clean = jrun(dump, "check")
    case("clean fixture: no findings, exit 0", rc == 0 and clean["findings"] == [],
         (rc, clean["findings"][:3]))
    rc, listing = jrun("--list-checks")
    case("--list-checks documents every check",
         rc == 0 and all(c["doc"] and c["title"] for c in listing["checks"]), rc)

    # One VM of the dump (a fixture may hold several): the one with the most leaves.
    # A VM that runs a nested guest has shadow pages (S15 joins faults over
    # the gfns they shadow) and two spaces (L2 gfns): those are
    # shadow_inject.py's; the faults here go into a VM without one.
    vms_ = jrun(dump, "vms")[1]["vms"]
    # (L2's roots: role.guest_mode, or held in guest_mmu where 5.10 leaves it 0)
    nested = {r["kvm"] for r in jrun(dump, "roots")[1]["roots"]
              if r["guest_mode"] or (r.get("held_by") or {}).get("mmu") == "guest_mmu"}
    vms_ = [v for v in vms_ if v["kvm"] not in nested]
    if not vms_:
        print("ok - every VM of this fixture runs a nested guest: see shadow_inject.py")
        return 0
    allsptes = jrun(dump, "sptes")[1]["sptes"]
    kvm0 = max(vms_, key=lambda v: sum(1 for e in allsptes if e["kvm"] == v["kvm"]))["kvm"]
    sptes = [e for e in allsptes if e["kvm"] == kvm0]
    slots = [s_ for s_ in jrun(dump, "memslots")[1]["memslots"] if s_["kvm"] == kvm0]
    leaves = [e for e in sptes if e["kind"] == "present" and e["leaf"] and e["level"] == 1]

    def slot_of(gfn):
        return next(s for s in slots if s["base_gfn"] <= gfn < s["base_gfn"] + s["npages"])

    def entry_pa(e):
        w = jrun(dump, "gfn", hex(e["gfn"]), "--root", e["root"])[1]
        return int(w["walks"][0]["walk"][-1]["entry_pa"], 16)

    def findings(path, *extra):
        rc, doc = jrun(path, "check", *extra)
        return rc, doc["findings"]

    def expect(name, path, want, evidence_re=None, rc_want=1):
        rc, got = findings(path)
        keys = sorted(key(f) for f in got if not f["inconclusive"])
        case(f"{name}: exactly {want}", keys == sorted(want) and rc == rc_want,
             f"rc {rc}, got {keys}")
        if evidence_re:
            ev = [f["evidence"] for f in got]
            case(f"{name}: evidence", any(re.search(evidence_re, x) for x in ev), ev)
        return got

    logged = [e for e in leaves if slot_of(e["gfn"])["flags"] & 1 and e["writable"]]
    plain = [e for e in leaves if not slot_of(e["gfn"])["flags"] & 1 and e["writable"] and
             e["host_writable"]]
    zero = sorted((e for e in sptes if e["kind"] == "present" and e["leaf"] and
                   not e["host_writable"]), key=lambda e: slot_of(e["gfn"])["flags"] & 1)

    # D2: the live dirty bitmap loses the bit of a writable logged gfn.
    if logged:
        e = logged[0]
        s = slot_of(e["gfn"])
        rel = e["gfn"] - s["base_gfn"]
        word_va = int(s["dirty_bitmap"], 16) + rel // 64 * 8
        bit_pa = vtop(word_va) + (rel % 64) // 8
        # Clearing the whole byte drops up to 8 neighbouring gfns' bits too.
        x = damaged("d2a", "--poke", f"{bit_pa:#x}=00")
        got = findings(x)[1]
        others = {f["gfn"] for f in got if f["check"] == "D2"}
        case("D2 fires for every gfn whose bit was cleared, and for nothing else",
             e["gfn"] in others and all(f["check"] == "D2" for f in got) and
             all(slot_of(g)["base_gfn"] + ((rel // 8) * 8) <= g <
                 slot_of(g)["base_gfn"] + ((rel // 8) * 8) + 8 for g in others),
             [key(f) for f in got])
        ev = [f["evidence"] for f in got if f["gfn"] == e["gfn"]]
        case("D2 evidence names the bitmap word", ev and f"{word_va:#x}" in ev[0], ev)
        # Exception: with mmu_lock write-held (a harvest in progress) it is inconclusive.
        lock_pa = vtop(int(kvm0, 16) + offset("kvm.mmu_lock"))
        x = damaged("d2lock", "--poke", f"{bit_pa:#x}=00", "--poke", f"{lock_pa:#x}=ff000000")
        rc, got = findings(x)
        case("D2 under a held mmu_lock: inconclusive, exit 2, no finding",
             rc == 2 and got and all(f["inconclusive"] for f in got), (rc, [key(f) for f in got]))
        # Exception: invalid roots are not judged for dirty logging.
        root = e["root"]
        rootinfo = [r for r in jrun(dump, "roots")[1]["roots"] if r["sp"] == root][0]
        inv = run(dump, "__offset", "kvm_mmu_page.role.invalid", "kvm_mmu_page.role")
        inv_byte, inv_bit = (int(x) for x in inv.stdout.split()[:2])
        role_byte = int(inv.stdout.split()[4])
        role = int(rootinfo["role"], 16) | (1 << ((inv_byte - role_byte) * 8 + inv_bit))
        role_pa = vtop(int(root, 16) + offset("kvm_mmu_page.role"))
        x = damaged("d2inv", "--poke", f"{bit_pa:#x}=00", "--poke",
                    f"{role_pa:#x}={role.to_bytes(4, 'little').hex()}")
        rc, got = findings(x)
        case("D2 on an invalid root: not reported", not any(f["check"] == "D2" for f in got),
             [key(f) for f in got])

    # S2: W=1 but MMU-writable cleared (its bit from the dump's masks: bit 10
    # on NPT from 5.13, bit 11 before).
    masks = jrun(dump, "info")[1]["masks"]
    mmu_w = int(masks["shadow_mmu_writable_mask"], 16)
    # 5.10's aging (age_gfn_range) clears D and leaves W: there D7 is no
    # fingerprint and is not judged; read from the dump's own code.
    lines = run(dump, "dis", "kvm:age_gfn_range", "400").stdout.splitlines()
    aging_clears_d = any("<shadow_dirty_mask" in l and "mov" in l and
                         any(re.search(r"\bnot\s+" + l.split(",")[0].split()[-1] + r"$", m)
                             for m in lines[i + 1:i + 4])
                         for i, l in enumerate(lines))
    if plain:
        e = plain[0]
        v = int(e["spte"], 16) & ~mmu_w
        x = damaged("s2", "--u64", f"{entry_pa(e):#x}={v:#x}")
        expect("S2", x, [("S2", e["gfn"], 1)], r"MMU-writable")
        # D7: W=1, A=1 but D=0 (the make_spte race fingerprint), info only.
        v = int(e["spte"], 16) & ~0x40
        x = damaged("d7", "--u64", f"{entry_pa(e):#x}={v:#x}")
        if aging_clears_d:
            expect("D7 (aging clears D here: not judged)", x, [], rc_want=0)
        else:
            expect("D7", x, [("D7", e["gfn"], 1)], r"spte 0x")
        # H1: the SPTE points at another page than the VMM maps.
        v = int(e["spte"], 16) + 0x1000
        x = damaged("h1", "--u64", f"{entry_pa(e):#x}={v:#x}")
        got = expect("H1", x, [("H1", e["gfn"], 1)], r"maps pfn 0x[0-9a-f]+, SPTE maps pfn")
        m = re.search(r"at PA (0x[0-9a-f]+)", got[0]["evidence"]) if got else None
        if m:
            host_pa = int(m.group(1), 16)
            hostpte = re.search(r"entry (0x[0-9a-f]+)", got[0]["evidence"]).group(1)
            # H2: the VMM's PTE is gone.
            x = damaged("h2", "--u64", f"{host_pa:#x}=0")
            expect("H2", x, [("H2", e["gfn"], 1)], r"not present")
            # H4: the VMM's PTE is read-only under a writable SPTE.
            x = damaged("h4", "--u64", f"{host_pa:#x}={int(hostpte, 16) & ~2:#x}")
            expect("H4", x, [("H4", e["gfn"], 1)], r"read-only")

    # S1: garbage where a leaf was.
    if plain:
        e = plain[-1]
        x = damaged("s1", "--u64", f"{entry_pa(e):#x}=0x1234")
        expect("S1", x, [("S1", e["gfn"], 1)], r"bit 11|neither hardware-present")

    # S13: the shared zero page made writable (the VMM's read-only PTE adds H4).
    if zero:
        e = zero[0]
        # W, D, host- and MMU-writable (the era's bits, from the masks)
        v = int(e["spte"], 16) | 2 | int(masks["shadow_dirty_mask"], 16) | mmu_w | \
            int(masks["shadow_host_writable_mask"], 16)
        x = damaged("s13", "--u64", f"{entry_pa(e):#x}={v:#x}")
        expect("S13", x, [("H4", e["gfn"], e["level"]), ("S13", e["gfn"], e["level"])],
               r"zero page")

    # D4 (+ D2 for its writable leaves, + D5 where the kernel counts): a slot
    # claims dirty logging but has no bitmap.
    nolog = [s for s in slots if not s["flags"] & 1 and s["dirty_bitmap"] is None]
    if nolog:
        s = nolog[-1]
        flags_pa = vtop(int(s["memslot"], 16) + offset("kvm_memory_slot.flags"))
        x = damaged("d4", "--poke", f"{flags_pa:#x}={(s['flags'] | 1).to_bytes(4, 'little').hex()}")
        rc, got = findings(x)
        d4 = [f for f in got if f["check"] == "D4"]
        case("D4: the slot without a bitmap", len(d4) == 1 and f"slot {s['id']} " in d4[0]["evidence"],
             [key(f) for f in got])
        inslot = {e["gfn"] for e in leaves if s["base_gfn"] <= e["gfn"] < s["base_gfn"] + s["npages"]
                  and e["writable"]}
        # (and D1 for its writable huge leaves, where the slot has them)
        huge = {e["gfn"] for e in sptes if e["kind"] == "present" and e["leaf"] and e["level"] > 1
                and e["writable"] and s["base_gfn"] <= e["gfn"] < s["base_gfn"] + s["npages"]}
        d1 = {f["gfn"] for f in got if f["check"] == "D1"}
        rest = [f for f in got if f["check"] not in ("D4", "D5", "D1")]
        case("D4: the only other findings are D2 on that slot's writable 4K leaves (D1 on huge)",
             all(f["check"] == "D2" and f["gfn"] in inslot for f in rest) and
             {f["gfn"] for f in rest} == inslot and d1 == huge, [key(f) for f in got])

    vm = next(v for v in vms_ if v["kvm"] == kvm0)

    def rd64(va):
        return int(run(dump, "__rd64", hex(va)).stdout, 16)

    def slot_field(s_, field, value, size=4):
        pa = vtop(int(s_["memslot"], 16) + offset("kvm_memory_slot." + field))
        return ["--poke", f"{pa:#x}={value.to_bytes(size, 'little').hex()}"]

    def in_slot(s_, e):
        return s_["base_gfn"] <= e["gfn"] < s_["base_gfn"] + s_["npages"]

    plain_slot = slot_of(plain[0]["gfn"]) if plain else None
    # where this kernel keeps KVM's software bits (A/D type, saved R/X, FROZEN)
    sbits = jrun(dump, "info")[1]["spte_bits"]
    ad = sbits["ad_type_shift"]
    # S3: an A/D type the root did not ask for (01 on an A/D-enabled root).
    if plain:
        e = plain[0]
        x = damaged("s3", "--u64", f"{entry_pa(e):#x}={int(e['spte'], 16) | (1 << ad):#x}")
        expect("S3", x, [("S3", e["gfn"], 1)], rf"bits {ad}-{ad + 1} = 1")
    # S7: a FROZEN SPTE where a leaf was (the era's value, from the masks).
    if plain:
        e = plain[1]
        # 6.10+ kernels mark empty entries with bit 63 and a frozen entry carries
        # it too; 7.x moved the value (0x5a0 -> 0x1a0): both as the dump says
        frozen = int(sbits["frozen"], 16)
        x = damaged("s7", "--u64", f"{entry_pa(e):#x}={frozen:#x}")
        lock_va = int(kvm0, 16) + offset("kvm.mmu_lock")
        got = expect("S7 with mmu_lock free", x, [("S7", e["gfn"], 1)],
                     rf"0x0*{frozen:x}; mmu_lock at {lock_va:#x} free \(cnts 0x0\), no vCPU",
                     rc_want=1)
        case("S7 with mmu_lock free and no vCPU mid-walk: a warning",
             [f["severity"] for f in got if f["check"] == "S7"] == ["warning"], got)
        p = run("--color=always", x, "check")
        case("check --color=always: the severity highlighted; its SPTE in 16 digits",
             "\033[1;33mWARNING" in p.stdout and f"spte 0x{frozen:016x}" in p.stdout, p.stdout)
        p = run(x, "check")
        case("check into a pipe: no color", "\033[" not in p.stdout and "WARNING" in p.stdout,
             p.stdout)
        # Exception: mmu_lock held (a reader: a fault in flight) makes it info, inconclusive.
        x = damaged("s7held", "--u64", f"{entry_pa(e):#x}={frozen:#x}",
                    "--poke", f"{vtop(lock_va):#x}=01000000")
        rc, got = findings(x)
        s7 = [f for f in got if f["check"] == "S7"]
        case("S7 with mmu_lock held: info, inconclusive, the lock as evidence",
             rc == 2 and len(s7) == 1 and s7[0]["severity"] == "info" and s7[0]["inconclusive"]
             and f"mmu_lock at {lock_va:#x} held (cnts 0x1)" in s7[0]["evidence"], (rc, s7))
    # S9: the slot shrinks under its leaves.
    if plain_slot:
        s_ = plain_slot
        cut = min(e["gfn"] for e in leaves if in_slot(s_, e)) - s_["base_gfn"]
        beyond = [e for e in sptes if e["kind"] == "present" and e["leaf"] and in_slot(s_, e)]
        x = damaged("s9", *slot_field(s_, "npages", cut, 8))
        expect("S9", x, [("S9", e["gfn"], e["level"]) for e in beyond], r"no memslot|crosses")
        # Exception: a memslot update being published (generation bit 63,
        # KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS) makes the same S9s inconclusive.
        ms = rd64(int(kvm0, 16) + offset("kvm.memslots"))
        gen_va = ms + offset("kvm_memslots.generation")
        x = damaged("s9gen", *slot_field(s_, "npages", cut, 8), "--u64",
                    f"{vtop(gen_va):#x}={rd64(gen_va) | (1 << 63):#x}")
        rc, got = findings(x)
        case("S9 while the memslot generation is being updated: inconclusive, exit 2",
             rc == 2 and sorted(key(f) for f in got) ==
             sorted(("S9", e["gfn"], e["level"]) for e in beyond)
             and all(f["inconclusive"] for f in got), (rc, [key(f) for f in got]))
    # S12: the slot turns read-only under writable leaves.
    if plain_slot:
        s_ = plain_slot
        w = [e for e in leaves if in_slot(s_, e) and (e["writable"] or e["host_writable"])]
        x = damaged("s12", *slot_field(s_, "flags", s_["flags"] | 2))
        expect("S12", x, [("S12", e["gfn"], 1) for e in w], r"KVM_MEM_READONLY")
    # S14: a vCPU runs on a root that is not on tdp_mmu_roots.
    vc = vm["vcpus"][0]
    mmu = rd64(int(vc["vcpu"], 16) + offset("kvm_vcpu.arch.mmu"))
    root_hpa = run(dump, "__offset", "kvm_mmu.root.hpa").stdout.split()  # root_hpa before 5.18
    hpa_pa = vtop(mmu + (int(root_hpa[0]) if root_hpa and root_hpa[0] != "-"
                         else offset("kvm_mmu.root_hpa")))
    x = damaged("s14", "--u64", f"{hpa_pa:#x}=0x7000000")
    rc, got = findings(x)
    case("S14: the vCPU's stray root, VM-level, nothing else",
         [f["check"] for f in got] == ["S14"] and "0x7000000" in got[0]["evidence"],
         [key(f) for f in got])
    # D1: a slot with writable 2M leaves starts dirty logging without any of
    # KVM's steps (D4: no bitmap; D2 for its writable 4K leaves).
    huge = [e for e in sptes if e["kind"] == "present" and e["leaf"] and e["level"] == 2]
    if huge:
        s_ = slot_of(huge[0]["gfn"])
        x = damaged("d1", *slot_field(s_, "flags", s_["flags"] | 1))
        rc, got = findings(x)
        d1 = {f["gfn"] for f in got if f["check"] == "D1"}
        want = {e["gfn"] for e in huge if in_slot(s_, e) and e["writable"]}
        case("D1: every writable 2M leaf of the slot", d1 == want, (d1, want))
        case("D1: the rest is D4 for the slot and D2/D5 only",
             all(f["check"] in ("D1", "D2", "D4", "D5") for f in got), [key(f) for f in got])
        # S10: lpage_info forbids the first writable 2M leaf's range.
        e = next(h for h in huge if in_slot(s_, h) and h["writable"])
        lp = rd64(int(s_["memslot"], 16) + offset("kvm_memory_slot.arch.lpage_info"))
        size = 4  # struct kvm_lpage_info { int disallow_lpage; }
        idx = (e["gfn"] >> 9) - (s_["base_gfn"] >> 9)
        x = damaged("s10", "--poke", f"{vtop(lp + idx * size):#x}=01000000")
        expect("S10", x, [("S10", e["gfn"], 2)], r"disallow_lpage = 0x1")
    # H5: a zero-page leaf now maps a real page while the VMM still maps zeroes.
    zero4k = [e for e in zero if e["level"] == 1]
    if zero4k and plain:
        e = zero4k[0]
        v = (int(e["spte"], 16) & ~0x000ffffffffff000) | (plain[0]["pfn"] << 12)
        x = damaged("h5", "--u64", f"{entry_pa(e):#x}={v:#x}")
        expect("H5", x, [("H5", e["gfn"], 1)], r"zero pfn 0x")
    # S4: saved-R/X bits on an SPTE that is not access-tracked.
    if plain:
        e = plain[0]
        sr = sbits["saved_r_bit"]
        x = damaged("s4", "--u64", f"{entry_pa(e):#x}={int(e['spte'], 16) | (1 << sr):#x}")
        expect("S4", x, [("S4", e["gfn"], 1)], rf"bit {sr}=1")
    # S5: PS on a top-level entry (a 512 GiB "leaf"); it lies outside every
    # memslot too (S9).
    top = [e for e in sptes if e["kind"] == "present" and not e["leaf"] and
           e["level"] == max(x["level"] for x in sptes)]
    if top:
        e = top[0]
        w = jrun(dump, "gfn", hex(e["gfn"]), "--root", e["root"])[1]["walks"][0]["walk"][0]
        x = damaged("s5", "--u64", f"{w['entry_pa']}={int(e['spte'], 16) | 0x80:#x}")
        rc, got = findings(x)
        # a table entry carries W without MMU-writable: as a "leaf" it is S2 too
        case("S5: PS at the top level, with S9 and S2 for the same entry only",
             {key(f) for f in got} == {(c, e["gfn"], e["level"]) for c in ("S5", "S9", "S2")},
             [key(f) for f in got])
    # S6: a child table whose kvm_mmu_page claims another gfn (the TDP
    # MMU's invariant; under a shadow root the page's gfn is what the walk
    # derives the entries' gfns from).
    tables = [e for e in sptes if e["kind"] == "present" and not e["leaf"] and e["level"] == 2
              and e["mmu"] == "tdp"]
    if tables:
        e = tables[0]
        # child table -> its struct page (vmemmap_base + pfn * sizeof) -> private
        base = rd64(int(jrun(dump, "dis", "vmemmap_base", "1")[1]["address"], 16))
        page_size = offset("page.private") and 64  # sizeof(struct page), VMCOREINFO SIZE(page)
        sp = rd64(base + e["pfn"] * page_size + offset("page.private"))
        gfn_pa = vtop(sp + offset("kvm_mmu_page.gfn"))
        x = damaged("s6", "--u64", f"{gfn_pa:#x}={e['gfn'] + 1:#x}")
        expect("S6", x, [("S6", e["gfn"], 2)], r"gfn 0x")
    # S8: the NX huge page mitigation on, executable 2M leaves present.
    huge_x = [e for e in sptes if e["kind"] == "present" and e["leaf"] and e["level"] > 1 and
              e["executable"]]
    if huge_x:
        sym = jrun(dump, "dis", "kvm:nx_huge_pages", "1")
        if sym[0] == 0:
            x = damaged("s8", "--poke", f"{vtop(int(sym[1]['address'], 16)):#x}=01000000")
            rc, got = findings(x)
            mine = {key(f) for f in got if f["kvm"] == kvm0}
            case("S8: every executable huge leaf", mine ==
                 {("S8", e["gfn"], e["level"]) for e in huge_x} and
                 all(f["check"] == "S8" for f in got), [key(f) for f in got][:6])
    # H3: a table entry over 4K host pages turned into a 2M leaf.
    t4k = [t for t in tables if any(l["gfn"] >= t["gfn"] and l["gfn"] < t["gfn"] + 512 and
                                    l in plain for l in leaves)]
    if t4k:
        e = t4k[0]
        w = jrun(dump, "gfn", hex(e["gfn"]), "--root", e["root"])[1]["walks"][0]["walk"]
        pde = next(st for st in w if st["level"] == 2)
        x = damaged("h3", "--u64", f"{pde['entry_pa']}={int(e['spte'], 16) | 0x80:#x}")
        rc, got = findings(x)
        here = {f["check"] for f in got if (f["gfn"], f["level"]) == (e["gfn"], 2)}
        case("H3: huge SPTE over 4K host pages (with H1/S2 of the same entry only)",
             "H3" in here and all((f["gfn"], f["level"]) == (e["gfn"], 2) for f in got) and
             here <= {"H3", "H1", "H2", "S2", "H5"}, [key(f) for f in got])
    # D5 (6.2+): KVM's count of logging slots disagrees with the slots.
    r = run(dump, "__offset", "kvm.nr_memslots_dirty_logging")
    if r.returncode == 0:
        nlog = sum(1 for s_ in slots if s_["flags"] & 1)
        at = vtop(int(kvm0, 16) + int(r.stdout.split()[0]))
        x = damaged("d5", "--poke", f"{at:#x}={(nlog + 5).to_bytes(4, 'little').hex()}")
        rc, got = findings(x)
        case("D5: the count, VM-level, nothing else",
             [f["check"] for f in got] == ["D5"] and f"= {nlog + 5}," in got[0]["evidence"],
             [(f["check"], f["evidence"]) for f in got])
    # D6: a dirty ring whose dirty index ran past its size.
    ringvm = [v for v in vms_ if v["dirty_log"] == "ring"]
    if ringvm:
        v = ringvm[0]
        ring = int(v["vcpus"][0]["vcpu"], 16) + offset("kvm_vcpu.dirty_ring")
        di = vtop(ring + offset("kvm_dirty_ring.dirty_index"))
        x = damaged("d6", "--poke", f"{di:#x}=00000100")
        rc, got = findings(x)
        sure = [f for f in got if not f["inconclusive"]]
        case("D6: the ring's indices, VM-level; D2 without the ring is only inconclusive",
             [f["check"] for f in sure] == ["D6"] and "dirty_index" in sure[0]["evidence"] and
             rc == 3 and all(f["check"] == "D2" for f in got if f["inconclusive"]),
             ([key(f) for f in got], rc))
    return done()


if __name__ == "__main__":
    sys.exit(main())
