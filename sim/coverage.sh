#!/bin/bash
# Line coverage of module/core under the simulation (gcov): builds the
# cov variant, runs SIM_COV_SEEDS seeds of the random workload (every
# defect in sim/known-defects steered around, as make sim does) and each
# directed scenario, and prints each file's and the total figure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=$top/build/sim/cov
cd "$top"
seeds=${SIM_COV_SEEDS:-1-200}
make -s -C sim -j2 cov || exit 1
find "$out" -name '*.gcda' -delete
known=$(grep -v '^#' "$here/known-defects" | awk 'NF && $3 != "-" { printf "%s%s", sep, $1; sep="," }')
"$out/splksim" --seeds "$seeds" --ops 3000 ${known:+--avoid $known} | tail -1
for s in $(grep -v '^#' "$here/known-defects" | awk 'NF && $3 != "-" { print $3 }'); do
	"$out/splksim" --seeds 1-10 --scenario "$s" > /dev/null 2>&1
done
cd "$out/core"
# A header is compiled into several objects: its best object's figure.
gcov -n -o . "$top"/module/core/*.cpp 2> /dev/null | awk -v top="$top/" '
	/^File / { f = $2; gsub(/'\''/, "", f); sub(top, "", f) }
	/^Lines executed:/ {
		split($2, a, "%"); sub(/executed:/, "", a[1])
		if (f ~ /^module\/core\// && (!(f in pct) || a[1] + 0 > pct[f])) { pct[f] = a[1] + 0; lines[f] = $4 }
		f = ""
	}
	END {
		for (f in pct) {
			printf "%-40s %6.2f%% of %d\n", f, pct[f], lines[f] | "sort"
			hit += pct[f] * lines[f] / 100; all += lines[f]
		}
		close("sort")
		printf "%-40s %6.1f%% of %d lines\n", "module/core", 100 * hit / all, all
	}'
