#!/bin/bash
# Build OpenZFS's kernel modules from a release tarball, as a peer to
# measure against (make bench puts OpenZFS's spl.ko beside splkmem).  It is
# CDDL code: this script only unpacks and builds it, outside the repository;
# nothing of it enters our tree.
#
#   scripts/build-openzfs.sh [MODULE...]       MODULE: spl (default), zfs
#
# Builds against Debian's stock 6.12 headers.  The tarball is
# $OPENZFS_TARBALL, default ../shared/peers/openzfs-2.4.4.tar.gz relative to
# the repository top.  The build is cached in
# ${SPLKMEM_CACHE:-~/.cache/splkmem}/openzfs-<key>, keyed by the tarball's
# hash and the kernel release (as build-test-kernel.sh keys the test
# kernel): configure runs once per key, each module is built once.  Prints
# the module directory (holding spl.ko, zfs.ko, Module.symvers) on its last
# line.  Exits 2, printing nothing on stdout, when there is no tarball.
#
# Only the kernel side is configured (--with-config=kernel: no user-space
# tools) and only the modules asked for are built, as single Kbuild targets
# (spl.ko alone needs none of zfs.ko's 400-odd objects).  Measured on the
# 2-core machine, shared, under load: 4.5 minutes cold (nearly all of it
# configure's kernel conftests), spl.ko alone 13 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
source "$here/kernels.sh"

tarball=${OPENZFS_TARBALL:-$top/../shared/peers/openzfs-2.4.4.tar.gz}
case "$tarball" in /*) ;; *) tarball=$top/$tarball ;; esac
if [ ! -f "$tarball" ]; then
	echo "openzfs: no tarball at $tarball (set OPENZFS_TARBALL=)" >&2
	exit 2
fi
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(spl)
for m in "${modules[@]}"; do
	case "$m" in
	spl|zfs) ;;
	*) echo "openzfs: unknown module '$m' (spl, zfs)" >&2; exit 1 ;;
	esac
done

kobj=$(stock_headers 6.12)
release=$(stock_release 6.12)
ksrc=${kobj%-amd64}-common
[ -d "$ksrc" ] || { echo "openzfs: missing $ksrc (run scripts/deps.sh)" >&2; exit 1; }

key=$( { sha256sum < "$tarball" | cut -d' ' -f1; echo "$release"; } |
	sha256sum | cut -c1-16)
dir=$cache_root/openzfs-$key
src=$dir/src

# One build at a time (make check and make bench may both want it).
mkdir -p "$cache_root"
exec 9> "$cache_root/openzfs.lock"
flock 9

# Tools the autotools build needs (the kernel side needs no libraries).
need=()
for t in autoconf:autoconf automake:automake libtoolize:libtool gawk:gawk; do
	command -v "${t%%:*}" > /dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "openzfs: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

if [ ! -f "$dir/.configured" ]; then
	echo "openzfs: configuring $(basename "$tarball") for $release (key $key)" >&2
	rm -rf "$dir"
	mkdir -p "$src"
	tar xzf "$tarball" -C "$src" --strip-components=1
	(
		cd "$src"
		./autogen.sh
		./configure --with-config=kernel --with-linux="$ksrc" \
			--with-linux-obj="$kobj"
	) > "$dir/configure.log" 2>&1 || {
		tail -40 "$dir/configure.log" >&2
		echo "openzfs: configure failed (log: $dir/configure.log)" >&2
		exit 1
	}
	touch "$dir/.configured"
fi

jobs=$(( $(nproc) + 1 ))
todo=()
for m in "${modules[@]}"; do
	[ -f "$dir/.built-$m" ] || todo+=("$m")
done
if [ ${#todo[@]} -gt 0 ]; then
	echo "openzfs: building ${todo[*]/%/.ko}" >&2
	# The one generated header the modules need that configure does not
	# make (the top-level make's first step).
	make -C "$src" gitrev > "$dir/build.log" 2>&1 || {
		cat "$dir/build.log" >&2
		echo "openzfs: make gitrev failed" >&2
		exit 1
	}
	# module/Makefile's modules-Linux target, restricted to the modules
	# asked for: Kbuild's single-target build of an external module
	# (their objects, then modpost on them, which writes Module.symvers).
	# All requested modules go to one modpost run, so zfs.ko resolves
	# spl.ko's exports.
	make -C "$kobj" -j"$jobs" M="$src/module" CONFIG_ZFS=m \
		CONFIG_DEBUG_INFO_BTF_MODULES= "${modules[@]/%/.ko}" \
		>> "$dir/build.log" 2>&1 || {
		tail -40 "$dir/build.log" >&2
		echo "openzfs: build failed (log: $dir/build.log)" >&2
		exit 1
	}
	for m in "${todo[@]}"; do
		[ -f "$src/module/$m.ko" ] || { echo "openzfs: no $m.ko after the build" >&2; exit 1; }
		touch "$dir/.built-$m"
	done
fi
# Builds for other tarballs or kernels are dead weight.
find "$cache_root" -maxdepth 1 -name 'openzfs-*' ! -name "openzfs-$key" \
	-exec rm -rf {} + 2>/dev/null || true
echo "$src/module"
