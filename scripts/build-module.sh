#!/bin/bash
# Build splkmem (and the KUnit module, when the kernel has KUnit) against
# one kernel tree in its own output directory, so builds for several
# kernels never share objects.  Fails on any compiler warning.
#
# usage: build-module.sh KDIR OUTDIR
set -euo pipefail

kdir=$1
out=$2
src=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$out"
# Sources only: everything .gitignore names is a build product.
rsync -a --delete --delete-excluded --exclude .git --exclude-from="$src/.gitignore" \
	"$src/" "$out/"
log=$out/build.log
# The copy is elsewhere: find OpenZFS's tarball from the source tree.
export OPENZFS_TARBALL=${OPENZFS_TARBALL:-$src/../shared/peers/openzfs-2.4.4.tar.gz}
if ! make -C "$out" KDIR="$kdir" modules > "$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build against $kdir failed" >&2
	exit 1
fi
if grep -E "warning:|error:" "$log" >&2; then
	echo "build-module: warnings building against $kdir" >&2
	exit 1
fi
echo "build-module: $(cd "$out" && ls ./*.ko | tr '\n' ' ')built against $kdir" >&2
