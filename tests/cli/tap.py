"""The Python tests' one TAP helper: case() prints a numbered "ok" / "not ok"
line (a failure's detail follows as "#" comments), done() the plan and the
counts and gives the exit status; runner() the binary's run and JSON run
(triple_runner() the run as a tuple)."""
import os
import subprocess
import sys

import jsondoc

n = 0
failures = []


def case(name, cond, detail=""):
    global n
    n += 1
    if cond:
        print(f"ok {n} - {name}")
    else:
        failures.append(name)
        print(f"not ok {n} - {name}")
        for line in str(detail).splitlines() or [""]:
            print(f"#   {line}")
    return bool(cond)


def check(cond, name):
    """case() with the condition first, as diff.py and extract.py write it."""
    return case(name, cond)


def done():
    print(f"1..{n}")
    print(f"# {n - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def runner(binary, timeout=300):
    """run(*args): the completed process (a signal is an AssertionError);
    jrun(*args): with -j, (exit status, the JSON as jsondoc presents it)."""
    def run(*args):
        p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
        if p.returncode < 0:
            raise AssertionError(f"{args}: killed by signal {-p.returncode}")
        return p

    def jrun(*args):
        p = run("-j", *args)
        return p.returncode, jsondoc.load(p.stdout)
    return run, jrun


def dump_of(fixture):
    """The fixture directory's dump, whichever format it holds."""
    for name in ("vmcore.kdump", "vmcore.flat", "vmcore.elf"):
        p = os.path.join(fixture, name)
        if os.path.exists(p):
            return p
    sys.exit(f"no dump in {fixture}")


def oracle_run(binary, dump, *args):
    """The JSON of a run the oracle tests compare: exit 0, schema 2, complete
    (anything else is an AssertionError)."""
    rc, doc = runner(binary)[1](dump, *args)
    if rc != 0:
        raise AssertionError(f"{' '.join(args)}: exit {rc}")
    assert doc["schema_version"] == 2, doc["schema_version"]
    assert doc["incomplete"] == [], doc["incomplete"]
    return doc


def triple_runner(binary, timeout=300):
    """run(*args): (exit status, stdout, stderr), as diff.py and extract.py
    take a run apart."""
    run, _ = runner(binary, timeout)

    def run3(*args):
        p = run(*args)
        return p.returncode, p.stdout, p.stderr
    return run3
