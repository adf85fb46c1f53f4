#!/bin/bash
# make bench: splkmem against the kernel's own allocators, in one run.
#
# usage: bench.sh [KERNEL]   (make bench KERNEL=...; default 6.12)
#
# KERNEL is one of kernels.sh's: 6.12 (the default), or 7 / 7.N, Debian
# sid's newest 7.x, whose modules build in sid's root (debian-root.sh,
# in-root.sh) and whose SLUB has per-CPU sheaves: the benchmark then
# measures a SLUB cache created with kmem_cache_args.sheaf_capacity beside
# the others (slub_sheaf, bench/bench_alloc.c).  A kernel other than
# 6.12 works in build/bench-KERNEL and writes results/latest-KERNEL.*
# (no chart); 6.12 keeps build/bench and results/latest.*.
#
# Boots Debian's stock kernel (production config) in QEMU three times
# (four with BENCH_ICOUNT2=1)
# with splkmem and bench/splkmem_bench.ko:
#   shipped  wall clock, the kernel as Debian ships it (init_on_alloc=1)
#   init0    wall clock, booted with init_on_alloc=0 (SLUB without zeroing)
#   icount   -icount shift=0, single-CPU workloads: guest time advances one
#            nanosecond per instruction, a deterministic instruction-time
#   icount2  (BENCH_ICOUNT2=1, see below) -icount shift=0 -smp 2, the
#            cross-CPU workloads (prodcons,
#            allcpus; bench mode cross): the two vCPUs run in turn and guest
#            time counts both CPUs' instructions, so the figures repeat
#            from boot to boot (within 1%, SLUB's included) where the wall
#            clock ones move by 2x and more with the machine's load
#            (QEMU runs the vCPUs as host threads, which a shared host
#            schedules as it likes)
# and writes bench/results/latest.csv (run,workload,allocator,size,n,metric,
# value), a report with ratios against splkmem (bench/results/latest.md)
# and a chart (bench/results/ratios.png).
#
# OpenZFS's own SPL: scripts/build-openzfs.sh builds spl.ko (for KERNEL:
# --stock, in the root of 7.x) once from
# $OPENZFS_TARBALL (default ../shared/peers/openzfs-2.4.4.tar.gz beside the
# repository) and caches it.  spl.ko exports the same names as splkmem.ko,
# so the two are never loaded together: each run boots a second time with
# spl.ko and the benchmark module built against it (provider=spl), which
# measures only SPL's two cache types (spl_kvmem, spl_slab); the kernel's
# allocators come from the splkmem boot.  Without a tarball the SPL
# columns say "absent".
#
# The task queue workloads (the provider's taskq, and the kernel's
# workqueue in the splkmem boot) run in the shipped run only: init_on_alloc
# changes nothing they measure, and -icount's single vCPU says nothing
# about queues of several threads.
#
# The idle workload (issue 9) waits up to 2.25 reap intervals + 1 s (34.75 s
# at splkmem's default 15 s) for the caches to give their memory back; it
# runs in the shipped run only (init_on_alloc changes nothing it measures,
# -icount's mode single does not run it, nor does the SPL boot, which has
# no statistics).
#
# BENCH_MODE=smoke runs the tiny smoke mode once (what make check does),
# task queues included; splkmem is loaded there with a 500 ms reap
# interval so that the idle workload waits about 2 s, not 35.
# BENCH_MODE=taskq runs only the task queue workloads, shipped, both
# providers, and prints their tables (build/bench/taskq.md); results/ is
# not written.
# BENCH_MODE=scale (also the last part of make bench, never make check):
# how the cost per operation grows with CPUs.  Boots both providers under
# -icount shift=0 at each of BENCH_SCALE_CPUS vCPUs (default
# "1 2 4 8 16"), bench mode scale: allcpus, CPUs / 2 producer/consumer
# pairs and the task queue's throughput, with the provider's two cache
# types and SLUB.  Under -icount the guest's time counts every vCPU's
# instructions, so time over all operations is instructions per
# operation: flat when a cache scales.  Writes bench/results/scaling.csv,
# scaling.md (tables, ratios to 1 vCPU) and scaling.svg (the chart);
# BENCH_SCALE_CACHES=0 measures the task queues only (and writes the
# report to build/bench/, not results/: an experiment's run); about
# 5 minutes warm (docs/benchmark.md).  A failed boot leaves its CPU count
# out of the report (and says so); it does not fail the run.
# BENCH_MODE=gate is make check's hit-path gate: the pairs of splkmem's
# two cache types and of SLUB kmem_cache, every size, under -icount
# (instruction counts: deterministic), checked against bench/targets; the
# SPL pairs beside them when spl.ko can be had.  Exits 1 when a figure
# misses its target.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"
mode=${BENCH_MODE:-all}
kernel=${1:-6.12}

"$here/deps.sh"
kdir=$(stock_headers "$kernel")
vmlinuz=$(stock_image "$kernel")
release=$(stock_release "$kernel")
root=$(stock_root "$kernel")
in_root=()
[ -z "$root" ] || in_root=("$here/in-root.sh" "$root")
out=$top/build/bench
suffix=
if [ "$kernel" != 6.12 ]; then
	out=$top/build/bench-$kernel
	suffix=-$kernel
fi
mkdir -p "$out"
"$here/build-module.sh" "$kdir" "$out/splkmem" "$root"

build_bench() {  # provider, Module.symvers of the provider, output dir
	local provider=$1 symvers=$2 dir=$3
	rsync -a --delete --exclude-from="$top/.gitignore" "$top/bench/" "$dir/"
	if ! "${in_root[@]}" make -C "$kdir" M="$dir" KBUILD_EXTRA_SYMBOLS="$symvers" \
		SPLKMEM_INCLUDE="$top/include" BENCH_PROVIDER="$provider" \
		modules > "$dir/build.log" 2>&1 || grep -q "warning:" "$dir/build.log"; then
		cat "$dir/build.log" >&2
		echo "bench: building the benchmark module for $provider failed" >&2
		exit 1
	fi
}
build_bench splkmem "$out/splkmem/Module.symvers" "$out/module"

# OpenZFS's spl.ko, built once and cached (not in smoke mode).
spl_absent=""
if [ "$mode" = smoke ]; then
	spl_absent="not measured in smoke mode"
else
	t0=$SECONDS
	rc=0
	spl_dir=$("$here/build-openzfs.sh" --stock "$kernel" spl) || rc=$?
	case $rc in
	0)
		echo "bench: OpenZFS spl.ko from $spl_dir ($((SECONDS - t0)) s)" >&2
		mkdir -p "$out/spl"
		# Debug information is most of its size; the initramfs needs none.
		strip --strip-debug -o "$out/spl/spl.ko" "$spl_dir/spl.ko"
		# Beside it: a build in a root sees this tree, not the cache.
		cp "$spl_dir/Module.symvers" "$out/spl/Module.symvers"
		build_bench spl "$out/spl/Module.symvers" "$out/module-spl"
		;;
	2) spl_absent="no OpenZFS tarball: set OPENZFS_TARBALL" ;;
	*) spl_absent="building OpenZFS's spl.ko failed" ;;
	esac
	[ -z "$spl_absent" ] || echo "bench: SPL column absent: $spl_absent" >&2
fi

# name, provider, bench mode, extra kernel cmdline, extra qemu args, smp;
# appends the csv records to $csv with the run name given as $run.  Exits
# on a failed boot, or returns 1 with BOOT_MAY_FAIL=1.
boot() {
	local name=$1 provider=$2 bmode=$3 cmdline=$4 qemu=$5 smp=$6
	local ko=$out/splkmem/splkmem.ko bench=$out/module/splkmem_bench.ko
	if [ "$provider" = spl ]; then
		ko=$out/spl/spl.ko
		bench=$out/module-spl/splkmem_bench.ko
	fi
	local mod
	mod=$(basename "$ko" .ko)
	# Boot-time work that still runs takes the CPU from the timed loops:
	# 7.x runs the crypto self-tests in cryptomgr_test kthreads after init
	# has started (measured on 7.2 under -icount: while they ran, the
	# pairs came out 2.4 to 3.8 times their cost, differing from boot to
	# boot).  The job waits until the CPUs were idle at least 90% of a
	# second, three seconds in a row (from /proc/stat's cpu line), 120 s
	# at most, and says how long it waited.  (procs_running was not
	# enough: under -icount on 6.12 a second read always found another
	# task woken with the shell's sleep.)
	cat > "$out/job-$name.sh" <<'WAIT'
cpu_times() {  # total and idle jiffies of all CPUs
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat
}
quiet=0 waited=0
set -- $(cpu_times)
while [ $quiet -lt 3 ] && [ $waited -lt 120 ]; do
	sleep 1
	waited=$((waited + 1))
	t0=$1 i0=$2
	set -- $(cpu_times)
	dt=$(($1 - t0)) di=$(($2 - i0))
	if [ $((10 * (dt - di))) -le "$dt" ]; then
		quiet=$((quiet + 1))
	else
		quiet=0
	fi
done
echo "bench-job: waited $waited s for a quiet system (quiet: $quiet of 3)"
WAIT
	cat >> "$out/job-$name.sh" <<JOB
insmod $mod.ko spl_kmem_cache_slab_limit=1048576 ${PROVIDER_ARGS:-}
insmod splkmem_bench.ko mode=$bmode provider=$provider ${BENCH_ARGS:-}
rmmod splkmem_bench
rmmod $mod
JOB
	"$here/mkinitramfs.sh" "$out/$name.cpio" "$out/job-$name.sh" "$ko" "$bench"
	echo "bench: $name run ($provider, mode=$bmode, $cmdline $qemu)" >&2
	local t0=$SECONDS
	if ! QEMU_SMP=$smp QEMU_EXTRA="$qemu" QEMU_TIMEOUT=${QEMU_TIMEOUT:-1500} \
		"$here/qemu-run.sh" "$vmlinuz" "$out/$name.cpio" "$out/$name.log" "$cmdline" ||
		! python3 "$here/check-console.py" "$out/$name.log" >&2; then
		echo "bench: $name run failed after $((SECONDS - t0)) s (log: $out/$name.log)" >&2
		[ "${BOOT_MAY_FAIL:-0}" = 1 ] || exit 1
		return 1
	fi
	echo "bench: $name run took $((SECONDS - t0)) s" >&2
	sed -n "s/^.*splkmem-bench: csv,/$run,/p" "$out/$name.log" >> "$csv"
}

# Both providers, one boot each, records under one run name.  A failed
# SPL boot (a peer's problem, seen once: a guest soft lockup in a TLB-flush
# IPI during SPL's batch_fresh of 16 KiB objects) does not fail the
# benchmark: that run's SPL columns say absent, with the reason, and its
# partial records are dropped.  SPL boots take 40-100 s; a hang is cut
# short at 600 s.
spl_failed=()
boot_both() {  # run, bench mode, extra kernel cmdline, extra qemu args, smp
	run=$1
	boot "$1" splkmem "$2" "$3" "$4" "$5"
	[ -z "$spl_absent" ] || return 0
	if ! BOOT_MAY_FAIL=1 QEMU_TIMEOUT=${QEMU_TIMEOUT:-600} \
		boot "$1-spl" spl "$2" "$3" "$4" "$5"; then
		spl_failed+=(--spl-absent-run "$1=the SPL boot failed, see build/bench/$1-spl.log")
	fi
}

csv=$out/results.csv
# BENCH_MODE=numa (issue 26, item 3; bench/numa.c): a guest of two NUMA
# nodes, BENCH_NUMA_SMP vCPUs (default 2, even) split between them, 1 GiB
# each; for each provider, the share of objects a KMC_KVMEM cache hands to
# a CPU whose memory is on the other node.  Prints the figures and writes
# build/bench/numa.csv; results/ is not written.  About 1.5 minutes warm.
# no_timer_check: a loaded host once made the guest's early timer check
# fail ("IO-APIC + timer doesn't work", a panic before init).
if [ "$mode" = numa ]; then
	csv=$out/numa.csv
	: > "$csv"
	smp=${BENCH_NUMA_SMP:-2}
	half=$((smp / 2))
	cpus0=0 cpus1=$half
	[ "$half" -le 1 ] || cpus0=0-$((half - 1))
	[ "$smp" -le $((half + 1)) ] || cpus1=$half-$((smp - 1))
	numa_qemu="-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G"
	numa_qemu+=" -numa node,nodeid=0,cpus=$cpus0,memdev=m0 -numa node,nodeid=1,cpus=$cpus1,memdev=m1"
	export QEMU_MEM=2048
	QEMU_TIMEOUT=${QEMU_TIMEOUT:-900} boot_both numa numa "no_timer_check" "$numa_qemu" "$smp"
	for log in "$out/numa.log" "$out/numa-spl.log"; do
		[ -f "$log" ] && sed -n 's/^.*splkmem-bench: numa: /numa: /p' "$log"
	done
	exit 0
fi
if [ "$mode" = gate ]; then
	csv=$out/gate.csv
	echo "run,workload,allocator,size,n,metric,value" > "$csv"
	QEMU_TIMEOUT=${QEMU_TIMEOUT:-300} boot_both gate gate "" "-icount shift=0" 1
	# Where the kernel has SLUB's sheaf_capacity (the feature test the
	# benchmark was built with), the gate also wants the SLUB anchor with
	# sheaves measured at every size, with the capacity it asked for.
	sheaf=()
	if grep -q "SPLK_HAVE_KMEM_CACHE_SHEAF_CAPACITY 1" "$out/module/bench_features.h"; then
		sheaf=(--want-sheaf "$(sed -n 's/^#define BENCH_SHEAF_CAPACITY[[:space:]]*\([0-9]*\).*/\1/p' \
			"$top/bench/bench.h")")
	fi
	exec python3 "$here/bench-report.py" --gate --targets "$top/bench/targets" \
		--csv "$csv" --spl-absent "$spl_absent" ${sheaf[@]+"${sheaf[@]}"} \
		${spl_failed[@]+"${spl_failed[@]}"}
fi

# The scaling runs (BENCH_MODE=scale, and the end of make bench).
run_scale() {
	local cpus failed=() t0=$SECONDS
	[ "${BENCH_SCALE_CACHES:-1}" != 0 ] || export BENCH_ARGS="${BENCH_ARGS:-} scale_caches=0"
	csv=$out/scale.csv
	echo "run,workload,allocator,size,n,metric,value" > "$csv"
	for cpus in ${BENCH_SCALE_CPUS:-1 2 4 8 16}; do
		run=scale-$cpus
		BOOT_MAY_FAIL=1 boot "scale-$cpus" splkmem scale "" "-icount shift=0" "$cpus" ||
			failed+=(--scale-failed "$cpus=splkmem: see build/bench/scale-$cpus.log")
		[ -z "$spl_absent" ] || continue
		BOOT_MAY_FAIL=1 QEMU_TIMEOUT=${QEMU_TIMEOUT:-900} \
			boot "scale-$cpus-spl" spl scale "" "-icount shift=0" "$cpus" ||
			failed+=(--scale-failed "$cpus=spl: see build/bench/scale-$cpus-spl.log")
	done
	echo "bench: scale runs took $((SECONDS - t0)) s" >&2
	local results=$top/bench/results
	[ "${BENCH_SCALE_CACHES:-1}" != 0 ] || results=$out/scale-taskq
	mkdir -p "$results"
	cp "$csv" "$results/scaling$suffix.csv"
	python3 "$here/bench-report.py" --scale --kernel "$release" \
		--csv "$results/scaling$suffix.csv" --markdown "$results/scaling$suffix.md" \
		--chart "$results/scaling$suffix.svg" --targets "$top/bench/targets" \
		--spl-absent "$spl_absent" ${failed[@]+"${failed[@]}"}
	cat "$results/scaling$suffix.md"
}
if [ "$mode" = scale ]; then
	run_scale
	exit 0
fi

echo "run,workload,allocator,size,n,metric,value" > "$csv"
if [ "$mode" = smoke ]; then
	run=smoke
	PROVIDER_ARGS=spl_kmem_cache_reap_interval_ms=500 boot smoke splkmem smoke "" "" 2
	n=$(($(wc -l < "$out/results.csv") - 1))
	[ "$n" -gt 0 ] || { echo "bench: smoke run produced no results" >&2; exit 1; }
	echo "bench: smoke run produced $n records" >&2
	# Task queues: a round trip and a throughput figure for splkmem's
	# taskq and the workqueue at each of the 3 thread counts.
	n=$(grep -c ',tq_[a-z]*,[a-z_]*,[0-9]*,[0-9]*,ns_per_task,' "$csv" || true)
	[ "$n" -eq 12 ] || { echo "bench: smoke run: $n task queue figures, want 12" >&2; exit 1; }
	# Idle: the slab bytes after the wait, at both sizes (64, 65536).
	n=$(grep -c ',idle,splk_kvmem,[0-9]*,[0-9]*,slab_bytes_idle,' "$csv" || true)
	[ "$n" -eq 2 ] || { echo "bench: smoke run: $n idle figures, want 2" >&2; exit 1; }
	grep ',idle,splk_kvmem,.*,slab_bytes_idle,\|,ms_to_zero,' "$csv" |
		sed 's/^/bench: smoke /' >&2
	exit 0
fi
if [ "$mode" = taskq ]; then
	boot_both shipped taskq "" "" 2
	python3 "$here/bench-report.py" --kernel "$release" --csv "$csv" \
		--markdown "$out/taskq.md" --targets "$top/bench/targets" \
		--spl-absent "$spl_absent" ${spl_failed[@]+"${spl_failed[@]}"}
	exec cat "$out/taskq.md"
fi
boot_both shipped all "" "" 2
BENCH_ARGS="taskq_wl=0 idle_wl=0" boot_both init0 all "init_on_alloc=0" "" 2
boot_both icount single "" "-icount shift=0" 1
# icount2 is opt-in (BENCH_ICOUNT2=1): in mode cross QEMU's TCG crashed
# the guest in 3 boots of 3 inside SLUB's cmpxchg16b (double fault, then
# page faults, with guest EFLAGS that have reserved bits set: the
# emulator's state, not the allocator's), while mode all under the same
# flags passed twice.  A failed boot is tried once more, then left out:
# the report falls back to wall clock.
if [ "${BENCH_ICOUNT2:-0}" = 1 ]; then
	run=icount2
	for try in 1 2; do
		BOOT_MAY_FAIL=1 boot icount2 splkmem cross "" "-icount shift=0" 2 && break
		[ "$try" = 2 ] && echo "bench: no icount2 records, the report uses wall clock" >&2
	done
	if [ -z "$spl_absent" ] && grep -q '^icount2,' "$csv" && ! BOOT_MAY_FAIL=1 \
		QEMU_TIMEOUT=${QEMU_TIMEOUT:-600} boot icount2-spl spl cross "" "-icount shift=0" 2; then
		spl_failed+=(--spl-absent-run "icount2=the SPL boot failed, see build/bench/icount2-spl.log")
	fi
fi

results=$top/bench/results
mkdir -p "$results"
cp "$out/results.csv" "$results/latest$suffix.csv"
# before-issue9.csv: the allcpus and prodcons records of the last results
# before the magazine layer (commit 10edd31), kept for issue 9's target
# "all CPUs no worse than before"; its icount2 records were measured once,
# on 2026-11-29, with that commit's splkmem.ko and splkmem_bench.ko (mode
# all, rounds 3) booted as the icount2 run is.  Those are 6.12's figures:
# another kernel is compared with nothing before, and gets no chart.
extra=(--chart "$results/ratios.png" --before "$results/before-issue9.csv"
	--before-label "the last results before the magazine layer (commit 10edd31, 2026-11-29)")
[ -z "$suffix" ] || extra=()
python3 "$here/bench-report.py" --kernel "$release" --csv "$results/latest$suffix.csv" \
	--markdown "$results/latest$suffix.md" ${extra[@]+"${extra[@]}"} \
	--targets "$top/bench/targets" --spl-absent "$spl_absent" \
	${spl_failed[@]+"${spl_failed[@]}"}
cat "$results/latest$suffix.md"
run_scale
