#!/bin/bash
# make zfs-test: OpenZFS 2.4.4 on splkmem, beside OpenZFS as released.
#
# Builds (once, cached by scripts/build-openzfs.sh) OpenZFS's spl.ko and
# zfs.ko twice against Debian's stock 6.12 headers, as released ("stock")
# and with spl.ko's object cache and task queue taken out by
# patches/openzfs-2.4.4-on-splkmem.patch ("splkmem": those symbols resolve
# to splkmem.ko), and the zpool and zfs tools.  Then boots the stock 6.12
# kernel in QEMU once per flavour with the same workload
# (scripts/zfs-workload.sh: a mirror pool on file vdevs, compression, a
# zvol, parallel writes with checksums, ARC shrink under I/O and
# drop_caches, real memory pressure under I/O, small-file churn and the
# caches' fragmentation after it, export/import and verify,
# scrub, destroy, unload) and reports, side by side, each phase's time,
# the peak slab memory, emergency objects, deadlocks and reclaim's calls.
#
#   scripts/zfs-test.sh [--results DIR]
#
# The figures go to build/zfs-test/ (zfs.csv, zfs.md, the tables at peak);
# with --results DIR (make zfs-test: bench/results) they are copied there
# too.  Exits 0 when both flavours ran clean, 1 on any failure (a checksum
# mismatch, a pool error, a splat, a hang past the timeout), with the
# console's excerpt; 2 without an OpenZFS tarball ($OPENZFS_TARBALL,
# default ../shared/peers/openzfs-2.4.4.tar.gz): skipped.
#
# Environment:
#   ZFS_TEST_SCALE      size of the data written, percent of the sizes in
#                       zfs-workload.sh (default 80: 129 MiB of files in
#                       136 files of 4 KiB to 13 MiB, 51 MiB of zvol, 26 MiB
#                       more during the ARC shrink)
#   ZFS_TEST_ICOUNT     1 (default): QEMU -icount shift=0, guest time =
#                       instructions, phase times reproducible; 0: plain
#                       multi-threaded TCG (faster, times vary +-20 %)
#   ZFS_TEST_FLAVOURS   "splkmem stock" (default), or one of them
#   ZFS_TEST_PRESSURE_SPARE_MIB  the pressure phase's memory hog makes all
#                       of MemFree but this many MiB resident (default 64)
#   ZFS_TEST_PRESSURE_HOLD_MS  how long the hog holds it (default 3000)
#   ZFS_TEST_CHURN_FILES  the churn phase's small files (default 150 x
#                       the scale: 12 000 at 80), three quarters removed
#   ZFS_TEST_CHURN_DIRS   the directories they are spread over (default 60
#                       files each)
#   ZFS_TEST_TIMEOUT    seconds per boot before it counts as a hang (1800;
#                       3600 with ZFS_TEST_KERNEL=kasan)
#   ZFS_TEST_CPU        QEMU's -cpu (default qemu64,-cx16: the guest kernel
#                       then never runs cmpxchg16b, whose emulation under
#                       -icount corrupted EFLAGS in about 1 boot in 3;
#                       see known_guest_crash)
#   ZFS_TEST_KERNEL     stock (default): Debian's stock 6.12; kasan (make
#                       zfs-test-kasan): the test kernel of
#                       build-test-kernel.sh zfs (KASAN, kmemleak, no
#                       lockdep), OpenZFS and splkmem built against it,
#                       and other defaults: the splkmem flavour only,
#                       SCALE 40, plain TCG, a 3600 s timeout; figures in
#                       build/zfs-test-kasan/ and, with --results, as
#                       zfs-kasan.{csv,md}.  Any KASAN or kmemleak report
#                       fails it.  7.N or 7 (make zfs-test KERNEL=7.2):
#                       Debian sid's stock 7.x, the defaults of stock;
#                       splkmem and OpenZFS built in sid's root
#                       (build-openzfs.sh --stock), the tools as for
#                       6.12; figures in build/zfs-test-7.N/ and as
#                       zfs-7.N.{csv,md}.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"

results=
if [ "${1:-}" = --results ]; then
	results=${2:?usage: zfs-test.sh [--results DIR]}
	case "$results" in /*) ;; *) results=$PWD/$results ;; esac
fi
export OPENZFS_TARBALL=${OPENZFS_TARBALL:-$top/../shared/peers/openzfs-2.4.4.tar.gz}
case "$OPENZFS_TARBALL" in /*) ;; *) OPENZFS_TARBALL=$PWD/$OPENZFS_TARBALL ;; esac
if [ ! -f "$OPENZFS_TARBALL" ]; then
	echo "zfs-test: SKIPPED: no OpenZFS 2.4.4 tarball at $OPENZFS_TARBALL (set OPENZFS_TARBALL=)" >&2
	exit 2
fi
kernel=${ZFS_TEST_KERNEL:-stock}
case "$kernel" in
stock)
	scale=${ZFS_TEST_SCALE:-80}
	icount=${ZFS_TEST_ICOUNT:-1}
	flavours=${ZFS_TEST_FLAVOURS:-splkmem stock}
	timeout_s=${ZFS_TEST_TIMEOUT:-1800}
	wait_s=10
	out=$top/build/zfs-test
	name=zfs
	;;
kasan)
	# KASAN checks every access of the kernel and of the modules (OpenZFS
	# and splkmem are built with it too): several times slower, so less
	# data, plain TCG (no phase time is judged here) and more patience.
	scale=${ZFS_TEST_SCALE:-40}
	icount=${ZFS_TEST_ICOUNT:-0}
	flavours=${ZFS_TEST_FLAVOURS:-splkmem}
	timeout_s=${ZFS_TEST_TIMEOUT:-3600}
	wait_s=60
	out=$top/build/zfs-test-kasan
	name=zfs-kasan
	;;
7 | 7.[0-9] | 7.[0-9][0-9])
	scale=${ZFS_TEST_SCALE:-80}
	icount=${ZFS_TEST_ICOUNT:-1}
	flavours=${ZFS_TEST_FLAVOURS:-splkmem stock}
	timeout_s=${ZFS_TEST_TIMEOUT:-1800}
	wait_s=10
	out=$top/build/zfs-test-$kernel
	name=zfs-$kernel
	;;
*) echo "zfs-test: unknown ZFS_TEST_KERNEL '$kernel' (stock, kasan, 7 or 7.N)" >&2; exit 1 ;;
esac
for f in $flavours; do
	case $f in
	splkmem|stock) ;;
	*) echo "zfs-test: unknown flavour '$f' (splkmem, stock)" >&2; exit 1 ;;
	esac
done

# The churn phase: 12 000 files in 200 directories at scale 80 (the
# files' count follows the scale, 60 files a directory).  30 000 took 28
# guest seconds and over two minutes of wall time a flavour on the shared
# machine: more than make check can give this step.
churn_files=${ZFS_TEST_CHURN_FILES:-$((scale * 150))}
churn_dirs=${ZFS_TEST_CHURN_DIRS:-$(((churn_files + 59) / 60))}

t_all=$SECONDS
# The report's fragmentation arithmetic, on books worked out by hand:
# a wrong column would otherwise only show as odd figures after the boots.
python3 "$here/zfs-report.py" --self-test || {
	echo "zfs-test: zfs-report.py --self-test failed" >&2
	exit 1
}
"$here/deps.sh"
kernel_opt=()
root=
if [ "$kernel" = kasan ]; then
	t0=$SECONDS
	kdir=$(nice -n 10 "$here/build-test-kernel.sh" zfs)
	echo "zfs-test: KASAN test kernel: $kdir ($((SECONDS - t0)) s)" >&2
	vmlinuz=$kdir/arch/x86/boot/bzImage
	release="$(cat "$kdir/include/config/kernel.release") (test kernel: KASAN, kmemleak)"
	kernel_opt=(--kernel "$kdir")
elif [ "$kernel" = stock ]; then
	kdir=$(stock_headers 6.12)
	vmlinuz=$(stock_image 6.12)
	release=$(stock_release 6.12)
else
	kdir=$(stock_headers "$kernel")
	vmlinuz=$(stock_image "$kernel")
	release=$(stock_release "$kernel")
	root=$(stock_root "$kernel")
	kernel_opt=(--stock "$kernel")
fi
mkdir -p "$out"
"$here/build-module.sh" "$kdir" "$out/module" "$root"

# OpenZFS, both flavours and the tools: cached after the first run.  The
# builds run niced: the machine is shared.  A flavour not run is not built.
t0=$SECONDS
dir_stock=
case " $flavours " in *" stock "*)
	dir_stock=$(nice -n 10 "$here/build-openzfs.sh" ${kernel_opt[@]+"${kernel_opt[@]}"} spl zfs)
	echo "zfs-test: OpenZFS as released: $dir_stock ($((SECONDS - t0)) s)" >&2
esac
t0=$SECONDS
dir_splkmem=
case " $flavours " in *" splkmem "*)
	dir_splkmem=$(nice -n 10 "$here/build-openzfs.sh" ${kernel_opt[@]+"${kernel_opt[@]}"} \
		--on-splkmem "$out/module/Module.symvers" spl zfs)
	echo "zfs-test: OpenZFS on splkmem: $dir_splkmem ($((SECONDS - t0)) s)" >&2
esac
t0=$SECONDS
tools=$(nice -n 10 "$here/build-openzfs.sh" --tools)
echo "zfs-test: zpool and zfs: $tools ($((SECONDS - t0)) s)" >&2

# The tools and every shared library they load, at their own paths, and
# the dynamic loader: copied over the initramfs's root.
overlay=$out/overlay
rm -rf "$overlay"
mkdir -p "$overlay/usr/sbin"
for b in zpool zfs; do
	cp "$tools/$b" "$overlay/usr/sbin/$b"
	ldd "$tools/$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$overlay$(dirname "$lib")"
	cp -L "$lib" "$overlay$lib"
done
if ldd "$tools/zpool" | grep -q "not found"; then
	ldd "$tools/zpool" >&2
	echo "zfs-test: zpool needs a library that is not installed" >&2
	exit 1
fi

# The data the files are made of: the same bytes on every run and in both
# flavours (a seeded generator), random, base64 (compresses by about a
# quarter) and repetitive text (compresses well).
data=$out/data
if [ ! -f "$data/.done" ]; then
	mkdir -p "$data"
	python3 - "$data" <<'PY'
import base64, random, sys
d = sys.argv[1]
r = random.Random(20261129)
blk = r.randbytes(1 << 20)
open(f"{d}/rand.bin", "wb").write(blk)
open(f"{d}/rand.b64", "wb").write(base64.encodebytes(blk[: 3 << 18]))
lines = (f"zfs-test line {i:06d}: splkmem carries the SPL object cache, "
         f"record {i * 7919 % 100003}\n" for i in range(1000))
open(f"{d}/text.txt", "w").write("".join(lines))
PY
	touch "$data/.done"
fi

# The pressure phase's memory hog: a static binary, the guest has no libc
# of its own but what the tools' ldd copies bring.
gcc -O2 -static -Wall -o "$out/zfs-memhog" "$here/zfs-memhog.c"

# A rare guest crash under TCG with either cache, seen here in 4
# of about 12 boots under -icount with QEMU's default CPU (none in a few
# plain TCG boots), twice with SPL alone loaded: EFLAGS hold the low half
# of RAX right after SLUB's fast-path cmpxchg16b, and the guest dies of a
# double fault, or of a debug exception (TF set) in the kernel.  We take
# it for QEMU's emulation of cmpxchg16b: the guest CPU has no cx16 by
# default (ZFS_TEST_CPU), this is for if it comes anyway.  True when LOG's
# first splat is one of those two and no kernel-mode RIP in the log is in
# a module.
known_guest_crash() {
	local log=$1 check=$2
	grep -m1 "kernel splat" "$check" |
		grep -q "Oops: double fault\|WARNING: .* exc_debug_kernel" || return 1
	! grep -a "RIP: 0010:" "$log" | sed "s/.*RIP: 0010://" | grep -q "\["
}

# One boot: flavour splkmem or stock.  A boot that ends in that known
# crash is run again, twice at most (ZFS_TEST_RETRY=0: never), and said
# so; any other failure fails.
failed=()
retried=()
run_flavour() {
	local flavour=$1 dir=$2 fout=$out/$1
	rm -rf "$fout"
	mkdir -p "$fout"
	# Debug information is most of zfs.ko's 100 MB; the guest needs none.
	strip --strip-debug -o "$fout/spl.ko" "$dir/spl.ko"
	strip --strip-debug -o "$fout/zfs.ko" "$dir/zfs.ko"
	local files=("$fout/spl.ko" "$fout/zfs.ko" "$data/rand.bin" "$data/rand.b64" "$data/text.txt"
		"$out/zfs-memhog")
	if [ "$flavour" = splkmem ]; then
		# Stripped as the other two: the load phase reads and copies
		# each module whole (unstripped, splkmem.ko is 2.4 MB, and its
		# insmod took 0.21 guest seconds of the phase).
		strip --strip-debug -o "$fout/splkmem.ko" "$out/module/splkmem.ko"
		files+=("$fout/splkmem.ko")
	fi
	{
		echo "FLAVOUR=$flavour"
		echo "SCALE=$scale"
		echo "TRACE=${ZFS_TEST_TRACE:-}"
		echo "WAIT_S=$wait_s"
		echo "PRESSURE_SPARE_MIB=${ZFS_TEST_PRESSURE_SPARE_MIB:-64}"
		echo "PRESSURE_HOLD_MS=${ZFS_TEST_PRESSURE_HOLD_MS:-3000}"
		echo "CHURN_FILES=$churn_files"
		echo "CHURN_DIRS=$churn_dirs"
		cat "$here/zfs-workload.sh"
	} > "$fout/job.sh"
	INITRAMFS_OVERLAY=$overlay "$here/mkinitramfs.sh" "$fout/zfs.cpio" "$fout/job.sh" "${files[@]}"
	local qemu_extra="-cpu ${ZFS_TEST_CPU:-qemu64,-cx16}"
	[ "$icount" = 0 ] || qemu_extra+=" -icount shift=0"
	local log=$fout/console.log
	local t0 rc attempt=1
	while :; do
		echo "zfs-test: $flavour: booting Debian $release in QEMU (${qemu_extra:-TCG}, 2 vCPUs, 3 GiB; console: $log)" >&2
		t0=$SECONDS
		rc=0
		# The host's load as the boot starts and ends: the phase ratios
		# compare two boots run one after the other on a shared machine.
		cut -d' ' -f1 /proc/loadavg > "$fout/load_start"
		QEMU_MEM=3072 QEMU_SMP=2 QEMU_EXTRA="$qemu_extra" \
			QEMU_TIMEOUT=$timeout_s \
			"$here/qemu-run.sh" "$vmlinuz" "$fout/zfs.cpio" "$log" || rc=1
		cut -d' ' -f1 /proc/loadavg > "$fout/load_end"
		python3 "$here/check-console.py" "$log" > "$fout/check.txt" || rc=1
		grep -aq "zfs-test: done" "$log" || rc=1
		echo "zfs-test: $flavour: $((SECONDS - t0)) s wall" >&2
		if [ "$rc" = 0 ] || [ "$attempt" = 3 ] || [ "${ZFS_TEST_RETRY:-1}" = 0 ] ||
			! known_guest_crash "$log" "$fout/check.txt"; then
			break
		fi
		cp "$log" "$fout/console-$attempt.log"
		local what
		what=$(grep -m1 "kernel splat" "$fout/check.txt" | sed 's/.*\] //' | tr -d '\r')
		echo "zfs-test: $flavour: the guest died of the known crash in the kernel's own code" \
			"($what; console kept in $fout/console-$attempt.log): booting again" >&2
		retried+=("$flavour: $what")
		attempt=$((attempt + 1))
	done
	grep -a "zfs-test: phase,\|zfs-test: churn: \|zfs-test: peak,\|zfs-test: end,\|zfs-test: FAIL\|zfs-test: [0-9]* files\|zfs-test: pressure\|zfs-test: reclaim,\|zfs-memhog:" "$log" >&2 || true
	if [ "$rc" != 0 ]; then
		# The console from where the job started, its last 80 lines, and
		# what the checker found.
		echo "zfs-test: $flavour FAILED; console excerpt ($log):" >&2
		sed -n '/splkmem-job: start/,$p' "$log" | tail -80 >&2
		cat "$fout/check.txt" >&2
		failed+=("$flavour")
	fi
	echo "$((SECONDS - t0))" > "$fout/wall_s"
	return 0
}

for f in $flavours; do
	case $f in
	splkmem) run_flavour splkmem "$dir_splkmem" ;;
	stock) run_flavour stock "$dir_stock" ;;
	esac
done

mode="-icount shift=0"
[ "$icount" != 0 ] || mode="TCG wall clock"
mode+=", -cpu ${ZFS_TEST_CPU:-qemu64,-cx16}"
args=()
for f in $flavours; do
	args+=(--log "$f=$out/$f/console.log")
	[ ! -f "$out/$f/load_end" ] ||
		args+=(--host-load "$f=$(cat "$out/$f/load_start") $(cat "$out/$f/load_end")")
done
for r in ${retried[@]+"${retried[@]}"}; do
	args+=(--retried "$r")
done
if [ "$kernel" = kasan ]; then
	checks="What it checks: every command of the workload (checksums, pool status,"
	checks+=" the books of \`/proc/spl/kmem/slab\`, no cache left after unload) and a"
	checks+=" console with no splat: no KASAN report on any access of the kernel,"
	checks+=" splkmem, spl.ko or zfs.ko, no WARN, and no object kmemleak finds"
	checks+=" unreferenced after the modules are unloaded. Phase times under KASAN"
	checks+=" and plain TCG are not compared with anything."
	args+=(--title "OpenZFS 2.4.4 on splkmem, on a KASAN kernel"
		--target "make zfs-test-kasan" --checks-only "$checks")
fi
python3 "$here/zfs-report.py" "${args[@]}" --kernel "$release" --mode "$mode" \
	--scale "$scale" --csv "$out/zfs.csv" --markdown "$out/zfs.md" --peak-dir "$out"
cat "$out/zfs.md"
if [ ${#failed[@]} -gt 0 ]; then
	echo "zfs-test: FAILED: ${failed[*]}" >&2
	exit 1
fi
if [ -n "$results" ]; then
	mkdir -p "$results"
	cp "$out/zfs.csv" "$results/$name.csv"
	cp "$out/zfs.md" "$results/$name.md"
	echo "zfs-test: results in $results/$name.csv and $name.md" >&2
fi
echo "zfs-test: passed ($((SECONDS - t_all)) s)" >&2
