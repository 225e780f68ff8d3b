#!/usr/bin/env python3
"""live_noroot.py BINARY: `spte-inspect /proc/kcore` without root is refused
with exit 4 and a message that says live analysis needs root.  Run as root,
the test drops to nobody with setpriv(1); skipped (77) where the machine has
no /proc/kcore."""
import os
import shutil
import subprocess
import sys


def main():
    binary = sys.argv[1]
    if not os.path.exists("/proc/kcore"):
        print("SKIP: no /proc/kcore on this machine")
        return 77
    cmd = [binary, "/proc/kcore", "info"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            print("SKIP: running as root and no setpriv(1) to drop privileges")
            return 77
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    ok = p.returncode == 4 and "live analysis needs root" in p.stderr and "/proc/kcore" in p.stderr
    print(f"exit {p.returncode}: {p.stderr.strip()}")
    print("ok" if ok else "FAIL: want exit 4 and 'live analysis needs root'")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
