#!/bin/bash
# Run the KUnit suites in QEMU on one test kernel (built once and cached by
# build-test-kernel.sh).  make check runs it for the debug and the KCSAN
# kernels; run it alone while working on one suite.
#
# usage: kunit.sh [debug|kcsan|debug-7.N|debug-7] [OUTDIR]
#   debug       the debug test kernel from Debian 12's linux-source-6.12
#   kcsan       the same with KCSAN instead of KASAN (6.12 only)
#   debug-7.N   the debug test kernel from Debian sid's linux-source-7.N
#   debug-7     ... of sid's newest 7.x (make kunit KERNEL=7.2 or 7):
#               the same fragment, built once (about 25 minutes cold,
#               see the README) and cached like the others; not part of
#               make check
# env:   KUNIT_FILTER  a kunit.filter_glob, one glob ("splkmem_reclaim",
#                      "splkmem_taskq*", "suite.case"): only those run,
#                      and suites that do not report are then not an error
#        QEMU_TIMEOUT  seconds before the boot counts as a hang (1200)
#
# Prints check-console.py's report; its last line is
# "kunit: N passed, N failed".  Exit status 0 only when every case passed
# and the console shows no splat outside the expected-warning regions.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
flavour=${1:-debug}
out=${2:-$top/build/kunit-$flavour}

case "$flavour" in
debug) tree=$("$here/build-test-kernel.sh") || exit 1 ;;
kcsan) tree=$("$here/build-test-kernel.sh" kcsan) || exit 1 ;;
debug-7 | debug-7.[0-9] | debug-7.[0-9][0-9])
	tree=$("$here/build-test-kernel.sh" debug "${flavour#debug-}") || exit 1 ;;
*) echo "kunit.sh: unknown flavour '$flavour' (debug, kcsan, debug-7.N or debug-7)" >&2; exit 2 ;;
esac

"$here/build-module.sh" "$tree" "$out" || exit 1
cat > "$out/job.sh" <<'JOB'
# Arm the kernel's fault injection for tasks marked make-it-fail only
# (task-filter): the growth suite marks itself and the grow task.
for attr in failslab fail_page_alloc; do
	d=/sys/kernel/debug/$attr
	echo 1 > $d/interval
	echo -1 > $d/times
	echo 0 > $d/verbose
	echo Y > $d/task-filter
	echo N > $d/ignore-gfp-wait
	echo 20 > $d/probability
done
echo 0 > /sys/kernel/debug/fail_page_alloc/min-order
echo N > /sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem
# No periodic working-set update: the suites run it when they mean to
# (splk_core_update_now()), one in the middle of a case would move the
# objects it counts; splkmem_magazines turns it on to test it.
insmod splkmem.ko spl_kmem_cache_reap_interval_ms=0
insmod splkmem_kunit.ko
rmmod splkmem_kunit
rmmod splkmem
if [ -e /sys/kernel/debug/kmemleak ]; then
	# kmemleak reports only objects older than 5 s.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
fi
JOB
"$here/mkinitramfs.sh" "$out/kunit.cpio" "$out/job.sh" \
	"$out/splkmem.ko" "$out/splkmem_kunit.ko" || exit 1
log=$out/console.log
echo "kunit: console in $log"
# init_on_alloc=1 as Debian's kernels ship: the KMC_SLAB magazines
# then zero what they hand out, and the suites check it.
cmdline="init_on_alloc=1"
suites=(--suites-from "$top/kunit")
if [ -n "${KUNIT_FILTER:-}" ]; then
	cmdline="$cmdline kunit.filter_glob=$KUNIT_FILTER"
	suites=()
fi
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1200} "$here/qemu-run.sh" \
	"$tree/arch/x86/boot/bzImage" "$out/kunit.cpio" "$log" "$cmdline"
rc=$?
python3 "$here/check-console.py" --kunit-py "$tree/tools/testing/kunit/kunit.py" \
	"${suites[@]}" "$log"
crc=$?
[ "$rc" = 0 ] && [ "$crc" = 0 ]
