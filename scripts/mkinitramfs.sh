#!/bin/bash
# Build a busybox initramfs that runs one job script and powers off.
#
# usage: mkinitramfs.sh OUT.cpio JOB.sh [FILE...]
# The FILEs (modules, data) are copied to /files.  INITRAMFS_OVERLAY, when
# set, is a directory copied over the root as it is (programs and the
# shared libraries they need, at their own paths).  /init mounts proc, sysfs,
# devtmpfs and debugfs, runs the job with sh -e, prints
# "splkmem-job: exit=N" and powers off (reboot -f under qemu -no-reboot
# when poweroff does not work).
set -euo pipefail

out=$1
job=$2
shift 2

# busybox-static installs a static /bin/busybox: nothing else is needed.
[ -x /bin/busybox ] || { echo "no /bin/busybox (busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,files}
cp /bin/busybox "$root/bin/busybox"
cp "$job" "$root/job.sh"
for f in "$@"; do
	cp "$f" "$root/files/"
done
if [ -n "${INITRAMFS_OVERLAY:-}" ]; then
	cp -a "$INITRAMFS_OVERLAY/." "$root/"
fi

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
cd /files
echo "splkmem-job: start on $(uname -r), $(nproc) CPUs"
sh -e /job.sh
echo "splkmem-job: exit=$?"
sync
poweroff -f
sleep 2
reboot -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
