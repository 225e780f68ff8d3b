#!/usr/bin/env python3
"""`meson install --destdir` into a temporary directory puts the binary, the
man page and the three completions exactly where the build's options say,
with the right contents, and the installed binary works on a real dump.
Prints TAP; exits 1 on any failure.
Usage: install_test.py BUILD_DIR DUMP [VERSION]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tap import case, done

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, **kw)


def same(a, b):
    try:
        return open(a, "rb").read() == open(b, "rb").read()
    except OSError:
        return False


def main():
    build, dump = os.path.abspath(sys.argv[1]), sys.argv[2]
    opts = {o["name"]: o["value"] for o in json.loads(
        run("meson", "introspect", build, "--buildoptions").stdout)}
    version = sys.argv[3] if len(sys.argv) > 3 else json.loads(
        run("meson", "introspect", build, "--projectinfo").stdout)["version"]
    prefix = opts["prefix"]
    datadir = os.path.join(prefix, opts["datadir"])
    bash_dir = os.path.join(datadir, "bash-completion", "completions")
    if shutil.which("pkg-config") and run("pkg-config", "--exists", "bash-completion").returncode == 0:
        bash_dir = run("pkg-config", "--variable=completionsdir",
                       f"--define-variable=datadir={datadir}", "bash-completion").stdout.strip()
    want = {  # installed path -> the source file it must equal (None: not compared)
        os.path.join(prefix, opts["bindir"], "spte-inspect"): None,
        os.path.join(prefix, opts["mandir"], "man1", "spte-inspect.1"):
            os.path.join(SRC, "man", "spte-inspect.1"),
        os.path.join(bash_dir, "spte-inspect"): os.path.join(SRC, "completions", "spte-inspect.bash"),
        os.path.join(datadir, "zsh", "vendor-completions", "_spte-inspect"):
            os.path.join(SRC, "completions", "_spte-inspect"),
        os.path.join(datadir, "fish", "vendor_completions.d", "spte-inspect.fish"):
            os.path.join(SRC, "completions", "spte-inspect.fish"),
        os.path.join(datadir, "spte-inspect", "spte-inspect.schema.json"):
            os.path.join(SRC, "schema", "spte-inspect.schema.json"),
    }
    with tempfile.TemporaryDirectory() as dest:
        # without --no-rebuild: `meson test` builds only what tests link, not the man page
        p = run("meson", "install", "-C", build, "--destdir", dest, "--quiet")
        case("meson install --destdir succeeds", p.returncode == 0, p.stdout + p.stderr)
        installed = sorted(os.path.relpath(os.path.join(d, f), dest)
                           for d, _, fs in os.walk(dest) for f in fs)
        for path, source in want.items():
            at = dest + path
            case(f"installed {path}", os.path.isfile(at),
                 "installed files:\n" + "\n".join(installed))
            if source and os.path.isfile(at):
                case(f"{path} is {os.path.relpath(source, SRC)}", same(at, source),
                     "the installed file differs from the committed one"
                     + (" (regenerate the page with scdoc)" if source.endswith(".1") else ""))
        extra = set("/" + f for f in installed) - set(want)
        case("nothing else is installed", not extra, sorted(extra))

        exe = dest + os.path.join(prefix, opts["bindir"], "spte-inspect")
        if os.access(exe, os.X_OK):
            p = run(exe, dump)
            case("the installed binary analyses the fixture (exit 0, prints MMU:)",
                 p.returncode == 0 and "MMU:" in p.stdout,
                 f"exit {p.returncode}\n{p.stderr}{p.stdout[:500]}")
            p = run(exe, "--version")
            case(f"the installed --version is the project version ({version})",
                 p.returncode == 0 and p.stdout == f"spte-inspect {version}\n", repr(p.stdout))
        else:
            case("the installed binary is executable", False, exe)

        bash_file = dest + os.path.join(bash_dir, "spte-inspect")
        if os.path.isfile(bash_file):
            p = run("bash", "-c", 'source "$1" && complete -p spte-inspect', "-", bash_file)
            case("the installed bash completion registers for spte-inspect",
                 p.returncode == 0 and "_spte_inspect" in p.stdout, p.stdout + p.stderr)
    return done()


if __name__ == "__main__":
    sys.exit(main())
