#!/bin/bash
# make sim: the core on the host (sim/README.md).
#
#  1. builds splksim: g++ (gcc), g++ with ASan+UBSan (asan), the core
#     instrumented so that its atomic accesses are switch points (points;
#     not in quick mode), clang++ when installed (clang), at most -j2
#  2. determinism: one seed run twice must give one digest
#  3. a fixed set of seeds of the random workload, on the gcc and the asan
#     builds, steering around the defects listed in sim/known-defects
#  4. a time-boxed random run (SIM_TIME seconds of the gcc build, default
#     60; SIM_SEED picks its first seed, default the date)
#  5. each directed scenario of sim/known-defects on the asan build: says
#     whether the defect still reproduces (not counted as a failure: the
#     list says it is known; a scenario that passes means the line can go)
#  6. each scenario of sim/regressions (defects fixed since): fails if it
#     reproduces again
#  7. the fuzzer (sim/fuzz.sh) for SIM_FUZZ_SECONDS (default 60) from the
#     corpus in sim/corpus, when clang++ is installed; in quick mode only
#     when SIM_FUZZ_SECONDS is set
#  8. not in quick mode: the real-thread TSan stress (sim/tsan.sh), 20 s
#
# Exits non-zero on any report of steps 2-4 and 6-8.  SIM_QUICK=1
# shortens 3-4 and leaves out 7 and 8 (make check's step: the fuzzer's
# cold build alone took 1.5 minutes or more with the machine shared, and
# the step with a 15 s run 3.6 minutes cold, past its budget).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=$top/build/sim
cd "$top"

quick=${SIM_QUICK:-0}
time_box=${SIM_TIME:-60}
[ "$quick" = 1 ] && time_box=${SIM_TIME:-30}
first_seed=${SIM_SEED:-$(date +%Y%m%d%H%M)}
failed=0

# The workload's --avoid list: the known defects that have a scenario.
known=$(grep -v '^#' "$here/known-defects" | awk 'NF && $3 != "-" { printf "%s%s", sep, $1; sep="," }')
known_clang=$(grep -c '^clang-build' "$here/known-defects")
avoid=${known:+--avoid $known}

echo "=== sim: build"
variants="gcc asan"
command -v clang++ > /dev/null && variants="$variants clang"
make -s -C sim -j2 gcc asan || { echo "sim: FAIL: build"; exit 1; }
if [[ $variants == *clang* ]]; then
	if ! make -s -C sim -j2 clang > "$out/clang-build.log" 2>&1; then
		echo "sim: the clang build fails (the core does not compile with $(clang++ --version | head -1)):"
		grep -E 'error:' "$out/clang-build.log" | sort -u | head -5
		rm -f "$out/clang/splksim"
		if [ "$known_clang" != 0 ]; then
			echo "sim: known (sim/known-defects: clang-build), not counted"
		else
			failed=1
		fi
	fi
fi

echo "=== sim: determinism"
a=$("$out/gcc/splksim" --seed 7 --ops 3000 $avoid | grep -o 'digest [0-9a-f]*')
b=$("$out/gcc/splksim" --seed 7 --ops 3000 $avoid | grep -o 'digest [0-9a-f]*')
if [ -z "$a" ] || [ "$a" != "$b" ]; then
	echo "sim: seed 7 gave '$a' then '$b'"
	failed=1
else
	echo "sim: seed 7 twice: $a"
fi

echo "=== sim: fixed seeds${known:+ (steering around: $known)}"
if [ "$quick" = 1 ]; then fixed_gcc=1-40 fixed_asan=1-6; else fixed_gcc=1-200 fixed_asan=1-30; fi
"$out/gcc/splksim" --seeds $fixed_gcc --ops 3000 $avoid || failed=1
"$out/asan/splksim" --seeds $fixed_asan --ops 3000 $avoid 2> >(grep -v swapcontext >&2) || failed=1
if [ "$quick" != 1 ]; then
	make -s -C sim -j2 points || { echo "sim: FAIL: build of points"; exit 1; }
	echo "--- switch points at every atomic access, one pointer-sized plain access in 100"
	"$out/points/splksim" --seeds 1-60 --ops 3000 --plain-points 100 $avoid || failed=1
fi
if [ -x "$out/clang/splksim" ]; then
	"$out/clang/splksim" --seeds 1-20 --ops 3000 $avoid || failed=1
fi

echo "=== sim: ${time_box} s of random seeds from $first_seed"
"$out/gcc/splksim" --time "$time_box" --first-seed "$first_seed" --ops 20000 $avoid || failed=1

echo "=== sim: known defects (sim/known-defects), directed scenarios on the asan build"
grep -v '^#' "$here/known-defects" | while read -r name issue scenario what; do
	[ -n "$name" ] && [ "$scenario" != "-" ] || continue
	if "$out/asan/splksim" --seeds 1-40 --scenario "$scenario" > "$out/$scenario.log" 2>&1; then
		echo "sim: $scenario: no longer reproduces in seeds 1-40 (issue $issue fixed? drop '$name' from sim/known-defects)"
	else
		echo "sim: $scenario: reproduces issue $issue ($what): $(grep -m1 -E 'FAIL|ERROR: AddressSanitizer' "$out/$scenario.log" | cut -c1-160)"
		grep -m1 'replay:' "$out/$scenario.log"
	fi
done

echo "=== sim: fixed defects (sim/regressions), directed scenarios on the asan build"
while read -r name issue scenario what; do
	[ -n "$name" ] && [ "${name#\#}" = "$name" ] || continue
	if "$out/asan/splksim" --seeds 1-40 --scenario "$scenario" > "$out/$scenario.log" 2>&1; then
		echo "sim: $scenario: issue $issue stays fixed in seeds 1-40"
	else
		echo "sim: FAIL: $scenario: issue $issue is back ($what): $(grep -m1 -E 'FAIL|ERROR: AddressSanitizer' "$out/$scenario.log" | cut -c1-160)"
		grep -m1 'replay:' "$out/$scenario.log"
		failed=1
	fi
done < "$here/regressions"

if [ "$quick" = 1 ] && [ -z "${SIM_FUZZ_SECONDS:-}" ]; then
	: # make check: no fuzzer (see the top)
elif command -v clang++ > /dev/null; then
	FUZZ_SECONDS=${SIM_FUZZ_SECONDS:-60} "$here/fuzz.sh" || failed=1
else
	echo "sim: no clang++: the fuzzer is not run"
fi
if [ "$quick" != 1 ]; then
	TSAN_SECONDS=20 "$here/tsan.sh" || failed=1
fi

if [ "$failed" = 0 ]; then echo "sim: PASS"; else echo "sim: FAIL"; fi
exit $failed
