#!/bin/bash
# Run a command inside a build root (a Debian root of debian-root.sh)
# with chroot: the source tree is bind-mounted at its own path, so every
# path under it (build/, include/) means the same inside and out, and
# /proc and /dev are mounted.  The mounts live in a private mount
# namespace and go away with it: nothing is left mounted, whatever
# happens.  The command gets a clean environment (PATH, HOME, LANG=C).
# IN_ROOT_BIND: more directories (absolute, space-separated) to bind
# read-only at their own paths, e.g. OpenZFS's headers in the cache.
# IN_ROOT_BIND_RW: the same, writable (a build tree in the cache, e.g.
# OpenZFS built against the root's headers: build-openzfs.sh --stock).
#
# usage: in-root.sh ROOT COMMAND [ARG...]
set -euo pipefail

root=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$root/usr/bin/make" ] || { echo "in-root: $root is not a build root" >&2; exit 1; }
mkdir -p "$root$top"
for d in ${IN_ROOT_BIND:-} ${IN_ROOT_BIND_RW:-}; do
	mkdir -p "$root$d"
done
exec unshare --mount --propagation private /bin/bash -c '
	set -e
	root=$1 top=$2
	shift 2
	mount --bind "$top" "$root$top"
	for d in ${IN_ROOT_BIND:-}; do
		mount --bind -o ro "$d" "$root$d"
	done
	for d in ${IN_ROOT_BIND_RW:-}; do
		mount --bind "$d" "$root$d"
	done
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C "$@"
' in-root "$root" "$top" "$@"
