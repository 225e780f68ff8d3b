#!/bin/bash
# Benchmarks, side by side on one dump: the floor (page-table pages through
# libkdumpfile, and pread for ELF), spte-inspect (sptes -j, summary, check),
# with one thread and with every core (-J), and a drgn + DWARF walk of the
# same roots (JSON and counting).  Prints the
# median wall time, user+sys, peak RSS and SPTEs per second of each, and the
# ratios the project's targets are stated in.  Not a test: run it by hand.
#
#   bench/run.sh DUMP [RUNS]            (drgn needs DRGN_VMLINUX and DRGN_MODDIR,
#                                        from the -dbg package; skipped otherwise)
set -eu
DUMP=$1
RUNS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${SPTE_INSPECT:-$TOP/build/spte-inspect}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
gcc -O2 -o "$WORK/floor" "$HERE/floor.c" -lkdumpfile

# Exactly the tables the walk reads: every root and every table entry's child.
"$BIN" -j "$DUMP" roots | python3 -c '
import json, sys
for r in json.load(sys.stdin)["roots"]:
    print(r["spt_pa"])' >"$WORK/tables.txt"
# one record a line: the 6 GiB dump's 1.6 M SPTEs are 0.6 GB of JSON, which
# json.load would hold whole (several GB of objects)
"$BIN" --json-lines "$DUMP" sptes | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    e = json.loads(line)
    if e.get("record") != "sptes":
        continue
    b = e["bits"]  # schema 2: the decoded bits under "bits"
    if b["kind"] == "present":
        n += 1
        if not b["leaf"]:
            print(hex(b["pfn"] << 12))
print(n, file=open(sys.argv[1], "w"))' "$WORK/nsptes" >>"$WORK/tables.txt"
NSPTES=$(cat "$WORK/nsptes")
echo "dump: $DUMP ($(stat -c %s "$DUMP") bytes), $(wc -l <"$WORK/tables.txt") tables, $NSPTES present SPTEs"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

measure() { # name command...
	local name=$1; shift
	: >"$WORK/$name.times"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || {
			echo "$name failed: $(tail -1 "$WORK/err")"; return; }
		cat "$WORK/t" >>"$WORK/$name.times"
	done
	python3 - "$name" "$WORK/$name.times" "$NSPTES" <<'PY'
import statistics, sys
name, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
rss = statistics.median(r[3] for r in rows) / 1024
print(f"{name:<22} wall {wall:8.3f} s  user+sys {cpu:8.3f} s  peak RSS {rss:8.1f} MiB  "
      f"{n / wall if wall else 0:12.0f} SPTEs/s")
open(path + ".median", "w").write(f"{wall} {cpu} {rss}\n")
PY
}

measure floor-libkdumpfile "$WORK/floor" "$DUMP" "$WORK/tables.txt"
if head -c 4 "$DUMP" | grep -q ELF; then
	measure floor-pread "$WORK/floor" "$DUMP" "$WORK/tables.txt" elf
fi
# The walk and decode of every entry without output: no entry is at level 5
# of a 4-level tree, so --level 5 lists nothing (the filter is applied after
# decoding, not while walking).  Each with one thread (-J 1) and with the
# default (every online CPU, at most 8).
JOBS=$(nproc); [ "$JOBS" -gt 8 ] && JOBS=8
for j in 1 "$JOBS"; do
	measure "walk-J$j" "$BIN" -J "$j" --level 5 "$DUMP" sptes
	measure "sptes-json-J$j" "$BIN" -J "$j" -j "$DUMP" sptes
	measure "summary-J$j" "$BIN" -J "$j" "$DUMP" summary
	measure "check-J$j" "$BIN" -J "$j" "$DUMP" check
done
if [ -n "${DRGN_VMLINUX:-}" ] && [ -n "${DRGN_MODDIR:-}" ]; then
	measure drgn-json /usr/bin/python3 "$HERE/drgn_walk.py" --json "$DUMP" "$DRGN_VMLINUX" "$DRGN_MODDIR"
	measure drgn-count /usr/bin/python3 "$HERE/drgn_walk.py" --count "$DUMP" "$DRGN_VMLINUX" "$DRGN_MODDIR"
fi
python3 - "$WORK" <<'PY'
import os, sys
w = sys.argv[1]
def m(name):
    p = os.path.join(w, name + ".times.median")
    if not os.path.exists(p):
        return None
    v = list(map(float, open(p).read().split()))
    v[0] = max(v[0], 0.005)  # /usr/bin/time resolves 10 ms
    return v
jobs = min(os.cpu_count() or 1, 8)
floor = m("floor-libkdumpfile")
wk, sj, su, ch = (m(f"walk-J1"), m(f"sptes-json-J1"), m(f"summary-J1"), m(f"check-J1"))
wkn, sjn, sun, chn = (m(f"walk-J{jobs}"), m(f"sptes-json-J{jobs}"), m(f"summary-J{jobs}"),
                      m(f"check-J{jobs}"))
dj, dc = m("drgn-json"), m("drgn-count")
print("\nratios (wall; user+sys in brackets; /usr/bin/time resolves 10 ms):")
def r(label, a, b, target):
    if a and b:
        print(f"{label:<26} {a[0] / b[0]:6.2f}x  [{a[1] / max(b[1], 0.005):6.2f}x]  ({target})")
r("walk -J1 / floor:", wk, floor, "target <= 1.5x")
r("check -J1 / floor:", ch, floor, "target <= 2.5x")
r(f"walk -J{jobs} / floor:", wkn, floor, "target <= 1.0x")
r("summary / check (-J1):", su, ch, "target <= 1.1x")
r(f"summary / check (-J{jobs}):", sun, chn, "target <= 1.1x")
r(f"walk -J1 / -J{jobs}:", wk, wkn, "speed-up")
r(f"check -J1 / -J{jobs}:", ch, chn, "speed-up")
r("drgn JSON / sptes -j:", dj, sjn, "faster; target >= 50x")
r("drgn count / summary:", dc, sun, "faster; target >= 10x")
PY
