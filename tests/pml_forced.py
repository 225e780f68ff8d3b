#!/usr/bin/env python3
"""D3's plumbing on a real dump.  The fixtures are AMD (no PML), so D3 and its
PML-page parsing are proven on constructed EPT values (tests/decode/
test_pml.c); here a copy of a real fixture gets kvm_x86_ops.cpu_dirty_log_size
= 512, as a PML host has it, and `check` must go the PML way end to end:
D2 no longer judges A/D type 00 leaves, D3 judges every dirty 4K leaf of a
logged slot, and -- because this kernel has no kvm_intel type info and so no
PML page to read -- each D3 is inconclusive (exit bit 2), never a finding,
with a note saying why.  On 6.1 (kvm->arch.cpu_dirty_logging_count, 5.12-6.2)
D5's PML half fires for the count KVM never kept on AMD, and not once the
count is right.  The clean fixture shows none of it.
Usage: pml_forced.py BINARY DUMP INJECTOR"""
import json
import os
import subprocess
import sys
import tempfile

failures = []
n = 0


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    if p.returncode < 0:
        raise AssertionError(f"{args}: killed by signal {-p.returncode}")
    return p


def jrun(*args):
    p = run("-j", *args)
    return p.returncode, json.loads(p.stdout)


def case(name, cond, detail=""):
    global n
    n += 1
    if cond:
        print(f"ok {n} - {name}")
    else:
        failures.append(name)
        print(f"not ok {n} - {name}: {detail}")


def main():
    global BIN
    BIN, dump, inject = sys.argv[1:4]
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

    def symbol_va(sym, off):
        # `dis SYM+OFF 1` prints the address of SYM+OFF when the bytes there
        # decode as an instruction; data may not, so step back a few bytes.
        for k in range(16):
            out = run(dump, "dis", f"{sym}+{off - k}", "1").stdout.split()
            if out:
                return int(out[0], 16) + k
        raise AssertionError(f"no address for {sym}+{off}")

    pa = vtop(symbol_va("kvm_x86_ops", offset("kvm_x86_ops.cpu_dirty_log_size")))
    pml = injected("pml.kdump", "--poke", f"{pa:#x}=00020000")  # 512, little-endian
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
         {(f["vm"], f["evidence"]) for f in others} == want_d5 and
         all(f["check"] == "D5" and not f["inconclusive"] for f in others),
         ([(f["check"], f["vm"], f["evidence"]) for f in others], want_d5))
    case("PML forced: exit status", rc == (3 if want_d5 else 2), rc)

    if count_off is not None:
        pokes = ["--poke", f"{pa:#x}=00020000"]
        for k, c in logged.items():
            pokes += ["--poke", f"{vtop(int(k, 16) + count_off):#x}=" +
                      c.to_bytes(4, "little").hex()]
        fixed = injected("pml-count.kdump", *pokes)
        rc, doc = jrun(fixed, "check")
        case("PML forced, cpu_dirty_logging_count right: no D5, D3 unchanged",
             not any(f["check"] == "D5" for f in doc["findings"]) and
             {(f["root"], f["gfn"]) for f in doc["findings"] if f["check"] == "D3"} == got_exact
             and rc == 2, (rc, [f["check"] for f in doc["findings"] if f["check"] != "D3"]))

    print(f"1..{n}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
