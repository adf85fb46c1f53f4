#!/bin/bash
# make bench: splkmem against the kernel's own allocators, in one run.
#
# Boots Debian's stock 6.12 kernel (production config) in QEMU three times
# with splkmem and bench/splkmem_bench.ko:
#   shipped  wall clock, the kernel as Debian ships it (init_on_alloc=1)
#   init0    wall clock, booted with init_on_alloc=0 (SLUB without zeroing)
#   icount   -icount shift=0, single-CPU workloads: guest time advances one
#            nanosecond per instruction, a deterministic instruction-time
# and writes bench/results/latest.csv (run,workload,allocator,size,n,metric,
# value), a report with ratios against splkmem (bench/results/latest.md)
# and a chart (bench/results/ratios.png).
#
# BENCH_MODE=smoke runs the tiny smoke mode once (what make check does).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"
mode=${BENCH_MODE:-all}

"$here/deps.sh"
kdir=$(stock_headers 6.12)
vmlinuz=$(stock_image 6.12)
release=$(stock_release 6.12)
out=$top/build/bench
mkdir -p "$out"
"$here/build-module.sh" "$kdir" "$out/splkmem"
rsync -a --delete --exclude-from="$top/.gitignore" "$top/bench/" "$out/module/"
if ! make -C "$kdir" M="$out/module" KBUILD_EXTRA_SYMBOLS="$out/splkmem/Module.symvers" \
	SPLKMEM_INCLUDE="$top/include" modules > "$out/module.log" 2>&1 ||
	grep -q "warning:" "$out/module.log"; then
	cat "$out/module.log" >&2
	echo "bench: building the benchmark module failed" >&2
	exit 1
fi

boot() {  # name, bench mode, extra kernel cmdline, extra qemu args, smp
	local name=$1 bmode=$2 cmdline=$3 qemu=$4 smp=$5
	cat > "$out/job-$name.sh" <<JOB
insmod splkmem.ko spl_kmem_cache_slab_limit=1048576
insmod splkmem_bench.ko mode=$bmode
rmmod splkmem_bench
rmmod splkmem
JOB
	"$here/mkinitramfs.sh" "$out/$name.cpio" "$out/job-$name.sh" \
		"$out/splkmem/splkmem.ko" "$out/module/splkmem_bench.ko"
	echo "bench: $name run (mode=$bmode, $cmdline $qemu)" >&2
	local t0=$SECONDS
	QEMU_SMP=$smp QEMU_EXTRA="$qemu" QEMU_TIMEOUT=${QEMU_TIMEOUT:-1500} \
		"$here/qemu-run.sh" "$vmlinuz" "$out/$name.cpio" "$out/$name.log" "$cmdline"
	python3 "$here/check-console.py" "$out/$name.log" >&2
	echo "bench: $name run took $((SECONDS - t0)) s" >&2
	sed -n "s/^.*splkmem-bench: csv,/$name,/p" "$out/$name.log" >> "$out/results.csv"
}

echo "run,workload,allocator,size,n,metric,value" > "$out/results.csv"
if [ "$mode" = smoke ]; then
	boot smoke smoke "" "" 2
	n=$(($(wc -l < "$out/results.csv") - 1))
	[ "$n" -gt 0 ] || { echo "bench: smoke run produced no results" >&2; exit 1; }
	echo "bench: smoke run produced $n records" >&2
	exit 0
fi
boot shipped all "" "" 2
boot init0 all "init_on_alloc=0" "" 2
boot icount single "" "-icount shift=0" 1

results=$top/bench/results
mkdir -p "$results"
cp "$out/results.csv" "$results/latest.csv"
python3 "$here/bench-report.py" --kernel "$release" --csv "$results/latest.csv" \
	--markdown "$results/latest.md" --chart "$results/ratios.png"
cat "$results/latest.md"
