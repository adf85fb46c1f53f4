#!/bin/bash
# The binary-compatibility test (make check): build the consumer in
# tests/openzfs-abi/ against OpenZFS 2.4.4's own SPL headers (from its
# tarball) and splkmem's Module.symvers, boot Debian's stock 6.12 in QEMU,
# load splkmem and then the consumer, which embeds taskq_ent_t in its own
# structures and uses every task queue symbol spl-taskq.c exports; then
# check the task queue kstats' format against OpenZFS's source.
# Exit 0: passed; 1: failed; 2: skipped (no OpenZFS tarball).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"

export OPENZFS_TARBALL=${OPENZFS_TARBALL:-$top/../shared/peers/openzfs-2.4.4.tar.gz}
if ! ozfs=$("$here/openzfs-headers.sh"); then
	echo "openzfs-abi: SKIPPED: no OpenZFS 2.4.4 tarball at $OPENZFS_TARBALL" >&2
	exit 2
fi
"$here/deps.sh"
kdir=$(stock_headers 6.12)
vmlinuz=$(stock_image 6.12)
out=$top/build/openzfs-abi
"$here/build-module.sh" "$kdir" "$out/splkmem"
rsync -a --delete "$top/tests/openzfs-abi/" "$out/consumer/"
make -C "$kdir" M="$out/consumer" SPLKMEM_OPENZFS="$ozfs" \
	KBUILD_EXTRA_SYMBOLS="$out/splkmem/Module.symvers" modules \
	> "$out/consumer.log" 2>&1 || { cat "$out/consumer.log" >&2; exit 1; }
if grep -E "warning:|error:" "$out/consumer.log" >&2; then
	echo "openzfs-abi: warnings building the consumer" >&2
	exit 1
fi

cat > "$out/job.sh" <<'JOB'
insmod splkmem.ko
insmod openzfs_abi_consumer.ko
# The task queue kstats as a tool reads them, for check-taskq-kstat.py.
for f in summary spl_system_taskq.0; do
	echo "taskq-kstat-begin /proc/spl/kstat/taskq/$f"
	cat /proc/spl/kstat/taskq/$f
	echo "taskq-kstat-end"
done
rmmod openzfs_abi_consumer
rmmod splkmem
JOB
"$here/mkinitramfs.sh" "$out/abi.cpio" "$out/job.sh" \
	"$out/splkmem/splkmem.ko" "$out/consumer/openzfs_abi_consumer.ko"
log=$out/console.log
rc=0
QEMU_TIMEOUT=${QEMU_TIMEOUT:-300} "$here/qemu-run.sh" "$vmlinuz" "$out/abi.cpio" "$log" || rc=1
grep -a "openzfs-abi:" "$log" || true
grep -aq "openzfs-abi: PASS" "$log" || rc=1
# The kstat files' format against OpenZFS's own spl-taskq.c and spl-kstat.c.
python3 "$here/check-taskq-kstat.py" "$OPENZFS_TARBALL" "$log" || rc=1
python3 "$here/check-console.py" "$log" || rc=1
exit $rc
