#!/bin/bash
# The whole test suite: a normal build and an ASan+UBSan build, each running
# every test (unit, oracle comparisons on every fixture, bad input, CLI); a
# ThreadSanitizer build running the tests of the -J threads; the fuzzers.
# Prints one closing line "N passed, N failed" and exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
run_suite() { # builddir [meson setup args...]
	local dir=$1; shift
	local log=$dir/run-all	# logs stay inside the (ignored) build directory
	mkdir -p "$dir"
	if [ ! -e "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$log.setup.log" 2>&1 || { cat "$log.setup.log"; failed=$((failed + 1)); return; }
	fi
	local suite=() targets=()
	[ "$dir" = build-fuzz ] && suite=(--suite fuzz)
	# ThreadSanitizer runs only the tests of the threads: only their
	# programs are built (meson test is told not to build the rest)
	[ "$dir" = build-tsan ] && suite=(--suite threads --no-rebuild) &&
		targets=(spte-inspect tests/unit/test-readahead)
	if ! ninja -C "$dir" "${targets[@]}" >"$log.build.log" 2>&1; then
		cat "$log.build.log"; failed=$((failed + 1)); return
	fi
	# the sanitizers slow every run about threefold: so are the time limits
	local mult=1
	[ "$dir" != build ] && mult=3
	meson test -C "$dir" "${suite[@]}" --print-errorlogs --num-processes 2 --timeout-multiplier $mult \
		>"$log.test.log" 2>&1
	cat "$log.test.log" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Expected Fail|Unexpected Pass|Skipped|Timeout):'
	local ok fail to
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log.test.log")
	fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log.test.log")
	to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log.test.log")
	if [ -z "$ok" ]; then
		cat "$log.test.log"; failed=$((failed + 1)); return
	fi
	passed=$((passed + ok))
	failed=$((failed + ${fail:-0} + ${to:-0}))
	if [ "${fail:-0}" != 0 ] || [ "${to:-0}" != 0 ]; then
		sed -n '/^=* [0-9]*\/[0-9]* =*/,$p' "$log.test.log" | head -200
	fi
}
echo "== normal build"
run_suite build
echo "== ASan + UBSan build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false
echo "== ThreadSanitizer build, the tests of the -J threads"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
run_suite build-tsan -Db_sanitize=thread -Db_lundef=false
echo "== libFuzzer targets (clang, ASan + UBSan), bounded time each"
CC=clang run_suite build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
