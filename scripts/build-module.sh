#!/bin/bash
# Build splkmem (and the KUnit module, when the kernel has KUnit) against
# one kernel tree in its own output directory, so builds for several
# kernels never share objects.  Fails on any compiler warning.  With ROOT
# (a build root of debian-root.sh), make runs there with chroot (in-root.sh)
# and KDIR is a path inside it; OUTDIR must then be under this tree.
#
# usage: build-module.sh KDIR OUTDIR [ROOT]
set -euo pipefail

kdir=$1
out=$2
root=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
in_root=()
if [ -n "$root" ]; then
	in_root=("$src/scripts/in-root.sh" "$root")
	case "$out/" in
	"$src"/*) ;;
	*) echo "build-module: $out is not under $src (the root sees only that)" >&2; exit 1 ;;
	esac
fi

mkdir -p "$out"
# Sources only: everything .gitignore names is a build product.
rsync -a --delete --delete-excluded --exclude .git --exclude-from="$src/.gitignore" \
	"$src/" "$out/"
log=$out/build.log
# The copy is elsewhere: find OpenZFS's tarball from the source tree.
export OPENZFS_TARBALL=${OPENZFS_TARBALL:-$src/../shared/peers/openzfs-2.4.4.tar.gz}
make_opts=()
if [ -n "$root" ]; then
	# The root sees neither the tarball nor the cache: find OpenZFS's
	# headers here and show the root that directory, so that the OpenZFS
	# ABI check runs against this kernel too.
	openzfs=$("$src/scripts/openzfs-headers.sh" 2>/dev/null) || openzfs=
	if [ -n "$openzfs" ]; then
		export IN_ROOT_BIND="$openzfs"
		make_opts=(SPLKMEM_OPENZFS="$openzfs")
	fi
fi
if ! "${in_root[@]}" make -C "$out" KDIR="$kdir" "${make_opts[@]}" modules > "$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build against $kdir failed" >&2
	exit 1
fi
if grep -E "warning:|error:" "$log" >&2; then
	echo "build-module: warnings building against $kdir" >&2
	exit 1
fi
# The fast-path generator says here when it fell back to the seam calls.
grep "gen-fastpath-asm:" "$log" >&2 || true
echo "build-module: $(cd "$out" && ls ./*.ko | tr '\n' ' ')built against $kdir${root:+ in $root}" >&2
