#!/bin/bash
# make check: the whole test run, what CI runs.
#
#  1. dependencies (apt), the debug test kernel (built once, cached)
#  2. lint: checkpatch + clang-format
#  3. the C++ subset check rejects its fixtures
#  3b. the core on the host (make sim, quick: at most 3 minutes): the
#     deterministic simulation's fixed seeds and a time-boxed random run
#     under ASan/UBSan, steering around sim/known-defects
#  4. splkmem + KUnit suites built against the test kernel, run in QEMU
#     (KASAN, lockdep, kmemleak): every suite must report, every case pass,
#     no kernel splat outside the expected-warning regions; then the same
#     on a second test kernel with KCSAN instead of KASAN (built once and
#     cached), where a reported data race fails the step
#  5. DKMS add + build for Debian's stock 6.1 and 6.12 kernels from the
#     splkmem-dkms package (make deb's first half, checked by lintian;
#     make install-test is the whole route, not run here), and for
#     Debian sid's newest 7.x and Debian 11's 5.10 inside a root of their
#     suite (scripts/debian-root.sh, made once and cached; the generator's
#     self-test of step 3 already needs them)
#  6. make run on stock 6.12, 6.1 and 6.12 PREEMPT_RT, on sid's newest
#     7.x and on 5.10: warning-free build against their headers, load with
#     parameters, the SPL consumer, clean unload, the fast path each must
#     get
#  7. the benchmark module in its smoke mode on stock 6.12 (make bench is
#     the real run; it is too long for every check)
#  8. the hit-path gate: the benchmark's single-CPU warm alloc+free pair of
#     splkmem's KMC_KVMEM and KMC_SLAB caches (and bare SLUB) under
#     -icount shift=0 on stock 6.12, against the targets in bench/targets;
#     OpenZFS's spl.ko measured beside them when its tarball is there
#     (built once and cached by scripts/build-openzfs.sh)
#  9. a task queue consumer built against OpenZFS 2.4.4's own SPL headers
#     loaded on splkmem on stock 6.12
# 10. make zfs-test: OpenZFS 2.4.4 (spl.ko without its cache and task
#     queue, zfs.ko, the tools; built once and cached) runs a pool workload
#     on splkmem on stock 6.12, and as released beside it
# Steps 9 and 10 need OpenZFS's tarball ($OPENZFS_TARBALL): without it they
# are skipped, and reported so, not counted as passed.
#
# The last line is "N passed, N failed": KUnit cases plus the steps above.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# The DKMS paths carry the version: module/version.h's, the one version
# (make lint checks that dkms.conf agrees).
version=$(sed -n 's/^#define SPLKMEM_VERSION "\(.*\)"$/\1/p' "$top/module/version.h")
[ -n "$version" ] || { echo "check: no SPLKMEM_VERSION in module/version.h" >&2; exit 1; }
source "$here/kernels.sh"
cd "$top"

passed=0
failed=0
failures=()
kunit_passed=0
kunit_failed=0

step() {
	local name=$1
	shift
	local t0=$SECONDS
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "--- PASS $name ($((SECONDS - t0)) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAIL $name ($((SECONDS - t0)) s)"
	fi
}

# Every KUnit suite on one test kernel: kunit_on FLAVOUR OUTDIR (scripts/kunit.sh);
# sets kunit_run_passed and kunit_run_failed.
kunit_on() {
	local report rc
	report=$("$here/kunit.sh" "$1" "$2")
	rc=$?
	echo "$report"
	local counts
	counts=$(echo "$report" | sed -n 's/^kunit: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -1)
	kunit_run_passed=${counts% *}
	kunit_run_failed=${counts#* }
	return $rc
}

# The main run: its cases are the KUnit counts of the summary.
kunit_in_qemu() {
	kunit_on debug "$top/build/test-kernel"
	local rc=$?
	kunit_passed=$kunit_run_passed
	kunit_failed=$kunit_run_failed
	return $rc
}

# The same suites on the KCSAN kernel (built once and cached like the
# first): any data race KCSAN reports is a splat and fails the step.
kunit_kcsan() {
	kunit_on kcsan "$top/build/test-kernel-kcsan"
}

# The source DKMS builds here is the splkmem-dkms package's (make deb's
# first half, seconds): what the package installs in /usr/src is what
# builds, and lintian finds no error in it.
dkms_build() {
	local src=$top/build/dkms-src/usr/src/splkmem-$version deb
	rm -rf "$top/build/dkms-src"
	"$here/build-deb.sh" --splkmem-only || return 1
	deb=$(ls "$top"/build/deb/splkmem-dkms_*_all.deb) || return 1
	lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs "$deb" || return 1
	dpkg-deb -x "$deb" "$top/build/dkms-src"
	[ -f "$src/dkms.conf" ] || { echo "dkms: no dkms.conf in $deb"; return 1; }
	dkms remove splkmem/$version --all > /dev/null 2>&1
	rm -rf /usr/src/splkmem-$version
	dkms add "$src" || return 1
	local v rel rc=0
	for v in 6.1 6.12; do
		rel=$(stock_release "$v") || return 1
		if dkms build splkmem/$version -k "$rel"; then
			echo "dkms: built for $rel: $(find /var/lib/dkms/splkmem/$version/"$rel" -name 'splkmem.ko*' | head -1)"
		else
			cat /var/lib/dkms/splkmem/$version/build/make.log 2>/dev/null | tail -30
			rc=1
		fi
	done
	dkms status splkmem
	dkms remove splkmem/$version --all > /dev/null 2>&1
	rm -rf /usr/src/splkmem-$version
	return $rc
}

# DKMS inside the root of a kernel's suite (debian-root.sh): dkms add +
# build there with that suite's dkms, then the root is left as it was.
dkms_build_root() {  # KERNEL (7, 5.10)
	local root rel src=$top/build/dkms-src/splkmem-$version rc=0 ko
	root=$(stock_root "$1") || return 1
	rel=$(stock_release "$1") || return 1
	rm -rf "$top/build/dkms-src"
	mkdir -p "$src"
	rsync -a --exclude .git --exclude build --exclude-from="$top/.gitignore" "$top/" "$src/"
	"$here/in-root.sh" "$root" dkms remove splkmem/$version --all > /dev/null 2>&1
	rm -rf "$root/usr/src/splkmem-$version"
	"$here/in-root.sh" "$root" dkms add "$src" || return 1
	if "$here/in-root.sh" "$root" dkms build splkmem/$version -k "$rel"; then
		ko=$(find "$root/var/lib/dkms/splkmem/$version/$rel" -name 'splkmem.ko*' | head -1)
		if [ -n "$ko" ]; then
			echo "dkms: built for $rel in its root: ${ko#"$root"}"
		else
			echo "dkms: no splkmem.ko for $rel"
			rc=1
		fi
	else
		find "$root/var/lib/dkms/splkmem/$version" -name make.log -exec tail -30 {} \;
		rc=1
	fi
	"$here/in-root.sh" "$root" dkms status splkmem
	"$here/in-root.sh" "$root" dkms remove splkmem/$version --all > /dev/null 2>&1
	rm -rf "$root/usr/src/splkmem-$version" "$top/build/dkms-src"
	return $rc
}

t_start=$SECONDS
"$here/deps.sh" || { echo "check: installing dependencies failed"; exit 1; }
# The sid and bullseye roots and their kernels' images (about 2 minutes
# each when not cached) are made in the background, beside the test
# kernel's build; the steps that need them wait for them (debian-root.sh
# takes a lock per suite) and report their failure.
mkdir -p "$top/build"
for k in 7 5.10; do
	("$here/debian-root.sh" root "$k" && "$here/debian-root.sh" image "$k") \
		> "$top/build/debian-root-$k.log" 2>&1 &
done
kernel_tree=$("$here/build-test-kernel.sh") || { echo "check: test kernel build failed"; exit 1; }

step "lint (checkpatch, clang-format)" "$here/lint.sh"
step "C++ subset check rejects its fixtures" "$here/test-cxx-subset.sh" "$kernel_tree"
step "fast-path asm generator takes and refuses what it should" \
	"$here/test-fastpath-asm.sh" "$kernel_tree"
step "the core on the host: deterministic simulation (make sim, quick)" \
	env SIM_QUICK=1 timeout 175 "$top/sim/run.sh"
step "KUnit in QEMU on the debug kernel (KASAN, lockdep, kmemleak)" kunit_in_qemu
step "KUnit in QEMU on the KCSAN kernel (data races, lockdep)" kunit_kcsan
step "splkmem-dkms package (lintian) and its DKMS build for Debian 6.1 and 6.12" dkms_build
step "DKMS build for Debian sid 7.x (in a sid root)" dkms_build_root 7
step "DKMS build for Debian 11 5.10 (in a bullseye root)" dkms_build_root 5.10
step "make run on Debian 6.12" "$here/run.sh" 6.12
step "make run on Debian 6.1" "$here/run.sh" 6.1
step "make run on Debian 6.12 PREEMPT_RT" "$here/run.sh" 6.12-rt
step "make run on Debian sid 7.x" "$here/run.sh" 7
step "make run on Debian 11 5.10" "$here/run.sh" 5.10
step "benchmark smoke run on Debian 6.12" env BENCH_MODE=smoke "$here/bench.sh"
step "hit-path gate under -icount on Debian 6.12 (targets: bench/targets)" \
	env BENCH_MODE=gate "$here/bench.sh"
# The steps that need OpenZFS's tarball: without it each is skipped, and
# said so, not counted as passed.
skipped=()
openzfs_tarball=${OPENZFS_TARBALL:-$top/../shared/peers/openzfs-2.4.4.tar.gz}
openzfs_step() {
	local name=$1
	shift
	if [ -f "$openzfs_tarball" ]; then
		step "$name" "$@"
	else
		echo "=== SKIP $name: no OpenZFS 2.4.4 tarball at $openzfs_tarball (set OPENZFS_TARBALL=)"
		skipped+=("$name (no tarball: OPENZFS_TARBALL)")
	fi
}
openzfs_step "OpenZFS 2.4.4 taskq consumer (OpenZFS headers) on splkmem, Debian 6.12" \
	"$here/openzfs-abi-test.sh"
openzfs_step "OpenZFS 2.4.4 pool workload on splkmem and as released (make zfs-test)" \
	"$here/zfs-test.sh"

echo "=== summary ($((SECONDS - t_start)) s)"
echo "steps: $passed passed, $failed failed"
echo "KUnit cases: $kunit_passed passed, $kunit_failed failed"
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
for f in "${skipped[@]}"; do
	echo "SKIPPED: $f"
done
echo "$((passed + kunit_passed)) passed, $((failed + kunit_failed)) failed"
[ "$failed" = 0 ] && [ "$kunit_failed" = 0 ]
