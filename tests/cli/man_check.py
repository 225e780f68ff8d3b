#!/usr/bin/env python3
"""The man page says what the binary does: it renders without warnings, the
committed page is scdoc's output of its source (and, scdoc or not, lists the
same things as the source), and every command, option, check id (with its
severity), exit bit and schema version of the binary is in it -- and nothing
else.  With a DUMP, every JSON field `sptes -j` writes is documented.
Prints TAP; exits 1 on any drift, naming what differs.
Usage: man_check.py BINARY SOURCE_DIR [DUMP]"""
import json
import os
import re
import shutil
import subprocess
import sys

from tap import case, done


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


def section(text, title, heading):
    """The body of section `title`; `heading` is the regex of a heading line."""
    parts = re.split(heading, text, flags=re.M)
    # re.split with one group: [before, title1, body1, title2, body2, ...]
    for i in range(1, len(parts) - 1, 2):
        if parts[i].strip() == title:
            return parts[i + 1]
    return ""


def drift(name, have, want, what):
    """have (man page) must equal want (binary); say what is missing/extra."""
    have, want = set(have), set(want)
    case(name, have == want,
         f"in the binary but not the man page: {sorted(want - have)}\n"
         f"in the man page but not the binary: {sorted(have - want)}\n"
         f"(update man/spte-inspect.1.scd and regenerate {what})")


def main():
    binary, src = sys.argv[1:3]
    dump = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    scd_path = os.path.join(src, "man", "spte-inspect.1.scd")
    page_path = os.path.join(src, "man", "spte-inspect.1")
    scd = open(scd_path).read()
    page = open(page_path).read()
    scd_sec = lambda t: section(scd, t, r"^# (.+)$")
    # scdoc writes "# TITLE" as ".SH TITLE" (quoted when it has spaces)
    page_sec = lambda t: section(page, t, r'^\.SH "?([^"\n]+)"?$')

    # -- the page itself --------------------------------------------------
    if shutil.which("groff"):
        p = run("groff", "-man", "-ww", "-z", page_path)
        case("groff -man -ww -z renders the page without warnings",
             p.returncode == 0 and not p.stderr, p.stderr)
    else:
        print("# groff not installed: rendering not checked")
    if shutil.which("scdoc"):
        epoch = open(os.path.join(src, "man", "SOURCE_DATE_EPOCH")).read().strip()
        p = subprocess.run(["scdoc"], input=scd, capture_output=True, text=True,
                           env=dict(os.environ, SOURCE_DATE_EPOCH=epoch))
        case("committed spte-inspect.1 is scdoc's output of spte-inspect.1.scd",
             p.returncode == 0 and p.stdout == page,
             p.stderr or "regenerate: SOURCE_DATE_EPOCH=$(cat man/SOURCE_DATE_EPOCH) scdoc < "
             "man/spte-inspect.1.scd > man/spte-inspect.1")
    else:
        print("# scdoc not installed: the committed page is compared by content only")
    sections = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "JSON OUTPUT", "CHECKS",
                "EXIT STATUS", "EXAMPLES", "ENVIRONMENT", "FILES", "SEE ALSO"]
    have = re.findall(r'^\.SH "?([^"\n]+)"?$', page, re.M)
    case("the page has its sections in order", have == sections, f"have {have}\nwant {sections}")
    case("SYNOPSIS", "*spte-inspect* [_OPTIONS_] _DUMP_ [_COMMAND_ [_ARGS_]]" in scd_sec("SYNOPSIS"),
         scd_sec("SYNOPSIS"))
    see = scd_sec("SEE ALSO")
    case("SEE ALSO crash(8), drgn(1), makedumpfile(8)",
         all(x in see for x in ("*crash*(8)", "*drgn*(1)", "*makedumpfile*(8)")), see)
    env = scd_sec("ENVIRONMENT") + scd_sec("FILES")
    case("ENVIRONMENT/FILES name TMPDIR and /proc/kcore", "TMPDIR" in env and "/proc/kcore" in env, env)

    # -- commands and options against --help ------------------------------
    p = run(binary, "--help")
    help_ = p.stdout
    case("--help works", p.returncode == 0 and "Commands:" in help_ and "Options:" in help_, p.stderr)
    hcmds = re.findall(r"^  ([a-z]+) ", help_.split("Commands:")[1].split("Options:")[0], re.M)
    hopts_text = help_.split("Options:")[1].split("\n\n")[0]
    # the option column: "  -j, --json" or "      --vm PID"
    hopts = {o for short, long_ in re.findall(r"^ +(?:(-[a-zA-Z]), )?(--[a-z][a-z-]*)", hopts_text, re.M)
             for o in (short, long_) if o}
    drift("every command of --help is in COMMANDS, and only those",
          re.findall(r"^\*([a-z]+)\*", scd_sec("COMMANDS"), re.M), hcmds, "the page")
    drift("every option of --help is in OPTIONS, and only those",
          re.findall(r"\*(--?[a-zA-Z][a-z-]*)\*", scd_sec("OPTIONS")), hopts, "the page")
    # the committed page (what a machine without scdoc installs) says the same
    drift("the committed page's COMMANDS are --help's",
          re.findall(r"^\\fB([a-z]+)\\fR", page_sec("COMMANDS"), re.M), hcmds, "the page")
    drift("the committed page's OPTIONS are --help's",
          re.findall(r"\\fB(--?[a-zA-Z][a-z-]*)\\fR", page_sec("OPTIONS").replace("\\-", "-")),
          hopts, "the page")

    # -- checks against --list-checks -j ----------------------------------
    p = run(binary, "--list-checks", "-j")
    try:
        doc = json.loads(p.stdout)
        checks = {c["id"]: c["severity"] for c in doc["checks"]}
        titles = {c["id"]: c["title"] for c in doc["checks"]}
        case("--list-checks -j is a schema_version 2 catalogue",
             doc.get("schema_version") == 2 and checks, p.stdout[:200])
    except (ValueError, KeyError, TypeError) as e:
        checks, titles = {}, {}
        case("--list-checks -j is a schema_version 2 catalogue", False,
             f"{e}: exit {p.returncode}, stdout {p.stdout[:200]!r}, stderr {p.stderr[:200]!r}")
    man_checks = re.findall(r"^\*([A-Z][0-9]+)\* \(([a-z]+)\)$", scd_sec("CHECKS"), re.M)
    page_checks = re.findall(r"^\\fB([A-Z][0-9]+)\\fR \(([a-z]+)\)$", page_sec("CHECKS"), re.M)
    for what, got in (("CHECKS", man_checks), ("the committed page's CHECKS", page_checks)):
        got_d = dict(got)
        case(f"{what}: every check id and severity of --list-checks, and only those, in order",
             [i for i, _ in got] == list(checks) and got_d == checks,
             "\n".join(f"{k}: man page {got_d.get(k)}, binary {checks.get(k)}"
                       for k in list(checks) + [k for k in got_d if k not in checks]
                       if got_d.get(k) != checks.get(k)) or
             f"order: man page {[i for i, _ in got]}\n       binary   {list(checks)}")

    # each one-line meaning starts with the catalogue's title
    lines = dict(re.findall(r"^\*([A-Z][0-9]+)\* \([a-z]+\)\n\t(.*)$", scd_sec("CHECKS"), re.M))
    bad = [f"{k}: man page {lines.get(k)!r}, catalogue {t!r}" for k, t in titles.items()
           if not (lines.get(k) or "").startswith(t)]
    case("CHECKS: each line starts with the catalogue's title", not bad, "\n".join(bad))

    # -- exit bits and schema version against --help ----------------------
    m = re.search(r"Exit status bits: (.*)", help_)
    hbits = re.findall(r"(\d+) ", m.group(1)) if m else []
    mbits = re.findall(r"^\*(\d+)\*$", scd_sec("EXIT STATUS"), re.M)
    case("EXIT STATUS: 0 and the bits of --help", hbits == ["1", "2", "4", "8"] and
         mbits == ["0"] + hbits, f"--help {hbits}, man page {mbits}")
    m = re.search(r"schema_version (\d+)", help_)
    case("JSON OUTPUT: the schema_version of --help",
         m and f"*schema_version* ({m.group(1)})" in scd_sec("JSON OUTPUT"),
         m.group(1) if m else "no schema_version in --help")

    # -- JSON fields against a real document ------------------------------
    if dump:
        p = run(binary, "-j", dump, "sptes")
        try:
            d = json.loads(p.stdout)
            keys = set(d) | {k for e in d["sptes"] for k in e} | {
                k for e in d["sptes"] for k in e["bits"]}
        except (ValueError, KeyError, TypeError) as e:
            keys = {f"<no JSON: {e}, exit {p.returncode}>"}
        documented = set(re.findall(r"\*([a-z_]+)\*", scd_sec("JSON OUTPUT")))
        case("JSON OUTPUT documents every field of sptes -j", keys <= documented,
             f"undocumented: {sorted(keys - documented)}")
    else:
        print("# no dump given: JSON fields not checked")

    # -- the README says the same ---------------------------------------------
    readme = open(os.path.join(src, "README.md")).read()
    table = readme.split("## Command line")[1].split("### ")[0]
    rcmds = re.findall(r"^\| `([a-z]+)[ `]", table, re.M)
    hcmds = re.findall(r"^  ([a-z]+) ", help_.split("Commands:")[1].split("Options:")[0], re.M)
    case("README's command table lists exactly the commands of --help",
         sorted(rcmds) == sorted(hcmds), (rcmds, hcmds))
    ropts = set(re.findall(r"`(--[a-z][a-z-]+)", table))
    hopts = set(re.findall(r"(--[a-z][a-z-]+)", help_.split("Options:")[1])) - {"--help", "--version"}
    case("README's option table lists every option of --help", hopts <= ropts, hopts - ropts)
    rchecks = set(re.findall(r"\b([SDH][0-9]{1,2})\b", readme.split("### Checks")[1].split("##")[0]))
    case("README's Checks section names every check", set(checks) <= rchecks,
         set(checks) - rchecks)

    return done()


if __name__ == "__main__":
    sys.exit(main())
