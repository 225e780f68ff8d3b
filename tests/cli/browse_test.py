#!/usr/bin/env python3
"""The browser, driven in a real terminal: tmux runs `spte-inspect DUMP
browse`, send-keys types, capture-pane reads the screen.  Every screen is
asserted against the fixture's oracle (drgn + DWARF) and the VMM's ground
truth: VM list, one VM, the guest-physical map and its legend, the SPTE list,
the detail of known gfns (raw SPTE, decoded bits, walk, dirty-bitmap bit,
host pfn), findings on an injected fault, help, resizing and NO_COLOR.
Waiting is on screen content (with a deadline), never on fixed sleeps.
Usage: browse_test.py BINARY FIXTURES_DIR INJECTOR"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from tap import case, done


class Term:
    """One tmux server of our own (never the user's) holding one pane."""

    def __init__(self, argv, cols=100, rows=30, env=None):
        self.sock = f"spte-browse-{os.getpid()}-{id(self)}"
        e = dict(os.environ)
        e.update(env or {})
        e.pop("TMUX", None)
        self.env = e
        self.dir = tempfile.TemporaryDirectory()
        self.status = os.path.join(self.dir.name, "status")
        # the exit status goes to a file: tmux's pane_dead_status is not
        # reliable across versions
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(cols), "-y",
                  str(rows), "--", "sh", "-c", '"$@" 2>"$0.err"; echo $? > "$0.tmp"; mv "$0.tmp" "$0"; read x',
                  self.status, *argv)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True,
                              text=True, env=self.env, timeout=30)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "t", "-l", text)

    def wait(self, pattern, timeout=60):
        """Screen text once PATTERN (a regex, or a predicate on the screen's
        text) holds on a settled screen (two captures alike: ncurses may be
        mid-update); the last screen if it never did."""
        end = time.monotonic() + timeout
        s, prev = "", None
        while time.monotonic() < end:
            s = self.screen()
            if s == prev and (pattern(s) if callable(pattern) else re.search(pattern, s, re.M)):
                return s
            prev = s
            if os.path.exists(self.status):  # the program is gone: no use waiting
                print("# the program exited; its stderr:\n" + self.stderr())
                break
            time.sleep(0.02)
        print(f"# screen never matched {pattern!r}")
        return s

    def stderr(self):
        try:
            return open(self.status + ".err").read()
        except OSError:
            return ""

    def dead_status(self, timeout=60):
        """The program's exit status once it has exited, None if it has not."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.exists(self.status):
                return int(open(self.status).read())
            time.sleep(0.02)
        return None

    def close(self):
        self.tmux("kill-server")
        self.dir.cleanup()


def run_text(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120).stdout


def flags_of(binary, dump, gfn):
    """The decoded flags of the 4K leaf at GFN, as the `gfn` command prints them."""
    p = subprocess.run([binary, dump, "gfn", hex(gfn)], capture_output=True, text=True,
                       timeout=120)
    m = re.search(r"^  PTE +\[.*\]  0x[0-9a-f]{16}  (.*)$", p.stdout, re.M)
    return m and m.group(1)


def main():
    binary, fixtures, inject = sys.argv[1:4]
    if not shutil.which("tmux"):
        print("not ok 1 - tmux is not installed (tools/install-deps.sh installs it)")
        return 1
    basic = os.path.join(fixtures, "6.1-basic")
    dump = os.path.join(basic, "vmcore.kdump")
    oracle = json.load(open(os.path.join(basic, "oracle.json")))
    vm = oracle["vms"][0]
    root = vm["roots"][0]
    leaf = {(e["level"], e["gfn"]): e for e in root["sptes"]}
    logged = next(s for s in vm["memslots"] if s["flags"] & 1)
    # a writable 4K leaf in the logged slot that the live bitmap records
    gfn = next(g for g in logged["dirty_gfns"]
               if (1, g) in leaf and int(leaf[(1, g)]["spte"], 16) & 2)
    spte = int(leaf[(1, gfn)]["spte"], 16)
    rel = gfn - logged["base_gfn"]

    # --- VM list, one VM, map, detail of a known gfn (clean fixture)
    t = Term([binary, dump, "browse"])
    s = t.wait(r"FINDINGS")
    case("VM list: the oracle's VM with pid, command and struct kvm",
         re.search(rf"^ {vm['pid']} +{vm['comm']} +{vm['kvm']} +{vm['online_vcpus']} +"
                   rf"{len(vm['memslots'])} +{len(vm['roots'])} +bitmap +0$", s, re.M), s)
    case("VM list: title counts VMs and findings", "(1 VMs, 0 findings)" in s, s)
    t.keys("Enter")
    s = t.wait(r"vCPUs")
    case("VM screen: every memslot with base gfn, npages and flags",
         all(re.search(rf"^ +{m['as_id']} +{m['id']} +{m['base_gfn']:#x} +{m['npages']} +"
                       rf"{m['userspace_addr']}", s, re.M) for m in vm["memslots"])
         and "dirty-log +bitmap" in s, s)
    case("VM screen: the root with its role and refcount",
         re.search(rf"{root['sp']} {root['role']} +{root['level']} +0 +{root['refcount']} +valid",
                   s), s)
    t.keys("Enter")
    s = t.wait(r"a cell = ")
    case("map: opens at a zoom showing every memslot, each labelled", all(
        re.search(rf" s{m['id']}( |$)", s, re.M) for m in vm["memslots"]), s)
    starts = [int(x, 16) for x in re.findall(r"^([0-9a-f]{10}) ", s, re.M)]
    span = starts[1] - starts[0] if len(starts) > 1 else 0
    case("map: rows of a power-of-two span, each starting at a gfn aligned to it",
         span and span & (span - 1) == 0 and all(g % span == 0 for g in starts) and
         all(b - a == span for a, b in zip(starts, starts[1:])), starts[:4])
    m = re.search(r"a cell = (\d+) gfns? \((\d+)([KMGT])\)", s)
    case("map: the header gives a cell's size exactly",
         m and int(m.group(1)) * 4096 == int(m.group(2)) * 1024 ** "BKMGT".index(m.group(3)), s[:200])
    case("map: the legend names the blank cell", "' ' no memslot" in s, s)
    names = ["unmapped", "read-only", "A=0", "writable", "dirty-logged, recorded",
             "access-tracked", "MMIO", "writable, dirty-logged, not recorded", "finding"]
    case("map: the legend names every state with its glyph",
         all(re.search(rf"\S {re.escape(x)}", s) for x in names) and ". unmapped" in s
         and "W writable" in s and "! finding" in s, s)
    leaves = sum(1 for e in root["sptes"] if e["leaf"])
    case("map: status line counts the root's leaves and findings",
         f"{leaves} leaves, 0 findings" in s, s)
    t.keys("/")
    t.wait(r"jump to")
    t.type(hex(gfn))
    t.keys("Enter")
    s = t.wait(rf"gfn {gfn:#x} dirty-logged, recorded")
    case("jump: '/' GFN puts the cursor on it at one gfn a cell",
         f"gfn {gfn:#x} dirty-logged, recorded, slot {logged['id']}" in s and "a cell = 1 gfn" in s, s)
    t.keys("Enter")
    s = t.wait(r"walk from root")
    want = flags_of(binary, dump, gfn)
    case("detail: raw SPTE from the oracle and the bits `gfn` decodes",
         f"spte    {spte:#018x}  present leaf, level 1 (4K)  [{want}]" in s, s)
    gfn_labels = re.findall(r"^  (PML4E|PDPTE|PDE|PTE) +\[",
                            run_text(binary, dump, "gfn", hex(gfn)), re.M)
    case("detail: the walk from the root, one line per level, labelled as `gfn` labels it",
         re.findall(r"^   (PML4E|PDPTE|PDE|PTE) +\[0x[0-9a-f]+ \+ +\d+\*8\]  0x[0-9a-f]{16}", s, re.M)
         == gfn_labels == ["PML4E", "PDPTE", "PDE", "PTE"]
         and f"{spte:016x}" in s.split("walk from root")[1], s)
    word = logged["dirty_bitmap"]
    case("detail: memslot, hva and the dirty-bitmap bit that records the gfn",
         f"memslot {logged['id']} (as 0)" in s
         and f"hva {int(logged['userspace_addr'], 16) + rel * 4096:#x}" in s
         and re.search(rf"dirty bitmap word {rel // 64} at {int(word, 16) + rel // 64 * 8:#x} = "
                       rf"0x[0-9a-f]{{16}}, bit {rel % 64} set", s), s)
    case("detail: says why it is not a finding",
         "writable and recorded" in s and "no finding at this gfn" in s, s)
    t.keys("q")
    s = t.wait(r"a cell = ")
    case("q goes back from the detail to the map", "a cell = 1 gfn" in s, s)

    # --- SPTE list of a wide cell, with a filter
    t.keys("-", "-", "-")
    s = t.wait(r"a cell = 512 gfns")
    case("map: 512 gfns a cell is 2M", "a cell = 512 gfns (2M)" in s, s[:200])
    t.keys("Enter")
    s = t.wait(r"f:filter s:sort")
    in_cell = [e for e in root["sptes"] if e["leaf"] and e["level"] == 1
               and e["gfn"] // 512 == gfn // 512]
    case("list: every leaf of the 2 MiB cell, in gfn order",
         re.findall(r"^ (0x[0-9a-f]+) +4K", s, re.M) == [hex(e["gfn"]) for e in in_cell], s)
    t.keys("f")  # W=1
    s = t.wait(r"filter W=1(.|\n)*f:filter s:sort")
    wr = [e for e in in_cell if int(e["spte"], 16) & 2]
    case("list: f filters W=1",
         re.findall(r"^ (0x[0-9a-f]+) +4K", s, re.M) == [hex(e["gfn"]) for e in wr], s)
    t.keys("Escape")  # alone: Esc and a key within ESCDELAY would be Alt-key
    s = t.wait(r"a cell = ")
    case("Esc goes back from the list to the map", "a cell = 512 gfns" in s, s)
    t.keys("?")
    s = t.wait(r"spte-inspect  help")
    case("help: every key is listed",
         all(k in s for k in ["PgUp", "zoom", "jump to a gfn", "next, previous finding",
                              "filter", "sort", "next root"]), s)
    t.keys("x")
    t.wait(r"a cell = ")

    # --- resizing redraws; too small says so; 80x24 works
    t.tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
    s = t.wait(lambda s: len(s.rstrip("\n").split("\n")) == 24
               and s.split("\n")[23].startswith(" gfn 0x"))
    rows = s.rstrip("\n").split("\n")
    case("resize to 80x24: the map, legend and status line redrawn within it",
         len(rows) == 24 and "a cell = " in rows[0] and rows[23].startswith(" gfn 0x")
         and all(len(r) <= 80 for r in rows) and "! finding" in s, s)
    t.tmux("resize-window", "-t", "t", "-x", "50", "-y", "10")
    s = t.wait(r"terminal too small")
    case("resize to 50x10: says the terminal is too small", "terminal too small (50x10)" in s, s)
    t.tmux("resize-window", "-t", "t", "-x", "100", "-y", "30")
    s = t.wait(r"a cell = ")
    case("resize back: the map returns", "a cell = " in s and "terminal too small" not in s, s)
    t.keys("q", "q", "q")
    rc = t.dead_status()
    case("q from the VM list quits, exit 0 on a clean dump", rc == 0, rc)
    t.close()

    # --- an injected fault: the page live migration would lose
    tmp = tempfile.TemporaryDirectory()
    lost = os.path.join(tmp.name, "lost.kdump")
    va = int(logged["dirty_bitmap"], 16) + rel // 64 * 8 + (rel % 64) // 8
    pa = int(subprocess.run([binary, dump, "__vtop", hex(va)], capture_output=True,
                            text=True).stdout, 16)
    word_val = int(subprocess.run([binary, dump, "__rd64", hex(va - va % 8)],
                                  capture_output=True, text=True).stdout, 16)
    byte = (word_val >> (8 * (va % 8))) & 0xff
    subprocess.run([sys.executable, inject, dump, lost, "--poke",
                    f"{pa:#x}={byte & ~(1 << (rel % 8)) & 0xff:02x}"], check=True)
    t = Term([binary, lost, "browse"], env={"NO_COLOR": "1"})
    s = t.wait(r"FINDINGS")
    case("injected: the VM list counts the finding", re.search(r"bitmap +1$", s, re.M)
         and "(1 VMs, 1 findings)" in s, s)
    t.keys("Enter")
    s = t.wait(r"Findings:")
    case("injected: the VM screen counts it", "Findings: 1" in s, s)
    t.keys("Enter")
    t.wait(r"a cell = ")
    t.keys("n")
    s = t.wait(r"D2 at gfn")
    case("injected: n jumps to the D2 finding at the injected gfn",
         f"D2 at gfn {gfn:#x}" in s, s)
    case("NO_COLOR: the finding is still a glyph on the map", "!" in s.split("\n", 2)[2], s)
    t.keys("+", "+", "+", "Enter")
    s = t.wait(r"FINDING D2")
    case("injected: the detail explains the finding with its evidence",
         f"SPTE of gfn {gfn:#x}" in s and "FINDING D2 error" in s and "NOT recorded" in s
         and re.search(rf"bit {rel % 64} clear", s), s)
    t.keys("q", "q", "q", "q")
    rc = t.dead_status()
    case("injected: exit status 1 (findings), as `check`", rc == 1, rc)
    t.close()

    # --- several VMs and the ground truth: hva and pfn jumps land on the VMM's page
    d612 = os.path.join(fixtures, "6.12-all")
    o612 = json.load(open(os.path.join(d612, "oracle.json")))
    gt = json.load(open(os.path.join(d612, "ground-truth.json")))
    g = gt["vms"][0]
    page = next(p for p in g["pages"] if p["written"] and p["slot"] == 1)
    base = {m["id"]: m["base_gfn"] for m in g["memslots"]}
    ovm = next(v for v in o612["vms"] if v["pid"] == g["pid"] and any(
        m["base_gfn"] == base[1] and m["id"] == 1 for m in v["memslots"]))
    idx = [v["kvm"] for v in o612["vms"]].index(ovm["kvm"])
    t = Term([binary, os.path.join(d612, "vmcore.kdump"), "browse"], cols=80, rows=24)
    s = t.wait(r"FINDINGS")
    case("6.12: every VM of the oracle listed", all(v["kvm"] in s for v in o612["vms"])
         and "(7 VMs, 0 findings)" in s, s)
    t.keys(*(["Down"] * idx), "Enter")
    s = t.wait(r"dirty log: ")
    case("6.12: Down/Enter opens the chosen VM", ovm["kvm"] in s, s)
    t.keys("/")
    t.wait(r"jump to")
    t.type("hva:" + page["hva"])
    t.keys("Enter")
    s = t.wait(r"jumped to gfn")
    case("jump hva: lands on the gfn the VMM wrote", f"jumped to gfn {page['gfn']:#x}" in s, s)
    t.keys("Enter")
    s = t.wait(r"walk from root")
    case("detail: the SPTE's pfn is the VMM's host pfn (ground truth)",
         f"pfn     {page['host_pfn']:#x}" in s, s)
    case("detail: the VMM's own PTE at the hva, walked through kvm->mm",
         re.search(rf"host    VMM PTE at 0x[0-9a-f]+ = 0x[0-9a-f]{{16}}\n +pfn {page['host_pfn']:#x}, "
                   rf"writable: the SPTE's frame", s), s)
    t.keys("q", "/")
    t.wait(r"jump to")
    t.type(f"pfn:{page['host_pfn']}")
    t.keys("Enter")
    s = t.wait(r"jumped to gfn")
    case("jump pfn: finds the gfn mapping the host frame", f"jumped to gfn {page['gfn']:#x}" in s, s)
    t.keys("q", "q", "q", "q")
    case("6.12: quits with exit 0", t.dead_status() == 0)
    t.close()

    # --- no terminal: a clear usage error
    p = subprocess.run([binary, dump, "browse"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    case("browse without a terminal: one-line error, exit 8",
         p.returncode == 8 and p.stderr.startswith("spte-inspect: browse: needs a terminal")
         and p.stderr.count("\n") == 1, (p.returncode, p.stderr))
    return done()


if __name__ == "__main__":
    sys.exit(main())
