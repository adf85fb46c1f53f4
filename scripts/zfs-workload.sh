# The guest side of make zfs-test (scripts/zfs-test.sh): run by the
# initramfs's /init under busybox sh -e, in /files, which holds the modules
# and the data blocks.  FLAVOUR (splkmem or stock) and SCALE are set by the
# lines zfs-test.sh puts in front of this file.
#
# Phases, each timed in guest seconds (/proc/uptime; under -icount one
# second is 10^9 instructions) and printed as "zfs-test: phase,NAME,SECONDS":
#   load      insmod splkmem (splkmem flavour), spl, zfs
#   create    a mirror of two file vdevs on tmpfs, a filesystem with
#             compression on, a zvol
#   write     files of mixed sizes (4 KiB to 16 MiB; random, base64 and
#             repetitive text) from two writers pinned to CPU 0 and CPU 1,
#             each file's md5 taken from the bytes written (tee), not read
#   zvol      the zvol written with known bytes and read back uncached
#   shrink    zfs_arc_max lowered to just above arc_c_min and drop_caches
#             every second while one reader verifies every file and one
#             writer writes more; then zfs_arc_max restored
#   pressure  real memory pressure: every file read once (the ARC grows
#             back), then, while one reader verifies every file again
#             and one writer writes more, zfs-memhog (zfs-memhog.c) makes
#             all of MemFree but PRESSURE_SPARE_MIB resident in anonymous
#             memory, holds it PRESSURE_HOLD_MS, and exits; no swap, and
#             the writer's new data (tmpfs) and the ARC's own floor of free
#             memory (arc_sys_free, ~150 MB here) need more than is left,
#             so the ARC must shrink and the kernel reclaim (the ARC,
#             splkmem's caches, what else it can).  An OOM kill fails it.
#   churn     CHURN_FILES small files (32 B to 3 KiB of text) in CHURN_DIRS
#             directories, three quarters removed in scattered order, the
#             rest checked, appended to and counted, then drop_caches twice; the
#             caches' books (/proc/spl/kmem/slab, /proc/slabinfo) before
#             and after that reclaim are printed for the fragmentation table
#   export    zpool export, zpool import
#   verify    every file's and the zvol's md5 again, after the import, and
#             the churn phase's kept files (content, and how many are left)
#   scrub     zpool scrub -w; zpool status must report no error
#   destroy   the zvol, the filesystem and the pool, the vdevs
#   unload    rmmod zfs, spl (and splkmem)
# Around every drop_caches of the shrink phase, and over the shrink and
# pressure phases, the reclaim counters are read (reclaim_counts): calls of
# splkmem's shrinker, of the ARC's, and the kernel's own.
# A sampler reads /proc/spl/kmem/slab and /proc/meminfo four times a
# second until the pool is destroyed: the peaks, the table at the peak,
# and the mean of the slab memory over the run.
# Anything that fails stops the job (sh -e): the host sees no exit=0.

PATH=/usr/sbin:/usr/bin:/bin
export PATH
say() { echo "zfs-test: $*"; }

# TRACE=PHASE (ZFS_TEST_TRACE): kprobes on ZFS's linear buffer allocator
# (zio_buf_alloc/zio_data_buf_alloc and their frees) during that phase,
# 128 KiB buffers only, with the caller's stack on every allocation; the
# trace is printed after the phase between "zfs-test: trace {" and "}"
# for scripts/zfs-trace.py.  A diagnostic: it slows the phase.
TRACE=${TRACE:-}
T=/sys/kernel/tracing
trace_start() {
	[ "$TRACE" = "$1" ] || return 0
	mount -t tracefs nodev $T 2> /dev/null || true
	echo 32768 > $T/buffer_size_kb
	for f in zio_buf zio_data_buf; do
		echo "p:${f}_a ${f}_alloc size=%di:u64" >> $T/kprobe_events
		echo "r:${f}_r ${f}_alloc ret=\$retval:x64" >> $T/kprobe_events
		echo "p:${f}_f ${f}_free buf=%di:x64 size=%si:u64" >> $T/kprobe_events
		echo "size == 131072" > $T/events/kprobes/${f}_a/filter
		echo "size == 131072" > $T/events/kprobes/${f}_f/filter
		echo "stacktrace if size == 131072" > $T/events/kprobes/${f}_a/trigger
	done
	echo 1 > $T/events/kprobes/enable
	echo 1 > $T/tracing_on
}
trace_stop() {
	[ "$TRACE" = "$1" ] || return 0
	echo 0 > $T/tracing_on
	echo "zfs-test: trace {"
	cat $T/trace
	echo "zfs-test: }"
	echo 0 > $T/events/kprobes/enable
}
now() { cut -d' ' -f1 /proc/uptime; }
phase_t0=0
phase() {
	phase_name=$1
	trace_start "$1"
	phase_t0=$(now)
	say "phase $phase_name begins"
}
phase_end() {
	say "phase,$phase_name,$(awk -v a="$phase_t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"
	trace_stop "$phase_name"
	# Memory as the phase ends: the caches' own slabs, the objects
	# allocated from them, Slab + VmallocUsed, the ARC, the empty slabs.
	if [ -r /proc/spl/kmem/slab ]; then
		set -- $(slab_total /proc/spl/kmem/slab)
		say "mem,$phase_name,$1,$7,$(( ($(meminfo_kib Slab) + $(meminfo_kib VmallocUsed)) * 1024 )),$(kstat arcstats size),$8"
		# Where ZFS holds uncompressed buffers (zio_buf_*): the ARC's
		# decompressed copies, the dbuf cache and its high-water mark.
		say "arc,$phase_name,$(kstat arcstats overhead_size),$(kstat dbufstats cache_size_bytes),$(kstat dbufstats cache_size_bytes_max)"
	fi
}
# insmod $1, saying how long it took.
load() {
	t=$(now)
	insmod "$1"
	say "insmod $1: $(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }') s"
}
# rmmod $1, saying how long it took.
unload() {
	t=$(now)
	rmmod "$1"
	say "rmmod $1: $(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }') s"
}
fail() {
	say "FAIL: $*"
	exit 1
}
# Until the test $1 holds, WAIT_S seconds at most (10; a KASAN kernel is
# given more), or fail with $2 (zvol minors come and go asynchronously).
WAIT_S=${WAIT_S:-10}
wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ $i -lt $((WAIT_S * 10)) ] || fail "$2"
		usleep 100000
	done
}

# Data: $1 kind (r random, b base64, t text), $2 size in bytes, $3 offset
# into the block, so that no two files are the same bytes.
gen() {
	case $1 in
	r) src=/files/rand.bin ;;
	b) src=/files/rand.b64 ;;
	t) src=/files/text.txt ;;
	esac
	bs=$(stat -c %s $src)
	n=$(($2 / bs + 2))
	{
		tail -c +$(($3 % bs + 1)) $src
		i=0
		while [ $i -lt $n ]; do cat $src; i=$((i + 1)); done
	} | head -c "$2"
}

# Writer $1 (0 or 1) writes its share of files into $2, appending
# "md5  path" lines to /tmp/sums.$1.  Sizes in KiB, scaled by SCALE
# (percent); kinds cycle r, b, t.
SIZES_KIB="16384 4 12 64 1536 4 128 8192 16 40 256 3072 4 100 1024 4 24 512 6144 8 64 2048 4 12 768 4096 4 32 16 1024 192 4 8 2560"
writer() {
	w=$1 dir=$2 sums=/tmp/sums.$1
	k=0
	for round in 1 2; do
		for kib in $SIZES_KIB; do
			size=$((kib * 1024 * SCALE / 100))
			[ $size -ge 4096 ] || size=4096
			case $((k % 3)) in 0) kind=r ;; 1) kind=b ;; 2) kind=t ;; esac
			f=$dir/w$w-$round-$k
			sum=$(gen $kind $size $((w * 7919 + k * 4099)) | tee "$f" | md5sum | cut -d' ' -f1)
			echo "$sum  $f" >> $sums
			k=$((k + 1))
		done
	done
}

# Pin the calling (sub)shell, and so what it runs, to the CPUs of mask $1
# (read is a builtin: /proc/self is the subshell itself).
pin() {
	read -r me _ < /proc/self/stat
	taskset -p "$1" "$me" > /dev/null
}

# Bytes in the caches' own slabs, and more, of one table: slab bytes,
# Linux-slab object bytes, caches, deadlocks, emergency objects allocated
# and their high-water mark, object bytes, bytes in empty slabs, each
# cache's most slabs in use (slab max) in bytes, and each cache's most
# objects out of its slabs (object max) in bytes, summed.
slab_total() {
	awk 'NR > 2 {
		if ($3 != "-") {
			kv += $3; ob += $4; es += ($7 - $8) * $5; sm += $9 * $5; om += $12 * $6
		} else ls += $4
		n++; dl += $13; ea += $14; em += $15
	} END {
		printf "%d %d %d %d %d %d %d %d %d %d\n", kv, ls, n, dl, ea, em, ob, es, sm, om
	}' "$1"
}
kstat() {  # a figure of /proc/spl/kstat/zfs/$1, 0 without zfs.ko
	if [ -r /proc/spl/kstat/zfs/$1 ]; then
		awk -v k="$2" '$1 == k { v = $3 } END { print v + 0 }' /proc/spl/kstat/zfs/$1
	else
		echo 0
	fi
}
meminfo_kib() {
	awk -v k="$1" '$1 == k ":" { print $2 }' /proc/meminfo
}
# Reclaim's counters, one line: splkmem's shrinker (/proc/spl/kmem/shrinker:
# count calls, scan calls, objects its scans freed, calls that found the
# registry busy; 0 on SPL, which registers no shrinker for its caches),
# the ARC's shrinker (its scans from direct reclaim, from kswapd), and the
# kernel's (/proc/vmstat: pages scanned by kswapd and by direct reclaim,
# pages reclaimed, direct reclaim stalls, slab objects scanned, OOM
# kills).  RECLAIM_KEYS names them, in order, for the report.
RECLAIM_KEYS="shrinker_count,shrinker_scan,shrinker_freed,shrinker_busy,arc_scan_direct,arc_scan_kswapd,pgscan_kswapd,pgscan_direct,pgsteal,allocstall,slabs_scanned,oom_kill"
reclaim_counts() {
	set -- /proc/vmstat
	[ ! -r /proc/spl/kmem/shrinker ] || set -- "$@" /proc/spl/kmem/shrinker
	[ ! -r /proc/spl/kstat/zfs/arcstats ] || set -- "$@" /proc/spl/kstat/zfs/arcstats
	awk 'FILENAME ~ /arcstats$/ { a[$1] = $3; next }
	FILENAME ~ /shrinker$/ { s[$1] = $2; next }
	{ v[$1] = $2 }
	END {
		printf "%d %d %d %d %d %d %d %d %d %d %d %d\n",
			s["count_calls"], s["scan_calls"], s["scan_freed"],
			s["count_busy"] + s["scan_busy"],
			a["memory_direct_count"], a["memory_indirect_count"],
			v["pgscan_kswapd"], v["pgscan_direct"],
			v["pgsteal_kswapd"] + v["pgsteal_direct"],
			v["allocstall_dma32"] + v["allocstall_normal"] + v["allocstall_movable"],
			v["slabs_scanned"], v["oom_kill"]
	}' "$@"
}
# $3 + ($2 - $1), field by field, of such lines (a running sum of deltas).
reclaim_add() {
	awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN {
		n = split(a, x); split(b, y); split(s, z)
		for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? " " : ""), z[i] + y[i] - x[i]
		print ""
	}'
}
RECLAIM_ZERO="0 0 0 0 0 0 0 0 0 0 0 0"
# "zfs-test: reclaim,WHAT,<the line, comma-separated>"
say_reclaim() {
	say "reclaim,$1,$(echo "$2" | tr ' ' ',')"
}
# The task queues' summary, one line a queue: SPL's kstat, which splkmem
# serves in the same format.
taskq_summary=/proc/spl/kstat/taskq/summary
# One sample, in one process: the table into /tmp/slab.cur, and "slab
# bytes, emergency objects allocated, Slab + VmallocUsed bytes".
sample() {
	awk 'FILENAME == "/proc/meminfo" {
		if ($1 == "Slab:" || $1 == "VmallocUsed:") sys += $2 * 1024
		next
	}
	{ print > "/tmp/slab.cur" }
	FNR > 2 { if ($3 != "-") kv += $3; ea += $14 }
	END { printf "%d %d %d\n", kv, ea, sys }' /proc/spl/kmem/slab /proc/meminfo
}
# Every quarter of a second: ZFS's bursts of 128 KiB buffers last about
# that long (bench/results/zfs-trace-verify.md), and a once-a-second
# sampler caught them in one run and missed them in the next.
sampler() {
	peak=0 peak_sys=0 peak_ea=0 sum=0 n=0
	while [ ! -e /tmp/sampler.stop ]; do
		set -- $(sample)
		sum=$((sum + $1)) n=$((n + 1))
		if [ "$1" -gt "$peak" ]; then
			peak=$1
			cp /tmp/slab.cur /tmp/slab.peak
			cat $taskq_summary > /tmp/taskq.peak
			echo "$peak $(now)" > /tmp/peak.slab
		fi
		[ "$2" -le "$peak_ea" ] || { peak_ea=$2; echo "$peak_ea" > /tmp/peak.emergency; }
		[ "$3" -le "$peak_sys" ] || { peak_sys=$3; echo "$peak_sys" > /tmp/peak.sys; }
		sleep 0.25
	done
	echo "$((sum / n)) $n" > /tmp/mean.slab
}

say "$(grep -c '^processor' /proc/cpuinfo) CPUs, $(grep -c '^flags.* cx16' /proc/cpuinfo) with cx16"
mkdir -p /vdev /tank
mount -t tmpfs -o size=1400m tmpfs /vdev
echo 0 > /tmp/peak.emergency

phase load
if [ "$FLAVOUR" = splkmem ]; then
	load splkmem.ko
fi
load spl.ko
load zfs.ko
[ -c /dev/zfs ] || fail "no /dev/zfs"
[ -r /proc/spl/kmem/slab ] || fail "no /proc/spl/kmem/slab"
if [ "$FLAVOUR" = splkmem ]; then
	# The cache and the task queue are splkmem's, /proc/spl is shared.
	[ -r /proc/spl/taskq ] || fail "no /proc/spl/taskq"
	[ -r /proc/spl/kstat/taskq/summary ] || fail "no /proc/spl/kstat/taskq/summary"
	[ -d /proc/spl/kstat/zfs ] || fail "no /proc/spl/kstat/zfs"
	# spl.ko and zfs.ko took their cache and taskq symbols from splkmem.
	users=$(awk '$1 == "splkmem" { print $4 }' /proc/modules)
	case ",$users" in *,spl,*) ;; *) fail "spl.ko does not use splkmem ($users)" ;; esac
	case ",$users" in *,zfs,*) ;; *) fail "zfs.ko does not use splkmem ($users)" ;; esac
fi
phase_end
sampler &
sampler_pid=$!

phase create
truncate -s $((640 * 1024 * 1024)) /vdev/a /vdev/b
zpool create -o ashift=12 -O compression=on -O mountpoint=none tank \
	mirror /vdev/a /vdev/b
zfs create -o mountpoint=/tank/fs tank/fs
zfs create -V 64m -o volblocksize=16k tank/vol
wait_for "[ -b /dev/zd0 ]" "no /dev/zd0"
phase_end

phase write
: > /tmp/sums.0
: > /tmp/sums.1
( pin 1; writer 0 /tank/fs ) &
w0=$!
( pin 2; writer 1 /tank/fs ) &
w1=$!
wait $w0 || fail "writer 0"
wait $w1 || fail "writer 1"
sync
cat /tmp/sums.0 /tmp/sums.1 > /tmp/sums
say "$(wc -l < /tmp/sums) files, $(du -sk /tank/fs | cut -f1) KiB on tank/fs"
phase_end

phase zvol
vol_bytes=$((64 * 1024 * 1024 * SCALE / 100))
vol_sum=$(gen r $vol_bytes 12345 | tee /dev/zd0 | md5sum | cut -d' ' -f1)
sync
blockdev --flushbufs /dev/zd0
got=$(head -c $vol_bytes /dev/zd0 | md5sum | cut -d' ' -f1)
[ "$got" = "$vol_sum" ] || fail "zvol read back $got, wrote $vol_sum"
phase_end

phase shrink
c_min=$(kstat arcstats c_min)
c_max=$(kstat arcstats c_max)
low=$((c_min + 32 * 1024 * 1024))
( md5sum -c -s /tmp/sums || { echo "zfs-test: FAIL: checksums during shrink"; exit 1; } ) &
reader=$!
( SCALE=$((SCALE / 2)) writer 2 /tank/fs ) &
more=$!
echo $low > /sys/module/zfs/parameters/zfs_arc_max
say "zfs_arc_max $c_max -> $low (arc_c_min $c_min)"
n=0 dropping=0 in_drops=$RECLAIM_ZERO phase_r0=$(reclaim_counts)
while kill -0 $reader 2>/dev/null || kill -0 $more 2>/dev/null; do
	r0=$(reclaim_counts)
	t=$(now)
	echo 3 > /proc/sys/vm/drop_caches
	dropping=$(awk -v d="$dropping" -v a="$t" -v b="$(now)" 'BEGIN { print d + b - a }')
	in_drops=$(reclaim_add "$r0" "$(reclaim_counts)" "$in_drops")
	n=$((n + 1))
	# A second to the next drop_caches, but the phase ends within a tenth
	# of one once the reader and the writer are done.  A plain "sleep 1"
	# put up to a second of waiting, not work, into the phase time: one
	# drop_caches less in SPL's boot than in ours made the phase 1.09x.
	i=0
	while [ $i -lt 10 ] && { kill -0 $reader 2>/dev/null || kill -0 $more 2>/dev/null; }; do
		usleep 100000
		i=$((i + 1))
	done
done
say "drop_caches,$n,$dropping"
say "reclaim,keys,$RECLAIM_KEYS"
say_reclaim drop_caches "$in_drops"
say_reclaim shrink "$(reclaim_add "$phase_r0" "$(reclaim_counts)" "$RECLAIM_ZERO")"
wait $reader || fail "a checksum did not match while the ARC shrank"
wait $more || fail "writer 2"
say "ARC size $(kstat arcstats size) after $n drop_caches"
echo $c_max > /sys/module/zfs/parameters/zfs_arc_max
cat /tmp/sums.2 >> /tmp/sums
phase_end

# What the pressure phase watches while the hog runs, one line: the ARC's
# size, the caches' own slab bytes (/proc/spl/kmem/slab size column,
# either flavour), MemFree in KiB.
pressure_sample() {
	set -- /proc/meminfo /proc/spl/kmem/slab
	[ ! -r /proc/spl/kstat/zfs/arcstats ] || set -- "$@" /proc/spl/kstat/zfs/arcstats
	awk 'FILENAME == "/proc/meminfo" { if ($1 == "MemFree:") free = $2; next }
	FILENAME ~ /arcstats$/ { if ($1 == "size") arc = $3; next }
	FNR > 2 && $3 != "-" { slab += $3 }
	END { printf "%d %d %d\n", arc, slab, free }' "$@"
}

phase pressure
PRESSURE_SPARE_MIB=${PRESSURE_SPARE_MIB:-64}
PRESSURE_HOLD_MS=${PRESSURE_HOLD_MS:-3000}
phase_r0=$(reclaim_counts)
# The shrink phase left the ARC near arc_c_min, where it gives nothing
# back: one reading of every file first grows it again, so that the
# pressure has an ARC to shrink.
md5sum -c -s /tmp/sums || fail "a checksum did not match before the memory pressure"
set -- $(pressure_sample)
arc0=$1 slab0=$2 arc_min=$1 slab_min=$2 free_min=$3 free0=$3
hog_mib=$(($3 / 1024 - PRESSURE_SPARE_MIB))
say "pressure: MemTotal $(meminfo_kib MemTotal) KiB, MemFree $3 KiB, MemAvailable $(meminfo_kib MemAvailable) KiB, Shmem $(meminfo_kib Shmem) KiB, ARC $1 (c $(kstat arcstats c), c_min $(kstat arcstats c_min)), slabs $2; the hog takes $hog_mib MiB"
( md5sum -c -s /tmp/sums || { echo "zfs-test: FAIL: checksums under memory pressure"; exit 1; } ) &
reader=$!
( SCALE=$((SCALE / 2)) writer 3 /tank/fs ) &
more=$!
rm -f /tmp/hog.full
/files/zfs-memhog $hog_mib $PRESSURE_HOLD_MS /tmp/hog.full &
hog=$!
while kill -0 $hog 2>/dev/null; do
	set -- $(pressure_sample)
	[ "$1" -ge "$arc_min" ] || arc_min=$1
	[ "$2" -ge "$slab_min" ] || slab_min=$2
	[ "$3" -ge "$free_min" ] || free_min=$3
	sleep 0.25
done
hog_rc=0
wait $hog || hog_rc=$?
wait $reader || fail "a checksum did not match under memory pressure"
wait $more || fail "writer 3"
cat /tmp/sums.3 >> /tmp/sums
r1=$(reclaim_counts)
set -- $(pressure_sample)
say "pressure,$hog_mib,$arc0,$arc_min,$1,$slab0,$slab_min,$2,$free_min,$free0"
say_reclaim pressure "$(reclaim_add "$phase_r0" "$r1" "$RECLAIM_ZERO")"
set -- $phase_r0
oom0=${12}
set -- $r1
[ "${12}" = "$oom0" ] || fail "$((${12} - oom0)) OOM kills under memory pressure"
[ "$hog_rc" = 0 ] || fail "the memory hog ended with status $hog_rc"
phase_end

# The churn phase's files, all made and checked by one awk program (one
# process: a shell loop or a command per file would time busybox, not
# ZFS).  File I of CHURN_FILES lives in directory I * CHURN_DIRS /
# CHURN_FILES (made directory after directory, as an unpacked tree is),
# holds 32 to 3031 bytes of text of its own, and, once "used", one more
# line.  A fixed permutation (Park-Miller, seeded: the same in both
# flavours) says the order of removal; its last quarter is kept.
# MODE: dirs (print the directories), create, remove (print the paths
# to remove, in permutation order), use (check each kept file, append
# its line), check (kept files hold what use left), kept (how many).
churn_awk() {
	awk -v mode="$1" -v n="$CHURN_FILES" -v ndirs="$CHURN_DIRS" -v top=/tank/fs/churn '
	function path(i) { return sprintf("%s/d%03d/f%05d", top, int(i * ndirs / n), i) }
	function body(i) { return sprintf("churn %d\n%s\n", i, substr(pat, 1 + i % 50, 32 + (i * 7919) % 3000)) }
	function used(i) { return sprintf("used %d\n", i * 31) }
	# The file as read back, lines joined with newlines: "" when it
	# cannot be opened (gone).
	function slurp(f,   s, line, r) {
		s = ""
		while ((r = (getline line < f)) > 0) s = s line "\n"
		close(f)
		return r < 0 ? "" : s
	}
	BEGIN {
		for (pat = ""; length(pat) < 3100;) pat = pat "zfs-test churn: small files, most removed, the rest kept. "
		for (i = 0; i < n; i++) perm[i] = i
		x = 20261207
		for (i = n - 1; i > 0; i--) {
			x = (x * 16807) % 2147483647
			j = x % (i + 1); t = perm[i]; perm[i] = perm[j]; perm[j] = t
		}
		kept0 = n - int(n / 4)
		bad = 0
		if (mode == "dirs") for (d = 0; d < ndirs; d++) printf "%s/d%03d\n", top, d
		if (mode == "create") for (i = 0; i < n; i++) {
			f = path(i); printf "%s", body(i) > f; close(f)
		}
		if (mode == "remove") for (k = 0; k < kept0; k++) print path(perm[k])
		if (mode == "use") for (k = kept0; k < n; k++) {
			i = perm[k]; f = path(i)
			if (slurp(f) != body(i)) { print "zfs-test: churn: " f " does not hold what was written"; bad++ }
			printf "%s", used(i) >> f; close(f)
		}
		if (mode == "check") for (k = kept0; k < n; k++) {
			i = perm[k]; f = path(i)
			if (slurp(f) != body(i) used(i)) { print "zfs-test: churn: " f " lost its content"; bad++ }
		}
		if (mode == "kept") print n - kept0
		exit bad > 0
	}'
}
# The books the fragmentation report reads (zfs-report.py), into
# /tmp/churn.$1.*: /proc/spl/kmem/slab (either flavour's; its object
# alloc column is what ZFS holds of a KMC_SLAB cache) and /proc/slabinfo
# (the slabs of the KMC_SLAB caches, which are Linux slab caches in both
# flavours, named after the SPL cache).
churn_books() {
	cat /proc/spl/kmem/slab > "/tmp/churn.$1.slab"
	cat /proc/slabinfo > "/tmp/churn.$1.slabinfo"
}
churn_print() {
	for w in "$@"; do
		echo "zfs-test: churn $w slab ($FLAVOUR) {"
		cat "/tmp/churn.$w.slab"
		echo "zfs-test: }"
		echo "zfs-test: churn $w slabinfo ($FLAVOUR) {"
		cat "/tmp/churn.$w.slabinfo"
		echo "zfs-test: }"
	done
}

# The files left must be the kept ones, no more (a removed one back) and
# no fewer: they are counted.
churn_count() {
	kept=$(churn_awk kept)
	got=$(find /tank/fs/churn -type f | wc -l)
	[ "$got" = "$kept" ] || fail "churn: $got files $1, $kept kept"
}
# When each step of the phase ended, guest seconds into it.
churn_step() {
	churn_steps="$churn_steps $1 $(awk -v a="$phase_t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"
}
# Churn: many small files across directories, three quarters removed in
# scattered order, the rest read, checked and appended to, then ordinary
# reclaim (drop_caches); the caches' books before and after the reclaim
# give the report's fragmentation table (slab bytes per byte of live
# objects).
phase churn
churn_steps=
mkdir /tank/fs/churn
churn_awk dirs | xargs mkdir
churn_awk create || fail "churn: creating the files"
sync
churn_step created
churn_awk remove | xargs rm
churn_step removed
churn_awk use || fail "churn: a kept file did not hold what was written"
churn_count left
sync
churn_step used
churn_books before
echo 3 > /proc/sys/vm/drop_caches
# The ARC reaps its caches from its own thread once the shrinker has
# asked: a second for it (and a txg) before the second drop_caches.
sleep 1
echo 3 > /proc/sys/vm/drop_caches
sleep 1
churn_books after
churn_step reclaimed
say "churn: $CHURN_FILES files in $CHURN_DIRS directories, $((CHURN_FILES - kept)) removed, $kept kept; steps (s):$churn_steps"
phase_end
# /sys/kernel/slab/NAME is a symbolic link when SLUB merged the cache
# NAME into another (then /proc/slabinfo shows the other's books only).
merged=
for c in $(awk 'NR > 2 && $3 == "-" { print $1 }' /tmp/churn.after.slab); do
	[ ! -L "/sys/kernel/slab/$c" ] || merged="$merged $c"
	[ -e "/sys/kernel/slab/$c" ] || merged="$merged $c(absent)"
done
say "churn: KMC_SLAB caches merged by SLUB:${merged:- none}"
churn_print before after

phase export
zpool export tank
wait_for "[ ! -e /dev/zd0 ]" "/dev/zd0 still there after export"
zpool import -d /vdev tank
wait_for "[ -b /dev/zd0 ]" "no /dev/zd0 after import"
phase_end

phase verify
md5sum -c -s /tmp/sums || fail "a file's checksum changed across export/import"
got=$(head -c $vol_bytes /dev/zd0 | md5sum | cut -d' ' -f1)
[ "$got" = "$vol_sum" ] || fail "zvol after import $got, wrote $vol_sum"
churn_awk check || fail "churn: a kept file changed across reclaim and export/import"
churn_count "after import"
say "$(wc -l < /tmp/sums) files, the churn phase's $(churn_awk kept) and the zvol verified"
phase_end

phase scrub
zpool scrub -w tank
zpool status -v tank
zpool status -x tank | grep -q "is healthy" || fail "zpool status -x: not healthy"
zpool status tank | grep -q "errors: No known data errors" || fail "data errors"
zpool status tank | awk '$2 ~ /^(ONLINE|DEGRADED|FAULTED|OFFLINE|UNAVAIL|REMOVED)$/ &&
	($3 != 0 || $4 != 0 || $5 != 0) { exit 1 }' ||
	fail "read, write or checksum errors"
phase_end

phase destroy
zfs destroy tank/vol
zfs destroy tank/fs
zpool destroy tank
rm /vdev/a /vdev/b
touch /tmp/sampler.stop
wait $sampler_pid
phase_end

# The books, after the pool is gone and before anything is unloaded.
cat /proc/spl/kmem/slab > /tmp/slab.end
set -- $(slab_total /tmp/slab.end)
say "caches $3, slab bytes $1, linux-slab object bytes $2"
awk 'NR > 2 && $3 != "-" && ($8 > $7 || $11 > $10 || $14 > $15 || $3 != $5 * $7) {
	print "zfs-test: unbalanced: " $0; bad = 1 } END { exit bad }' /tmp/slab.end ||
	fail "/proc/spl/kmem/slab: books not balanced"
say "live objects after destroy: $(awk 'NR > 2 && $11 > 0 { printf "%s=%s ", $1, $11 }' /tmp/slab.end)"
# Which caches' growth stalled (dlock) or served emergency objects (max).
say "stalled growth: $(awk 'NR > 2 && ($13 > 0 || $15 > 0) { printf "%s dlock=%s emergency_max=%s; ", $1, $13, $15 }' /tmp/slab.end)"

set -- $(cat /tmp/peak.slab)
say "peak,slab_bytes,$1"
say "peak,at,$2"
say "peak,emergency_alloc,$(cat /tmp/peak.emergency)"
say "peak,slab_vmalloc_bytes,$(cat /tmp/peak.sys)"
set -- $(cat /tmp/mean.slab)
say "mean,slab_bytes,$1"
say "mean,samples,$2"
set -- $(slab_total /tmp/slab.end)
say "end,deadlock,$4"
say "end,emergency_max,$6"
say "end,caches,$3"
say "end,slab_max_bytes,$9"
say "end,obj_max_bytes,${10}"
echo "zfs-test: /proc/spl/kmem/slab at peak ($FLAVOUR) {"
cat /tmp/slab.peak
echo "zfs-test: }"
echo "zfs-test: task queues at the slab peak ($FLAVOUR) {"
cat /tmp/taskq.peak
echo "zfs-test: }"
if [ "$FLAVOUR" = splkmem ]; then
	for c in zio_buf_comb_16384 dnode_t arc_buf_hdr_t_full dmu_buf_impl_t; do
		grep -q "^$c " /tmp/slab.peak || fail "cache $c not in splkmem's table at peak"
	done
fi

phase unload
unload zfs
if [ "$FLAVOUR" = splkmem ]; then
	# zfs.ko destroyed every cache it made: only spl.ko's remain.
	awk 'NR > 2 { print "zfs-test: left after rmmod zfs: " $1 }' /proc/spl/kmem/slab
	unload spl
	n=$(awk 'NR > 2' /proc/spl/kmem/slab | wc -l)
	[ "$n" = 0 ] || { cat /proc/spl/kmem/slab; fail "$n caches left after rmmod spl"; }
	# /proc/spl/kstat is splkmem's; spl.ko's kstats (zfs/...) must be gone.
	[ ! -e /proc/spl/kstat/zfs ] || fail "/proc/spl/kstat/zfs left after rmmod spl"
	unload splkmem
	[ ! -e /proc/spl ] || fail "/proc/spl left after rmmod splkmem"
else
	unload spl
fi
phase_end
if [ -w /sys/kernel/debug/kmemleak ]; then
	# A kernel with kmemleak (make zfs-test-kasan): what the modules left
	# unreferenced.  It reports only objects older than 5 s.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
	say "kmemleak scanned"
fi
say "done"
