#!/bin/bash
# make sim-tsan: the core on real threads under ThreadSanitizer
# (sim/README.md, "The TSan build").  Builds build/sim/tsan/splktsan and
# runs it for TSAN_SECONDS (default 20) on TSAN_CPUS CPU slots (default
# 4), with the suppressions of sim/tsan/suppressions (the core's reads
# without a lock by design, each explained there).  Any other race, a
# warning of the core, a broken invariant or an object handed out twice
# fails it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
make -s -C sim -j2 splktsan || { echo "sim-tsan: FAIL: build"; exit 1; }
echo "=== sim-tsan: ${TSAN_SECONDS:-20} s on ${TSAN_CPUS:-4} CPUs"
TSAN_OPTIONS="suppressions=$here/tsan/suppressions${TSAN_OPTIONS:+ $TSAN_OPTIONS}" \
	build/sim/tsan/splktsan "${TSAN_SECONDS:-20}" "${TSAN_CPUS:-4}"
rc=$?
[ "$rc" = 0 ] || echo "sim-tsan: FAIL (exit $rc; a ThreadSanitizer report exits 66 or aborts)"
exit $rc
