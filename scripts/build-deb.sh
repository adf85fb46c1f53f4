#!/bin/bash
# make deb: Debian packages of splkmem and of OpenZFS on splkmem, into
# build/deb/ (README: "Use it with OpenZFS").
#
#   splkmem-dkms_VER-1_all.deb    the module's source for DKMS
#                                 (packaging/debian/), built with
#                                 dpkg-buildpackage and dh_dkms as
#                                 zfs-dkms is; its headers (include/)
#                                 are in /usr/src/splkmem-VER/include
#   openzfs-*.deb                 OpenZFS from $OPENZFS_TARBALL with
#                                 patches/openzfs-2.4.4-on-splkmem.patch,
#                                 packaged by OpenZFS's own native Debian
#                                 packaging (contrib/debian): user space
#                                 (make native-deb-utils) and the kernel
#                                 modules for Debian's stock 6.12 kernel
#                                 (make native-deb-kmod:
#                                 openzfs-zfs-modules-REL), which depends
#                                 on splkmem-dkms of this very version
#
# Why binary modules for OpenZFS and DKMS for splkmem: zfs.ko records the
# modversions CRCs of splkmem's exports (KBUILD_EXTRA_SYMBOLS, as make
# zfs-test builds it), which only a build that sees splkmem's
# Module.symvers can do; OpenZFS's DKMS package cannot (DKMS 3.0 hands a
# module no Module.symvers of the modules it BUILD_DEPENDS on), and
# building it costs minutes of configure per kernel.  splkmem is small and
# builds in a minute with DKMS for every kernel, so a new kernel gets it
# as one gets zfs-dkms; its CRCs depend on its source only, hence the
# exact-version dependency.
#
# usage: build-deb.sh [--splkmem-only]   (--splkmem-only: splkmem-dkms
#        alone, seconds; what make check builds and tests)  OpenZFS's own openzfs-zfs-dkms package is
# built by its rules as well but left out of build/deb/: it would not link
# against splkmem.
#
# Cached under ${SPLKMEM_CACHE:-~/.cache/splkmem}/openzfs-deb-<key> (key:
# the tarball, the patch and this script), a tree of its own, never the
# openzfs-* tree of build-openzfs.sh: user space is built once per key,
# the module package once per kernel release and splkmem Module.symvers
# (kmod-<kkey>/).  Exits 2 without the tarball (splkmem-dkms is built
# anyway).  Build dependencies come from apt (OpenZFS's Build-Depends).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=SCRIPTDIR/kernels.sh
source "$here/kernels.sh"

out=$top/build/deb
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
debver=$ver-1
kernel=${DEB_KERNEL:-6.12}
jobs=${DEB_JOBS:-3}
patch_file=$top/patches/openzfs-2.4.4-on-splkmem.patch
tarball=${OPENZFS_TARBALL:-$top/../shared/peers/openzfs-2.4.4.tar.gz}
case "$tarball" in /*) ;; *) tarball=$top/$tarball ;; esac

log_time() {  # what, start second
	echo "deb: $1: $((SECONDS - $2)) s" >&2
}

# Build dependencies: dpkg-buildpackage's and OpenZFS's Build-Depends
# (contrib/debian/control), installed once with apt; with python3-packaging
# and python3-distlib, which its configure requires for pyzfs and its
# control does not name.
need=()
for p in dpkg-dev debhelper dh-dkms fakeroot dh-python libaio-dev libblkid-dev \
	libcurl4-openssl-dev libelf-dev libpam0g-dev libssl-dev libtirpc-dev libtool \
	libudev-dev lsb-release po-debconf python3-all-dev python3-cffi \
	python3-setuptools python3-sphinx python3-packaging python3-distlib uuid-dev zlib1g-dev autoconf automake rsync; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "deb: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >&2
fi

mkdir -p "$out"
# Debian's own tools only: a python3 of pyenv or /usr/local before
# /usr/bin would build pyzfs for another Python, without Debian's modules.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# --- splkmem-dkms -----------------------------------------------------
# The source tree DKMS builds (what git tracks of the module, without
# tests, benchmarks and the simulator) plus packaging/debian/.
splkmem_dkms() {
	local t0=$SECONDS w=$top/build/deb-work/splkmem-$ver
	rm -rf "$top/build/deb-work"
	mkdir -p "$w"
	(cd "$top" && git ls-files -z -- Kbuild Makefile dkms.conf module include scripts/Kbuild.cxx \
		scripts/cxx-c-only-flags.sh scripts/gen-fastpath-asm.sh scripts/kernel-features.sh \
		scripts/check-cxx-object.sh scripts/openzfs-headers.sh |
		xargs -0 cp --parents -t "$w")
	# Files not committed yet, as they are in the work tree: the package
	# is what make builds here.
	cp -r "$top/packaging/debian" "$w/debian"
	sed -i "s/@VERSION@/$debver/" "$w/debian/changelog"
	sed -i "s/@UPSTREAM@/$ver/" "$w/debian/splkmem-dkms.install"
	(cd "$w" && dpkg-buildpackage -b -us -uc -rfakeroot) > "$top/build/deb-work/splkmem.log" 2>&1 || {
		tail -30 "$top/build/deb-work/splkmem.log" >&2
		echo "deb: building splkmem-dkms failed" >&2
		return 1
	}
	rm -f "$out"/splkmem-dkms_*.deb
	mv "$top/build/deb-work/splkmem-dkms_${debver}_all.deb" "$out/"
	rm -rf "$top/build/deb-work"
	log_time "splkmem-dkms_${debver}_all.deb" "$t0"
}

splkmem_dkms
[ "${1:-}" != --splkmem-only ] || exit 0

if [ ! -f "$tarball" ]; then
	echo "deb: no OpenZFS tarball at $tarball (set OPENZFS_TARBALL=): splkmem-dkms only" >&2
	exit 2
fi

# --- OpenZFS on splkmem -----------------------------------------------
rel=$(stock_release "$kernel")
kobj=$(stock_headers "$kernel")
ksrc=${kobj%-amd64}-common
[ -d "$ksrc" ] || { echo "deb: missing $ksrc (run scripts/deps.sh)" >&2; exit 1; }
exec 9> "$cache_root/openzfs-deb.lock"
flock 9

# recipe: bump when what is built here changes.
recipe=1
key=$( { sha256sum < "$tarball"; sha256sum < "$patch_file"; echo "$recipe"; } |
	sha256sum | cut -c1-16)
dir=$cache_root/openzfs-deb-$key
src=$dir/src

# splkmem's exports for that kernel: zfs.ko records their CRCs.
modout=$top/build/deb-module-$rel
"$here/build-module.sh" "$kobj" "$modout" >&2
symvers=$modout/Module.symvers
[ -s "$symvers" ] || { echo "deb: no $symvers" >&2; exit 1; }

if [ ! -f "$dir/.utils-built" ]; then
	t0=$SECONDS
	echo "deb: OpenZFS user space packages (native-deb-utils), key $key" >&2
	find "$cache_root" -maxdepth 1 -name 'openzfs-deb-*' ! -name "openzfs-deb-$key" \
		-exec rm -rf {} + 2> /dev/null || true
	rm -rf "$dir"
	mkdir -p "$src"
	tar xzf "$tarball" -C "$src" --strip-components=1
	(
		set -e
		cd "$src"
		patch -p1 --no-backup-if-mismatch < "$patch_file"
		# The module package needs splkmem-dkms of the version whose
		# CRCs zfs.ko recorded (see above); @SPLKMEM_DEBVER@ is
		# filled in per build of the module package.
		sed -i 's/^Depends: linux-image-_KVERS_ | raspberrypi-kernel$/&, splkmem-dkms (= @SPLKMEM_DEBVER@)/' \
			contrib/debian/control.modules.in
		grep -q 'splkmem-dkms' contrib/debian/control.modules.in
		# The 2.4.4 tarball lacks one test-suite data file that
		# "make distdir" (debian/rules' first build step, for the DKMS
		# source) lists; an empty one lets it through.  It reaches
		# only openzfs-zfs-test, which build/deb/ leaves out.
		draidcfg=tests/zfs-tests/tests/functional/cli_root/zpool_create/draidcfg.gz
		[ -e "$draidcfg" ] || gzip -c < /dev/null > "$draidcfg"
		./autogen.sh
		# User space only: debian/rules configures again for what
		# each package needs (--with-config=kernel for the modules).
		./configure --with-config=user
		# nodoc: no Sphinx pages of pyzfs; nocheck: no test suite run.
		DEB_BUILD_OPTIONS="nodoc nocheck parallel=$jobs" nice -n 10 make native-deb-utils
	) > "$dir/utils.log" 2>&1 || {
		tail -40 "$dir/utils.log" >&2
		echo "deb: OpenZFS native-deb-utils failed (log: $dir/utils.log)" >&2
		exit 1
	}
	touch "$dir/.utils-built"
	log_time "OpenZFS user space packages" "$t0"
fi

kkey=$( { echo "$rel"; cut -f1,2 "$symvers" | sort; echo "$debver"; } | sha256sum | cut -c1-16)
kdir=$dir/kmod-$kkey
if [ ! -f "$kdir/.built" ]; then
	t0=$SECONDS
	echo "deb: OpenZFS modules package for $rel (native-deb-kmod), key $kkey" >&2
	find "$dir" -maxdepth 1 -name 'kmod-*' -exec rm -rf {} +
	mkdir -p "$kdir"
	cp "$symvers" "$kdir/splkmem.symvers"
	(
		set -e
		cd "$src"
		sed "s/@SPLKMEM_DEBVER@/$debver/" contrib/debian/control.modules.in > debian/control.modules.in
		rm -f override_dh_configure_modules_stamp
		# Kbuild reads KBUILD_EXTRA_SYMBOLS from the environment.
		KBUILD_EXTRA_SYMBOLS=$kdir/splkmem.symvers nice -n 10 make native-deb-kmod KVERS="$rel" KSRC="$ksrc" KOBJ="$kobj" \
			DEB_BUILD_OPTIONS="parallel=$jobs"
		mv ../openzfs-zfs-modules-"$rel"_*.deb "$kdir/"
	) > "$kdir/kmod.log" 2>&1 || {
		tail -40 "$kdir/kmod.log" >&2
		echo "deb: OpenZFS native-deb-kmod failed (log: $kdir/kmod.log)" >&2
		exit 1
	}
	if grep 'undefined!' "$kdir/kmod.log" >&2; then
		echo "deb: zfs.ko or spl.ko has unresolved symbols (log: $kdir/kmod.log)" >&2
		exit 1
	fi
	touch "$kdir/.built"
	log_time "OpenZFS modules package" "$t0"
fi

rm -f "$out"/openzfs-*.deb
# What a machine running ZFS installs (OpenZFS's dkms package, the test
# suite, pyzfs, dracut and initramfs hooks stay out: see above).
for p in openzfs-libnvpair3 openzfs-libuutil3 openzfs-libzfs7 openzfs-libzpool7 \
	openzfs-libzfsbootenv1 openzfs-zfsutils openzfs-zfs-zed; do
	cp "$dir"/"$p"_*.deb "$out/"
done
cp "$kdir"/openzfs-zfs-modules-"$rel"_*.deb "$out/"
ls -1 "$out" >&2
