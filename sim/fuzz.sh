#!/bin/bash
# make fuzz: libFuzzer over the simulation's operation sequences
# (sim/README.md).  Builds build/sim/fuzz/splkfuzz (clang++, ASan, UBSan,
# coverage counters), copies sim/corpus into build/sim/fuzz/corpus (the
# tree's corpus only grows by hand: see sim/README.md) and fuzzes for
# FUZZ_SECONDS (default 60), steering around sim/known-defects as make
# sim does.  Prints the executions per second; exits non-zero on any
# report, with the input that made it and the command that replays it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=$top/build/sim/fuzz
cd "$top"
seconds=${FUZZ_SECONDS:-60}

command -v clang++ > /dev/null || { echo "fuzz: clang++ is missing (apt-get install clang libclang-rt-dev)"; exit 1; }
make -s -C sim -j2 splkfuzz || { echo "fuzz: FAIL: build"; exit 1; }
known=$(grep -v '^#' "$here/known-defects" | awk 'NF && $3 != "-" { printf "%s%s", sep, $1; sep="," }')
export SPLKSIM_AVOID=$known

rm -rf "$out/corpus" "$out/crashes"
mkdir -p "$out/corpus" "$out/crashes"
cp "$here"/corpus/* "$out/corpus/"
echo "=== fuzz: ${seconds} s${known:+ (steering around: $known)}"
# ASan warns once per child about the simulation's stack switches.
"$out/splkfuzz" -max_total_time="$seconds" -max_len=1024 -timeout=60 -print_final_stats=1 \
	-artifact_prefix="$out/crashes/" "$out/corpus" > "$out/fuzz.log" 2>&1
rc=$?
grep -v -E 'swapcontext|__asan_handle_no_return|False positive error reports|sanitizers/issues/189' \
	"$out/fuzz.log" > "$out/fuzz.filtered.log"
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$')
secs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$')
cov=$(grep -E '^#[0-9]+.*cov:' "$out/fuzz.log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*')
crash=$(ls "$out"/crashes/* 2> /dev/null | head -1)
if [ "$rc" != 0 ] || [ -n "$crash" ]; then
	grep -E 'splksim: FAIL|ERROR: AddressSanitizer|runtime error|splkfuzz:' "$out/fuzz.filtered.log" | head -20
	echo "fuzz: FAIL after ${runs:-?} runs; input: ${crash:-none saved} (log: $out/fuzz.log)"
	[ -n "$crash" ] && echo "fuzz: replay: build/sim/asan/splksim --input $crash${known:+ --avoid $known} (or $out/splkfuzz $crash)"
	exit 1
fi
echo "fuzz: PASS: ${runs:-?} runs, ${secs:-?} per second, $cov, corpus $(ls "$out/corpus" | wc -l) inputs"
