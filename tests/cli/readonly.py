#!/usr/bin/env python3
"""spte-inspect never opens the dump for writing -- kdump, flattened or ELF,
and /proc/kcore when it is live: every open/openat of the dump path, traced
with strace across every command, is O_RDONLY.
Usage: readonly.py BINARY DUMP"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from tap import case, done


def main():
    binary, dump = sys.argv[1:3]
    if not shutil.which("strace"):
        case("strace is installed (tools/install-deps.sh installs it)", False)
        return done()
    dump = os.path.abspath(dump)
    with tempfile.TemporaryDirectory() as t:
        for cmd in (["summary"], ["sptes"], ["check"], ["memslots"], ["gfn", "0x10011"],
                    ["dis", "cpu0", "2"], ["info"]):
            log = os.path.join(t, "trace")
            subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2,creat,truncate",
                            "-o", log, binary, dump, *cmd], capture_output=True, timeout=300)
            opens = [l for l in open(log) if dump in l]
            writable = [l for l in opens if re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\(|truncate\(", l)]
            case(f"{' '.join(cmd)}: {len(opens)} opens of the dump, all read-only",
                 opens and not writable, "".join(writable or ["never opened"]))
    return done()


if __name__ == "__main__":
    sys.exit(main())
