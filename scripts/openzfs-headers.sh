#!/bin/bash
# Extract OpenZFS 2.4.4's include/ tree from its release tarball into the
# cache (once; ~4 MB) and print the directory that holds include/.  Prints
# nothing and exits 1 when the tarball is not there: builds then skip the
# OpenZFS ABI check, and make check skips (not passes) the consumer test.
#
# usage: openzfs-headers.sh [TARBALL]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:-${OPENZFS_TARBALL:-$here/../../shared/peers/openzfs-2.4.4.tar.gz}}
[ -f "$tarball" ] || exit 1
cache=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
key=$(sha256sum "$tarball" | cut -c1-16)
dir=$cache/spl-headers-$key
if [ ! -e "$dir/.splkmem-complete" ]; then
	mkdir -p "$dir"
	tar xzf "$tarball" -C "$dir" --strip-components=1 --wildcards '*/include/*' >&2
	touch "$dir/.splkmem-complete"
fi
echo "$dir"
