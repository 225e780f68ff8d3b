#!/usr/bin/env python3
"""D3's plumbing on a real dump.  The fixtures are AMD (no PML), so D3 and its
PML-page parsing are proven on constructed EPT values (tests/unit/
test_pml.c); here a copy of a real fixture gets kvm_x86_ops.cpu_dirty_log_size
= 512, as a PML host has it, and `check` must go the PML way end to end:
D2 no longer judges A/D type 00 leaves, D3 judges every dirty 4K leaf of a
logged slot, and -- because this kernel has no kvm_intel type info and so no
PML page to read -- each D3 is inconclusive (exit bit 2), never a finding,
with a note saying why.  On 6.1 (kvm->arch.cpu_dirty_logging_count, 5.12-6.2)
D5's PML half fires for the count KVM never kept on AMD, and not once the
count is right.  The clean fixture shows none of it.
Usage: pml_forced.py BINARY DUMP INJECTOR PML-BTF-HELPER"""
import json

import jsondoc
import os
import subprocess
import sys
import tempfile

from tap import case, done, failures, runner


def main():
    global BIN, run, jrun
    global PMLBTF
    BIN, dump, inject, PMLBTF = sys.argv[1:5]
    run, jrun = runner(BIN)
    tmp = tempfile.TemporaryDirectory()

    def injected(name, *args):
        out = os.path.join(tmp.name, name)
        subprocess.run([sys.executable, inject, dump, out, *args], check=True)
        return out

    def offset(spec):
        p = run(dump, "__offset", spec)
        return int(p.stdout.split()[0]) if p.returncode == 0 else None

    def vtop(va):
        return int(run(dump, "__vtop", hex(va)).stdout, 16)

    rc, clean = jrun(dump, "check")
    case("clean AMD fixture: no D3, no PML note",
         not any(f["check"] == "D3" for f in clean["findings"]) and
         not any("PML" in x for x in clean["incomplete"]), (clean["findings"][:3], clean["incomplete"]))

    # Expected D3 candidates from the dump's own listing: dirty 4K leaves of
    # A/D type 00 on valid roots in logged slots, gfn not in the live bitmap.
    vms = {v["kvm"]: v for v in jrun(dump, "vms")[1]["vms"]}
    roots = {r["sp"]: r for r in jrun(dump, "roots")[1]["roots"]}
    slots = jrun(dump, "memslots")[1]["memslots"]
    sptes = jrun(dump, "sptes")[1]["sptes"]

    def slot_of(kvm, as_id, gfn):
        return next((s for s in slots if s["kvm"] == kvm and s["as_id"] == as_id and
                     s["base_gfn"] <= gfn < s["base_gfn"] + s["npages"]), None)

    candidates, exact = set(), set()
    for e in sptes:
        if not (e["kind"] == "present" and e["leaf"] and e["level"] == 1 and e.get("dirty") and
                e["ad_type"] == "enabled"):
            continue
        r = roots[e["root"]]
        s = slot_of(e["kvm"], r["smm"], e["gfn"])
        if r["invalid"] or not s or not s["flags"] & 1:
            continue
        if s["dirty_gfns"] is not None and e["gfn"] in s["dirty_gfns"]:
            continue
        k = (e["kvm"], e["root"], e["gfn"])
        candidates.add(k)
        if vms[e["kvm"]]["dirty_log"] != "ring":  # ring entries are not listed: subset only
            exact.add(k)
    case("the fixture has dirty leaves of logged slots to judge", len(exact) > 0, len(exact))

    # Before 5.12 KVM has no kvm_x86_ops.cpu_dirty_log_size (PML goes by the
    # slot_enable_log_dirty hooks): nothing to force, as the dump's type
    # info (recovered from code on 5.10) says.
    if offset("kvm_x86_ops.cpu_dirty_log_size") is None:
        print("# SKIP the rest: kvm_x86_ops.cpu_dirty_log_size does not exist in this kernel")
        return done()

    # kvm_intel-style BTF placing vcpu_vmx.pml_pg on kvm_vcpu.stat (a counter
    # check never reads), and the dump's vmemmap_base, sizeof(struct page)
    # and &kvm_x86_ops.
    pml_off = offset("kvm_vcpu.stat")
    ko = os.path.join(tmp.name, "kvm_intel.ko")
    out = subprocess.run([PMLBTF, dump, str(pml_off), ko], capture_output=True, text=True,
                         check=True).stdout.split()
    vmemmap, page_size, ops = int(out[0], 16), int(out[1]), int(out[2], 16)
    # 512, little-endian: in kvm_x86_ops, or (7.x) in every VM's kvm->arch
    if offset("kvm_x86_ops.cpu_dirty_log_size") is not None:
        pml_on = ["--poke", f"{vtop(ops + offset('kvm_x86_ops.cpu_dirty_log_size')):#x}=00020000"]
    else:
        per_vm = offset("kvm.arch.cpu_dirty_log_size")
        pml_on = [x for k in vms for x in ("--poke", f"{vtop(int(k, 16) + per_vm):#x}=00020000")]
    pml = injected("pml.kdump", *pml_on)
    rc, doc = jrun(pml, "check")
    got = doc["findings"]
    d3 = [f for f in got if f["check"] == "D3"]
    case("PML forced: every D3 is inconclusive, never a finding",
         d3 and all(f["inconclusive"] for f in d3), [f for f in d3 if not f["inconclusive"]][:2])
    got_exact = {(f["root"], f["gfn"]) for f in d3}
    want_exact = {(root, gfn) for _, root, gfn in exact}
    want_all = {(root, gfn) for _, root, gfn in candidates}
    case("PML forced: D3 at exactly the dirty unrecorded leaves of bitmap VMs, and only "
         "candidates of ring VMs",
         want_exact <= got_exact <= want_all, (sorted(got_exact - want_all)[:4],
                                               sorted(want_exact - got_exact)[:4]))
    case("PML forced: D3 evidence names the bitmap word and the unread PML pages",
         all("PML page of" in f["evidence"] and "not read" in f["evidence"] and
             ("word " in f["evidence"] or "dirty ring" in f["evidence"]) for f in d3),
         [f["evidence"] for f in d3][:2])
    case("PML forced: the note says why the PML pages were not read",
         any("neither kvm_vcpu.arch.pml_page nor vcpu_vmx.pml_pg" in x for x in doc["incomplete"]),
         doc["incomplete"])

    count_off = offset("kvm.arch.cpu_dirty_logging_count")
    logged = {}
    for s in slots:
        logged[s["kvm"]] = logged.get(s["kvm"], 0) + (s["flags"] & 1)
    want_d5 = set()
    if count_off is not None:
        want_d5 = {(vms[k]["pid"], f"kvm->arch.cpu_dirty_logging_count at {int(k, 16) + count_off:#x}"
                    f" = 0, {c} slots have LOG_DIRTY_PAGES") for k, c in logged.items() if c}
    others = [f for f in got if f["check"] != "D3"]
    case("PML forced: besides D3 only D5's PML half, where the kernel keeps the count "
         f"({'6.1' if count_off is not None else 'none on 6.3+'})",
         {(f["pid"], f["evidence"]) for f in others} == want_d5 and
         all(f["check"] == "D5" and not f["inconclusive"] for f in others),
         ([(f["check"], f["pid"], f["evidence"]) for f in others], want_d5))
    case("PML forced: exit status", rc == (3 if want_d5 else 2), rc)

    if count_off is not None:
        pokes = list(pml_on)
        for k, c in logged.items():
            pokes += ["--poke", f"{vtop(int(k, 16) + count_off):#x}=" +
                      c.to_bytes(4, "little").hex()]
        fixed = injected("pml-count.kdump", *pokes)
        rc, doc = jrun(fixed, "check")
        case("PML forced, cpu_dirty_logging_count right: no D5, D3 unchanged",
             not any(f["check"] == "D5" for f in doc["findings"]) and
             {(f["root"], f["gfn"]) for f in doc["findings"] if f["check"] == "D3"} == got_exact
             and rc == 2, (rc, [f["check"] for f in doc["findings"] if f["check"] != "D3"]))


    # With the PML page located (vcpu_vmx.pml_pg from --module) and read
    # from the dump: one bitmap-mode VM's vCPU gets a PML page holding the
    # GPAs of all its candidates but one, LOST; D3 must fire at exactly LOST,
    # as an error, with the page named.  Its vCPU's kvm_run page (present in
    # the dump, never read by check) serves as the PML page.
    per_vm = {}
    for kvm, root, gfn in exact:
        per_vm.setdefault(kvm, set()).add(gfn)
    kvm0 = max(per_vm, key=lambda k: (len(per_vm[k]), k))
    gfns = sorted(per_vm[kvm0])
    lost = gfns[len(gfns) // 2]
    vcpu = int(vms[kvm0]["vcpus"][0]["vcpu"], 16)
    run_va = int(run(dump, "__rd64", hex(vcpu + offset("kvm_vcpu.run"))).stdout, 16)
    page_pa = vtop(run_va)
    case("the PML page stand-in is a whole page", page_pa % 4096 == 0, hex(page_pa))
    slots_ = [0] * 512
    for i, g in enumerate(g for g in gfns if g != lost):
        slots_[511 - i] = g << 12  # the CPU fills the page from index 511 down
    page_hex = b"".join(v.to_bytes(8, "little") for v in slots_).hex()
    ptr = vmemmap + (page_pa >> 12) * page_size
    base = pml_on + ["--poke", f"{vtop(vcpu + pml_off):#x}={ptr.to_bytes(8, 'little').hex()}"]
    if count_off is not None:  # 6.1: cpu_dirty_logging_count right, no D5
        for k, c in logged.items():
            base += ["--poke", f"{vtop(int(k, 16) + count_off):#x}=" + c.to_bytes(4, "little").hex()]
    others0 = {(f["root"], f["gfn"]) for f in d3 if f["kvm"] != kvm0}

    def pml_run(name, *extra, page=page_hex):
        x = injected(name, *base, "--poke", f"{page_pa:#x}={page}", *extra)
        rc, doc = jrun("--module", ko, x, "check")
        return rc, doc

    rc, doc = pml_run("pml-read.kdump")
    got = doc["findings"]
    firm = [(f["check"], f["gfn"]) for f in got if not f["inconclusive"]]
    case("PML page read: D3 at exactly the gfn missing from it, as an error",
         firm == [("D3", lost)] * len([k for k in exact if k[0] == kvm0 and k[2] == lost]),
         (firm, hex(lost)))
    ev = [f["evidence"] for f in got if f["check"] == "D3" and not f["inconclusive"]]
    print("# " + (ev[0] if ev else "no D3 error"))
    case("PML page read: evidence names the bitmap word and the vCPU's PML page",
         ev and "word " in ev[0] and
         f"GPA {lost << 12:#x} not in the PML pages of vCPUs 0 (PA {page_pa:#x})" in ev[0], ev)
    case("PML page read: the VM's other candidates are covered by the page; other VMs' "
         "vCPUs have no PML page and stay inconclusive",
         {(f["root"], f["gfn"]) for f in got if f["check"] == "D3" and f["kvm"] != kvm0} == others0
         and all(f["inconclusive"] for f in got if f["kvm"] != kvm0) and
         not any(f["check"] == "D3" and f["kvm"] == kvm0 and f["gfn"] != lost for f in got),
         [(f["kvm"], f["gfn"], f["inconclusive"]) for f in got][:6])
    case("PML page read: exit status", rc == (3 if others0 else 1), rc)

    # Exceptions on the same dump: each turns the D3 at LOST inconclusive or away.
    def d3_lost(doc):
        return [f for f in doc["findings"] if f["check"] == "D3" and f["gfn"] == lost]

    full = slots_[:]
    full[0] = lost << 12  # a stale low slot: every slot counts
    rc, doc = pml_run("pml-full.kdump",
                      page=b"".join(v.to_bytes(8, "little") for v in full).hex())
    case("gfn in a PML slot (slot 0): no D3 in the VM",
         not any(f["check"] == "D3" and f["kvm"] == kvm0 for f in doc["findings"]),
         [(f["check"], f["gfn"]) for f in doc["findings"]][:4])
    mode_pa = vtop(vcpu + offset("kvm_vcpu.mode"))
    rc, doc = pml_run("pml-guest.kdump", "--poke", f"{mode_pa:#x}=01000000")
    f = d3_lost(doc)
    case("vCPU IN_GUEST_MODE: D3 inconclusive, said why",
         f and all(x["inconclusive"] and "vCPU 0 in guest mode" in x["evidence"] for x in f), f)
    lock_pa = vtop(int(kvm0, 16) + offset("kvm.mmu_lock"))
    rc, doc = pml_run("pml-lock.kdump", "--poke", f"{lock_pa:#x}=ff000000")
    f = d3_lost(doc)
    case("mmu_lock write-held (harvest): D3 inconclusive",
         f and all(x["inconclusive"] and "mmu_lock held" in x["evidence"] for x in f), f)
    owner_pa = vtop(int(kvm0, 16) + offset("kvm.slots_lock.owner"))
    rc, doc = pml_run("pml-slots.kdump", "--u64", f"{owner_pa:#x}={vcpu:#x}")
    f = d3_lost(doc)
    case("slots_lock held (logging being enabled): D3 inconclusive",
         f and all(x["inconclusive"] and "slots_lock held" in x["evidence"] for x in f), f)
    online = vms[kvm0]["online_vcpus"]
    online_pa = vtop(int(kvm0, 16) + offset("kvm.online_vcpus"))
    rc, doc = pml_run("pml-online.kdump", "--poke",
                      f"{online_pa:#x}={(online + 1).to_bytes(4, 'little').hex()}")
    f = d3_lost(doc)
    case("a vCPU kobj could not read (online_vcpus + 1): D3 inconclusive, noted",
         f and all(x["inconclusive"] for x in f) and
         any(f"1 of {online + 1} online vCPUs not read" in x for x in doc["incomplete"]),
         (f, doc["incomplete"]))
    rc, doc = pml_run("pml-drop.kdump", "--drop-pfn", hex(page_pa >> 12))
    f = d3_lost(doc)
    case("PML page filtered out of the dump: D3 inconclusive, noted, exit bit 2",
         f and all(x["inconclusive"] for x in d3_lost(doc)) and rc & 2 and
         any(f"PA {page_pa:#x}" in x for x in doc["incomplete"]), (rc, f, doc["incomplete"]))

    return done()


if __name__ == "__main__":
    sys.exit(main())
