#!/bin/bash
# The live test, run before releases (it needs the Debian archive and root,
# so it is not part of the offline test suite): boot a real 6.1 and a real
# 6.12 KVM host under emulation, run spte-inspect inside each on its own
# /proc/kcore, first while a churn VM keeps changing (no crash, no finding,
# the live re-read paths taken), then with the guests idle; take a dump right
# after, and require the idle live results to equal those on the dump
# (fixtures/compare-live.py); so must a KVM-only extract of the live host,
# written and read inside it.
#   tools/live-test.sh [BUILD_DIR]        (default: build)
#   LIVE_KERNELS="6.12" tools/live-test.sh   one kernel only
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/${1:-build}/spte-inspect
[ -x "$BIN" ] || { echo "build first: $BIN missing"; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
rc=0
for spec in "6.1 basic" "6.12 all"; do
	set -- $spec
	case " ${LIVE_KERNELS:-6.1 6.12} " in *" $1 "*) ;; *) continue ;; esac
	echo "== $1 ($2)"
	"$TOP/fixtures/make-fixture" -D -k "$1" -s "$2" -L "$BIN" -o "$OUT/$1" >"$OUT/$1.log" 2>&1 || rc=1
	grep -E '^live |^extract |MISMATCH|^  CHURN' "$OUT/$1.log" || { tail -20 "$OUT/$1.log"; rc=1; }
done
exit $rc
