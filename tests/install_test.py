#!/usr/bin/env python3
"""meson install into a temporary DESTDIR puts the binary, the man page and
the three completions in their places, and the installed binary works.
Usage: install_test.py BUILD_DIR DUMP VERSION"""
import glob
import os
import subprocess
import sys
import tempfile


def main():
    build, dump, version = sys.argv[1:4]
    fails = n = 0
    with tempfile.TemporaryDirectory() as dest:
        env = dict(os.environ, DESTDIR=dest)
        p = subprocess.run(["meson", "install", "-C", build, "--quiet", "--no-rebuild"],
                           env=env, capture_output=True, text=True)
        checks = [("meson install succeeds", p.returncode == 0, p.stderr)]
        files = {os.path.relpath(f, dest) for f in glob.glob(dest + "/**", recursive=True)
                 if os.path.isfile(f)}

        def has(pattern):
            return any(glob.fnmatch.fnmatch(f, pattern) for f in files)
        checks += [
            ("binary in bin/", has("*/bin/spte-inspect"), files),
            ("man page in man1/", has("*/share/man/man1/spte-inspect.1"), files),
            ("bash completion", has("*/bash-completion/completions/spte-inspect"), files),
            ("zsh completion", has("*/zsh/vendor-completions/_spte-inspect"), files),
            ("fish completion", has("*/fish/vendor_completions.d/spte-inspect.fish"), files),
        ]
        exe = [os.path.join(dest, f) for f in files if f.endswith("bin/spte-inspect")]
        if exe:
            p = subprocess.run([exe[0], dump], capture_output=True, text=True)
            checks.append(("installed binary analyses the fixture", p.returncode == 0 and
                           "MMU:" in p.stdout, p.stderr))
            p = subprocess.run([exe[0], "--version"], capture_output=True, text=True)
            checks.append(("--version is the project version",
                           p.stdout.strip() == f"spte-inspect {version}", p.stdout))
        for name, ok, detail in checks:
            n += 1
            fails += not ok
            print(f"ok {n} - {name}" if ok else f"not ok {n} - {name}: {detail}")
    print(f"{n - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
