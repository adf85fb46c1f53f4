#!/bin/bash
# The guest half of make install-test (scripts/install-test.sh): run by a
# systemd unit at every boot of the Debian 12 guest, after OpenZFS's own
# import and mount units.  One phase a boot; the phase number lives on the
# root disk (/var/lib/splkmem-it/phase).  Every line for the host starts
# with "SPLKMEM-IT:" and goes to the serial console; the last one is
# "SPLKMEM-IT: PASS" or "SPLKMEM-IT: FAIL ...", then the guest powers off.
#
#   1  modprobe zfs (splkmem must come in through the module dependencies
#      alone), a pool on the second virtio disk, files of known checksums,
#      reboot
#   2  the pool must have been imported and mounted by OpenZFS's units
#      (zfs-import-cache/-scan, zfs-mount), every checksum must verify,
#      /proc/spl/kmem/slab and /proc/spl/taskq must be splkmem's, DKMS
#      must show splkmem for this kernel; then the pool is exported, the
#      modules unloaded (modprobe -r zfs), apt purges the packages and
#      nothing of them may be left; reboot
#   3  after a boot without the packages: nothing loaded, nothing left
set -uo pipefail

state=/var/lib/splkmem-it
pool=tank
disk=/dev/vdb
mkdir -p "$state"
# The console for the host, and a copy on the root disk.
exec > >(tee -a "$state/log" > /dev/ttyS0) 2>&1

say() { echo "SPLKMEM-IT: $*"; }
fail() {
	say "FAIL phase $phase: $*"
	sync
	systemctl poweroff
	exit 1
}
check() {  # description, command...
	local what=$1
	shift
	if "$@"; then say "ok: $what"; else fail "$what"; fi
}
loaded() { [ -d "/sys/module/$1" ]; }
# The modules' symbols: which module a symbol lives in, from kallsyms.
owner() { awk -v s="$1" '$3 == s { print $4; exit }' /proc/kallsyms | tr -d '[]'; }
no_splat() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace:|disagrees about version|Unknown symbol|soft lockup|hung_task'
}

mkdir -p "$state"
phase=$(cat "$state/phase" 2> /dev/null || echo 1)
say "phase $phase on $(uname -r)"

case "$phase" in
1)
	# OpenZFS's zfs-load-module.service may have loaded zfs already
	# (modprobe zfs, as below); either way only modprobe was used.
	check "modinfo: spl.ko depends on splkmem" sh -c 'modinfo -F depends spl | tr , "\n" | grep -qx splkmem'
	check "modprobe zfs" modprobe zfs
	for m in splkmem spl zfs; do
		check "$m loaded" loaded "$m"
	done
	check "spl holds splkmem" test -e /sys/module/splkmem/holders/spl
	check "spl_kmem_cache_alloc is splkmem's" test "$(owner spl_kmem_cache_alloc)" = splkmem
	check "taskq_dispatch is splkmem's" test "$(owner taskq_dispatch)" = splkmem
	check "zpool create" zpool create -f -O compression=lz4 "$pool" "$disk"
	check "zfs create" zfs create "$pool/data"
	# Files of several sizes, random and compressible, with their
	# checksums kept on the root disk.
	i=0
	for kib in 1 7 64 129 1024 4096 8192; do
		i=$((i + 1))
		head -c "$((kib * 1024))" /dev/urandom > "/$pool/data/random-$i"
		yes "splkmem $i" | head -c "$((kib * 1024))" > "/$pool/data/text-$i"
	done
	mkdir -p "/$pool/data/many"
	for i in $(seq 1 500); do echo "file $i $RANDOM" > "/$pool/data/many/$i"; done
	(cd "/$pool" && find data -type f -print0 | sort -z | xargs -0 sha256sum) > "$state/sums"
	say "files written: $(wc -l < "$state/sums")"
	check "the cache file names the pool" test -s /etc/zfs/zpool.cache
	zpool sync "$pool"
	echo 2 > "$state/phase"
	sync
	say "rebooting"
	systemctl reboot
	;;
2)
	# This unit is ordered after zfs-mount.service: the pool is there
	# now only if OpenZFS's units brought it.
	imported_by=
	for u in zfs-import-cache.service zfs-import-scan.service; do
		systemctl is-active -q "$u" && imported_by="$imported_by $u"
	done
	check "an import unit ran (${imported_by:-none})" test -n "$imported_by"
	check "zfs-mount.service active" systemctl is-active -q zfs-mount.service
	check "pool $pool imported and ONLINE" test "$(zpool list -H -o health "$pool")" = ONLINE
	check "$pool/data mounted" sh -c "findmnt -n -t zfs /$pool/data > /dev/null"
	check "every checksum verifies" sh -c "cd /$pool && sha256sum --quiet -c $state/sums"
	for m in splkmem spl zfs; do
		check "$m loaded at boot" loaded "$m"
	done
	say "/proc/spl/kmem/slab (head):"
	head -5 /proc/spl/kmem/slab | sed 's/^/SPLKMEM-IT:   /'
	check "/proc/spl/kmem/slab lists ZFS's caches" grep -q '^dnode_t ' /proc/spl/kmem/slab
	check "spl_kmem_cache_create is splkmem's" test "$(owner spl_kmem_cache_create)" = splkmem
	# /proc/spl/taskq lists the busy queues only, taskq-all every one.
	check "/proc/spl/taskq readable" sh -c 'head -1 /proc/spl/taskq | grep -q .'
	say "/proc/spl/taskq-all (head):"
	head -5 /proc/spl/taskq-all | sed 's/^/SPLKMEM-IT:   /'
	check "/proc/spl/taskq-all lists ZFS's queues" grep -q 'z_wr_iss' /proc/spl/taskq-all
	check "taskq_create is splkmem's" test "$(owner taskq_create)" = splkmem
	ds=$(dkms status splkmem)
	say "dkms status: $ds"
	check "dkms: splkmem installed for $(uname -r)" sh -c "dkms status splkmem | grep -q '$(uname -r).*installed'"
	check "no splat in dmesg" no_splat
	zpool scrub -w "$pool"
	check "scrub clean" sh -c "zpool status $pool | grep -q 'with 0 errors'"

	# Back to nothing: the pool exported, zed (which holds /dev/zfs)
	# stopped, the modules unloaded as a user would, then apt.
	check "zpool export" zpool export "$pool"
	check "stop zfs-zed" systemctl stop zfs-zed.service
	check "modprobe -r zfs" modprobe -r zfs
	for m in zfs spl; do
		check "$m not loaded" test ! -d "/sys/module/$m"
	done
	# modprobe -r removes what it can of zfs's dependencies; say what
	# kept splkmem (seen once: splkmem stayed), then it must go alone.
	if loaded splkmem; then
		say "splkmem still loaded after modprobe -r zfs: refcnt $(cat /sys/module/splkmem/refcnt)," \
			"holders: $(find /sys/module/splkmem/holders -mindepth 1 -printf '%f ')"
		say "modules.dep of zfs: $(grep '/zfs.ko' "/lib/modules/$(uname -r)/modules.dep")"
		check "modprobe -r splkmem" modprobe -r splkmem
	fi
	check "splkmem not loaded" test ! -d /sys/module/splkmem
	# Installed ones only: the pattern also names packages dpkg merely
	# knows of (Breaks/Replaces, virtual ones).
	pkgs=$(dpkg-query -W -f '${Package} ${db:Status-Status}\n' 'openzfs-*' splkmem-dkms 2> /dev/null |
		awk '$2 == "installed" { printf "%s ", $1 }')
	say "purging: $pkgs"
	# shellcheck disable=SC2086
	check "apt-get purge" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkgs
	check "no package left" sh -c "! dpkg-query -W -f '\${Package} \${db:Status-Status}\n' 'openzfs-*' splkmem-dkms 2> /dev/null | grep -v ' not-installed\$'"
	check "no module file left" sh -c '! find /lib/modules -name "splkmem.ko*" -o -name "zfs.ko*" -o -name "spl.ko*" | grep -q .'
	check "no DKMS tree or source left" sh -c '! ls -d /var/lib/dkms/splkmem /usr/src/splkmem-* 2> /dev/null | grep -q .'
	check "no splat in dmesg" no_splat
	echo 3 > "$state/phase"
	sync
	say "rebooting"
	systemctl reboot
	;;
3)
	for m in zfs spl splkmem; do
		check "$m not loaded after boot" test ! -d "/sys/module/$m"
	done
	check "modprobe zfs fails: no module" sh -c '! modprobe -n zfs 2> /dev/null'
	check "no splat in dmesg" no_splat
	say "PASS"
	sync
	systemctl poweroff
	;;
*)
	fail "unknown phase $phase"
	;;
esac
