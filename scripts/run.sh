#!/bin/bash
# The main job (make run): boot Debian's stock kernel (6.12, or 6.1 or the
# PREEMPT_RT 6.12 with KERNEL=6.1 or KERNEL=6.12-rt, Debian sid's newest
# 7.x with KERNEL=7 or KERNEL=7.N, or Debian 11's 5.10 with KERNEL=5.10,
# those two built in a root of their suite with chroot:
# scripts/debian-root.sh) in QEMU, load splkmem.ko with module parameters, load the
# example consumer, print the parameters from sysfs and the statistics
# from /proc/spl/kmem/slab, check that an out-of-range parameter is
# refused, unload both.  Exits non-zero on any failure or kernel splat.
set -euo pipefail

version=${1:-6.12}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"

"$here/deps.sh"
kdir=$(stock_headers "$version")
vmlinuz=$(stock_image "$version")
root=$(stock_root "$version")
in_root=()
[ -z "$root" ] || in_root=("$here/in-root.sh" "$root")
out=$top/build/stock-$version
"$here/build-module.sh" "$kdir" "$out/splkmem" "$root"
rsync -a --delete "$top/examples/consumer/" "$out/consumer/"
"${in_root[@]}" make -s -C "$kdir" M="$out/consumer" \
	KBUILD_EXTRA_SYMBOLS="$out/splkmem/Module.symvers" SPLKMEM_INCLUDE="$top/include" \
	modules > "$out/consumer.log" 2>&1 ||
	{ cat "$out/consumer.log" >&2; exit 1; }

cat > "$out/job.sh" <<'JOB'
insmod splkmem.ko spl_kmem_cache_magazine_size=32 spl_kmem_cache_obj_per_slab=16 \
	spl_kmem_cache_kmem_threads=2
echo "--- splkmem parameters (/sys/module/splkmem/parameters)"
for p in /sys/module/splkmem/parameters/*; do
	echo "  $(basename "$p") = $(cat "$p")"
done
insmod splkmem_consumer.ko objects=512
echo "--- /proc/spl/kmem/slab"
cat /proc/spl/kmem/slab
echo "--- a refused value: spl_kmem_cache_max_size=0"
if echo 0 > /sys/module/splkmem/parameters/spl_kmem_cache_max_size; then
	echo "out-of-range parameter accepted"; exit 1
fi
rmmod splkmem_consumer
rmmod splkmem
echo "--- a refused value at load: spl_kmem_cache_obj_per_slab=0"
if insmod splkmem.ko spl_kmem_cache_obj_per_slab=0; then
	echo "out-of-range parameter accepted at load"; exit 1
fi
echo "run: splkmem and the consumer loaded, worked and unloaded"
JOB

"$here/mkinitramfs.sh" "$out/run.cpio" "$out/job.sh" \
	"$out/splkmem/splkmem.ko" "$out/consumer/splkmem_consumer.ko"
log=$out/console.log
echo "run: booting Debian $(stock_release "$version") in QEMU (console: $log)" >&2
rc=0
QEMU_TIMEOUT=${QEMU_TIMEOUT:-300} "$here/qemu-run.sh" "$vmlinuz" "$out/run.cpio" "$log" || rc=1
sed -n '/splkmem-job: start/,/splkmem-job: exit/p' "$log" |
	grep -av "^\[.*\] \(ACPI\|PM\|clocksource\|rtc\)" || true
python3 "$here/check-console.py" "$log" || rc=1
# Debian's kernels are PARAVIRT_XXL without irq tracing: the fast path must
# be the inline one there (cpu_local.hpp), never the seam fallback ("irq
# via seam calls; kernel asm not known" when the generator did not know
# the kernel's asm); on PREEMPT_RT it must be the seam's local lock.  On
# 5.10 it is that fallback: its paravirt irq calls are not the fixed-%rax
# form the inline path uses (restore_fl takes the flags in %rdi, the
# native text is patched in from .parainstructions).
want="inline irq"
[ "$version" = 6.12-rt ] && want="irq via seam calls"
[ "$version" = 5.10 ] && want="irq via seam calls; kernel asm not known"
if ! grep -aq "splkmem: loaded (.*fast path: $want)" "$log"; then
	echo "run: splkmem did not report the fast path '$want' on $version:" \
		"$(grep -ao 'fast path: [^)]*' "$log" | head -1)" >&2
	rc=1
fi
exit $rc
