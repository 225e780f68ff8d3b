#!/usr/bin/env python3
"""The man page says what the binary does: it renders without warnings, the
committed page is scdoc's output of its source, and every command, option and
check id (with its severity) of the binary is in it -- and nothing else.
Usage: man_check.py BINARY SOURCE_DIR"""
import os
import re
import shutil
import subprocess
import sys

failures = []
n = 0


def case(name, cond, detail=""):
    global n
    n += 1
    print(f"ok {n} - {name}" if cond else f"not ok {n} - {name}: {detail}")
    if not cond:
        failures.append(name)


def main():
    binary, src = sys.argv[1:3]
    scd = open(os.path.join(src, "man", "spte-inspect.1.scd")).read()
    page = os.path.join(src, "man", "spte-inspect.1")
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True)
        case("groff -man -ww renders without warnings", p.returncode == 0 and not p.stderr, p.stderr)
    if shutil.which("scdoc"):
        p = subprocess.run(["scdoc"], input=scd, capture_output=True, text=True)
        case("committed spte-inspect.1 is scdoc's output of the source",
             p.returncode == 0 and p.stdout == open(page).read(), p.stderr)
    help_ = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    cmds = re.findall(r"^  ([a-z]+) ", help_.split("Commands:")[1].split("Options:")[0], re.M)
    opts = set(re.findall(r"(--[a-z][a-z-]+)", help_.split("Options:")[1]))
    man_cmds = re.findall(r"^\*([a-z]+)\*", scd.split("# COMMANDS")[1].split("# OPTIONS")[0], re.M)
    man_opts = set(re.findall(r"\*(--[a-z][a-z-]+)\*", scd.split("# OPTIONS")[1].split("# JSON")[0]))
    case("every command of --help is in COMMANDS, and only those", sorted(cmds) == sorted(man_cmds),
         (cmds, man_cmds))
    case("every option of --help is in OPTIONS, and only those", opts == man_opts,
         (opts ^ man_opts))
    import json
    checks = json.loads(subprocess.run([binary, "--list-checks", "-j"], capture_output=True,
                                       text=True).stdout)["checks"]
    man_checks = dict(re.findall(r"^\*([SDH][0-9]+)\* \(([a-z]+)\)", scd.split("# CHECKS")[1], re.M))
    want = {c["id"]: c["severity"] for c in checks}
    case("every check id and severity of --list-checks is in CHECKS, and only those",
         man_checks == want, {k: (man_checks.get(k), want.get(k)) for k in set(man_checks) | set(want)
                              if man_checks.get(k) != want.get(k)})
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[-1]
    case("JSON schema version in the man page is the binary's",
         "*schema_version* (1)" in scd and f'"schema_version"' in subprocess.run(
             [binary, "--list-checks", "-j"], capture_output=True, text=True).stdout, ver)
    print(f"{n - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
