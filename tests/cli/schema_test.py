#!/usr/bin/env python3
"""Every command's JSON on every fixture validates against the schema shipped
in the repository (schema/spte-inspect.schema.json), as one document (-j),
pretty (-p) and as JSON Lines (--json-lines, reassembled into the very same
document). A damaged copy of each kdump fixture (a FROZEN SPTE where a leaf
was, a table pointer beyond memory) makes findings, evidence and
"incomplete" non-empty so their shapes are validated too. (Strings with
invalid UTF-8: tests/unit/test_json.c.)
Usage: schema_test.py BINARY SCHEMA INJECT FIXTURE_DUMP..."""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema
from tap import case, done


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, timeout=600)


def from_lines(text):
    """--json-lines back into one document: records into their lists, in order."""
    lines = text.decode().splitlines()
    doc = json.loads(lines[-1])
    lists = {}
    for line in lines[:-1]:
        rec = json.loads(line)
        lists.setdefault(rec.pop("record"), []).append(rec)
    return doc, lists


def validate(v, name, dump, args, want_rc=None):
    p = run("-j", dump, *args)
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        case(f"{name}: JSON", False, f"{e}; exit {p.returncode}; {p.stderr[:300]}")
        return None
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    case(f"{name}: valid against the schema", not errs and p.returncode & 12 == 0,
         "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errs[:4]) or
         f"exit {p.returncode}: {p.stderr[:300]}")
    q = run("--json-lines", dump, *args)
    tail, lists = from_lines(q.stdout) if q.stdout else ({}, {})
    # the streamed lists are the ones missing from the last line (an empty
    # list streams no record)
    streamed = [k for k in doc if k not in tail]
    rebuilt = {**tail, **{k: lists.get(k, []) for k in streamed}}
    case(f"{name}: --json-lines is the same document, one record a line",
         q.returncode == p.returncode and rebuilt == doc and set(lists) <= set(streamed) and
         all(isinstance(doc[k], list) for k in streamed),
         f"lists {sorted(lists)}; tail {sorted(tail)}")
    return doc


def main():
    global BIN
    BIN, schema_path, inject = sys.argv[1:4]
    dumps = sys.argv[4:]
    schema = json.load(open(schema_path))
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    doc = json.loads(run("-j", "--list-checks").stdout)
    case("--list-checks: valid", not list(v.iter_errors(doc)))
    tmp = tempfile.TemporaryDirectory()
    for dump in dumps:
        fx = os.path.basename(os.path.dirname(dump)) + "/" + os.path.basename(dump)
        sptes = validate(v, f"{fx} sptes", dump, ["sptes"])
        for cmd in (["summary"], ["info"], ["vms"], ["memslots"], ["roots"], ["check"],
                    ["dis", "cpu0", "4"], ["sptes", "W=1,D=0"]):
            validate(v, f"{fx} {' '.join(cmd)}", dump, cmd)
        if not sptes:
            continue
        leaf = next(e for e in sptes["sptes"] if e["bits"]["kind"] == "present" and
                    e["bits"]["leaf"] and e["level"] == 1)
        validate(v, f"{fx} gfn", dump, ["gfn", hex(leaf["gfn"]), "--vm", leaf["vm"]])
        validate(v, f"{fx} gfn pfn:", dump, ["gfn", f"pfn:{leaf['bits']['pfn']:#x}"])
        validate(v, f"{fx} pfn", dump, ["pfn", hex(leaf["bits"]["pfn"])])
        if not dump.endswith(".kdump"):
            continue
        # findings and incomplete notes, from a damaged copy
        w = json.loads(run("-j", dump, "gfn", hex(leaf["gfn"]), "--root", leaf["root"]).stdout)
        steps = w["walks"][0]["walk"]
        # the FROZEN value of this kernel's era, as the dump says (info's spte_bits)
        frozen = int(json.loads(run("-j", dump, "info").stdout)["spte_bits"]["frozen"], 16)
        others = [e for e in sptes["sptes"] if e["root"] == leaf["root"] and e["level"] == 2 and
                  e["bits"]["kind"] == "present" and not e["bits"]["leaf"] and
                  e["gfn"] >> 9 != leaf["gfn"] >> 9]
        args = ["--u64", f"{steps[-1]['entry_pa']}={frozen:#x}"]
        if others:
            o = json.loads(run("-j", dump, "gfn", hex(others[0]["gfn"]), "--root",
                               leaf["root"]).stdout)["walks"][0]["walk"]
            o2 = next(s for s in o if s["level"] == 2)
            args += ["--u64", f"{o2['entry_pa']}={0x7fff000000 | (int(o2['spte'], 16) & 0xfff):#x}"]
        x = os.path.join(tmp.name, os.path.basename(os.path.dirname(dump)) + ".kdump")
        subprocess.run([sys.executable, inject, dump, x, *args], check=True)
        d = validate(v, f"{fx} damaged: check", x, ["check"])
        case(f"{fx} damaged: a finding with evidence values",
             d and any(f["check"] == "S7" and f["evidence"]["values"] for f in d["findings"]),
             d and d["findings"][:2])
        d = validate(v, f"{fx} damaged: sptes", x, ["sptes"])
        case(f"{fx} damaged: incomplete notes are objects with values",
             not others or (d and d["incomplete"] and
                            all(m["text"] and m["values"] for m in d["incomplete"])),
             d and d["incomplete"][:2])
        validate(v, f"{fx} damaged: summary", x, ["summary"])
        # a KVM-only extract of the damaged copy, and what changed between the two
        xo = x + ".extract"
        validate(v, f"{fx} damaged: extract", x, ["extract", xo])
        validate(v, f"{fx} damaged: info on its extract", xo, ["info"])
        validate(v, f"{fx} damaged: diff against the fixture", dump, ["diff", x])
    return done()


if __name__ == "__main__":
    sys.exit(main())
