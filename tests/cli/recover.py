#!/usr/bin/env python3
"""Type-info-free operation on a real dump: a copy of the fixture has the BTF
of every module on btf_modules destroyed (its magic overwritten, as a damaged
or missing blob would be), so kvm's layout must be recovered from kvm.ko's
machine code; a second copy has vmlinux BTF (__start_BTF) destroyed too, so the
module list's and the other vmlinux layouts come from vmlinux code as well.
Every recovered offset must equal the BTF one (read from the intact dump),
members the BTF lacks must not be invented, and vms, memslots, roots, sptes,
check and summary must produce the same JSON and exit status as with BTF.  A copy whose code contradicts itself (one function's displacement
changed) must be refused with a clear error, never analysed with a wrong layout.
Usage: recover.py BINARY DUMP INJECTOR [--code-damage]"""
import json

import jsondoc
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from tap import case, done


def run(dump, *args):
    p = subprocess.run([BIN, dump, *args], capture_output=True, text=True, timeout=300)
    if p.returncode < 0:
        raise AssertionError(f"{args}: killed by signal {-p.returncode}")
    return p


def out(dump, *args):
    p = run(dump, *args)
    if p.returncode != 0:
        raise AssertionError(f"{args}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


CACHE, SIZE = {}, {}


def offsets(dump, members):
    """Fill the cache with (absolute bit offset, bit size) from the dump's
    type info, None where it lacks the member; one run for all."""
    todo = [m for m in members if (dump, m) not in CACHE]
    if todo:
        lines = out(dump, "__offset", *todo, "x.y").splitlines()
        for m, line in zip(todo, lines):
            if line == "-":
                CACHE[dump, m] = None
            else:
                byte, bit, bits, size = map(int, line.split())
                CACHE[dump, m] = (byte * 8 + bit, bits)
                SIZE[dump, m] = size


def offset(dump, member):
    offsets(dump, [member])
    return CACHE[dump, member]


def sym(dump, name):
    return int(out(dump, "dis", name, "1").split()[0], 16)


def hide_btf(dump, dst, extra=(), vmlinux=False):
    """Overwrite the BTF magic of every module's blob on btf_modules (and of
    vmlinux's at __start_BTF)."""
    rd = lambda va: int(out(dump, "__rd64", hex(va)), 16)
    off = lambda m: offset(dump, m)[0] // 8
    if not has_module_btf(dump):  # before 5.11: nothing to destroy
        subprocess.run([sys.executable, INJECT, dump, dst, *extra], check=True, capture_output=True)
        return 0
    head = sym(dump, "vmlinux:btf_modules")
    l, b, d = off("btf_module.list"), off("btf_module.btf"), off("btf.data")
    pokes, pos, k = [], rd(head), 0
    if vmlinux:
        pa = int(out(dump, "__vtop", hex(sym(dump, "vmlinux:__start_BTF"))), 16)
        pokes += ["--poke", f"{pa:#x}=0000"]
    while pos != head and k < 64:
        data = rd(rd(pos - l + b) + d)
        pa = int(out(dump, "__vtop", hex(data)), 16)
        pokes += ["--poke", f"{pa:#x}=0000"]
        pos, k = rd(pos), k + 1
    subprocess.run([sys.executable, INJECT, dump, dst, *pokes, *extra], check=True,
                   capture_output=True)
    return k


def has_module_btf(dump):
    """CONFIG_DEBUG_INFO_BTF_MODULES (5.11+): the kernel keeps btf_modules."""
    return run(dump, "dis", "vmlinux:btf_modules", "1").returncode == 0


def doc(dump, cmd):
    p = run(dump, "-j", cmd)
    try:
        d = jsondoc.load(p.stdout)
    except ValueError:
        d = None
    if isinstance(d, dict):
        d.pop("dump", None)
    return p.returncode, d, p.stderr


# Members whose presence differs between kernels: the code must decide.
OPTIONAL = ["kvm.arch.tdp_mmu_enabled", "kvm.arch.shadow_mmio_value",
            "kvm_mmu_page.tdp_mmu_scheduled_root_to_zap", "kvm.nr_memslots_dirty_logging.counter",
            "kvm_memory_slot.arch.gfn_track", "kvm_memory_slot.arch.gfn_write_track",
            "kvm.arch.zapped_obsolete_pages", "pte_list_desc.spte_count",
            "pte_list_desc.tail_count", "kvm_mmu_page.shadowed_translation"]


COMMANDS = ["vms", "memslots", "roots", "sptes", "check", "summary"]


def stage(dump, hidden, label, vmlinux, base):
    rc, info, err = doc(hidden, "info")
    rec = (info or {}).get("recovered") or {}
    # the shadow MMU's layout (rules-shadow.c) is recovered too: a tdp_mmu=0
    # host and a nested guest's shadow pages give the same answers
    case(f"{label}: info works", rc == 0, err)
    case(f"{label}: info says offsets were recovered heuristically",
         rec.get("used") is True and "heuristic" in rec.get("method", "")
         and "machine code" in rec.get("method", "") and rec.get("vmlinux") is vmlinux,
         json.dumps(rec)[:300])
    kvm = [m for m in (info or {}).get("modules", []) if m["name"] == "kvm"]
    case(f"{label}: kvm's type info is named as recovered",
         kvm and kvm[0]["btf"] and "recovered" in kvm[0]["btf"], str(kvm))
    case(f"{label}: vmlinux type info named as recovered exactly when destroyed",
         ("recovered" in (info or {}).get("types", "")) == vmlinux, (info or {}).get("types"))
    case(f"{label}: every member the analysis needs was recovered", rec.get("not_recovered") == "",
         rec.get("not_recovered"))
    case(f"{label}: the data confirmed the layout",
         re.match(r"\d+ VM\(s\)", rec.get("validated", "")) and
         (("module(s) on the module list" in rec.get("validated", "")) == vmlinux),
         rec.get("validated"))
    members = {m["member"]: m for m in rec.get("members", []) if not m.get("size_of")}
    sizes = {m["member"]: m for m in rec.get("members", []) if m.get("size_of")}
    offsets(dump, list(members) + OPTIONAL + ["kvm.mmu_lock", "kvm.mmu_lock.raw_lock.cnts.counter",
                                              "kvm_memory_slot.gfn_node"])
    case(f"{label}: a few dozen members recovered", len(members) >= (75 if vmlinux else 55),
         str(len(members)))
    # struct sizes: rb_node is the gfn_node array's stride
    if "rb_node" in sizes:
        case(f"{label}: sizeof(rb_node) = the memslot node stride",
             sizes["rb_node"]["size"] * 2 == SIZE[dump, "kvm_memory_slot.gfn_node"], sizes["rb_node"])
    case(f"{label}: sizeof(struct page) recovered exactly when vmlinux BTF is gone",
         ("page" in sizes) == vmlinux and (not vmlinux or sizes["page"]["size"] == 64), sizes)
    for name, m in sorted(members.items()):
        want = offset(dump, name)
        if name.startswith("rwlock_t."):  # a typedef: check through kvm.mmu_lock
            a, b = offset(dump, "kvm.mmu_lock." + name[9:]), offset(dump, "kvm.mmu_lock")
            want = (a[0] - b[0], a[1]) if a and b else None
        got = (m["offset"] * 8 + m["bit"], m["bits"])
        case(f"{label}: {name} = BTF ({got[0] // 8}+{got[0] % 8}b), from {m['from']}",
             want == got and m["from"], f"recovered {got}, BTF {want}")
    # pte_list_desc: spte_count's width (u64 in 6.1, u32 from 6.4) and
    # sptes[]'s element count are sizes, checked as such; sptes[] is its
    # last member, so the struct ends with it
    for name in [m for m in members if m.startswith("pte_list_desc.")]:
        case(f"{label}: {name}: {members[name]['size']} bytes as in BTF",
             members[name]["size"] == SIZE.get((dump, name)), f"BTF {SIZE.get((dump, name))}")
    if offset(dump, "pte_list_desc.sptes"):
        end = offset(dump, "pte_list_desc.sptes")[0] // 8 + SIZE[dump, "pte_list_desc.sptes"]
        case(f"{label}: sizeof(pte_list_desc) recovered, {end} as in BTF",
             sizes.get("pte_list_desc", {}).get("size") == end, sizes.get("pte_list_desc"))
    for name in OPTIONAL:
        case(f"{label}: {name}: present exactly when BTF has it",
             (name in members) == (offset(dump, name) is not None),
             f"recovered {name in members}, BTF {offset(dump, name) is not None}")
    p = run(hidden, "info")
    case(f"{label}: text info lists the recovered offsets and their functions",
         "recovered heuristically" in p.stdout and "kvm.vm_list" in p.stdout
         and "from vm_stat_clear" in p.stdout, p.stdout[-400:])
    with ThreadPoolExecutor(2) as pool:
        got = dict(zip(COMMANDS, pool.map(lambda c: doc(hidden, c), COMMANDS)))
    for cmd in COMMANDS:
        a, b = base[cmd], got[cmd]
        case(f"{label}: {cmd}: same exit status as with BTF", a[0] == b[0], f"{a[0]} vs {b[0]}: {b[2]}")
        case(f"{label}: {cmd}: same JSON as with BTF", a[1] == b[1] and a[1] is not None,
             f"{json.dumps(a[1])[:200]} vs {json.dumps(b[1])[:200]}")


def stage_only(dump):
    """A kernel without module BTF (5.10): recovery is the only way, so there
    is no BTF to compare with; the offsets are proven by the analysis
    equalling the drgn oracle (check_oracle.py) and here by the report and
    the commands being complete."""
    rc, info, err = doc(dump, "info")
    rec = (info or {}).get("recovered") or {}
    label = "no module BTF in this kernel"
    case(f"{label}: info works", rc == 0, err)
    case(f"{label}: kvm's offsets recovered heuristically from its machine code",
         rec.get("used") is True and "heuristic" in rec.get("method", "")
         and "machine code" in rec.get("method", "") and rec.get("vmlinux") is False,
         json.dumps(rec)[:300])
    kvm = [m for m in (info or {}).get("modules", []) if m["name"] == "kvm"]
    case(f"{label}: kvm's type info is named as recovered",
         kvm and kvm[0]["btf"] and "recovered" in kvm[0]["btf"], str(kvm))
    case(f"{label}: every member the analysis needs was recovered", rec.get("not_recovered") == "",
         rec.get("not_recovered"))
    case(f"{label}: the data confirmed the layout", re.match(r"\d+ VM\(s\)", rec.get("validated", "")),
         rec.get("validated"))
    members = [m for m in rec.get("members", []) if not m.get("size_of")]
    case(f"{label}: a few dozen members recovered", len(members) >= 35, str(len(members)))
    case(f"{label}: each names the functions it was read from",
         all(m["from"] for m in members), [m["member"] for m in members if not m["from"]])
    # the shadow MMU's books (S16-S18): 5.10's struct pte_list_desc
    # { u64 *sptes[PTE_LIST_EXT = 3]; struct pte_list_desc *more; } and the
    # page's parent_ptes and 512-bit unsync_child_bitmap (the books read with
    # them equal the DWARF oracle's: check_oracle_rmap.py)
    got = {m["member"]: (m["offset"], m["size"]) for m in rec.get("members", [])}
    case(f"{label}: pte_list_desc recovered: sptes[3] at 0, more at 24, size 32",
         got.get("pte_list_desc.sptes") == (0, 24) and got.get("pte_list_desc.more") == (24, 8)
         and got.get("pte_list_desc") == (0, 32), str({k: v for k, v in got.items() if "desc" in k}))
    case(f"{label}: kvm_mmu_page.parent_ptes and unsync_child_bitmap recovered",
         got.get("kvm_mmu_page.parent_ptes.val", (0, 0))[1] == 8
         and got.get("kvm_mmu_page.unsync_child_bitmap", (0, 0))[1] == 64,
         str({k: v for k, v in got.items() if "parent" in k or "bitmap" in k}))
    # where two functions reveal a member they agree (a disagreement voids it)
    twice = [m["member"] for m in members if "," in m["from"]]
    case(f"{label}: members read from two or more functions that agree", len(twice) >= 10, twice)
    for cmd in COMMANDS:
        rc, d, err = doc(dump, cmd)
        case(f"{label}: {cmd}: complete (exit {rc})", rc in (0, 1) and d and d["incomplete"] == [],
             (rc, err, d and d["incomplete"]))
    return {c: doc(dump, c) for c in COMMANDS}


def main():
    global BIN, INJECT
    BIN, dump, INJECT = sys.argv[1:4]
    code_damage = "--code-damage" in sys.argv[4:]
    tmp = tempfile.TemporaryDirectory()
    if not has_module_btf(dump):
        base = stage_only(dump)
        print("ok # SKIP vmlinux BTF destroyed too: vmlinux-side recovery is not done for this kernel")
        return code_damage_cases(dump, tmp, base, code_damage)
    hidden = os.path.join(tmp.name, "nobtf.kdump")
    full = os.path.join(tmp.name, "novmlinuxbtf.kdump")
    with ThreadPoolExecutor(2) as pool:
        nmods = pool.submit(hide_btf, dump, hidden)
        pool.submit(hide_btf, dump, full, (), True).result()
        nmods = nmods.result()
        base = dict(zip(COMMANDS, pool.map(lambda c: doc(dump, c), COMMANDS)))
    case("module BTF blobs destroyed", nmods >= 2, f"{nmods} modules on btf_modules")

    rc, base_info, _ = doc(dump, "info")
    case("with BTF nothing is recovered", rc == 0 and base_info["recovered"] is None,
         str(base_info and base_info.get("recovered")))
    stage(dump, hidden, "module BTF destroyed", False, base)
    stage(dump, full, "all BTF destroyed", True, base)
    rmap_fault(dump, tmp)
    return code_damage_cases(dump, tmp, base, code_damage)


def rmap_fault(dump, tmp):
    """The shadow MMU's books judged with recovered offsets: one rmap head
    zeroed (its leaf no longer on its gfn's rmap: S16) in a copy with BTF
    and in one without any; both report the same findings, S16 among them."""
    heads = [l.split() for l in out(dump, "__rmaps").splitlines() if l.startswith("rmap ")]
    if not heads:
        return
    pa = int(out(dump, "__vtop", heads[0][7]), 16)
    poke = ["--poke", f"{pa:#x}={'00' * 8}"]
    withbtf, nobtf = (os.path.join(tmp.name, n) for n in ("s16.kdump", "s16-nobtf.kdump"))
    subprocess.run([sys.executable, INJECT, dump, withbtf, *poke], check=True, capture_output=True)
    hide_btf(dump, nobtf, poke, True)
    a, b = doc(withbtf, "check"), doc(nobtf, "check")
    s16 = [f for f in (a[1] or {}).get("findings", []) if f["check"] == "S16"]
    case("rmap head zeroed: S16 found with BTF, the same findings with recovered offsets",
         s16 and a[:2] == b[:2], f"{a[0]} {len(s16)} vs {b[0]}: {b[2]}")
    # every desc chain's spte_count zeroed: the recovered pte_list_desc does
    # not fit the data (checked on the rmap chains), so it is voided and S16
    # says it did not judge, never judging with a layout the data refutes
    count = offset(dump, "pte_list_desc.spte_count")
    chains = {int(w[7], 16) for w in heads if sum(x[7] == w[7] for x in heads) > 1}
    if not count or not chains:
        return
    pokes = []
    for h in sorted(chains):
        desc = int(out(dump, "__rd64", hex(h)), 16) & ~3
        pa = int(out(dump, "__vtop", hex(desc + count[0] // 8)), 16)
        pokes += ["--poke", f"{pa:#x}={'00' * SIZE[dump, 'pte_list_desc.spte_count']}"]
    zeroed = os.path.join(tmp.name, "nocount.kdump")
    hide_btf(dump, zeroed, pokes)
    rc, info, _ = doc(zeroed, "info")
    rec = (info or {}).get("recovered") or {}
    case(f"{len(chains)} desc chains' spte_count zeroed: pte_list_desc voided, said",
         "pte_list_desc.spte_count (does not fit the data)" in rec.get("not_recovered", "")
         and re.search(r"0/\d+ descs", rec.get("validated", "")), json.dumps(rec)[:400])
    rc, d, _ = doc(zeroed, "check")
    case("and S16 is not judged (exit bit 2), not judged wrong",
         rc & 2 and any("S16 not judged" in (x["text"] if isinstance(x, dict) else x)
                        for x in (d or {}).get("incomplete", [])), f"exit {rc}")


def code_damage_cases(dump, tmp, base, code_damage):
    if code_damage:
        # vm_stat_clear's `lea kvm, [next - offsetof(struct kvm, vm_list)]`
        # changed by 8: vcpu_stat_clear disagrees, so vm_list is voided.
        lines = out(dump, "dis", "kvm:vm_stat_clear", "40").splitlines()
        lea = [l for l in lines if re.search(r"\blea\s+\w+, \[\w+ - 0x[0-9a-f]+\]", l)]
        case("vm_stat_clear has its list_entry lea", lea, "\n".join(lines))
        if lea:
            addr = int(lea[0].split()[0], 16)
            disp = int(re.search(r"- (0x[0-9a-f]+)\]", lea[0]).group(1), 16)
            raw = int(out(dump, "__rd64", hex(addr)), 16).to_bytes(8, "little")
            enc = (-disp & 0xffffffff).to_bytes(4, "little")
            at = raw.find(enc)
            case("displacement found in the instruction bytes", at > 0, raw.hex())
            pa = int(out(dump, "__vtop", hex(addr + at)), 16)
            bad = ((-(disp - 8)) & 0xffffffff).to_bytes(4, "little").hex()
            damaged = os.path.join(tmp.name, "badcode.kdump")
            hide_btf(dump, damaged, ["--poke", f"{pa:#x}={bad}"])
            for cmd in ["vms", "sptes", "info"]:
                p = run(damaged, cmd)
                case(f"{cmd} refuses with a clear error, exit 4",
                     p.returncode == 4 and "offsets from kvm.ko's code were refused" in p.stderr
                     and "kvm.vm_list" in p.stderr and not p.stdout.strip(),
                     f"{p.returncode}: {p.stderr}")

    roots = (base["roots"][1] or {}).get("roots", [])
    if code_damage and roots and all(r["mmu"] == "shadow" for r in roots):
        # no TDP MMU (6.12-tdp0): the data check judges vCPU 0's shadow root
        # by its struct page; with page->private of the first VM's roots
        # cleared it must refuse the layout, naming that root
        vmemmap = int(out(dump, "__rd64", hex(sym(dump, "vmlinux:vmemmap_base"))), 16)
        priv = offset(dump, "page.private")[0] // 8
        first = [r for r in roots if r["vm"] == roots[0]["vm"]]
        pokes = []
        for r in first:
            va = vmemmap + (int(r["spt_pa"], 16) >> 12) * 64 + priv
            pokes += ["--poke", f"{int(out(dump, '__vtop', hex(va)), 16):#x}={'00' * 8}"]
        damaged = os.path.join(tmp.name, "noprivate.kdump")
        hide_btf(dump, damaged, pokes)
        p = run(damaged, "vms")
        case("no TDP MMU: a shadow root whose page does not point back refuses the layout, exit 4",
             p.returncode == 4 and "offsets from kvm.ko's code were refused" in p.stderr
             and "vCPU 0's root" in p.stderr and not p.stdout.strip(), f"{p.returncode}: {p.stderr}")

    if code_damage:
        # update_gfn_disallow_lpage_count's copy of its slot argument nop'ed
        # out: lpage_info is no longer revealed, so what needs it (S10) is
        # reported unanalysed (exit bit 2), the rest unchanged.
        # Where the function uses its argument in place (5.10), the scaled
        # lea after each lpage_info[] load is nop'ed out instead.
        lines = out(dump, "dis", "kvm:update_gfn_disallow_lpage_count", "6").splitlines()
        mv = [i for i, l in enumerate(lines) if re.search(r"\bmov\s+r\w+, rdi$", l)]
        if not mv:
            lines = out(dump, "dis", "kvm:update_gfn_disallow_lpage_count", "40").splitlines()
            mv = [i + 1 for i, l in enumerate(lines[:-2])
                  if re.search(r"\bmov\s+(r\w+), qword ptr \[rdi \+ 0x[0-9a-f]+\]$", l) and
                  re.search(r"\blea\s+(r\w+), \[\1 \+ r\w+\*[48]\]$".replace(
                      "\\1", re.search(r"mov\s+(r\w+),", l).group(1)), lines[i + 1])]
        case("update_gfn_disallow_lpage_count: the instructions that reveal lpage_info", mv,
             "\n".join(lines))
        if mv:
            pokes = []
            for k in mv:
                a = int(lines[k].split()[0], 16)
                ln = int(lines[k + 1].split()[0], 16) - a
                pokes += ["--poke", f"{int(out(dump, '__vtop', hex(a)), 16):#x}={'90' * ln}"]
            damaged = os.path.join(tmp.name, "nolpage.kdump")
            hide_btf(dump, damaged, pokes)
            rc, d, _ = doc(damaged, "info")
            r3 = (d or {}).get("recovered") or {}
            case("a member the code no longer reveals is listed as not recovered",
                 r3.get("used") and "kvm_memory_slot.arch.lpage_info" in r3.get("not_recovered", ""),
                 json.dumps(r3)[:300])
            for cmd in ["vms", "check"]:
                a_, b_ = base[cmd], doc(damaged, cmd)
                inc = (b_[1] or {}).get("incomplete", [])
                same = dict(b_[1] or {}, incomplete=[]) == dict(a_[1] or {}, incomplete=[])
                case(f"{cmd}: without lpage_info: incomplete (exit bit 2), naming it, else the same",
                     b_[0] & 2 and any("lpage_info" in x for x in inc) and same,
                     f"{b_[0]} {inc}")

    return done()


if __name__ == "__main__":
    sys.exit(main())
