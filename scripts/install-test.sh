#!/bin/bash
# make install-test: the packages of make deb (build/deb/) installed and
# used as a ZFS user would, in a Debian 12 guest booted with systemd.
#
#  1. A Debian 12 root made with mmdebstrap (minbase, systemd-sysv, udev,
#     kmod, dkms, Debian's stock 6.12 kernel and its headers, and what the
#     packages depend on), cached: install-root-<key>/ under
#     ${SPLKMEM_CACHE:-~/.cache/splkmem}.
#  2. A copy of it; apt-get installs build/deb/*.deb there in a chroot
#     with no network (unshare --net) and no package lists: offline, from
#     a local directory.  splkmem-dkms's postinst runs DKMS natively here,
#     not in the emulated guest.
#  3. The copy becomes an ext4 image (mkfs.ext4 -d) and boots in QEMU
#     (TCG) with systemd as init, a second virtio disk for the pool; a
#     unit runs scripts/install-test-guest.sh at every boot: pool, files,
#     reboot, import by OpenZFS's units, checksums, /proc/spl, dkms
#     status, apt purge, reboot, nothing left (that script says what
#     each phase requires).  The console log decides.
#
# usage: install-test.sh [LOGDIR]   (default build/install-test)
#        install-test.sh --root      only make (or find) the cached root
# env:   INSTALL_TEST_TIMEOUT (seconds for the three boots, default 1500)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=SCRIPTDIR/kernels.sh
source "$here/kernels.sh"

debs=$top/build/deb
root_only=0
[ "${1:-}" = --root ] && { root_only=1; shift; }
work=${1:-$top/build/install-test}
kernel=6.12
rel=$(stock_release "$kernel")
timeout_s=${INSTALL_TEST_TIMEOUT:-1500}

[ "$root_only" = 1 ] || ls "$debs"/splkmem-dkms_*.deb "$debs"/openzfs-zfs-modules-"$rel"_*.deb > /dev/null 2>&1 ||
	{ echo "install-test: no packages in $debs (make deb first)" >&2; exit 1; }

log_time() { echo "install-test: $1: $((SECONDS - $2)) s" >&2; }

# What the root holds besides minbase: init, udev (OpenZFS's import units
# wait for it), the kernel and the tools DKMS builds splkmem with, and
# the run-time dependencies of the packages (which the offline install
# cannot fetch).
root_pkgs=systemd-sysv,udev,kmod,dkms,initramfs-tools,linux-image-$rel,linux-headers-$rel
root_pkgs=$root_pkgs,make,gcc,g++,python3,libaio1,libblkid1,libcurl4,libssl3,libtirpc3
root_pkgs=$root_pkgs,libudev1,libuuid1,zlib1g,libpam0g,procps
key=$(echo "bookworm $root_pkgs 1" | sha256sum | cut -c1-16)
base=$cache_root/install-root-$key

mkdir -p "$cache_root"
exec 9> "$cache_root/install-root.lock"
flock 9
if [ ! -e "$base/.splkmem-complete" ]; then
	t0=$SECONDS
	rm -rf "$base" "$base.tmp"
	# The machine's own apt sources (bookworm, -updates, -security: the
	# stock 6.12 kernel comes from the last).
	mmdebstrap --quiet --variant=minbase --include="$root_pkgs" bookworm "$base.tmp" >&2 ||
		{ echo "install-test: mmdebstrap failed" >&2; rm -rf "$base.tmp"; exit 1; }
	if [ ! -f "$base.tmp/boot/vmlinuz-$rel" ] || [ ! -f "$base.tmp/boot/initrd.img-$rel" ]; then
		echo "install-test: no kernel or initrd in the root" >&2
		exit 1
	fi
	touch "$base.tmp/.splkmem-complete"
	mv "$base.tmp" "$base"
	log_time "Debian 12 root (mmdebstrap)" "$t0"
	find "$cache_root" -maxdepth 1 -name 'install-root-*' ! -name "install-root-$key" \
		-exec rm -rf {} + 2> /dev/null || true
fi
exec 9>&-
[ "$root_only" = 0 ] || { echo "$base"; exit 0; }

rm -rf "$work"
mkdir -p "$work"
root=$work/root
t0=$SECONDS
cp -a "$base" "$root"
rm -f "$root/.splkmem-complete"

# The guest's set-up: root on vda, a hostname, the test unit.
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$root/etc/fstab"
echo splkmem-it > "$root/etc/hostname"
install -m 755 "$here/install-test-guest.sh" "$root/usr/local/sbin/splkmem-install-test"
cat > "$root/etc/systemd/system/splkmem-install-test.service" << 'EOF'
[Unit]
Description=splkmem install test (one phase a boot)
# After OpenZFS's import and mount: the pool must be there by their doing.
After=zfs-import.target zfs-mount.service zfs.target local-fs.target systemd-udev-settle.service
Wants=zfs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/splkmem-install-test
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/splkmem-install-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/splkmem-install-test.service"
# Nothing in the guest asks for a login: a getty on the serial console
# would also hang up the test's writes to it.
rm -f "$root/etc/systemd/system/getty.target.wants/"*
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"

# Offline: the packages from a local directory, no lists, no network.
mkdir -p "$root/var/cache/splkmem-debs"
cp "$debs"/*.deb "$root/var/cache/splkmem-debs/"
rm -rf "$root/var/lib/apt/lists/"*
# With no lists apt knows only what is installed and the files named: a
# missing dependency fails the install instead of being fetched.
unshare --net "$here/in-root.sh" "$root" /bin/sh -c \
	'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		/var/cache/splkmem-debs/*.deb' > "$work/apt-install.log" 2>&1 || {
	tail -40 "$work/apt-install.log" >&2
	echo "install-test: apt-get install failed (log: $work/apt-install.log)" >&2
	exit 1
}
rm -rf "$root/var/cache/splkmem-debs"
# OpenZFS installs its units in /usr/lib/systemd/system, where Debian 12's
# debhelper (13.11, compat 12) does not look: its packages enable none of
# them.  Enable them as OpenZFS's own preset file (50-zfs.preset) says,
# as a user of these packages on Debian 12 must (README).
units=$(cd "$root/usr/lib/systemd/system" && find . -maxdepth 1 -type f -name 'zfs*' ! -name '*@*' |
	sed 's|^\./||' | sort | tr '\n' ' ')
# shellcheck disable=SC2086
"$here/in-root.sh" "$root" systemctl preset $units >> "$work/apt-install.log" 2>&1 || {
	echo "install-test: systemctl preset $units failed (log: $work/apt-install.log)" >&2
	exit 1
}
for f in "lib/modules/$rel/updates/dkms/splkmem.ko" "lib/modules/$rel/extra/zcommon/zfs.ko"; do
	ls "$root/$f"* > /dev/null 2>&1 ||
		{ echo "install-test: /$f not installed (log: $work/apt-install.log)" >&2; exit 1; }
done
log_time "root copy and offline apt install (DKMS build of splkmem included)" "$t0"

t0=$SECONDS
cp "$root/boot/vmlinuz-$rel" "$work/vmlinuz"
cp "$root/boot/initrd.img-$rel" "$work/initrd.img"
size=$(( $(du -sm "$root" | cut -f1) + 768 ))
mkfs.ext4 -q -F -L splkmem-it -d "$root" "$work/root.img" "${size}M" > /dev/null
truncate -s 512M "$work/pool.img"
rm -rf "$root"
log_time "disk images" "$t0"

t0=$SECONDS
log=$work/console.log
rc=0
# Three boots in one QEMU: the guest reboots itself, QEMU starts the same
# kernel again; the last phase powers off.
timeout --foreground -k 10 "$timeout_s" \
	qemu-system-x86_64 -accel tcg -smp 2 -m 2048 \
	-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=error" \
	-drive file="$work/root.img",if=virtio,format=raw \
	-drive file="$work/pool.img",if=virtio,format=raw \
	-display none -monitor none -serial "file:$log" -nic none < /dev/null || rc=$?
log_time "three boots in QEMU" "$t0"
grep -a 'SPLKMEM-IT:' "$log" || true
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "install-test: timed out after ${timeout_s}s (log: $log)" >&2
	exit 1
fi
if ! grep -aq 'SPLKMEM-IT: PASS' "$log" || grep -aq 'SPLKMEM-IT: FAIL' "$log"; then
	echo "install-test: FAILED (log: $log)" >&2
	exit 1
fi
rm -f "$work/root.img" "$work/pool.img"
echo "install-test: PASS (log: $log)"
